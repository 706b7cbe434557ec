//! The built-in `default` policy, attached to every non-root token unless asked otherwise.

/// Rules of the built-in `default` policy: a token may inspect, renew and revoke itself,
/// use its cubbyhole, wrap/unwrap responses, renew and look up leases, and hash data.
pub fn default_policy_text() -> &'static str {
    DEFAULT_POLICY_TEXT
}

const DEFAULT_POLICY_TEXT: &str = r#"# The built-in "default" policy. It may be edited, but not deleted.

# A token may read its own properties.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# A token may extend its own lifetime.
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# A token may revoke itself.
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# A token may ask what it is allowed to do on a path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# The console reads the merged ACL of the current token.
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Lease renewal by lease_id in the body (old and new paths).
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

# Looking up a lease needs its ID and reveals nothing secret.
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Each token owns a private cubbyhole.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap values, inspect and unwrap wrapping tokens.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# General-purpose hashing.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}
"#;
