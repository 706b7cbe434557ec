//! Crate-level tests: names, the default policy, and property tests.

use super::*;
use proptest::prelude::*;
use std::sync::Arc;

#[test]
fn policy_names() {
    assert!(validate_name("dev-team").is_ok());
    assert!(validate_name("").is_err());
    assert!(validate_name("a/b").is_err());
    assert!(validate_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
    assert!(validate_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
    assert!(is_reserved(ROOT_POLICY));
    assert!(is_reserved("response-wrapping"));
    assert!(!is_reserved(DEFAULT_POLICY));
    assert!(!is_deletable(DEFAULT_POLICY));
    assert!(!is_deletable(ROOT_POLICY));
    assert!(is_deletable("dev-team"));
    assert_eq!(
        validate_name("").unwrap_err().to_string(),
        "failed to parse policy: policy name must not be empty"
    );
}

#[test]
fn default_policy_grants_what_vault_does() {
    let policy = Arc::new(Policy::parse(DEFAULT_POLICY, default_policy_text()).unwrap());
    let acl = Acl::new(&[policy]);
    use Capability::*;
    let allowed = [
        ("auth/token/lookup-self", Read),
        ("auth/token/renew-self", Update),
        ("auth/token/revoke-self", Update),
        ("sys/capabilities-self", Update),
        ("sys/wrapping/wrap", Update),
        ("sys/wrapping/lookup", Update),
        ("sys/wrapping/unwrap", Update),
        ("sys/internal/ui/resultant-acl", Read),
        ("sys/leases/renew", Update),
        ("sys/leases/lookup", Update),
        ("sys/renew", Update),
        ("sys/tools/hash", Update),
        ("sys/tools/hash/sha2-256", Update),
    ];
    for (path, cap) in allowed {
        assert!(acl.check(path, cap, None).allowed, "{cap} on {path}");
        assert!(!acl.check(path, Sudo, None).allowed, "no sudo on {path}");
    }
    for cap in [Create, Read, Update, Delete, List] {
        assert!(acl.check("cubbyhole/x", cap, None).allowed, "{cap} on cubbyhole");
    }
    for cap in Capability::ALL {
        assert!(!acl.check("secret/x", cap, None).allowed);
        assert!(!acl.check("secret/", cap, None).allowed);
    }
    assert!(!acl.check("auth/token/lookup-self", Update, None).allowed);
    assert!(!acl.check("sys/policies/acl/default", Update, None).allowed);
    assert_eq!(acl.capabilities("secret/data/x").to_strings(), vec!["deny"]);
}

fn path_strategy() -> impl Strategy<Value = String> {
    "[a-z0-9_.-]{1,8}(/[a-z0-9_.-]{0,8}){0,5}"
}

proptest! {
    #[test]
    fn root_allows_all(path in path_strategy(), cap in prop::sample::select(Capability::ALL.to_vec())) {
        let root = Acl::root();
        let d = root.check(&path, cap, None);
        prop_assert_eq!(d.allowed, cap != Capability::Deny);
        prop_assert!(d.sudo);
        prop_assert!(root.capabilities(&path).contains(Capability::Sudo));
    }

    #[test]
    fn exact_rule_allows_read_on_exactly_that_path(p in path_strategy(), q in path_strategy()) {
        let text = format!("path \"{p}\" {{ capabilities = [\"read\"] }}");
        let acl = Acl::new(&[Arc::new(Policy::parse("t", &text).unwrap())]);
        prop_assert!(acl.check(&p, Capability::Read, None).allowed);
        prop_assert!(!acl.check(&p, Capability::Update, None).allowed);
        prop_assert_eq!(acl.check(&q, Capability::Read, None).allowed, p == q);
    }

    #[test]
    fn prefix_rule_matches_exactly_the_prefixed_paths(p in path_strategy(), q in path_strategy()) {
        let text = format!("path \"{p}*\" {{ capabilities = [\"list\"] }}");
        let acl = Acl::new(&[Arc::new(Policy::parse("t", &text).unwrap())]);
        prop_assert_eq!(acl.check(&q, Capability::List, None).allowed, q.starts_with(&p));
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::parse("fuzz", &text);
    }
}

#[test]
fn access_under_a_mount() {
    let p = Policy::parse(
        "p",
        r#"
path "secret/data/app/*" { capabilities = ["read"] }
path "kv/+/x" { capabilities = ["list"] }
path "other/" { capabilities = ["deny"] }
"#,
    )
    .unwrap();
    let acl = Acl::new(&[Arc::new(p)]);
    assert!(acl.has_access_under("secret/"));
    assert!(acl.has_access_under("kv/"));
    assert!(!acl.has_access_under("other/"));
    assert!(!acl.has_access_under("cubbyhole/"));
    assert!(Acl::root().has_access_under("anything/"));
}

mod precedence {
    //! Policy precedence as properties: deny on a pattern wins over every grant on that pattern
    //! (from any policy); a more specific pattern wins over a less specific one.
    use super::*;

    fn caps() -> impl Strategy<Value = Vec<Capability>> {
        prop::sample::subsequence(
            vec![
                Capability::Create,
                Capability::Read,
                Capability::Update,
                Capability::Patch,
                Capability::Delete,
                Capability::List,
                Capability::Sudo,
            ],
            1..=7,
        )
    }

    fn rule(pattern: &str, caps: &[Capability]) -> String {
        let names: Vec<String> = caps.iter().map(|c| format!("\"{}\"", c.as_str())).collect();
        format!("path \"{pattern}\" {{ capabilities = [{}] }}\n", names.join(", "))
    }

    fn acl(texts: &[String]) -> Acl {
        let policies: Vec<Arc<Policy>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Arc::new(Policy::parse(&format!("p{i}"), t).unwrap()))
            .collect();
        Acl::new(&policies)
    }

    proptest! {
        #[test]
        fn deny_wins_over_any_grant_on_the_same_pattern(
            p in path_strategy(),
            glob in any::<bool>(),
            grant in caps(),
            deny_first in any::<bool>(),
        ) {
            let pattern = if glob { format!("{p}*") } else { p.clone() };
            let mut texts = vec![rule(&pattern, &grant), rule(&pattern, &[Capability::Deny])];
            if deny_first {
                texts.reverse();
            }
            let acl = acl(&texts);
            for cap in &grant {
                prop_assert!(!acl.check(&p, *cap, None).allowed, "{cap:?} allowed despite deny");
            }
            prop_assert!(acl.capabilities(&p).is_deny());
        }

        #[test]
        fn more_specific_pattern_wins(
            p in path_strategy(),
            tail in "[a-z0-9]{1,6}",
            general in caps(),
            specific in caps(),
            exact in any::<bool>(),
        ) {
            let path = format!("{p}/{tail}");
            // `p/*` is less specific than `p/tail*`, which is less specific than `p/tail`.
            let specific_pattern = if exact { path.clone() } else { format!("{path}*") };
            let acl = acl(&[rule(&format!("{p}/*"), &general), rule(&specific_pattern, &specific)]);
            for cap in Capability::ALL.iter().filter(|c| **c != Capability::Deny) {
                prop_assert_eq!(
                    acl.check(&path, *cap, None).allowed,
                    specific.contains(cap),
                    "capability {:?} on {} with general {:?} specific {:?}", cap, path, general, specific
                );
            }
        }

        #[test]
        fn specific_deny_beats_general_grant(p in path_strategy(), tail in "[a-z0-9]{1,6}", general in caps()) {
            let path = format!("{p}/{tail}");
            let acl = acl(&[rule(&format!("{p}/*"), &general), rule(&path, &[Capability::Deny])]);
            for cap in &general {
                prop_assert!(!acl.check(&path, *cap, None).allowed);
            }
        }
    }
}
