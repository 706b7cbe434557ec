//! Auth methods: backends mounted under `auth/` whose login paths answer with an `Auth` the
//! core turns into a token. Registered by [`register`].

pub mod approle;
pub mod cert;
pub mod jwt;
pub mod token_fields;
pub mod userpass;

use coffer_core::backend::Registry;

/// Registers every auth method of this module.
pub fn register(registry: &mut Registry) {
    registry.register("userpass", userpass::factory());
    registry.register("approle", approle::factory());
    registry.register("jwt", jwt::factory());
    registry.register("oidc", jwt::factory());
    registry.register("cert", cert::factory());
}
