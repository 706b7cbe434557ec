//! Durations in Vault's wire format: parse integer seconds or Go duration strings
//! (`"1h30m"`, `"45s"`, `"1.5h"`, `"2d"`), and print them as Go's `Duration.String()` does.

use serde_json::Value;

/// Parses a duration given as a JSON number of seconds or a string, into whole seconds.
///
/// Accepted strings: `""` (0), an integer (seconds), `<n>d` (days), or a Go duration
/// (`[-+]` then one or more `<decimal><unit>` with units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`).
/// Fractions of a second are truncated toward zero.
pub fn parse_seconds(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite() && f.abs() < 9.0e18) {
                Ok(f.trunc() as i64)
            } else {
                Err(format!("invalid duration {n}"))
            }
        }
        Value::String(s) => parse_str(s),
        _ => Err("duration must be a number of seconds or a duration string".to_string()),
    }
}

/// Parses a duration string into whole seconds (see [`parse_seconds`]).
pub fn parse_str(input: &str) -> Result<i64, String> {
    let s = input.trim();
    let err = || format!("invalid duration \"{input}\"");
    if s.is_empty() {
        return Ok(0);
    }
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    if let Some(days) = s.strip_suffix('d')
        && let Ok(days) = days.parse::<i64>()
    {
        return days.checked_mul(86_400).ok_or_else(err);
    }
    let (negative, mut rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(err());
    }
    // Accumulate in nanoseconds as f64 parts per unit to keep "1.5h" exact enough; the
    // integer part is summed exactly in i128.
    let mut total_nanos: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(err)?;
        if num_len == 0 {
            return Err(err());
        }
        let number = &rest[..num_len];
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit_nanos: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err()),
        };
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err());
        }
        let int: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err())?
        };
        let mut nanos = int.checked_mul(unit_nanos).ok_or_else(err)?;
        // Fractional part: scale digit by digit (at most 18 significant digits matter).
        let mut scale = unit_nanos;
        for digit in frac_part.chars().take(18) {
            scale /= 10;
            nanos += i128::from(digit.to_digit(10).ok_or_else(err)?) * scale;
        }
        total_nanos = total_nanos.checked_add(nanos).ok_or_else(err)?;
        if total_nanos > i128::from(i64::MAX) {
            return Err(err());
        }
    }
    let secs = (total_nanos / 1_000_000_000) as i64;
    Ok(if negative { -secs } else { secs })
}

/// Formats whole seconds as Go's `time.Duration.String()`: `"0s"`, `"45s"`, `"1m30s"`,
/// `"3h25m19s"`, `"-1s"`.
pub fn format_seconds(secs: i64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let sign = if secs < 0 { "-" } else { "" };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, (abs % 3600) / 60, abs % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// A non-negative duration field of a request body (seconds or a duration string); `None`
/// when absent, null or `""`.
pub fn parse_field(data: &serde_json::Map<String, Value>, name: &str) -> crate::Result<Option<u64>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(value) => match parse_seconds(value) {
            Ok(secs) if secs >= 0 => Ok(Some(secs as u64)),
            Ok(_) => Err(crate::CoreError::bad(format!(
                "field \"{name}\": duration cannot be negative"
            ))),
            Err(e) => Err(crate::CoreError::bad(format!("field \"{name}\": {e}"))),
        },
    }
}

/// A non-negative duration string (configuration files); `None` when invalid or negative.
pub fn parse(s: &str) -> Option<u64> {
    if s.trim().is_empty() {
        return None;
    }
    parse_str(s).ok().and_then(|v| u64::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_seconds_and_go_strings() {
        assert_eq!(parse_seconds(&json!(90)).unwrap(), 90);
        assert_eq!(parse_seconds(&json!("90")).unwrap(), 90);
        assert_eq!(parse_seconds(&json!("")).unwrap(), 0);
        assert_eq!(parse_seconds(&json!("0s")).unwrap(), 0);
        assert_eq!(parse_seconds(&json!("0")).unwrap(), 0);
        assert_eq!(parse_seconds(&json!("45s")).unwrap(), 45);
        assert_eq!(parse_seconds(&json!("1h30m")).unwrap(), 5400);
        assert_eq!(parse_seconds(&json!("3h25m19s")).unwrap(), 12319);
        assert_eq!(parse_seconds(&json!("1.5h")).unwrap(), 5400);
        assert_eq!(parse_seconds(&json!("1500ms")).unwrap(), 1);
        assert_eq!(parse_seconds(&json!("2d")).unwrap(), 172_800);
        assert_eq!(parse_seconds(&json!("-1s")).unwrap(), -1);
        assert_eq!(parse_seconds(&json!(-5)).unwrap(), -5);
        assert_eq!(parse_seconds(&json!(2.9)).unwrap(), 2);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["abc", "1x", "h", "1h30", "--1s", ".s", "1..5s", "-"] {
            assert!(parse_str(bad).is_err(), "{bad} should be rejected");
        }
        assert!(parse_seconds(&json!(true)).is_err());
        assert!(parse_seconds(&json!({"a": 1})).is_err());
        assert!(parse_str("99999999999999999h").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_seconds(0), "0s");
        assert_eq!(format_seconds(45), "45s");
        assert_eq!(format_seconds(90), "1m30s");
        assert_eq!(format_seconds(3600), "1h0m0s");
        assert_eq!(format_seconds(12319), "3h25m19s");
        assert_eq!(format_seconds(-1), "-1s");
        assert_eq!(format_seconds(2_764_800), "768h0m0s");
    }

    #[test]
    fn round_trips() {
        for secs in [0, 1, 59, 60, 61, 3599, 3600, 86_399, 1_000_000] {
            assert_eq!(parse_str(&format_seconds(secs)).unwrap(), secs);
        }
    }

    #[test]
    fn fields_and_config_values() {
        let data = json!({"a": "1h", "b": 30, "c": "-1s", "d": "x", "e": ""});
        let data = data.as_object().unwrap();
        assert_eq!(parse_field(data, "a").unwrap(), Some(3600));
        assert_eq!(parse_field(data, "b").unwrap(), Some(30));
        assert!(parse_field(data, "c").is_err());
        assert!(parse_field(data, "d").is_err());
        assert_eq!(parse_field(data, "e").unwrap(), None);
        assert_eq!(parse_field(data, "missing").unwrap(), None);
        assert_eq!(parse("768h"), Some(768 * 3600));
        assert_eq!(parse("-5s"), None);
        assert_eq!(parse(""), None);
    }
}
