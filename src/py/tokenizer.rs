//! Bindings for the BPE tokenizer: `CoreBPE` (an encoding) and `BPETrainer`. Methods convert
//! arguments, release the GIL around the core call and map errors; policy (special-token
//! arguments, surrogate repair, file-path handling) lives in `python/ferrograd/tokenizers.py`.

use super::errors::guard;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyDict, PyList};
use rustc_hash::FxHashSet;

use crate::error::Error;
use crate::tokenizer::encoder::Allowed;
use crate::tokenizer::tiktoken_file;
use crate::tokenizer::train::{self, PieceCounts, TrainConfig};
use crate::tokenizer::{Pretokenizer, Rank, Tokenizer, Vocab};

/// Unknown token ids raise KeyError, as in tiktoken.
fn decode_err(e: Error) -> PyErr {
    match e {
        Error::Index { .. } => PyKeyError::new_err(e.to_string()),
        other => other.into(),
    }
}

fn to_ranks(ids: &[i64]) -> PyResult<Vec<Rank>> {
    ids.iter()
        .map(|&i| {
            Rank::try_from(i).map_err(|_| {
                PyKeyError::new_err(format!(
                    "decode: unknown token id {i}: expected a non-negative id"
                ))
            })
        })
        .collect()
}

/// Which special tokens count: `all` wins, else the given set, else none.
fn allowed_from(all: bool, set: &Option<FxHashSet<String>>) -> Allowed<'_> {
    match (all, set) {
        (true, _) => Allowed::All,
        (false, Some(s)) if !s.is_empty() => Allowed::Some(s),
        _ => Allowed::None,
    }
}

fn to_fx(set: Option<HashSet<String>>) -> Option<FxHashSet<String>> {
    set.map(|s| s.into_iter().collect())
}

/// One encoding: vocabulary, pre-tokenizer and special tokens.
#[pyclass(name = "CoreBPE", module = "ferrograd._core", frozen)]
pub struct PyCoreBpe {
    inner: Arc<Tokenizer>,
    // One Python int per id, created once: building the result list then costs an incref per
    // token instead of an int allocation (measured: list conversion was ~30% of encode time).
    ints: Vec<Py<PyAny>>,
}

impl PyCoreBpe {
    fn wrap(py: Python<'_>, t: Tokenizer) -> PyResult<Self> {
        let ints = (0..t.n_vocab() as u64)
            .map(|i| Ok(i.into_pyobject(py)?.into_any().unbind()))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyCoreBpe {
            inner: Arc::new(t),
            ints,
        })
    }

    /// The ids as a Python list, reusing the cached int objects.
    fn to_list<'py>(&self, py: Python<'py>, ids: &[Rank]) -> PyResult<Bound<'py, PyList>> {
        let items = ids.iter().map(|&i| match self.ints.get(i as usize) {
            Some(o) => Ok(o.bind(py).clone()),
            None => Ok(i.into_pyobject(py)?.into_any()),
        });
        PyList::new(py, items.collect::<PyResult<Vec<_>>>()?)
    }
}

#[pymethods]
impl PyCoreBpe {
    /// Builds an encoding from `(token bytes, rank)` pairs.
    #[staticmethod]
    #[pyo3(signature = (name, ranks, pattern, special_tokens, fast=true))]
    fn from_ranks(
        py: Python<'_>,
        name: &str,
        ranks: Vec<(Vec<u8>, u64)>,
        pattern: &str,
        special_tokens: Vec<(String, Rank)>,
        fast: bool,
    ) -> PyResult<Self> {
        guard("CoreBPE.from_ranks", || {
            let t = py.detach(|| {
                let v = Vocab::from_ranked(ranks, "BPETokenizer")?;
                Tokenizer::new(name, v, pattern, fast, special_tokens)
            })?;
            PyCoreBpe::wrap(py, t)
        })
    }

    /// Reads a `.tiktoken` file.
    #[staticmethod]
    #[pyo3(signature = (path, name, pattern, special_tokens, fast=true))]
    fn from_tiktoken_file(
        py: Python<'_>,
        path: PathBuf,
        name: &str,
        pattern: &str,
        special_tokens: Vec<(String, Rank)>,
        fast: bool,
    ) -> PyResult<Self> {
        guard("CoreBPE.from_tiktoken_file", || {
            let t = py.detach(|| {
                let v = tiktoken_file::load_tiktoken(&path)?;
                Tokenizer::new(name, v, pattern, fast, special_tokens)
            })?;
            PyCoreBpe::wrap(py, t)
        })
    }

    /// Reads GPT-2's `encoder.json` and `vocab.bpe`.
    #[staticmethod]
    #[pyo3(signature = (encoder_json, vocab_bpe, name, pattern, special_tokens, fast=true))]
    fn from_gpt2_files(
        py: Python<'_>,
        encoder_json: PathBuf,
        vocab_bpe: PathBuf,
        name: &str,
        pattern: &str,
        special_tokens: Vec<(String, Rank)>,
        fast: bool,
    ) -> PyResult<Self> {
        guard("CoreBPE.from_gpt2_files", || {
            let t = py.detach(|| {
                let v = tiktoken_file::load_gpt2(&encoder_json, &vocab_bpe)?;
                Tokenizer::new(name, v, pattern, fast, special_tokens)
            })?;
            PyCoreBpe::wrap(py, t)
        })
    }

    fn encode_ordinary<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        guard("CoreBPE.encode_ordinary", || {
            let ids = py.detach(|| self.inner.encode_ordinary(text))?;
            self.to_list(py, &ids)
        })
    }

    #[pyo3(signature = (text, allowed_all, allowed=None))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        allowed_all: bool,
        allowed: Option<HashSet<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        guard("CoreBPE.encode", || {
            let set = to_fx(allowed);
            let ids = py.detach(|| self.inner.encode(text, &allowed_from(allowed_all, &set)))?;
            self.to_list(py, &ids)
        })
    }

    #[pyo3(signature = (text, allowed_all, allowed=None))]
    fn encode_to_numpy<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        allowed_all: bool,
        allowed: Option<HashSet<String>>,
    ) -> PyResult<Bound<'py, PyArray1<Rank>>> {
        guard("CoreBPE.encode_to_numpy", || {
            let set = to_fx(allowed);
            let v = py.detach(|| self.inner.encode(text, &allowed_from(allowed_all, &set)))?;
            Ok(v.into_pyarray(py))
        })
    }

    /// The first special token found in `text` among the disallowed ones, if any.
    #[pyo3(signature = (text, disallowed_all, disallowed=None))]
    fn find_disallowed(
        &self,
        py: Python<'_>,
        text: &str,
        disallowed_all: bool,
        disallowed: Option<HashSet<String>>,
    ) -> PyResult<Option<String>> {
        guard("CoreBPE.find_disallowed", || {
            let set = to_fx(disallowed);
            Ok(py.detach(|| {
                self.inner
                    .find_special(text, &allowed_from(disallowed_all, &set))
            }))
        })
    }

    fn encode_bytes<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        guard("CoreBPE.encode_bytes", || {
            let ids = py.detach(|| self.inner.encode_bytes(data))?;
            self.to_list(py, &ids)
        })
    }

    #[pyo3(signature = (texts, allowed_all, allowed=None))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        allowed_all: bool,
        allowed: Option<HashSet<String>>,
    ) -> PyResult<Vec<Bound<'py, PyList>>> {
        guard("CoreBPE.encode_batch", || {
            let set = to_fx(allowed);
            let batch = py.detach(|| {
                let refs: Vec<&str> = texts.iter().map(|t| &**t).collect();
                self.inner
                    .encode_batch(&refs, &allowed_from(allowed_all, &set))
            })?;
            batch.iter().map(|ids| self.to_list(py, ids)).collect()
        })
    }

    fn decode_bytes<'py>(&self, py: Python<'py>, ids: Vec<i64>) -> PyResult<Bound<'py, PyBytes>> {
        guard("CoreBPE.decode_bytes", || {
            let ids = to_ranks(&ids)?;
            let b = py
                .detach(|| self.inner.decode_bytes(&ids))
                .map_err(decode_err)?;
            Ok(PyBytes::new(py, &b))
        })
    }

    fn decode_bytes_batch<'py>(
        &self,
        py: Python<'py>,
        batch: Vec<Vec<i64>>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        guard("CoreBPE.decode_bytes_batch", || {
            let batch = batch
                .iter()
                .map(|ids| to_ranks(ids))
                .collect::<PyResult<Vec<_>>>()?;
            let out = py
                .detach(|| self.inner.decode_batch(&batch))
                .map_err(decode_err)?;
            Ok(out.iter().map(|b| PyBytes::new(py, b)).collect())
        })
    }

    fn decode_single_token_bytes<'py>(
        &self,
        py: Python<'py>,
        id: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard("CoreBPE.decode_single_token_bytes", || {
            let id = to_ranks(&[id])?[0];
            let b = self
                .inner
                .decode_single_token_bytes(id)
                .map_err(decode_err)?;
            Ok(PyBytes::new(py, &b))
        })
    }

    fn encode_single_token(&self, data: &[u8]) -> PyResult<Rank> {
        guard("CoreBPE.encode_single_token", || {
            self.inner
                .encode_single_token(data)
                .map_err(|e| PyKeyError::new_err(e.to_string()))
        })
    }

    fn token_byte_values<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        guard("CoreBPE.token_byte_values", || {
            Ok(self
                .inner
                .vocab()
                .tokens()
                .map(|t| PyBytes::new(py, t))
                .collect())
        })
    }

    /// `{token bytes: rank}` for the mergeable tokens.
    fn mergeable_ranks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard("CoreBPE.mergeable_ranks", || {
            let d = PyDict::new(py);
            for (r, t) in self.inner.vocab().tokens().enumerate() {
                d.set_item(PyBytes::new(py, t), r)?;
            }
            Ok(d)
        })
    }

    fn pretokenize(&self, py: Python<'_>, text: &str) -> PyResult<Vec<String>> {
        guard("CoreBPE.pretokenize", || {
            let pieces = py.detach(|| {
                self.inner
                    .pretokenizer()
                    .pieces(text)
                    .map(|v| v.into_iter().map(String::from).collect())
            })?;
            Ok(pieces)
        })
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        guard("CoreBPE.save", || {
            Ok(py.detach(|| tiktoken_file::save_tiktoken(self.inner.vocab(), &path))?)
        })
    }

    #[getter]
    fn name(&self) -> PyResult<String> {
        guard("CoreBPE.name", || Ok(self.inner.name().to_string()))
    }
    #[getter]
    fn pattern(&self) -> PyResult<String> {
        guard("CoreBPE.pattern", || {
            Ok(self.inner.pretokenizer().pattern().to_string())
        })
    }
    #[getter]
    fn is_fast(&self) -> PyResult<bool> {
        guard("CoreBPE.is_fast", || {
            Ok(self.inner.pretokenizer().is_fast())
        })
    }
    #[getter]
    fn n_vocab(&self) -> PyResult<usize> {
        guard("CoreBPE.n_vocab", || Ok(self.inner.n_vocab()))
    }
    #[getter]
    fn n_mergeable(&self) -> PyResult<usize> {
        guard("CoreBPE.n_mergeable", || Ok(self.inner.vocab().len()))
    }
    fn special_tokens(&self) -> PyResult<Vec<(String, Rank)>> {
        guard("CoreBPE.special_tokens", || {
            Ok(self
                .inner
                .special_tokens()
                .iter()
                .map(|(k, &v)| (k.clone(), v))
                .collect())
        })
    }
}

/// Accumulates piece counts from batches of text, then learns merges.
#[pyclass(name = "BPETrainer", module = "ferrograd._core", frozen)]
pub struct PyTrainer {
    pre: Pretokenizer,
    counts: Mutex<PieceCounts>,
}

#[pymethods]
impl PyTrainer {
    #[new]
    fn new(pattern: &str) -> PyResult<Self> {
        guard("BPETrainer.__new__", || {
            Ok(PyTrainer {
                pre: Pretokenizer::new(pattern, true)?,
                counts: Mutex::new(PieceCounts::new()),
            })
        })
    }

    /// Counts the pieces of a batch of texts (in parallel, GIL released).
    fn feed(&self, py: Python<'_>, texts: Vec<PyBackedStr>) -> PyResult<()> {
        guard("BPETrainer.feed", || {
            py.detach(|| {
                let refs: Vec<&str> = texts.iter().map(|t| &**t).collect();
                let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
                c.feed(&self.pre, &refs)
            })?;
            Ok(())
        })
    }

    #[getter]
    fn n_pieces(&self) -> PyResult<usize> {
        guard("BPETrainer.n_pieces", || {
            Ok(self.counts.lock().unwrap_or_else(|p| p.into_inner()).len())
        })
    }

    /// Learns merges; returns the token bytes in rank order. `progress(done, total)` is called
    /// with the GIL every 256 merges; an exception in it stops training and is re-raised.
    #[pyo3(signature = (n_mergeable, min_frequency, progress=None))]
    fn train<'py>(
        &self,
        py: Python<'py>,
        n_mergeable: usize,
        min_frequency: u64,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        guard("BPETrainer.train", || {
            let cfg = TrainConfig {
                n_mergeable,
                min_frequency,
            };
            let mut cb_err: Option<PyErr> = None;
            let tokens = py.detach(|| {
                let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
                let mut report = |done: usize, total: usize| -> bool {
                    match &progress {
                        None => true,
                        Some(cb) => Python::attach(|py| match cb.call1(py, (done, total)) {
                            Ok(_) => true,
                            Err(e) => {
                                cb_err = Some(e);
                                false
                            }
                        }),
                    }
                };
                train::train(&counts, &cfg, &mut report)
            })?;
            if let Some(e) = cb_err {
                return Err(e);
            }
            Ok(tokens.iter().map(|t| PyBytes::new(py, t)).collect())
        })
    }
}

/// The preset names and patterns: `[(name, pattern, [(special, id)], explicit_n_vocab)]`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn tokenizer_presets() -> PyResult<Vec<(String, String, Vec<(String, Rank)>, Option<usize>)>> {
    guard("tokenizer_presets", || {
        Ok(crate::tokenizer::Preset::ALL
            .iter()
            .map(|p| {
                (
                    p.name().to_string(),
                    p.pattern().to_string(),
                    p.special_tokens(),
                    p.explicit_n_vocab(),
                )
            })
            .collect())
    })
}

/// Registers the tokenizer classes and functions on `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCoreBpe>()?;
    m.add_class::<PyTrainer>()?;
    m.add_function(wrap_pyfunction!(tokenizer_presets, m)?)?;
    Ok(())
}
