//! Dates for history scans: parsing `--since` (RFC 3339 or `YYYY-MM-DD`) and formatting commit
//! times as RFC 3339, without a date-time dependency.

/// Parses `YYYY-MM-DD` (midnight UTC) or RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`)
/// into seconds since the Unix epoch.
pub fn parse_since(input: &str) -> Result<i64, String> {
    let s = input.trim();
    let bad = || format!("invalid date {input:?}: expected YYYY-MM-DD or RFC 3339");
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let year = num(&b[0..4]).ok_or_else(bad)?;
    let month = num(&b[5..7]).ok_or_else(bad)?;
    let day = num(&b[8..10]).ok_or_else(bad)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Ok(days * 86_400);
    }
    // Time part: `T` or a space, then HH:MM:SS.
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let hour = num(&b[11..13]).ok_or_else(bad)?;
    let minute = num(&b[14..16]).ok_or_else(bad)?;
    let second = num(&b[17..19]).ok_or_else(bad)?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = num(&[*h1, *h2]).ok_or_else(bad)?;
            let m = num(&[*m1, *m2]).ok_or_else(bad)?;
            let off = h * 3600 + m * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return Err(bad()),
    };
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Formats `seconds` since the epoch at UTC offset `offset` (seconds) as RFC 3339,
/// e.g. `2024-05-01T12:00:00+02:00`.
pub fn format_rfc3339(seconds: i64, offset: i32) -> String {
    let local = seconds + i64::from(offset);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 3600,
        off % 3600 / 60
    )
}

fn num(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_rfc3339() {
        assert_eq!(parse_since("1970-01-01"), Ok(0));
        assert_eq!(parse_since("2024-03-01"), Ok(1_709_251_200));
        assert_eq!(parse_since("2024-03-01T00:00:00Z"), Ok(1_709_251_200));
        assert_eq!(parse_since("2024-03-01T02:00:00.123+02:00"), Ok(1_709_251_200));
        assert_eq!(parse_since("2024-02-29T19:00:00-05:00"), Ok(1_709_251_200));
        for bad in [
            "",
            "2024-13-01",
            "2023-02-29",
            "yesterday",
            "2024-03-01T25:00:00Z",
            "2024-03-01T00:00:00",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(format_rfc3339(1_709_251_200, 7200), "2024-03-01T02:00:00+02:00");
        assert_eq!(format_rfc3339(1_709_251_200, -18_000), "2024-02-29T19:00:00-05:00");
        for t in [-86_401_i64, 951_782_400, 4_102_444_800] {
            let s = format_rfc3339(t, 0);
            assert_eq!(parse_since(&s), Ok(t), "{s}");
        }
    }
}
