"""The article's Example 1 with one line changed: `import ckeras as tf`."""
import ckeras as tf
from _data import load, report

(x_train, y_train), (x_test, y_test) = load()

model = tf.keras.Sequential([
  tf.keras.layers.Dense(128, activation='relu', input_shape=(784,)),
  tf.keras.layers.Dense(10, activation='softmax')
])

model.compile(optimizer='adam',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

model.fit(x_train, y_train, epochs=10)
report(model, x_test, y_test)
