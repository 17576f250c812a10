"""ferrograd.text: GloVe training (co-occurrence counts against a NumPy reference, the AdaGrad
step against a NumPy re-implementation, falling loss, thread independence), similarity queries,
the GloVe text format and embedding matrices, PCA."""
import os
import re

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers
from ferrograd.text import GloVe, WordVectors, glove_embedding_matrix, load_glove

CORPUS = ["The cat sat on the mat.", "The dog sat on the log!", "A cat, a dog; a mat and a log.",
          "Rare words vanish", "the the cat"]
SHAKESPEARE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "tinyshakespeare", "input.txt")


def _reference_counts(docs, vocab, window, symmetric, distance_weighting):
    """X from a direct loop: words outside the vocabulary are removed before windowing."""
    index = {w: i for i, w in enumerate(vocab)}
    x = np.zeros((len(vocab), len(vocab)))
    for doc in docs:
        ids = [index[t] for t in doc if t in index]
        for p in range(len(ids)):
            for q in range(max(0, p - window), p):
                inc = 1.0 / (p - q) if distance_weighting else 1.0
                x[ids[p], ids[q]] += inc
                if symmetric:
                    x[ids[q], ids[p]] += inc
    return x


def _tokens(text):  # TensorFlow's lower_and_strip_punctuation + whitespace split, for ASCII text
    return re.sub(r"[!-/:-@\[-`{-~]", "", text.lower()).split()


@pytest.mark.parametrize("window,symmetric,weighting,min_count", [(2, True, True, 2), (3, False, True, 1),
                                                                  (1, True, False, 1), (10, True, True, 3)])
def test_cooccurrence_equals_numpy_reference(window, symmetric, weighting, min_count):
    g = GloVe(embedding_dim=4, window_size=window, symmetric=symmetric, distance_weighting=weighting,
              min_count=min_count, seed=1)
    g.build_vocabulary(CORPUS)
    docs = [_tokens(t) for t in CORPUS]
    counts = {}
    for d in docs:
        for t in d:
            counts[t] = counts.get(t, 0) + 1
    expected_vocab = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], w))
    assert g.vocabulary == expected_vocab
    assert g.word_counts == {w: counts[w] for w in expected_vocab}
    rows, cols, vals = g.cooccurrence()
    got = np.zeros((len(expected_vocab),) * 2)
    got[rows, cols] = vals
    np.testing.assert_allclose(got, _reference_counts(docs, expected_vocab, window, symmetric, weighting),
                               rtol=1e-12)
    assert np.all(np.diff(rows.astype(np.int64) * len(expected_vocab) + cols) > 0)  # sorted, unique
    assert g.num_cooccurrences == len(vals)


def test_tokenized_corpus_and_character_split():
    g = GloVe(embedding_dim=3, window_size=1, min_count=1, seed=0).build_vocabulary([["x", "y"], ["y", "Z"]])
    assert g.vocabulary == ["y", "Z", "x"]  # counts 2, 1, 1; ties by the word's bytes ("Z" < "x")
    c = GloVe(embedding_dim=3, window_size=1, min_count=1, split="character", standardize=None, seed=0)
    c.build_vocabulary(["abca"])
    assert c.vocabulary == ["a", "b", "c"]


def test_adagrad_step_equals_numpy():
    """Corpus "a b": two entries (a, b) and (b, a) that share no parameter, so the pass order does
    not matter and a NumPy loop of the same updates must give the same vectors."""
    g = GloVe(embedding_dim=5, window_size=1, min_count=1, x_max=2.0, alpha=0.75, learning_rate=0.1, seed=3)
    g.build_vocabulary(["a b"])
    w, c = g.word_vectors.astype(np.float64), g.context_vectors.astype(np.float64)
    bw, bc = (b.astype(np.float64) for b in g._state.biases())
    gw, gc, gbw, gbc = np.ones_like(w), np.ones_like(c), np.ones(2), np.ones(2)
    x = 1.0
    f = (x / 2.0) ** 0.75
    losses = []
    for _ in range(4):
        loss = 0.0
        for i, j in ((0, 1), (1, 0)):
            diff = w[i] @ c[j] + bw[i] + bc[j] - np.log(x)
            loss += 0.5 * f * diff * diff
            step = 0.1 * f * diff
            t1, t2 = step * c[j], step * w[i]
            w[i] -= t1 / np.sqrt(gw[i])
            c[j] -= t2 / np.sqrt(gc[j])
            gw[i] += t1 * t1
            gc[j] += t2 * t2
            bw[i] -= step / np.sqrt(gbw[i])
            bc[j] -= step / np.sqrt(gbc[j])
            gbw[i] += step * step
            gbc[j] += step * step
        losses.append(loss / 2)
    hist = g.fit(epochs=4)
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-5)
    np.testing.assert_allclose(g.word_vectors, w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g.context_vectors, c, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g.vectors, w + c, rtol=1e-5, atol=1e-7)


def test_loss_falls_and_threads_do_not_change_results():
    docs = [f"w{i % 7} w{(i * 3) % 11} w{i % 5} x y" for i in range(300)]

    def run():
        g = GloVe(embedding_dim=8, window_size=3, min_count=1, seed=5)
        return g.fit(docs, epochs=15)["loss"], g.vectors

    before = fg.get_num_threads()
    try:
        fg.set_num_threads(1)
        l1, v1 = run()
        fg.set_num_threads(2)
        l2, v2 = run()
    finally:
        fg.set_num_threads(before)
    assert l1[-1] < 0.3 * l1[0]
    assert l1 == l2
    np.testing.assert_array_equal(v1, v2)
    other = GloVe(embedding_dim=8, window_size=3, min_count=1, seed=6)
    other.fit(docs, epochs=15)
    assert not np.array_equal(other.vectors, v1)  # another seed, other vectors


def test_similarity_queries_on_known_vectors():
    words = ["king", "queen", "man", "woman", "apple"]
    vecs = np.array([[1, 1, 0], [1, -1, 0], [0, 1, 0.1], [0, -1, 0.1], [0, 0, 1]], np.float32)
    wv = WordVectors(words, vecs)
    assert wv.most_similar("king", topn=2)[0][0] in ("man", "queen")
    best = wv.analogy("man", "king", "woman", topn=1)
    assert best[0][0] == "queen" and best[0][1] > 0.9
    assert "king" not in [w for w, _ in wv.most_similar("king", topn=4)]
    sims = wv.most_similar(np.array([0, 0, 1], np.float32), topn=1)
    assert sims == [("apple", pytest.approx(1.0))]
    assert wv.similarity("king", "king") == pytest.approx(1.0)
    assert "apple" in wv and "pear" not in wv and len(wv) == 5
    np.testing.assert_array_equal(wv["queen"], vecs[1])
    with pytest.raises(ValueError, match="appears more than once"):
        WordVectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="one row of `vectors` per word"):
        WordVectors(["a"], np.zeros((2, 2)))


def test_file_round_trip_and_embedding_matrix(tmp_path):
    words = ["the", "cat", "é", "a b"]
    vecs = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    path = tmp_path / "vectors.txt"
    WordVectors(words, vecs).save(path)
    back = load_glove(path)
    assert back.words == words
    np.testing.assert_array_equal(back.vectors, vecs)
    vec = layers.TextVectorization(vocabulary=["cat", "dog", "the"])
    matrix, found = glove_embedding_matrix(path, vec)
    assert found == 2 and matrix.shape == (5, 3)  # "", "[UNK]", cat, dog, the
    np.testing.assert_array_equal(matrix[[0, 1, 3]], 0)
    np.testing.assert_array_equal(matrix[2], vecs[1])
    np.testing.assert_array_equal(matrix[4], vecs[0])
    m2, f2 = back.embedding_matrix(["THE", "cat"], lowercase=True)
    assert f2 == 2 and np.array_equal(m2, vecs[[0, 1]])
    emb = layers.Embedding(5, 3, weights=[matrix], trainable=False)
    np.testing.assert_array_equal(emb(np.array([[2, 4]])).numpy()[0], vecs[[1, 0]])


def test_reads_word2vec_header_and_keeps_first_duplicate(tmp_path):
    path = tmp_path / "w2v.txt"
    path.write_text("3 2\nx 1 2\r\ny 3 4\nx 5 6\n", encoding="utf-8")
    wv = load_glove(path)
    assert wv.words == ["x", "y"]
    np.testing.assert_array_equal(wv.vectors, [[1, 2], [3, 4]])


def test_pca_matches_numpy_svd():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(40, 6)) * [5, 3, 1, 0.5, 0.2, 0.1]).astype(np.float32)
    wv = WordVectors([f"w{i}" for i in range(40)], x)
    got = wv.project(n_components=2)
    xc = x.astype(np.float64) - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    ref = xc @ vt[:2].T
    for k in range(2):  # each component up to its sign
        sign = np.sign(got[:, k] @ ref[:, k])
        np.testing.assert_allclose(got[:, k], sign * ref[:, k], rtol=1e-4, atol=1e-4)


def test_plot_pca(tmp_path):
    pytest.importorskip("matplotlib")
    wv = WordVectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    out = tmp_path / "pca.png"
    coords = wv.plot_pca(["a", "b", "c"], out, title="t")
    assert coords.shape == (3, 2) and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not os.path.exists(SHAKESPEARE), reason="Tiny Shakespeare is not in ../shared/data")
def test_shakespeare_neighbours():
    with open(SHAKESPEARE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    g = GloVe(embedding_dim=50, window_size=10, min_count=5, seed=0)
    hist = g.fit(lines, epochs=10)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    near = [w for w, _ in g.most_similar("thou", topn=10)]
    assert {"hast", "art", "wilt", "shalt", "dost"} & set(near)
