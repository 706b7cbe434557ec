//! ACL path templating (Vault's `{{identity.entity.id}}` and friends): substituting values
//! into templated path patterns, and rendering a whole policy for one entity.
//!
//! The crate knows nothing about identities: the caller passes a resolver that maps an
//! expression (`identity.entity.name`) to its value. As in Vault, a rule whose template
//! cannot be resolved is dropped from the rendered policy, so a `{{…}}` is never matched
//! literally.

use crate::pattern::Pattern;
use crate::policy::{PathRule, Policy};

/// Why a templated path could not be rendered.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` and `}}` do not pair up.
    #[error("unbalanced templating characters")]
    Unbalanced,
    /// The resolver has no value for the expression (unknown key, no such alias or group).
    #[error("no value found for template \"{0}\"")]
    NotFound(String),
    /// The value would change the pattern's meaning (`*`, a `+` or `..` segment, empty).
    #[error("template \"{0}\" has a value that cannot be used in a path")]
    UnsafeValue(String),
}

/// Replaces every `{{ expr }}` in `path` with `resolve(expr)` (the expression is trimmed).
///
/// Substituted values may not contain `*`, be empty, or form a `+` or `..` segment: an
/// entity or alias name must never widen a rule into a glob.
pub fn render_path(path: &str, resolve: &dyn Fn(&str) -> Option<String>) -> Result<String, TemplateError> {
    if path.matches("{{").count() != path.matches("}}").count() {
        return Err(TemplateError::Unbalanced);
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(start) = rest.find("{{") {
        let (before, after) = rest.split_at(start);
        if before.contains("}}") {
            return Err(TemplateError::Unbalanced);
        }
        out.push_str(before);
        let after = &after[2..];
        let end = after.find("}}").ok_or(TemplateError::Unbalanced)?;
        let expr = after[..end].trim();
        if expr.contains("{{") {
            return Err(TemplateError::Unbalanced);
        }
        let value = resolve(expr).ok_or_else(|| TemplateError::NotFound(expr.to_owned()))?;
        if value.is_empty() || value.contains('*') || value.split('/').any(|s| s == "+" || s == "..") {
            return Err(TemplateError::UnsafeValue(expr.to_owned()));
        }
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(TemplateError::Unbalanced);
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a path pattern contains a template.
fn is_templated_path(path: &str) -> bool {
    path.contains("{{") || path.contains("}}")
}

impl Policy {
    /// Whether any rule's path contains a template (`{{…}}`).
    pub fn is_templated(&self) -> bool {
        self.rules().iter().any(|r| is_templated_path(&r.pattern.text()))
    }

    /// This policy with every templated path rendered by `resolve`. Rules whose template
    /// cannot be rendered (see [`render_path`]), or whose rendered path is not a valid
    /// pattern, are left out. Pass a resolver that always answers `None` to strip every
    /// templated rule (a token without an entity).
    pub fn render(&self, resolve: &dyn Fn(&str) -> Option<String>) -> Policy {
        let rules: Vec<PathRule> = self
            .rules()
            .iter()
            .filter_map(|rule| {
                let text = rule.pattern.text();
                if !is_templated_path(&text) {
                    return Some(rule.clone());
                }
                let rendered = render_path(&text, resolve).ok()?;
                let pattern = Pattern::parse(&rendered).ok()?;
                let mut rule = rule.clone();
                rule.pattern = pattern;
                Some(rule)
            })
            .collect();
        self.with_rules(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Acl, Capability};
    use std::sync::Arc;

    fn resolver(expr: &str) -> Option<String> {
        match expr {
            "identity.entity.name" => Some("alice".into()),
            "identity.entity.id" => Some("e-1".into()),
            "identity.entity.metadata.evil" => Some("*".into()),
            "identity.entity.metadata.plus" => Some("+".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_and_trims_expressions() {
        assert_eq!(
            render_path("secret/{{identity.entity.name}}/{{ identity.entity.id }}/*", &resolver).unwrap(),
            "secret/alice/e-1/*"
        );
        assert_eq!(render_path("plain/path", &resolver).unwrap(), "plain/path");
    }

    #[test]
    fn rejects_unbalanced_missing_and_unsafe() {
        assert_eq!(
            render_path("a/{{identity.entity.id", &resolver),
            Err(TemplateError::Unbalanced)
        );
        assert_eq!(render_path("a/}}x{{", &resolver), Err(TemplateError::Unbalanced));
        assert!(matches!(
            render_path("a/{{identity.entity.metadata.nope}}", &resolver),
            Err(TemplateError::NotFound(_))
        ));
        assert!(matches!(
            render_path("a/{{identity.entity.metadata.evil}}", &resolver),
            Err(TemplateError::UnsafeValue(_))
        ));
        assert!(matches!(
            render_path("a/{{identity.entity.metadata.plus}}/b", &resolver),
            Err(TemplateError::UnsafeValue(_))
        ));
    }

    #[test]
    fn render_drops_unresolvable_rules_and_keeps_the_rest() {
        let policy = Policy::parse(
            "t",
            r#"
            path "secret/{{identity.entity.name}}/*" { capabilities = ["read"] }
            path "secret/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
            path "shared/*" { capabilities = ["read"] }
            "#,
        )
        .unwrap();
        assert!(policy.is_templated());
        let rendered = policy.render(&resolver);
        assert!(!rendered.is_templated());
        let paths: Vec<String> = rendered.rules().iter().map(|r| r.path()).collect();
        assert_eq!(paths, ["secret/alice/*", "shared/*"]);
        let acl = Acl::new(&[Arc::new(rendered)]);
        assert!(acl.check("secret/alice/x", Capability::Read, None).allowed);
        assert!(!acl.check("secret/bob/x", Capability::Read, None).allowed);

        let stripped = policy.render(&|_| None);
        let acl = Acl::new(&[Arc::new(stripped)]);
        assert!(
            !acl.check("secret/{{identity.entity.name}}/x", Capability::Read, None)
                .allowed
        );
        assert!(acl.check("shared/x", Capability::Read, None).allowed);
    }
}
