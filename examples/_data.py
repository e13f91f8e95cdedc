"""The article leaves x_train/y_train to the reader; these examples use the digits set shipped inside
ckeras, blown up to MNIST's 28x28 = 784 pixels, scaled to [0, 1], with one-hot labels."""
import numpy as np

from ckeras.datasets import digits
from ckeras.utils import to_categorical


def load():
    (x_train, y_train), (x_test, y_test) = digits.load_data(upscale=True)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    return (x_train, to_categorical(y_train, 10)), (x_test, to_categorical(y_test, 10))


def report(model, x_test, y_test):
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {acc:.4f} (loss {loss:.4f})")
    return np.float64(acc)
