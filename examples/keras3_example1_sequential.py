"""Example 1 in Keras 3 spelling: `import ckeras as keras`, an `Input` first, `keras.layers`."""
import ckeras as keras
from _data import load, report

(x_train, y_train), (x_test, y_test) = load()

model = keras.Sequential([
    keras.Input(shape=(784,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=10)
report(model, x_test, y_test)
