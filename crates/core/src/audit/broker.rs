//! The audit broker: the table of enabled devices (persisted in the barrier, restored on
//! unseal) and the calls the request path makes, `log_request` (before the backend runs) and
//! `log_response`, plus `submit_request` for requests that change nothing (the entry is written
//! while they run). All fail closed: an entry counts once one device has recorded it, and the
//! request fails when none could. With no device enabled, auditing is off and all succeed.

use super::chain::StateFile;
use super::entry::{AuditRecord, Formatter};
use super::sink::{self, Sink, bool_opt, opt};
use super::spool::Spool;
use super::writer::DeviceWriter;
use crate::barrier::{Barrier, BarrierOp};
use crate::mounts::normalize_path;
use crate::request::Response;
use crate::view::to_json;
use crate::{CoreError, Result};
use arc_swap::ArcSwap;
use coffer_crypto::{HmacKey, SecretBytes};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Barrier path of the persisted device table.
pub const AUDIT_TABLE_PATH: &str = "core/audit";
/// Barrier prefix of the per-device HMAC keys (`<prefix><device uuid>`).
pub const AUDIT_KEY_PREFIX: &str = "core/audit-key/";
const DEFAULT_SPOOL_MAX: usize = 64 << 20;

/// An entry queued on the devices: [`Pending::wait`] returns once one of them recorded it.
#[must_use = "an audit entry must be waited for before the request is answered"]
pub struct Pending {
    /// `None` when no device is enabled (auditing is off).
    acks: Option<tokio::sync::mpsc::Receiver<bool>>,
    /// Devices that will acknowledge.
    pending: usize,
}

impl Pending {
    /// Waits until one device recorded the entry; fails when none could.
    pub async fn wait(self) -> Result<()> {
        let Some(mut acks) = self.acks else {
            return Ok(());
        };
        let mut pending = self.pending;
        while pending > 0 {
            match acks.recv().await {
                Some(true) => return Ok(()),
                Some(false) => pending -= 1,
                None => break,
            }
        }
        tracing::error!("no audit device recorded the entry; refusing the request");
        Err(CoreError::Internal("audit log unavailable".into()))
    }
}

/// Server-wide audit settings.
#[derive(Debug, Clone, Default)]
pub struct BrokerOptions {
    /// Where spools (and state files of socket/syslog devices) live when a device sets no
    /// `spool_dir`. Default: a file device's own directory, else `<tmp>/coffer-audit`.
    pub spool_dir: Option<PathBuf>,
}

/// A device as `sys/audit` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDeviceInfo {
    /// Path with trailing slash, e.g. `file/`.
    pub path: String,
    /// `file`, `socket` or `syslog`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free-text description.
    pub description: String,
    /// Device options as given.
    pub options: HashMap<String, String>,
    /// Whether the device is local to this cluster.
    pub local: bool,
    /// Storage id (names the key and spool).
    pub uuid: String,
}

/// How far behind a device is (for `sys/health` and metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLag {
    /// Device path.
    pub path: String,
    /// Entries not recorded on the device yet (queued or spooled).
    pub entries: u64,
    /// Entries lost because the spool overflowed, since start.
    pub dropped: u64,
    /// Whether its last write succeeded.
    pub healthy: bool,
    /// Its last error, if any.
    pub last_error: Option<String>,
}

struct Device {
    info: AuditDeviceInfo,
    key: HmacKey,
    raw: bool,
    hmac_accessor: bool,
    writer: DeviceWriter,
}

impl Device {
    fn formatter(&self) -> Formatter<'_> {
        Formatter {
            key: &self.key,
            raw: self.raw,
            hmac_accessor: self.hmac_accessor,
        }
    }
}

/// The enabled audit devices. Cheap to share behind an `Arc`.
pub struct AuditBroker {
    barrier: Arc<Barrier>,
    options: BrokerOptions,
    devices: ArcSwap<Vec<Arc<Device>>>,
    admin: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AuditBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let paths: Vec<String> = self.devices.load().iter().map(|d| d.info.path.clone()).collect();
        f.debug_struct("AuditBroker").field("devices", &paths).finish()
    }
}

/// Opens a sink; a device that cannot open right now (at unseal) starts failed and retries.
struct LazySink {
    kind: String,
    options: HashMap<String, String>,
    inner: Option<Box<dyn Sink>>,
}

impl Sink for LazySink {
    fn write(&mut self, buf: &[u8], ends: &[usize]) -> std::io::Result<()> {
        if self.inner.is_none() {
            self.inner = Some(sink::open(&self.kind, &self.options).map_err(std::io::Error::other)?);
        }
        match &mut self.inner {
            Some(s) => s.write(buf, ends),
            None => Err(std::io::Error::other("audit device is not open")),
        }
    }

    fn reopen(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Some(s) => s.reopen(),
            None => Ok(()),
        }
    }
}

impl AuditBroker {
    /// Restores the devices persisted in the barrier (at unseal).
    pub async fn load(barrier: Arc<Barrier>, options: BrokerOptions) -> Result<AuditBroker> {
        let table: Vec<AuditDeviceInfo> = match barrier.get(AUDIT_TABLE_PATH).await? {
            Some(bytes) => serde_json::from_slice(bytes.expose())
                .map_err(|_| CoreError::Internal("audit table is corrupt".into()))?,
            None => Vec::new(),
        };
        let broker = AuditBroker {
            barrier,
            options,
            devices: ArcSwap::from_pointee(Vec::new()),
            admin: tokio::sync::Mutex::new(()),
        };
        let mut devices = Vec::with_capacity(table.len());
        for info in table {
            let key = broker
                .barrier
                .get(&format!("{AUDIT_KEY_PREFIX}{}", info.uuid))
                .await?
                .ok_or_else(|| CoreError::Internal(format!("audit device {} has no key", info.path)))?;
            let sink: Box<dyn Sink> = match sink::open(&info.kind, &info.options) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(device = %info.path, error = %e, "audit device cannot open; it will retry");
                    Box::new(LazySink {
                        kind: info.kind.clone(),
                        options: info.options.clone(),
                        inner: None,
                    })
                }
            };
            devices.push(Arc::new(broker.start(info, key, sink)?));
        }
        broker.devices.store(Arc::new(devices));
        Ok(broker)
    }

    fn start(&self, info: AuditDeviceInfo, key: SecretBytes, sink: Box<dyn Sink>) -> Result<Device> {
        let raw = bool_opt(&info.options, "log_raw", false)?;
        let hmac_accessor = bool_opt(&info.options, "hmac_accessor", true)?;
        let max = match opt(&info.options, "spool_max_bytes") {
            None => DEFAULT_SPOOL_MAX,
            Some(v) => v
                .parse()
                .map_err(|_| CoreError::bad(format!("invalid spool_max_bytes \"{v}\"")))?,
        };
        let (spool_path, state_path) = self.files(&info);
        let spool = Spool::open(spool_path, max);
        let writer = DeviceWriter::start(&info.path, sink, state_path.map(StateFile::new), spool);
        Ok(Device {
            info,
            key: HmacKey::new(key.expose()),
            raw,
            hmac_accessor,
            writer,
        })
    }

    /// Spool file and state file of a device.
    fn files(&self, info: &AuditDeviceInfo) -> (Option<PathBuf>, Option<PathBuf>) {
        let file_path = (info.kind == "file")
            .then(|| opt(&info.options, "file_path").or_else(|| opt(&info.options, "path")))
            .flatten()
            .filter(|p| !matches!(*p, "stdout" | "discard"))
            .map(PathBuf::from);
        let log_dir = file_path.as_ref().map(|p| match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        });
        let own_dir = opt(&info.options, "spool_dir")
            .map(PathBuf::from)
            .or_else(|| self.options.spool_dir.clone())
            .or_else(|| log_dir.is_none().then(|| std::env::temp_dir().join("coffer-audit")));
        // A spool directory of its own is created; a log's directory never is.
        if let Some(dir) = &own_dir
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot create the audit spool directory");
        }
        let spool_dir = own_dir
            .or_else(|| log_dir.clone())
            .unwrap_or_else(|| PathBuf::from("."));
        let stem = format!(".coffer-audit-{}", info.uuid);
        let state = match (&file_path, &log_dir) {
            (Some(p), Some(dir)) => {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                dir.join(format!(".{name}.chain"))
            }
            _ => spool_dir.join(format!("{stem}.chain")),
        };
        (Some(spool_dir.join(format!("{stem}.spool"))), Some(state))
    }

    /// Whether any device is enabled (auditing is off otherwise).
    pub fn is_enabled(&self) -> bool {
        !self.devices.load().is_empty()
    }

    /// Enables a device at `path` after checking that it can write. Persisted in the barrier.
    pub async fn enable(
        &self,
        path: &str,
        kind: &str,
        description: &str,
        options: HashMap<String, String>,
        local: bool,
    ) -> Result<()> {
        let path = normalize_path(path)?;
        let _admin = self.admin.lock().await;
        let current = self.devices.load_full();
        if current.iter().any(|d| d.info.path == path) {
            return Err(CoreError::bad(format!(
                "path already in use: an audit device is enabled at \"{path}\""
            )));
        }
        if kind == "file"
            && let Some(fp) = opt(&options, "file_path").or_else(|| opt(&options, "path"))
            && fp != "discard"
            && fp != "stdout"
            && current.iter().any(|d| {
                d.info.kind == "file"
                    && opt(&d.info.options, "file_path").or_else(|| opt(&d.info.options, "path")) == Some(fp)
            })
        {
            return Err(CoreError::bad(format!(
                "file \"{fp}\" is already written by another audit device"
            )));
        }
        let sink = sink::open(kind, &options)?;
        let info = AuditDeviceInfo {
            path,
            kind: kind.to_string(),
            description: description.to_string(),
            options,
            local,
            uuid: uuid::Uuid::new_v4().to_string(),
        };
        let key = SecretBytes::new(coffer_crypto::random_bytes(32));
        let mut table: Vec<AuditDeviceInfo> = current.iter().map(|d| d.info.clone()).collect();
        table.push(info.clone());
        let device = Arc::new(self.start(info.clone(), key.clone(), sink)?);
        self.barrier
            .batch(vec![
                BarrierOp::Put(AUDIT_TABLE_PATH.into(), to_json(&table)?),
                BarrierOp::Put(format!("{AUDIT_KEY_PREFIX}{}", info.uuid), key.expose().to_vec()),
            ])
            .await?;
        let mut devices: Vec<_> = current.iter().cloned().collect();
        devices.push(device);
        self.devices.store(Arc::new(devices));
        tracing::info!(path = %info.path, kind, "audit device enabled");
        Ok(())
    }

    /// Disables the device at `path`; `false` when none was there. Its undelivered spool is
    /// discarded; the log itself is left in place.
    pub async fn disable(&self, path: &str) -> Result<bool> {
        let path = normalize_path(path)?;
        let _admin = self.admin.lock().await;
        let current = self.devices.load_full();
        let Some(device) = current.iter().find(|d| d.info.path == path).cloned() else {
            return Ok(false);
        };
        let rest: Vec<Arc<Device>> = current.iter().filter(|d| d.info.path != path).cloned().collect();
        let table: Vec<&AuditDeviceInfo> = rest.iter().map(|d| &d.info).collect();
        self.barrier
            .batch(vec![
                BarrierOp::Put(AUDIT_TABLE_PATH.into(), to_json(&table)?),
                BarrierOp::Delete(format!("{AUDIT_KEY_PREFIX}{}", device.info.uuid)),
            ])
            .await?;
        self.devices.store(Arc::new(rest));
        device.writer.discard_spool();
        if let Some(device) = stop(device).await {
            device.writer.discard_spool();
        }
        tracing::info!(%path, "audit device disabled");
        Ok(true)
    }

    /// The enabled devices, sorted by path.
    pub fn list(&self) -> Vec<AuditDeviceInfo> {
        let mut list: Vec<_> = self.devices.load().iter().map(|d| d.info.clone()).collect();
        list.sort_by(|a, b| a.path.cmp(&b.path));
        list
    }

    /// `sys/audit-hash`: `input` HMAC'd with the key of the device at `path`.
    pub fn hash(&self, path: &str, input: &str) -> Result<String> {
        let path = normalize_path(path)?;
        let devices = self.devices.load();
        let device = devices
            .iter()
            .find(|d| d.info.path == path)
            .ok_or_else(|| CoreError::bad(format!("unknown audit backend \"{path}\"")))?;
        Ok(device.formatter().hash(input))
    }

    /// Records a request before the backend runs. `error` is set for a refused request (e.g.
    /// permission denied). Fails when no enabled device recorded it: the request must not run.
    pub async fn log_request(&self, rec: &AuditRecord<'_>, error: Option<&str>) -> Result<()> {
        self.submit(|f| f.request_entry(rec, error)).wait().await
    }

    /// Records the response (or the error) of a request. Fails when no enabled device
    /// recorded it: the response must not reach the client.
    pub async fn log_response(&self, rec: &AuditRecord<'_>, result: Result<&Response, &CoreError>) -> Result<()> {
        let error = result.as_ref().err().map(|e| e.to_string());
        self.submit(|f| f.response_entry(rec, result.map_err(|_| error.as_deref().unwrap_or(""))))
            .wait()
            .await
    }

    /// Queues the request entry without waiting for it to be recorded: for a request that
    /// changes nothing, the backend runs meanwhile, and the caller waits on the returned
    /// [`Pending`] (after the response entry) before answering.
    pub fn submit_request(&self, rec: &AuditRecord<'_>) -> Pending {
        self.submit(|f| f.request_entry(rec, None))
    }

    /// Queues one entry on every device.
    fn submit(&self, format: impl Fn(&Formatter<'_>) -> Vec<u8>) -> Pending {
        let devices = self.devices.load();
        if devices.is_empty() {
            return Pending { acks: None, pending: 0 };
        }
        let (tx, rx) = tokio::sync::mpsc::channel(devices.len());
        let mut pending = 0;
        for device in devices.iter() {
            if device.writer.submit(format(&device.formatter()), &tx) {
                pending += 1;
            }
        }
        Pending {
            acks: Some(rx),
            pending,
        }
    }

    /// Closes and reopens every device's destination (log rotation). The server calls this on
    /// SIGHUP.
    pub fn reopen(&self) {
        for device in self.devices.load().iter() {
            device.writer.reopen();
        }
    }

    /// How far behind each device is.
    pub fn lag(&self) -> Vec<DeviceLag> {
        self.devices
            .load()
            .iter()
            .map(|d| {
                let (healthy, last_error) = d.writer.health();
                DeviceLag {
                    path: d.info.path.clone(),
                    entries: d.writer.lag(),
                    dropped: d.writer.dropped(),
                    healthy,
                    last_error,
                }
            })
            .collect()
    }

    /// Stops every writer after it wrote what was queued, and waits for them (at seal).
    pub async fn shutdown(&self) {
        let devices = self.devices.swap(Arc::new(Vec::new()));
        let devices = Arc::try_unwrap(devices).unwrap_or_else(|shared| shared.as_ref().clone());
        for device in devices {
            stop(device).await;
        }
    }
}

/// Stops a device's writer and waits until it wrote its queue; hands the device back when
/// nothing else held it.
async fn stop(device: Arc<Device>) -> Option<Device> {
    let mut device = Arc::try_unwrap(device).ok()?;
    if let Some(handle) = device.writer.stop() {
        let _ = tokio::task::spawn_blocking(move || handle.join()).await;
    }
    Some(device)
}
