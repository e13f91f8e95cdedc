"""The README's main job: the article's first model trained on the digits shipped with ckeras."""
import numpy as np

import ckeras as tf
from ckeras.datasets import digits


def test_article_first_model_reaches_095_on_shipped_digits():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = digits.load_data(upscale=True)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    y_train, y_test = tf.keras.utils.to_categorical(y_train, 10), tf.keras.utils.to_categorical(y_test, 10)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(784,)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.95, acc
    # evaluate's accuracy agrees with an argmax over predict()
    pred = model.predict(x_test, verbose=0)
    assert abs(np.mean(pred.argmax(-1) == y_test.argmax(-1)) - acc) < 1e-6


def test_seeded_cpu_training_is_bit_for_bit_repeatable():
    (x, y), _ = digits.load_data()
    x = x.reshape(-1, 64).astype("float32") / 16.0
    weights = []
    for _ in range(2):
        tf.keras.utils.set_random_seed(7)
        model = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(32, activation="relu"),
                                     tf.keras.layers.Dropout(0.2), tf.keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x[:512], y[:512].astype("int64"), epochs=2, batch_size=32, verbose=0)
        weights.append([np.asarray(w) for w in model.get_weights()] if hasattr(model, "get_weights")
                       else [np.asarray(v) for v in model.weights])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
