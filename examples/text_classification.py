"""Text classification from raw strings: TextVectorization -> Embedding -> pooling or LSTM -> Dense.

    python examples/text_classification.py [--model both|pooling|lstm] [--epochs 6] [--seed 0]
        [--glove vectors.txt] [--imdb] [--quick]

The default corpus is generated (offline, deterministic): short movie reviews whose label is the
sentiment of their last clause, with negations ("not good") and contrasts ("great but the ending
was dull"), so word order matters. Two models read the raw strings end to end::

    Input(shape=(1,), dtype="string") -> TextVectorization(max_tokens, output_sequence_length=L)
      -> Embedding(mask_zero=True) -> GlobalAveragePooling1D      -> Dense(1, sigmoid)
                                   -> Bidirectional(LSTM(32))      -> Dense(1, sigmoid)

The bag-of-words pooling model cannot see which clause or word a negation belongs to; the LSTM
can. Each model is trained, evaluated on held-out reviews, saved as ``.keras`` and reloaded,
and the reloaded model classifies new raw sentences. ``--glove PATH`` starts the Embedding from
word vectors in the GloVe text format (``examples/glove_shakespeare.py --save`` writes one),
aligned with the learned vocabulary. ``--imdb`` uses the IMDB reviews from
``$FERROGRAD_DATA/imdb/`` instead (decoded back to text with ``get_word_index``).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers
from ferrograd.text import glove_embedding_matrix

SUBJECTS = ["the movie", "this film", "the plot", "the acting", "the soundtrack", "the script", "the cast",
            "the ending", "the story", "the cinematography", "the dialogue", "the pacing"]
POSITIVE = ["good", "great", "wonderful", "brilliant", "moving", "delightful", "superb", "charming", "gripping",
            "excellent", "funny", "beautiful"]
NEGATIVE = ["bad", "boring", "awful", "dull", "terrible", "clumsy", "tedious", "weak", "predictable", "messy",
            "lifeless", "dreadful"]
ADVERBS = ["", "", "really", "very", "quite", "truly", "rather"]
FILLERS = ["", "", "i think", "honestly", "to be fair", "in my opinion", "overall"]


def clause(rng):
    """A clause and its sentiment (1 positive, 0 negative)."""
    positive = rng.random() < 0.5
    word = rng.choice(POSITIVE if positive else NEGATIVE)
    negated = rng.random() < 0.35
    verb = rng.choice(["was", "is", "felt", "seemed"])
    adv = rng.choice(ADVERBS)
    text = " ".join(w for w in [rng.choice(SUBJECTS), verb, "not" if negated else "", adv, word] if w)
    return text, int(positive != negated)


def generate(n, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        first, label = clause(rng)
        filler = rng.choice(FILLERS)
        if rng.random() < 0.4:  # a contrast: the clause after "but" decides
            second, label = clause(rng)
            first = f"{first} but {second}"
        text = f"{filler} {first}".strip() if filler else first
        texts.append(text.capitalize() + rng.choice([".", "!", "..."]))
        labels.append(label)
    return np.array(texts), np.array(labels, dtype="float32")


def imdb_texts(num_words=20000, maxlen=400):
    """IMDB reviews as text (Keras' word indices decoded with get_word_index)."""
    (x_tr, y_tr), (x_te, y_te) = keras.datasets.imdb.load_data(num_words=num_words, maxlen=maxlen)
    inverse = {i + 3: w for w, i in keras.datasets.imdb.get_word_index().items()}

    def decode(xs):
        return np.array([" ".join(inverse.get(int(i), "") for i in x[1:]) for x in xs])

    return (decode(x_tr), y_tr.astype("float32")), (decode(x_te), y_te.astype("float32"))


def build(kind, vectorizer, embedding_matrix, dim):
    vocab = vectorizer.vocabulary_size()
    inp = keras.Input(shape=(1,), dtype="string", name="review")
    ids = vectorizer(inp)
    emb_kwargs = {"weights": [embedding_matrix]} if embedding_matrix is not None else {}
    x = layers.Embedding(vocab, dim, mask_zero=True, name="embedding", **emb_kwargs)(ids)
    if kind == "pooling":
        x = layers.GlobalAveragePooling1D()(x)
        x = layers.Dense(16, activation="relu")(x)
    else:
        x = layers.Bidirectional(layers.LSTM(32))(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inp, out, name=f"{kind}_classifier")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["both", "pooling", "lstm"], default="both")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--samples", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--glove", default="", help="GloVe text file to start the Embedding from")
    ap.add_argument("--imdb", action="store_true", help="use IMDB from $FERROGRAD_DATA/imdb/")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = ap.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    if args.imdb:
        try:
            (x_train, y_train), (x_test, y_test) = imdb_texts()
        except (OSError, ValueError) as e:
            sys.exit(f"IMDB is not available: {e}")
        max_tokens, seq_len = 20000, 200
    else:
        n = 1500 if args.quick else args.samples
        texts, labels = generate(n + n // 4, args.seed)
        x_train, y_train, x_test, y_test = texts[:n], labels[:n], texts[n:], labels[n:]
        max_tokens, seq_len = 500, 24
    epochs = 2 if args.quick else args.epochs
    dim = 32
    vectorizer = layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=seq_len)
    t0 = time.perf_counter()
    vectorizer.adapt(x_train)
    print(f"{len(x_train)} training texts, {len(x_test)} held out; vocabulary of {vectorizer.vocabulary_size()} "
          f"(adapt {time.perf_counter() - t0:.2f} s). Example: {str(x_train[0])!r} -> label {int(y_train[0])}")
    matrix = None
    if args.glove:
        matrix, found = glove_embedding_matrix(args.glove, vectorizer)
        dim = matrix.shape[1]
        print(f"GloVe: {found} of {vectorizer.vocabulary_size()} words found in {args.glove} ({dim}-d)")
    kinds = ["pooling", "lstm"] if args.model == "both" else [args.model]
    results = {}
    for kind in kinds:
        model = build(kind, vectorizer, matrix, dim)
        t0 = time.perf_counter()
        model.fit(x_train[:, None], y_train, epochs=epochs, batch_size=64, validation_split=0.1, verbose=0)
        seconds = time.perf_counter() - t0
        loss, acc = model.evaluate(x_test[:, None], y_test, verbose=0)
        path = os.path.join(tempfile.mkdtemp(), f"{kind}.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)
        same = np.array_equal(reloaded.predict(x_test[:64, None], verbose=0), model.predict(x_test[:64, None],
                                                                                              verbose=0))
        results[kind] = acc
        print(f"{kind:>8}: held-out accuracy {acc:.4f} (loss {loss:.4f}), {seconds:.1f} s for {epochs} epochs; "
              f"saved and reloaded with its vocabulary: predictions {'identical' if same else 'DIFFERENT'}")
        probe = np.array([["The acting was not bad at all"], ["A great cast but the story was dull"],
                          ["Honestly the ending was truly wonderful"]])
        scores = reloaded.predict(probe, verbose=0).ravel()
        print("          " + "; ".join(f"{str(t[0])!r}: {s:.2f}" for t, s in zip(probe, scores)))
    if len(results) == 2:
        print(f"LSTM minus pooling accuracy: {results['lstm'] - results['pooling']:+.4f}")


if __name__ == "__main__":
    main()
