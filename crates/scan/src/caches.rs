//! The rule regexes' search caches (mostly lazy DFA states), kept within a memory budget.
//!
//! A search needs a mutable cache per regex. One cache per rule per thread, as the regexes'
//! own pools keep them, costs several MB per thread on a big tree and grows with the thread
//! count. Instead every rule has one cache shared by all scans, taken with `try_lock`; a scan
//! that finds it busy uses its own [`Private`] cache for that rule. Both kinds are re-measured
//! after use, and the least recently used are dropped when their total passes a budget, so
//! what stays is the working set of the rules that keep firing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::captures::Captures;

/// Bytes of shared caches kept; past this, the least recently used are dropped down to
/// [`SHARED_KEEP`]. Sizes are `Cache::memory_usage`, which leaves out allocator slack. On the
/// 247 MiB benchmark tree about 140 caches are dropped over the scan and some 7 MB stay
/// (one unbounded set per thread, as before, held 2 × 8.8 MB there).
const SHARED_BUDGET: usize = 8 << 20;
const SHARED_KEEP: usize = 6 << 20;
/// The same for the private caches of one scan (used only when two scans want one rule).
const PRIVATE_BUDGET: usize = 1 << 20;
const PRIVATE_KEEP: usize = 3 << 18;

/// One rule's search state: the regex cache and a capture buffer.
pub(crate) struct RuleCache {
    pub(crate) cache: Cache,
    pub(crate) caps: Captures,
}

impl RuleCache {
    fn new(regex: &Regex) -> Box<RuleCache> {
        Box::new(RuleCache {
            cache: regex.create_cache(),
            caps: regex.create_captures(),
        })
    }
}

#[derive(Default)]
struct Slot {
    /// Boxed: a `Cache` is over a kilobyte, and most rules never get one.
    cache: Option<Box<RuleCache>>,
    /// Memory of `cache` when last measured.
    size: usize,
    /// Epoch of the last use.
    used: u64,
}

/// Every cache of one scanner.
pub(crate) struct Caches {
    slots: Vec<Mutex<Slot>>,
    /// Sum of the slots' sizes.
    total: AtomicUsize,
    /// Counts scans (inputs); a cache's age is the number of scans since it was last used.
    epoch: AtomicU64,
    /// Held by the one scan dropping shared caches.
    trimming: Mutex<()>,
    /// Private caches of finished scans, for the next ones (one per concurrent scan at most).
    idle: Mutex<Vec<Private>>,
}

impl Caches {
    pub(crate) fn new(rules: usize) -> Caches {
        Caches {
            slots: (0..rules).map(|_| Mutex::default()).collect(),
            total: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            trimming: Mutex::new(()),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Starts a scan: its epoch and its private caches.
    pub(crate) fn begin(&self) -> Private {
        let epoch = self.epoch.fetch_add(1, Ordering::Relaxed) + 1;
        let mut private = lock(&self.idle).pop().unwrap_or_else(|| Private::new(self.slots.len()));
        private.epoch = epoch;
        private
    }

    /// Ends a scan: its private caches go back for the next.
    pub(crate) fn end(&self, private: Private) {
        lock(&self.idle).push(private);
    }

    /// Runs `search` with rule `ri`'s shared cache, or with the scan's own when another scan
    /// holds the shared one.
    pub(crate) fn with<T>(
        &self,
        ri: usize,
        regex: &Regex,
        private: &mut Private,
        search: impl FnOnce(&mut RuleCache) -> T,
    ) -> T {
        let mut slot = match self.slots[ri].try_lock() {
            Ok(slot) => slot,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return search(private.get(ri, regex)),
        };
        let out = search(slot.cache.get_or_insert_with(|| RuleCache::new(regex)));
        let size = slot.cache.as_ref().map_or(0, |c| c.cache.memory_usage());
        if size > slot.size {
            self.total.fetch_add(size - slot.size, Ordering::Relaxed);
        } else {
            self.total.fetch_sub(slot.size - size, Ordering::Relaxed);
        }
        slot.size = size;
        slot.used = private.epoch;
        out
    }

    /// Keeps the caches within their budgets (after each piece of a scan).
    pub(crate) fn trim(&self, private: &mut Private) {
        private.trim();
        if self.total.load(Ordering::Relaxed) <= SHARED_BUDGET {
            return;
        }
        let Ok(_one) = self.trimming.try_lock() else {
            return;
        };
        let mut live: Vec<(u64, usize)> = (self.slots.iter().enumerate())
            .filter_map(|(i, slot)| {
                let slot = slot.try_lock().ok()?;
                slot.cache.is_some().then_some((slot.used, i))
            })
            .collect();
        live.sort_unstable();
        for (_, i) in live {
            if self.total.load(Ordering::Relaxed) <= SHARED_KEEP {
                break;
            }
            if let Ok(mut slot) = self.slots[i].try_lock()
                && slot.cache.take().is_some()
            {
                self.total.fetch_sub(slot.size, Ordering::Relaxed);
                slot.size = 0;
            }
        }
    }

    /// Drops every cache (at the end of a walk, before the report is written).
    pub(crate) fn release(&self) {
        for slot in &self.slots {
            let mut slot = lock(slot);
            slot.cache = None;
            self.total.fetch_sub(slot.size, Ordering::Relaxed);
            slot.size = 0;
        }
        lock(&self.idle).clear();
    }

    #[cfg(test)]
    pub(crate) fn memory(&self) -> (usize, usize, usize) {
        let shared = self.slots.iter().filter(|s| lock(s).cache.is_some()).count();
        let private = lock(&self.idle).iter().map(|p| p.total).sum();
        (self.total.load(Ordering::Relaxed), shared, private)
    }
}

/// The caches of one scan, for rules whose shared cache was busy.
pub(crate) struct Private {
    caches: Vec<Option<Box<RuleCache>>>,
    /// Memory of each cache when last measured, and their sum.
    sizes: Vec<usize>,
    total: usize,
    /// Epoch of each cache's last use, and of this scan.
    used: Vec<u64>,
    epoch: u64,
    /// Caches used since the last trim (not yet re-measured), and a flag for each.
    touched: Vec<usize>,
    marked: Vec<bool>,
}

impl Private {
    fn new(rules: usize) -> Private {
        Private {
            caches: (0..rules).map(|_| None).collect(),
            sizes: vec![0; rules],
            total: 0,
            used: vec![0; rules],
            epoch: 0,
            touched: Vec::new(),
            marked: vec![false; rules],
        }
    }

    fn get(&mut self, ri: usize, regex: &Regex) -> &mut RuleCache {
        if !self.marked[ri] {
            self.marked[ri] = true;
            self.touched.push(ri);
        }
        self.used[ri] = self.epoch;
        self.caches[ri].get_or_insert_with(|| RuleCache::new(regex))
    }

    fn trim(&mut self) {
        for ri in self.touched.drain(..) {
            self.marked[ri] = false;
            let size = self.caches[ri].as_ref().map_or(0, |c| c.cache.memory_usage());
            self.total = self.total - self.sizes[ri] + size;
            self.sizes[ri] = size;
        }
        if self.total <= PRIVATE_BUDGET {
            return;
        }
        let mut live: Vec<(u64, usize)> = (0..self.caches.len())
            .filter(|&i| self.caches[i].is_some())
            .map(|i| (self.used[i], i))
            .collect();
        live.sort_unstable();
        for (_, i) in live {
            if self.total <= PRIVATE_KEEP {
                break;
            }
            self.caches[i] = None;
            self.total -= self.sizes[i];
            self.sizes[i] = 0;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
