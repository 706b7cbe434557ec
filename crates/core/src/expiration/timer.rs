//! The expiry timer: one task that sleeps until the earliest lease deadline (woken early when
//! an earlier lease arrives), revokes what is due, and stops on seal.

use super::manager::{Mode, Shared};
use crate::CoreError;
use crate::time::now_unix;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Seconds before a failed revocation is tried again.
const RETRY_SECS: i64 = 10;

/// Time from now until the unix second `at` begins (zero if past).
fn until(at: i64) -> Duration {
    let target = UNIX_EPOCH + Duration::from_secs(at.max(0) as u64);
    target.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}

async fn sleep_until(at: Option<i64>) {
    match at {
        Some(at) => tokio::time::sleep(until(at)).await,
        None => std::future::pending().await,
    }
}

/// Runs until `stop` turns true or its sender is dropped, or the barrier is sealed.
pub(super) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    tracing::debug!("lease expiry timer started");
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        let next = shared.schedule.lock().next();
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
            _ = shared.wake.notified() => continue,
            _ = sleep_until(next) => {}
        }
        let now = now_unix();
        let due = shared.schedule.lock().take_due(now);
        for id in due {
            if *stop.borrow() {
                // Not revoked now: still stored, so loaded and revoked at the next unseal.
                break;
            }
            match shared.revoke(&id, Mode::IfExpired(now)).await {
                Ok(_) => {}
                Err(CoreError::Sealed) => {
                    tracing::debug!("lease expiry timer stopped: sealed");
                    return;
                }
                Err(e) => {
                    tracing::warn!(lease_id = %id, error = %e, retry_in = RETRY_SECS, "lease revocation failed");
                    shared.schedule_at(&id, now + RETRY_SECS);
                }
            }
        }
    }
    tracing::debug!("lease expiry timer stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_is_zero_for_the_past_and_bounded_for_the_future() {
        assert_eq!(until(0), Duration::ZERO);
        let d = until(now_unix() + 2);
        assert!(d <= Duration::from_secs(2) && d > Duration::from_secs(0), "{d:?}");
    }
}
