//! The one error type of the core; the server maps each kind to an HTTP status.

use thiserror::Error;

/// Everything that can go wrong while the core handles a request.
///
/// Messages are shown to API users: they say what went wrong and never hold a secret.
#[derive(Debug, Error)]
pub enum CoreError {
    /// The barrier is sealed; only seal/unseal/init/health requests are served.
    #[error("Vault is sealed")]
    Sealed,
    /// The server has not been initialised yet.
    #[error("Vault is not initialized")]
    NotInitialized,
    /// Missing, invalid or expired token, or the ACL denies the operation.
    #[error("permission denied")]
    PermissionDenied,
    /// The request is malformed or its parameters are invalid.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing is stored at the path (the body, if any, carries no detail).
    #[error("{0}")]
    NotFound(String),
    /// No mount or backend path handles the request.
    #[error("no handler for route \"{0}\". route entry not found.")]
    NoRoute(String),
    /// The path exists but does not support this operation.
    #[error("unsupported operation")]
    UnsupportedOperation,
    /// A write conflicted with the current state (for example a check-and-set mismatch).
    #[error("{0}")]
    Conflict(String),
    /// The operation would exceed a configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// A rate limit quota refused the request (429).
    #[error("request path \"{path}\": rate limit quota exceeded")]
    RateLimited {
        /// The request path.
        path: String,
        /// `Retry-After` and `X-Ratelimit-*` values, when the quota config asks for them.
        headers: Option<crate::quotas::RateLimitHeaders>,
    },
    /// Storage failed; the message never contains stored values.
    #[error("storage error: {0}")]
    Storage(#[from] coffer_storage::StorageError),
    /// A value failed to decrypt: it was altered, moved, or the key is gone.
    #[error("barrier error: {0}")]
    Crypto(#[from] coffer_crypto::CryptoError),
    /// A bug or an unexpected state; details are in the server log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    /// Shorthand for a `BadRequest` with a message.
    pub fn bad(msg: impl Into<String>) -> Self {
        CoreError::BadRequest(msg.into())
    }
}

/// Result alias used across the core and the engines.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
