//! `@TIME`: which recorded run a source names.

use std::time::{Duration, SystemTime};

/// A moment of the history, as `--from @...` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// `@now`: the latest run.
    Latest,
    /// `@run:ID`: that run.
    Run(i64),
    /// `@TIME` or `@-DURATION`: the latest run started at or before this time (whole seconds).
    Time(SystemTime),
}

/// Why an `@...` text names no moment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "@{0}: not a moment of the history (use @now, @run:ID, @-24h, @2026-12-01T10:00:00Z or \
     @2026-12-01T10:00:00 for UTC)"
)]
pub struct BadAt(pub String);

impl At {
    /// Parses the text after `@`, relative times taken from `now`.
    pub fn parse(text: &str, now: SystemTime) -> Result<At, BadAt> {
        let bad = || BadAt(text.to_string());
        if text == "now" {
            return Ok(At::Latest);
        }
        if let Some(id) = text.strip_prefix("run:") {
            return id.parse().map(At::Run).map_err(|_| bad());
        }
        if let Some(ago) = text.strip_prefix('-') {
            let d = humantime::parse_duration(ago).map_err(|_| bad())?;
            return now.checked_sub(d).map(At::Time).ok_or_else(bad);
        }
        parse_time(text).map(At::Time).ok_or_else(bad)
    }

    /// `text` when it starts with `@` (a history source), else `None` (a file).
    pub fn source(text: &std::ffi::OsStr) -> Option<&str> {
        text.to_str()?.strip_prefix('@')
    }
}

/// RFC 3339 with `Z` or a numeric offset; a date-time without a zone is UTC; minutes without
/// seconds and a bare date (midnight) are accepted.
fn parse_time(text: &str) -> Option<SystemTime> {
    let (base, offset) = split_offset(text)?;
    let mut base = base.to_string();
    match base.len() {
        10 => base.push_str("T00:00:00"),
        16 => base.push_str(":00"),
        _ => {}
    }
    let t = humantime::parse_rfc3339_weak(&base).ok()?;
    if offset >= 0 {
        t.checked_sub(Duration::from_secs(offset as u64))
    } else {
        t.checked_add(Duration::from_secs(offset.unsigned_abs()))
    }
}

/// The date-time part and the zone's offset east of UTC in seconds (0 for `Z` or no zone).
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(base) = text.strip_suffix(['Z', 'z']) {
        return Some((base, 0));
    }
    // A numeric offset is the last six characters, `+HH:MM` or `-HH:MM`, after the time.
    if text.len() > 16 {
        let (base, zone) = text.split_at(text.len() - 6);
        let b = zone.as_bytes();
        if (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
            let h: i64 = zone[1..3].parse().ok()?;
            let m: i64 = zone[4..6].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            return Some((base, if b[0] == b'-' { -secs } else { secs }));
        }
    }
    Some((text, 0))
}

/// A time as the history stores it: RFC 3339, UTC, whole seconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn parses_every_form() {
        let now = t("2026-12-06T12:00:00Z");
        let p = |s| At::parse(s, now);
        assert_eq!(p("now"), Ok(At::Latest));
        assert_eq!(p("run:17"), Ok(At::Run(17)));
        assert_eq!(p("-24h"), Ok(At::Time(t("2026-12-05T12:00:00Z"))));
        assert_eq!(p("-15m"), Ok(At::Time(t("2026-12-06T11:45:00Z"))));
        let ten = At::Time(t("2026-12-01T10:00:00Z"));
        for s in [
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00",
            "2026-12-01 10:00:00",
            "2026-12-01T10:00",
            "2026-12-01T12:00:00+02:00",
            "2026-12-01T07:30:00-02:30",
        ] {
            assert_eq!(p(s), Ok(ten.clone()), "{s}");
        }
        assert_eq!(p("2026-12-01"), Ok(At::Time(t("2026-12-01T00:00:00Z"))));
    }

    #[test]
    fn refuses_what_is_not_a_moment() {
        let now = t("2026-12-06T12:00:00Z");
        for s in [
            "",
            "yesterday-ish",
            "run:",
            "run:x",
            "-",
            "-forever",
            "2026-13-01T00:00:00Z",
            "2026-12-01T10:00:00+25:00",
        ] {
            assert_eq!(At::parse(s, now), Err(BadAt(s.into())), "{s}");
        }
    }

    #[test]
    fn only_an_at_sign_makes_a_history_source() {
        use std::ffi::OsStr;
        assert_eq!(At::source(OsStr::new("@now")), Some("now"));
        assert_eq!(At::source(OsStr::new("./@now")), None);
        assert_eq!(At::source(OsStr::new("snap.json")), None);
    }
}
