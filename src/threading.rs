//! The one Rayon pool shared by every kernel and the tokenizer.
//!
//! Its size comes from `set_num_threads(n)` (Python `ferrograd.set_num_threads`), else from the
//! `FERROGRAD_NUM_THREADS` environment variable, else from the number of logical CPUs. Rayon's
//! global pool cannot be resized once built, so the pool lives behind an `RwLock` and is rebuilt
//! when the size changes; kernels run work with [`install`], which is cheap when the pool exists.
//!
//! Small work must stay on the calling thread: handing a 1 µs op to the pool costs more than it
//! saves. Kernels compare their work against [`GRAIN`]-style thresholds before calling in here.
//!
//! Determinism: kernels split work so that every output element is computed by exactly one task
//! in a fixed order, so results do not depend on the number of threads.

use std::sync::{Arc, OnceLock, RwLock};

use crate::error::{Error, Result};

/// Elementwise work below this many elements runs on the calling thread (memory-bound ops gain
/// nothing from a second core below ~32K elements on the reference machine).
pub const GRAIN: usize = 1 << 15;

struct PoolState {
    threads: usize,
    pool: Option<Arc<rayon::ThreadPool>>,
}

fn state() -> &'static RwLock<PoolState> {
    static STATE: OnceLock<RwLock<PoolState>> = OnceLock::new();
    STATE.get_or_init(|| {
        RwLock::new(PoolState {
            threads: default_threads(),
            pool: None,
        })
    })
}

fn default_threads() -> usize {
    if let Ok(v) = std::env::var("FERROGRAD_NUM_THREADS") {
        if let Ok(n) = v.trim().parse::<usize>() {
            if n > 0 {
                return n;
            }
        }
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The number of threads kernels use.
pub fn num_threads() -> usize {
    match state().read() {
        Ok(s) => s.threads,
        Err(p) => p.into_inner().threads,
    }
}

/// Sets the number of threads kernels use (1 means everything runs on the caller).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 || n > 4096 {
        return Err(Error::value(
            "set_num_threads",
            format!("expected a thread count between 1 and 4096, received {n}"),
        ));
    }
    let mut s = match state().write() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    if s.threads != n {
        s.threads = n;
        s.pool = None;
    }
    Ok(())
}

fn pool() -> Arc<rayon::ThreadPool> {
    {
        let s = match state().read() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if let Some(p) = &s.pool {
            return p.clone();
        }
    }
    let mut s = match state().write() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    if let Some(p) = &s.pool {
        return p.clone();
    }
    let n = s.threads;
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("ferrograd-{i}"))
        .build();
    let p = match built {
        Ok(p) => Arc::new(p),
        // Spawning threads can fail under tight process limits; fall back to a 1-thread pool
        // (which rayon builds without spawning extra OS threads beyond one) rather than panic.
        Err(_) => Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap_or_else(|e| panic!("ferrograd: cannot start even one worker thread: {e}")),
        ),
    };
    s.pool = Some(p.clone());
    p
}

/// Runs `f` inside the shared pool: `rayon::join`/`par_iter` inside `f` use its threads.
/// With one thread configured, `f` runs directly on the caller.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if num_threads() <= 1 {
        return f();
    }
    if rayon::current_thread_index().is_some() {
        // Already on a worker (nested call): run inline.
        return f();
    }
    pool().install(f)
}

/// Whether work of `n` elements (with `grain` per task) is worth splitting across threads.
#[inline]
pub fn should_parallelize(n: usize, grain: usize) -> bool {
    n >= 2 * grain && num_threads() > 1
}

/// Called in a forked child: the parent's worker threads do not exist there, so drop the pool
/// (it is rebuilt on first use).
pub fn after_fork_child() {
    if let Ok(mut s) = state().write() {
        // Leak the old pool on purpose: its threads are gone and joining them would hang.
        if let Some(p) = s.pool.take() {
            std::mem::forget(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_zero_threads() {
        assert!(set_num_threads(0).is_err());
    }

    #[test]
    fn install_runs_closure() {
        let v = install(|| 41 + 1);
        assert_eq!(v, 42);
    }
}
