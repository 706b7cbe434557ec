//! Pure argument handling: Vault-style single-dash flags, `k=v` data arguments, durations.

use std::ffi::OsString;

use serde_json::{Map, Value};

/// Rewrites Vault's single-dash long flags (`-format=json`, `-mount secret`) to clap's
/// double-dash form. Only arguments that start with one `-` followed by at least two ASCII
/// letters are touched; `-`, `-h`, `--x`, values that are not UTF-8 and everything after a
/// bare `--` pass through unchanged.
pub fn rewrite_single_dash<I>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = OsString>,
{
    let mut out = Vec::new();
    let mut passthrough = false;
    for arg in args {
        if passthrough {
            out.push(arg);
            continue;
        }
        match arg.to_str() {
            Some("--") => {
                passthrough = true;
                out.push(arg);
            }
            Some(s) if is_single_dash_long(s) => out.push(OsString::from(format!("-{s}"))),
            _ => out.push(arg),
        }
    }
    out
}

fn is_single_dash_long(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next() == Some('-')
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Where `@file` and `-` data arguments read from; a trait so parsing stays testable.
pub trait Inputs {
    /// The whole content of a file.
    fn read_file(&mut self, path: &str) -> Result<String, String>;
    /// All of standard input.
    fn read_stdin(&mut self) -> Result<String, String>;
}

/// [`Inputs`] backed by the real file system and standard input.
pub struct RealInputs;

impl Inputs for RealInputs {
    fn read_file(&mut self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| format!("error reading {path}: {e}"))
    }

    fn read_stdin(&mut self) -> Result<String, String> {
        use std::io::Read;
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("error reading standard input: {e}"))?;
        Ok(s)
    }
}

/// Parses data arguments the way Vault's CLI does:
/// `k=v` (string), `k=@file` (file content), `k=-` (all of stdin), `k=\@x` (literal `@x`),
/// a lone `-` (a JSON object from stdin) and a lone `@file` (a JSON object from a file).
/// A key given twice collects its values into an array. Stdin can be used once.
pub fn parse_data_args(args: &[String], inputs: &mut dyn Inputs) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let mut stdin_used = false;
    let mut take_stdin = |inputs: &mut dyn Inputs| -> Result<String, String> {
        if stdin_used {
            return Err("standard input can only be used once".into());
        }
        stdin_used = true;
        inputs.read_stdin()
    };
    for arg in args {
        if arg == "-" || (arg.starts_with('@') && !arg.contains('=')) {
            let text = if arg == "-" {
                take_stdin(inputs)?
            } else {
                inputs.read_file(&arg[1..])?
            };
            let parsed: Value = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "invalid JSON in {}: {e}",
                    if arg == "-" { "standard input" } else { arg }
                )
            })?;
            let Value::Object(obj) = parsed else {
                return Err(format!("{arg}: expected a JSON object"));
            };
            for (k, v) in obj {
                insert(&mut out, k, v);
            }
            continue;
        }
        let Some((key, value)) = arg.split_once('=') else {
            return Err(format!("invalid key/value pair {arg:?}: format must be key=value"));
        };
        if key.is_empty() {
            return Err(format!("invalid key/value pair {arg:?}: empty key"));
        }
        let value = if let Some(file) = value.strip_prefix('@') {
            inputs.read_file(file)?
        } else if let Some(rest) = value.strip_prefix("\\@") {
            format!("@{rest}")
        } else if value == "-" {
            take_stdin(inputs)?
        } else {
            value.to_string()
        };
        insert(&mut out, key.to_string(), Value::String(value));
    }
    Ok(out)
}

fn insert(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

/// Parses repeated `k=v` flags (`-metadata`, `-custom-metadata`, `-options`) into a map.
pub fn parse_pairs(pairs: &[String], flag: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("invalid -{flag} value {p:?}: format must be key=value"))?;
        out.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(out)
}

/// Parses a Vault duration into seconds: a bare integer (seconds) or Go-style units
/// (`90s`, `15m`, `1h30m`, `768h`; `ms`/`us`/`ns` are accepted and rounded down).
pub fn parse_duration_secs(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let bad = || format!("invalid duration {input:?}: use seconds or units like 30s, 15m, 1h30m");
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    let mut total_ns: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_ns: f64 = match &rest[..unit_len] {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            "d" => 8.64e13,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total_ns += (number * unit_ns) as u128;
    }
    u64::try_from(total_ns / 1_000_000_000).map_err(|_| bad())
}

/// Vault's `sanitizePath`: trims whitespace and one leading and trailing slash.
pub fn sanitize_path(path: &str) -> String {
    let p = path.trim();
    let p = p.strip_prefix('/').unwrap_or(p);
    p.strip_suffix('/').unwrap_or(p).to_string()
}

/// `path` with exactly one trailing slash.
pub fn ensure_trailing_slash(path: &str) -> String {
    format!("{}/", path.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn rw(args: &[&str]) -> Vec<String> {
        rewrite_single_dash(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn rewrites_single_dash_long_flags_only() {
        assert_eq!(
            rw(&[
                "coffer",
                "kv",
                "get",
                "-format=json",
                "-mount",
                "secret",
                "-field=a",
                "x"
            ]),
            [
                "coffer",
                "kv",
                "get",
                "--format=json",
                "--mount",
                "secret",
                "--field=a",
                "x"
            ]
        );
        assert_eq!(
            rw(&["-tls-skip-verify", "-version=2"]),
            ["--tls-skip-verify", "--version=2"]
        );
        // Short flags, lone dash, double dash and key=value data stay.
        assert_eq!(
            rw(&["-h", "-", "--format", "k=-", "-1"]),
            ["-h", "-", "--format", "k=-", "-1"]
        );
        assert_eq!(rw(&["-a1"]), ["-a1"]);
        // After `--` nothing is rewritten.
        assert_eq!(
            rw(&["write", "--", "-abc", "-format"]),
            ["write", "--", "-abc", "-format"]
        );
    }

    struct Fake {
        files: HashMap<String, String>,
        stdin: Option<String>,
    }

    impl Inputs for Fake {
        fn read_file(&mut self, path: &str) -> Result<String, String> {
            self.files
                .get(path)
                .cloned()
                .ok_or_else(|| format!("error reading {path}: not found"))
        }
        fn read_stdin(&mut self) -> Result<String, String> {
            self.stdin.take().ok_or_else(|| "stdin already read".to_string())
        }
    }

    fn fake() -> Fake {
        let mut files = HashMap::new();
        files.insert("cert.pem".to_string(), "PEM\n".to_string());
        files.insert("data.json".to_string(), r#"{"x": 1, "y": "z"}"#.to_string());
        Fake {
            files,
            stdin: Some("from-stdin".to_string()),
        }
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_key_values_files_and_stdin() {
        let m = parse_data_args(
            &args(&["a=b", "c=@cert.pem", "d=-", "e=x=y", r"f=\@lit", "g="]),
            &mut fake(),
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": "b", "c": "PEM\n", "d": "from-stdin", "e": "x=y", "f": "@lit", "g": ""})
        );
    }

    #[test]
    fn repeated_keys_become_arrays() {
        let m = parse_data_args(&args(&["p=a", "p=b", "p=c"]), &mut fake()).unwrap();
        assert_eq!(m["p"], json!(["a", "b", "c"]));
    }

    #[test]
    fn json_object_from_stdin_or_file() {
        let mut f = fake();
        f.stdin = Some(r#"{"k": true}"#.into());
        let m = parse_data_args(&args(&["-", "@data.json"]), &mut f).unwrap();
        assert_eq!(Value::Object(m), json!({"k": true, "x": 1, "y": "z"}));
        f.stdin = Some("[1]".into());
        assert!(
            parse_data_args(&args(&["-"]), &mut f)
                .unwrap_err()
                .contains("JSON object")
        );
    }

    #[test]
    fn data_errors() {
        assert!(
            parse_data_args(&args(&["novalue"]), &mut fake())
                .unwrap_err()
                .contains("key=value")
        );
        assert!(
            parse_data_args(&args(&["=v"]), &mut fake())
                .unwrap_err()
                .contains("empty key")
        );
        assert!(
            parse_data_args(&args(&["a=@missing"]), &mut fake())
                .unwrap_err()
                .contains("missing")
        );
        let e = parse_data_args(&args(&["a=-", "b=-"]), &mut fake()).unwrap_err();
        assert!(e.contains("only be used once"), "{e}");
    }

    #[test]
    fn pairs() {
        let m = parse_pairs(&args(&["a=1", "b=x=y"]), "metadata").unwrap();
        assert_eq!(Value::Object(m), json!({"a": "1", "b": "x=y"}));
        assert!(
            parse_pairs(&args(&["a"]), "metadata")
                .unwrap_err()
                .contains("-metadata")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("3600").unwrap(), 3600);
        assert_eq!(parse_duration_secs("1h").unwrap(), 3600);
        assert_eq!(parse_duration_secs("1h30m").unwrap(), 5400);
        assert_eq!(parse_duration_secs("768h").unwrap(), 2_764_800);
        assert_eq!(parse_duration_secs("1.5m").unwrap(), 90);
        assert_eq!(parse_duration_secs("1500ms").unwrap(), 1);
        for bad in ["", "h", "1x", "-5", "1h-"] {
            assert!(parse_duration_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(sanitize_path(" /secret/foo/ "), "secret/foo");
        assert_eq!(sanitize_path("secret"), "secret");
        assert_eq!(ensure_trailing_slash("secret"), "secret/");
        assert_eq!(ensure_trailing_slash("secret//"), "secret/");
    }
}
