"""
Title: Sequence to sequence learning for performing number addition
Original example: https://keras.io/examples/nlp/addition_rnn/ (keras-team/keras-io,
examples/nlp/addition_rnn.py), by Smerity and others, Apache License 2.0.

This file restates that example's recipe as a plain Keras 3 script (``import keras``, no
ferrograd import): the same constants (TRAINING_SIZE = 50000, DIGITS = 3, REVERSE = True), the
same data (distinct random questions "a+b" with 1-3 digit operands, padded with spaces and
reversed), the same model built with ``keras.Sequential().add`` (LSTM(128) with ``input_shape``,
RepeatVector(DIGITS + 1), LSTM(128, return_sequences=True), Dense(len(chars), softmax)), the same
compile (categorical_crossentropy, "adam", accuracy) and the same loop: ``fit`` one epoch at a
time (epochs = 30, batch_size = 32) with validation data, then ten random validation questions
printed as Q / T / ☑ or ☒. keras.io: "You'll get to 99+% validation accuracy after ~30 epochs."

Run it on ferrograd, unmodified: ``python -m ferrograd.keras_compat examples/keras_io/addition_rnn.py``
"""

import keras
import numpy as np
from keras import layers

# Model and data parameters.
TRAINING_SIZE = 50000
DIGITS = 3
REVERSE = True

# The longest question is "int+int" with DIGITS-digit ints, e.g. "345+678".
MAXLEN = DIGITS + 1 + DIGITS


class CharacterTable:
    """Maps strings over a fixed set of characters to one-hot rows and back."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = {c: i for i, c in enumerate(self.chars)}
        self.indices_char = {i: c for i, c in enumerate(self.chars)}

    def encode(self, C, num_rows):
        """One-hot rows for the characters of C, padded with all-zero rows to num_rows."""
        x = np.zeros((num_rows, len(self.chars)))
        for row, ch in enumerate(C):
            x[row, self.char_indices[ch]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        """The string of a 2D array of probabilities / one-hot rows (calc_argmax=True) or of a
        vector of character indices (calc_argmax=False)."""
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[i] for i in x)


# Digits, the plus sign, and the space used for padding.
chars = "0123456789+ "
ctable = CharacterTable(chars)


def random_number():
    n_digits = np.random.randint(1, DIGITS + 1)
    return int("".join(np.random.choice(list("0123456789")) for _ in range(n_digits)))


print("Generating data...")
questions, expected, seen = [], [], set()
while len(questions) < TRAINING_SIZE:
    a, b = random_number(), random_number()
    # Each unordered pair once: a+b and b+a count as the same question.
    key = tuple(sorted((a, b)))
    if key in seen:
        continue
    seen.add(key)
    query = "{}+{}".format(a, b).ljust(MAXLEN)
    answer = str(a + b).ljust(DIGITS + 1)  # at most DIGITS + 1 characters
    if REVERSE:
        # '12+345  ' -> '  543+21'
        query = query[::-1]
    questions.append(query)
    expected.append(answer)
print("Total questions:", len(questions))

print("Vectorization...")
x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=np.bool)
y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=np.bool)
for i, sentence in enumerate(questions):
    x[i] = ctable.encode(sentence, MAXLEN)
for i, sentence in enumerate(expected):
    y[i] = ctable.encode(sentence, DIGITS + 1)

# Shuffle: the questions generated last are mostly the larger numbers.
indices = np.arange(len(y))
np.random.shuffle(indices)
x, y = x[indices], y[indices]

# Hold out 10% for validation.
split_at = len(x) - len(x) // 10
(x_train, x_val) = x[:split_at], x[split_at:]
(y_train, y_val) = y[:split_at], y[split_at:]

print("Training Data:")
print(x_train.shape)
print(y_train.shape)
print("Validation Data:")
print(x_val.shape)
print(y_val.shape)

print("Build model...")
num_layers = 1  # decoder LSTM layers

model = keras.Sequential()
# Encoder: the whole question into one vector of 128.
model.add(layers.LSTM(128, input_shape=(MAXLEN, len(chars))))
# The decoder reads that vector at each of its DIGITS + 1 steps (999+999=1998 has 4 digits).
model.add(layers.RepeatVector(DIGITS + 1))
for _ in range(num_layers):
    model.add(layers.LSTM(128, return_sequences=True))
# A softmax over the characters at every output step.
model.add(layers.Dense(len(chars), activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

epochs = 30
batch_size = 32

# One epoch at a time, with ten random validation questions shown after each.
for epoch in range(1, epochs):
    print()
    print("Iteration", epoch)
    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=1,
        validation_data=(x_val, y_val),
    )
    for _ in range(10):
        ind = np.random.randint(0, len(x_val))
        rowx, rowy = x_val[np.array([ind])], y_val[np.array([ind])]
        preds = np.argmax(model.predict(rowx), axis=-1)
        q = ctable.decode(rowx[0])
        correct = ctable.decode(rowy[0])
        guess = ctable.decode(preds[0], calc_argmax=False)
        print("Q", q[::-1] if REVERSE else q, end=" ")
        print("T", correct, end=" ")
        if correct == guess:
            print("☑ " + guess)
        else:
            print("☒ " + guess)
