//! One writer thread per device: it takes everything queued as one batch, stamps the chain
//! fields, writes the batch once (one fsync for a file) and acknowledges each entry. When the
//! device fails or falls behind, entries go to the spool and the thread catches up from it in
//! the background, retrying with backoff.

use super::chain::{ChainState, StateFile};
use super::entry::gap_entry;
use super::sink::Sink;
use super::spool::Spool;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;

/// Entries one device may have queued before new ones go to its spool.
const QUEUE: usize = 8192;
/// Most entries (and bytes) committed in one write.
const MAX_BATCH: usize = 2048;
const MAX_BATCH_BYTES: usize = 8 << 20;
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

enum Msg {
    Entry(Vec<u8>, Sender<bool>),
    Wake,
}

/// What callers and the writer thread share.
struct Shared {
    spool: Mutex<Spool>,
    /// The spool holds entries: new ones queue behind them.
    behind: AtomicBool,
    queued: AtomicU64,
    reopen: AtomicBool,
    healthy: AtomicBool,
    last_error: Mutex<Option<String>>,
}

/// A running device writer. Dropping it stops the thread once its queue is written.
pub(crate) struct DeviceWriter {
    tx: Option<SyncSender<Msg>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl DeviceWriter {
    /// Starts the writer thread of device `name`.
    pub fn start(name: &str, mut sink: Box<dyn Sink>, state: Option<StateFile>, spool: Spool) -> DeviceWriter {
        let chain = sink
            .recover()
            .or_else(|| state.as_ref().and_then(StateFile::load))
            .unwrap_or_default();
        let shared = Arc::new(Shared {
            behind: AtomicBool::new(!spool.is_empty()),
            spool: Mutex::new(spool),
            queued: AtomicU64::new(0),
            reopen: AtomicBool::new(false),
            healthy: AtomicBool::new(true),
            last_error: Mutex::new(None),
        });
        let (tx, rx) = sync_channel(QUEUE);
        let mut thread = Thread {
            name: name.to_string(),
            rx,
            sink,
            chain,
            state,
            shared: shared.clone(),
            backoff: MIN_BACKOFF,
            retry_at: Instant::now(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("audit-{name}"))
            .spawn(move || thread.run())
            .map_err(|e| tracing::error!(error = %e, "cannot start an audit writer thread"))
            .ok();
        DeviceWriter {
            tx: Some(tx),
            shared,
            thread: handle,
        }
    }

    /// Queues an entry; `true` when an acknowledgement will come on `ack`, `false` when the
    /// device is behind and the entry went to its spool (it is not recorded yet).
    pub fn submit(&self, body: Vec<u8>, ack: &Sender<bool>) -> bool {
        if !self.shared.behind.load(Ordering::Acquire)
            && let Some(tx) = &self.tx
        {
            self.shared.queued.fetch_add(1, Ordering::Relaxed);
            match tx.try_send(Msg::Entry(body, ack.clone())) {
                Ok(()) => return true,
                Err(TrySendError::Full(Msg::Entry(body, _)) | TrySendError::Disconnected(Msg::Entry(body, _))) => {
                    self.shared.queued.fetch_sub(1, Ordering::Relaxed);
                    self.spool(body);
                }
                Err(_) => {
                    self.shared.queued.fetch_sub(1, Ordering::Relaxed);
                }
            }
            return false;
        }
        self.spool(body);
        false
    }

    fn spool(&self, body: Vec<u8>) {
        let mut spool = self.shared.spool.lock();
        spool.push([body]);
        self.shared.behind.store(true, Ordering::Release);
    }

    /// Asks the thread to close and reopen the destination before its next write.
    pub fn reopen(&self) {
        self.shared.reopen.store(true, Ordering::Release);
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(Msg::Wake);
        }
    }

    /// Entries not recorded yet: queued plus spooled.
    pub fn lag(&self) -> u64 {
        self.shared.queued.load(Ordering::Relaxed) + self.shared.spool.lock().len()
    }

    /// Entries lost to spool overflow since start.
    pub fn dropped(&self) -> u64 {
        self.shared.spool.lock().dropped_total()
    }

    /// Whether the last write succeeded, and the last error.
    pub fn health(&self) -> (bool, Option<String>) {
        (
            self.shared.healthy.load(Ordering::Relaxed),
            self.shared.last_error.lock().clone(),
        )
    }

    /// Stops the thread (after it wrote what was queued) and waits for it.
    pub fn stop(&mut self) -> Option<JoinHandle<()>> {
        self.tx = None;
        self.thread.take()
    }

    /// Drops what the spool holds and deletes its file (the device is being disabled).
    pub fn discard_spool(&self) {
        self.shared.spool.lock().discard();
        self.shared.behind.store(false, Ordering::Release);
    }
}

impl Drop for DeviceWriter {
    fn drop(&mut self) {
        self.tx = None;
    }
}

struct Thread {
    name: String,
    rx: Receiver<Msg>,
    sink: Box<dyn Sink>,
    chain: ChainState,
    state: Option<StateFile>,
    shared: Arc<Shared>,
    backoff: Duration,
    retry_at: Instant,
}

impl Thread {
    fn run(&mut self) {
        loop {
            let behind = self.shared.behind.load(Ordering::Acquire);
            if behind && Instant::now() >= self.retry_at {
                match self.catch_up() {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => self.failed(&e),
                }
            }
            let behind = self.shared.behind.load(Ordering::Acquire);
            let timeout = if behind {
                self.retry_at
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            } else {
                Duration::from_secs(1)
            };
            let first = match self.rx.recv_timeout(timeout) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let (bodies, acks) = self.gather(first);
            if self.shared.reopen.swap(false, Ordering::AcqRel) {
                self.reopen();
            }
            if bodies.is_empty() {
                continue;
            }
            if self.shared.behind.load(Ordering::Acquire) {
                self.spool(bodies, &acks);
                continue;
            }
            match self.write(&bodies) {
                Ok(()) => {
                    self.succeeded();
                    for a in &acks {
                        let _ = a.try_send(true);
                    }
                }
                Err(e) => {
                    self.failed(&e);
                    self.spool(bodies, &acks);
                }
            }
        }
        if let Some(state) = &mut self.state {
            state.save(&self.chain, true);
        }
        tracing::debug!(device = %self.name, "audit writer stopped");
    }

    /// `first` and whatever else is queued, up to one batch.
    fn gather(&mut self, first: Msg) -> (Vec<Vec<u8>>, Vec<Sender<bool>>) {
        let (mut bodies, mut acks) = (Vec::new(), Vec::new());
        let mut bytes = 0;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            if let Msg::Entry(body, ack) = msg {
                bytes += body.len();
                bodies.push(body);
                acks.push(ack);
            }
            if bodies.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                next = self.rx.try_recv().ok();
            }
        }
        self.shared.queued.fetch_sub(bodies.len() as u64, Ordering::Relaxed);
        (bodies, acks)
    }

    fn spool(&self, bodies: Vec<Vec<u8>>, acks: &[Sender<bool>]) {
        {
            let mut spool = self.shared.spool.lock();
            spool.push(bodies);
            self.shared.behind.store(true, Ordering::Release);
        }
        for a in acks {
            let _ = a.try_send(false);
        }
    }

    /// Writes one batch from the spool. `Ok(true)` when more waits.
    fn catch_up(&mut self) -> std::io::Result<bool> {
        let (start, gap, entries) = self.shared.spool.lock().peek(MAX_BATCH, MAX_BATCH_BYTES);
        let n = entries.len();
        let mut bodies = Vec::with_capacity(n + 1);
        if gap > 0 {
            bodies.push(gap_entry(gap));
        }
        bodies.extend(entries);
        if !bodies.is_empty() {
            self.write(&bodies)?;
        }
        self.succeeded();
        let mut spool = self.shared.spool.lock();
        spool.pop(start, gap, n);
        let more = !spool.is_empty();
        if !more {
            self.shared.behind.store(false, Ordering::Release);
            tracing::info!(device = %self.name, "audit device caught up");
        }
        Ok(more)
    }

    fn write(&mut self, bodies: &[Vec<u8>]) -> std::io::Result<()> {
        let total: usize = bodies.iter().map(|b| b.len() + 100).sum();
        let mut chain = self.chain.clone();
        let mut buf = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(bodies.len());
        for body in bodies {
            chain.stamp(body, &mut buf);
            ends.push(buf.len());
        }
        self.sink.write(&buf, &ends)?;
        self.chain = chain;
        if let Some(state) = &mut self.state {
            state.save(&self.chain, false);
        }
        Ok(())
    }

    fn reopen(&mut self) {
        if let Some(state) = &mut self.state {
            state.save(&self.chain, true);
        }
        if let Err(e) = self.sink.reopen() {
            self.failed(&e);
        }
    }

    fn succeeded(&mut self) {
        self.backoff = MIN_BACKOFF;
        if !self.shared.healthy.swap(true, Ordering::Relaxed) {
            tracing::info!(device = %self.name, "audit device recovered");
        }
    }

    fn failed(&mut self, e: &std::io::Error) {
        if self.shared.healthy.swap(false, Ordering::Relaxed) {
            tracing::error!(device = %self.name, error = %e, "audit device failed; spooling its entries");
        }
        *self.shared.last_error.lock() = Some(e.to_string());
        self.retry_at = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }
}
