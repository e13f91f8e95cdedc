"""The article's three models (E1, E2, E3) for the Keras-API frameworks and for PyTorch, plus PyTorch's
hand-written equivalent of `fit` and `predict`. Used by `_training_worker.py`; imports no framework itself.

Keras side: `tf` is the module the article imports (`ckeras` or `tensorflow`), so the code is the article's.
E3's layer gets the `build` the article forgot (as written it has no kernel). PyTorch side: the same layer
sizes, Glorot-uniform kernels and zero biases as Keras, logits out (softmax folded into the loss for
training, applied explicitly for inference), Adam/AdamW with Keras's epsilon 1e-7.
"""
MODELS = ("E1", "E2", "E3")
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 0.01  # E3's AdamW, as in the article
KERAS_EPSILON = 1e-7


# ---- Keras API (ckeras or tf.keras) ----

def keras_model(tf, name):
    """A compiled E1/E2/E3 exactly as the article writes it (E1 with `input_shape`, E3 with AdamW)."""
    if name == "E1":
        model = tf.keras.Sequential([
            tf.keras.layers.Dense(128, activation="relu", input_shape=(784,)),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])
        optimizer = "adam"
    elif name == "E2":
        input_tensor = tf.keras.Input(shape=(784,))
        x = tf.keras.layers.Dense(64, activation="relu")(input_tensor)
        x = tf.keras.layers.Dropout(0.2)(x)
        y = tf.keras.layers.Dense(128, activation="relu")(x)
        output_tensor = tf.keras.layers.Dense(10, activation="softmax")(y)
        model = tf.keras.Model(inputs=input_tensor, outputs=output_tensor)
        optimizer = "adam"
    elif name == "E3":
        model = tf.keras.Sequential([_custom_layer_class(tf)(64), tf.keras.layers.Dense(10, activation="softmax")])
        # The article's tf.keras.optimizers.experimental.AdamW; Keras 3 (TF >= 2.16) dropped `experimental`.
        optimizers = tf.keras.optimizers
        adamw = getattr(getattr(optimizers, "experimental", optimizers), "AdamW", None) or optimizers.AdamW
        optimizer = adamw(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    else:
        raise ValueError(f"Expected a model name in {MODELS}. Received: name={name}")
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _custom_layer_class(tf):
    class MyCustomLayer(tf.keras.layers.Layer):
        def __init__(self, units):
            super(MyCustomLayer, self).__init__()
            self.units = units

        def build(self, input_shape):  # missing from the article; without it `self.kernel` does not exist
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

        def call(self, inputs):
            return tf.keras.activations.relu(tf.matmul(inputs, self.kernel))

    return MyCustomLayer


def keras_fit(model, x, y, batch_size):
    """One epoch of `fit`; returns (loss, accuracy) as Keras's history reports them."""
    history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0).history
    return float(history["loss"][-1]), float(history["accuracy"][-1])


# ---- PyTorch ----

def torch_model(torch, name):
    """(module returning logits, optimizer) with Keras's initialization and optimizer settings."""
    nn = torch.nn

    class CustomLayer(nn.Module):  # E3's layer: relu(x @ kernel), no bias
        def __init__(self, in_features, units):
            super().__init__()
            self.kernel = nn.Parameter(torch.empty(in_features, units))
            nn.init.xavier_uniform_(self.kernel)

        def forward(self, inputs):
            return torch.relu(inputs @ self.kernel)

    if name == "E1":
        net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    elif name == "E2":
        net = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 128), nn.ReLU(),
                            nn.Linear(128, 10))
    elif name == "E3":
        net = nn.Sequential(CustomLayer(784, 64), nn.Linear(64, 10))
    else:
        raise ValueError(f"Expected a model name in {MODELS}. Received: name={name}")
    for module in net.modules():
        if isinstance(module, nn.Linear):  # Keras's Dense defaults: glorot_uniform kernel, zero bias
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    if name == "E3":
        optimizer = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, eps=KERAS_EPSILON,
                                      weight_decay=WEIGHT_DECAY)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, eps=KERAS_EPSILON)
    return net, optimizer


def torch_fit(torch, net, optimizer, x, y, batch_size, generator=None):
    """One epoch as Keras's `fit` runs it: shuffle, slice batches, step, track mean loss and accuracy.

    x: (n, 784) float32 tensor; y: (n, 10) one-hot float32 tensor, both on the device the net is on (the
    running sums live there too; without a generator the permutation is drawn there). Cross-entropy on logits
    with the one-hot rows as class probabilities is the same math as Keras's categorical cross-entropy on softmax.
    """
    net.train()
    n, device = x.shape[0], x.device
    order = torch.randperm(n, generator=generator) if generator is not None else torch.randperm(n, device=device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        xb, yb = x[index], y[index]
        optimizer.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = torch.nn.functional.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        with torch.no_grad():  # running sums stay tensors: no per-step sync that fit would not make
            loss_sum += loss.detach() * xb.shape[0]
            correct += (logits.argmax(1) == yb.argmax(1)).sum()
    return float(loss_sum) / n, int(correct) / n


def torch_predict(torch, net, x, batch_size):
    """`model.predict`'s equivalent: no-grad forward in batches, softmax, one NumPy array out."""
    net.eval()
    with torch.no_grad():
        t = torch.from_numpy(x)
        return torch.cat([torch.softmax(net(t[i:i + batch_size]), dim=-1)
                          for i in range(0, t.shape[0], batch_size)]).numpy()
