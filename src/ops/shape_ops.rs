//! Shape ops: reshape, transpose, expand_dims, squeeze, broadcast_to, basic indexing (views),
//! concatenate, stack, split, tile, repeat, pad, flip.

use crate::autograd::{Op, ViewMap};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::shape::{checked_numel, normalize_axes, normalize_axis};
use crate::tensor::Tensor;

use super::{assign, cast, contiguous_nograd, finish, full, take};

/// Resolves one `-1` in a requested shape.
pub fn resolve_shape(op: &str, numel: usize, shape: &[isize]) -> Result<Vec<usize>> {
    let mut unknown = None;
    let mut known = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        if d == -1 {
            if unknown.is_some() {
                return Err(Error::value(
                    op,
                    format!("can only specify one unknown dimension (-1), got {shape:?}"),
                ));
            }
            unknown = Some(i);
        } else if d < 0 {
            return Err(Error::value(
                op,
                format!("invalid dimension {d} in shape {shape:?}"),
            ));
        } else {
            known = known
                .checked_mul(d as usize)
                .ok_or_else(|| Error::value(op, format!("shape {shape:?} overflows")))?;
        }
    }
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(i) = unknown {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(Error::shape(
                op,
                format!("cannot reshape a tensor of {numel} elements into shape {shape:?}"),
            ));
        }
        out[i] = numel / known;
    } else if known != numel {
        return Err(Error::shape(
            op,
            format!("cannot reshape a tensor of {numel} elements into shape {shape:?}"),
        ));
    }
    Ok(out)
}

/// Reshape (a view when the strides allow, else a copy).
pub fn reshape(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if checked_numel("reshape", shape)? != x.numel() {
        return Err(Error::shape(
            "reshape",
            format!(
                "cannot reshape a tensor of shape {:?} ({} elements) into shape {shape:?}",
                x.shape(),
                x.numel()
            ),
        ));
    }
    if x.shape() == shape {
        return Ok(x.clone());
    }
    let view = match x.layout().reshape_view(shape) {
        Some(l) => x.with_layout(l)?,
        None => {
            let c = contiguous_nograd(x)?;
            c.with_layout(Layout {
                shape: shape.to_vec(),
                strides: crate::shape::contiguous_strides(shape),
                offset: c.offset(),
            })?
        }
    };
    Ok(finish(view, Op::Reshape, &[x], vec![]))
}

/// Reorders axes (`perm[i]` is the input axis that becomes axis i).
pub fn permute(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let l = x.layout().permute(perm)?;
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(x.clone());
    }
    Ok(finish(
        x.with_layout(l)?,
        Op::Permute {
            perm: perm.to_vec(),
        },
        &[x],
        vec![],
    ))
}

/// Transposes with `axes` (reverses the axes when None).
pub fn transpose(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let nd = x.ndim();
    let perm: Vec<usize> = match axes {
        None => (0..nd).rev().collect(),
        Some(a) => {
            if a.len() != nd {
                return Err(Error::value(
                    "transpose",
                    format!("axes {a:?} do not match a tensor of rank {nd}"),
                ));
            }
            a.iter()
                .map(|&v| normalize_axis("transpose", v, nd))
                .collect::<Result<_>>()?
        }
    };
    permute(x, &perm)
}

/// Swaps two axes.
pub fn swapaxes(x: &Tensor, a: isize, b: isize) -> Result<Tensor> {
    let nd = x.ndim();
    let (a, b) = (
        normalize_axis("swapaxes", a, nd)?,
        normalize_axis("swapaxes", b, nd)?,
    );
    let mut perm: Vec<usize> = (0..nd).collect();
    perm.swap(a, b);
    permute(x, &perm)
}

/// Moves axis `src` to position `dst`.
pub fn moveaxis(x: &Tensor, src: isize, dst: isize) -> Result<Tensor> {
    let nd = x.ndim();
    let (s, d) = (
        normalize_axis("moveaxis", src, nd)?,
        normalize_axis("moveaxis", dst, nd)?,
    );
    let mut perm: Vec<usize> = (0..nd).filter(|&i| i != s).collect();
    perm.insert(d, s);
    permute(x, &perm)
}

/// Inserts a size-1 axis at `axis` (in the output's numbering).
pub fn expand_dims(x: &Tensor, axis: isize) -> Result<Tensor> {
    let a = normalize_axis("expand_dims", axis, x.ndim() + 1)?;
    let l = x.layout().expand_dims(a);
    Ok(finish(x.with_layout(l)?, Op::Reshape, &[x], vec![]))
}

/// Removes size-1 axes (all of them when `axes` is None).
pub fn squeeze(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let axes: Vec<usize> = match axes {
        None => (0..x.ndim()).filter(|&d| x.shape()[d] == 1).collect(),
        Some(a) => normalize_axes("squeeze", Some(a), x.ndim())?,
    };
    let l = x.layout().squeeze(&axes)?;
    Ok(finish(x.with_layout(l)?, Op::Reshape, &[x], vec![]))
}

/// Broadcasts to `shape` (a view with zero strides).
pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.shape() == shape {
        return Ok(x.clone());
    }
    let l = x.layout().broadcast_to(shape)?;
    Ok(finish(x.with_layout(l)?, Op::BroadcastTo, &[x], vec![]))
}

/// One item of a basic (view-producing) or integer-array index.
#[derive(Clone, Debug)]
pub enum IndexItem {
    Int(isize),
    Slice {
        start: Option<isize>,
        stop: Option<isize>,
        step: isize,
    },
    NewAxis,
    Ellipsis,
    Array(Tensor),
}

/// Python's `slice.indices` + length: (start, len) for a dimension of size `dim`.
pub fn slice_bounds(
    dim: usize,
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
) -> Result<(usize, usize)> {
    if step == 0 {
        return Err(Error::value("index", "slice step cannot be zero"));
    }
    let n = dim as isize;
    let clamp = |v: isize, lo: isize, hi: isize| v.max(lo).min(hi);
    let norm = |v: isize| if v < 0 { v + n } else { v };
    if step > 0 {
        let s = clamp(start.map(norm).unwrap_or(0), 0, n);
        let e = clamp(stop.map(norm).unwrap_or(n), 0, n);
        // `(e - s - 1) / step + 1` rather than `(e - s + step - 1) / step`: no overflow for a
        // step near isize::MAX.
        let len = if e > s { (e - s - 1) / step + 1 } else { 0 };
        Ok((s as usize, len as usize))
    } else {
        let s = clamp(start.map(norm).unwrap_or(n - 1), -1, n - 1);
        let e = clamp(stop.map(norm).unwrap_or(-1), -1, n - 1);
        // Divides by the magnitude without negating (isize::MIN has no positive twin).
        let len = if s > e {
            ((s - e - 1) as usize / step.unsigned_abs() + 1) as isize
        } else {
            0
        };
        Ok((if len > 0 { s as usize } else { 0 }, len as usize))
    }
}

/// A recorded view of `x` described by `map` (whose layout the caller computed).
fn view(x: &Tensor, layout: Layout, map: ViewMap) -> Result<Tensor> {
    Ok(finish(x.with_layout(layout)?, Op::View(map), &[x], vec![]))
}

/// NumPy-style indexing: ints, slices, None, Ellipsis and at most one integer array.
pub fn index(x: &Tensor, items: &[IndexItem]) -> Result<Tensor> {
    let (v, array) = index_view(x, items)?;
    match array {
        None => Ok(v),
        Some((axis, idx)) => take(&v, &idx, Some(axis as isize)),
    }
}

/// Writes `value` (broadcast) into `x[items]` in place (no recording).
pub fn index_assign(x: &Tensor, items: &[IndexItem], value: &Tensor) -> Result<()> {
    let (v, array) = index_view(x, items)?;
    let Some((axis, idx)) = array else {
        return assign(&v, value);
    };
    if idx.ndim() != 1 {
        return Err(Error::index(
            "index",
            format!(
                "assignment through an index array needs a 1-D array, got shape {:?}",
                idx.shape()
            ),
        ));
    }
    let dim = v.shape()[axis];
    let ids = super::cast_nograd(&idx, DType::I64)?.to_vec::<i64>()?;
    let mut target = v.shape().to_vec();
    target[axis] = ids.len();
    let val = value.with_layout(value.layout().broadcast_to(&target).map_err(|_| {
        Error::shape(
            "index",
            format!(
                "cannot assign a value of shape {:?} to an indexed selection of shape {target:?}",
                value.shape()
            ),
        )
    })?)?;
    for (k, &i) in ids.iter().enumerate() {
        let j = if i < 0 { i + dim as i64 } else { i };
        if j < 0 || j >= dim as i64 {
            return Err(Error::index(
                "index",
                format!("index {i} is out of bounds for axis {axis} with size {dim}"),
            ));
        }
        let dst = v.with_layout(v.layout().select(axis, j as usize))?;
        let src = val.with_layout(val.layout().select(axis, k))?;
        assign(&dst, &src)?;
    }
    Ok(())
}

/// The view part of an index and, when present, the integer array and the view axis it indexes.
fn index_view(x: &Tensor, items: &[IndexItem]) -> Result<(Tensor, Option<(usize, Tensor)>)> {
    let nd = x.ndim();
    let consumed = items
        .iter()
        .filter(|i| !matches!(i, IndexItem::NewAxis | IndexItem::Ellipsis))
        .count();
    let n_ellipsis = items
        .iter()
        .filter(|i| matches!(i, IndexItem::Ellipsis))
        .count();
    if n_ellipsis > 1 {
        return Err(Error::index(
            "index",
            "an index can only have a single ellipsis ('...')",
        ));
    }
    if consumed > nd {
        return Err(Error::index(
            "index",
            format!("too many indices for tensor: tensor is {nd}-dimensional, but {consumed} were indexed"),
        ));
    }
    if items
        .iter()
        .filter(|i| matches!(i, IndexItem::Array(_)))
        .count()
        > 1
    {
        return Err(Error::index(
            "index",
            "only one integer-array index per indexing expression is supported; index in two steps",
        ));
    }
    let mut layout = Layout {
        shape: vec![],
        strides: vec![],
        offset: x.offset(),
    };
    let mut map = ViewMap {
        base: vec![0; nd],
        dims: vec![],
    };
    let mut offset = x.offset() as isize;
    let mut d = 0usize; // input axis
    let mut array: Option<(usize, Tensor)> = None; // (output axis, indices)
    for item in items {
        match item {
            IndexItem::Ellipsis => {
                for _ in 0..(nd - consumed) {
                    layout.shape.push(x.shape()[d]);
                    layout.strides.push(x.strides()[d]);
                    map.dims.push(Some((d, 1)));
                    d += 1;
                }
            }
            IndexItem::NewAxis => {
                layout.shape.push(1);
                layout.strides.push(0);
                map.dims.push(None);
            }
            IndexItem::Int(i) => {
                let n = x.shape()[d] as isize;
                let j = if *i < 0 { i + n } else { *i };
                if j < 0 || j >= n {
                    return Err(Error::index(
                        "index",
                        format!("index {i} is out of bounds for axis {d} with size {n}"),
                    ));
                }
                offset += j * x.strides()[d];
                map.base[d] = j as usize;
                d += 1;
            }
            IndexItem::Slice { start, stop, step } => {
                let (s, len) = slice_bounds(x.shape()[d], *start, *stop, *step)?;
                offset += s as isize * x.strides()[d];
                map.base[d] = s;
                layout.shape.push(len);
                layout.strides.push(x.strides()[d] * step);
                map.dims.push(Some((d, *step)));
                d += 1;
            }
            IndexItem::Array(t) => {
                array = Some((layout.shape.len(), t.clone()));
                layout.shape.push(x.shape()[d]);
                layout.strides.push(x.strides()[d]);
                map.dims.push(Some((d, 1)));
                d += 1;
            }
        }
    }
    while d < nd {
        layout.shape.push(x.shape()[d]);
        layout.strides.push(x.strides()[d]);
        map.dims.push(Some((d, 1)));
        d += 1;
    }
    let empty = layout.shape.contains(&0);
    layout.offset = if empty { x.offset() } else { offset as usize };
    let is_identity = layout == *x.layout();
    let v = if is_identity {
        x.clone()
    } else {
        view(x, layout, map)?
    };
    Ok((v, array))
}

/// `x[start:stop:step]` along one axis.
pub fn slice_axis(
    x: &Tensor,
    axis: isize,
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
) -> Result<Tensor> {
    let a = normalize_axis("slice", axis, x.ndim())?;
    let mut items = vec![
        IndexItem::Slice {
            start: None,
            stop: None,
            step: 1
        };
        a
    ];
    items.push(IndexItem::Slice { start, stop, step });
    index(x, &items)
}

/// Gradient of a view: scatter `g` into zeros of the input's shape.
pub(crate) fn view_backward(
    map: &ViewMap,
    in_shape: &[usize],
    dtype: DType,
    g: &Tensor,
) -> Result<Tensor> {
    let z = full(in_shape, 0.0, dtype)?;
    let cs = z.strides().to_vec();
    let mut offset = 0isize;
    for (d, &b) in map.base.iter().enumerate() {
        offset += b as isize * cs[d];
    }
    let strides: Vec<isize> = map
        .dims
        .iter()
        .map(|m| m.map(|(d, step)| cs[d] * step).unwrap_or(0))
        .collect();
    let empty = g.shape().contains(&0);
    let target = z.with_layout(Layout {
        shape: g.shape().to_vec(),
        strides,
        offset: if empty { 0 } else { offset as usize },
    })?;
    assign(&target, g)?;
    Ok(z)
}

/// Reverses the order of elements along `axes` (all when None). A view.
pub fn flip(x: &Tensor, axes: Option<&[isize]>) -> Result<Tensor> {
    let axes = normalize_axes("flip", axes, x.ndim())?;
    let items: Vec<IndexItem> = (0..x.ndim())
        .map(|d| IndexItem::Slice {
            start: None,
            stop: None,
            step: if axes.contains(&d) { -1 } else { 1 },
        })
        .collect();
    index(x, &items)
}

/// Joins tensors along an existing axis.
pub fn concatenate(xs: &[Tensor], axis: isize) -> Result<Tensor> {
    let Some(first) = xs.first() else {
        return Err(Error::value(
            "concatenate",
            "need at least one tensor to concatenate",
        ));
    };
    let nd = first.ndim();
    if nd == 0 {
        return Err(Error::value(
            "concatenate",
            "zero-dimensional tensors cannot be concatenated",
        ));
    }
    let a = normalize_axis("concatenate", axis, nd)?;
    let mut dt = first.dtype();
    let mut total = 0usize;
    for (i, t) in xs.iter().enumerate() {
        if t.ndim() != nd {
            return Err(Error::shape(
                "concatenate",
                format!("all inputs must have the same rank; input 0 has shape {:?} and input {i} has shape {:?}", first.shape(), t.shape()),
            ));
        }
        for d in 0..nd {
            if d != a && t.shape()[d] != first.shape()[d] {
                return Err(Error::shape(
                    "concatenate",
                    format!(
                        "input shapes must match except along axis {a}; input 0 has shape {:?} and input {i} has shape {:?}",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
        }
        dt = DType::promote(dt, t.dtype());
        total += t.shape()[a];
    }
    let xs: Vec<Tensor> = xs.iter().map(|t| cast(t, dt)).collect::<Result<_>>()?;
    let mut shape = first.shape().to_vec();
    shape[a] = total;
    let out = Tensor::empty(&shape, dt)?;
    let mut start = 0usize;
    {
        let _g = crate::autograd::NoGradGuard::new();
        for t in &xs {
            let len = t.shape()[a];
            let l = out.layout().slice(a, start, len, 1);
            assign(&out.with_layout(l)?, t)?;
            start += len;
        }
    }
    let refs: Vec<&Tensor> = xs.iter().collect();
    Ok(finish(out, Op::Concat { axis: a }, &refs, vec![]))
}

/// Joins tensors along a new axis.
pub fn stack(xs: &[Tensor], axis: isize) -> Result<Tensor> {
    let Some(first) = xs.first() else {
        return Err(Error::value("stack", "need at least one tensor to stack"));
    };
    for (i, t) in xs.iter().enumerate() {
        if t.shape() != first.shape() {
            return Err(Error::shape(
                "stack",
                format!("all inputs must have the same shape; input 0 has shape {:?} and input {i} has shape {:?}", first.shape(), t.shape()),
            ));
        }
    }
    let a = normalize_axis("stack", axis, first.ndim() + 1)? as isize;
    let ex: Vec<Tensor> = xs
        .iter()
        .map(|t| expand_dims(t, a))
        .collect::<Result<_>>()?;
    concatenate(&ex, a)
}

/// How `split` divides an axis.
pub enum SplitSpec {
    Sections(usize),
    Indices(Vec<isize>),
}

/// Splits along `axis` into equal sections or at the given indices (views).
pub fn split(x: &Tensor, spec: &SplitSpec, axis: isize) -> Result<Vec<Tensor>> {
    let a = normalize_axis("split", axis, x.ndim())?;
    let n = x.shape()[a];
    let bounds: Vec<(usize, usize)> = match spec {
        SplitSpec::Sections(k) => {
            if *k == 0 || !n.is_multiple_of(*k) {
                return Err(Error::value(
                    "split",
                    format!("an axis of size {n} cannot be split into {k} equal sections"),
                ));
            }
            let w = n / k;
            (0..*k).map(|i| (i * w, (i + 1) * w)).collect()
        }
        SplitSpec::Indices(idx) => {
            let mut cuts = vec![0usize];
            for &i in idx {
                let j = if i < 0 {
                    (i + n as isize).max(0) as usize
                } else {
                    (i as usize).min(n)
                };
                cuts.push(j.max(*cuts.last().unwrap_or(&0)));
            }
            cuts.push(n);
            cuts.windows(2).map(|w| (w[0], w[1].max(w[0]))).collect()
        }
    };
    bounds
        .into_iter()
        .map(|(s, e)| slice_axis(x, a as isize, Some(s as isize), Some(e as isize), 1))
        .collect()
}

/// Repeats the whole tensor `reps` times along each axis (NumPy's tile).
pub fn tile(x: &Tensor, reps: &[usize]) -> Result<Tensor> {
    let nd = x.ndim().max(reps.len());
    let mut xs: Vec<usize> = vec![1; nd - x.ndim()];
    xs.extend_from_slice(x.shape());
    let mut rs: Vec<usize> = vec![1; nd - reps.len()];
    rs.extend_from_slice(reps);
    let mut inter = Vec::with_capacity(2 * nd);
    let mut big = Vec::with_capacity(2 * nd);
    let mut fin = Vec::with_capacity(nd);
    for d in 0..nd {
        inter.extend_from_slice(&[1, xs[d]]);
        big.extend_from_slice(&[rs[d], xs[d]]);
        fin.push(
            rs[d]
                .checked_mul(xs[d])
                .ok_or_else(|| too_big("tile", &big))?,
        );
    }
    let v = reshape(x, &inter)?;
    let b = broadcast_to(&v, &big)?;
    reshape(&b, &fin)
}

/// Repeats each element along `axis` (flattened when None); `repeats` is one count or one per element.
pub fn repeat(x: &Tensor, repeats: &[usize], axis: Option<isize>) -> Result<Tensor> {
    let (x, a) = match axis {
        None => (reshape(x, &[x.numel()])?, 0usize),
        Some(ax) => (x.clone(), normalize_axis("repeat", ax, x.ndim())?),
    };
    let n = x.shape()[a];
    if repeats.len() == 1 {
        let r = repeats[0];
        let mut inter = x.shape().to_vec();
        inter.insert(a + 1, 1);
        let mut big = inter.clone();
        big[a + 1] = r;
        let mut fin = x.shape().to_vec();
        fin[a] = n.checked_mul(r).ok_or_else(|| too_big("repeat", &big))?;
        let v = reshape(&x, &inter)?;
        return reshape(&broadcast_to(&v, &big)?, &fin);
    }
    if repeats.len() != n {
        return Err(Error::value(
            "repeat",
            format!(
                "repeats has {} entries but axis {a} has size {n}",
                repeats.len()
            ),
        ));
    }
    let total = repeats
        .iter()
        .try_fold(0usize, |acc, &r| acc.checked_add(r))
        .ok_or_else(|| {
            Error::value(
                "repeat",
                format!("the repeats sum to more than {} elements", usize::MAX),
            )
        })?;
    let mut target = x.shape().to_vec();
    target[a] = total;
    checked_numel("repeat", &target)?;
    let mut idx = crate::alloc::try_vec("repeat", total)?;
    for (i, &r) in repeats.iter().enumerate() {
        idx.extend(std::iter::repeat_n(i as i64, r));
    }
    let len = idx.len();
    take(&x, &Tensor::from_vec(idx, &[len])?, Some(a as isize))
}

/// The error for a tile/repeat result whose size overflows.
fn too_big(op: &str, shape: &[usize]) -> Error {
    Error::value(
        op,
        format!("the result of shape {shape:?} has too many elements"),
    )
}

/// The error for pad widths whose padded shape overflows.
fn pad_too_big(x: &Tensor, widths: &[(usize, usize)]) -> Error {
    Error::value(
        "pad",
        format!(
            "pad widths {widths:?} on a tensor of shape {:?} give a shape with too many elements",
            x.shape()
        ),
    )
}

/// Padding modes of [`pad`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    Constant,
    Reflect,
    Symmetric,
    Edge,
}

/// Pads each axis with `(before, after)` elements.
pub fn pad(x: &Tensor, widths: &[(usize, usize)], mode: PadMode, value: f64) -> Result<Tensor> {
    if widths.len() != x.ndim() {
        return Err(Error::value(
            "pad",
            format!(
                "expected {} (before, after) pairs for a tensor of shape {:?}, got {}",
                x.ndim(),
                x.shape(),
                widths.len()
            ),
        ));
    }
    if mode == PadMode::Constant {
        let shape: Vec<usize> = x
            .shape()
            .iter()
            .zip(widths)
            .map(|(&d, &(b, a))| d.checked_add(b)?.checked_add(a))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| pad_too_big(x, widths))?;
        let out = full(&shape, value, x.dtype())?;
        let mut l = out.layout().clone();
        for (d, &(b, _)) in widths.iter().enumerate() {
            l = l.slice(d, b, x.shape()[d], 1);
        }
        {
            let _g = crate::autograd::NoGradGuard::new();
            if x.numel() > 0 {
                assign(&out.with_layout(l)?, x)?;
            }
        }
        let before = widths.iter().map(|w| w.0).collect();
        return Ok(finish(out, Op::Pad { before }, &[x], vec![]));
    }
    // The padded shape must fit before any index list is built (its length is the padded axis).
    let padded = x
        .shape()
        .iter()
        .zip(widths)
        .map(|(&d, &(b, a))| d.checked_add(b)?.checked_add(a))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| pad_too_big(x, widths))?;
    checked_numel("pad", &padded)?;
    let mut cur = x.clone();
    for (d, &(b, a)) in widths.iter().enumerate() {
        if b == 0 && a == 0 {
            continue;
        }
        let n = x.shape()[d] as i64;
        if n == 0 {
            return Err(Error::value(
                "pad",
                format!("cannot pad the empty axis {d} in mode {mode:?}"),
            ));
        }
        // Mirror modes are periodic extensions, so pads wider than the axis reflect again
        // (NumPy's behaviour): reflect has period 2(n-1), symmetric 2n.
        let map = |i: i64| -> i64 {
            match mode {
                PadMode::Edge => i.clamp(0, n - 1),
                PadMode::Reflect => {
                    if n == 1 {
                        return 0;
                    }
                    let p = 2 * (n - 1);
                    let m = i.rem_euclid(p);
                    if m >= n {
                        p - m
                    } else {
                        m
                    }
                }
                _ => {
                    let p = 2 * n;
                    let m = i.rem_euclid(p);
                    if m >= n {
                        p - 1 - m
                    } else {
                        m
                    }
                }
            }
        };
        // b and a are below isize::MAX / 8 here (checked_numel above), so the i64 range is exact.
        let len = padded[d];
        let mut idx = crate::alloc::try_vec("pad", len)?;
        idx.extend((-(b as i64)..n + a as i64).map(map));
        cur = take(&cur, &Tensor::from_vec(idx, &[len])?, Some(d as isize))?;
    }
    Ok(cur)
}
