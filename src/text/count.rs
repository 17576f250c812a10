//! The token counter `adapt` fills, and the vocabulary Keras learns from it.
//!
//! `adapt` counts every token (and, for "tf_idf", the documents each occurs in), drops the mask
//! and OOV tokens, and orders by count, high to low, breaking ties by the token, high to low
//! (Keras: `np.lexsort((tokens, counts))[::-1]`; strings compare as UTF-8 bytes, as NumPy
//! compares the `bytes` TensorFlow exports).
//!
//! Performance: one [`Table`] per piece of Rayon's split (about two per worker), merged at the end
//! of the call; a generator's batches are fed one at a time, so memory is bounded by the
//! vocabulary per worker plus one batch, not by the data. The table is an open-addressing hash
//! table over the keys' bytes: keys live in one byte arena (no allocation per key), each slot holds
//! 32 bits of the hash beside the entry index (a probe rarely touches an entry that is not the
//! one), and keys compare eight bytes at a time inline. Against a `HashMap<String, _>` this
//! removes the allocation and the `memcmp` call per token, which were a third of `adapt`.

use rayon::prelude::*;

use super::vocab::Key;
use crate::threading;

/// Total and document counts of one token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub docs: u64,
}

/// One key of a [`Table`]: its bytes are `arena[off..off + len]`; `stamp` is 1 + the last
/// document that counted it, so a document counts once however often the token repeats in it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    hash: u64,
    off: usize,
    len: usize,
    total: u64,
    docs: u64,
    stamp: usize,
}

/// Byte-keyed counting hash table (see the module docs). A slot is 0 when empty, else
/// `(hash >> 32) << 32 | (entry index + 1)`; the load stays at most one half.
#[derive(Clone, Debug, Default)]
struct Table {
    slots: Vec<u64>,
    entries: Vec<Entry>,
    arena: Vec<u8>,
}

/// FxHash's word step over the bytes (8 at a time, the tail zero-padded with its length mixed
/// in), then a 64-bit finalizer so that the low bits (the slot) and the high bits (the tag) both
/// depend on every byte.
#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        h = (h.rotate_left(5) ^ tail_word(rest)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// `a == b` for short byte strings without a `memcmp` call.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        let (mut u, mut v) = ([0u8; 8], [0u8; 8]);
        u.copy_from_slice(p);
        v.copy_from_slice(q);
        if u != v {
            return false;
        }
    }
    tail_word(x.remainder()) == tail_word(y.remainder())
}

/// The (at most 7) bytes of `rest` as a little-endian word, zero-padded; a byte loop, because
/// a copy of unknown length would call `memcpy`.
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    rest.iter()
        .enumerate()
        .fold(0, |w, (i, &c)| w | (c as u64) << (8 * i))
}

impl Table {
    fn with_capacity(n: usize) -> Self {
        let slots = (2 * n.max(8)).next_power_of_two();
        Table {
            slots: vec![0; slots],
            entries: Vec::with_capacity(n),
            arena: Vec::with_capacity(n * 8),
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn key(&self, e: &Entry) -> &[u8] {
        &self.arena[e.off..e.off + e.len]
    }

    /// The index of the entry for `b` (hash `h`), if present.
    #[inline]
    fn find(&self, b: &[u8], h: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s >> 32 == tag {
                let k = (s & 0xffff_ffff) as usize - 1;
                if same_bytes(self.key(&self.entries[k]), b) {
                    return Some(k);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The index of the entry for `b` (hash `h`), inserted with zero counts when absent.
    #[inline]
    fn find_or_insert(&mut self, b: &[u8], h: u64) -> usize {
        if let Some(k) = self.find(b, h) {
            return k;
        }
        if 2 * (self.entries.len() + 1) > self.slots.len() {
            self.grow();
        }
        let k = self.entries.len();
        self.entries.push(Entry {
            hash: h,
            off: self.arena.len(),
            len: b.len(),
            total: 0,
            docs: 0,
            stamp: 0,
        });
        self.arena.extend_from_slice(b);
        self.place(h, k);
        k
    }

    /// Writes entry `k` (hash `h`) into the first free slot of its probe sequence.
    fn place(&mut self, h: u64, k: usize) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        // entry indices stay below 2^32 - 1: that many keys would need hundreds of GiB first
        self.slots[i] = (h >> 32) << 32 | (k as u64 + 1);
    }

    fn grow(&mut self) {
        let n = (2 * self.slots.len()).max(16);
        self.slots = vec![0; n];
        for k in 0..self.entries.len() {
            self.place(self.entries[k].hash, k);
        }
    }

    /// Adds `other`'s counts into `self`.
    fn absorb(&mut self, other: &Table) {
        for e in &other.entries {
            let k = self.find_or_insert(other.key(e), e.hash);
            self.entries[k].total += e.total;
            self.entries[k].docs += e.docs;
        }
    }
}

fn merge(a: Table, b: Table) -> Table {
    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    big.absorb(&small);
    big
}

/// The token counts `adapt` accumulates over its batches.
#[derive(Clone, Debug, Default)]
pub struct Counter<K: Key> {
    table: Table,
    num_documents: u64,
    track_docs: bool,
    _key: std::marker::PhantomData<K>,
}

impl<K: Key> Counter<K> {
    /// A counter; `track_docs` also counts documents per token (for "tf_idf").
    pub fn new(track_docs: bool) -> Self {
        Counter {
            table: Table::default(),
            num_documents: 0,
            track_docs,
            _key: std::marker::PhantomData,
        }
    }

    pub fn num_documents(&self) -> u64 {
        self.num_documents
    }

    /// Whether document counts are kept (for "tf_idf").
    pub fn track_docs(&self) -> bool {
        self.track_docs
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// The counts of `token`, if seen.
    pub fn get(&self, token: &K::Ref) -> Option<Counts> {
        K::with_bytes(token, |b| self.table.find(b, hash_bytes(b))).map(|k| {
            let e = &self.table.entries[k];
            Counts {
                total: e.total,
                docs: e.docs,
            }
        })
    }

    /// Counts `n_docs` documents, the tokens of document `i` being `doc(i)`.
    pub fn add_docs(&mut self, n_docs: usize, doc: impl Fn(usize) -> Vec<K> + Sync) {
        self.add_docs_with(n_docs, |i, f| {
            for t in doc(i) {
                f(t.borrow());
            }
        })
    }

    /// Counts `n_docs` documents; `visit(i, f)` calls `f` on each token of document `i` (a key's
    /// bytes are copied only the first time a worker sees it).
    pub fn add_docs_with(
        &mut self,
        n_docs: usize,
        visit: impl Fn(usize, &mut dyn FnMut(&K::Ref)) + Sync,
    ) {
        let track = self.track_docs;
        // sized from what earlier batches saw, so the tables rarely grow while counting
        let hint = self.table.len().clamp(1 << 10, 1 << 16);
        let count_doc = |mut t: Table, i: usize| {
            let stamp = i + 1;
            visit(i, &mut |r: &K::Ref| {
                K::with_bytes(r, |b| {
                    let k = t.find_or_insert(b, hash_bytes(b));
                    let e = &mut t.entries[k];
                    e.total += 1;
                    if track && e.stamp != stamp {
                        e.stamp = stamp;
                        e.docs += 1;
                    }
                })
            });
            t
        };
        // the counts are sums, so the result does not depend on how Rayon splits the documents
        // at most two pieces per worker: each piece's table grows through the whole vocabulary
        // and is merged once, so fewer, longer pieces cost less (two leave room to rebalance)
        let min_len = n_docs.div_ceil(2 * threading::num_threads().max(1)).max(64);
        let part = if n_docs >= 256 {
            threading::install(|| {
                (0..n_docs)
                    .into_par_iter()
                    .with_min_len(min_len)
                    .fold(|| Table::with_capacity(hint), count_doc)
                    .reduce(Table::default, merge)
            })
        } else {
            (0..n_docs).fold(Table::with_capacity(hint), count_doc)
        };
        self.table = merge(std::mem::take(&mut self.table), part);
        self.num_documents += n_docs as u64;
    }

    /// Forgets everything counted.
    pub fn reset(&mut self) {
        self.table = Table::default();
        self.num_documents = 0;
    }

    /// The vocabulary Keras would learn: `exclude` (mask and OOV tokens) removed, ordered by
    /// count then token, both high to low, cut to `max_learned`; with each token's document
    /// count.
    pub fn finalize(&self, exclude: &[K], max_learned: Option<usize>) -> (Vec<K>, Vec<u64>) {
        let t = &self.table;
        let mut items: Vec<(K, &Entry)> = t
            .entries
            .iter()
            .map(|e| (K::from_bytes(t.key(e)), e))
            .filter(|(k, _)| !exclude.contains(k))
            .collect();
        items.sort_unstable_by(|a, b| b.1.total.cmp(&a.1.total).then_with(|| b.0.cmp(&a.0)));
        if let Some(m) = max_learned {
            items.truncate(m);
        }
        items.into_iter().map(|(k, e)| (k, e.docs)).unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn order_is_count_then_token_descending() {
        let docs = [
            strings(&["b", "a", "c"]),
            strings(&["c", "a", "d"]),
            strings(&["zz", "yy"]),
        ];
        let mut c = Counter::new(true);
        c.add_docs(docs.len(), |i| docs[i].clone());
        let (toks, dfs) = c.finalize(&[], None);
        assert_eq!(toks, strings(&["c", "a", "zz", "yy", "d", "b"]));
        assert_eq!(dfs, [2, 2, 1, 1, 1, 1]);
        let (toks, _) = c.finalize(&strings(&["a"]), Some(2));
        assert_eq!(toks, strings(&["c", "zz"]));
    }

    #[test]
    fn parallel_counting_equals_serial() {
        let docs: Vec<Vec<String>> = (0..5000)
            .map(|i| (0..(i % 7)).map(|j| format!("t{}", (i * j) % 97)).collect())
            .collect();
        let mut par = Counter::new(true);
        par.add_docs(docs.len(), |i| docs[i].clone());
        let mut ser = Counter::new(true);
        for d in &docs {
            ser.add_docs(1, |_| d.clone());
        }
        assert_eq!(par.finalize(&[], None), ser.finalize(&[], None));
        assert_eq!(par.num_documents(), 5000);
    }

    #[test]
    fn table_finds_every_key_through_growth() {
        let keys: Vec<String> = (0..5000)
            .map(|i| "k".repeat(i % 23) + &i.to_string())
            .collect();
        let mut t = Table::with_capacity(4);
        for (i, k) in keys.iter().enumerate() {
            let e = t.find_or_insert(k.as_bytes(), hash_bytes(k.as_bytes()));
            assert_eq!(e, i);
            t.entries[e].total += i as u64;
        }
        for (i, k) in keys.iter().enumerate() {
            let e = t.find(k.as_bytes(), hash_bytes(k.as_bytes()));
            assert_eq!(e, Some(i));
            assert_eq!(t.entries[i].total, i as u64);
        }
        assert_eq!(t.find(b"absent", hash_bytes(b"absent")), None);
        assert_eq!(t.find(b"", hash_bytes(b"")), None);
        let e = t.find_or_insert(b"", hash_bytes(b""));
        assert_eq!(t.find(b"", hash_bytes(b"")), Some(e));
    }

    #[test]
    fn integer_keys_count_and_order_numerically() {
        let docs: Vec<Vec<i64>> = vec![vec![-1, 5, 5], vec![300, -1], vec![i64::MIN, i64::MAX]];
        let mut c = Counter::<i64>::new(true);
        c.add_docs(docs.len(), |i| docs[i].clone());
        let (toks, dfs) = c.finalize(&[], None);
        assert_eq!(toks, [5, -1, i64::MAX, 300, i64::MIN]);
        assert_eq!(dfs, [1, 2, 1, 1, 1]);
        assert_eq!(c.get(&5), Some(Counts { total: 2, docs: 1 }));
        assert_eq!(c.get(&7), None);
    }

    #[test]
    fn same_bytes_matches_slice_equality() {
        let words: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"abcdefgh",
            b"abcdefgi",
            b"abcdefghi",
            b"abcdefghj",
        ];
        for a in &words {
            for b in &words {
                assert_eq!(same_bytes(a, b), a == b);
            }
        }
    }
}
