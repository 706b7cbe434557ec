//! `sys/internal/specs/openapi`: an OpenAPI 3.0.2 document of the paths the caller's mounts
//! serve, each under its actual mount point.
//!
//! Every mount type declares its paths in one static table here (pattern relative to the
//! mount, with `{param}` segments; operations; a one-line summary; body fields). Whether a
//! path is unauthenticated comes from the live backend (`Backend::unauthenticated_paths`), or
//! for `sys/` from the table; whether it needs `sudo` from the same functions the core checks.
//! Operations map as Vault documents them: read → get, create/update → post, delete → delete,
//! patch → patch, list → get on the path with a trailing slash and a required `list=true`.

use crate::mounts::{CUBBYHOLE_KIND, DISCOVERY_KIND, IDENTITY_KIND, Route, SYSTEM_KIND, TOKEN_KIND};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};

/// Operations of a path (bit set).
const R: u8 = 1;
const W: u8 = 2;
const D: u8 = 4;
const L: u8 = 8;
const P: u8 = 16;
/// Served without a token (only used in the `sys/` table; backends say it themselves).
const U: u8 = 32;

/// A body field: name and JSON type (`string`, `integer`, `number`, `boolean`, `object`, `array`).
type Field = (&'static str, &'static str);

/// One path pattern of a mount type.
struct Spec {
    pattern: &'static str,
    ops: u8,
    summary: &'static str,
    fields: &'static [Field],
}

const fn s(pattern: &'static str, ops: u8, summary: &'static str, fields: &'static [Field]) -> Spec {
    Spec {
        pattern,
        ops,
        summary,
        fields,
    }
}

const STR: &str = "string";
const INT: &str = "integer";
const NUM: &str = "number";
const BOOL: &str = "boolean";
const OBJ: &str = "object";
const ARR: &str = "array";

const MOUNT_FIELDS: &[Field] = &[
    ("type", STR),
    ("description", STR),
    ("config", OBJ),
    ("options", OBJ),
    ("local", BOOL),
    ("seal_wrap", BOOL),
];
const TUNE_FIELDS: &[Field] = &[
    ("default_lease_ttl", STR),
    ("max_lease_ttl", STR),
    ("description", STR),
    ("options", OBJ),
    ("audit_non_hmac_request_keys", ARR),
    ("audit_non_hmac_response_keys", ARR),
];
const CAP_FIELDS: &[Field] = &[("path", STR), ("paths", ARR)];
const LEASE_ID: &[Field] = &[("lease_id", STR)];
const RENEW_FIELDS: &[Field] = &[("lease_id", STR), ("increment", STR)];
const TOKEN_FIELD: &[Field] = &[("token", STR)];
const ACCESSOR_FIELD: &[Field] = &[("accessor", STR)];
const TOKEN_CREATE_FIELDS: &[Field] = &[
    ("policies", ARR),
    ("meta", OBJ),
    ("no_parent", BOOL),
    ("no_default_policy", BOOL),
    ("renewable", BOOL),
    ("ttl", STR),
    ("explicit_max_ttl", STR),
    ("period", STR),
    ("display_name", STR),
    ("num_uses", INT),
    ("type", STR),
    ("entity_alias", STR),
];
const TOKEN_FIELDS: &[Field] = &[
    ("token_ttl", STR),
    ("token_max_ttl", STR),
    ("token_policies", ARR),
    ("token_bound_cidrs", ARR),
    ("token_explicit_max_ttl", STR),
    ("token_no_default_policy", BOOL),
    ("token_num_uses", INT),
    ("token_period", STR),
    ("token_type", STR),
];
const KV2_CONFIG: &[Field] = &[
    ("max_versions", INT),
    ("cas_required", BOOL),
    ("delete_version_after", STR),
];
const KV2_METADATA: &[Field] = &[
    ("max_versions", INT),
    ("cas_required", BOOL),
    ("delete_version_after", STR),
    ("custom_metadata", OBJ),
];
const VERSIONS: &[Field] = &[("versions", ARR)];

static SYSTEM: &[Spec] = &[
    s(
        "init",
        R | W | U,
        "Initialization status; initialize a new server.",
        &[("secret_shares", INT), ("secret_threshold", INT)],
    ),
    s("seal-status", R | U, "Seal status.", &[]),
    s(
        "unseal",
        W | U,
        "Submit an unseal key share.",
        &[("key", STR), ("reset", BOOL)],
    ),
    s("health", R | U, "Health of the server (status code by state).", &[]),
    s("leader", R | U, "High-availability status and current leader.", &[]),
    s("seal", W, "Seal the server.", &[]),
    s("key-status", R, "Current encryption key term and install time.", &[]),
    s("rotate", W, "Rotate the encryption key (new keyring term).", &[]),
    s(
        "rotate/keyring",
        W,
        "Rotate the encryption key (new keyring term).",
        &[],
    ),
    s("mounts", R, "List secret engine mounts.", &[]),
    s(
        "mounts/{path}",
        R | W | D,
        "Read, enable or disable a secret engine.",
        MOUNT_FIELDS,
    ),
    s(
        "mounts/{path}/tune",
        R | W,
        "Read or tune a mount's settings.",
        TUNE_FIELDS,
    ),
    s("auth", R, "List auth method mounts.", &[]),
    s(
        "auth/{path}",
        R | W | D,
        "Read, enable or disable an auth method.",
        MOUNT_FIELDS,
    ),
    s(
        "auth/{path}/tune",
        R | W,
        "Read or tune an auth mount's settings.",
        TUNE_FIELDS,
    ),
    s("policy", R, "List ACL policies (legacy path).", &[]),
    s(
        "policy/{name}",
        R | W | D,
        "Read, write or delete an ACL policy (legacy path).",
        &[("policy", STR), ("rules", STR)],
    ),
    s("policies/acl", L, "List ACL policies.", &[]),
    s(
        "policies/acl/{name}",
        R | W | D,
        "Read, write or delete an ACL policy.",
        &[("policy", STR)],
    ),
    s(
        "capabilities",
        W,
        "A token's capabilities on paths.",
        &[("token", STR), ("path", STR), ("paths", ARR)],
    ),
    s(
        "capabilities-self",
        W,
        "The calling token's capabilities on paths.",
        CAP_FIELDS,
    ),
    s(
        "capabilities-accessor",
        W,
        "Capabilities on paths of the token with an accessor.",
        &[("accessor", STR), ("path", STR), ("paths", ARR)],
    ),
    s("audit", R, "List audit devices.", &[]),
    s(
        "audit/{path}",
        W | D,
        "Enable or disable an audit device.",
        &[("type", STR), ("description", STR), ("options", OBJ), ("local", BOOL)],
    ),
    s(
        "audit-hash/{path}",
        W,
        "HMAC of an input with an audit device's key.",
        &[("input", STR)],
    ),
    s("leases/lookup", W | L, "Look up a lease; list lease ids.", LEASE_ID),
    s("leases/lookup/{prefix}", L, "List lease ids under a prefix.", &[]),
    s("leases/renew", W, "Renew a lease.", RENEW_FIELDS),
    s("leases/renew/{lease_id}", W, "Renew a lease.", &[("increment", STR)]),
    s("leases/revoke", W, "Revoke a lease.", LEASE_ID),
    s("leases/revoke/{lease_id}", W, "Revoke a lease.", &[]),
    s(
        "leases/revoke-prefix/{prefix}",
        W,
        "Revoke every lease under a prefix.",
        &[],
    ),
    s(
        "leases/revoke-force/{prefix}",
        W,
        "Revoke every lease under a prefix, ignoring backend errors.",
        &[],
    ),
    s("leases/tidy", W, "Remove leases whose token is gone.", &[]),
    s("renew", W, "Renew a lease (legacy path).", RENEW_FIELDS),
    s(
        "renew/{lease_id}",
        W,
        "Renew a lease (legacy path).",
        &[("increment", STR)],
    ),
    s("revoke", W, "Revoke a lease (legacy path).", LEASE_ID),
    s("revoke/{lease_id}", W, "Revoke a lease (legacy path).", &[]),
    s(
        "revoke-prefix/{prefix}",
        W,
        "Revoke every lease under a prefix (legacy path).",
        &[],
    ),
    s(
        "revoke-force/{prefix}",
        W,
        "Revoke every lease under a prefix, ignoring errors (legacy path).",
        &[],
    ),
    s("internal/ui/mounts", R, "Mounts the token can see.", &[]),
    s("internal/ui/mounts/{path}", R, "The mount serving a path.", &[]),
    s("internal/specs/openapi", R, "This OpenAPI document.", &[]),
    s(
        "metrics",
        R,
        "Telemetry: JSON, or Prometheus text with format=prometheus.",
        &[],
    ),
    s("wrapping/wrap", W, "Wrap the request body in a single-use token.", &[]),
    s("wrapping/unwrap", W, "Unwrap a wrapping token.", TOKEN_FIELD),
    s(
        "wrapping/lookup",
        W,
        "Look up a wrapping token's properties.",
        TOKEN_FIELD,
    ),
    s(
        "wrapping/rewrap",
        W,
        "Rewrap a wrapping token into a new one.",
        TOKEN_FIELD,
    ),
    s(
        "quotas/config",
        R | W,
        "Read or write the rate-limit quota settings.",
        &[
            ("enable_rate_limit_audit_logging", BOOL),
            ("enable_rate_limit_response_headers", BOOL),
            ("rate_limit_exempt_paths", ARR),
        ],
    ),
    s("quotas/rate-limit", L, "List rate-limit quotas.", &[]),
    s(
        "quotas/rate-limit/{name}",
        R | W | D,
        "Read, write or delete a rate-limit quota.",
        &[
            ("path", STR),
            ("role", STR),
            ("rate", NUM),
            ("interval", STR),
            ("block_interval", STR),
        ],
    ),
    s(
        "mfa/validate",
        W | U,
        "Complete a login that needs a second factor.",
        &[("mfa_request_id", STR), ("mfa_payload", OBJ)],
    ),
];

static TOKEN: &[Spec] = &[
    s("create", W, "Create a child token.", TOKEN_CREATE_FIELDS),
    s("create-orphan", W, "Create an orphan token.", TOKEN_CREATE_FIELDS),
    s(
        "create/{role_name}",
        W,
        "Create a token from a role.",
        TOKEN_CREATE_FIELDS,
    ),
    s("roles", L, "List token roles.", &[]),
    s(
        "roles/{role_name}",
        R | W | D,
        "Read, write or delete a token role.",
        &[
            ("allowed_policies", ARR),
            ("disallowed_policies", ARR),
            ("orphan", BOOL),
            ("renewable", BOOL),
            ("path_suffix", STR),
            ("token_type", STR),
        ],
    ),
    s("lookup-self", R | W, "The calling token's properties.", &[]),
    s("lookup", R | W, "A token's properties.", TOKEN_FIELD),
    s(
        "lookup-accessor",
        W,
        "Properties of the token with an accessor.",
        ACCESSOR_FIELD,
    ),
    s("renew-self", W, "Renew the calling token.", &[("increment", STR)]),
    s("renew", W, "Renew a token.", &[("token", STR), ("increment", STR)]),
    s(
        "renew-accessor",
        W,
        "Renew the token with an accessor.",
        &[("accessor", STR), ("increment", STR)],
    ),
    s("revoke-self", W, "Revoke the calling token and its children.", &[]),
    s("revoke", W, "Revoke a token and its children.", TOKEN_FIELD),
    s(
        "revoke-accessor",
        W,
        "Revoke the token with an accessor.",
        ACCESSOR_FIELD,
    ),
    s(
        "revoke-orphan",
        W,
        "Revoke a token, keeping its children as orphans.",
        TOKEN_FIELD,
    ),
];

const ENTITY_FIELDS: &[Field] = &[("name", STR), ("metadata", OBJ), ("policies", ARR), ("disabled", BOOL)];
const ALIAS_FIELDS: &[Field] = &[
    ("name", STR),
    ("mount_accessor", STR),
    ("canonical_id", STR),
    ("custom_metadata", OBJ),
];
const GROUP_FIELDS: &[Field] = &[
    ("name", STR),
    ("type", STR),
    ("metadata", OBJ),
    ("policies", ARR),
    ("member_entity_ids", ARR),
    ("member_group_ids", ARR),
];
const TOTP_FIELDS: &[Field] = &[
    ("issuer", STR),
    ("period", INT),
    ("digits", INT),
    ("algorithm", STR),
    ("key_size", INT),
];

static IDENTITY: &[Spec] = &[
    s("entity", W, "Create an entity.", ENTITY_FIELDS),
    s("entity/id", L, "List entities by id.", &[]),
    s("entity/name", L, "List entities by name.", &[]),
    s(
        "entity/id/{id}",
        R | W | D,
        "Read, update or delete an entity by id.",
        ENTITY_FIELDS,
    ),
    s(
        "entity/name/{name}",
        R | W | D,
        "Read, update or delete an entity by name.",
        ENTITY_FIELDS,
    ),
    s(
        "entity/batch-delete",
        W,
        "Delete several entities.",
        &[("entity_ids", ARR)],
    ),
    s(
        "entity/merge",
        W,
        "Merge entities into one.",
        &[("from_entity_ids", ARR), ("to_entity_id", STR), ("force", BOOL)],
    ),
    s("entity-alias", W, "Create an entity alias.", ALIAS_FIELDS),
    s("entity-alias/id", L, "List entity aliases.", &[]),
    s(
        "entity-alias/id/{id}",
        R | W | D,
        "Read, update or delete an entity alias.",
        ALIAS_FIELDS,
    ),
    s("group", W, "Create a group.", GROUP_FIELDS),
    s("group/id", L, "List groups by id.", &[]),
    s("group/name", L, "List groups by name.", &[]),
    s(
        "group/id/{id}",
        R | W | D,
        "Read, update or delete a group by id.",
        GROUP_FIELDS,
    ),
    s(
        "group/name/{name}",
        R | W | D,
        "Read, update or delete a group by name.",
        GROUP_FIELDS,
    ),
    s(
        "lookup/entity",
        W,
        "Find an entity by id, name or alias.",
        &[
            ("id", STR),
            ("name", STR),
            ("alias_id", STR),
            ("alias_name", STR),
            ("alias_mount_accessor", STR),
        ],
    ),
    s(
        "lookup/group",
        W,
        "Find a group by id or name.",
        &[("id", STR), ("name", STR)],
    ),
    s("mfa/method", R | L, "List MFA methods.", &[]),
    s(
        "mfa/method/totp",
        R | W | L,
        "List or create TOTP MFA methods.",
        TOTP_FIELDS,
    ),
    s(
        "mfa/method/totp/{method_id}",
        R | W | D,
        "Read, update or delete a TOTP MFA method.",
        TOTP_FIELDS,
    ),
    s(
        "mfa/method/totp/generate",
        W,
        "Generate a TOTP secret for the calling token's entity.",
        &[("method_id", STR)],
    ),
    s(
        "mfa/method/totp/admin-generate",
        W,
        "Generate a TOTP secret for an entity.",
        &[("method_id", STR), ("entity_id", STR)],
    ),
    s(
        "mfa/method/totp/admin-destroy",
        W,
        "Remove an entity's TOTP secret.",
        &[("method_id", STR), ("entity_id", STR)],
    ),
    s("mfa/login-enforcement", R | L, "List MFA login enforcements.", &[]),
    s(
        "mfa/login-enforcement/{name}",
        R | W | D,
        "Read, write or delete an MFA login enforcement.",
        &[
            ("mfa_method_ids", ARR),
            ("auth_method_accessors", ARR),
            ("auth_method_types", ARR),
            ("identity_entity_ids", ARR),
            ("identity_group_ids", ARR),
        ],
    ),
];

static KV1: &[Spec] = &[s("{path}", R | W | D | L, "Read, write, delete or list secrets.", &[])];

static CUBBYHOLE: &[Spec] = &[s(
    "{path}",
    R | W | D | L,
    "Read, write, delete or list the token's private secrets.",
    &[],
)];

static KV2: &[Spec] = &[
    s("config", R | W, "Read or write the engine's settings.", KV2_CONFIG),
    s(
        "data/{path}",
        R | W | P | D,
        "Read, write, patch or delete (soft) the latest version of a secret.",
        &[("data", OBJ), ("options", OBJ)],
    ),
    s("metadata", L, "List secrets at the top level.", &[]),
    s(
        "metadata/{path}",
        R | W | P | D | L,
        "Read, write, patch or delete a secret's metadata and versions; list keys.",
        KV2_METADATA,
    ),
    s("delete/{path}", W, "Soft-delete versions of a secret.", VERSIONS),
    s("undelete/{path}", W, "Restore soft-deleted versions.", VERSIONS),
    s("destroy/{path}", W, "Permanently remove versions.", VERSIONS),
    s("subkeys/{path}", R, "A secret's keys without its values.", &[]),
];

static DISCOVERY: &[Spec] = &[
    s(
        "findings",
        W | L,
        "Report findings of `coffer scan`; list them.",
        &[("findings", ARR)],
    ),
    s("findings/{fingerprint}", R | D, "Read or forget a finding.", &[]),
];

static USERPASS: &[Spec] = &[
    s(
        "config",
        R | W,
        "Read or write lockout settings.",
        &[
            ("lockout_threshold", INT),
            ("lockout_duration", STR),
            ("lockout_counter_reset", STR),
            ("lockout_disable", BOOL),
        ],
    ),
    s("users", L, "List users.", &[]),
    s(
        "users/{username}",
        R | W | D,
        "Read, write or delete a user.",
        &[
            ("password", STR),
            ("token_policies", ARR),
            ("token_ttl", STR),
            ("token_max_ttl", STR),
        ],
    ),
    s(
        "users/{username}/password",
        W,
        "Change a user's password.",
        &[("password", STR)],
    ),
    s(
        "users/{username}/policies",
        W,
        "Change a user's policies.",
        &[("token_policies", ARR)],
    ),
    s(
        "login/{username}",
        W,
        "Log in with a user name and password.",
        &[("password", STR)],
    ),
];

static APPROLE: &[Spec] = &[
    s(
        "login",
        W,
        "Log in with a role id and secret id.",
        &[("role_id", STR), ("secret_id", STR)],
    ),
    s("role", L, "List roles.", &[]),
    s(
        "role/{role_name}",
        R | W | D,
        "Read, write or delete a role.",
        TOKEN_FIELDS,
    ),
    s(
        "role/{role_name}/role-id",
        R | W,
        "Read or set a role's role id.",
        &[("role_id", STR)],
    ),
    s(
        "role/{role_name}/secret-id",
        W | L,
        "Generate a secret id; list secret id accessors.",
        &[("metadata", STR), ("cidr_list", ARR), ("ttl", STR), ("num_uses", INT)],
    ),
    s(
        "role/{role_name}/custom-secret-id",
        W,
        "Register a secret id of your choice.",
        &[("secret_id", STR), ("metadata", STR), ("cidr_list", ARR)],
    ),
    s(
        "role/{role_name}/secret-id/lookup",
        W,
        "Look up a secret id.",
        &[("secret_id", STR)],
    ),
    s(
        "role/{role_name}/secret-id/destroy",
        W,
        "Destroy a secret id.",
        &[("secret_id", STR)],
    ),
    s(
        "role/{role_name}/secret-id-accessor/lookup",
        W,
        "Look up a secret id by accessor.",
        &[("secret_id_accessor", STR)],
    ),
    s(
        "role/{role_name}/secret-id-accessor/destroy",
        W,
        "Destroy a secret id by accessor.",
        &[("secret_id_accessor", STR)],
    ),
];

static JWT: &[Spec] = &[
    s(
        "config",
        R | W,
        "Read or write the keys, JWKS URL and issuer settings.",
        &[
            ("jwt_validation_pubkeys", ARR),
            ("jwks_url", STR),
            ("bound_issuer", STR),
            ("default_role", STR),
        ],
    ),
    s("login", W, "Log in with a signed JWT.", &[("role", STR), ("jwt", STR)]),
    s("role", L, "List roles.", &[]),
    s(
        "role/{name}",
        R | W | D,
        "Read, write or delete a role.",
        &[
            ("role_type", STR),
            ("bound_audiences", ARR),
            ("user_claim", STR),
            ("bound_subject", STR),
            ("bound_claims", OBJ),
            ("claim_mappings", OBJ),
            ("groups_claim", STR),
            ("token_policies", ARR),
            ("token_ttl", STR),
        ],
    ),
];

static CERT: &[Spec] = &[
    s("config", R | W, "Read or write the method's settings.", &[]),
    s("login", W, "Log in with the TLS client certificate.", &[("name", STR)]),
    s("certs", L, "List trusted certificate roles.", &[]),
    s(
        "certs/{name}",
        R | W | D,
        "Read, write or delete a trusted certificate role.",
        &[
            ("certificate", STR),
            ("display_name", STR),
            ("allowed_common_names", ARR),
            ("token_policies", ARR),
            ("token_ttl", STR),
        ],
    ),
];

/// The path table of a mount type (`kv` by its `version` option); `None` for a type this
/// module does not describe.
fn table(kind: &str, version: Option<&str>) -> Option<&'static [Spec]> {
    Some(match kind {
        SYSTEM_KIND => SYSTEM,
        TOKEN_KIND => TOKEN,
        IDENTITY_KIND => IDENTITY,
        CUBBYHOLE_KIND => CUBBYHOLE,
        DISCOVERY_KIND => DISCOVERY,
        "kv" if version.map(str::trim) == Some("2") => KV2,
        "kv" => KV1,
        "userpass" => USERPASS,
        "approle" => APPROLE,
        "jwt" | "oidc" => JWT,
        "cert" => CERT,
        _ => return None,
    })
}

/// The mount types this module describes (tests check each has a table).
pub const DESCRIBED_KINDS: &[&str] = &[
    SYSTEM_KIND,
    TOKEN_KIND,
    IDENTITY_KIND,
    CUBBYHOLE_KIND,
    DISCOVERY_KIND,
    "kv",
    "userpass",
    "approle",
    "jwt",
    "oidc",
    "cert",
];

/// `{param}` segments replaced by a placeholder, to ask the core's own checks about a path.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn path_params(pattern: &str) -> Vec<Value> {
    pattern
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": format!("The {}.", name.replace('_', " ")),
                "schema": { "type": "string" },
            })
        })
        .collect()
}

fn request_body(fields: &[Field]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|(name, ty)| {
            let schema = if *ty == ARR {
                json!({ "type": ARR, "items": { "type": "string" } })
            } else {
                json!({ "type": ty })
            };
            (name.to_string(), schema)
        })
        .collect();
    json!({
        "content": {
            "application/json": {
                "schema": { "type": "object", "properties": props }
            }
        }
    })
}

fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Builds the document: `routes` are the mounts, `visible` says which mount points the
/// caller may see.
pub fn document<'a>(routes: impl Iterator<Item = &'a std::sync::Arc<Route>>, visible: impl Fn(&str) -> bool) -> Value {
    let mut routes: Vec<_> = routes.filter(|r| visible(&r.entry.path)).collect();
    routes.sort_by(|a, b| a.entry.path.cmp(&b.entry.path));
    let mut paths = BTreeMap::new();
    let mut ids = HashSet::new();
    for route in routes {
        let entry = &route.entry;
        let Some(specs) = table(&entry.kind, entry.options.get("version").map(String::as_str)) else {
            continue;
        };
        let tag = match entry.kind.as_str() {
            SYSTEM_KIND => "system",
            IDENTITY_KIND => "identity",
            _ if entry.is_auth() => "auth",
            _ => "secrets",
        };
        let unauth_paths = route.backend.as_ref().map(|b| b.unauthenticated_paths()).unwrap_or(&[]);
        for spec in specs {
            let rel = concrete(spec.pattern);
            let unauth = spec.ops & U != 0 || crate::core::is_unauthenticated(unauth_paths, &rel);
            let sudo = match entry.kind.as_str() {
                SYSTEM_KIND => crate::sys::needs_sudo(&rel),
                TOKEN_KIND => crate::token::api::needs_sudo(&rel),
                _ => false,
            };
            let full = format!("/{}{}", entry.path, spec.pattern);
            let mut op = |verb: &str, method: &str, list: bool| {
                let mut id = format!("{verb}-{}", slug(&format!("{}{}", entry.path, spec.pattern)));
                let base = id.clone();
                let mut n = 2;
                while !ids.insert(id.clone()) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                let mut o = json!({
                    "summary": spec.summary,
                    "operationId": id,
                    "tags": [tag],
                    "responses": responses(method),
                });
                if list {
                    o["parameters"] = json!([{
                        "name": "list",
                        "in": "query",
                        "required": true,
                        "description": "Must be `true`: list the keys under this path.",
                        "schema": { "type": "string", "enum": ["true"] },
                    }]);
                }
                if method == "post" || method == "patch" {
                    let mut body = request_body(spec.fields);
                    if method == "patch" {
                        let schema = body["content"]["application/json"].take();
                        body["content"] = json!({ "application/merge-patch+json": schema });
                    }
                    o["requestBody"] = body;
                }
                if unauth {
                    o["security"] = json!([]);
                }
                (method.to_string(), o)
            };
            let mut item = Map::new();
            if spec.ops & R != 0 {
                item.extend([op("read", "get", false)]);
            }
            if spec.ops & W != 0 {
                item.extend([op("write", "post", false)]);
            }
            if spec.ops & P != 0 {
                item.extend([op("patch", "patch", false)]);
            }
            if spec.ops & D != 0 {
                item.extend([op("delete", "delete", false)]);
            }
            let list_item = (spec.ops & L != 0).then(|| {
                let mut m = Map::new();
                m.extend([op("list", "get", true)]);
                m
            });
            let mut add = |path: String, mut item: Map<String, Value>| {
                if item.is_empty() {
                    return;
                }
                let params = path_params(&path);
                if !params.is_empty() {
                    item.insert("parameters".into(), Value::Array(params));
                }
                item.insert("description".into(), json!(spec.summary));
                if unauth {
                    item.insert("x-vault-unauthenticated".into(), json!(true));
                }
                if sudo {
                    item.insert("x-vault-sudo".into(), json!(true));
                }
                paths.insert(path, Value::Object(item));
            };
            add(full.clone(), item);
            if let Some(list_item) = list_item {
                add(format!("{full}/"), list_item);
            }
        }
    }
    json!({
        "openapi": "3.0.2",
        "info": {
            "title": "Coffer API",
            "description": "HTTP API of Coffer, compatible with Vault's. Every path is prefixed with `/v1/`.",
            "version": env!("CARGO_PKG_VERSION"),
            "license": { "name": "see the Coffer repository" },
        },
        "servers": [{ "url": "/v1" }],
        "security": [{ "vault_token": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "vault_token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Vault-Token",
                    "description": "A Coffer token (`Authorization: Bearer <token>` works too).",
                }
            },
            "responses": {
                "Error": {
                    "description": "An error: `{\"errors\": [\"...\"]}`.",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": { "errors": { "type": "array", "items": { "type": "string" } } },
                    } } },
                }
            },
        },
    })
}

fn responses(method: &str) -> Value {
    let error = json!({ "$ref": "#/components/responses/Error" });
    if method == "get" {
        json!({ "200": { "description": "OK" }, "default": error })
    } else {
        json!({ "200": { "description": "OK" }, "204": { "description": "No content" }, "default": error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_described_kind_has_a_table_with_valid_patterns() {
        for kind in DESCRIBED_KINDS {
            for version in [None, Some("2")] {
                let specs = table(kind, version).unwrap_or_else(|| panic!("no table for {kind}"));
                let mut seen = HashSet::new();
                for spec in specs {
                    assert!(seen.insert(spec.pattern), "{kind}: {} twice", spec.pattern);
                    assert!(
                        spec.ops & (R | W | D | L | P) != 0,
                        "{kind}: {} has no operation",
                        spec.pattern
                    );
                    assert!(!spec.pattern.starts_with('/') && !spec.pattern.ends_with('/'));
                    for seg in spec.pattern.split('/') {
                        assert!(!seg.is_empty(), "{kind}: {}", spec.pattern);
                        if seg.contains('{') || seg.contains('}') {
                            assert!(seg.starts_with('{') && seg.ends_with('}'), "{kind}: {}", spec.pattern);
                        }
                    }
                }
            }
        }
        assert!(table("nope", None).is_none());
    }

    #[test]
    fn slugs_and_params() {
        assert_eq!(slug("secret/data/{path}"), "secret-data-path");
        assert_eq!(concrete("users/{username}/password"), "users/x/password");
        let p = path_params("/auth/userpass/users/{username}/password");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0]["name"], "username");
    }

    #[test]
    fn sudo_comes_from_the_core_checks() {
        assert!(crate::sys::needs_sudo(&concrete("audit/{path}")));
        assert!(!crate::sys::needs_sudo(&concrete("mounts/{path}")));
    }
}
