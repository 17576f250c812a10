"""GloVe word vectors: training on a corpus, similarity and analogy queries, the published
``glove.*.txt`` format, embedding matrices for ``layers.Embedding``, and a PCA picture.

The arithmetic runs in Rust (``src/text/glove.rs``: vocabulary, co-occurrence counting and the
AdaGrad fit; ``src/io/glove_text.rs``: the file format; ``src/kernels/eigh.rs``: PCA); this module
holds the API and checks its arguments.
"""
from __future__ import annotations

import os

import numpy as np

from .. import _core

__all__ = ["GloVe", "WordVectors", "load_glove", "glove_embedding_matrix"]

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
_SPLIT = ("whitespace", "character")


def _positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"GloVe: `{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _positive_float(value, name, allow_zero=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"GloVe: `{name}` must be a number. Received: {name}={value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"GloVe: `{name}` must be a finite number > {'=' if allow_zero else ''}0. "
                         f"Received: {name}={value!r}")
    return v


class WordVectors:
    """Words and their vectors (rows of ``vectors``), with similarity queries.

    Made by :class:`GloVe` training or :func:`load_glove`. ``wv["king"]`` is a vector,
    ``"king" in wv`` a membership test.
    """

    def __init__(self, words, vectors):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        words = [str(w) for w in words]
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"WordVectors: expected one row of `vectors` per word; received {len(words)} words and "
                             f"vectors of shape {vectors.shape}")
        self._set(words, vectors)

    def _set(self, words, vectors):
        self.words = list(words)
        self.vectors = vectors
        self.word_index = {w: i for i, w in enumerate(self.words)}
        if len(self.word_index) != len(self.words):
            seen = set()
            dup = next(w for w in self.words if w in seen or seen.add(w))
            raise ValueError(f"WordVectors: the word {dup!r} appears more than once")

    @property
    def vocabulary(self):
        return list(self.words)

    @property
    def embedding_dim(self):
        return int(self.vectors.shape[1])

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.word_index

    def __getitem__(self, word):
        return self.vectors[self._index(word)]

    def _index(self, word):
        try:
            return self.word_index[word]
        except (KeyError, TypeError):
            raise KeyError(f"the word {word!r} is not in the vocabulary ({len(self.words)} words)") from None

    def _query(self, query, what):
        if isinstance(query, str):
            return self.vectors[self._index(query)], {query}
        v = np.asarray(query, dtype=np.float32)
        if v.shape != (self.embedding_dim,):
            raise ValueError(f"{what}: expected a word or a vector of shape ({self.embedding_dim},); received "
                             f"shape {v.shape}")
        return v, set()

    def _nearest(self, vector, topn, exclude, what):
        from ..hub.models.semantic import cosine_top_k  # imported on use: ferrograd.hub loads on demand

        topn = _positive_int(topn, "topn")
        k = min(len(self.words), topn + len(exclude))
        scores, idx = cosine_top_k(vector[None, :], self.vectors, k)
        out = []
        for s, i in zip(np.asarray(scores)[0].tolist(), np.asarray(idx)[0].tolist()):
            w = self.words[i]
            if w not in exclude:
                out.append((w, float(s)))
        return out[:topn]

    def most_similar(self, word, topn=10):
        """The ``topn`` words closest to ``word`` (a word, left out of the answer, or a vector) by
        cosine similarity: a list of ``(word, similarity)``, best first."""
        v, exclude = self._query(word, "most_similar")
        return self._nearest(v, topn, exclude, "most_similar")

    def analogy(self, a, b, c, topn=1):
        """``a`` is to ``b`` as ``c`` is to ...: the words closest to ``b - a + c`` (unit vectors,
        3CosAdd), leaving out ``a``, ``b`` and ``c``. ``analogy("man", "king", "woman")`` ->
        ``[("queen", 0.8...)]`` on good vectors."""
        unit = [self._query(w, "analogy")[0] for w in (a, b, c)]
        unit = [u / max(float(np.linalg.norm(u)), 1e-12) for u in unit]
        target = unit[1] - unit[0] + unit[2]
        exclude = {w for w in (a, b, c) if isinstance(w, str)}
        return self._nearest(target.astype(np.float32), topn, exclude, "analogy")

    def similarity(self, a, b):
        """Cosine similarity of two words (or vectors)."""
        u, v = self._query(a, "similarity")[0], self._query(b, "similarity")[0]
        return float(u @ v / max(float(np.linalg.norm(u) * np.linalg.norm(v)), 1e-12))

    def embedding_matrix(self, vocabulary, lowercase=False):
        """An ``(len(vocabulary), dim)`` float32 matrix whose row ``i`` is the vector of
        ``vocabulary[i]`` (zeros where the word is unknown, and for the padding ``""`` and
        ``"[UNK]"`` entries a ``TextVectorization`` vocabulary starts with), and the number of
        words found. With ``lowercase``, a word missing as written is looked up lower-cased.

        Use it as ``layers.Embedding(len(vocabulary), dim, weights=[matrix], trainable=False)``.
        """
        vocabulary = _vocabulary_list(vocabulary)
        out = np.zeros((len(vocabulary), self.embedding_dim), np.float32)
        found = 0
        for i, w in enumerate(vocabulary):
            j = self.word_index.get(w)
            if j is None and lowercase:
                j = self.word_index.get(w.lower())
            if j is not None:
                out[i] = self.vectors[j]
                found += 1
        return out, found

    def save(self, path):
        """Writes ``word v1 ... vd`` lines (the GloVe text format; atomically)."""
        _core.glove_write(os.fspath(path), self.words, self.vectors)

    def project(self, words=None, n_components=2):
        """PCA coordinates ``(len(words), n_components)`` of the vectors of ``words`` (default:
        all), computed in Rust (centred covariance, symmetric eigen-decomposition)."""
        rows = self.vectors if words is None else self.vectors[[self._index(w) for w in words]]
        coords, _ = _core.pca_project(np.ascontiguousarray(rows), _positive_int(n_components, "n_components"))
        return coords

    def plot_pca(self, words, path, title=None):
        """Saves a 2-D PCA scatter plot of ``words`` (labelled) to ``path`` (PNG). Needs matplotlib;
        raises ImportError saying so when it is absent. Returns the coordinates."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plot_pca needs matplotlib (pip install matplotlib)") from None
        words = list(words)
        coords = self.project(words, 2)
        fig, ax = plt.subplots(figsize=(8, 6))
        ax.scatter(coords[:, 0], coords[:, 1], s=12)
        for (x, y), w in zip(coords, words):
            ax.annotate(w, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        if title:
            ax.set_title(title)
        fig.tight_layout()
        fig.savefig(os.fspath(path), dpi=120)
        plt.close(fig)
        return coords


def _vocabulary_list(vocabulary):
    if hasattr(vocabulary, "get_vocabulary"):  # a TextVectorization or StringLookup layer
        vocabulary = vocabulary.get_vocabulary()
    if isinstance(vocabulary, str) or not all(isinstance(w, str) for w in vocabulary):
        raise TypeError("`vocabulary` must be a list of strings (or a layer with get_vocabulary())")
    return list(vocabulary)


class GloVe(WordVectors):
    """Trains GloVe word vectors (Pennington et al., 2014) on a corpus.

    The corpus is counted into a co-occurrence matrix ``X`` (word ``i`` and context ``j`` within
    ``window_size`` words of each other in one document add ``1/distance``), then word vectors
    ``w``, context vectors ``c`` and biases are fitted by weighted least squares,
    ``sum f(X_ij) (w_i . c_j + b_i + b'_j - ln X_ij)^2 / 2`` with ``f(x) = min(1, (x/x_max)^alpha)``,
    one AdaGrad step per entry (stratified so 2+ threads give the same result as one). The final
    vectors are ``w + c``.

    Args:
        embedding_dim: vector size.
        window_size: context words on each side.
        min_count: drop words seen fewer times (they take no window position).
        max_vocab_size: keep only the most frequent words.
        x_max, alpha: the weighting function.
        learning_rate: AdaGrad's initial step.
        symmetric: count contexts on both sides (else only words to the left).
        distance_weighting: ``1/d`` per pair (else 1).
        standardize, split: how raw texts become words (as ``TextVectorization``: TensorFlow's
            ASCII lower-casing and punctuation stripping, whitespace split).
        seed: initialisation and shuffling seed.

    Example::

        glove = GloVe(embedding_dim=50, window_size=8, min_count=3, seed=0)
        history = glove.fit(lines, epochs=25)
        glove.most_similar("king", topn=5)
    """

    def __init__(self, embedding_dim=50, window_size=10, min_count=5, max_vocab_size=None, x_max=100.0, alpha=0.75,
                 learning_rate=0.05, symmetric=True, distance_weighting=True,
                 standardize="lower_and_strip_punctuation", split="whitespace", seed=None):
        self.embedding_dim_arg = _positive_int(embedding_dim, "embedding_dim")
        self.window_size = _positive_int(window_size, "window_size")
        self.min_count = _positive_int(min_count, "min_count")
        self.max_vocab_size = None if max_vocab_size is None else _positive_int(max_vocab_size, "max_vocab_size")
        self.x_max = _positive_float(x_max, "x_max")
        self.alpha = _positive_float(alpha, "alpha", allow_zero=True)
        self.learning_rate = _positive_float(learning_rate, "learning_rate")
        self.symmetric = bool(symmetric)
        self.distance_weighting = bool(distance_weighting)
        if standardize not in _STANDARDIZE:
            raise ValueError(f"GloVe: `standardize` must be one of {_STANDARDIZE}. "
                             f"Received: standardize={standardize!r}")
        if split not in _SPLIT:
            raise ValueError(f"GloVe: `split` must be one of {_SPLIT}. Received: split={split!r}")
        self.standardize, self.split = standardize, split
        self.seed = int(np.random.randint(0, 2 ** 31)) if seed is None else _positive_int(seed, "seed", 0)
        self._state = _core.GloVeState()
        self._nnz = 0
        self.word_counts = None
        self.words, self.vectors, self.word_index = [], np.zeros((0, self.embedding_dim_arg), np.float32), {}
        self.history = {"loss": []}

    @property
    def embedding_dim(self):
        return self.embedding_dim_arg

    def build_vocabulary(self, corpus):
        """Reads ``corpus`` (documents: a list of strings, a NumPy string array, a list of token
        lists, or a path to a text file whose lines are the documents), builds the vocabulary and
        counts the co-occurrences. Returns ``self``."""
        docs = _documents(corpus)
        if docs and isinstance(docs[0], list):
            if not all(isinstance(d, list) and all(isinstance(t, str) for t in d) for d in docs):
                raise TypeError("GloVe: a tokenized corpus must be a list of lists of strings")
            words, counts = self._state.build_from_tokens(docs, self.min_count, self.max_vocab_size)
        else:
            pipeline = _core.TextPipeline(self.standardize, self.split, [])
            words, counts = self._state.build_from_texts(pipeline, docs, self.min_count, self.max_vocab_size)
        self._nnz = self._state.count(self.window_size, self.symmetric, self.distance_weighting)
        self._state.init_model(self.embedding_dim_arg, self.seed, self.x_max, self.alpha)
        self.word_counts = dict(zip(words, counts))
        self._set(words, self._state.vectors("sum"))
        self.history = {"loss": []}
        return self

    def fit(self, corpus=None, epochs=25, verbose=0):
        """Builds the vocabulary from ``corpus`` (when given, or when none is built yet) and trains
        for ``epochs`` passes. Returns the history ``{"loss": [mean loss per epoch]}`` (all
        epochs since the vocabulary was built)."""
        epochs = _positive_int(epochs, "epochs", 0)
        if corpus is not None:
            self.build_vocabulary(corpus)
        elif not self.words:
            raise ValueError("GloVe.fit: pass a corpus (no vocabulary has been built yet)")
        for _ in range(epochs):
            loss = self._state.train_epoch(self.learning_rate)
            self.history["loss"].append(loss)
            if verbose:
                print(f"GloVe epoch {len(self.history['loss'])}: loss {loss:.5f}")
        self.vectors = self._state.vectors("sum")
        return self.history

    @property
    def word_vectors(self):
        """The word vectors ``w`` alone."""
        return self._state.vectors("word")

    @property
    def context_vectors(self):
        """The context vectors ``c`` alone."""
        return self._state.vectors("context")

    def cooccurrence(self):
        """The co-occurrence counts as ``(rows, cols, values)`` (uint32, uint32, float64), sorted
        by (row, col); indices follow :attr:`vocabulary`."""
        return self._state.cooccurrence()

    @property
    def num_cooccurrences(self):
        return self._nnz

    def __repr__(self):
        return (f"<GloVe dim={self.embedding_dim_arg} window={self.window_size} words={len(self.words)} "
                f"nonzeros={self._nnz} epochs={len(self.history['loss'])}>")


def _documents(corpus):
    if isinstance(corpus, (str, os.PathLike)) and os.path.exists(corpus):
        with open(corpus, encoding="utf-8") as f:
            return f.read().splitlines()
    if isinstance(corpus, str):
        raise TypeError("GloVe: `corpus` must be a list of documents (or a path to an existing text file); received "
                        "a single string that is not a file")
    if isinstance(corpus, np.ndarray):
        corpus = corpus.reshape(-1).tolist()
    try:
        docs = list(corpus)
    except TypeError:
        raise TypeError(f"GloVe: `corpus` must be a list of documents; received {type(corpus).__name__}") from None
    if not docs:
        raise ValueError("GloVe: the corpus is empty")
    out = []
    for d in docs:
        if isinstance(d, bytes):
            d = d.decode("utf-8")
        elif isinstance(d, (list, tuple)):
            d = list(d)
        elif not isinstance(d, str):
            raise TypeError(f"GloVe: documents must be strings or token lists; received {type(d).__name__} {d!r}")
        out.append(d)
    return out


def load_glove(path):
    """Reads word vectors in the GloVe text format (``glove.6B.100d.txt`` and the like; the
    word2vec text format's ``count dim`` header line is accepted). Every line is checked: a
    malformed file raises ValueError naming the line. A repeated word keeps its first vector."""
    words, vectors, _, _ = _core.glove_read(os.fspath(path))
    return WordVectors(words, vectors)


def glove_embedding_matrix(path, vocabulary):
    """``(matrix, found)`` for a vocabulary (a list or a layer with ``get_vocabulary()``): row
    ``i`` is the file's vector of ``vocabulary[i]``, zeros where the file lacks the word; only the
    vocabulary's rows are kept while reading, so memory does not grow with the file."""
    vocabulary = _vocabulary_list(vocabulary)
    _, matrix, found, _ = _core.glove_read(os.fspath(path), vocabulary)
    return matrix, int(sum(found))
