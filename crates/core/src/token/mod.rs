//! Tokens: the store (persistence, cache, revocation tree) and the `auth/token/` API.

pub mod api;
pub mod batch;
pub mod create;
pub mod roles;
pub mod store;

pub use store::{NewToken, TokenEntry, TokenStore};
