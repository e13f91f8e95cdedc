"""A first look at ckeras's engine: ops on tensors and a gradient from GradientTape.

Fits y = 3x - 2 by gradient descent on the C++ engine, then prints what it learned.
"""
import numpy as np

import ckeras
from ckeras import ops

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(256, 1)).astype("float32")
y = 3 * x - 2 + 0.01 * rng.standard_normal((256, 1)).astype("float32")

w = ckeras.Variable(np.zeros((1, 1), "float32"), name="w")
b = ckeras.Variable(np.zeros((1,), "float32"), name="b")
for step in range(200):
    with ckeras.GradientTape() as tape:
        pred = ops.add(ops.matmul(x, w), b)
        loss = ops.mean(ops.square(ops.subtract(pred, y)))
    dw, db = tape.gradient(loss, [w, b])
    w.assign_sub(0.1 * dw)
    b.assign_sub(0.1 * db)

print(f"learned w = {float(w.numpy()[0, 0]):.3f} (true 3), b = {float(b.numpy()[0]):.3f} (true -2), "
      f"mse = {float(loss):.5f}")
print("build:", ckeras.sysconfig.get_build_info())
