"""Example 2 in Keras 3 spelling: the Functional API with `keras.Model`."""
import ckeras as keras
from _data import load, report

(x_train, y_train), (x_test, y_test) = load()

inputs = keras.Input(shape=(784,))
x = keras.layers.Dense(64, activation="relu")(inputs)
x = keras.layers.Dropout(0.2)(x)
x = keras.layers.Dense(128, activation="relu")(x)
outputs = keras.layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=10)
report(model, x_test, y_test)
