"""The article's Example 2 (Functional API) with one line changed: `import ckeras as tf`."""
import ckeras as tf
from _data import load, report

(x_train, y_train), (x_test, y_test) = load()

input_tensor = tf.keras.Input(shape=(784,))
x = tf.keras.layers.Dense(64, activation='relu')(input_tensor)
x = tf.keras.layers.Dropout(0.2)(x)
y = tf.keras.layers.Dense(128, activation='relu')(x)
output_tensor = tf.keras.layers.Dense(10, activation='softmax')(y)

model = tf.keras.Model(inputs=input_tensor, outputs=output_tensor)

model.compile(optimizer='adam',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

model.fit(x_train, y_train, epochs=10)
report(model, x_test, y_test)
