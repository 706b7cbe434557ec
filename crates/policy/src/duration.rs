//! Durations as Vault policies write them: integer seconds or Go-style strings like `"1h30m"`.

use serde_json::Value;
use std::time::Duration;

/// Parses `300`, `"300"`, `"5m"`, `"1h30m"`, `"1.5h"`, `"2d"` (units: ns, us, µs, ms, s, m, h, d).
pub(crate) fn parse_duration(value: &Value) -> Result<Duration, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{n} is not a whole, non-negative number of seconds")),
        Value::String(s) => parse_duration_str(s.trim()),
        _ => Err("expected a duration such as \"1h\" or a number of seconds".into()),
    }
}

fn parse_duration_str(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration \"{s}\" (use e.g. \"90s\", \"5m\", \"1h30m\")");
    if s.is_empty() {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().map(Duration::from_secs).map_err(|_| bad());
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_vault_forms() {
        let d = |v: Value| parse_duration(&v).unwrap();
        assert_eq!(d(json!(300)), Duration::from_secs(300));
        assert_eq!(d(json!("300")), Duration::from_secs(300));
        assert_eq!(d(json!("5m")), Duration::from_secs(300));
        assert_eq!(d(json!("1h30m")), Duration::from_secs(5400));
        assert_eq!(d(json!("1.5h")), Duration::from_secs(5400));
        assert_eq!(d(json!("2d")), Duration::from_secs(172_800));
        assert_eq!(d(json!("250ms")), Duration::from_millis(250));
    }

    #[test]
    fn rejects_garbage() {
        for v in [
            json!(-1),
            json!(1.5),
            json!("abc"),
            json!("5x"),
            json!("h"),
            json!(""),
            json!([]),
        ] {
            assert!(parse_duration(&v).is_err(), "{v} should be rejected");
        }
    }
}
