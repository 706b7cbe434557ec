//! Request metrics for `sys/metrics`: a request counter and a latency histogram per mount and
//! operation, plus the renderers (Prometheus text exposition format 0.0.4, and the JSON shape
//! of Vault's go-metrics in-memory sink).
//!
//! The hot path (`Metrics::record`) takes no lock and allocates nothing once a mount has been
//! seen: one `ArcSwap` load of the per-mount map, one FNV hash of the mount point, three
//! relaxed atomic adds and two relaxed loads (min/max). A mount's series are registered on its
//! first request under a mutex that requests never take again.

use crate::error::CoreError;
use crate::request::{Operation, Response};
use arc_swap::ArcSwap;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Content type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets in nanoseconds (100 µs … 10 s); `+Inf` follows.
pub const BUCKET_BOUNDS_NANOS: [u64; 16] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];
const BUCKETS: usize = BUCKET_BOUNDS_NANOS.len() + 1;

/// Mounts tracked separately; requests to further ones (mount churn) count under `other`.
const MAX_MOUNTS: usize = 1024;
const OTHER: &str = "other";

/// The operations, in the order of their series.
const OPERATIONS: [Operation; 6] = [
    Operation::Read,
    Operation::Create,
    Operation::Update,
    Operation::Patch,
    Operation::Delete,
    Operation::List,
];

/// Status classes counted, by index: 1xx/2xx, 3xx, 4xx, 5xx.
const STATUS_CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

fn op_index(op: Operation) -> usize {
    match op {
        Operation::Read => 0,
        Operation::Create => 1,
        Operation::Update => 2,
        Operation::Patch => 3,
        Operation::Delete => 4,
        Operation::List => 5,
    }
}

/// Index into `STATUS_CLASSES` of the HTTP status the server answers `result` with.
fn status_class(result: &Result<Response, CoreError>) -> usize {
    let status = match result {
        Ok(resp) => resp.status.unwrap_or(200),
        // Matches the server's mapping: these are 503 and 500; every other error is a 4xx.
        Err(
            CoreError::Sealed
            | CoreError::NotInitialized
            | CoreError::Storage(_)
            | CoreError::Crypto(_)
            | CoreError::Internal(_),
        ) => 500,
        Err(_) => 400,
    };
    match status {
        ..300 => 0,
        300..400 => 1,
        400..500 => 2,
        _ => 3,
    }
}

/// A fixed-bucket latency histogram in atomics. Buckets hold non-cumulative counts; the
/// snapshot makes them cumulative, and the count is their total, so `+Inf` always equals it.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    sum_nanos: AtomicU64,
    min_nanos: AtomicU64,
    max_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
            min_nanos: AtomicU64::new(u64::MAX),
            max_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        // `le` semantics: the first bucket whose bound is >= the value.
        let i = BUCKET_BOUNDS_NANOS.partition_point(|&bound| bound < nanos);
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(nanos, Relaxed);
        // Loads first: a new extreme is rare, so the shared line is seldom written.
        if nanos > self.max_nanos.load(Relaxed) {
            self.max_nanos.fetch_max(nanos, Relaxed);
        }
        if nanos < self.min_nanos.load(Relaxed) {
            self.min_nanos.fetch_min(nanos, Relaxed);
        }
    }

    /// A point-in-time copy.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = [0u64; BUCKETS];
        let mut total = 0u64;
        for (slot, bucket) in cumulative.iter_mut().zip(&self.buckets) {
            total += bucket.load(Relaxed);
            *slot = total;
        }
        HistogramSnapshot {
            cumulative,
            sum_nanos: self.sum_nanos.load(Relaxed),
            min_nanos: self.min_nanos.load(Relaxed),
            max_nanos: self.max_nanos.load(Relaxed),
        }
    }
}

/// A histogram's values at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Cumulative counts per bucket of `BUCKET_BOUNDS_NANOS`, then `+Inf`.
    pub cumulative: [u64; BUCKETS],
    /// Sum of the observations, nanoseconds.
    pub sum_nanos: u64,
    /// Smallest observation (`u64::MAX` when empty).
    pub min_nanos: u64,
    /// Largest observation.
    pub max_nanos: u64,
}

impl HistogramSnapshot {
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.cumulative[BUCKETS - 1]
    }
}

#[derive(Default)]
struct OpSeries {
    statuses: [AtomicU64; STATUS_CLASSES.len()],
    latency: Histogram,
}

#[derive(Default)]
struct MountSeries {
    ops: [OpSeries; OPERATIONS.len()],
}

/// FNV-1a. The keys are mount points (created by operators; a request to an unmounted path
/// counts under `""`), so SipHash's resistance to chosen keys buys nothing, and it is most of
/// the cost of a lookup.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type SeriesMap = HashMap<Box<str>, Arc<MountSeries>, std::hash::BuildHasherDefault<Fnv>>;

/// The request metrics of one server (they survive seal and unseal).
pub struct Metrics {
    started: Instant,
    started_unix: f64,
    mounts: ArcSwap<SeriesMap>,
    /// Taken only to register a mount's series, never on the steady path.
    register: parking_lot::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("mounts", &self.mounts.load().len())
            .finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics; uptime counts from now.
    pub fn new() -> Self {
        Metrics {
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            mounts: ArcSwap::from_pointee(SeriesMap::default()),
            register: parking_lot::Mutex::new(()),
        }
    }

    /// Records one finished request: `mount` is the mount point that served it (`""` when it
    /// failed before routing), `op` the operation asked for.
    pub fn record(&self, mount: &str, op: Operation, result: &Result<Response, CoreError>, elapsed: Duration) {
        let status = status_class(result);
        let map = self.mounts.load();
        let series = map
            .get(mount)
            .or_else(|| if map.len() > MAX_MOUNTS { map.get(OTHER) } else { None });
        match series {
            Some(series) => series.record(op, status, elapsed),
            None => {
                drop(map);
                self.register(mount).record(op, status, elapsed);
            }
        }
    }

    fn register(&self, mount: &str) -> Arc<MountSeries> {
        let _guard = self.register.lock();
        let map = self.mounts.load();
        if let Some(series) = map.get(mount) {
            return series.clone();
        }
        let key = if map.len() >= MAX_MOUNTS { OTHER } else { mount };
        if let Some(series) = map.get(key) {
            return series.clone();
        }
        let series = Arc::new(MountSeries::default());
        let mut next = SeriesMap::clone(&map);
        next.insert(key.into(), series.clone());
        self.mounts.store(Arc::new(next));
        series
    }

    /// Seconds since the metrics were created (server start).
    pub fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Every metric family: the request series, then `gauges`' values.
    pub fn families(&self, gauges: &Gauges) -> Vec<Family> {
        let map = self.mounts.load();
        let mut mounts: Vec<(&str, &Arc<MountSeries>)> = map.iter().map(|(k, v)| (&**k, v)).collect();
        mounts.sort_by_key(|(k, _)| *k);
        let mut requests = Family::new(
            "coffer_requests_total",
            "coffer.requests",
            "Requests handled, by mount point, operation and status class.",
            Kind::Counter,
        );
        let mut latency = Family::new(
            "coffer_request_duration_seconds",
            "coffer.request.duration",
            "Time to handle a request in the core (token, ACL, audit, backend), by mount and operation.",
            Kind::Histogram,
        );
        for (mount, series) in mounts {
            for (op, s) in OPERATIONS.iter().zip(&series.ops) {
                let labels = vec![("mount", mount.to_string()), ("operation", op.as_str().to_string())];
                for (class, counter) in STATUS_CLASSES.iter().zip(&s.statuses) {
                    let n = counter.load(Relaxed);
                    if n > 0 {
                        let mut l = labels.clone();
                        l.push(("status", class.to_string()));
                        requests.push(l, Sample::Value(n as f64));
                    }
                }
                let snap = s.latency.snapshot();
                if snap.count() > 0 {
                    latency.push(labels, Sample::Histogram(snap));
                }
            }
        }
        let uptime = self.uptime();
        let mut out = vec![requests, latency];
        out.push(Family::single(
            "coffer_core_unsealed",
            "coffer.core.unsealed",
            "1 when the barrier is unsealed, else 0.",
            f64::from(u8::from(gauges.unsealed)),
        ));
        out.push(Family::single(
            "coffer_expire_num_leases",
            "coffer.expire.num_leases",
            "Leases (tokens with a TTL, leased secrets) the expiration manager holds.",
            gauges.leases as f64,
        ));
        let mut mounts = Family::new(
            "coffer_core_mount_table_num_entries",
            "coffer.core.mount_table.num_entries",
            "Mounts in the mount table, by type (auth or logical).",
            Kind::Gauge,
        );
        for (kind, n) in [("auth", gauges.auth_mounts), ("logical", gauges.logical_mounts)] {
            mounts.push(vec![("type", kind.to_string())], Sample::Value(n as f64));
        }
        out.push(mounts);
        let mut lag = Family::new(
            "coffer_audit_device_lag_entries",
            "coffer.audit.device.lag_entries",
            "Audit entries queued or spooled, not yet recorded on the device.",
            Kind::Gauge,
        );
        let mut dropped = Family::new(
            "coffer_audit_device_dropped_total",
            "coffer.audit.device.dropped",
            "Audit entries lost because the device's spool overflowed, since start.",
            Kind::Counter,
        );
        let mut healthy = Family::new(
            "coffer_audit_device_healthy",
            "coffer.audit.device.healthy",
            "1 when the device's last write succeeded, else 0.",
            Kind::Gauge,
        );
        for d in &gauges.audit {
            let labels = vec![("device", d.path.clone())];
            lag.push(labels.clone(), Sample::Value(d.entries as f64));
            dropped.push(labels.clone(), Sample::Value(d.dropped as f64));
            healthy.push(labels, Sample::Value(f64::from(u8::from(d.healthy))));
        }
        out.extend([lag, dropped, healthy]);
        let mut build = Family::new(
            "coffer_build_info",
            "coffer.build_info",
            "Always 1; the labels name the build.",
            Kind::Gauge,
        );
        build.push(
            vec![("version", env!("CARGO_PKG_VERSION").to_string())],
            Sample::Value(1.0),
        );
        out.push(build);
        out.push(Family::single(
            "coffer_process_uptime_seconds",
            "coffer.process.uptime_seconds",
            "Seconds since the server started.",
            uptime,
        ));
        out.push(Family::single(
            "coffer_process_start_time_seconds",
            "coffer.process.start_time_seconds",
            "Start time of the server, seconds since the unix epoch.",
            self.started_unix,
        ));
        out
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self, gauges: &Gauges) -> String {
        render_prometheus(&self.families(gauges))
    }

    /// The JSON of Vault's `sys/metrics` without `format` (go-metrics' in-memory sink):
    /// `Timestamp`, `Gauges`, `Points`, `Counters`, `Samples`. Counts are since start (not a
    /// 10-second interval as in Vault), `Rate` is per second over the uptime, and latency
    /// samples are in milliseconds as go-metrics times them.
    pub fn json(&self, gauges: &Gauges) -> Value {
        render_json(&self.families(gauges), self.uptime())
    }
}

impl MountSeries {
    fn record(&self, op: Operation, status: usize, elapsed: Duration) {
        let s = &self.ops[op_index(op)];
        s.statuses[status].fetch_add(1, Relaxed);
        s.latency.observe(elapsed);
    }
}

/// State-derived values read at scrape time.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Whether the barrier is unsealed.
    pub unsealed: bool,
    /// Leases the expiration manager holds.
    pub leases: usize,
    /// Auth mounts.
    pub auth_mounts: usize,
    /// Secret engine and system mounts.
    pub logical_mounts: usize,
    /// Audit devices and how far behind each is.
    pub audit: Vec<crate::audit::DeviceLag>,
}

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets at restart).
    Counter,
    /// A current value.
    Gauge,
    /// Bucketed observations with sum and count.
    Histogram,
}

/// One series' value.
#[derive(Debug, Clone)]
pub enum Sample {
    /// A counter or gauge value.
    Value(f64),
    /// A histogram.
    Histogram(HistogramSnapshot),
}

/// A metric family: name, help, type and its series.
#[derive(Debug, Clone)]
pub struct Family {
    /// Prometheus name.
    pub name: &'static str,
    /// Dotted name in the JSON format (Vault's go-metrics style).
    pub json_name: &'static str,
    /// One-line help.
    pub help: &'static str,
    /// Type.
    pub kind: Kind,
    /// Label sets and values.
    pub series: Vec<(Vec<(&'static str, String)>, Sample)>,
}

impl Family {
    fn new(name: &'static str, json_name: &'static str, help: &'static str, kind: Kind) -> Self {
        Family {
            name,
            json_name,
            help,
            kind,
            series: Vec::new(),
        }
    }

    fn single(name: &'static str, json_name: &'static str, help: &'static str, value: f64) -> Self {
        let mut f = Family::new(name, json_name, help, Kind::Gauge);
        f.push(Vec::new(), Sample::Value(value));
        f
    }

    fn push(&mut self, labels: Vec<(&'static str, String)>, sample: Sample) {
        self.series.push((labels, sample));
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

fn label_set(labels: &[(&str, String)], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Renders families in the Prometheus text exposition format.
pub fn render_prometheus(families: &[Family]) -> String {
    let mut out = String::with_capacity(4096);
    for f in families {
        let kind = match f.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {} {help}", f.name);
        let _ = writeln!(out, "# TYPE {} {kind}", f.name);
        for (labels, sample) in &f.series {
            match sample {
                Sample::Value(v) => {
                    let _ = writeln!(out, "{}{} {}", f.name, label_set(labels, None), fmt_value(*v));
                }
                Sample::Histogram(h) => {
                    for (i, cum) in h.cumulative.iter().enumerate() {
                        let le = match BUCKET_BOUNDS_NANOS.get(i) {
                            Some(bound) => fmt_value(*bound as f64 / 1e9),
                            None => "+Inf".into(),
                        };
                        let _ = writeln!(out, "{}_bucket{} {cum}", f.name, label_set(labels, Some(("le", &le))));
                    }
                    let set = label_set(labels, None);
                    let _ = writeln!(out, "{}_sum{set} {}", f.name, fmt_value(h.sum_nanos as f64 / 1e9));
                    let _ = writeln!(out, "{}_count{set} {}", f.name, h.count());
                }
            }
        }
    }
    out
}

/// Renders families as go-metrics' JSON summary.
pub fn render_json(families: &[Family], uptime_secs: f64) -> Value {
    let rate = |sum: f64| if uptime_secs > 0.0 { sum / uptime_secs } else { 0.0 };
    let labels_json = |labels: &[(&str, String)]| -> Value {
        Value::Object(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect::<Map<_, _>>(),
        )
    };
    let (mut gauges, mut counters, mut samples) = (Vec::new(), Vec::new(), Vec::new());
    for f in families {
        for (labels, sample) in &f.series {
            match (f.kind, sample) {
                (Kind::Gauge, Sample::Value(v)) => gauges.push(json!({
                    "Name": f.json_name, "Value": v, "Labels": labels_json(labels),
                })),
                (Kind::Counter, Sample::Value(v)) => {
                    let one = if *v > 0.0 { 1.0 } else { 0.0 };
                    counters.push(json!({
                        "Name": f.json_name, "Count": *v as u64, "Rate": rate(*v), "Sum": v,
                        "Min": one, "Max": one, "Mean": one, "Stddev": 0.0, "Labels": labels_json(labels),
                    }))
                }
                (_, Sample::Histogram(h)) => {
                    let ms = |nanos: u64| nanos as f64 / 1e6;
                    let count = h.count();
                    let sum = ms(h.sum_nanos);
                    samples.push(json!({
                        "Name": f.json_name, "Count": count, "Rate": rate(sum), "Sum": sum,
                        "Min": if count == 0 { 0.0 } else { ms(h.min_nanos) }, "Max": ms(h.max_nanos),
                        "Mean": if count == 0 { 0.0 } else { sum / count as f64 },
                        "Labels": labels_json(labels),
                    }));
                }
                (_, Sample::Value(v)) => gauges.push(json!({
                    "Name": f.json_name, "Value": v, "Labels": labels_json(labels),
                })),
            }
        }
    }
    json!({
        "Timestamp": go_timestamp(SystemTime::now()),
        "Gauges": gauges,
        "Points": [],
        "Counters": counters,
        "Samples": samples,
    })
}

/// `2019-05-22 13:36:20 +0000 UTC`, as go-metrics prints its interval.
fn go_timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn histogram_buckets_are_le_and_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50)); // <= 100 µs
        h.observe(Duration::from_micros(100)); // exactly on a bound: that bucket (le)
        h.observe(Duration::from_micros(101)); // next bucket (250 µs)
        h.observe(ms(3)); // 5 ms bucket
        h.observe(Duration::from_secs(60)); // +Inf only
        let s = h.snapshot();
        assert_eq!(s.count(), 5);
        assert_eq!(s.cumulative[0], 2, "50 µs and 100 µs are <= 0.0001");
        assert_eq!(s.cumulative[1], 3);
        assert_eq!(s.cumulative[4], 3, "nothing in (1 ms, 2.5 ms]");
        assert_eq!(s.cumulative[5], 4);
        assert_eq!(s.cumulative[BUCKETS - 2], 4, "60 s is above the last finite bound");
        assert_eq!(s.cumulative[BUCKETS - 1], 5);
        assert!(
            s.cumulative.windows(2).all(|w| w[0] <= w[1]),
            "cumulative: {:?}",
            s.cumulative
        );
        assert_eq!(s.sum_nanos, 50_000 + 100_000 + 101_000 + 3_000_000 + 60_000_000_000);
        assert_eq!(s.min_nanos, 50_000);
        assert_eq!(s.max_nanos, 60_000_000_000);
    }

    #[test]
    fn empty_histogram() {
        let s = Histogram::default().snapshot();
        assert_eq!(s.count(), 0);
        assert_eq!(s.sum_nanos, 0);
        assert!(s.cumulative.iter().all(|c| *c == 0));
    }

    #[test]
    fn histogram_counts_concurrent_observations() {
        let h = Arc::new(Histogram::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let h = h.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u64 {
                        h.observe(Duration::from_micros((i * 7 + t) % 20_000));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = h.snapshot();
        assert_eq!(s.count(), 40_000);
        assert!(s.cumulative.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn records_per_mount_operation_and_status() {
        let m = Metrics::new();
        let ok: Result<Response, CoreError> = Ok(Response::empty());
        let denied: Result<Response, CoreError> = Err(CoreError::PermissionDenied);
        let broken: Result<Response, CoreError> = Err(CoreError::Internal("x".into()));
        let standby: Result<Response, CoreError> = Ok(Response::raw(429, json!({})));
        for _ in 0..3 {
            m.record("secret/", Operation::Read, &ok, ms(1));
        }
        m.record("secret/", Operation::Read, &denied, ms(1));
        m.record("secret/", Operation::Update, &broken, ms(1));
        m.record("sys/", Operation::Read, &standby, ms(1));
        m.record("", Operation::Read, &denied, ms(1));
        let text = m.prometheus(&Gauges::default());
        for line in [
            r#"coffer_requests_total{mount="secret/",operation="read",status="2xx"} 3"#,
            r#"coffer_requests_total{mount="secret/",operation="read",status="4xx"} 1"#,
            r#"coffer_requests_total{mount="secret/",operation="update",status="5xx"} 1"#,
            r#"coffer_requests_total{mount="sys/",operation="read",status="4xx"} 1"#,
            r#"coffer_requests_total{mount="",operation="read",status="4xx"} 1"#,
            r#"coffer_request_duration_seconds_count{mount="secret/",operation="read"} 4"#,
            r#"coffer_request_duration_seconds_bucket{mount="secret/",operation="read",le="0.001"} 4"#,
            r#"coffer_request_duration_seconds_bucket{mount="secret/",operation="read",le="0.0005"} 0"#,
            r#"coffer_request_duration_seconds_bucket{mount="secret/",operation="read",le="+Inf"} 4"#,
            r#"coffer_request_duration_seconds_sum{mount="secret/",operation="read"} 0.004"#,
            "coffer_core_unsealed 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        assert!(
            !text.contains("operation=\"list\""),
            "no series for operations never seen"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.record("we\"ird\\mount\n/", Operation::Read, &Ok(Response::empty()), ms(1));
        let text = m.prometheus(&Gauges::default());
        assert!(text.contains(r#"mount="we\"ird\\mount\n/""#), "{text}");
    }

    #[test]
    fn mount_churn_is_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_MOUNTS + 10 {
            m.record(&format!("m{i}/"), Operation::Read, &Ok(Response::empty()), ms(1));
        }
        assert_eq!(m.mounts.load().len(), MAX_MOUNTS + 1, "the rest count under \"other\"");
        let text = m.prometheus(&Gauges::default());
        assert!(text.contains(r#"coffer_requests_total{mount="other",operation="read",status="2xx"} 10"#));
    }

    #[test]
    fn json_has_go_metrics_shape() {
        let m = Metrics::new();
        m.record("secret/", Operation::Read, &Ok(Response::empty()), ms(2));
        m.record("secret/", Operation::Read, &Ok(Response::empty()), ms(4));
        let gauges = Gauges {
            unsealed: true,
            leases: 3,
            ..Default::default()
        };
        let v = m.json(&gauges);
        for key in ["Timestamp", "Gauges", "Points", "Counters", "Samples"] {
            assert!(v.get(key).is_some(), "{key} missing: {v}");
        }
        assert!(v["Timestamp"].as_str().unwrap().ends_with(" +0000 UTC"));
        let find = |arr: &str, name: &str| {
            v[arr]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["Name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("{name} not in {arr}: {v}"))
        };
        assert_eq!(find("Gauges", "coffer.core.unsealed")["Value"], json!(1.0));
        assert_eq!(find("Gauges", "coffer.expire.num_leases")["Value"], json!(3.0));
        let c = find("Counters", "coffer.requests");
        assert_eq!(c["Count"], json!(2));
        assert_eq!(c["Labels"]["mount"], json!("secret/"));
        let s = find("Samples", "coffer.request.duration");
        assert_eq!(s["Count"], json!(2));
        assert_eq!(s["Min"], json!(2.0));
        assert_eq!(s["Max"], json!(4.0));
        assert_eq!(s["Mean"], json!(3.0));
    }
}
