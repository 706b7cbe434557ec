//! The TCP listener with a cap on simultaneous connections.
//!
//! The accept loop takes a permit before it accepts: at the cap it stops accepting, so further
//! connections wait in the kernel's accept queue (bounded by the listen backlog; beyond it the
//! kernel refuses them) and are served, in order, as served connections close. A waiting
//! connection costs the server nothing — no task, no buffer, no file descriptor. The permit
//! lives in the connection's stream, so it is released when the connection ends, TLS or not.

use axum::extract::connect_info::Connected;
use axum_server::{AddrListener, Address};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A peer (or bound) address of the limited listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl Address for PeerAddr {
    type Stream = LimitedStream;
    type Listener = LimitedListener;
}

impl Connected<PeerAddr> for SocketAddr {
    fn connect_info(peer: PeerAddr) -> SocketAddr {
        peer.0
    }
}

/// A TCP listener that serves at most `max` connections at once.
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

impl LimitedListener {
    /// Binds `addr`, serving at most `max_connections` connections at once.
    pub async fn bind(addr: SocketAddr, max_connections: usize) -> io::Result<LimitedListener> {
        Ok(LimitedListener {
            inner: TcpListener::bind(addr).await?,
            permits: Arc::new(Semaphore::new(max_connections.clamp(1, Semaphore::MAX_PERMITS))),
        })
    }
}

impl AddrListener<LimitedStream, PeerAddr> for LimitedListener {
    async fn bind_to(addr: PeerAddr) -> io::Result<Self> {
        LimitedListener::bind(addr.0, Semaphore::MAX_PERMITS).await
    }

    async fn accept_stream(&self) -> io::Result<(LimitedStream, PeerAddr)> {
        // The semaphore is never closed.
        let permit = self.permits.clone().acquire_owned().await.map_err(io::Error::other)?;
        let (stream, peer) = self.inner.accept().await?;
        Ok((
            LimitedStream {
                stream,
                _permit: permit,
            },
            PeerAddr(peer),
        ))
    }

    fn get_local_addr(&self) -> io::Result<PeerAddr> {
        self.inner.local_addr().map(PeerAddr)
    }
}

/// An accepted connection holding one of the listener's permits until it is dropped.
#[derive(Debug)]
pub struct LimitedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for LimitedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
