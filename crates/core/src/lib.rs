//! Coffer's core: the only place that decides access.
//!
//! `Core::handle` takes a `Request` from any front end (HTTP, CLI, console, bastion), checks
//! the seal, resolves the token, routes to a mount by longest prefix, checks the ACL and calls
//! the mount's `Backend` with a `View` scoped to that mount's encrypted storage.

pub mod audit;
pub mod backend;
pub mod barrier;
pub mod cidr;
mod core;
pub mod duration;
pub mod error;
pub mod expiration;
pub mod fields;
pub mod identity;
mod login;
pub mod metrics;
pub mod mfa;
pub mod mounts;
pub mod openapi;
pub mod policy_store;
pub mod quotas;
pub mod request;
pub mod seal;
mod sys;
pub mod time;
pub mod token;
pub mod view;
pub mod wrapping;

pub use crate::core::{Core, CoreConfig, InitOutput, capability, check_path, normalize_kind};
pub use backend::{Backend, BackendRequest, Caller, MountContext, Registry};
pub use error::{CoreError, Result};
pub use request::{AliasInfo, Auth, LeaseInfo, Operation, Request, Response, WrapInfo};
pub use view::{View, ViewOp};
