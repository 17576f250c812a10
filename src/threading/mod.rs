//! The threads shared by every kernel and the tokenizer: one Rayon pool for `install`/`par_iter`
//! work, and the task team ([`team`]) that runs [`for_each_task`] beside the caller.
//!
//! Their size comes from `set_num_threads(n)` (Python `ferrograd.set_num_threads`), else from the
//! `FERROGRAD_NUM_THREADS` environment variable, else from the number of logical CPUs. Rayon's
//! global pool cannot be resized once built, so the pool (and the team) live behind an `RwLock`
//! and are rebuilt when the size changes. Kernels split their work with [`for_each_task`] (or
//! [`for_each_index`]) on the team; [`install`] runs the tokenizer's Rayon work in the pool.
//!
//! Small work must stay on the calling thread: handing a 1 µs op to the pool costs more than it
//! saves. Kernels compare their work against [`GRAIN`]-style thresholds before calling in here.
//!
//! Determinism: kernels split work so that every output element is computed by exactly one task
//! in a fixed order, so results do not depend on the number of threads.

mod team;

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use team::Team;

/// Elementwise work below this many elements runs on the calling thread (memory-bound ops gain
/// nothing from a second core below ~32K elements on the reference machine).
pub const GRAIN: usize = 1 << 15;

/// Tasks per thread for streaming kernels (elementwise, reductions, softmax rows): with the
/// per-thread task ranges of [`for_each_task`] more tasks cost no cache affinity, and small ones
/// let the threads finish together when one of them starts late.
pub const TASKS_PER_THREAD: usize = 16;

struct PoolState {
    threads: usize,
    pool: Option<Arc<rayon::ThreadPool>>,
    team: TeamState,
}

enum TeamState {
    /// Not started yet (or dropped by a size change).
    Unbuilt,
    Running(Arc<Team>),
    /// No helper thread could be started: for_each_task uses the Rayon pool.
    Failed,
}

fn state() -> &'static RwLock<PoolState> {
    static STATE: OnceLock<RwLock<PoolState>> = OnceLock::new();
    STATE.get_or_init(|| {
        RwLock::new(PoolState {
            threads: default_threads(),
            pool: None,
            team: TeamState::Unbuilt,
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
        // Helpers of the old team exit when its last user drops it.
        s.team = TeamState::Unbuilt;
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

/// The task team, started on first use; None with one thread or when no helper could start.
fn team() -> Option<Arc<Team>> {
    {
        let s = match state().read() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        match &s.team {
            TeamState::Running(t) => return Some(t.clone()),
            TeamState::Failed => return None,
            TeamState::Unbuilt => {}
        }
    }
    let mut s = match state().write() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    if let TeamState::Unbuilt = s.team {
        let n = s.threads;
        s.team = match Team::start(n.saturating_sub(1), team::spin_time(n)) {
            Some(t) => TeamState::Running(Arc::new(t)),
            None => TeamState::Failed,
        };
    }
    match &s.team {
        TeamState::Running(t) => Some(t.clone()),
        _ => None,
    }
}

thread_local! {
    /// Set while this thread runs a task of `for_each_task`: nested calls then run inline.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` inside the shared pool: `rayon::join`/`par_iter` inside `f` use its threads.
/// With one thread configured the pool has one worker, so `par_iter` inside `f` runs serially
/// (run inline on the caller instead, it would reach Rayon's global pool, one thread per core,
/// and ignore `set_num_threads(1)`).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        // Already on a worker (nested call): run inline.
        return f();
    }
    match pool() {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Runs `f(0)`, ..., `f(tasks - 1)`, each exactly once, on the calling thread and up to
/// `num_threads() - 1` helper threads, and returns when all have finished (re-raising the first
/// panic, if any, after every task is done).
///
/// Unlike [`install`], the caller does not hand the work over and sleep: it posts the tasks to
/// the task team ([`team`], whose helpers spin briefly between calls, so back-to-back kernels
/// start on every core at once) and starts on them itself. For work split into a few big tasks
/// (the GEMM) this removes the hand-off and the caller's wake-up from every call (measured in the
/// matmul performance note).
///
/// Cache affinity and balance: the tasks are cut into one contiguous range per participant (the
/// caller owns the first, helper `p` the `p`-th), and each participant runs its own range in index
/// order, then helps the others with what is left of theirs. When the same data is processed call
/// after call (a weight matrix, a tensor reduced in a loop), each core reads the same part every
/// time and finds it in its own caches, as with OpenMP's static schedule; a helper that starts
/// late (or a core taken by another process) only means the others run more of its range, and a
/// helper that arrives after every task is claimed returns without touching `f`.
///
/// Nested calls (from inside a task) run inline on the calling thread; calls from a Rayon worker
/// share that pool; a call made while another thread's call holds the team uses the Rayon pool.
///
/// Which thread runs a task is not deterministic; callers make each task's result independent of
/// that (every output element is written by one task in a fixed order).
pub fn for_each_task(tasks: usize, f: impl Fn(usize) + Sync) {
    if tasks == 0 {
        return;
    }
    let threads = num_threads();
    if tasks == 1 || threads <= 1 || IN_TASK.with(|c| c.get()) {
        let first_panic = Mutex::new(None);
        for i in 0..tasks {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i))) {
                record_panic(&first_panic, p);
            }
        }
        rethrow(first_panic);
        return;
    }
    if rayon::current_thread_index().is_some() {
        // Already on a Rayon worker (inside `install`): let that pool share the tasks.
        use rayon::prelude::*;
        let first_panic = Mutex::new(None);
        (0..tasks).into_par_iter().with_max_len(1).for_each(|i| {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i))) {
                record_panic(&first_panic, p);
            }
        });
        rethrow(first_panic);
        return;
    }
    let func: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: only the lifetime is erased. `func` is called only for a task index claimed below
    // `tasks`, and this function does not return (or unwind) before every claimed task has
    // counted itself done, so `f` outlives every call through the pointer.
    let func: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(func) };
    if let Some(team) = team() {
        if let Some(lease) = team.try_begin() {
            let mut set = TaskSet::new(tasks, team.helpers() + 1, func);
            set.spin = team.spin();
            let set = Arc::new(set);
            lease.post(&set);
            set.finish();
            // `lease` drops after the wait: no helper picks up the finished set afterwards.
            drop(lease);
            return;
        }
    }
    let parts = threads.min(tasks);
    let set = Arc::new(TaskSet::new(tasks, parts, func));
    if let Some(pool) = pool() {
        for _ in 1..parts {
            let s = set.clone();
            pool.spawn(move || {
                let p = s.joined.fetch_add(1, Ordering::Relaxed) + 1;
                s.work(p);
            });
        }
    }
    set.finish();
}

/// Runs `f(i)` for every `i` in `0..n` through [`for_each_task`]: contiguous runs of at least
/// `min_len` indices, about [`TASKS_PER_THREAD`] runs per thread, each run in index order.
pub fn for_each_index(n: usize, min_len: usize, f: impl Fn(usize) + Sync) {
    let per = min_len
        .max(n.div_ceil(TASKS_PER_THREAD * num_threads()))
        .max(1);
    for_each_task(n.div_ceil(per), |t| {
        for i in t * per..((t + 1) * per).min(n) {
            f(i);
        }
    });
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

/// One participant's share of the tasks of a [`for_each_task`] call.
struct Range {
    /// The next unclaimed task of the range (may run past `end`).
    next: AtomicUsize,
    end: usize,
}

/// Shared state of one [`for_each_task`] call.
struct TaskSet {
    tasks: usize,
    /// One contiguous range of task indices per participant, in order (the caller owns the first).
    ranges: Vec<Range>,
    /// Rayon helpers started so far (they take ranges 1, 2, ... in the order they start).
    joined: AtomicUsize,
    /// Tasks finished (with or without a panic).
    done: AtomicUsize,
    /// How long the caller spins for the others to finish before it sleeps.
    spin: Duration,
    func: FnPtr,
    /// The caller's subnormal mode (`fpmode`): every participant runs the tasks in it, so the
    /// results do not depend on which thread ran a task.
    fp: crate::fpmode::Bits,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Set (under the lock) by whoever finishes the last task; the caller sleeps on `wake`.
    finished: Mutex<bool>,
    wake: Condvar,
}

impl TaskSet {
    fn new(tasks: usize, parts: usize, func: *const (dyn Fn(usize) + Sync + 'static)) -> Self {
        let parts = parts.clamp(1, tasks.max(1));
        TaskSet {
            tasks,
            ranges: (0..parts)
                .map(|p| Range {
                    next: AtomicUsize::new(p * tasks / parts),
                    end: (p + 1) * tasks / parts,
                })
                .collect(),
            joined: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            spin: Duration::from_micros(50),
            func: FnPtr(func),
            fp: crate::fpmode::Bits::current(),
            panic: Mutex::new(None),
            finished: Mutex::new(false),
            wake: Condvar::new(),
        }
    }

    /// The caller's part: its own range and any help needed, then the wait for the others, then
    /// the first panic (if any) re-raised.
    fn finish(&self) {
        self.work(0);
        self.wait();
        let payload = match self.panic.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        rethrow(Mutex::new(payload));
    }

    /// Participant `own` runs the tasks of its range in order (a participant beyond the ranges
    /// starts at range `own % ranges`), then what is left of the others'.
    fn work(&self, own: usize) {
        let _fp = crate::fpmode::Scope::with(self.fp);
        let n = self.ranges.len();
        let was = IN_TASK.with(|c| c.replace(true));
        for k in 0..n {
            let range = &self.ranges[(own + k) % n];
            loop {
                let i = range.next.fetch_add(1, Ordering::Relaxed);
                if i >= range.end {
                    break;
                }
                self.run(i);
            }
        }
        IN_TASK.with(|c| c.set(was));
    }

    /// Runs claimed task `i` and counts it done (waking the caller after the last one).
    fn run(&self, i: usize) {
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

    /// Waits until every task is done: spins for `spin` (the tasks of one call are of similar
    /// size, so the others usually finish within microseconds of the caller), then sleeps.
    fn wait(&self) {
        if self.done.load(Ordering::Acquire) == self.tasks {
            return;
        }
        let start = Instant::now();
        while start.elapsed() < self.spin {
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
/// and the team (they are rebuilt on first use).
pub fn after_fork_child() {
    if let Ok(mut s) = state().write() {
        // Leak the old pool and team on purpose: their threads are gone, and joining them or
        // touching their locks (possibly held at the fork) could hang.
        if let Some(p) = s.pool.take() {
            std::mem::forget(p);
        }
        if let TeamState::Running(t) = std::mem::replace(&mut s.team, TeamState::Unbuilt) {
            std::mem::forget(t);
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
    fn nested_and_concurrent_calls_run_each_task_once() {
        use std::sync::atomic::AtomicU64;
        // Several OS threads call at once (only one can hold the team; the others use the Rayon
        // pool), and every task makes a nested call (run inline on its thread).
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for tasks in [2usize, 5, 33] {
                        let hits: Vec<AtomicU64> =
                            (0..tasks * 3).map(|_| AtomicU64::new(0)).collect();
                        for_each_task(tasks, |i| {
                            for_each_task(3, |j| {
                                hits[i * 3 + j].fetch_add(1, Ordering::Relaxed);
                            });
                        });
                        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
                    }
                });
            }
        });
    }

    #[test]
    fn helpers_take_part() {
        if num_threads() < 2 {
            return;
        }
        let caller = std::thread::current().id();
        // Tasks long enough (4 x 2 ms) that a helper starts before the caller has run them all,
        // however slowly it wakes; a few attempts in case the team is busy with another test.
        let helped = (0..20).any(|_| {
            let others = AtomicUsize::new(0);
            for_each_task(4, |_| {
                std::thread::sleep(Duration::from_millis(2));
                if std::thread::current().id() != caller {
                    others.fetch_add(1, Ordering::Relaxed);
                }
            });
            others.load(Ordering::Relaxed) > 0
        });
        assert!(helped);
    }

    #[test]
    fn ranges_cover_every_task_once() {
        for tasks in [1usize, 2, 3, 7, 8, 100] {
            for parts in 1..=5 {
                static NOOP: fn(usize) = |_| {};
                let f: &'static (dyn Fn(usize) + Sync) = &NOOP;
                let set = TaskSet::new(tasks, parts, f);
                let mut next = 0;
                for r in &set.ranges {
                    assert_eq!(r.next.load(Ordering::Relaxed), next);
                    assert!(r.end >= next);
                    next = r.end;
                }
                assert_eq!(next, tasks);
                assert_eq!(set.ranges.len(), parts.min(tasks));
            }
        }
    }

    #[test]
    fn install_runs_closure() {
        let v = install(|| 41 + 1);
        assert_eq!(v, 42);
    }
}
