//! Checks for the safetensors reader and writer (`crate::io::safetensors`).
//!
//! The `.keras` loading path reaches Rust only here: `saving.py` opens the zip with Python's
//! `zipfile` and hands the `model.weights.safetensors` member's bytes to `_core.safetensors_loads`,
//! i.e. [`from_bytes`]. So fuzzing `from_bytes` covers all of that path that is written in Rust.

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use serde_json::Value;

use crate::dtype::DType;
use crate::io::safetensors::{from_bytes, to_bytes};
use crate::tensor::Tensor;

/// The bytes of a contiguous tensor's elements, little-endian (bool as one byte 0 or 1).
pub fn tensor_bytes(t: &Tensor) -> Vec<u8> {
    match t.dtype() {
        DType::F32 => t
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::F64 => t
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::I32 => t
            .to_vec::<i32>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::I64 => t
            .to_vec::<i64>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Bool => t
            .to_vec::<bool>()
            .unwrap()
            .iter()
            .map(|&v| v as u8)
            .collect(),
    }
}

fn dtype_of(code: &str) -> Option<DType> {
    Some(match code {
        "F32" => DType::F32,
        "F64" => DType::F64,
        "I32" => DType::I32,
        "I64" => DType::I64,
        "BOOL" => DType::Bool,
        _ => return None,
    })
}

/// One tensor entry of a header, as an independent reading of the format sees it.
struct Entry {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

/// An independent judgement of a safetensors buffer, written from the format description in
/// `io/safetensors.rs` rather than from its code: `Some((entries, metadata, data offset))` when the
/// reader must accept the buffer, `None` when it must refuse it.
fn judge(buf: &[u8]) -> Option<(Vec<Entry>, BTreeMap<String, String>, usize)> {
    let hlen = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?);
    if hlen > 100 << 20 || hlen > (buf.len() - 8) as u64 {
        return None;
    }
    let start = 8 + hlen as usize;
    let Value::Object(map) = serde_json::from_slice(&buf[8..start]).ok()? else {
        return None;
    };
    let data_len = buf.len() - start;
    let mut meta = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, v) in &map {
        if name == "__metadata__" {
            for (k, s) in v.as_object()? {
                meta.insert(k.clone(), s.as_str()?.to_string());
            }
            continue;
        }
        let dtype = dtype_of(v.get("dtype")?.as_str()?)?;
        let shape: Vec<usize> = v
            .get("shape")?
            .as_array()?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()?;
        let numel = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?;
        if numel > isize::MAX as usize / 8 {
            return None;
        }
        let offs = v.get("data_offsets")?.as_array()?;
        let [b, e] = offs.as_slice() else {
            return None;
        };
        let (begin, end) = (b.as_u64()? as usize, e.as_u64()? as usize);
        if begin > end || end > data_len || end - begin != numel * dtype.size() {
            return None;
        }
        if dtype == DType::Bool && buf[start + begin..start + end].iter().any(|&x| x > 1) {
            return None;
        }
        entries.push(Entry {
            name: name.clone(),
            dtype,
            shape,
            begin,
            end,
        });
    }
    // Regions may touch but not overlap; a zero-length region may sit at the start of another
    // one (it is sorted first) but not strictly inside it.
    for (i, a) in entries.iter().enumerate() {
        for (j, b) in entries.iter().enumerate() {
            let a_first = (a.begin, a.end, &a.name) < (b.begin, b.end, &b.name);
            if i != j && a_first && b.begin < a.end {
                return None;
            }
        }
    }
    Some((entries, meta, start))
}

/// Any bytes: `from_bytes` never panics, accepts exactly the buffers the independent reading
/// accepts, returns each tensor's bytes from exactly its declared region, in region order, and
/// what it returns writes back to bytes that read back to the same tensors (a fixed point).
pub fn check_parse(data: &[u8]) {
    let got = from_bytes(data);
    let want = judge(data);
    let (tensors, meta) = match (got, want) {
        (Err(_), None) => return,
        (Ok(_), None) => panic!("from_bytes accepted a buffer the format forbids"),
        (Err(e), Some(_)) => panic!("from_bytes refused a valid buffer: {e}"),
        (Ok((tensors, meta)), Some((mut entries, want_meta, start))) => {
            assert_eq!(meta, want_meta, "metadata");
            entries.sort_by(|a, b| (a.begin, a.end, &a.name).cmp(&(b.begin, b.end, &b.name)));
            assert_eq!(tensors.len(), entries.len(), "tensor count");
            for ((name, t), e) in tensors.iter().zip(&entries) {
                assert_eq!(name, &e.name, "tensors out of region order");
                assert_eq!(t.dtype(), e.dtype, "{name}: dtype");
                assert_eq!(t.shape(), e.shape.as_slice(), "{name}: shape");
                assert!(t.is_contiguous(), "{name}: not contiguous");
                assert_eq!(
                    tensor_bytes(t),
                    &data[start + e.begin..start + e.end],
                    "{name}: bytes differ from its region"
                );
            }
            (tensors, meta)
        }
    };
    let again = to_bytes(&tensors, &meta).expect("a parsed file must write back");
    let (t2, m2) = from_bytes(&again).expect("a written file must read back");
    assert_eq!(m2, meta);
    assert_eq!(t2.len(), tensors.len());
    for ((n1, a), (n2, b)) in tensors.iter().zip(&t2) {
        assert_eq!((n1, a.dtype(), a.shape()), (n2, b.dtype(), b.shape()));
        assert_eq!(tensor_bytes(a), tensor_bytes(b), "{n1}: bytes changed");
    }
    assert_eq!(
        to_bytes(&t2, &m2).unwrap(),
        again,
        "writing is not a fixed point"
    );
}

fn small_string(u: &mut Unstructured) -> String {
    let s: String = u.arbitrary().unwrap_or_default();
    s.chars().take(12).collect()
}

/// One tensor built from fuzzer bytes: any dtype, rank 0-3, dims 0-4, any bit patterns (NaNs
/// included), sometimes a transposed (non-contiguous) view. Returns it and its expected bytes
/// in row-major order of its own shape.
fn arbitrary_tensor(u: &mut Unstructured) -> arbitrary::Result<(Tensor, Vec<u8>)> {
    let dtype = [DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool]
        [u.int_in_range(0..=4usize)?];
    let ndim = u.int_in_range(0..=3usize)?;
    let shape: Vec<usize> = (0..ndim)
        .map(|_| u.int_in_range(0..=4usize))
        .collect::<arbitrary::Result<_>>()?;
    let n: usize = shape.iter().product();
    let size = dtype.size();
    let mut raw = vec![0u8; n * size];
    u.fill_buffer(&mut raw)?;
    let chunk = |i: usize| &raw[i * size..(i + 1) * size];
    let t = match dtype {
        DType::F32 => Tensor::from_vec(
            (0..n)
                .map(|i| f32::from_le_bytes(chunk(i).try_into().unwrap()))
                .collect(),
            &shape,
        ),
        DType::F64 => Tensor::from_vec(
            (0..n)
                .map(|i| f64::from_le_bytes(chunk(i).try_into().unwrap()))
                .collect(),
            &shape,
        ),
        DType::I32 => Tensor::from_vec(
            (0..n)
                .map(|i| i32::from_le_bytes(chunk(i).try_into().unwrap()))
                .collect(),
            &shape,
        ),
        DType::I64 => Tensor::from_vec(
            (0..n)
                .map(|i| i64::from_le_bytes(chunk(i).try_into().unwrap()))
                .collect(),
            &shape,
        ),
        DType::Bool => {
            raw.iter_mut().for_each(|b| *b &= 1);
            Tensor::from_vec(raw.iter().map(|&b| b == 1).collect::<Vec<bool>>(), &shape)
        }
    }
    .expect("a tensor from matching data and shape");
    if ndim == 2 && u.arbitrary::<bool>()? {
        // The writer must store a view's elements in its own row-major order.
        let (r, c) = (shape[0], shape[1]);
        let view = crate::ops::transpose(&t, None).expect("transpose of a 2-D tensor");
        let mut want = Vec::with_capacity(raw.len());
        for j in 0..c {
            for i in 0..r {
                want.extend_from_slice(&raw[(i * c + j) * size..(i * c + j + 1) * size]);
            }
        }
        return Ok((view, want));
    }
    Ok((t, raw))
}

/// Structured: tensors of every dtype and rank, views, awkward names and metadata written with
/// `to_bytes` read back identically with `from_bytes`; writing fails exactly for duplicate or
/// reserved names.
pub fn check_roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut tensors = Vec::new();
    let mut expected = Vec::new();
    let n = u.int_in_range(0..=6usize).unwrap_or(0);
    for _ in 0..n {
        let name = match u.int_in_range(0..=7u8).unwrap_or(7) {
            0 => "__metadata__".to_string(),
            1 => "a".to_string(),
            2 => "layers/dense/vars/0".to_string(),
            _ => small_string(&mut u),
        };
        let Ok((t, bytes)) = arbitrary_tensor(&mut u) else {
            break;
        };
        expected.push(bytes);
        tensors.push((name, t));
    }
    let mut meta = BTreeMap::new();
    for _ in 0..u.int_in_range(0..=3usize).unwrap_or(0) {
        let k = small_string(&mut u);
        meta.insert(k, small_string(&mut u));
    }
    let mut names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    let bad_names = names.contains(&"__metadata__") || names.windows(2).any(|w| w[0] == w[1]);
    let bytes = match to_bytes(&tensors, &meta) {
        Ok(b) => b,
        Err(_) if bad_names => return,
        Err(e) => panic!("to_bytes refused valid tensors: {e}"),
    };
    assert!(
        !bad_names,
        "to_bytes accepted duplicate or reserved names {names:?}"
    );
    let hlen = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(hlen % 8, 0, "header not padded to 8 bytes");
    let total: usize = expected.iter().map(Vec::len).sum();
    assert_eq!(bytes.len(), 8 + hlen + total, "data section size");
    let (back, m2) = from_bytes(&bytes).expect("a written file must read back");
    assert_eq!(m2, meta);
    assert_eq!(back.len(), tensors.len());
    // Tensors come back in region order, which is the written order except among empty
    // tensors sharing an offset; so match them by name.
    let by_name: BTreeMap<&str, &Tensor> = back.iter().map(|(n, t)| (n.as_str(), t)).collect();
    for ((name, t), want) in tensors.iter().zip(&expected) {
        let got = by_name
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} lost"));
        assert_eq!(got.dtype(), t.dtype(), "{name}: dtype");
        assert_eq!(got.shape(), t.shape(), "{name}: shape");
        assert_eq!(&tensor_bytes(got), want, "{name}: bytes");
    }
    let order = |ts: &[(String, Tensor)]| -> Vec<String> {
        ts.iter()
            .filter(|(_, t)| t.numel() > 0)
            .map(|(n, _)| n.clone())
            .collect()
    };
    assert_eq!(order(&back), order(&tensors), "order of non-empty tensors");
    check_parse(&bytes);
}
