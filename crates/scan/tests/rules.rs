//! The detection rules as data: every rule file under `rules/` parses and compiles, every rule
//! carries a true positive and a near miss, each example is found exactly once (at the right
//! place), each negative not at all, every regex match contains one of the rule's keywords (the
//! prefilter contract), and a corpus of known non-secrets produces no finding of any rule.

use std::collections::HashSet;

use coffer_scan::{Finding, RuleSet, ScanOptions, Scanner};
use regex::bytes::RegexBuilder;

/// The domain rule files, in the order the engine embeds them (specific rules before the
/// `private-key` catch-all, which comes last in `keys.toml`).
const RULE_FILES: &[&str] = &[
    "cloud.toml",
    "vcs_ci.toml",
    "payments.toml",
    "messaging.toml",
    "ai.toml",
    "registries.toml",
    "databases.toml",
    "monitoring.toml",
    "keys.toml",
    "uris.toml",
    "generic.toml",
    "coffer.toml",
];

fn read_rule_file(name: &str) -> String {
    let path = format!("{}/rules/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every rule of every domain file, merged in order; ids must not repeat across files.
fn file_rules() -> RuleSet {
    let mut set = RuleSet::default();
    let mut seen = HashSet::new();
    for name in RULE_FILES {
        let file = RuleSet::from_toml(&read_rule_file(name)).unwrap_or_else(|e| panic!("rules/{name}: {e}"));
        for rule in file.rules() {
            assert!(
                seen.insert(rule.id.clone()),
                "rule id {} defined twice (again in {name})",
                rule.id
            );
        }
        set = set.merge(file);
    }
    set
}

fn scanner() -> Scanner {
    Scanner::new(file_rules(), ScanOptions::default()).expect("rule set builds a scanner")
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule_id.as_str()).collect()
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

#[test]
fn rule_files_have_enough_well_formed_rules() {
    let set = file_rules();
    assert!(set.len() >= 200, "only {} rules", set.len());
    for rule in set.rules() {
        assert!(!rule.examples.is_empty(), "rule {} has no example", rule.id);
        assert!(!rule.negatives.is_empty(), "rule {} has no negative", rule.id);
        assert!(
            !rule.description.trim().is_empty(),
            "rule {} has no description",
            rule.id
        );
        assert!(
            rule.keywords.iter().all(|k| k == &k.to_ascii_lowercase()),
            "rule {}: keywords are written lowercase",
            rule.id
        );
        if let Some(related) = &rule.related {
            assert!(
                set.get(related).is_some(),
                "rule {}: related rule {related} missing",
                rule.id
            );
        }
    }
    // Every domain file contributes.
    for name in RULE_FILES {
        let n = RuleSet::from_toml(&read_rule_file(name)).unwrap().len();
        assert!(n >= 1, "rules/{name} is empty");
    }
}

#[test]
fn builtin_set_embeds_every_rule_file() {
    let builtin = RuleSet::builtin();
    let missing: Vec<String> = file_rules()
        .rules()
        .iter()
        .filter(|r| builtin.get(&r.id).is_none_or(|b| b.regex != r.regex))
        .map(|r| r.id.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "RuleSet::builtin() lacks {} rules from rules/*.toml (register the files in BUILTIN_FILES): {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// The prefilter contract: the engine only runs a rule's regex near one of its keywords, so
/// every match must contain a keyword, or the rule silently misses what its regex describes.
#[test]
fn every_regex_match_contains_a_keyword() {
    let mut failures = Vec::new();
    for rule in file_rules().rules() {
        let regex = RegexBuilder::new(&rule.regex)
            .unicode(false)
            .multi_line(true)
            .build()
            .or_else(|_| RegexBuilder::new(&rule.regex).multi_line(true).build())
            .unwrap_or_else(|e| panic!("rule {}: {e}", rule.id));
        let keywords: Vec<String> = rule.keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        for text in rule.examples.iter().chain(&rule.negatives) {
            for m in regex.find_iter(text.as_bytes()) {
                let matched = String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase();
                if !keywords.iter().any(|k| matched.contains(k.as_str())) {
                    failures.push(format!("{}: match {:?} has none of {:?}", rule.id, matched, keywords));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_example_found_once_and_every_negative_missed() {
    let s = scanner();
    let mut failures = Vec::new();
    for rule in s.rules().rules() {
        for ex in &rule.examples {
            let found = s.scan_bytes("example.txt", ex.as_bytes());
            let mine: Vec<&Finding> = found.iter().filter(|f| f.rule_id == rule.id).collect();
            if mine.len() != 1 {
                failures.push(format!("{}: example {ex:?} gave {:?}", rule.id, ids(&found)));
                continue;
            }
            let secret = mine[0].secret.expose();
            match ex.find(secret) {
                None => failures.push(format!("{}: secret {secret:?} is not in example {ex:?}", rule.id)),
                Some(at) => {
                    if mine[0].line != line_of(ex, at) {
                        failures.push(format!(
                            "{}: example {ex:?}: reported on line {} but the secret starts on line {}",
                            rule.id,
                            mine[0].line,
                            line_of(ex, at)
                        ));
                    }
                }
            }
            if secret.len() < 8 {
                failures.push(format!("{}: secret {secret:?} is implausibly short", rule.id));
            }
        }
        for neg in &rule.negatives {
            let found = s.scan_bytes("negative.txt", neg.as_bytes());
            if found.iter().any(|f| f.rule_id == rule.id) {
                failures.push(format!("{}: negative {neg:?} gave {:?}", rule.id, ids(&found)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Examples are also found when they sit inside a larger file, surrounded by other text.
#[test]
fn examples_found_inside_a_larger_file() {
    let s = scanner();
    let mut failures = Vec::new();
    for rule in s.rules().rules() {
        let ex = &rule.examples[0];
        let text = format!("# settings\nname = \"billing\"\n\n{ex}\n\nlog_level = \"info\"\n");
        let found = s.scan_bytes("settings.conf", text.as_bytes());
        let mine = found.iter().filter(|f| f.rule_id == rule.id).count();
        if mine != 1 {
            failures.push(format!("{}: embedded example gave {:?}", rule.id, ids(&found)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn aws_secret_is_reported_with_its_key_id() {
    let text = "[default]\naws_access_key_id = AKIAQ3EGUJZ7ALFHWXPN\naws_secret_access_key = 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\n";
    let found = scanner().scan_bytes(".aws/credentials", text.as_bytes());
    assert_eq!(ids(&found), ["aws-access-key-id", "aws-secret-access-key"]);
    let (rule, value) = found[1].related.clone().expect("secret paired with its id");
    assert_eq!(
        (rule.as_str(), value.expose()),
        ("aws-access-key-id", "AKIAQ3EGUJZ7ALFHWXPN")
    );
}

#[test]
fn name_value_pairs_on_separate_lines() {
    let s = scanner();
    let yaml = "env:\n  - name: STRIPE_SECRET\n    value: \"Zq8vN3kLp2Xr7Tw\"\n  - name: LOG_LEVEL\n    value: debug\n";
    let found = s.scan_bytes("deploy.yaml", yaml.as_bytes());
    assert_eq!(ids(&found), ["kubernetes-env-name-value"]);
    assert_eq!(
        (found[0].line, found[0].key_name.as_deref()),
        (3, Some("STRIPE_SECRET"))
    );
    let xml = "<config>\n  <dbPassword>\n    Zq8vN3kLp2Xr7Tw\n  </dbPassword>\n</config>";
    let found = s.scan_bytes("app.xml", xml.as_bytes());
    assert_eq!(ids(&found), ["xml-element-secret"]);
    assert_eq!((found[0].line, found[0].key_name.as_deref()), (3, Some("dbPassword")));
}

#[test]
fn specific_rules_win_over_generic_ones() {
    let s = scanner();
    let gh = "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";
    assert_eq!(
        ids(&s.scan_bytes("x", format!("GITHUB_TOKEN=\"{gh}\"").as_bytes())),
        ["github-token"]
    );
    let pem = &s.rules().get("private-key-rsa").unwrap().examples[0];
    assert_eq!(
        ids(&s.scan_bytes("id_rsa", pem.as_bytes())),
        ["private-key-rsa"],
        "not the catch-all too"
    );
}

#[test]
fn checksummed_formats_reject_a_single_changed_character() {
    let s = scanner();
    for (rule_id, good) in [
        ("github-token", "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"),
        ("coffer-service-token", coffer_crypto::token::generate("cfs_").as_str()),
        ("npm-access-token", npm_token().as_str()),
    ] {
        let found = s.scan_bytes("t", format!("token = {good}\n").as_bytes());
        assert_eq!(ids(&found), [rule_id], "{good}");
        let mut bad = good.as_bytes().to_vec();
        let i = 10;
        bad[i] = if bad[i] == b'q' { b'r' } else { b'q' };
        let bad = String::from_utf8(bad).unwrap();
        let found = s.scan_bytes("t", format!("token = {bad}\n").as_bytes());
        assert!(
            found.iter().all(|f| f.rule_id != rule_id),
            "{bad} gave {:?}",
            ids(&found)
        );
    }
    let batch = coffer_crypto::token::encode_batch(b"sealed state of a batch token, 48 bytes long..");
    let found = s.scan_bytes("t", format!("X-Vault-Token: {batch}\n").as_bytes());
    assert_eq!(ids(&found), ["coffer-batch-token"]);
}

/// `npm_` + 30 base62 + base62 CRC32 of those 30 (the GitHub scheme).
fn npm_token() -> String {
    const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let body = "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0";
    let mut v = u64::from(crc32fast::hash(body.as_bytes()));
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = B62[(v % 62) as usize];
        v /= 62;
    }
    format!("npm_{body}{}", String::from_utf8_lossy(&check))
}

/// Known non-secrets of every kind the scanner must stay quiet about.
const HARD_NEGATIVES: &[&str] = &[
    // Placeholders and template references.
    "DB_PASSWORD=${DB_PASSWORD}",
    "password: \"{{ .Values.postgresql.auth.password }}\"",
    "token: ${{ secrets.DEPLOY_TOKEN }}",
    "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    "api_key = \"<your-api-key>\"",
    "export OPENAI_API_KEY=<your-openai-key>",
    "password: changeme",
    "SECRET_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "client_secret: \"********\"",
    "aws_secret_access_key = YOUR_SECRET_ACCESS_KEY",
    "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "DATABASE_URL=postgres://user:password@localhost:5432/db",
    "REDIS_URL=redis://:${REDIS_PASSWORD}@cache:6379/0",
    "url: https://${USER}:${PASS}@git.corp.net/repo.git",
    "password = os.environ[\"DB_PASSWORD\"]",
    "token = process.env.API_TOKEN",
    "secret: !vault |",
    "password: %DB_PASSWORD%",
    // UUIDs, git SHAs, hashes, digests.
    "request_id = 123e4567-e89b-12d3-a456-426614174000",
    "trace-id: 7f3c2b1a-9d4e-4f6a-8b2c-1e5d7a9c3b4f",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "\"sha\": \"2f8a6bf7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6\",",
    "md5sum: 5d41402abc4b2a76b9719d911017c592",
    "checksum = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
    "image: registry.corp.net/api@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "password_hash: $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    // Lockfile integrity strings.
    "      \"integrity\": \"sha512-q8Zt3LmX9vB2nR7kW4pYq8Zt3LmX9vB2nR7kW4pYq8Zt3LmX9vB2nR7kW4pYq8Zt3LmX9vB2nR7kW4pYq8Zt3LmX9vB==\",",
    "  integrity sha1-2ViO1vQKEhVEl5lzRhzfDFLc7W8=",
    "github.com/stretchr/testify v1.8.4 h1:CcVxjf3Q8PM0mHUKJCdn+eZZtm5yQwehR5yeSVQQcUk=",
    "checksum = \"1fd0dffd8c5cf4ffc1eb8ad1bd7b8e1e63c4a2fbe7ac4b4b0a2b1c7f9d0e3a51\"",
    "<script src=\"https://cdn.corp.net/app.js\" integrity=\"sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC\"></script>",
    // Inline images.
    "background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==);",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxMCAxMCI+PC9zdmc+\">",
    // SOPS and ansible-vault encrypted blobs.
    "password: ENC[AES256_GCM,data:Zq8vN3kLp2Xr7Tw=,iv:3Kq9ZxWvTpLmNbVcXrT1aQ==,tag:8hG2kLmN0pQrStUvWxYz1A==,type:str]",
    "sops:\n    kms: []\n    age:\n        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBxN0hkVmZ0bG1HcE1WWkd0\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2024-05-01T10:00:00Z\"\n    mac: ENC[AES256_GCM,data:q8Zt3LmX9vB2nR7kW4pY,iv:abc,tag:def,type:str]\n    version: 3.8.1",
    "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  62313365396662343061393464336163383764373764613633653634306231386433626436623361\n  6134333665353966363534333632666535333761666131620a663537646436643839616531643561\n",
    // Documented AWS example keys.
    "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    // Public-by-design values: publishable keys, OAuth client ids, public keys and certificates.
    "STRIPE_PUBLISHABLE_KEY=pk_live_51HqLyjWDarjtT1zdp7dcXYSzhbbLiHbw3mGNYAY6cGc2Y0aKqmF8nVzTr9oQw",
    "NEXT_PUBLIC_SUPABASE_URL=https://xyzcompany.supabase.co",
    "GOOGLE_CLIENT_ID=1034567890123-9bq0l3c2v7a8kq5r1t4h6n2m0s8d7f3g.apps.googleusercontent.com",
    "client_id: Iv1.8a61f9b3a7aba766",
    "SUPABASE_PUBLISHABLE_KEY=sb_publishable_Zq8vN3kLp2Xr7TwQ9yB4cD_xF6gH8jK",
    "POSTHOG_KEY=phc_Zq8vN3kLp2Xr7TwQ9yB4cDxF6gH8jKmN1pR3sT5vW7y",
    "MAPBOX_TOKEN=pk.eyJ1IjoibWFwdXNlciIsImEiOiJja2x6MnF4d3gwMDFqMnBwZ3Z2b3B6dXZ6In0.Zq8vN3kLp2Xr7TwQ9yB4cD",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@build",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xvd25zIGFyZSBmdW5ueTAKBggqhkjOPQQDAjAUMRIw\nEAYDVQQDDAlsb2NhbGhvc3QwHhcNMjQwNTAxMDAwMDAwWhcNMjUwNTAxMDAwMDAw\n-----END CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ2xvd25zIGFyZSBmdW5ueSBhbmQg\nc2FkIGF0IHRoZSBzYW1lIHRpbWUgYW5kIHRoYXQgaXMgb2s=\n-----END PUBLIC KEY-----",
    // Ordinary code and configuration.
    "if password == \"\" { return Err(Error::MissingPassword) }",
    "let token = generate_token(&mut rng, 32);",
    "PASSWORD_MIN_LENGTH=12",
    "token_url = \"https://auth.corp.net/oauth2/token\"",
    "secret_name: prod-db-credentials",
    "api_key_header: X-Api-Key",
    "password_reset_path = \"/account/password/reset\"",
    "session_timeout: 3600",
    "color: #3b82f6; font-family: Inter, sans-serif;",
    "version = \"1.8.4\"",
    "Please enter your password: ",
    "<input type=\"password\" name=\"password\" placeholder=\"Password\">",
    "curl -u \"$USER:$TOKEN\" https://api.corp.net",
    "mysql -u root -p shop",
    // Shapes the generic rules must leave alone.
    "password_hash = \"5f4dcc3b5aa765d61d8327deb882cf99\"",
    "secret = \"da39a3ee5e6b4b0d3255bfef95601890afd80709\"",
    "api_key: 123e4567-e89b-12d3-a456-426614174000",
    "token = os.environ.get(\"TOKEN\")",
    "password = self.password_field",
    "token: {{ .Values.token }}",
    "secret_file = /etc/app/secret.pem",
    "client_id = q8Zt3LmX9vB2nR7kW4pY",
    "token = SomeWordsOnly",
    "password: Tr0ub4dor&3x # coffer:allow",
];

#[test]
fn hard_negatives_produce_no_findings() {
    let s = scanner();
    let mut failures = Vec::new();
    for text in HARD_NEGATIVES {
        let found = s.scan_bytes("config.txt", text.as_bytes());
        if !found.is_empty() {
            let what: Vec<String> = found
                .iter()
                .map(|f| format!("{} ({})", f.rule_id, f.secret.expose()))
                .collect();
            failures.push(format!("{text:?} gave {what:?}"));
        }
    }
    // All of them in one file, too (windows and overlaps behave the same).
    let joined = HARD_NEGATIVES.join("\n");
    let found = s.scan_bytes("all.txt", joined.as_bytes());
    if !found.is_empty() {
        failures.push(format!("joined corpus gave {:?}", ids(&found)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
