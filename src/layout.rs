//! Layout: shape + strides (in elements, any sign) + offset into the storage.
//!
//! Views (transpose, permute, slices with steps, expand_dims, squeeze, broadcast, reshape of
//! compatible strides) change only the layout. Invariant of every `Tensor`: every address
//! `offset + sum(i_k * strides[k])` for in-range indices lies inside its storage.
//!
//! Who keeps the invariant: the fields are crate-private, so code outside the crate builds a
//! layout only through [`Layout::contiguous`], [`Layout::new`] or the checked view methods, and a
//! layout meets a storage only in `Tensor::from_parts` / `Tensor::with_layout`, which call
//! [`Layout::check_within`] (overflow-checked span against the storage length) and return an
//! error instead of a tensor that reads outside its buffer. The unchecked view helpers (`slice`,
//! `select`, `expand_dims`, `squeeze`) are crate-private: their callers normalise the arguments,
//! and the tensor constructor re-checks the result (O(ndim), far below the cost of the `Arc` a
//! view allocates).

use crate::error::{Error, Result};
use crate::shape::{contiguous_strides, numel};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub(crate) shape: Vec<usize>,
    pub(crate) strides: Vec<isize>,
    pub(crate) offset: usize,
}

impl Layout {
    /// A layout from its parts; checks that `strides` has one entry per dimension and that the
    /// element count and the addressed span fit in `isize` (the storage bound is checked where
    /// the layout meets a storage, in `Tensor::from_parts`).
    pub fn new(shape: &[usize], strides: &[isize], offset: usize) -> Result<Layout> {
        if shape.len() != strides.len() {
            return Err(Error::shape(
                "layout",
                format!(
                    "shape {shape:?} has {} dimensions but strides {strides:?} have {}",
                    shape.len(),
                    strides.len()
                ),
            ));
        }
        let l = Layout {
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            offset,
        };
        l.checked_span()?;
        Ok(l)
    }

    /// The shape (elements per dimension).
    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The strides, in elements (any sign; 0 on broadcast axes).
    #[inline]
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// The storage index of the element at index 0 along every axis.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// A row-major layout starting at offset 0.
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    #[inline]
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Row-major contiguous (size-1 dimensions may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1isize;
        for i in (0..self.shape.len()).rev() {
            if self.shape[i] == 1 {
                continue;
            }
            if self.shape[i] == 0 {
                return true;
            }
            if self.strides[i] != expected {
                return false;
            }
            expected *= self.shape[i] as isize;
        }
        true
    }

    /// Reorders the axes: output axis i is input axis `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<Layout> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if perm.len() != n {
            return Err(Error::value(
                "transpose",
                format!("axes {perm:?} do not match a tensor of rank {n}"),
            ));
        }
        for &p in perm {
            if p >= n || seen[p] {
                return Err(Error::value(
                    "transpose",
                    format!("axes {perm:?} are not a permutation of 0..{n}"),
                ));
            }
            seen[p] = true;
        }
        Ok(Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        })
    }

    /// Inserts a size-1 axis at `axis` (already normalised to 0..=ndim).
    pub(crate) fn expand_dims(&self, axis: usize) -> Layout {
        let mut l = self.clone();
        let stride = if axis < l.ndim() {
            l.strides[axis] * l.shape[axis] as isize
        } else {
            1
        };
        l.shape.insert(axis, 1);
        l.strides.insert(axis, stride);
        l
    }

    /// Removes the given size-1 axes (sorted, normalised).
    pub(crate) fn squeeze(&self, axes: &[usize]) -> Result<Layout> {
        for &a in axes {
            if self.shape[a] != 1 {
                return Err(Error::value(
                    "squeeze",
                    format!(
                        "cannot squeeze axis {a} of shape {:?}: its size is not 1",
                        self.shape
                    ),
                ));
            }
        }
        let mut l = Layout {
            shape: vec![],
            strides: vec![],
            offset: self.offset,
        };
        for i in 0..self.ndim() {
            if !axes.contains(&i) {
                l.shape.push(self.shape[i]);
                l.strides.push(self.strides[i]);
            }
        }
        Ok(l)
    }

    /// Broadcasts to `shape` (NumPy rules) with zero strides on the broadcast axes.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Layout> {
        let n = shape.len();
        if n < self.ndim() {
            return Err(Error::shape(
                "broadcast_to",
                format!(
                    "cannot broadcast shape {:?} to the lower-rank shape {shape:?}",
                    self.shape
                ),
            ));
        }
        let lead = n - self.ndim();
        let mut strides = vec![0isize; n];
        for i in 0..n {
            if i < lead {
                continue;
            }
            let d = self.shape[i - lead];
            if d == shape[i] {
                strides[i] = self.strides[i - lead];
            } else if d == 1 {
                strides[i] = 0;
            } else {
                return Err(Error::shape(
                    "broadcast_to",
                    format!("cannot broadcast shape {:?} to {shape:?}", self.shape),
                ));
            }
        }
        Ok(Layout {
            shape: shape.to_vec(),
            strides,
            offset: self.offset,
        })
    }

    /// Takes `start, start+step, ...` (`len` elements) along `axis`; step may be negative.
    /// The caller has normalised start/len so every index is in range.
    pub(crate) fn slice(&self, axis: usize, start: usize, len: usize, step: isize) -> Layout {
        let mut l = self.clone();
        if len > 0 {
            l.offset = (l.offset as isize + start as isize * l.strides[axis]) as usize;
        }
        l.shape[axis] = len;
        l.strides[axis] *= step;
        l
    }

    /// Picks one index along `axis`, removing the axis.
    pub(crate) fn select(&self, axis: usize, index: usize) -> Layout {
        let mut l = self.clone();
        l.offset = (l.offset as isize + index as isize * l.strides[axis]) as usize;
        l.shape.remove(axis);
        l.strides.remove(axis);
        l
    }

    /// A view with `new_shape` if the strides allow one without copying (NumPy's rule), else None.
    pub fn reshape_view(&self, new_shape: &[usize]) -> Option<Layout> {
        if self.is_contiguous() {
            return Some(Layout {
                shape: new_shape.to_vec(),
                strides: contiguous_strides(new_shape),
                offset: self.offset,
            });
        }
        // Drop size-1 axes, then match groups of old axes to groups of new axes with equal
        // products; each old group must be internally contiguous.
        let old: Vec<(usize, isize)> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(d, _)| **d != 1)
            .map(|(d, s)| (*d, *s))
            .collect();
        let mut new_strides = vec![0isize; new_shape.len()];
        let (mut oi, mut ni) = (0usize, 0usize);
        let new_nz: Vec<usize> = (0..new_shape.len())
            .filter(|&i| new_shape[i] != 1)
            .collect();
        while oi < old.len() && ni < new_nz.len() {
            let (oj0, nj0) = (oi, ni);
            let mut op = old[oi].0;
            let mut np = new_shape[new_nz[ni]];
            while op != np {
                if op < np {
                    oi += 1;
                    if oi >= old.len() {
                        return None;
                    }
                    op *= old[oi].0;
                } else {
                    ni += 1;
                    if ni >= new_nz.len() {
                        return None;
                    }
                    np *= new_shape[new_nz[ni]];
                }
            }
            // old axes oj0..=oi must be contiguous with each other.
            for k in oj0..oi {
                if old[k].1 != old[k + 1].1 * old[k + 1].0 as isize {
                    return None;
                }
            }
            // Assign strides to new axes nj0..=ni from the innermost.
            let mut s = old[oi].1;
            for k in (nj0..=ni).rev() {
                new_strides[new_nz[k]] = s;
                s *= new_shape[new_nz[k]] as isize;
            }
            oi += 1;
            ni += 1;
        }
        if oi != old.len() || ni != new_nz.len() {
            return None;
        }
        // Size-1 new axes: any stride works; use a consistent one.
        for i in (0..new_shape.len()).rev() {
            if new_shape[i] == 1 {
                new_strides[i] = if i + 1 < new_shape.len() {
                    new_strides[i + 1] * new_shape[i + 1] as isize
                } else {
                    1
                };
            }
        }
        Some(Layout {
            shape: new_shape.to_vec(),
            strides: new_strides,
            offset: self.offset,
        })
    }

    /// Lowest and one-past-highest element addresses reached (for bounds checks).
    pub fn span(&self) -> (isize, isize) {
        if self.numel() == 0 {
            return (self.offset as isize, self.offset as isize);
        }
        let mut lo = self.offset as isize;
        let mut hi = self.offset as isize;
        for (d, s) in self.shape.iter().zip(&self.strides) {
            let ext = (*d as isize - 1) * s;
            if ext < 0 {
                lo += ext;
            } else {
                hi += ext;
            }
        }
        (lo, hi + 1)
    }

    /// Whether distinct in-range indices always reach distinct addresses (so a write through
    /// the layout is unambiguous and disjoint index ranges never race). A sufficient test, as
    /// PyTorch's `has_internal_overlap`: sorted by |stride|, each axis of size > 1 must step
    /// past everything the smaller axes reach. Holds for contiguous tensors and every view op
    /// but broadcasting (stride 0). O(ndim^2), called once per in-place op.
    pub fn is_non_overlapping(&self) -> bool {
        if self.numel() <= 1 {
            return true;
        }
        let mut axes: Vec<(usize, usize)> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d > 1)
            .map(|(&d, &s)| (d, s.unsigned_abs()))
            .collect();
        axes.sort_unstable_by_key(|&(_, s)| s);
        let mut reach: usize = 0; // max address offset covered by the smaller axes
        for (d, s) in axes {
            if s <= reach {
                return false;
            }
            match (d - 1).checked_mul(s).and_then(|e| e.checked_add(reach)) {
                Some(r) => reach = r,
                None => return false,
            }
        }
        true
    }

    /// [`span`](Layout::span) with every product and sum overflow-checked; also checks the
    /// rank of the strides and that the element count fits in `isize`.
    pub fn checked_span(&self) -> Result<(isize, isize)> {
        let bad = || {
            Error::value(
                "layout",
                format!(
                    "shape {:?} with strides {:?} and offset {} addresses more elements than fit in memory",
                    self.shape, self.strides, self.offset
                ),
            )
        };
        if self.shape.len() != self.strides.len() {
            return Err(Error::shape(
                "layout",
                format!(
                    "shape {:?} has {} dimensions but strides {:?} have {}",
                    self.shape,
                    self.shape.len(),
                    self.strides,
                    self.strides.len()
                ),
            ));
        }
        let n = self
            .shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(bad)?;
        let offset = isize::try_from(self.offset).map_err(|_| bad())?;
        if n == 0 {
            return Ok((offset, offset));
        }
        isize::try_from(n).map_err(|_| bad())?;
        let (mut lo, mut hi) = (offset, offset);
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            let ext = isize::try_from(d - 1)
                .ok()
                .and_then(|d| d.checked_mul(s))
                .ok_or_else(bad)?;
            if ext < 0 {
                lo = lo.checked_add(ext).ok_or_else(bad)?;
            } else {
                hi = hi.checked_add(ext).ok_or_else(bad)?;
            }
        }
        Ok((lo, hi.checked_add(1).ok_or_else(bad)?))
    }

    /// Checks that every element this layout addresses lies in a storage of `len` elements
    /// (for an empty layout: that the offset is at most `len`, so the data pointer stays within
    /// or one past the buffer). `op` names the caller in the error.
    pub fn check_within(&self, op: &str, len: usize) -> Result<()> {
        let (lo, hi) = self.checked_span()?;
        // hi >= lo >= ... and hi may equal lo (empty); both must lie in 0..=len.
        let ok = lo >= 0 && (hi as usize) <= len && (self.numel() > 0 || self.offset <= len);
        if !ok {
            return Err(Error::value(
                op,
                format!(
                    "layout with shape {:?}, strides {:?} and offset {} addresses elements {lo}..{hi}, outside a storage of {len} elements",
                    self.shape, self.strides, self.offset
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguity() {
        let l = Layout::contiguous(&[2, 3]);
        assert!(l.is_contiguous());
        assert!(!l.permute(&[1, 0]).unwrap().is_contiguous());
    }

    #[test]
    fn reshape_views() {
        let l = Layout::contiguous(&[2, 3, 4]).permute(&[1, 0, 2]).unwrap(); // (3,2,4)
                                                                             // merging the last two (2,4) is impossible? strides: (4,12,1): 2*... not contiguous.
        assert!(l.reshape_view(&[3, 8]).is_none());
        let v = l.reshape_view(&[3, 2, 2, 2]).unwrap();
        assert_eq!(v.strides, vec![4, 12, 2, 1]);
        let t = Layout::contiguous(&[4, 6]).slice(1, 0, 3, 2); // (4,3) strides (6,2)
        let r = t.reshape_view(&[2, 2, 3]).unwrap();
        assert_eq!(r.strides, vec![12, 6, 2]);
    }

    #[test]
    fn span_with_negative_strides() {
        let l = Layout::contiguous(&[5]).slice(0, 4, 5, -1);
        assert_eq!(l.span(), (0, 5));
        assert_eq!(l.checked_span().unwrap(), (0, 5));
    }

    #[test]
    fn overlap() {
        assert!(Layout::contiguous(&[3, 4]).is_non_overlapping());
        assert!(Layout::contiguous(&[3, 4])
            .permute(&[1, 0])
            .unwrap()
            .is_non_overlapping());
        assert!(Layout::contiguous(&[8])
            .slice(0, 7, 4, -2)
            .is_non_overlapping());
        assert!(!Layout::contiguous(&[1, 4])
            .broadcast_to(&[3, 4])
            .unwrap()
            .is_non_overlapping());
        assert!(!Layout::new(&[3, 3], &[1, 1], 0)
            .unwrap()
            .is_non_overlapping());
        assert!(Layout::new(&[1, 3], &[0, 1], 0)
            .unwrap()
            .is_non_overlapping());
    }

    #[test]
    fn new_checks_rank_and_overflow() {
        assert!(Layout::new(&[2, 3], &[3], 0).is_err());
        assert!(Layout::new(&[usize::MAX, 2], &[1, 1], 0).is_err());
        assert!(Layout::new(&[1 << 40], &[1 << 40], 0).is_err());
        assert!(Layout::new(&[2], &[1], usize::MAX).is_err());
        let l = Layout::new(&[2, 3], &[3, 1], 4).unwrap();
        assert_eq!(l.checked_span().unwrap(), (4, 10));
    }

    #[test]
    fn check_within_storage_bounds() {
        let l = Layout::new(&[2, 3], &[3, 1], 0).unwrap();
        assert!(l.check_within("t", 6).is_ok());
        assert!(l.check_within("t", 5).is_err());
        let l = Layout::new(&[2, 3], &[3, 1], 1).unwrap();
        assert!(l.check_within("t", 6).is_err());
        // Negative stride walking below the start of the buffer.
        let l = Layout::new(&[3], &[-1], 1).unwrap();
        assert!(l.check_within("t", 6).is_err());
        assert!(Layout::new(&[3], &[-1], 2)
            .unwrap()
            .check_within("t", 3)
            .is_ok());
        // Broadcast (stride 0) reads one element however long the axis.
        assert!(Layout::new(&[1000], &[0], 2)
            .unwrap()
            .check_within("t", 3)
            .is_ok());
        // Empty layouts may sit at the end of the buffer but not past it.
        assert!(Layout::new(&[0, 4], &[4, 1], 6)
            .unwrap()
            .check_within("t", 6)
            .is_ok());
        assert!(Layout::new(&[0, 4], &[4, 1], 7)
            .unwrap()
            .check_within("t", 6)
            .is_err());
    }
}
