//! Rules as data: the TOML rule format, its validation and compilation, and the embedded set.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use serde::Deserialize;

use crate::ScanError;
use crate::validate::Validator;

/// Every rule file embedded in the binary (`rules/*.toml`), in merge order: specific rules
/// first, the `private-key` catch-all and generic rules last. Add new files here.
const BUILTIN_FILES: &[(&str, &str)] = &[
    ("cloud.toml", include_str!("../rules/cloud.toml")),
    ("vcs_ci.toml", include_str!("../rules/vcs_ci.toml")),
    ("payments.toml", include_str!("../rules/payments.toml")),
    ("messaging.toml", include_str!("../rules/messaging.toml")),
    ("ai.toml", include_str!("../rules/ai.toml")),
    ("registries.toml", include_str!("../rules/registries.toml")),
    ("databases.toml", include_str!("../rules/databases.toml")),
    ("monitoring.toml", include_str!("../rules/monitoring.toml")),
    ("keys.toml", include_str!("../rules/keys.toml")),
    ("uris.toml", include_str!("../rules/uris.toml")),
    ("generic.toml", include_str!("../rules/generic.toml")),
    ("coffer.toml", include_str!("../rules/coffer.toml")),
];

/// Secret types a rule may declare.
pub const KINDS: &[&str] = &[
    "api-key",
    "token",
    "password",
    "private-key",
    "connection-string",
    "webhook",
    "certificate",
    "credential",
];

/// Lines around a keyword hit that multiline rules look at, before and after, by default.
const MULTILINE_LINES: usize = 3;
/// Largest compiled NFA of one rule regex (bounded repetitions of classes add up quickly).
const NFA_SIZE_LIMIT: usize = 8 << 20;

/// One detection rule: what the TOML says, plus its compiled regexes.
///
/// The regexes are checked when a [`RuleSet`] is built but compiled on first use: most rules
/// never see a keyword hit in a given scan, and compiled regexes are most of a rule set's
/// memory (about 7.5 MB for the built-in set) and of its start-up time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique kebab-case id.
    pub id: String,
    /// What the rule finds, for people.
    pub description: String,
    /// Secret type (one of [`KINDS`]).
    pub kind: String,
    /// Literals (matched case-insensitively) that must occur near a match.
    pub keywords: Vec<String>,
    /// Rust regex; the secret is group `secret`, else group 1, else the whole match. A group
    /// named `key` (or `key_*`, when alternatives need several) gives the key name.
    pub regex: String,
    /// Checksum or structure check the secret must pass.
    #[serde(default)]
    pub validate: Option<Validator>,
    /// Minimum Shannon entropy (bits per character) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Key-name based detection: the strict non-secret filters apply.
    #[serde(default)]
    pub generic: bool,
    /// The regex may span lines.
    #[serde(default)]
    pub multiline: bool,
    /// Lines before a keyword hit the regex sees (default 0, multiline rules 3).
    #[serde(default)]
    pub lines_before: Option<usize>,
    /// Lines after a keyword hit the regex sees (default 0, multiline rules 3).
    #[serde(default)]
    pub lines_after: Option<usize>,
    /// A secret matching any of these regexes is dropped.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Id of a rule whose nearest finding is attached as [`crate::Finding::related`].
    #[serde(default)]
    pub related: Option<String>,
    /// How far (in lines) the related finding may be (default 5).
    #[serde(default)]
    pub related_within_lines: Option<usize>,
    /// Texts that each produce exactly one finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Near misses that produce none.
    #[serde(default)]
    pub negatives: Vec<String>,
    #[serde(skip)]
    compiled: OnceLock<Option<Compiled>>,
}

/// The compiled form of a rule's regexes.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) regex: Regex,
    /// Capture group index of the secret (0 = whole match).
    pub(crate) secret_group: usize,
    /// Capture groups holding the key name (`key`, `key_*`), first participating one wins.
    pub(crate) key_groups: Vec<usize>,
    pub(crate) allow: Vec<Regex>,
}

impl Rule {
    /// Lines (before, after) of context the regex sees around a keyword hit.
    pub fn window_lines(&self) -> (usize, usize) {
        let default = if self.multiline { MULTILINE_LINES } else { 0 };
        (
            self.lines_before.unwrap_or(default),
            self.lines_after.unwrap_or(default),
        )
    }

    /// The compiled regexes, compiled on first use. `None` only if a regex that passed the
    /// checks of [`RuleSet`] construction cannot be compiled after all (not expected).
    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        self.compiled.get_or_init(|| self.compile().ok()).as_ref()
    }

    fn compile(&self) -> Result<Compiled, String> {
        let regex = compile_regex(&self.regex)?;
        let names: Vec<Option<&str>> = regex
            .group_info()
            .pattern_names(regex_automata::PatternID::ZERO)
            .collect();
        let secret_group = names
            .iter()
            .position(|n| *n == Some("secret"))
            .unwrap_or(if names.len() > 1 { 1 } else { 0 });
        let key_groups = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.is_some_and(|n| n == "key" || n.starts_with("key_")))
            .map(|(i, _)| i)
            .collect();
        let allow = self
            .allow
            .iter()
            .map(|a| compile_regex(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Compiled {
            regex,
            secret_group,
            key_groups,
            allow,
        })
    }

    /// Checks the fields and the regexes (without keeping a compiled form: see
    /// [`Rule::compiled`]). `nfa`: also build each regex's NFA, which catches the size limit
    /// as well as syntax errors (user rules; the built-in ones are checked by a test).
    fn check(self, nfa: bool) -> Result<Rule, ScanError> {
        let err = |message: String| ScanError::Rule {
            id: self.id.clone(),
            message,
        };
        let id_ok = !self.id.is_empty()
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(err("id must be non-empty kebab-case ([a-z0-9-])".into()));
        }
        if !KINDS.contains(&self.kind.as_str()) {
            return Err(err(format!("kind {:?} is not one of {}", self.kind, KINDS.join(", "))));
        }
        if self.keywords.is_empty() || self.keywords.iter().any(|k| k.trim().is_empty()) {
            return Err(err("keywords must be a non-empty list of non-empty literals".into()));
        }
        if self.min_entropy.is_some_and(|e| !(0.0..=8.0).contains(&e)) {
            return Err(err("min_entropy must be between 0 and 8 bits per character".into()));
        }
        check_regex(&self.regex, nfa).map_err(|e| err(format!("regex does not compile: {e}")))?;
        for a in &self.allow {
            check_regex(a, nfa).map_err(|e| err(format!("allow regex {a:?} does not compile: {e}")))?;
        }
        Ok(self)
    }
}

/// The syntax of rule regexes: ASCII classes first (faster, smaller), `^`/`$` at lines.
fn syntax_config(unicode: bool) -> syntax::Config {
    syntax::Config::new().unicode(unicode).utf8(false).multi_line(true)
}

/// Checks that `pattern` compiles as [`compile_regex`] would compile it: parses it (and, with
/// `nfa`, builds its NFA within the size limit), without building the search engines.
fn check_regex(pattern: &str, nfa: bool) -> Result<(), String> {
    let check = |unicode: bool| -> Result<(), String> {
        let hir = syntax::parse_with(pattern, &syntax_config(unicode)).map_err(|e| e.to_string())?;
        if nfa {
            thompson::Compiler::new()
                .configure(
                    thompson::Config::new()
                        .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                        .shrink(false),
                )
                .build_from_hir(&hir)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    check(false).or_else(|_| check(true))
}

/// Compiles a rule regex for byte haystacks: ASCII classes (faster, smaller), `^`/`$` at lines.
/// No one-pass DFA: it would triple the memory of the rule set (bounded repetitions blow it
/// up) for no gain on the short windows the engine searches. Should the NFA of a checked
/// rule still exceed the size limit (the reverse NFA is built too), it is compiled unbounded.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let build = |unicode: bool, limit: Option<usize>| {
        meta::Builder::new()
            .configure(
                meta::Config::new()
                    .onepass(false)
                    .utf8_empty(false)
                    .nfa_size_limit(limit)
                    .hybrid_cache_capacity(1 << 19),
            )
            .syntax(syntax_config(unicode))
            .build(pattern)
            .map_err(Box::new)
    };
    build(false, Some(NFA_SIZE_LIMIT))
        .or_else(|_| build(true, Some(NFA_SIZE_LIMIT)))
        .or_else(|e| match e.size_limit() {
            Some(_) => build(false, None).or_else(|_| build(true, None)),
            None => Err(e),
        })
        .map_err(|e: Box<meta::BuildError>| e.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<Rule>,
}

/// An ordered set of compiled rules with unique ids.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The rules embedded in the binary (their regexes are parsed, not compiled: a test
    /// compiles every one).
    pub fn builtin() -> RuleSet {
        let mut set = RuleSet::default();
        for (name, text) in BUILTIN_FILES {
            let file = RuleSet::parse_toml(text, false).unwrap_or_else(|e| panic!("embedded rules/{name}: {e}"));
            set = set.merge(file);
        }
        set
    }

    /// Parses and checks a TOML rule file (`[[rules]]` entries).
    pub fn from_toml(text: &str) -> Result<RuleSet, ScanError> {
        RuleSet::parse_toml(text, true)
    }

    fn parse_toml(text: &str, nfa: bool) -> Result<RuleSet, ScanError> {
        let file: RuleFile = toml::from_str(text).map_err(|e| ScanError::Parse(format!("rules: {e}")))?;
        RuleSet::checked(file.rules, nfa)
    }

    /// Checks rules given as values (ids must be unique). Regexes are compiled on first use,
    /// but one that would not compile is an error here.
    pub fn from_rules(rules: Vec<Rule>) -> Result<RuleSet, ScanError> {
        RuleSet::checked(rules, true)
    }

    fn checked(rules: Vec<Rule>, nfa: bool) -> Result<RuleSet, ScanError> {
        let mut seen = HashMap::new();
        let mut out = Vec::with_capacity(rules.len());
        for rule in rules {
            if seen.insert(rule.id.clone(), ()).is_some() {
                return Err(ScanError::Rule {
                    id: rule.id,
                    message: "duplicate rule id".into(),
                });
            }
            out.push(rule.check(nfa)?);
        }
        Ok(RuleSet { rules: out })
    }

    /// `other`'s rules added to these; a rule with an existing id replaces it in place.
    pub fn merge(mut self, other: RuleSet) -> RuleSet {
        for rule in other.rules {
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => *slot = rule,
                None => self.rules.push(rule),
            }
        }
        self
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Drops the rules whose ids are listed.
    pub fn without(mut self, ids: &[String]) -> RuleSet {
        self.rules.retain(|r| !ids.contains(&r.id));
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The engine's own test rules (`src/test_rules.toml`).
    pub(crate) fn test_rules() -> RuleSet {
        RuleSet::from_toml(include_str!("test_rules.toml")).expect("test rules compile")
    }

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        assert!(test_rules().len() >= 5);
        let set = RuleSet::builtin();
        assert!(set.len() >= 5);
        for rule in set.rules() {
            assert!(
                check_regex(&rule.regex, true).is_ok(),
                "rule {}: NFA too large",
                rule.id
            );
            let compiled = rule.compiled();
            assert!(compiled.is_some(), "rule {} does not compile", rule.id);
            assert_eq!(compiled.unwrap().allow.len(), rule.allow.len());
        }
        let mut ids: Vec<_> = set.rules().iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), set.len());
    }

    #[test]
    fn errors_name_the_rule_and_the_problem() {
        let bad = r#"
[[rules]]
id = "broken-one"
description = "x"
kind = "token"
keywords = ["abc"]
regex = "abc(("
"#;
        let e = RuleSet::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains("broken-one") && e.contains("regex does not compile"), "{e}");
        let bad_kind = bad.replace("\"token\"", "\"secretz\"").replace("abc((", "abc");
        let e = RuleSet::from_toml(&bad_kind).unwrap_err().to_string();
        assert!(e.contains("kind"), "{e}");
        let no_kw = bad.replace("[\"abc\"]", "[]").replace("abc((", "abc");
        assert!(RuleSet::from_toml(&no_kw).unwrap_err().to_string().contains("keywords"));
        let unknown = bad.replace("abc((", "abc").replace("kind =", "colour = 1\nkind =");
        assert!(RuleSet::from_toml(&unknown).is_err());
    }

    #[test]
    fn merge_overrides_by_id_and_adds_new() {
        let base = test_rules();
        let n = base.len();
        let id = base.rules()[0].id.clone();
        let user = RuleSet::from_toml(&format!(
            "[[rules]]\nid = \"{id}\"\ndescription = \"mine\"\nkind = \"token\"\nkeywords = [\"zz\"]\nregex = \"zz\\\\d+\"\n\n[[rules]]\nid = \"extra\"\ndescription = \"e\"\nkind = \"token\"\nkeywords = [\"qq\"]\nregex = \"qq\\\\d+\"\n"
        ))
        .unwrap();
        let merged = base.merge(user);
        assert_eq!(merged.len(), n + 1);
        assert_eq!(merged.get(&id).unwrap().description, "mine");
        assert!(merged.get("extra").is_some());
    }

    #[test]
    fn secret_group_selection() {
        let mk = |re: &str| {
            RuleSet::from_toml(&format!(
                "[[rules]]\nid = \"r\"\ndescription = \"d\"\nkind = \"token\"\nkeywords = [\"k\"]\nregex = '{re}'\n"
            ))
            .unwrap()
        };
        let group = |re: &str| mk(re).rules()[0].compiled().unwrap().secret_group;
        assert_eq!(group("k(a)(?P<secret>b)"), 2);
        assert_eq!(group("k(a)(b)"), 1);
        assert_eq!(group("kab"), 0);
    }
}
