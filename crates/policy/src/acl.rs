//! The compiled ACL: many policies merged into lookup structures built once, checked often.
//!
//! Lookup cost: an exact match is one hash probe; a `*` prefix glob is one walk of a byte
//! trie (O(path length)); `+` patterns, usually few, are each matched segment by segment.
//! None of this allocates; only parameter checks with upper-case parameter names do.

use crate::capability::{Capabilities, Capability};
use crate::params::ParamRules;
use crate::pattern::{Pattern, Rank, SegmentPattern};
use crate::policy::{PathRule, Policy};
use crate::trie::PrefixTrie;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The outcome of [`Acl::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclDecision {
    /// Whether the operation may proceed.
    pub allowed: bool,
    /// Whether the winning rule grants `sudo` (needed for root-protected paths).
    pub sudo: bool,
    /// For parameter denials: which parameter and why (never its value).
    pub reason: Option<String>,
}

/// Response-wrapping TTL limits of the rule governing a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrappingBounds {
    /// `min_wrapping_ttl`: responses must be wrapped with at least this TTL.
    pub min: Option<Duration>,
    /// `max_wrapping_ttl`: responses must be wrapped with at most this TTL.
    pub max: Option<Duration>,
}

impl WrappingBounds {
    /// Checks a request's wrap TTL (`None` or zero: not wrapped). Either bound makes wrapping
    /// mandatory, as in Vault.
    pub fn check(&self, requested: Option<Duration>) -> Result<(), String> {
        if self.min.is_none() && self.max.is_none() {
            return Ok(());
        }
        let ttl = match requested {
            Some(ttl) if !ttl.is_zero() => ttl,
            _ => return Err("this path requires response wrapping".into()),
        };
        if self.min.is_some_and(|min| ttl < min) {
            return Err("the wrapping TTL is shorter than this path's min_wrapping_ttl".into());
        }
        if self.max.is_some_and(|max| ttl > max) {
            return Err("the wrapping TTL is longer than this path's max_wrapping_ttl".into());
        }
        Ok(())
    }
}

/// Everything the rules for one pattern grant, merged across policies.
#[derive(Debug)]
struct Entry {
    /// Pattern text including any trailing `*` (used by the priority rules).
    text: Box<str>,
    caps: Capabilities,
    params: Option<Box<ParamRules>>,
    wrapping: WrappingBounds,
}

impl Entry {
    fn new(text: String, rule: &PathRule) -> Entry {
        Entry {
            text: text.into(),
            caps: rule.capabilities,
            params: (!rule.params.is_empty()).then(|| Box::new(rule.params.clone())),
            wrapping: WrappingBounds {
                min: rule.min_wrapping_ttl,
                max: rule.max_wrapping_ttl,
            },
        }
    }

    /// Vault's merge: deny is final; otherwise capabilities union, parameter lists merge,
    /// and wrapping takes the lowest minimum and the highest maximum.
    fn merge(&mut self, rule: &PathRule) {
        if self.caps.is_deny() {
            return;
        }
        if rule.capabilities.is_deny() {
            *self = Entry::new(self.text.to_string(), rule);
            return;
        }
        self.caps = self.caps.union(rule.capabilities);
        if !rule.params.is_empty() {
            match &mut self.params {
                Some(p) => p.merge(&rule.params),
                None => self.params = Some(Box::new(rule.params.clone())),
            }
        }
        if let Some(min) = rule.min_wrapping_ttl {
            self.wrapping.min = Some(self.wrapping.min.map_or(min, |m| m.min(min)));
        }
        if let Some(max) = rule.max_wrapping_ttl {
            self.wrapping.max = Some(self.wrapping.max.map_or(max, |m| m.max(max)));
        }
    }
}

/// A compiled set of policies. Immutable, `Send + Sync`; build once per token's policy set.
#[derive(Debug)]
pub struct Acl {
    root: bool,
    entries: Vec<Entry>,
    exact: HashMap<Box<str>, u32>,
    prefixes: PrefixTrie,
    segments: Vec<(SegmentPattern, u32)>,
}

impl Acl {
    /// Compiles policies: rules for the same pattern merge, then each pattern goes to the
    /// exact map, the prefix trie, or the `+` list.
    pub fn new(policies: &[Arc<Policy>]) -> Acl {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut merged: Vec<(&Pattern, Entry)> = Vec::new();
        for rule in policies.iter().flat_map(|p| p.rules()) {
            let text = rule.pattern.text();
            match index.get(&text) {
                Some(&i) => merged[i].1.merge(rule),
                None => {
                    index.insert(text.clone(), merged.len());
                    merged.push((&rule.pattern, Entry::new(text, rule)));
                }
            }
        }
        let mut acl = Acl {
            root: false,
            entries: Vec::with_capacity(merged.len()),
            exact: HashMap::new(),
            prefixes: PrefixTrie::new(),
            segments: Vec::new(),
        };
        for (pattern, entry) in merged {
            let id = u32::try_from(acl.entries.len()).expect("fewer than 2^32 rules");
            match pattern {
                Pattern::Exact(path) => {
                    acl.exact.insert(path.as_str().into(), id);
                }
                Pattern::Prefix(prefix) => acl.prefixes.insert(prefix.as_bytes(), id),
                Pattern::Segments(seg) => acl.segments.push((seg.clone(), id)),
            }
            acl.entries.push(entry);
        }
        acl
    }

    /// The ACL of a root token: everything is allowed, including `sudo`.
    pub fn root() -> Acl {
        let mut acl = Acl::new(&[]);
        acl.root = true;
        acl
    }

    /// Whether this is the root ACL.
    pub fn is_root(&self) -> bool {
        self.root
    }

    /// Whether any rule grants something on some path under `prefix` (e.g. a mount point):
    /// used to decide whether a token may discover that a mount exists.
    pub fn has_access_under(&self, prefix: &str) -> bool {
        if self.root {
            return true;
        }
        self.entries.iter().any(|e| {
            if e.caps.is_deny() || e.caps.is_empty() {
                return false;
            }
            let text: &str = &e.text;
            match text.find(['*', '+']) {
                None => text.starts_with(prefix),
                Some(i) => text[..i].starts_with(prefix) || prefix.starts_with(&text[..i]),
            }
        })
    }

    /// What the winning rule grants on `path` (for `sys/capabilities`). The root ACL grants
    /// every capability; a path no rule matches yields the empty set (reported as `deny`).
    pub fn capabilities(&self, path: &str) -> Capabilities {
        if self.root {
            return Capabilities::ROOT;
        }
        self.find(path, false).map_or(Capabilities::EMPTY, |e| e.caps)
    }

    /// Whether `cap` is allowed on `path`. Parameter rules apply only when `params` is given
    /// and `cap` is create, update or patch. A `list` check on `a/b/` also tries `a/b`.
    pub fn check(&self, path: &str, cap: Capability, params: Option<&Map<String, Value>>) -> AclDecision {
        if self.root {
            return AclDecision {
                allowed: cap != Capability::Deny,
                sudo: true,
                reason: None,
            };
        }
        let Some(entry) = self.find(path, cap == Capability::List) else {
            return AclDecision {
                allowed: false,
                sudo: false,
                reason: None,
            };
        };
        let sudo = entry.caps.contains(Capability::Sudo);
        if cap == Capability::Deny || !entry.caps.contains(cap) {
            return AclDecision {
                allowed: false,
                sudo,
                reason: None,
            };
        }
        let checks_params = matches!(cap, Capability::Create | Capability::Update | Capability::Patch);
        if checks_params
            && let (Some(rules), Some(params)) = (&entry.params, params)
            && let Err(reason) = rules.check(params)
        {
            return AclDecision {
                allowed: false,
                sudo,
                reason: Some(reason),
            };
        }
        AclDecision {
            allowed: true,
            sudo,
            reason: None,
        }
    }

    /// Wrapping TTL limits of the rule that governs `cap` on `path` (none for root).
    pub fn wrapping_bounds(&self, path: &str, cap: Capability) -> WrappingBounds {
        if self.root {
            return WrappingBounds::default();
        }
        self.find(path, cap == Capability::List)
            .map_or_else(WrappingBounds::default, |e| e.wrapping)
    }

    /// The winning entry: exact match first, then the best of the longest prefix glob and
    /// the matching `+` patterns. For list operations a trailing `/` may be dropped, in
    /// Vault's order (exact, exact trimmed, non-exact, non-exact trimmed).
    fn find(&self, path: &str, list: bool) -> Option<&Entry> {
        if let Some(&id) = self.exact.get(path) {
            return Some(&self.entries[id as usize]);
        }
        let trimmed = if list { path.strip_suffix('/') } else { None };
        if let Some(&id) = trimmed.and_then(|t| self.exact.get(t)) {
            return Some(&self.entries[id as usize]);
        }
        self.non_exact(path).or_else(|| trimmed.and_then(|t| self.non_exact(t)))
    }

    fn non_exact(&self, path: &str) -> Option<&Entry> {
        let mut best: Option<(Rank<'_>, u32)> = self
            .prefixes
            .longest(path.as_bytes())
            .map(|id| (Rank::of_prefix(&self.entries[id as usize].text), id));
        for (pattern, id) in &self.segments {
            if pattern.matches(path) {
                let rank = pattern.rank();
                if best.as_ref().is_none_or(|(b, _)| rank.outranks(b)) {
                    best = Some((rank, *id));
                }
            }
        }
        best.map(|(_, id)| &self.entries[id as usize])
    }
}

#[cfg(test)]
mod tests;
