//! The in-memory deadline queue: lease ids ordered by when they are due, so the timer finds
//! the next one in O(log n) and never scans every lease.

use std::collections::{BTreeSet, HashMap};

/// Due times (unix seconds) of every scheduled lease.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    queue: BTreeSet<(i64, String)>,
    at: HashMap<String, i64>,
}

impl Schedule {
    /// Schedules (or moves) `id` to `when`. Returns `true` when it became the earliest
    /// deadline, i.e. the timer must wake up and look again.
    pub(super) fn set(&mut self, id: &str, when: i64) -> bool {
        if let Some(old) = self.at.insert(id.to_string(), when) {
            self.queue.remove(&(old, id.to_string()));
        }
        self.queue.insert((when, id.to_string()));
        self.queue.first().is_some_and(|(t, i)| *t == when && i == id)
    }

    /// Unschedules `id` (revoked, forgotten).
    pub(super) fn remove(&mut self, id: &str) {
        if let Some(old) = self.at.remove(id) {
            self.queue.remove(&(old, id.to_string()));
        }
    }

    /// The earliest deadline.
    pub(super) fn next(&self) -> Option<i64> {
        self.queue.first().map(|(t, _)| *t)
    }

    /// Removes and returns every lease due at `now`, earliest first.
    pub(super) fn take_due(&mut self, now: i64) -> Vec<String> {
        let mut due = Vec::new();
        while let Some((t, _)) = self.queue.first() {
            if *t > now {
                break;
            }
            if let Some((_, id)) = self.queue.pop_first() {
                self.at.remove(&id);
                due.push(id);
            }
        }
        due
    }

    /// When `id` is due, if scheduled.
    pub(super) fn due_time(&self, id: &str) -> Option<i64> {
        self.at.get(id).copied()
    }

    /// Number of scheduled leases.
    pub(super) fn len(&self) -> usize {
        self.at.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_moves_and_takes_due() {
        let mut s = Schedule::default();
        assert!(s.set("b", 20));
        assert!(s.set("a", 10), "earlier lease becomes the next deadline");
        assert!(!s.set("c", 30));
        assert_eq!(s.next(), Some(10));
        assert!(!s.set("a", 25), "moved later: b is next");
        assert_eq!(s.next(), Some(20));
        assert_eq!(s.take_due(24), vec!["b".to_string()]);
        assert_eq!(s.take_due(30), vec!["a".to_string(), "c".to_string()]);
        assert_eq!(s.len(), 0);
        assert_eq!(s.next(), None);
    }

    #[test]
    fn remove_unschedules() {
        let mut s = Schedule::default();
        s.set("a", 5);
        s.remove("a");
        s.remove("missing");
        assert!(s.take_due(100).is_empty());
        assert_eq!(s.due_time("a"), None);
    }
}
