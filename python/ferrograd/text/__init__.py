"""``ferrograd.text``: word vectors. :class:`GloVe` trains them on a corpus (in Rust);
:func:`load_glove` reads the published ``glove.*.txt`` files; :func:`glove_embedding_matrix`
aligns a file's vectors with a ``TextVectorization`` vocabulary for ``layers.Embedding``."""
from .glove import GloVe, WordVectors, glove_embedding_matrix, load_glove

__all__ = ["GloVe", "WordVectors", "glove_embedding_matrix", "load_glove"]
