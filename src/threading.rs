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

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

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

/// The shared pool, built on first use; None when no worker thread could be started (then
/// everything runs on the caller, which is slower but correct).
fn pool() -> Option<Arc<rayon::ThreadPool>> {
    {
        let s = match state().read() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if let Some(p) = &s.pool {
            return Some(p.clone());
        }
    }
    let mut s = match state().write() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    if let Some(p) = &s.pool {
        return Some(p.clone());
    }
    let n = s.threads;
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("ferrograd-{i}"))
        .build()
        .ok()?;
    let p = Arc::new(built);
    s.pool = Some(p.clone());
    Some(p)
}

/// Runs `f` inside the shared pool: `rayon::join`/`par_iter` inside `f` use its threads.
/// With one thread configured, `f` runs directly on the caller.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if num_threads() <= 1 || rayon::current_thread_index().is_some() {
        // One thread, or already on a worker (nested call): run inline.
        return f();
    }
    match pool() {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Runs `f(0)`, ..., `f(tasks - 1)`, each exactly once, on the calling thread and up to
/// `num_threads() - 1` pool workers, and returns when all have finished (re-raising the first
/// panic, if any, after every task is done).
///
/// Unlike [`install`], the caller does not hand the work over and sleep: it posts helper jobs to
/// the pool and starts on the tasks at once; tasks are claimed from a shared counter in index
/// order, so a helper that wakes late (or a core taken by another process) only means the caller
/// runs more of them. A helper that wakes after every task is claimed returns without touching
/// `f`, and the caller never waits for it. For work that is split into a few big tasks (the
/// GEMM) this removes the hand-off and the caller's wake-up from every call (measured in the
/// matmul performance note).
///
/// Which thread runs a task is not deterministic; callers make each task's result independent of
/// that (every output element is written by one task in a fixed order).
pub fn for_each_task(tasks: usize, f: impl Fn(usize) + Sync) {
    let threads = num_threads();
    if tasks == 0 {
        return;
    }
    let pool = if tasks == 1 || threads <= 1 {
        None
    } else if rayon::current_thread_index().is_some() {
        // Already on a worker (nested call): let the current pool share the tasks.
        use rayon::prelude::*;
        let first_panic = Mutex::new(None);
        (0..tasks).into_par_iter().with_max_len(1).for_each(|i| {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i))) {
                record_panic(&first_panic, p);
            }
        });
        rethrow(first_panic);
        return;
    } else {
        pool()
    };
    let Some(pool) = pool else {
        let first_panic = Mutex::new(None);
        for i in 0..tasks {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i))) {
                record_panic(&first_panic, p);
            }
        }
        rethrow(first_panic);
        return;
    };
    let func: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: only the lifetime is erased. `func` is called only for a task index claimed below
    // `tasks`, and this function does not return (or unwind) before every claimed task has
    // counted itself done, so `f` outlives every call through the pointer.
    let func: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(func) };
    let shared = Arc::new(TaskSet {
        tasks,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        func: FnPtr(func),
        panic: Mutex::new(None),
        finished: Mutex::new(false),
        wake: Condvar::new(),
    });
    for _ in 1..threads.min(tasks) {
        let s = shared.clone();
        pool.spawn(move || s.work());
    }
    shared.work();
    shared.wait();
    let payload = match shared.panic.lock() {
        Ok(mut g) => g.take(),
        Err(p) => p.into_inner().take(),
    };
    rethrow(Mutex::new(payload));
}

/// Keeps the first panic payload of a task set.
fn record_panic(slot: &Mutex<Option<Box<dyn Any + Send>>>, p: Box<dyn Any + Send>) {
    let mut g = match slot.lock() {
        Ok(g) => g,
        Err(e) => e.into_inner(),
    };
    g.get_or_insert(p);
}

/// Re-raises the recorded panic, if any.
fn rethrow(slot: Mutex<Option<Box<dyn Any + Send>>>) {
    let payload = match slot.into_inner() {
        Ok(p) => p,
        Err(e) => e.into_inner(),
    };
    if let Some(p) = payload {
        resume_unwind(p);
    }
}

/// The lifetime-erased task function of a [`for_each_task`] call.
struct FnPtr(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync`, and `for_each_task` keeps it alive while any task can call it.
unsafe impl Send for FnPtr {}
unsafe impl Sync for FnPtr {}

/// Shared state of one [`for_each_task`] call.
struct TaskSet {
    tasks: usize,
    /// The next unclaimed task index (may run past `tasks`).
    next: AtomicUsize,
    /// Tasks finished (with or without a panic).
    done: AtomicUsize,
    func: FnPtr,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Set (under the lock) by whoever finishes the last task; the caller sleeps on `wake`.
    finished: Mutex<bool>,
    wake: Condvar,
}

impl TaskSet {
    /// Claims and runs tasks until none is left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.tasks {
                return;
            }
            // SAFETY: task `i` is claimed and not yet counted done, so the caller is still
            // waiting and the function is alive (see `for_each_task`).
            let f = unsafe { &*self.func.0 };
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i))) {
                record_panic(&self.panic, p);
            }
            if self.done.fetch_add(1, Ordering::AcqRel) + 1 == self.tasks {
                let mut g = match self.finished.lock() {
                    Ok(g) => g,
                    Err(e) => e.into_inner(),
                };
                *g = true;
                self.wake.notify_all();
            }
        }
    }

    /// Waits until every task is done: spins briefly (the tasks of one call are of similar
    /// size, so the others usually finish within microseconds of the caller), then sleeps.
    fn wait(&self) {
        const SPIN: Duration = Duration::from_micros(50);
        if self.done.load(Ordering::Acquire) == self.tasks {
            return;
        }
        let start = Instant::now();
        while start.elapsed() < SPIN {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
            if self.done.load(Ordering::Acquire) == self.tasks {
                return;
            }
        }
        let mut g = match self.finished.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        while !*g {
            g = match self.wake.wait(g) {
                Ok(g) => g,
                Err(e) => e.into_inner(),
            };
        }
    }
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
    fn for_each_task_runs_each_once() {
        use std::sync::atomic::AtomicU64;
        for tasks in [0usize, 1, 2, 3, 17, 100] {
            let hits: Vec<AtomicU64> = (0..tasks).map(|_| AtomicU64::new(0)).collect();
            for_each_task(tasks, |i| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn for_each_task_propagates_panic_after_all_tasks() {
        let done = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            for_each_task(8, |i| {
                done.fetch_add(1, Ordering::Relaxed);
                assert!(i != 3, "task 3 fails");
            })
        }));
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn install_runs_closure() {
        let v = install(|| 41 + 1);
        assert_eq!(v, 42);
    }
}
