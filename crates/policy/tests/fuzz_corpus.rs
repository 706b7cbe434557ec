//! Replays the `policy_parse` fuzz corpus and crash reproducers (`fuzz/corpus/policy_parse`,
//! `fuzz/regressions/policy_parse`) through the fuzz target's own body, so every input the
//! fuzzer kept stays parsed without a panic, and every rejected policy names a line within
//! its text. See `fuzz/README.md`.
//!
//! No timing is asserted (the machine is shared); the fuzzer found HCL inputs of a few hundred bytes on
//! which `hcl::parse` backtracks exponentially (minutes to hours); `source.rs` now refuses
//! them before parsing.

#[path = "../../../fuzz/src/policy.rs"]
mod body;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use coffer_policy::{Policy, PolicyError};

#[test]
fn corpus_parses_without_panics() {
    replay::replay_dir("corpus/policy_parse", body::run);
}

#[test]
fn regressions_stay_fixed() {
    replay::replay_dir("regressions/policy_parse", body::run);
}

fn parse_err(text: &str) -> (usize, String) {
    match Policy::parse("p", text) {
        Err(PolicyError::Parse { line, message }) => (line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn deep_parentheses_and_templates_are_refused_before_parsing() {
    let nested = format!("path \"a\" {{\n  capabilities = x{}\n}}\n", "*(r".repeat(40));
    let (line, msg) = parse_err(&nested);
    assert_eq!(line, 2);
    assert!(msg.contains("brackets nested"), "{msg}");

    let objects = format!("n = {{{}a* 0", "a/b*{k=".repeat(40));
    let (line, msg) = parse_err(&objects);
    assert_eq!(line, 1);
    assert!(msg.contains("brackets nested"), "{msg}");

    // A heredoc could hide a deep expression from the scan (its `/*` is text, not a comment).
    let heredoc = format!("a = <<EOF\n/*\nEOF\nb = x{}\n", "p*(r*".repeat(40));
    let (line, msg) = parse_err(&heredoc);
    assert_eq!(line, 1);
    assert!(msg.contains("heredocs"), "{msg}");

    let template = format!("\n\npath \"a\" {{ capabilities = [\"${{x{}\"] }}\n", "*(r".repeat(40));
    let (line, msg) = parse_err(&template);
    assert_eq!(line, 3);
    assert!(msg.contains("templates"), "{msg}");
}

#[test]
fn parentheses_in_strings_comments_and_shallow_groups_still_parse() {
    let text = r#"
# (((((( a comment ((((((
// (((((( another ((((((
/* ((((((
   (((((( */
path "secret/((((((x))))))" {
  capabilities = (((["read"])))
  allowed_parameters = { "k" = ["$${literal}", "%%{literal}", "a\"(((((("] }
}
"#;
    let policy = Policy::parse("p", text).expect("valid policy");
    assert_eq!(policy.rules()[0].path(), "secret/((((((x))))))");
}
