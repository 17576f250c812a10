//! Bindings for GloVe (`src/text/glove.rs`), the GloVe text format (`src/io/glove_text.rs`) and
//! the PCA projection (`src/kernels/eigh.rs`). Methods convert arguments, release the GIL around
//! the core call and map errors; the user-facing API (`ferrograd.text.GloVe`, `load_glove`) lives
//! in `python/ferrograd/text/glove.py`.

use std::path::PathBuf;

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;

use super::errors::guard;
use super::text::PyTextPipeline;
use crate::error::{Error, Result};
use crate::io::glove_text;
use crate::kernels::eigh;
use crate::text::glove::{self, Cooccurrence, Corpus, Glove};

/// A corpus, its co-occurrence counts and a model trained on them.
#[pyclass(name = "GloVeState", module = "ferrograd._core")]
pub struct PyGloveState {
    corpus: Option<Corpus>,
    cooc: Option<Cooccurrence>,
    model: Option<Glove>,
}

fn missing(what: &str) -> Error {
    Error::value("GloVe", format!("{what} first"))
}

#[pymethods]
impl PyGloveState {
    #[new]
    fn new() -> PyResult<Self> {
        guard("GloVeState.__new__", || {
            Ok(PyGloveState {
                corpus: None,
                cooc: None,
                model: None,
            })
        })
    }

    /// Builds the vocabulary and id documents from raw texts run through `pipeline`; returns the
    /// vocabulary and its counts.
    fn build_from_texts(
        &mut self,
        py: Python<'_>,
        pipeline: &PyTextPipeline,
        texts: Vec<PyBackedStr>,
        min_count: u64,
        max_vocab: Option<usize>,
    ) -> PyResult<(Vec<String>, Vec<u64>)> {
        guard("GloVe.build_from_texts", || {
            let p = &pipeline.inner;
            let visit = |k: usize, f: &mut dyn FnMut(&str)| p.visit_tokens(&texts[k], f);
            let corpus = py.detach(|| Corpus::build(texts.len(), &visit, min_count, max_vocab))?;
            Ok(self.set_corpus(corpus))
        })
    }

    /// Builds the vocabulary and id documents from token lists.
    fn build_from_tokens(
        &mut self,
        py: Python<'_>,
        docs: Vec<Vec<PyBackedStr>>,
        min_count: u64,
        max_vocab: Option<usize>,
    ) -> PyResult<(Vec<String>, Vec<u64>)> {
        guard("GloVe.build_from_tokens", || {
            let visit = |k: usize, f: &mut dyn FnMut(&str)| docs[k].iter().for_each(|t| f(t));
            let corpus = py.detach(|| Corpus::build(docs.len(), &visit, min_count, max_vocab))?;
            Ok(self.set_corpus(corpus))
        })
    }

    /// Number of in-vocabulary tokens of the corpus.
    fn n_tokens(&self) -> PyResult<usize> {
        guard("GloVe.n_tokens", || {
            Ok(self.corpus.as_ref().map_or(0, |c| c.ids.len()))
        })
    }

    /// Counts the co-occurrences; returns the number of non-zero entries.
    fn count(
        &mut self,
        py: Python<'_>,
        window: usize,
        symmetric: bool,
        distance_weighting: bool,
    ) -> PyResult<usize> {
        guard("GloVe.count", || {
            let corpus = self
                .corpus
                .as_ref()
                .ok_or_else(|| missing("build the vocabulary"))?;
            let cooc =
                py.detach(|| glove::cooccurrence(corpus, window, symmetric, distance_weighting))?;
            let n = cooc.vals.len();
            self.cooc = Some(cooc);
            self.model = None;
            Ok(n)
        })
    }

    /// The counts as (rows, cols, values), sorted by (row, col).
    #[allow(clippy::type_complexity)]
    fn cooccurrence<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        guard("GloVe.cooccurrence", || {
            let c = self
                .cooc
                .as_ref()
                .ok_or_else(|| missing("count the co-occurrences"))?;
            Ok((
                c.rows.clone().into_pyarray(py),
                c.cols.clone().into_pyarray(py),
                c.vals.clone().into_pyarray(py),
            ))
        })
    }

    /// Draws the parameters and attaches the counts with their weights.
    fn init_model(
        &mut self,
        py: Python<'_>,
        dim: usize,
        seed: u64,
        x_max: f64,
        alpha: f64,
    ) -> PyResult<()> {
        guard("GloVe.init_model", || {
            let corpus = self
                .corpus
                .as_ref()
                .ok_or_else(|| missing("build the vocabulary"))?;
            let cooc = self
                .cooc
                .as_ref()
                .ok_or_else(|| missing("count the co-occurrences"))?;
            let v = corpus.vocab.len();
            let model = py.detach(|| -> Result<Glove> {
                let mut g = Glove::new(v, dim, seed)?;
                g.set_cooccurrence(cooc, x_max, alpha)?;
                Ok(g)
            })?;
            self.model = Some(model);
            Ok(())
        })
    }

    /// One epoch of AdaGrad; returns its mean loss.
    fn train_epoch(&mut self, py: Python<'_>, learning_rate: f32) -> PyResult<f64> {
        guard("GloVe.train_epoch", || {
            let model = self
                .model
                .as_mut()
                .ok_or_else(|| missing("initialise the model"))?;
            Ok(py.detach(|| model.train_epoch(learning_rate))?)
        })
    }

    /// `(V, dim)` vectors: "word", "context" or "sum".
    fn vectors<'py>(&self, py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyArray2<f32>>> {
        guard("GloVe.vectors", || {
            let model = self
                .model
                .as_ref()
                .ok_or_else(|| missing("initialise the model"))?;
            let k = match kind {
                "word" => 0,
                "context" => 1,
                "sum" => 2,
                _ => {
                    return Err(Error::value(
                        "GloVe",
                        format!(
                            "unknown vector kind {kind:?} (expected 'word', 'context' or 'sum')"
                        ),
                    )
                    .into())
                }
            };
            let (v, d) = (model.vocab_size, model.dim);
            model.vectors(k).into_pyarray(py).reshape([v, d])
        })
    }

    /// The word and context biases.
    #[allow(clippy::type_complexity)]
    fn biases<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>)> {
        guard("GloVe.biases", || {
            let model = self
                .model
                .as_ref()
                .ok_or_else(|| missing("initialise the model"))?;
            let (a, c) = model.biases();
            Ok((a.into_pyarray(py), c.into_pyarray(py)))
        })
    }
}

impl PyGloveState {
    fn set_corpus(&mut self, corpus: Corpus) -> (Vec<String>, Vec<u64>) {
        let out = (corpus.vocab.clone(), corpus.counts.clone());
        self.corpus = Some(corpus);
        self.cooc = None;
        self.model = None;
        out
    }
}

/// Reads a GloVe text file: (words, `(n, dim)` vectors, found flags or None, duplicates).
#[pyfunction]
#[pyo3(signature = (path, vocabulary=None))]
#[allow(clippy::type_complexity)]
fn glove_read<'py>(
    py: Python<'py>,
    path: PathBuf,
    vocabulary: Option<Vec<String>>,
) -> PyResult<(
    Vec<String>,
    Bound<'py, PyArray2<f32>>,
    Option<Vec<bool>>,
    usize,
)> {
    guard("glove_read", || {
        let v = py.detach(|| glove_text::read_file(&path, vocabulary.as_deref()))?;
        let n = v.words.len();
        let arr = v.values.into_pyarray(py).reshape([n, v.dim])?;
        let found = vocabulary.map(|_| v.found);
        Ok((v.words, arr, found, v.duplicates))
    })
}

/// Writes words and their `(n, dim)` float32 vectors in the GloVe text format.
#[pyfunction]
fn glove_write(
    py: Python<'_>,
    path: PathBuf,
    words: Vec<String>,
    values: PyReadonlyArray2<'_, f32>,
) -> PyResult<()> {
    guard("glove_write", || {
        let dim = values.shape()[1];
        let data = values
            .as_slice()
            .map(|s| s.to_vec())
            .unwrap_or_else(|_| values.as_array().iter().copied().collect());
        Ok(py.detach(|| glove_text::write_file(&path, &words, &data, dim))?)
    })
}

/// The first `k` principal-component coordinates of the rows of an `(n, d)` float32 array, and
/// the variance each component explains.
#[pyfunction]
fn pca_project<'py>(
    py: Python<'py>,
    values: PyReadonlyArray2<'_, f32>,
    k: usize,
) -> PyResult<(Bound<'py, PyArray2<f32>>, Vec<f64>)> {
    guard("pca_project", || {
        let (n, d) = (values.shape()[0], values.shape()[1]);
        let data = values
            .as_slice()
            .map(|s| s.to_vec())
            .unwrap_or_else(|_| values.as_array().iter().copied().collect());
        let (proj, var) = py.detach(|| eigh::pca(&data, n, d, k))?;
        Ok((proj.into_pyarray(py).reshape([n, k])?, var))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGloveState>()?;
    m.add_function(wrap_pyfunction!(glove_read, m)?)?;
    m.add_function(wrap_pyfunction!(glove_write, m)?)?;
    m.add_function(wrap_pyfunction!(pca_project, m)?)?;
    Ok(())
}
