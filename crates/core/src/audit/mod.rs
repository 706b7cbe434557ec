//! Audit: every request and response on record, in Vault's audit entry shape, on one or more
//! devices (`file`, `socket`, `syslog`), with secrets HMAC'd and each entry chained to the one
//! before it so that an edited, deleted, inserted or reordered line is detectable.
//!
//! - `broker`: the device table (persisted in the barrier like the mount table), `enable`,
//!   `disable`, `list`, `hash`, and `log_request`/`log_response`, which fail closed: a request
//!   is answered only once at least one device holds its entry.
//! - `entry` and `hash`: building an entry and HMAC-ing its values with a per-device key.
//! - `chain`: the `seq`/`prev_hash` fields every line carries; `verify`: checking a file.
//! - `sink`, `writer`, `spool`: per device, one writer thread commits everything queued as
//!   one write (one fsync for a file); a device that fails or falls behind gets its entries
//!   from a bounded on-disk spool and catches up in the background.

mod broker;
mod chain;
mod entry;
mod hash;
mod sink;
mod spool;
mod verify;
mod writer;

pub use broker::{AUDIT_KEY_PREFIX, AUDIT_TABLE_PATH, AuditBroker, AuditDeviceInfo, BrokerOptions, DeviceLag, Pending};
pub use chain::GENESIS_HASH;
pub use entry::{AuditAuth, AuditRecord};
pub use hash::hash_string;
pub use verify::{Gap, Problem, ProblemKind, VerifyReport, verify};
