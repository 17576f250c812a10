//! The task team: `num_threads() - 1` helper threads that run [`super::for_each_task`] work
//! beside the calling thread, waiting for the next call by spinning briefly before they sleep.
//!
//! Why not the Rayon pool: a sleeping Rayon worker handed a job took 30 µs to 1.5 ms to start on
//! the reference machine (measured: mean start delay of the helper of a 1.7 ms reduction, 810 µs
//! back to back, 1.55 ms after 10 ms idle), and after an idle spell the Linux scheduler often
//! wakes it on the caller's own core, where it waits for the caller to be preempted. A parallel
//! kernel of a millisecond then runs mostly on one core. OpenMP (PyTorch's threads) avoids this
//! by spinning after each parallel region; the team does the same: after a call, each helper
//! watches for the next one for [`spin_time`] (default 300 µs, `FERROGRAD_SPIN_US`; none when
//! there are more threads than CPUs), so back-to-back kernels start on every core in well under
//! a microsecond. After that it sleeps on a condition variable and costs nothing.
//!
//! Helper `p` is always the same OS thread, so with the per-participant task ranges of
//! [`super::TaskSet`] each thread processes the same part of the data call after call (cache
//! affinity, as with OpenMP's static schedule).
//!
//! One caller at a time owns the team ([`Team::try_begin`]); a concurrent caller (another Python
//! thread with the GIL released) falls back to the Rayon pool.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::TaskSet;

/// Default time a helper watches for the next call before sleeping.
const DEFAULT_SPIN_US: u64 = 300;

/// How long helpers spin after a call: `FERROGRAD_SPIN_US` (0 to 100000) if set, else 300 µs;
/// zero when the team would have more threads than the machine has CPUs (spinning would then
/// take time from the threads doing the work).
pub(super) fn spin_time(threads: usize) -> Duration {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if threads > cpus {
        return Duration::ZERO;
    }
    let us = std::env::var("FERROGRAD_SPIN_US")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|v| v.min(100_000))
        .unwrap_or(DEFAULT_SPIN_US);
    Duration::from_micros(us)
}

/// What the helpers watch, under the lock.
struct Slot {
    /// Bumped for every posted call.
    gen: u64,
    /// The current call's tasks (cleared by the caller when the call is over).
    job: Option<Arc<TaskSet>>,
    /// Helpers sleeping on `wake`.
    sleepers: usize,
    shutdown: bool,
}

struct Shared {
    slot: Mutex<Slot>,
    /// A copy of `slot.gen` that spinning helpers read without the lock.
    gen: AtomicU64,
    wake: Condvar,
    spin: Duration,
}

fn lock(m: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    match m.lock() {
        Ok(g) => g,
        Err(e) => e.into_inner(),
    }
}

pub(super) struct Team {
    shared: Arc<Shared>,
    helpers: usize,
    busy: AtomicBool,
}

/// Ownership of the team for one call; releases it when dropped.
pub(super) struct Lease<'a> {
    team: &'a Team,
}

impl Team {
    /// Starts `helpers` helper threads (fewer if the system refuses threads); None if none
    /// could be started.
    pub(super) fn start(helpers: usize, spin: Duration) -> Option<Team> {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot {
                gen: 0,
                job: None,
                sleepers: 0,
                shutdown: false,
            }),
            gen: AtomicU64::new(0),
            wake: Condvar::new(),
            spin,
        });
        let mut started = 0;
        for p in 1..=helpers {
            let s = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("ferrograd-team-{p}"))
                .spawn(move || helper_loop(&s, p));
            if spawned.is_err() {
                break;
            }
            started += 1;
        }
        if started == 0 {
            return None;
        }
        Some(Team {
            shared,
            helpers: started,
            busy: AtomicBool::new(false),
        })
    }

    /// The number of helper threads (participants besides the caller).
    pub(super) fn helpers(&self) -> usize {
        self.helpers
    }

    /// How long helpers (and the caller, waiting for them) spin before sleeping.
    pub(super) fn spin(&self) -> Duration {
        self.shared.spin
    }

    /// Takes the team for one call, or None when another call holds it.
    pub(super) fn try_begin(&self) -> Option<Lease<'_>> {
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Lease { team: self })
    }
}

impl Lease<'_> {
    /// Hands `set` to the helpers (spinning ones see it at once, sleeping ones are woken).
    pub(super) fn post(&self, set: &Arc<TaskSet>) {
        let sh = &self.team.shared;
        let mut g = lock(&sh.slot);
        g.gen += 1;
        g.job = Some(set.clone());
        sh.gen.store(g.gen, Ordering::Release);
        if g.sleepers > 0 {
            sh.wake.notify_all();
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // The call is over: no helper may start its (finished) tasks any more.
        lock(&self.team.shared.slot).job = None;
        self.team.busy.store(false, Ordering::Release);
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        let mut g = lock(&self.shared.slot);
        g.shutdown = true;
        self.shared.wake.notify_all();
    }
}

/// Helper `p`: runs each posted call's tasks (its own range first), then waits for the next.
fn helper_loop(sh: &Shared, p: usize) {
    let mut seen = 0u64;
    loop {
        let start = Instant::now();
        while sh.gen.load(Ordering::Acquire) == seen && start.elapsed() < sh.spin {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        }
        let job = {
            let mut g = lock(&sh.slot);
            while g.gen == seen && !g.shutdown {
                g.sleepers += 1;
                g = match sh.wake.wait(g) {
                    Ok(g) => g,
                    Err(e) => e.into_inner(),
                };
                g.sleepers -= 1;
            }
            if g.shutdown {
                return;
            }
            seen = g.gen;
            g.job.clone()
        };
        if let Some(set) = job {
            set.work(p);
        }
    }
}
