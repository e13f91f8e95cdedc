"""Example 3 in Keras 3 spelling: a custom layer with `build`/`add_weight`, `keras.ops.matmul`, AdamW."""
import ckeras as keras
from ckeras import ops
from _data import load, report

(x_train, y_train), (x_test, y_test) = load()


class MyCustomLayer(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

    def call(self, inputs):
        return keras.activations.relu(ops.matmul(inputs, self.kernel))


model = keras.Sequential([keras.Input(shape=(784,)), MyCustomLayer(64), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer=keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.01),
              loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=10)
report(model, x_test, y_test)
