//! Output rendering in Vault's styles: `Key  Value` tables, `== Title ==` headers, lists,
//! Go-`%v`-like value cells and human durations. Pure functions returning strings.

use coffer_client::Secret;
use serde_json::{Map, Value};

/// Output format chosen by `-format` / `COFFER_FORMAT` / `VAULT_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables (default).
    Table,
    /// The server's JSON, pretty-printed.
    Json,
}

/// Columns separated by four spaces, each padded to its widest cell; the first row is a
/// header and gets an underline of dashes. Empty cells print as `n/a`, as in Vault.
pub fn columns(rows: &[Vec<String>]) -> String {
    let Some(header) = rows.first() else {
        return String::new();
    };
    let underline: Vec<String> = header.iter().map(|h| "-".repeat(h.trim().chars().count())).collect();
    let mut all: Vec<Vec<String>> = vec![header.clone(), underline];
    all.extend(rows[1..].iter().cloned());
    plain_columns(&all)
}

/// Like [`columns`] but without the underline (every row is data).
pub fn plain_columns(rows: &[Vec<String>]) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            (0..ncols)
                .map(|i| {
                    let c = r.get(i).map(|s| s.trim()).unwrap_or("");
                    if c.is_empty() { "n/a".to_string() } else { c.to_string() }
                })
                .collect()
        })
        .collect();
    let mut widths = vec![0usize; ncols];
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == ncols {
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(widths[i] - c.chars().count() + 4));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A two-column `Key`/`Value` table from rows in the given order.
pub fn kv_table(rows: Vec<(String, String)>) -> String {
    let mut all = vec![vec!["Key".to_string(), "Value".to_string()]];
    all.extend(rows.into_iter().map(|(k, v)| vec![k, v]));
    columns(&all)
}

/// Renders one JSON value as Go's `%v` would after Vault's JSON decoding: strings bare,
/// `null` as `<nil>`, arrays as `[a b]`, objects as `map[k:v]` with sorted keys.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(cell).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{k}:{}", cell(&map[*k]))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn quoted_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", q.join(" "))
}

/// Seconds as Go's `time.Duration` string without zero tails: `768h`, `1h30m`, `45s`, `0s`.
pub fn human_duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 {
        out.push_str(&format!("{sec}s"));
    }
    out
}

/// A data map as a sorted `Key`/`Value` table (Vault's `OutputData`). Empty map: "".
pub fn data_table(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    kv_table(keys.into_iter().map(|k| (k.clone(), cell(&map[k]))).collect())
}

/// A whole response as a table (Vault's `OutputSecret`): lease, auth, wrap info, then data.
/// Returns "" when there is nothing to show.
pub fn secret_table(s: &Secret) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    if s.lease_duration > 0 {
        if s.lease_id.is_empty() {
            row("refresh_interval", human_duration(s.lease_duration));
        } else {
            row("lease_id", s.lease_id.clone());
            row("lease_duration", human_duration(s.lease_duration));
            row("lease_renewable", s.renewable.to_string());
        }
    }
    if let Some(a) = &s.auth {
        if !a.client_token.is_empty() {
            row("token", a.client_token.clone());
        }
        row("token_accessor", a.accessor.clone());
        let dur = if a.lease_duration == 0 {
            "∞".to_string()
        } else {
            human_duration(a.lease_duration)
        };
        row("token_duration", dur);
        row("token_renewable", a.renewable.to_string());
        row("token_policies", quoted_list(&a.token_policies));
        row("identity_policies", quoted_list(&a.identity_policies));
        row("policies", quoted_list(&a.policies));
        let mut meta: Vec<(&String, &Value)> = a.metadata.iter().collect();
        meta.sort_by(|x, y| x.0.cmp(y.0));
        for (k, v) in meta {
            row(&format!("token_meta_{k}"), cell(v));
        }
    }
    if let Some(w) = &s.wrap_info {
        row("wrapping_token:", w.token.clone());
        row("wrapping_accessor:", w.accessor.clone());
        row("wrapping_token_ttl:", human_duration(w.ttl));
        row("wrapping_token_creation_time:", w.creation_time.clone());
        row("wrapping_token_creation_path:", w.creation_path.clone());
        if !w.wrapped_accessor.is_empty() {
            row("wrapped_accessor:", w.wrapped_accessor.clone());
        }
    }
    if let Some(data) = &s.data {
        let mut keys: Vec<&String> = data.keys().collect();
        keys.sort();
        for k in keys {
            row(k, cell(&data[k]));
        }
    }
    if rows.is_empty() { String::new() } else { kv_table(rows) }
}

/// A `Keys` list table (Vault's `OutputList`).
pub fn list_table(keys: &[Value]) -> String {
    let mut rows = vec![vec!["Keys".to_string()]];
    rows.extend(keys.iter().map(|k| vec![cell(k)]));
    columns(&rows)
}

/// `title` centred in `=` signs for a section of `width` columns (Vault's `padEqualSigns`).
pub fn pad_equal_signs(title: &str, width: usize) -> String {
    let mut n = width.saturating_sub(title.chars().count() + 2).max(2);
    if !n.is_multiple_of(2) {
        n += 1;
    }
    let side = "=".repeat(n / 2);
    format!("{side} {title} {side}")
}

/// The section header for a map's table: as wide as its longest key plus `    Value`.
pub fn header_for_map(title: &str, map: &Map<String, Value>) -> String {
    let max_key = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    pad_equal_signs(title, max_key + 4 + 5)
}

/// A titled path block: `== Secret Path ==` / path / blank line.
pub fn path_block(title: &str, path: &str) -> String {
    format!("{}\n{path}\n\n", pad_equal_signs(title, path.chars().count()))
}

/// Warnings in Vault's wording, for standard error. Empty when there are none.
pub fn warnings_text(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = String::from("WARNING! The following warnings were returned from Coffer:\n\n");
    for w in warnings {
        out.push_str(&format!("  * {w}\n\n"));
    }
    out
}

/// Pretty JSON with two-space indents and a trailing newline.
pub fn json_pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".to_string());
    s.push('\n');
    s
}

/// A single field for `-field`: bare `%v` text in table format, JSON otherwise.
/// No trailing newline (callers add one only on a terminal, as Vault does).
pub fn raw_field(v: &Value, format: Format) -> String {
    match format {
        Format::Table => cell(v),
        Format::Json => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_value_table_matches_vault_layout() {
        let t = kv_table(vec![
            ("created_time".into(), "2024".into()),
            ("deletion_time".into(), "".into()),
        ]);
        assert_eq!(
            t,
            "Key              Value\n\
             ---              -----\n\
             created_time     2024\n\
             deletion_time    n/a\n"
        );
    }

    #[test]
    fn cells_look_like_go() {
        assert_eq!(cell(&json!(null)), "<nil>");
        assert_eq!(cell(&json!("x y")), "x y");
        assert_eq!(cell(&json!(12)), "12");
        assert_eq!(cell(&json!(["a", 1, true])), "[a 1 true]");
        assert_eq!(cell(&json!({"b": 1, "a": {"c": null}})), "map[a:map[c:<nil>] b:1]");
        assert_eq!(quoted_list(&["default".into(), "root".into()]), r#"["default" "root"]"#);
        assert_eq!(quoted_list(&[]), "[]");
    }

    #[test]
    fn durations_drop_zero_units() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(2_764_800), "768h");
        assert_eq!(human_duration(5400), "1h30m");
        assert_eq!(human_duration(3605), "1h5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(45), "45s");
    }

    #[test]
    fn headers_match_vault_examples() {
        assert_eq!(
            path_block("Secret Path", "secret/data/creds"),
            "== Secret Path ==\nsecret/data/creds\n\n"
        );
        let meta = json!({"created_time": 1, "custom_metadata": 1, "deletion_time": 1, "destroyed": 1, "version": 1});
        assert_eq!(
            header_for_map("Metadata", meta.as_object().unwrap()),
            "======= Metadata ======="
        );
        let data = json!({"passcode": "x"});
        assert_eq!(header_for_map("Data", data.as_object().unwrap()), "====== Data ======");
        assert_eq!(pad_equal_signs("Long title here", 3), "= Long title here =");
    }

    #[test]
    fn secret_table_orders_lease_auth_then_sorted_data() {
        let s = Secret::from_value(json!({
            "lease_id": "", "lease_duration": 2764800,
            "data": {"zeta": "1", "alpha": ["x", "y"]},
            "auth": {"client_token": "s.t", "accessor": "acc", "policies": ["root"],
                     "token_policies": ["root"], "lease_duration": 0, "metadata": {"user": "bob"}}
        }))
        .unwrap();
        let t = secret_table(&s);
        let keys: Vec<&str> = t.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "Key",
                "---",
                "refresh_interval",
                "token",
                "token_accessor",
                "token_duration",
                "token_renewable",
                "token_policies",
                "identity_policies",
                "policies",
                "token_meta_user",
                "alpha",
                "zeta"
            ]
        );
        assert!(t.contains("refresh_interval     768h\n"), "{t}");
        assert!(t.contains("token_duration       ∞\n"), "{t}");
        assert!(t.contains("alpha                [x y]\n"), "{t}");
        assert_eq!(secret_table(&Secret::default()), "");
    }

    #[test]
    fn lists_and_warnings() {
        assert_eq!(list_table(&[json!("a"), json!("dir/")]), "Keys\n----\na\ndir/\n");
        assert_eq!(warnings_text(&[]), "");
        assert!(warnings_text(&["w1".into()]).contains("  * w1\n"));
    }

    #[test]
    fn raw_fields() {
        assert_eq!(raw_field(&json!("s3cret"), Format::Table), "s3cret");
        assert_eq!(raw_field(&json!("s3cret"), Format::Json), "\"s3cret\"");
        assert_eq!(raw_field(&json!(["a"]), Format::Table), "[a]");
    }
}
