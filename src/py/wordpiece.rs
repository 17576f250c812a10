//! Bindings for the WordPiece tokenizer: `_core.WordPiece`. Methods convert arguments, release the
//! GIL around the core call and map errors; policy (keras_hub's argument names and defaults,
//! vocabulary files, input shapes, dtypes) lives in `python/ferrograd/hub/tokenizers.py`.

use super::errors::guard;

use numpy::{IntoPyArray, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyList;

use crate::tokenizer::basic::BasicOptions;
use crate::tokenizer::{WordPiece, WordPieceConfig};

/// A WordPiece vocabulary with its normalisation settings.
#[pyclass(name = "WordPiece", module = "ferrograd._core", frozen)]
pub struct PyWordPiece {
    inner: WordPiece,
    // One Python int per id, created once: a result list then costs an incref per token instead
    // of an int allocation (as CoreBPE).
    ints: Vec<Py<PyAny>>,
}

impl PyWordPiece {
    fn to_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, ids.iter().map(|&i| self.ints[i as usize].bind(py)))
    }
}

#[pymethods]
impl PyWordPiece {
    #[new]
    #[pyo3(signature = (vocabulary, lowercase, strip_accents, split, split_on_cjk,
                        suffix_indicator, oov_token, special_tokens_in_strings,
                        max_input_chars_per_word=100))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        vocabulary: Vec<String>,
        lowercase: bool,
        strip_accents: bool,
        split: bool,
        split_on_cjk: bool,
        suffix_indicator: String,
        oov_token: String,
        special_tokens_in_strings: Vec<String>,
        max_input_chars_per_word: usize,
    ) -> PyResult<Self> {
        guard("WordPiece.__new__", || {
            let cfg = WordPieceConfig {
                basic: BasicOptions {
                    lowercase,
                    strip_accents,
                    split,
                    split_on_cjk,
                },
                suffix_indicator,
                oov_token,
                max_input_chars_per_word,
                special_tokens_in_strings,
            };
            let inner = py.detach(|| WordPiece::new(vocabulary, cfg))?;
            let ints = (0..inner.len() as u64)
                .map(|i| Ok(i.into_pyobject(py)?.into_any().unbind()))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyWordPiece { inner, ints })
        })
    }

    fn encode<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        guard("WordPiece.encode", || {
            let ids = py.detach(|| self.inner.encode(text));
            self.to_list(py, &ids)
        })
    }

    /// The ids of each text (in parallel, GIL released).
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
    ) -> PyResult<Vec<Bound<'py, PyList>>> {
        guard("WordPiece.encode_batch", || {
            let batch = py.detach(|| {
                let refs: Vec<&str> = texts.iter().map(|t| &**t).collect();
                self.inner.encode_batch(&refs)
            });
            batch.iter().map(|ids| self.to_list(py, ids)).collect()
        })
    }

    /// An `(len(texts), sequence_length)` int32 array, truncated and padded with `pad_id`.
    fn encode_batch_padded<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        sequence_length: usize,
        pad_id: i32,
    ) -> PyResult<Bound<'py, PyArray2<i32>>> {
        guard("WordPiece.encode_batch_padded", || {
            let rows = texts.len();
            let flat = py.detach(|| {
                let refs: Vec<&str> = texts.iter().map(|t| &**t).collect();
                self.inner
                    .encode_batch_padded(&refs, sequence_length, pad_id)
            })?;
            flat.into_pyarray(py).reshape([rows, sequence_length])
        })
    }

    /// The words of the basic tokenizer (normalised and split, before sub-words).
    fn basic_tokenize(&self, py: Python<'_>, text: &str) -> PyResult<Vec<String>> {
        guard("WordPiece.basic_tokenize", || {
            Ok(py.detach(|| self.inner.basic_tokenize(text)))
        })
    }

    fn decode(&self, py: Python<'_>, ids: Vec<i64>) -> PyResult<String> {
        guard("WordPiece.decode", || {
            Ok(py.detach(|| self.inner.decode(&ids))?)
        })
    }

    fn decode_batch(&self, py: Python<'_>, batch: Vec<Vec<i64>>) -> PyResult<Vec<String>> {
        guard("WordPiece.decode_batch", || {
            Ok(py.detach(|| self.inner.decode_batch(&batch))?)
        })
    }

    fn id_to_token(&self, id: i64) -> PyResult<String> {
        guard("WordPiece.id_to_token", || {
            Ok(self.inner.id_to_token(id)?.to_string())
        })
    }

    /// The id of `token`, or None.
    fn token_to_id(&self, token: &str) -> PyResult<Option<u32>> {
        guard("WordPiece.token_to_id", || {
            Ok(self.inner.token_to_id(token))
        })
    }

    fn vocabulary_size(&self) -> PyResult<usize> {
        guard("WordPiece.vocabulary_size", || Ok(self.inner.len()))
    }

    fn get_vocabulary(&self) -> PyResult<Vec<String>> {
        guard("WordPiece.get_vocabulary", || {
            Ok(self.inner.tokens().to_vec())
        })
    }

    #[getter]
    fn unk_id(&self) -> PyResult<u32> {
        guard("WordPiece.unk_id", || Ok(self.inner.unk_id()))
    }
}

/// Registers `WordPiece` on `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWordPiece>()?;
    Ok(())
}
