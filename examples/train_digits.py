"""The main job: the article's first model (Dense 784-128-10, Adam, categorical cross-entropy)
trained on the handwritten digits shipped inside ckeras, then its test accuracy.

    python examples/train_digits.py [--epochs 10] [--batch-size 32]
"""
import argparse
import time

import ckeras as tf
from _data import load, report

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--batch-size", type=int, default=32)
args = ap.parse_args()

tf.keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = load()
print(f"digits: {len(x_train)} training and {len(x_test)} test images, 784 pixels each")

model = tf.keras.Sequential([
    tf.keras.Input(shape=(784,)),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
t0 = time.perf_counter()
model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
print(f"trained in {time.perf_counter() - t0:.2f} s")
report(model, x_test, y_test)
