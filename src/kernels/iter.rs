//! The strided iteration engine behind every elementwise kernel.
//!
//! An N-operand loop over a shape (output and inputs, each with its own strides; broadcast axes
//! have stride 0) is first simplified: size-1 axes are dropped and neighbouring axes that are
//! contiguous with each other in every operand are merged. What remains is walked as a row-major
//! linear index range split into "segments", each a run along the innermost axis, handed to a
//! kernel as (per-operand offset, length); the kernel sees the innermost strides once, so a
//! contiguous or broadcast run becomes one SIMD loop. Parallel drivers split the linear range into
//! chunks; every output element is written by exactly one chunk, so results do not depend on the
//! thread count.

/// A raw pointer that may cross threads; users guarantee disjoint writes.
#[derive(Debug)]
pub struct SendPtr<T>(pub *mut T);
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    #[inline(always)]
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// A simplified N-operand loop nest.
#[derive(Clone, Debug)]
pub struct Plan<const N: usize> {
    pub shape: Vec<usize>,
    pub strides: [Vec<isize>; N],
}

impl<const N: usize> Plan<N> {
    /// Builds the plan for `shape` with one stride vector per operand.
    pub fn new(shape: &[usize], strides: [&[isize]; N]) -> Self {
        let mut sh: Vec<usize> = Vec::with_capacity(shape.len());
        let mut st: [Vec<isize>; N] = std::array::from_fn(|_| Vec::with_capacity(shape.len()));
        for (d, &n) in shape.iter().enumerate() {
            if n == 1 {
                continue;
            }
            sh.push(n);
            for k in 0..N {
                st[k].push(strides[k][d]);
            }
        }
        // Merge from the inside out.
        let mut i = sh.len();
        while i >= 2 {
            let (outer, inner) = (i - 2, i - 1);
            let mergeable = (0..N).all(|k| st[k][outer] == st[k][inner] * sh[inner] as isize);
            if mergeable {
                sh[outer] *= sh[inner];
                sh.remove(inner);
                for s in st.iter_mut() {
                    s[outer] = s[inner];
                    s.remove(inner);
                }
            }
            i -= 1;
        }
        if sh.is_empty() {
            sh.push(1);
            for s in st.iter_mut() {
                s.push(0);
            }
        }
        Plan {
            shape: sh,
            strides: st,
        }
    }

    #[inline]
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    #[inline]
    pub fn inner_len(&self) -> usize {
        self.shape[self.shape.len() - 1]
    }

    #[inline]
    pub fn inner_strides(&self) -> [isize; N] {
        std::array::from_fn(|k| self.strides[k][self.shape.len() - 1])
    }

    /// Calls `f(offsets, len)` for every segment of the linear range `start..end`; `offsets` are
    /// element offsets from `base` for each operand.
    #[allow(clippy::needless_range_loop)] // several arrays share the index
    pub fn for_range(
        &self,
        base: [isize; N],
        start: usize,
        end: usize,
        mut f: impl FnMut([isize; N], usize),
    ) {
        if start >= end {
            return;
        }
        let nd = self.shape.len();
        let inner = self.shape[nd - 1];
        // Decompose `start` into a multi-index.
        let mut idx = vec![0usize; nd];
        let mut rem = start;
        for d in (0..nd).rev() {
            idx[d] = rem % self.shape[d];
            rem /= self.shape[d];
        }
        let mut off: [isize; N] = base;
        for k in 0..N {
            for d in 0..nd {
                off[k] += idx[d] as isize * self.strides[k][d];
            }
        }
        let mut cur = start;
        while cur < end {
            let len = (inner - idx[nd - 1]).min(end - cur);
            f(off, len);
            cur += len;
            if cur >= end {
                break;
            }
            // Advance the multi-index by `len` (lands on the start of the next inner row).
            for k in 0..N {
                off[k] += len as isize * self.strides[k][nd - 1];
            }
            idx[nd - 1] += len;
            let mut d = nd - 1;
            while idx[d] == self.shape[d] && d > 0 {
                for k in 0..N {
                    off[k] -= self.shape[d] as isize * self.strides[k][d];
                }
                idx[d] = 0;
                d -= 1;
                idx[d] += 1;
                for k in 0..N {
                    off[k] += self.strides[k][d];
                }
            }
        }
    }

    /// Runs `f` over all segments, split across the shared pool when the loop is large.
    pub fn run(&self, base: [isize; N], grain: usize, f: impl Fn([isize; N], usize) + Sync) {
        let total = self.numel();
        if !crate::threading::should_parallelize(total, grain) {
            self.for_range(base, 0, total, f);
            return;
        }
        let threads = crate::threading::num_threads();
        let chunk = grain.max(total.div_ceil(threads * crate::threading::TASKS_PER_THREAD));
        let nchunks = total.div_ceil(chunk);
        crate::threading::for_each_task(nchunks, |c| {
            let s = c * chunk;
            let e = (s + chunk).min(total);
            self.for_range(base, s, e, &f);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_contiguous_axes() {
        let p = Plan::<2>::new(&[2, 3, 4], [&[12, 4, 1], &[12, 4, 1]]);
        assert_eq!(p.shape, vec![24]);
        let p = Plan::<2>::new(&[2, 3, 4], [&[12, 4, 1], &[0, 4, 1]]);
        assert_eq!(p.shape, vec![2, 12]);
    }

    #[test]
    fn segments_cover_range() {
        let p = Plan::<1>::new(&[3, 5], [&[11, 2]]);
        let mut seen = vec![];
        p.for_range([0], 2, 13, |o, n| seen.push((o[0], n)));
        assert_eq!(seen, vec![(4, 3), (11, 5), (22, 3)]);
        let q = Plan::<1>::new(&[3, 5], [&[10, 2]]);
        assert_eq!(q.shape, vec![15]);
    }
}
