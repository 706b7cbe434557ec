//! Engine tests: prefilter and window confirmation, multiline rules, related pairing,
//! non-secret filters and suppressions.

use super::*;
use crate::{Baseline, Config};

fn scanner() -> Scanner {
    Scanner::new(crate::rules::tests::test_rules(), ScanOptions::default()).unwrap()
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule_id.as_str()).collect()
}

const GH: &str = "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";
const AKID: &str = "AKIA5WKH7DNSIPZZ7FK4";
const AWS_SK: &str = "pZHtZrjmTJAMJTT1/NXa0IrleG6woopoDzp7O8Qu";

#[test]
fn scanner_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
}

#[test]
fn every_builtin_example_and_negative() {
    let s = scanner();
    for rule in s.rules().rules() {
        for ex in &rule.examples {
            let found = s.scan_bytes("example.txt", ex.as_bytes());
            let mine = found.iter().filter(|f| f.rule_id == rule.id).count();
            assert_eq!(mine, 1, "rule {} example {ex:?} gave {:?}", rule.id, ids(&found));
        }
        for neg in &rule.negatives {
            let found = s.scan_bytes("negative.txt", neg.as_bytes());
            assert!(
                found.iter().all(|f| f.rule_id != rule.id),
                "rule {} negative {neg:?} gave {:?}",
                rule.id,
                ids(&found)
            );
        }
    }
}

#[test]
fn finds_and_locates_secrets() {
    let text = format!("fn main() {{\n    let t = \"{GH}\";\n}}\n// é x {GH}\n");
    let found = scanner().scan_bytes("src/main.rs", text.as_bytes());
    assert_eq!(ids(&found), ["github-token", "github-token"]);
    assert_eq!((found[0].line, found[0].column, found[0].end_line), (2, 14, 2));
    assert_eq!((found[1].line, found[1].column), (4, 8));
    assert_eq!(found[0].secret.expose(), GH);
    assert_eq!(found[0].secret.redacted(), "ghp_…");
    assert_eq!(found[0].key_name.as_deref(), Some("t"));
    assert_eq!(found[1].key_name, None);
    assert_eq!(found[0].fingerprint, fingerprint("github-token", "src/main.rs", GH));
    assert_eq!(found[0].fingerprint.len(), 64);
    assert!(!format!("{found:?}").contains(GH), "Debug must not print secrets");
}

#[test]
fn no_keyword_no_finding_and_keyword_elsewhere_ignored() {
    let s = scanner();
    // A valid token shape with its keyword cut off is not reported (the prefilter decides).
    assert!(s.scan_bytes("a", &GH.as_bytes()[4..]).is_empty());
    // Keyword far away on another line does not confirm a bare value.
    let text = format!("ghp_\n\n\n{}", &GH[4..]);
    assert!(s.scan_bytes("a", text.as_bytes()).is_empty());
    // Huge line: bounded window, still found near the keyword.
    let mut big = "x".repeat(100_000);
    big.push_str(&format!(" token={GH} "));
    big.push_str(&"y".repeat(100_000));
    assert_eq!(ids(&s.scan_bytes("big", big.as_bytes())), ["github-token"]);
}

#[test]
fn same_line_hits_dedupe() {
    let text = format!("GITHUB_TOKEN=\"{GH}\" # ghp_ ghp_ ghp_");
    let found = scanner().scan_bytes("x.env", text.as_bytes());
    assert_eq!(ids(&found), ["github-token"]);
    assert_eq!(found[0].key_name.as_deref(), Some("GITHUB_TOKEN"));
}

#[test]
fn multiline_pairs_and_xml() {
    let s = scanner();
    let r = s.rules().get("generic-secret-pair").unwrap();
    let yaml = "env:\n  - name: STRIPE_SECRET\n    value: \"Zq8vN3kLp2Xr7Tw\"\n";
    assert!(r.compiled().unwrap().regex.is_match(yaml.as_bytes()), "regex");
    let yaml = "env:\n  - name: STRIPE_SECRET\n    value: \"Zq8vN3kLp2Xr7Tw\"\n  - name: LOG_LEVEL\n    value: debug\n";
    let found = scanner().scan_bytes("deploy.yaml", yaml.as_bytes());
    assert_eq!(ids(&found), ["generic-secret-pair"]);
    assert_eq!(found[0].key_name.as_deref(), Some("STRIPE_SECRET"));
    assert_eq!(found[0].line, 3);
    let xml = "<config>\n  <dbPassword>\n    Zq8vN3kLp2Xr7Tw\n  </dbPassword>\n</config>";
    let found = scanner().scan_bytes("app.xml", xml.as_bytes());
    assert_eq!(ids(&found), ["generic-secret-pair"]);
    assert_eq!(found[0].line, 3);
}

#[test]
fn private_key_spans_lines() {
    let rule = scanner().rules().get("private-key").unwrap().clone();
    let text = format!("# key\n{}\nafter", rule.examples[0].trim());
    let found = scanner().scan_bytes("id_rsa", text.as_bytes());
    assert_eq!(ids(&found), ["private-key"]);
    assert_eq!((found[0].line, found[0].end_line), (2, 5));
}

#[test]
fn related_aws_pair() {
    let text = format!("[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SK}\n");
    let found = scanner().scan_bytes(".aws/credentials", text.as_bytes());
    assert_eq!(ids(&found), ["aws-access-key-id", "aws-secret-access-key"]);
    let (rid, value) = found[1].related.clone().unwrap();
    assert_eq!((rid.as_str(), value.expose()), ("aws-access-key-id", AKID));
    assert_eq!(found[1].key_name.as_deref(), Some("aws_secret_access_key"));
    // Too far apart: no pairing.
    let far = format!(
        "aws_access_key_id = {AKID}\n{}aws_secret_access_key = {AWS_SK}\n",
        "\n".repeat(10)
    );
    let found = scanner().scan_bytes("c", far.as_bytes());
    assert!(found[1].related.is_none());
}

#[test]
fn generic_filters_drop_non_secrets() {
    let s = scanner();
    let negatives = [
        "password_hash = \"5f4dcc3b5aa765d61d8327deb882cf99\"",
        "secret = \"da39a3ee5e6b4b0d3255bfef95601890afd80709\"",
        "api_key: 123e4567-e89b-12d3-a456-426614174000",
        "token = os.environ.get(\"TOKEN\")",
        "password = self.password_field",
        "SECRET_KEY=${SECRET_KEY}",
        "token: {{ .Values.token }}",
        "token: ${{ secrets.DEPLOY_TOKEN }}",
        "api_key = \"<your-api-key>\"",
        "password = \"********\"",
        "password: $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "password: ENC[AES256_GCM,data:q8Zt3LmX9vB2,iv:abc,tag:def,type:str]",
        "secret_file = /etc/app/secret.pem",
        "client_id = q8Zt3LmX9vB2nR7kW4pY",
        "\"integrity\": \"sha512-q8Zt3LmX9vB2nR7kW4pYq8Zt3LmX9vB2nR7kW4pY==\" token",
        "token = SomeWordsOnly",
        "password: Tr0ub4dor&3x # coffer:allow",
    ];
    for n in negatives {
        let found = s.scan_bytes("cfg", n.as_bytes());
        assert!(found.is_empty(), "{n:?} gave {:?}", ids(&found));
    }
    let found = s.scan_bytes("cfg", b"password: Tr0ub4dor&3x");
    assert_eq!(ids(&found), ["generic-password"]);
}

#[test]
fn uri_credentials_for_documentation_hosts_are_illustrations() {
    let s = scanner();
    // Seen in crate sources (gix-url, url): parser tests and doc examples on example.com.
    for text in [
        "let url = ParsedUrl::parse(\"http://user:pass%20word@example.com/path\").unwrap();",
        "/// let mut url = Url::parse(\"ftp://user1:secret1@example.com\")?;",
        "DATABASE_URL=postgres://app:Xk29vLq7pZ@db.example:5432/app",
        "DATABASE_URL=postgres://app:Xk29vLq7pZ@EXAMPLE.ORG",
    ] {
        let found = s.scan_bytes("src/lib.rs", text.as_bytes());
        assert!(found.is_empty(), "{text:?} gave {:?}", ids(&found));
    }
    // The same credentials on real hosts, including one under a subdomain of example.net.
    for text in [
        "DATABASE_URL=postgres://app:Xk29vLq7pZ@db.internal:5432/app",
        "DATABASE_URL=mysql://root:Xk29vLq7pZ@mysql-01.corp.example.net:3306/shop",
        "DATABASE_URL=postgres://app:Xk29vLq7pZ@example.com.attacker.io/app",
    ] {
        assert_eq!(
            ids(&s.scan_bytes("app.env", text.as_bytes())),
            ["url-credentials"],
            "{text}"
        );
    }
}

#[test]
fn generic_expressions_and_encoded_phrases_are_not_secrets() {
    let s = scanner();
    for text in [
        "  // shared_secret = client_pk^server_sk;",
        "check_body(b\"username=user&password=secure%20password\").await;",
    ] {
        let found = s.scan_bytes("src/lib.rs", text.as_bytes());
        assert!(found.is_empty(), "{text:?} gave {:?}", ids(&found));
    }
    for text in ["shared_secret = Zq8vN3k^Lp2Xr7Tw;", "password=Zq8vN3k%2FLp2Xr7Tw"] {
        assert_eq!(
            ids(&s.scan_bytes("app.env", text.as_bytes())),
            ["generic-password"],
            "{text}"
        );
    }
}

#[test]
fn specific_rule_wins_over_generic() {
    let text = format!("github_token = \"{GH}\"");
    assert_eq!(ids(&scanner().scan_bytes("x", text.as_bytes())), ["github-token"]);
}

#[test]
fn bad_checksum_not_reported() {
    let bad = format!("{}AAAAAA", &GH[..34]);
    assert!(scanner().scan_bytes("x", format!("tok {bad}").as_bytes()).is_empty());
}

#[test]
fn config_allowlist_paths_rules_regexes() {
    let text = format!("t = {GH}\npassword: Tr0ub4dor&3x\n");
    let config = Config::from_toml(
        "[allowlist]\npaths = [\"fixtures/**\"]\nrules = [\"generic-password\"]\nregexes = [\"^ghp_Ky9\"]\n",
    )
    .unwrap();
    let s = Scanner::new(
        crate::rules::tests::test_rules(),
        ScanOptions {
            allowlist: config.allowlist.clone(),
        },
    )
    .unwrap();
    assert!(s.scan_bytes("fixtures/a/b.txt", text.as_bytes()).is_empty());
    assert!(s.scan_bytes("src/x.txt", text.as_bytes()).is_empty());
    let only_paths = ScanOptions {
        allowlist: crate::Allowlist {
            paths: vec!["fixtures/**".into()],
            ..Default::default()
        },
    };
    let s = Scanner::new(crate::rules::tests::test_rules(), only_paths).unwrap();
    assert_eq!(s.scan_bytes("./src/x.txt", text.as_bytes()).len(), 2);
    assert!(s.scan_bytes("./fixtures/x.txt", text.as_bytes()).is_empty());
}

#[test]
fn baseline_reports_only_new() {
    let s = scanner();
    let old = s.scan_bytes("a.env", format!("T={GH}").as_bytes());
    let baseline = Baseline::parse(&Baseline::from_findings(&old).to_json()).unwrap();
    assert_eq!(baseline.len(), 1);
    let now = s.scan_bytes("a.env", format!("T={GH}\npassword: Tr0ub4dor&3x").as_bytes());
    let new = baseline.new_findings(now);
    assert_eq!(ids(&new), ["generic-password"]);
    // A JSON report and a bare array are accepted as baselines too.
    let fp = &old[0].fingerprint;
    assert!(Baseline::parse(&format!("[\"{fp}\"]")).unwrap().contains(fp));
    assert!(
        Baseline::parse(&format!("[{{\"fingerprint\": \"{fp}\"}}]"))
            .unwrap()
            .contains(fp)
    );
    assert!(Baseline::parse("{\"nope\": 1}").is_err());
}

#[test]
fn unknown_related_rule_is_an_error() {
    let set = RuleSet::from_toml(
        "[[rules]]\nid = \"a\"\ndescription = \"d\"\nkind = \"token\"\nkeywords = [\"k\"]\nregex = \"k\"\nrelated = \"zzz\"\n",
    )
    .unwrap();
    let err = Scanner::new(set, ScanOptions::default()).err().unwrap().to_string();
    assert!(err.contains("zzz"), "{err}");
}

/// What a finding says, for comparing two scans.
type Seen = (
    String,
    usize,
    usize,
    usize,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn seen(findings: &[Finding]) -> Vec<Seen> {
    findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.line,
                f.column,
                f.end_line,
                f.secret.expose().to_string(),
                f.key_name.clone(),
                f.fingerprint.clone(),
                f.related.as_ref().map(|(_, v)| v.expose().to_string()),
            )
        })
        .collect()
}

/// Feeds `data` to a stream the way the file walker does, with a buffer of `room` bytes.
/// `late_eof`: the end is only noticed by one more (empty) read, as with a file that fills
/// the buffer exactly.
fn scan_in_pieces(s: &Scanner, data: &[u8], room: usize, late_eof: bool) -> Vec<Finding> {
    let mut stream = s.stream("big.txt");
    let mut buf = Vec::new();
    let mut pos = 0;
    loop {
        let take = (room - buf.len()).min(data.len() - pos);
        buf.extend_from_slice(&data[pos..pos + take]);
        pos += take;
        let eof = pos == data.len() && !(late_eof && take > 0);
        let used = stream.feed(&buf, eof);
        if eof {
            return stream.finish();
        }
        buf.drain(..used);
    }
}

/// About 600 KB of filler with secrets of every test rule at irregular offsets: long lines,
/// multi-byte characters before secrets, PEM blocks (short and 10 KB) and name/value pairs
/// over lines.
fn mixed_text() -> String {
    let pem = crate::rules::tests::test_rules().get("private-key").unwrap().examples[0].clone();
    let mut text = String::new();
    let mut seed = 7u64;
    let mut i = 0;
    while text.len() < 600_000 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let r = (seed >> 33) as usize;
        match r % 11 {
            0 => text.push_str(&format!("    let t = \"{GH}\"; // é ü {i}\n")),
            1 => text.push_str(&format!(
                "aws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SK}\n"
            )),
            2 => text.push_str(&format!("# key {i}\n{}", pem.trim_start())),
            3 => text.push_str("env:\n  - name: STRIPE_SECRET\n    value: \"Zq8vN3kLp2Xr7Tw\"\n"),
            4 => text.push_str(&format!(
                "{} token={GH} ghp_ {}\n",
                "x".repeat(r % 5000),
                "é".repeat(r % 700)
            )),
            5 => text.push_str("password: Tr0ub4dor&3x\n"),
            // A key block of about 10 KB: its window reaches far past its keyword.
            6 => {
                text.push_str("-----BEGIN PRIVATE KEY-----\n");
                for l in 0..150 {
                    text.push_str(&format!("{:064}\n", r % 1000 + l).replace('0', "Qz"));
                }
                text.push_str("-----END PRIVATE KEY-----\n");
            }
            _ => text.push_str(&"fn filler(a: u32) -> u32 { a.wrapping_mul(31) }\n".repeat(1 + r % 300)),
        }
        i += 1;
    }
    text
}

#[test]
fn pieces_give_the_findings_of_one_whole_scan() {
    let s = scanner();
    let text = mixed_text();
    let whole = s.scan_bytes("big.txt", text.as_bytes());
    assert!(whole.len() > 50, "{}", whole.len());
    for rule in [
        "github-token",
        "aws-secret-access-key",
        "private-key",
        "generic-secret-pair",
    ] {
        assert!(whole.iter().any(|f| f.rule_id == rule), "{rule}");
    }
    let want = seen(&whole);
    let margin = s.margin();
    // From the smallest buffer that makes progress to several pieces of odd sizes.
    for room in [2 * margin + 1, 2 * margin + 4093, 3 * margin + 77_777, 250_000] {
        for late_eof in [false, true] {
            let got = seen(&scan_in_pieces(&s, text.as_bytes(), room, late_eof));
            assert_eq!(got.len(), want.len(), "room {room}");
            assert!(
                got == want,
                "room {room} late_eof {late_eof}: pieces differ from a whole scan"
            );
        }
    }
}

#[test]
fn secret_across_a_piece_boundary_found_once_on_its_line() {
    let s = scanner();
    let room = 3 * s.margin();
    // Hits are handled up to `room - margin` in the first piece: put the keyword across that
    // offset, just before it and just after it.
    let boundary = room - s.margin();
    for delta in [-40isize, -5, -4, -3, -1, 0, 1, 3, 30] {
        let mut text = "filler line\n".repeat((boundary - 100) / 12);
        let lines_before = text.len() / 12;
        let at = boundary.checked_add_signed(delta).unwrap();
        text.push_str(&"y".repeat(at - text.len() - 10));
        text.push_str(&format!("\nvalue is {GH} here\n"));
        text.push_str(&"z = 1\n".repeat(30_000));
        assert_eq!(text.find("ghp_"), Some(at));
        let found = scan_in_pieces(&s, text.as_bytes(), room, false);
        assert_eq!(ids(&found), ["github-token"], "delta {delta}");
        assert_eq!(
            (found[0].line, found[0].column),
            (lines_before + 2, 10),
            "delta {delta}"
        );
        assert_eq!(seen(&found), seen(&s.scan_bytes("big.txt", text.as_bytes())));
    }
}

#[test]
fn allowlisted_stream_reads_nothing() {
    let s = Scanner::new(
        crate::rules::tests::test_rules(),
        ScanOptions {
            allowlist: crate::Allowlist {
                paths: vec!["big.txt".into()],
                ..Default::default()
            },
        },
    )
    .unwrap();
    let text = format!("t = {GH}\n").repeat(50_000);
    assert!(scan_in_pieces(&s, text.as_bytes(), 3 * s.margin(), false).is_empty());
}

#[test]
fn regex_caches_are_shared_and_released() {
    let s = scanner();
    let text = mixed_text();
    let _ = s.scan_bytes("big.txt", text.as_bytes());
    let (bytes, shared, private) = s.caches.memory();
    assert!(bytes > 0 && shared >= 5, "{bytes} {shared}");
    assert_eq!(private, 0, "one scan at a time never needs a private cache");
    s.release_caches();
    assert_eq!(s.caches.memory(), (0, 0, 0));
}
