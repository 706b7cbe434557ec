//! User lockout for userpass, as Vault's: after `lockout_threshold` failed logins, each within
//! `lockout_counter_reset` of the previous one, the name is locked for `lockout_duration` and
//! logins answer 403 without checking the password. A successful login resets the counter.
//!
//! Configured per mount with `auth/<mount>/config` (stored in the mount's view). The failure
//! counters live in memory on the node that saw the attempts; they are lost on restart.

use crate::kv::fields::{boolean, uint};
use coffer_core::duration::parse_field;
use coffer_core::request::{Operation, Response, ignored_fields_warning};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Storage key of the mount's lockout configuration.
const CONFIG_KEY: &str = "config";
/// Past this many tracked names, stale entries are pruned on the next failure.
const PRUNE_AT: usize = 10_000;
const CONFIG_FIELDS: &[&str] = &[
    "lockout_threshold",
    "lockout_duration",
    "lockout_counter_reset",
    "disable_lockout",
];

/// A mount's lockout settings (durations in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockoutConfig {
    /// Failed attempts that lock a user (default 5).
    pub lockout_threshold: u64,
    /// How long a locked user stays locked (default 15 minutes).
    pub lockout_duration: u64,
    /// Idle time after which the failure counter starts again (default 30 seconds).
    pub lockout_counter_reset: u64,
    /// Turns lockout off for the mount.
    pub disable_lockout: bool,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            lockout_threshold: 5,
            lockout_duration: 15 * 60,
            lockout_counter_reset: 30,
            disable_lockout: false,
        }
    }
}

impl LockoutConfig {
    /// The mount's configuration, or the defaults.
    pub async fn load(view: &View) -> Result<LockoutConfig> {
        Ok(view.get_json(CONFIG_KEY).await?.unwrap_or_default())
    }
}

/// `auth/<mount>/config`: read or update the lockout settings.
pub async fn handle_config(view: &View, op: Operation, data: &Map<String, Value>) -> Result<Response> {
    match op {
        Operation::Read => {
            let c = LockoutConfig::load(view).await?;
            Ok(Response::data(json!(c)))
        }
        Operation::Create | Operation::Update => {
            let mut c = LockoutConfig::load(view).await?;
            if let Some(n) = uint(data, "lockout_threshold")? {
                if n == 0 {
                    return Err(CoreError::bad(
                        "lockout_threshold must be at least 1 (use disable_lockout to turn lockout off)",
                    ));
                }
                c.lockout_threshold = n;
            }
            if let Some(d) = parse_field(data, "lockout_duration")? {
                c.lockout_duration = d;
            }
            if let Some(d) = parse_field(data, "lockout_counter_reset")? {
                c.lockout_counter_reset = d;
            }
            if let Some(b) = boolean(data, "disable_lockout")? {
                c.disable_lockout = b;
            }
            view.put_json(CONFIG_KEY, &c).await?;
            let mut resp = Response::empty();
            resp.warnings.extend(ignored_fields_warning(data, CONFIG_FIELDS));
            Ok(resp)
        }
        _ => Err(CoreError::UnsupportedOperation),
    }
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u64,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

/// Failed-login counters per user name, in memory.
#[derive(Debug, Default)]
pub struct Lockouts {
    names: Mutex<HashMap<String, Attempts>>,
}

impl Lockouts {
    fn names(&self) -> std::sync::MutexGuard<'_, HashMap<String, Attempts>> {
        // A poisoned lock only means another login panicked mid-update; the map is still usable.
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `name` is locked now. An expired lock is lifted (and its counter cleared).
    pub fn is_locked(&self, name: &str, config: &LockoutConfig) -> bool {
        if config.disable_lockout {
            return false;
        }
        let now = Instant::now();
        let mut names = self.names();
        match names.get(name).and_then(|a| a.locked_until) {
            Some(until) if until > now => true,
            Some(_) => {
                names.remove(name);
                false
            }
            None => false,
        }
    }

    /// Counts a failed login; returns `true` when this failure locks the name.
    pub fn record_failure(&self, name: &str, config: &LockoutConfig) -> bool {
        if config.disable_lockout {
            return false;
        }
        let now = Instant::now();
        let reset = Duration::from_secs(config.lockout_counter_reset);
        let mut names = self.names();
        if names.len() >= PRUNE_AT {
            names.retain(|_, a| match a.locked_until {
                Some(until) => until > now,
                None => now.duration_since(a.last_failure) <= reset,
            });
        }
        let entry = names.entry(name.to_string()).or_insert(Attempts {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if now.duration_since(entry.last_failure) > reset {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures >= config.lockout_threshold && entry.locked_until.is_none() {
            entry.locked_until = Some(now + Duration::from_secs(config.lockout_duration));
            return true;
        }
        false
    }

    /// Clears the counter after a successful login.
    pub fn reset(&self, name: &str) {
        self.names().remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_threshold_and_unlocks_after_duration() {
        let config = LockoutConfig {
            lockout_threshold: 2,
            lockout_duration: 0,
            lockout_counter_reset: 60,
            disable_lockout: false,
        };
        let l = Lockouts::default();
        assert!(!l.record_failure("a", &config));
        assert!(!l.is_locked("a", &config));
        assert!(l.record_failure("a", &config));
        // Zero duration: the lock is already over.
        std::thread::sleep(Duration::from_millis(5));
        assert!(!l.is_locked("a", &config));
        assert!(!l.record_failure("a", &config), "counter starts again after unlock");

        let long = LockoutConfig {
            lockout_duration: 60,
            ..config
        };
        l.record_failure("b", &long);
        l.record_failure("b", &long);
        assert!(l.is_locked("b", &long));
        assert!(!l.is_locked(
            "b",
            &LockoutConfig {
                disable_lockout: true,
                ..long
            }
        ));
        l.reset("b");
        assert!(!l.is_locked("b", &long));
    }

    #[test]
    fn counter_resets_after_idle_time() {
        let config = LockoutConfig {
            lockout_threshold: 2,
            lockout_duration: 60,
            lockout_counter_reset: 0,
            disable_lockout: false,
        };
        let l = Lockouts::default();
        l.record_failure("a", &config);
        std::thread::sleep(Duration::from_millis(5));
        assert!(!l.record_failure("a", &config), "the first failure was forgotten");
    }
}
