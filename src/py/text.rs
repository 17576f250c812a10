//! Bindings for text vectorization (`src/text/`): `TextPipeline`, `StringTable`, `IntTable`,
//! `StringCounter`, `IntCounter` and the encoders. Methods convert arguments, release the GIL
//! around the core call and map errors; Keras' policy (arguments, configs, special tokens,
//! vocabulary files, shapes) lives in `python/ferrograd/layers/lookup.py` and
//! `text_vectorization.py`.

use super::errors::guard;
use super::tensor::PyTensor;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::text::encode::{self, RowMode, Rows};
use crate::text::farmhash::{cross_hashed, CrossColumn};
use crate::text::vocab;
use crate::text::{Counter, IndexTable, LookupSpec, Pipeline, Split, Standardize};

/// Texts handed over from Python: a list of `str`, or a NumPy `str` array viewed as its UCS-4
/// code units (`(n, width)` uint32; each text ends at its first 0 or at `width`), decoded here in
/// parallel, which saves building a Python `str` per text.
pub(crate) enum Texts {
    List(Vec<PyBackedStr>),
    /// Decoded blocks of `per` texts: block `b` holds texts `b * per..`, concatenated, with
    /// their end offsets (one allocation per block, not per text).
    Decoded {
        per: usize,
        n: usize,
        blocks: Vec<(String, Vec<usize>)>,
    },
}

impl Texts {
    pub(crate) fn extract(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Self> {
        if let Ok(a) = obj.extract::<numpy::PyReadonlyArray2<'_, u32>>() {
            let (n, w) = (a.shape()[0], a.shape()[1]);
            let data = a.as_slice()?;
            let per = 2048;
            let decode = |b: usize| -> Result<(String, Vec<usize>)> {
                let mut text = String::new();
                let mut ends = Vec::with_capacity(per);
                for r in b * per..((b + 1) * per).min(n) {
                    let row = &data[r * w..(r + 1) * w];
                    // NumPy drops trailing NULs only: one inside a text is part of it
                    let row = &row[..row.iter().rposition(|&c| c != 0).map_or(0, |e| e + 1)];
                    if row.iter().fold(0, |a, &c| a | c) < 0x80 {
                        // SAFETY: ASCII bytes are valid UTF-8 on their own.
                        unsafe { text.as_mut_vec().extend(row.iter().map(|&c| c as u8)) };
                    } else {
                        for &c in row {
                            let ch = char::from_u32(c).ok_or_else(|| {
                                Error::value(
                                    op,
                                    format!("text {r} holds an invalid code point {c:#x}"),
                                )
                            })?;
                            text.push(ch);
                        }
                    }
                    ends.push(text.len());
                }
                Ok((text, ends))
            };
            let nb = n.div_ceil(per);
            let blocks: Result<Vec<_>> = if nb > 1 {
                crate::threading::install(|| {
                    use rayon::prelude::*;
                    (0..nb).into_par_iter().map(decode).collect()
                })
            } else {
                (0..nb).map(decode).collect()
            };
            return Ok(Texts::Decoded {
                per,
                n,
                blocks: blocks?,
            });
        }
        Ok(Texts::List(obj.extract()?))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Texts::List(v) => v.len(),
            Texts::Decoded { n, .. } => *n,
        }
    }

    pub(crate) fn get(&self, i: usize) -> &str {
        match self {
            Texts::List(v) => &v[i],
            Texts::Decoded { per, blocks, .. } => {
                let (text, ends) = &blocks[i / per];
                let j = i % per;
                let start = if j == 0 { 0 } else { ends[j - 1] };
                &text[start..ends[j]]
            }
        }
    }
}

/// A standardize/split/n-grams pipeline.
#[pyclass(name = "TextPipeline", module = "ferrograd._core", frozen)]
pub struct PyTextPipeline {
    pub(crate) inner: Pipeline,
}

#[pymethods]
impl PyTextPipeline {
    #[new]
    #[pyo3(signature = (standardize, split, ngrams))]
    fn new(standardize: Option<&str>, split: Option<&str>, ngrams: Vec<usize>) -> PyResult<Self> {
        guard("TextPipeline.__new__", || {
            let inner = Pipeline::new(
                Standardize::parse(standardize)?,
                Split::parse(split)?,
                ngrams,
            )?;
            Ok(PyTextPipeline { inner })
        })
    }

    /// Each text standardized (no split).
    fn standardize(&self, py: Python<'_>, texts: Vec<PyBackedStr>) -> PyResult<Vec<String>> {
        guard("TextPipeline.standardize", || {
            let mode = self.inner.standardize;
            Ok(py.detach(|| {
                texts
                    .iter()
                    .map(|t| crate::text::preprocess::standardize(t, mode))
                    .collect()
            }))
        })
    }

    /// The tokens of each text (standardized, split, n-grams).
    fn tokenize(&self, py: Python<'_>, texts: Vec<PyBackedStr>) -> PyResult<Vec<Vec<String>>> {
        guard("TextPipeline.tokenize", || {
            Ok(py.detach(|| texts.iter().map(|t| self.inner.tokens(t)).collect()))
        })
    }
}

/// Parses an encoding name of the non-int output modes.
fn tensor_of_rows(
    rows: Rows<'_>,
    mode: &str,
    depth: usize,
    idf: Option<&[f32]>,
    shape: &[usize],
) -> Result<Tensor> {
    match mode {
        "multi_hot" | "count" => {
            let m = if mode == "count" {
                RowMode::Count
            } else {
                RowMode::MultiHot
            };
            encode::into_tensor::<i64>(shape, |o| encode::encode_rows(rows, depth, m, o))
        }
        "tf_idf" => {
            let idf = idf.ok_or_else(|| {
                Error::value(
                    "IndexLookup",
                    "When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.",
                )
            })?;
            encode::into_tensor::<f32>(shape, |o| encode::encode_tf_idf(rows, depth, idf, o))
        }
        other => Err(Error::value(
            "IndexLookup",
            format!("unknown output mode {other:?} for row encoding"),
        )),
    }
}

/// `n_rows` equal rows over `len` ids.
fn uniform_offsets(len: usize, n_rows: usize) -> Result<Vec<usize>> {
    if n_rows == 0 {
        return if len == 0 {
            Ok(vec![0])
        } else {
            Err(Error::value("encode_ids", "ids given for zero rows"))
        };
    }
    if !len.is_multiple_of(n_rows) {
        return Err(Error::value(
            "encode_ids",
            format!("{len} ids do not split into {n_rows} equal rows"),
        ));
    }
    let w = len / n_rows;
    Ok((0..=n_rows).map(|r| r * w).collect())
}

/// Encodes integer ids: "one_hot" (one row per id) or "multi_hot"/"count"/"tf_idf" (one row per
/// `n_rows` equal slice); the result has `shape`.
#[pyfunction]
#[pyo3(signature = (ids, n_rows, mode, depth, shape, idf=None))]
fn text_encode_ids(
    py: Python<'_>,
    ids: PyReadonlyArray1<'_, i64>,
    n_rows: usize,
    mode: &str,
    depth: usize,
    shape: Vec<usize>,
    idf: Option<Vec<f32>>,
) -> PyResult<PyTensor> {
    guard("text_encode_ids", || {
        let ids = ids.as_slice()?;
        let t = py.detach(|| -> Result<Tensor> {
            if mode == "one_hot" {
                return encode::into_tensor::<i64>(&shape, |o| encode::one_hot(ids, depth, o));
            }
            let offsets = uniform_offsets(ids.len(), n_rows)?;
            let rows = Rows {
                ids,
                offsets: &offsets,
            };
            tensor_of_rows(rows, mode, depth, idf.as_deref(), &shape)
        })?;
        Ok(PyTensor::wrap(t))
    })
}

/// Keras' IDF weights and the OOV weight for the given document counts.
#[pyfunction]
fn text_idf_weights(doc_counts: Vec<u64>, num_documents: u64) -> PyResult<(Vec<f32>, f32)> {
    guard("text_idf_weights", || {
        Ok(vocab::idf_weights(&doc_counts, num_documents))
    })
}

/// FarmHash Fingerprint64 of `data` (TensorFlow's `to_hash_bucket_fast` hash).
#[pyfunction]
fn text_fingerprint64(data: &[u8]) -> PyResult<u64> {
    guard("text_fingerprint64", || {
        Ok(crate::text::farmhash::fingerprint64(data))
    })
}

/// Keras' `Hashing` bins of strings: `hash(value) % num_bins` with FarmHash Fingerprint64, or
/// SipHash-2-4 keyed by `salt` (TensorFlow's `to_hash_bucket_fast` / `_strong`).
#[pyfunction]
#[pyo3(signature = (values, num_bins, salt=None))]
fn text_hash_bins<'py>(
    py: Python<'py>,
    values: Vec<PyBackedStr>,
    num_bins: u64,
    salt: Option<(u64, u64)>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    guard("text_hash_bins", || {
        if num_bins == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "text_hash_bins: num_bins must be positive",
            ));
        }
        let out: Vec<i64> =
            py.detach(|| hash_all(values.iter().map(|v| v.as_bytes()), num_bins, salt));
        Ok(out.into_pyarray(py))
    })
}

/// `text_hash_bins` of integers, each hashed as its decimal string (TensorFlow's `as_string`).
#[pyfunction]
#[pyo3(signature = (values, num_bins, salt=None))]
fn text_hash_bins_int<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'_, i64>,
    num_bins: u64,
    salt: Option<(u64, u64)>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    guard("text_hash_bins_int", || {
        if num_bins == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "text_hash_bins_int: num_bins must be positive",
            ));
        }
        let v = values.as_slice()?;
        let out: Vec<i64> = py.detach(|| {
            let strings: Vec<String> = v.iter().map(|x| x.to_string()).collect();
            hash_all(strings.iter().map(|s| s.as_bytes()), num_bins, salt)
        });
        Ok(out.into_pyarray(py))
    })
}

fn hash_all<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    num_bins: u64,
    salt: Option<(u64, u64)>,
) -> Vec<i64> {
    values
        .map(|b| {
            let h = match salt {
                Some((k0, k1)) => crate::text::siphash::siphash24(k0, k1, b),
                None => crate::text::farmhash::fingerprint64(b),
            };
            (h % num_bins) as i64
        })
        .collect()
}

fn spec<K>(
    mask: Option<(K, i64)>,
    num_oov: usize,
    oov_start: i64,
    farmhash: bool,
) -> LookupSpec<K> {
    LookupSpec {
        mask,
        num_oov,
        oov_start,
        farmhash,
    }
}

/// A string vocabulary (StringLookup, TextVectorization).
#[pyclass(name = "StringTable", module = "ferrograd._core", frozen)]
pub struct PyStringTable {
    inner: IndexTable<String>,
}

#[pymethods]
impl PyStringTable {
    #[new]
    #[pyo3(signature = (tokens, mask_token, mask_value, num_oov, oov_start))]
    fn new(
        py: Python<'_>,
        tokens: Vec<String>,
        mask_token: Option<String>,
        mask_value: i64,
        num_oov: usize,
        oov_start: i64,
    ) -> PyResult<Self> {
        guard("StringTable.__new__", || {
            let s = spec(
                mask_token.map(|m| (m, mask_value)),
                num_oov,
                oov_start,
                true,
            );
            let inner = py.detach(|| IndexTable::new(tokens, s))?;
            Ok(PyStringTable { inner })
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guard("StringTable.__len__", || Ok(self.inner.tokens().len()))
    }

    fn tokens(&self) -> PyResult<Vec<String>> {
        guard("StringTable.tokens", || Ok(self.inner.tokens().to_vec()))
    }

    /// The ids of `values` (a flat list).
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        values: Vec<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        guard("StringTable.lookup", || {
            let ids = py.detach(|| self.inner.lookup(&values, |v| &**v))?;
            Ok(ids.into_pyarray(py))
        })
    }

    /// The tokens of `ids` (`invert=True`).
    fn invert(
        &self,
        py: Python<'_>,
        ids: PyReadonlyArray1<'_, i64>,
        mask_token: Option<String>,
        oov_token: String,
    ) -> PyResult<Vec<String>> {
        guard("StringTable.invert", || {
            let ids = ids.as_slice()?;
            Ok(py.detach(|| self.inner.invert(ids, mask_token.as_ref(), &oov_token)))
        })
    }

    /// TextVectorization's whole call on a batch of texts: tokens by `pipeline`, ids, then
    /// "int" rows padded with 0 to `width` (default: the longest row) or encoded rows.
    #[pyo3(signature = (pipeline, texts, mode, depth, width=None, idf=None))]
    #[allow(clippy::too_many_arguments)]
    fn vectorize(
        &self,
        py: Python<'_>,
        pipeline: &PyTextPipeline,
        texts: &Bound<'_, PyAny>,
        mode: &str,
        depth: usize,
        width: Option<usize>,
        idf: Option<Vec<f32>>,
    ) -> PyResult<PyTensor> {
        guard("StringTable.vectorize", || {
            let texts = Texts::extract(texts, "TextVectorization")?;
            let t = py.detach(|| -> Result<Tensor> {
                // ids per document straight from the borrowed tokens (no string per token)
                let doc_ids = |t: &str| {
                    let mut ids = Vec::new();
                    pipeline
                        .inner
                        .visit_tokens(t, &mut |tok| ids.push(self.inner.id(tok)));
                    ids
                };
                let per_doc: Vec<Vec<i64>> = if texts.len() >= 256 {
                    crate::threading::install(|| {
                        use rayon::prelude::*;
                        (0..texts.len())
                            .into_par_iter()
                            .map(|i| doc_ids(texts.get(i)))
                            .collect()
                    })
                } else {
                    (0..texts.len()).map(|i| doc_ids(texts.get(i))).collect()
                };
                let mut offsets = Vec::with_capacity(per_doc.len() + 1);
                offsets.push(0);
                let mut ids: Vec<i64> = Vec::with_capacity(per_doc.iter().map(Vec::len).sum());
                for d in &per_doc {
                    ids.extend_from_slice(d);
                    offsets.push(ids.len());
                }
                if ids.contains(&-1) {
                    // no OOV index: the table's lookup names the unknown tokens in its error
                    let mut toks = Vec::new();
                    for i in 0..texts.len() {
                        pipeline
                            .inner
                            .visit_tokens(texts.get(i), &mut |tok| toks.push(tok.to_string()));
                    }
                    self.inner.lookup(&toks, |s| s.as_str())?;
                }
                let rows = Rows {
                    ids: &ids,
                    offsets: &offsets,
                };
                let n = per_doc.len();
                if mode == "int" {
                    let w = width.unwrap_or_else(|| {
                        offsets.windows(2).map(|p| p[1] - p[0]).max().unwrap_or(0)
                    });
                    return encode::into_tensor::<i64>(&[n, w], |o| encode::pad_rows(rows, w, o));
                }
                tensor_of_rows(rows, mode, depth, idf.as_deref(), &[n, depth])
            })?;
            Ok(PyTensor::wrap(t))
        })
    }
}

/// An integer vocabulary (IntegerLookup).
#[pyclass(name = "IntTable", module = "ferrograd._core", frozen)]
pub struct PyIntTable {
    inner: IndexTable<i64>,
}

#[pymethods]
impl PyIntTable {
    #[new]
    #[pyo3(signature = (tokens, mask_token, mask_value, num_oov, oov_start, farmhash))]
    fn new(
        tokens: Vec<i64>,
        mask_token: Option<i64>,
        mask_value: i64,
        num_oov: usize,
        oov_start: i64,
        farmhash: bool,
    ) -> PyResult<Self> {
        guard("IntTable.__new__", || {
            let s = spec(
                mask_token.map(|m| (m, mask_value)),
                num_oov,
                oov_start,
                farmhash,
            );
            Ok(PyIntTable {
                inner: IndexTable::new(tokens, s)?,
            })
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guard("IntTable.__len__", || Ok(self.inner.tokens().len()))
    }

    fn tokens(&self) -> PyResult<Vec<i64>> {
        guard("IntTable.tokens", || Ok(self.inner.tokens().to_vec()))
    }

    fn lookup<'py>(
        &self,
        py: Python<'py>,
        values: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        guard("IntTable.lookup", || {
            let v = values.as_slice()?;
            let ids = py.detach(|| self.inner.lookup(v, |x| x))?;
            Ok(ids.into_pyarray(py))
        })
    }

    fn invert<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'_, i64>,
        mask_token: Option<i64>,
        oov_token: i64,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        guard("IntTable.invert", || {
            let ids = ids.as_slice()?;
            let out = py.detach(|| self.inner.invert(ids, mask_token.as_ref(), &oov_token));
            Ok(out.into_pyarray(py))
        })
    }
}

/// The token counts of a string `adapt`.
#[pyclass(name = "StringCounter", module = "ferrograd._core")]
pub struct PyStringCounter {
    inner: Counter<String>,
}

#[pymethods]
impl PyStringCounter {
    #[new]
    fn new(track_docs: bool) -> PyResult<Self> {
        guard("StringCounter.__new__", || {
            Ok(PyStringCounter {
                inner: Counter::new(track_docs),
            })
        })
    }

    /// Counts `n_rows` documents, equal slices of the flat `values`.
    fn update_rows(
        &mut self,
        py: Python<'_>,
        values: Vec<PyBackedStr>,
        n_rows: usize,
    ) -> PyResult<()> {
        guard("StringCounter.update_rows", || {
            let offsets = uniform_offsets(values.len(), n_rows)?;
            let inner = &mut self.inner;
            py.detach(|| {
                inner.add_docs_with(n_rows, |i, f| {
                    for v in &values[offsets[i]..offsets[i + 1]] {
                        f(v);
                    }
                })
            });
            Ok(())
        })
    }

    /// Counts each text as a document of the tokens `pipeline` makes of it, a block at a time.
    fn update_texts(
        &mut self,
        py: Python<'_>,
        pipeline: &PyTextPipeline,
        texts: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        guard("StringCounter.update_texts", || {
            let texts = Texts::extract(texts, "TextVectorization.adapt")?;
            let inner = &mut self.inner;
            let p = &pipeline.inner;
            // the texts are all in memory already: one pass, one map per worker
            py.detach(|| inner.add_docs_with(texts.len(), |i, f| p.visit_tokens(texts.get(i), f)));
            Ok(())
        })
    }

    /// The learned vocabulary and its document counts (see `Counter::finalize`).
    #[pyo3(signature = (exclude, max_learned=None))]
    fn finalize(
        &self,
        py: Python<'_>,
        exclude: Vec<String>,
        max_learned: Option<usize>,
    ) -> PyResult<(Vec<String>, Vec<u64>)> {
        guard("StringCounter.finalize", || {
            Ok(py.detach(|| self.inner.finalize(&exclude, max_learned)))
        })
    }

    /// `finalize` straight into the lookup table (arguments as `StringTable`), without a round
    /// trip of the vocabulary through Python: (table, document counts or None without
    /// `track_docs`).
    #[pyo3(signature = (exclude, max_learned, mask_token, mask_value, num_oov, oov_start))]
    #[allow(clippy::too_many_arguments)]
    fn finalize_table(
        &self,
        py: Python<'_>,
        exclude: Vec<String>,
        max_learned: Option<usize>,
        mask_token: Option<String>,
        mask_value: i64,
        num_oov: usize,
        oov_start: i64,
    ) -> PyResult<(PyStringTable, Option<Vec<u64>>)> {
        guard("StringCounter.finalize_table", || {
            let s = spec(
                mask_token.map(|m| (m, mask_value)),
                num_oov,
                oov_start,
                true,
            );
            let track = self.inner.track_docs();
            let (inner, docs) = py.detach(|| -> Result<_> {
                let (tokens, docs) = self.inner.finalize(&exclude, max_learned);
                Ok((IndexTable::new(tokens, s)?, docs))
            })?;
            Ok((PyStringTable { inner }, track.then_some(docs)))
        })
    }

    #[getter]
    fn num_documents(&self) -> PyResult<u64> {
        guard("StringCounter.num_documents", || {
            Ok(self.inner.num_documents())
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guard("StringCounter.__len__", || Ok(self.inner.len()))
    }

    fn reset(&mut self) -> PyResult<()> {
        guard("StringCounter.reset", || {
            self.inner.reset();
            Ok(())
        })
    }
}

/// The token counts of an integer `adapt`.
#[pyclass(name = "IntCounter", module = "ferrograd._core")]
pub struct PyIntCounter {
    inner: Counter<i64>,
}

#[pymethods]
impl PyIntCounter {
    #[new]
    fn new(track_docs: bool) -> PyResult<Self> {
        guard("IntCounter.__new__", || {
            Ok(PyIntCounter {
                inner: Counter::new(track_docs),
            })
        })
    }

    fn update_rows(
        &mut self,
        py: Python<'_>,
        values: PyReadonlyArray1<'_, i64>,
        n_rows: usize,
    ) -> PyResult<()> {
        guard("IntCounter.update_rows", || {
            let v = values.as_slice()?;
            let offsets = uniform_offsets(v.len(), n_rows)?;
            let inner = &mut self.inner;
            py.detach(|| {
                inner.add_docs_with(n_rows, |i, f| {
                    for x in &v[offsets[i]..offsets[i + 1]] {
                        f(x);
                    }
                })
            });
            Ok(())
        })
    }

    #[pyo3(signature = (exclude, max_learned=None))]
    fn finalize(
        &self,
        py: Python<'_>,
        exclude: Vec<i64>,
        max_learned: Option<usize>,
    ) -> PyResult<(Vec<i64>, Vec<u64>)> {
        guard("IntCounter.finalize", || {
            Ok(py.detach(|| self.inner.finalize(&exclude, max_learned)))
        })
    }

    #[getter]
    fn num_documents(&self) -> PyResult<u64> {
        guard("IntCounter.num_documents", || {
            Ok(self.inner.num_documents())
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guard("IntCounter.__len__", || Ok(self.inner.len()))
    }

    fn reset(&mut self) -> PyResult<()> {
        guard("IntCounter.reset", || {
            self.inner.reset();
            Ok(())
        })
    }
}

/// Registers the text classes and functions on `_core`.
/// Keras' `HashedCrossing` bins (TensorFlow's `cross_hashed`): each column is a list of strings
/// or an int64 array, all of the same length.
#[pyfunction]
fn text_cross_hashed<'py>(
    py: Python<'py>,
    columns: Vec<Bound<'py, PyAny>>,
    num_bins: u64,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    guard("text_cross_hashed", || {
        if num_bins == 0 {
            return Err(Error::value("HashedCrossing", "num_bins must be positive").into());
        }
        let mut strs: Vec<Vec<PyBackedStr>> = Vec::new();
        let mut ints: Vec<PyReadonlyArray1<'py, i64>> = Vec::new();
        let mut kinds = Vec::new();
        for c in &columns {
            if let Ok(a) = c.extract::<PyReadonlyArray1<'py, i64>>() {
                kinds.push((false, ints.len()));
                ints.push(a);
            } else {
                let s: Vec<PyBackedStr> = c.extract().map_err(|_| {
                    Error::dtype(
                        "HashedCrossing",
                        "each column must be a list of str or a 1-D int64 array",
                    )
                })?;
                kinds.push((true, strs.len()));
                strs.push(s);
            }
        }
        let slices: Vec<&[i64]> = ints
            .iter()
            .map(|a| a.as_slice())
            .collect::<std::result::Result<_, _>>()?;
        let n = kinds
            .first()
            .map_or(0, |&(s, i)| if s { strs[i].len() } else { slices[i].len() });
        let cols: Vec<CrossColumn<'_>> = kinds
            .iter()
            .map(|&(s, i)| {
                if s {
                    CrossColumn::Str(strs[i].iter().map(|v| v.as_bytes()).collect())
                } else {
                    CrossColumn::Int(slices[i])
                }
            })
            .collect();
        let lens: Vec<usize> = cols
            .iter()
            .map(|c| match c {
                CrossColumn::Str(v) => v.len(),
                CrossColumn::Int(v) => v.len(),
            })
            .collect();
        if lens.iter().any(|&l| l != n) {
            return Err(Error::shape(
                "HashedCrossing",
                format!("the columns have different lengths {lens:?}"),
            )
            .into());
        }
        let out = py.detach(|| cross_hashed(&cols, n, num_bins));
        Ok(out.into_pyarray(py))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTextPipeline>()?;
    m.add_class::<PyStringTable>()?;
    m.add_class::<PyIntTable>()?;
    m.add_class::<PyStringCounter>()?;
    m.add_class::<PyIntCounter>()?;
    m.add_function(wrap_pyfunction!(text_encode_ids, m)?)?;
    m.add_function(wrap_pyfunction!(text_idf_weights, m)?)?;
    m.add_function(wrap_pyfunction!(text_fingerprint64, m)?)?;
    m.add_function(wrap_pyfunction!(text_hash_bins, m)?)?;
    m.add_function(wrap_pyfunction!(text_hash_bins_int, m)?)?;
    m.add_function(wrap_pyfunction!(text_cross_hashed, m)?)?;
    Ok(())
}
