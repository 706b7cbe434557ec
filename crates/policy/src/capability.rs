//! Capabilities: the verbs a policy grants on a path, and a compact bit set of them.

use std::fmt;

/// One capability a policy rule can grant (or, for [`Capability::Deny`], withhold).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Capability {
    /// Create a value at a path that does not exist yet.
    Create,
    /// Read a value.
    Read,
    /// Change an existing value (also used for renew/revoke-style operations).
    Update,
    /// Partially update an existing value.
    Patch,
    /// Delete a value.
    Delete,
    /// List the keys under a path.
    List,
    /// Access root-protected paths (together with the operation's own capability).
    Sudo,
    /// Explicitly forbid everything on the path; wins over every other capability.
    Deny,
    /// Subscribe to events.
    Subscribe,
}

impl Capability {
    /// Every capability, in Vault's reporting order (`deny` last).
    pub const ALL: [Capability; 9] = [
        Capability::Create,
        Capability::Read,
        Capability::Update,
        Capability::Patch,
        Capability::Delete,
        Capability::List,
        Capability::Sudo,
        Capability::Subscribe,
        Capability::Deny,
    ];

    /// The name used in policies and API responses, e.g. `"read"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Patch => "patch",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
            Capability::Deny => "deny",
            Capability::Subscribe => "subscribe",
        }
    }

    /// Parses a capability name as written in a policy (exact, lower-case).
    pub fn from_name(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == name)
    }

    const fn bit(self) -> u16 {
        match self {
            Capability::Create => 1 << 0,
            Capability::Read => 1 << 1,
            Capability::Update => 1 << 2,
            Capability::Patch => 1 << 3,
            Capability::Delete => 1 << 4,
            Capability::List => 1 << 5,
            Capability::Sudo => 1 << 6,
            Capability::Deny => 1 << 7,
            Capability::Subscribe => 1 << 8,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Capability`] values stored as a bit set.
///
/// A set containing [`Capability::Deny`] is treated as "deny everything":
/// [`Capabilities::contains`] answers `false` for every other capability.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Capabilities(u16);

impl Capabilities {
    /// The empty set.
    pub const EMPTY: Capabilities = Capabilities(0);

    /// The set holding only `deny`.
    pub const DENY: Capabilities = Capabilities(Capability::Deny.bit());

    /// Everything a root token may do: every capability except `deny`.
    pub const ROOT: Capabilities = Capabilities(
        Capability::Create.bit()
            | Capability::Read.bit()
            | Capability::Update.bit()
            | Capability::Patch.bit()
            | Capability::Delete.bit()
            | Capability::List.bit()
            | Capability::Sudo.bit()
            | Capability::Subscribe.bit(),
    );

    /// Builds a set from capabilities; if `deny` is among them the result is [`Capabilities::DENY`].
    pub fn from_caps<I: IntoIterator<Item = Capability>>(caps: I) -> Capabilities {
        caps.into_iter().fold(Capabilities::EMPTY, |acc, c| acc.with(c))
    }

    /// Returns this set with `c` added; adding `deny` leaves only `deny`.
    #[must_use]
    pub fn with(self, c: Capability) -> Capabilities {
        self.union(Capabilities(c.bit()))
    }

    /// The union of two sets; if either denies, the result is [`Capabilities::DENY`].
    #[must_use]
    pub fn union(self, other: Capabilities) -> Capabilities {
        if self.is_deny() || other.is_deny() {
            Capabilities::DENY
        } else {
            Capabilities(self.0 | other.0)
        }
    }

    /// Whether `c` is granted. Asking for [`Capability::Deny`] answers whether the set denies.
    pub fn contains(self, c: Capability) -> bool {
        match c {
            Capability::Deny => self.is_deny(),
            _ => !self.is_deny() && self.0 & c.bit() != 0,
        }
    }

    /// Whether this set explicitly denies everything.
    pub fn is_deny(self) -> bool {
        self.0 & Capability::Deny.bit() != 0
    }

    /// Whether no capability at all is present (not even `deny`).
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The granted capabilities in Vault's order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| *c != Capability::Deny && self.contains(*c))
    }

    /// Names in Vault's order, e.g. `["create","read","update","patch","delete","list","sudo"]`.
    ///
    /// A denying set, and an empty one (no rule grants anything), yields `["deny"]`,
    /// which is what Vault's `sys/capabilities` reports for both.
    pub fn to_strings(self) -> Vec<String> {
        if self.is_deny() || self.is_empty() {
            return vec![Capability::Deny.as_str().to_owned()];
        }
        self.iter().map(|c| c.as_str().to_owned()).collect()
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        Capabilities::from_caps(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Capability::ALL {
            assert_eq!(Capability::from_name(c.as_str()), Some(c));
        }
        assert_eq!(Capability::from_name("raed"), None);
        assert_eq!(Capability::from_name("READ"), None);
    }

    #[test]
    fn deny_absorbs_everything() {
        let set = Capabilities::from_caps([Capability::Read, Capability::Deny, Capability::Sudo]);
        assert_eq!(set, Capabilities::DENY);
        assert!(!set.contains(Capability::Read));
        assert!(set.contains(Capability::Deny));
        assert_eq!(set.to_strings(), vec!["deny"]);
        assert_eq!(Capabilities::ROOT.union(set), Capabilities::DENY);
    }

    #[test]
    fn strings_in_vault_order() {
        let set = Capabilities::from_caps([
            Capability::Sudo,
            Capability::List,
            Capability::Delete,
            Capability::Patch,
            Capability::Update,
            Capability::Read,
            Capability::Create,
        ]);
        assert_eq!(
            set.to_strings(),
            vec!["create", "read", "update", "patch", "delete", "list", "sudo"]
        );
        assert!(Capabilities::default().is_empty());
        assert_eq!(Capabilities::default().to_strings(), vec!["deny"]);
        assert!(!Capabilities::ROOT.contains(Capability::Deny));
        assert!(Capabilities::ROOT.contains(Capability::Sudo));
    }
}
