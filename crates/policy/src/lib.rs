//! The HCL ACL policy language (Vault-compatible) and its evaluation. No I/O.
//!
//! * [`Policy::parse`] turns HCL (or JSON) text into validated [`PathRule`]s; errors carry
//!   the 1-based line of the offending construct.
//! * [`Acl::new`] merges the rules of many policies per pattern and builds lookup
//!   structures once; [`Acl::check`] and [`Acl::capabilities`] then answer without
//!   allocating on the common path.
//!
//! Matching follows Vault: an exact pattern beats every glob; among globs (`*` suffix,
//! `+` segment) the most specific wins by Vault's five priority rules; `deny` on the
//! winning pattern denies everything.

mod acl;
mod capability;
mod defaults;
mod duration;
mod error;
mod params;
mod pattern;
mod policy;
mod source;
mod template;
mod trie;

pub use acl::{Acl, AclDecision, WrappingBounds};
pub use capability::{Capabilities, Capability};
pub use defaults::default_policy_text;
pub use error::PolicyError;
pub use params::ParamRules;
pub use policy::{PathRule, Policy};
pub use template::{TemplateError, render_path};

/// Name of the root policy: implicit, grants everything, cannot be written or deleted.
pub const ROOT_POLICY: &str = "root";

/// Name of the built-in default policy: may be edited, cannot be deleted.
pub const DEFAULT_POLICY: &str = "default";

/// Longest accepted policy name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Checks a policy name (already lower-cased by the caller): not empty, no `/`, at most
/// [`MAX_NAME_LEN`] bytes. Reserved names are checked separately with [`is_reserved`].
pub fn validate_name(name: &str) -> Result<(), PolicyError> {
    if name.is_empty() {
        return Err(PolicyError::Invalid("policy name must not be empty".into()));
    }
    if name.contains('/') {
        return Err(PolicyError::Invalid("policy name must not contain \"/\"".into()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(PolicyError::Invalid(format!(
            "policy name is longer than {MAX_NAME_LEN} characters"
        )));
    }
    Ok(())
}

/// Whether `name` may not be written: `root`, and Vault's internal `response-wrapping`
/// and `control-group` policies.
pub fn is_reserved(name: &str) -> bool {
    matches!(name, ROOT_POLICY | "response-wrapping" | "control-group")
}

/// Whether a policy may be deleted: neither reserved nor the default policy.
pub fn is_deletable(name: &str) -> bool {
    !is_reserved(name) && name != DEFAULT_POLICY
}

#[cfg(test)]
mod tests;
