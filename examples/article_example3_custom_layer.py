"""The article's Example 3 with one line changed: `import ckeras as tf`.

As written in the article, `MyCustomLayer.call` reads `self.kernel`, which nothing ever creates, so
TensorFlow raises AttributeError when the model first runs, and so does ckeras, with Keras's
"Exception encountered when calling MyCustomLayer.call()" context. The second half adds the
missing `build` and trains the same model.
"""
import ckeras as tf
from _data import load, report

(x_train, y_train), (x_test, y_test) = load()


class MyCustomLayer(tf.keras.layers.Layer):
    def __init__(self, units):
        super(MyCustomLayer, self).__init__()
        self.units = units

    def call(self, inputs):
        return tf.keras.activations.relu(tf.matmul(inputs, self.kernel))


model = tf.keras.Sequential([
  MyCustomLayer(64),
  tf.keras.layers.Dense(10, activation='softmax')
])

optimizer = tf.keras.optimizers.experimental.AdamW(learning_rate=0.001, weight_decay=0.01)
model.compile(optimizer=optimizer, loss='categorical_crossentropy', metrics=['accuracy'])
try:
    model.fit(x_train, y_train, epochs=10)
except AttributeError as err:
    print("As in TensorFlow, the article's layer fails:\n", err, "\n")


class MyFixedLayer(MyCustomLayer):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")


model = tf.keras.Sequential([MyFixedLayer(64), tf.keras.layers.Dense(10, activation='softmax')])
optimizer = tf.keras.optimizers.experimental.AdamW(learning_rate=0.001, weight_decay=0.01)
model.compile(optimizer=optimizer, loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=10)
report(model, x_test, y_test)
