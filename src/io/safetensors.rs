//! safetensors reading and writing.
//!
//! Format: an 8-byte little-endian header length `n`, `n` bytes of JSON mapping each tensor name to
//! `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the end of the header)
//! plus an optional `"__metadata__"` map of strings, then the raw little-endian data.
//! Reading validates everything before trusting it: the header length against the file size, the
//! JSON, every dtype and shape, that `end - begin == numel * itemsize`, that the regions lie inside
//! the data section and do not overlap. Writing goes to a temporary file renamed into place, so a
//! crash never leaves a half-written file under the final name.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;

const OP: &str = "safetensors";
/// Headers above this size are rejected (a corrupt length would otherwise allocate gigabytes).
const MAX_HEADER: u64 = 100 << 20;

/// Named tensors in file order, and the string metadata.
pub type Contents = (Vec<(String, Tensor)>, BTreeMap<String, String>);

fn code(d: DType) -> &'static str {
    match d {
        DType::F32 => "F32",
        DType::F64 => "F64",
        DType::I32 => "I32",
        DType::I64 => "I64",
        DType::Bool => "BOOL",
    }
}

fn from_code(s: &str) -> Result<DType> {
    Ok(match s {
        "F32" => DType::F32,
        "F64" => DType::F64,
        "I32" => DType::I32,
        "I64" => DType::I64,
        "BOOL" => DType::Bool,
        _ => {
            return Err(Error::format(
                OP,
                format!("unsupported dtype '{s}' (expected F32, F64, I32, I64 or BOOL)"),
            ))
        }
    })
}

/// Serialises named tensors (and string metadata) into safetensors bytes.
pub fn to_bytes(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), json!(metadata));
    }
    let mut offset = 0usize;
    let mut blobs = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        if name == "__metadata__" || header.contains_key(name) {
            return Err(Error::value(
                OP,
                format!("duplicate or reserved tensor name '{name}'"),
            ));
        }
        let c = ops::contiguous_nograd(t)?;
        let n = c.numel() * c.dtype().size();
        // SAFETY: contiguous tensor of numel elements; bytes are read only.
        let bytes = unsafe { std::slice::from_raw_parts(c.data_byte_ptr() as *const u8, n) };
        header.insert(
            name.clone(),
            json!({"dtype": code(c.dtype()), "shape": c.shape(), "data_offsets": [offset, offset + n]}),
        );
        offset += n;
        blobs.push((c, n, bytes.as_ptr() as usize));
    }
    let mut h =
        serde_json::to_vec(&Value::Object(header)).map_err(|e| Error::value(OP, e.to_string()))?;
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + h.len() + offset);
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    for (_keep, n, ptr) in &blobs {
        // SAFETY: `_keep` holds the tensor alive; ptr/n describe its bytes.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(*ptr as *const u8, *n) });
    }
    Ok(out)
}

/// Parses safetensors bytes into (name, tensor) pairs in file order, plus the metadata.
pub fn from_bytes(buf: &[u8]) -> Result<Contents> {
    if buf.len() < 8 {
        return Err(Error::format(
            OP,
            format!(
                "file is truncated: {} bytes, the header length alone needs 8",
                buf.len()
            ),
        ));
    }
    let mut lenb = [0u8; 8];
    lenb.copy_from_slice(&buf[..8]);
    let hlen = u64::from_le_bytes(lenb);
    if hlen > MAX_HEADER || hlen > (buf.len() - 8) as u64 {
        return Err(Error::format(
            OP,
            format!(
                "header length {hlen} does not fit in a file of {} bytes (truncated or corrupt)",
                buf.len()
            ),
        ));
    }
    let hlen = hlen as usize;
    let header: Value = serde_json::from_slice(&buf[8..8 + hlen])
        .map_err(|e| Error::format(OP, format!("header is not valid JSON: {e}")))?;
    let Value::Object(map) = header else {
        return Err(Error::format(OP, "header must be a JSON object"));
    };
    let data = &buf[8 + hlen..];
    let mut meta = BTreeMap::new();
    let mut entries: Vec<(usize, usize, String, DType, Vec<usize>)> = Vec::new();
    for (name, v) in &map {
        if name == "__metadata__" {
            // A metadata value of another type was once skipped silently; the format only
            // allows a map of strings, and a reader that checks everything refuses the rest.
            let Value::Object(m) = v else {
                return Err(Error::format(
                    OP,
                    "__metadata__ must be a JSON object of strings",
                ));
            };
            for (k, val) in m {
                let s = val
                    .as_str()
                    .ok_or_else(|| Error::format(OP, format!("metadata '{k}' is not a string")))?;
                meta.insert(k.clone(), s.to_string());
            }
            continue;
        }
        let bad = |what: &str| Error::format(OP, format!("tensor '{name}': {what}"));
        let dt = from_code(
            v.get("dtype")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("missing dtype"))?,
        )?;
        let shape: Vec<usize> = v
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("missing shape"))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .map(|x| x as usize)
                    .ok_or_else(|| bad("shape entries must be non-negative integers"))
            })
            .collect::<Result<_>>()?;
        let offs = v
            .get("data_offsets")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("missing data_offsets"))?;
        if offs.len() != 2 {
            return Err(bad("data_offsets must be [begin, end]"));
        }
        let b = offs[0].as_u64().ok_or_else(|| bad("bad data_offsets"))? as usize;
        let e = offs[1].as_u64().ok_or_else(|| bad("bad data_offsets"))? as usize;
        let n = crate::shape::checked_numel(OP, &shape)?;
        if e < b || e > data.len() {
            return Err(bad(&format!(
                "data range [{b}, {e}) lies outside the {}-byte data section (truncated file?)",
                data.len()
            )));
        }
        if e - b != n * dt.size() {
            return Err(bad(&format!(
                "{} bytes stored for shape {shape:?} of {dt} ({} expected)",
                e - b,
                n * dt.size()
            )));
        }
        entries.push((b, e, name.clone(), dt, shape));
    }
    entries.sort();
    for w in entries.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(Error::format(
                OP,
                format!("tensors '{}' and '{}' overlap", w[0].2, w[1].2),
            ));
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for (b, e, name, dt, shape) in entries {
        let t = Tensor::empty(&shape, dt)?;
        if dt == DType::Bool && data[b..e].iter().any(|&x| x > 1) {
            return Err(Error::format(
                OP,
                format!("tensor '{name}': bool data holds values other than 0 and 1"),
            ));
        }
        // SAFETY: fresh buffer of exactly e - b bytes.
        unsafe { std::ptr::copy_nonoverlapping(data[b..e].as_ptr(), t.data_byte_ptr(), e - b) };
        out.push((name, t));
    }
    Ok((out, meta))
}

/// Writes a safetensors file atomically (temporary file in the same folder, then rename).
pub fn save(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes = to_bytes(tensors, metadata)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("weights"),
        std::process::id()
    ));
    let io = |e: std::io::Error| Error::io(OP, format!("{}: {e}", path.display()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// Reads a safetensors file.
pub fn load(path: &Path) -> Result<Contents> {
    let buf = std::fs::read(path).map_err(|e| Error::io(OP, format!("{}: {e}", path.display())))?;
    from_bytes(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        let b = Tensor::from_vec(vec![7i64, -1], &[2]).unwrap();
        let mut meta = BTreeMap::new();
        meta.insert("format".to_string(), "pt".to_string());
        let bytes = to_bytes(&[("a".into(), a), ("b".into(), b)], &meta).unwrap();
        let (ts, m) = from_bytes(&bytes).unwrap();
        assert_eq!(m.get("format").map(String::as_str), Some("pt"));
        assert_eq!(ts[0].0, "a");
        assert_eq!(
            ts[0].1.to_vec::<f32>().unwrap(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        assert_eq!(ts[1].1.to_vec::<i64>().unwrap(), vec![7, -1]);
        assert!(from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(from_bytes(&bytes[..5]).is_err());
        let mut huge = bytes.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(from_bytes(&huge).is_err());
    }

    /// Found by the `safetensors_parse` fuzz target: a `__metadata__` that is not an object
    /// was ignored instead of refused.
    #[test]
    fn metadata_must_be_an_object() {
        for header in [r#"{"__metadata__":"x"}"#, r#"{"__metadata__":[1]}   "#] {
            let mut buf = (header.len() as u64).to_le_bytes().to_vec();
            buf.extend_from_slice(header.as_bytes());
            let e = from_bytes(&buf).unwrap_err();
            assert!(e.to_string().contains("__metadata__"), "{e}");
        }
    }
}
