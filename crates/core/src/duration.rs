//! Vault-style durations: integer seconds, or Go-style strings such as `1h30m`, `45s`, `768h`.

use crate::{CoreError, Result};
use serde_json::Value;

/// Parses a duration field given as a number of seconds or a string; `None` when absent.
pub fn parse_field(data: &serde_json::Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| CoreError::bad(format!("field \"{name}\": duration must be a non-negative integer"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => parse(s)
            .map(Some)
            .ok_or_else(|| CoreError::bad(format!("field \"{name}\": invalid duration \"{s}\""))),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a duration"))),
    }
}

/// Parses `"90"`, `"90s"`, `"1h30m"`, `"2d"`, `"1.5h"`, `"500ms"` (rounded down to seconds).
pub fn parse(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Some(secs);
    }
    let mut total_ms: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_end == 0 {
            return None;
        }
        let value: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor_ms = match &rest[..unit_end] {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
        total_ms += value * factor_ms;
        rest = &rest[unit_end..];
    }
    if !total_ms.is_finite() || total_ms < 0.0 || total_ms > u64::MAX as f64 {
        return None;
    }
    Some((total_ms / 1000.0) as u64)
}

/// Formats seconds as a Go duration string (`0s`, `1h0m0s`, `3m20s`), as Vault prints them.
pub fn format_go(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vault_forms() {
        assert_eq!(parse("90"), Some(90));
        assert_eq!(parse("90s"), Some(90));
        assert_eq!(parse("1h30m"), Some(5400));
        assert_eq!(parse("768h"), Some(768 * 3600));
        assert_eq!(parse("1.5h"), Some(5400));
        assert_eq!(parse("2d"), Some(172_800));
        assert_eq!(parse("1500ms"), Some(1));
        for bad in ["", "h", "1x", "-5s", "1h30", "abc"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go(0), "0s");
        assert_eq!(format_go(59), "59s");
        assert_eq!(format_go(200), "3m20s");
        assert_eq!(format_go(3600), "1h0m0s");
    }
}
