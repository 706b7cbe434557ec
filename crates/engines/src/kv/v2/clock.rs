//! Timestamps as KV v2 stores them (Unix nanoseconds) and prints them (RFC 3339 in UTC with
//! trailing zeros of the fraction trimmed, like Go's `time.RFC3339Nano`).

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, in nanoseconds since the Unix epoch.
pub fn now_nanos() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// Formats a timestamp as `2018-03-22T02:24:06.945319214Z`; `None` prints as `""`.
pub fn format(nanos: Option<i64>) -> String {
    let Some(nanos) = nanos else { return String::new() };
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)) else {
        return String::new();
    };
    let base = t
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"))
        .unwrap_or_default();
    let frac = t.nanosecond();
    if frac == 0 {
        format!("{base}Z")
    } else {
        let digits = format!("{frac:09}");
        format!("{base}.{}Z", digits.trim_end_matches('0'))
    }
}

/// `nanos` plus whole seconds, saturating.
pub fn add_secs(nanos: i64, secs: i64) -> i64 {
    nanos.saturating_add(secs.saturating_mul(1_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(format(None), "");
        assert_eq!(format(Some(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            format(Some(1_521_685_446_945_319_214)),
            "2018-03-22T02:24:06.945319214Z"
        );
        assert_eq!(format(Some(1_521_685_446_500_000_000)), "2018-03-22T02:24:06.5Z");
    }

    #[test]
    fn now_is_recent() {
        assert!(now_nanos() > 1_700_000_000_000_000_000);
        assert_eq!(add_secs(0, 2), 2_000_000_000);
    }
}
