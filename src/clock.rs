//! Time: the clock (`RIPEN_NOW` overrides it, for tests and replays) and the
//! parsing of the dates people type (`YYYY-MM-DD` or RFC 3339). All stored
//! times are UTC, formatted by `format_time`.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};

use crate::error::{Error, Result};

/// Now, unless `RIPEN_NOW` says otherwise.
pub(crate) fn now() -> Result<DateTime<Utc>> {
    match std::env::var("RIPEN_NOW") {
        Ok(text) if !text.trim().is_empty() => parse_time(&text).map_err(|_| {
            Error::bad(format!(
                "RIPEN_NOW={text:?} is not an RFC 3339 time: unset it or write e.g. 2026-06-01T08:00:00Z"
            ))
        }),
        _ => Ok(Utc::now()),
    }
}

/// The one text form of a stored time: `2026-05-30T09:00:00Z`.
pub fn format_time(t: DateTime<Utc>) -> String {
    // Whole seconds from 1970 on (every time ripen stores but the oldest
    // imported ones) are put in place digit by digit, as terse events decode
    // them: chrono's formatter is several times slower, and an import
    // formats a time for every record.
    let mut printed = [0u8; 20];
    if t.nanosecond() == 0 && crate::event_format::write_at(t.timestamp(), &mut printed) {
        if let Ok(text) = std::str::from_utf8(&printed) {
            return text.to_string();
        }
    }
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339, years 1 to 9999.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let text = text.trim();
    // Only four-digit years: they print back the way they parse.
    let year_ok = text.len() >= 10 && text.as_bytes()[..4].iter().all(u8::is_ascii_digit) && !text.starts_with("0000");
    if !year_ok {
        return Err(Error::bad(format!(
            "{text:?} is not a date: write YYYY-MM-DD or an RFC 3339 time such as 2026-06-01T08:00:00Z"
        )));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        // The stored value is UTC: an offset can carry a time in year 1 or
        // 9999 across the edge of what is written back and read again.
        let utc = t.with_timezone(&Utc);
        if !(1..=9999).contains(&utc.year()) {
            return Err(Error::bad(format!(
                "{text:?} is {} in UTC, outside years 1 to 9999: give a time within them",
                utc.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            )));
        }
        return Ok(utc);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    Err(Error::bad(format!(
        "{text:?} is not a date: write YYYY-MM-DD or an RFC 3339 time such as 2026-06-01T08:00:00Z"
    )))
}

/// The end of the day a bound names: `--until 2026-06-01` includes all of 1 June.
pub fn parse_until(text: &str) -> Result<DateTime<Utc>> {
    let t = parse_time(text)?;
    if NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").is_ok() {
        Ok(t + chrono::Duration::days(1) - chrono::Duration::nanoseconds(1))
    } else {
        Ok(t)
    }
}

/// A calendar date (`published`): `YYYY-MM-DD`, or the date part of RFC 3339.
pub fn parse_date(text: &str) -> Result<String> {
    if let Some(date) = plain_date(text.trim()) {
        return Ok(date.to_string());
    }
    Ok(parse_time(text)?.format("%Y-%m-%d").to_string())
}

/// `text` when it is already a date as `parse_date` prints it (four-digit
/// year from 1, valid month and day): most dates an import reads are, and
/// chrono's parser and formatter then cost thousands of instructions each
/// to give the same text back.
fn plain_date(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let field = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let year = field(0, 4).filter(|y| *y >= 1)?;
    NaiveDate::from_ymd_opt(year as i32, field(5, 7)?, field(8, 10)?).map(|_| text)
}

/// The day part of a stored time, for grouping.
pub fn day_of(stored: &str) -> &str {
    stored.get(..10).unwrap_or(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(format_time(parse_time("2026-05-30").unwrap()), "2026-05-30T00:00:00Z");
        assert_eq!(format_time(parse_time("2026-05-30T11:00:00+02:00").unwrap()), "2026-05-30T09:00:00Z");
        assert!(parse_until("2026-05-30").unwrap() > parse_time("2026-05-30T23:59:59Z").unwrap());
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "9999999-01-01",
            "2026-05-30T25:00:00Z",
            "\u{0}",
            "-1-1-1",
            "0000-01-01",
            "+2026-01-01",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_issue_s_edge_times_are_refused() {
        for bad in ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"] {
            let err = parse_time(bad).unwrap_err().to_string();
            assert!(err.contains("outside years 1 to 9999"), "{bad}: {err}");
            assert!(parse_date(bad).is_err(), "{bad} accepted as a date");
        }
    }

    #[test]
    fn the_fast_paths_print_what_chrono_prints() {
        // `format_time` and `parse_date` skip chrono's formatter where they
        // can: they must give exactly what it gives.
        let day = 86_400i64;
        let mut secs = -3 * day;
        while secs < 253_402_300_799 + 3 * day {
            for extra in [0, 1, 59, 3599, day - 1] {
                let Some(t) = DateTime::<Utc>::from_timestamp(secs + extra, 0) else { continue };
                assert_eq!(format_time(t), t.to_rfc3339_opts(SecondsFormat::AutoSi, true), "{secs}");
                let date = t.format("%Y-%m-%d").to_string();
                let slow = parse_time(&date).map(|p| p.format("%Y-%m-%d").to_string()).ok();
                assert_eq!(parse_date(&date).ok(), slow, "{date}");
            }
            secs += 9_999_991;
        }
        // A leap second (nanoseconds from 1e9 on) only follows second 59.
        for nanos in [1, 500_000_000, 999_999_999, 1_000_000_000, 1_500_000_000] {
            let t = DateTime::<Utc>::from_timestamp(1_780_000_019, nanos).unwrap();
            assert_eq!(format_time(t), t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        for year_one in ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59Z"] {
            let t = parse_time(year_one).unwrap();
            assert_eq!(format_time(t), year_one);
        }
        for text in [
            "2026-02-29",
            "2024-02-29",
            "0000-01-01",
            "0001-01-01",
            "9999-12-31",
            " 2026-06-01 ",
            "2026-6-01",
            "2026-06-1x",
            "2026/06/01",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "２０２6-01-01",
            "2026-06-01T10:00:00Z",
            "2026-06-01T23:30:00-02:00",
        ] {
            let slow = parse_time(text).map(|p| p.format("%Y-%m-%d").to_string()).map_err(|e| e.to_string());
            assert_eq!(parse_date(text).map_err(|e| e.to_string()), slow, "{text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever is accepted at either edge of the calendar, with any
        /// offset, prints as a time (and a date) that is accepted again
        /// unchanged.
        #[test]
        fn accepted_edge_times_round_trip(
            last_year in proptest::bool::ANY,
            day_second in 0u32..86_400,
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i32),
        ) {
            let day = if last_year { "9999-12-31" } else { "0001-01-01" };
            let (h, m, sec) = (day_second / 3600, day_second / 60 % 60, day_second % 60);
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let off = offset_minutes.unsigned_abs();
            let text = format!("{day}T{h:02}:{m:02}:{sec:02}{sign}{:02}:{:02}", off / 60, off % 60);
            if let Ok(t) = parse_time(&text) {
                let stored = format_time(t);
                let again = parse_time(&stored);
                proptest::prop_assert!(again.is_ok(), "{text} was stored as {stored}, which is refused");
                proptest::prop_assert_eq!(again.unwrap(), t);
                let date = parse_date(&text).unwrap();
                proptest::prop_assert_eq!(parse_date(&date).unwrap(), date);
            }
        }
    }
}
