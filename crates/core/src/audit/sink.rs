//! Where a device's lines go: a file (appended, fsync'd per batch, reopened on rotation), a
//! TCP/UDP/unix socket, or the local syslog socket. Sinks are blocking and used only by their
//! device's writer thread.

use super::chain::{ChainState, last_line};
use crate::{CoreError, Result};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One destination of audit lines.
pub(crate) trait Sink: Send {
    /// Writes whole lines (each ending in `\n`; `ends` are the offsets after each). Returns
    /// only once they are as durable as the sink can make them.
    fn write(&mut self, buf: &[u8], ends: &[usize]) -> io::Result<()>;
    /// Closes and reopens the destination (log rotation).
    fn reopen(&mut self) -> io::Result<()>;
    /// The chain state at the end of the destination, when it can tell (a file's last line).
    fn recover(&mut self) -> Option<ChainState> {
        None
    }
}

/// Appends to a file. A file that was moved or deleted under us is reopened at its path.
pub(crate) struct FileSink {
    path: PathBuf,
    mode: u32,
    fsync: bool,
    file: Option<(File, u64, u64)>,
    good_len: u64,
    recovered: Option<ChainState>,
}

impl FileSink {
    /// Opens (creating with `mode`) the file at `path`.
    pub fn open(path: PathBuf, mode: u32, fsync: bool) -> io::Result<FileSink> {
        let mut sink = FileSink {
            path,
            mode,
            fsync,
            file: None,
            good_len: 0,
            recovered: None,
        };
        sink.reopen()?;
        Ok(sink)
    }

    fn is_current(&self) -> bool {
        match (&self.file, std::fs::metadata(&self.path)) {
            (Some((_, dev, ino)), Ok(meta)) => meta.dev() == *dev && meta.ino() == *ino,
            _ => false,
        }
    }
}

impl Sink for FileSink {
    fn write(&mut self, buf: &[u8], _ends: &[usize]) -> io::Result<()> {
        if !self.is_current() {
            if self.file.is_some() {
                tracing::info!(path = %self.path.display(), "audit file was moved or removed; reopening");
            }
            self.reopen()?;
        }
        let Some((file, _, _)) = &mut self.file else {
            return Err(io::Error::other("audit file is not open"));
        };
        let result = file
            .write_all(buf)
            .and_then(|()| if self.fsync { file.sync_data() } else { Ok(()) });
        match result {
            Ok(()) => {
                self.good_len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut off a torn write so the next line starts on a line boundary.
                let _ = file.set_len(self.good_len);
                self.file = None;
                Err(e)
            }
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(if self.mode == 0 { 0o600 } else { self.mode })
            .open(&self.path)?;
        if self.mode != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(self.mode))?;
        }
        let (last, complete) = last_line(&mut file)?;
        let meta = file.metadata()?;
        if complete < meta.len() {
            tracing::warn!(path = %self.path.display(), "audit file ends in a torn line; cutting it off");
            file.set_len(complete)?;
        }
        self.recovered = last.as_deref().and_then(ChainState::after_line);
        self.good_len = complete;
        self.file = Some((file, meta.dev(), meta.ino()));
        Ok(())
    }

    fn recover(&mut self) -> Option<ChainState> {
        self.recovered.take()
    }
}

/// Discards everything (`file_path=discard`), or writes to standard output (`stdout`).
pub(crate) struct StdSink {
    stdout: bool,
}

impl Sink for StdSink {
    fn write(&mut self, buf: &[u8], _ends: &[usize]) -> io::Result<()> {
        if self.stdout {
            let mut out = io::stdout().lock();
            out.write_all(buf)?;
            out.flush()?;
        }
        Ok(())
    }

    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Transport of a socket device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketType {
    Tcp,
    Udp,
    Unix,
}

enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
    Unix(UnixStream),
}

/// Writes lines to a TCP stream, a unix stream socket, or UDP (one datagram per line).
pub(crate) struct SocketSink {
    address: String,
    kind: SocketType,
    timeout: Duration,
    conn: Option<Conn>,
}

impl SocketSink {
    /// Connects now, so that a wrong address fails the enable.
    pub fn connect(address: String, kind: SocketType, timeout: Duration) -> io::Result<SocketSink> {
        let mut sink = SocketSink {
            address,
            kind,
            timeout,
            conn: None,
        };
        sink.reopen()?;
        Ok(sink)
    }
}

impl Sink for SocketSink {
    fn write(&mut self, buf: &[u8], ends: &[usize]) -> io::Result<()> {
        if self.conn.is_none() {
            self.reopen()?;
        }
        let result = match &mut self.conn {
            Some(Conn::Tcp(s)) => s.write_all(buf).and_then(|()| s.flush()),
            Some(Conn::Unix(s)) => s.write_all(buf).and_then(|()| s.flush()),
            Some(Conn::Udp(s)) => {
                let mut start = 0;
                ends.iter().try_for_each(|&end| {
                    s.send(&buf[start..end])?;
                    start = end;
                    Ok(())
                })
            }
            None => Err(io::Error::other("not connected")),
        };
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.conn = None;
        let t = Some(self.timeout);
        self.conn = Some(match self.kind {
            SocketType::Tcp => {
                let addr = self
                    .address
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| io::Error::other("address resolves to nothing"))?;
                let s = TcpStream::connect_timeout(&addr, self.timeout)?;
                s.set_write_timeout(t)?;
                s.set_nodelay(true)?;
                Conn::Tcp(s)
            }
            SocketType::Udp => {
                let s = UdpSocket::bind(if self.address.starts_with('[') {
                    "[::]:0"
                } else {
                    "0.0.0.0:0"
                })?;
                s.connect(&self.address)?;
                s.set_write_timeout(t)?;
                Conn::Udp(s)
            }
            SocketType::Unix => {
                let s = UnixStream::connect(&self.address)?;
                s.set_write_timeout(t)?;
                Conn::Unix(s)
            }
        });
        Ok(())
    }
}

/// Sends each line to the local syslog daemon (RFC 3164 over a unix datagram socket).
pub(crate) struct SyslogSink {
    path: PathBuf,
    priority: u8,
    tag: String,
    sock: Option<UnixDatagram>,
}

/// Syslog facility numbers by name.
pub(crate) fn facility_code(name: &str) -> Option<u8> {
    const NAMES: [&str; 24] = [
        "kern",
        "user",
        "mail",
        "daemon",
        "auth",
        "syslog",
        "lpr",
        "news",
        "uucp",
        "cron",
        "authpriv",
        "ftp",
        "ntp",
        "security",
        "console",
        "solaris-cron",
        "local0",
        "local1",
        "local2",
        "local3",
        "local4",
        "local5",
        "local6",
        "local7",
    ];
    let name = name.to_ascii_lowercase();
    NAMES.iter().position(|n| *n == name).map(|i| i as u8)
}

impl SyslogSink {
    /// Connects to the syslog socket at `path`; a missing socket is a clear error.
    pub fn connect(path: PathBuf, facility: u8, tag: String) -> io::Result<SyslogSink> {
        if !path.exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no syslog daemon: {} does not exist", path.display()),
            ));
        }
        let mut sink = SyslogSink {
            path,
            priority: facility * 8 + 6,
            tag,
            sock: None,
        };
        sink.reopen()?;
        Ok(sink)
    }
}

impl Sink for SyslogSink {
    fn write(&mut self, buf: &[u8], ends: &[usize]) -> io::Result<()> {
        if self.sock.is_none() {
            self.reopen()?;
        }
        let Some(sock) = &self.sock else {
            return Err(io::Error::other("syslog socket is not open"));
        };
        let prefix = format!("<{}>{}[{}]: ", self.priority, self.tag, std::process::id());
        let mut start = 0;
        let mut msg = Vec::new();
        for &end in ends {
            msg.clear();
            msg.extend_from_slice(prefix.as_bytes());
            msg.extend_from_slice(&buf[start..end - 1]);
            start = end;
            if let Err(e) = sock.send(&msg) {
                self.sock = None;
                return Err(e);
            }
        }
        Ok(())
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.sock = None;
        let sock = UnixDatagram::unbound()?;
        sock.connect(&self.path)?;
        sock.set_write_timeout(Some(Duration::from_secs(2)))?;
        self.sock = Some(sock);
        Ok(())
    }
}

/// Options as given to `sys/audit/<path>`: a string value, or a default.
pub(crate) fn opt<'a>(options: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    options.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// A boolean option (`true`/`false`/`1`/`0`).
pub(crate) fn bool_opt(options: &HashMap<String, String>, name: &str, default: bool) -> Result<bool> {
    match opt(options, name) {
        None => Ok(default),
        Some("true" | "1" | "t" | "yes") => Ok(true),
        Some("false" | "0" | "f" | "no") => Ok(false),
        Some(_) => Err(CoreError::bad(format!("option \"{name}\" must be true or false"))),
    }
}

/// Opens the sink a device's type and options describe. Errors say what to fix.
pub(crate) fn open(kind: &str, options: &HashMap<String, String>) -> Result<Box<dyn Sink>> {
    let fail = |what: String, e: io::Error| CoreError::bad(format!("{what}: {e}"));
    match kind {
        "file" => {
            let path = opt(options, "file_path")
                .or_else(|| opt(options, "path"))
                .ok_or_else(|| CoreError::bad("file audit device needs option \"file_path\""))?;
            match path {
                "discard" => return Ok(Box::new(StdSink { stdout: false })),
                "stdout" => return Ok(Box::new(StdSink { stdout: true })),
                _ => {}
            }
            let mode = match opt(options, "mode") {
                None => 0o600,
                Some(m) => u32::from_str_radix(m, 8)
                    .ok()
                    .filter(|m| *m <= 0o777 && m & 0o111 == 0)
                    .ok_or_else(|| {
                        CoreError::bad(format!(
                            "invalid file mode \"{m}\": use octal like 0600, without execute bits"
                        ))
                    })?,
            };
            let fsync = bool_opt(options, "fsync", true)?;
            let sink = FileSink::open(PathBuf::from(path), mode, fsync)
                .map_err(|e| fail(format!("cannot open audit file \"{path}\""), e))?;
            Ok(Box::new(sink))
        }
        "socket" => {
            let address = opt(options, "address")
                .ok_or_else(|| CoreError::bad("socket audit device needs option \"address\""))?;
            let kind = match opt(options, "socket_type").unwrap_or("tcp") {
                "tcp" => SocketType::Tcp,
                "udp" => SocketType::Udp,
                "unix" => SocketType::Unix,
                other => {
                    return Err(CoreError::bad(format!(
                        "invalid socket_type \"{other}\": use tcp, udp or unix"
                    )));
                }
            };
            let timeout = match opt(options, "write_timeout") {
                None => Duration::from_secs(2),
                Some(t) => Duration::from_secs(
                    crate::duration::parse(t)
                        .filter(|s| *s > 0)
                        .ok_or_else(|| CoreError::bad(format!("invalid write_timeout \"{t}\"")))?,
                ),
            };
            let sink = SocketSink::connect(address.to_string(), kind, timeout)
                .map_err(|e| fail(format!("cannot connect to audit socket \"{address}\""), e))?;
            Ok(Box::new(sink))
        }
        "syslog" => {
            let facility = opt(options, "facility").unwrap_or("AUTH");
            let code = facility_code(facility)
                .ok_or_else(|| CoreError::bad(format!("unknown syslog facility \"{facility}\"")))?;
            let tag = opt(options, "tag").unwrap_or("coffer").to_string();
            let path = Path::new(opt(options, "socket_path").unwrap_or("/dev/log")).to_path_buf();
            let sink = SyslogSink::connect(path, code, tag)
                .map_err(|e| fail("cannot enable the syslog audit device".into(), e))?;
            Ok(Box::new(sink))
        }
        other => Err(CoreError::bad(format!(
            "unknown audit device type \"{other}\": use file, socket or syslog"
        ))),
    }
}
