//! Timestamps as they appear in Azure exports, and the `--since/--until` grammar.
//!
//! Evidence times come in many spellings: ISO 8601 with 0–7 fractional digits and `Z` or an
//! offset, the same without a zone (taken as UTC), and Unix epochs in seconds or milliseconds
//! (flow tuples). Everything is normalised to nanoseconds since the epoch, UTC.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

/// Parses an evidence timestamp string into UTC. Returns `None` when it is not a time.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok().and_then(epoch_to_utc);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    // A space instead of `T`, or a zone-less time: both read as UTC.
    let normalised = text.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&normalised) {
        return Some(t.with_timezone(&Utc));
    }
    let zoneless = normalised.trim_end_matches('Z');
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(zoneless, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    us_timestamp(text)
}

/// US-style times as some exporters and portals write them: `4/14/2025 11:35:37 AM`,
/// `05/28/2025 01:15:14`, optionally with fractions and a trailing offset (`+02:00`, `Z`); month
/// first. Without an offset the time is UTC.
fn us_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if !text.as_bytes().first().is_some_and(u8::is_ascii_digit) || !text.contains('/') {
        return None;
    }
    let with_offset = [
        "%m/%d/%Y %I:%M:%S%.f %p %:z",
        "%m/%d/%Y %H:%M:%S%.f %:z",
        "%m/%d/%Y %I:%M:%S%.f %p%:z",
        "%m/%d/%Y %H:%M:%S%.f%:z",
    ];
    for format in with_offset {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let zoneless = text.trim_end_matches('Z').trim_end();
    for format in [
        "%m/%d/%Y %I:%M:%S%.f %p",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(zoneless, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    None
}

/// Converts a Unix epoch in seconds or milliseconds (told apart by magnitude) to UTC.
pub fn epoch_to_utc(value: i64) -> Option<DateTime<Utc>> {
    // 10^11 seconds is the year 5138; anything larger is milliseconds.
    if value.abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(value)
    } else {
        DateTime::from_timestamp(value, 0)
    }
}

/// Nanoseconds since the epoch, or `None` outside the range Arrow nanosecond timestamps hold.
pub fn to_nanos(t: DateTime<Utc>) -> Option<i64> {
    t.timestamp_nanos_opt()
}

/// Back from nanoseconds to a UTC time.
pub fn from_nanos(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// RFC 3339 with the precision the evidence has (up to 7 digits, trailing zeros dropped), `Z`.
pub fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A zone to show times in (`--tz`): UTC, this machine's zone, a fixed offset, or an IANA zone
/// (`Europe/Berlin`) whose offset is that of each instant's own date, daylight saving included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// UTC.
    Utc,
    /// The machine's zone (the `TZ` variable or `/etc/localtime`), with its rules.
    Local,
    /// A fixed offset such as `+02:00`.
    Fixed(chrono::FixedOffset),
    /// An IANA zone from the bundled time-zone database.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses `UTC`, `local`, an offset (`+02:00`, `-0530`) or an IANA name (any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return Ok(Zone::Utc);
        }
        if text.eq_ignore_ascii_case("local") {
            return Ok(Zone::Local);
        }
        if text.starts_with(['+', '-']) {
            let parsed =
                chrono::DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{text}"))
                    .or_else(|_| {
                        chrono::DateTime::parse_from_str(
                            &format!("2000-01-01T00:00:00{text}"),
                            "%Y-%m-%dT%H:%M:%S%z",
                        )
                    });
            return parsed
                .map(|t| Zone::Fixed(*t.offset()))
                .map_err(|_| format!("{text:?} is not an offset such as +02:00"));
        }
        chrono_tz::Tz::from_str_insensitive(text)
            .map(Zone::Named)
            .map_err(|_| {
                format!(
                    "{text:?} is not a time zone: give an IANA name such as Europe/Berlin or \
                     America/New_York, an offset such as +02:00, local or UTC"
                )
            })
    }

    /// The zone's offset at an instant.
    pub fn offset_at(self, t: DateTime<Utc>) -> chrono::FixedOffset {
        use chrono::Offset;
        match self {
            Zone::Utc => Utc.fix(),
            Zone::Local => chrono::Local.offset_from_utc_datetime(&t.naive_utc()).fix(),
            Zone::Fixed(offset) => offset,
            Zone::Named(tz) => tz.offset_from_utc_datetime(&t.naive_utc()).fix(),
        }
    }

    /// An instant in this zone, formatted with chrono's `format` (`%:z` gives the offset of
    /// that instant).
    pub fn format(self, t: DateTime<Utc>, format: &str) -> String {
        t.with_timezone(&self.offset_at(t))
            .format(format)
            .to_string()
    }

    /// The zone as given back to the user: `UTC`, `local`, `+02:00` or the IANA name.
    pub fn label(self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Local => "local".into(),
            Zone::Fixed(offset) => offset.to_string(),
            Zone::Named(tz) => tz.name().into(),
        }
    }
}

/// A `--since`/`--until` value: an absolute time, or a span back from the end of the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// An RFC 3339 time or a date (UTC midnight).
    At(DateTime<Utc>),
    /// A span such as `72h` or `30d`, counted back from the end of the evidence.
    Ago(Duration),
    /// `auto`: no guess. As a start, the breach's start found from the evidence itself (`scope`
    /// begins after a baseline of the evidence's earliest days: [`auto_since`]); as an end, the
    /// end of the evidence.
    Auto,
}

/// Where `--since auto` begins before the window widens to the breach's first evidence: after
/// the evidence's first `baseline_days` days, or its first third when it holds less than three
/// times that, so that a baseline and a window exist.
pub fn auto_since(start: DateTime<Utc>, end: DateTime<Utc>, baseline_days: u32) -> DateTime<Utc> {
    let span = end.signed_duration_since(start);
    let baseline = Duration::days(i64::from(baseline_days));
    let lead = if span >= baseline * 3 {
        baseline
    } else {
        span / 3
    };
    let since = start + lead;
    // A whole hour, as a responder would write it.
    since
        .date_naive()
        .and_hms_opt(since.hour(), 0, 0)
        .map_or(since, |t| t.and_utc())
}

impl TimeSpec {
    /// Resolves the spec against the end of the evidence.
    pub fn resolve(self, evidence_end: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimeSpec::At(t) => t,
            TimeSpec::Ago(span) => evidence_end
                .checked_sub_signed(span)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            TimeSpec::Auto => evidence_end,
        }
    }
}

/// `--since`/`--until` as asked for, before the end of the evidence is known: the one place a
/// window is resolved, for `scope`, `export`, `queries run`, `timeline` and `ingest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowSpec {
    /// Start, when given.
    pub since: Option<TimeSpec>,
    /// End (exclusive), when given.
    pub until: Option<TimeSpec>,
}

/// A resolved window: `[since, until)`, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start, inclusive.
    pub since: DateTime<Utc>,
    /// End, exclusive.
    pub until: DateTime<Utc>,
}

/// A window that holds no time.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("--since {} is not before the end of the window {}", format_utc(*since), format_utc(*until))]
pub struct EmptyWindow {
    /// The resolved start.
    pub since: DateTime<Utc>,
    /// The resolved end.
    pub until: DateTime<Utc>,
}

impl WindowSpec {
    /// Resolves against the evidence: spans count back from `end`; a missing start is `start`,
    /// a missing end is `end`.
    pub fn resolve(self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Window, EmptyWindow> {
        self.resolve_open_end(start, end, end)
    }

    /// [`resolve`](Self::resolve), with `open_end` where no end is given (a span still counts
    /// back from `end`).
    pub fn resolve_open_end(
        self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        open_end: DateTime<Utc>,
    ) -> Result<Window, EmptyWindow> {
        let since = match self.since {
            None | Some(TimeSpec::Auto) => start,
            Some(s) => s.resolve(end),
        };
        let until = self.until.map_or(open_end, |u| u.resolve(end));
        if since >= until {
            return Err(EmptyWindow { since, until });
        }
        Ok(Window { since, until })
    }

    /// The bounds given, resolved against `end`, open where not given (ingest prunes by them).
    pub fn bounds(self, end: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (
            self.since.map(|s| s.resolve(end)),
            self.until.map(|u| u.resolve(end)),
        )
    }

    /// Refuses a window that is empty whatever the end of the evidence: both bounds absolute
    /// and the start not before the end (checked before any evidence is read; a span is decided
    /// once the end of the evidence is known).
    pub fn check(self) -> Result<(), EmptyWindow> {
        match (self.since, self.until) {
            (Some(TimeSpec::At(since)), Some(TimeSpec::At(until))) if since >= until => {
                Err(EmptyWindow { since, until })
            }
            _ => Ok(()),
        }
    }
}

/// Whether a time as written on the command line names an instant only by reading it as UTC: a
/// date, or a time without `Z` or an offset. Spans, `auto` and epoch seconds name their instant.
pub fn written_without_zone(text: &str) -> bool {
    let text = text.trim();
    match parse_time_spec(text) {
        Ok(TimeSpec::At(_)) => {
            let normalised = text.replacen(' ', "T", 1);
            let zoned = text.bytes().all(|b| b.is_ascii_digit())
                || DateTime::parse_from_rfc3339(&normalised).is_ok()
                || text.ends_with(['Z', 'z'])
                || has_trailing_offset(text);
            !zoned
        }
        _ => false,
    }
}

/// Whether `text` ends with an offset such as `+02:00` or `-0500`.
fn has_trailing_offset(text: &str) -> bool {
    let tail: Vec<u8> = text.bytes().rev().take(6).collect();
    let digits = |bytes: &[u8]| bytes.iter().all(u8::is_ascii_digit);
    // `+02:00` reversed is `00:20+`; `+0200` reversed is `0020+`.
    matches!(tail.as_slice(), [a, b, b':', c, d, b'+' | b'-'] if digits(&[*a, *b, *c, *d]))
        || matches!(tail.get(..5), Some([a, b, c, d, b'+' | b'-']) if digits(&[*a, *b, *c, *d]))
}

/// The longest span `--since 30d` accepts, in days (a century).
pub const MAX_SPAN_DAYS: i64 = 36_525;

/// Parses RFC 3339, `YYYY-MM-DD` (UTC midnight) or a span `<n>{s,m,h,d,w}`.
pub fn parse_time_spec(text: &str) -> Result<TimeSpec, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("auto") {
        return Ok(TimeSpec::Auto);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
        return midnight
            .map(TimeSpec::At)
            .ok_or_else(|| format!("invalid date '{text}'"));
    }
    if let Some(unit) = text.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let number = &text[..text.len() - 1];
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = number
                .parse()
                .map_err(|_| format!("span too large: '{text}'"))?;
            let span = match unit {
                's' => Duration::try_seconds(n),
                'm' => Duration::try_minutes(n),
                'h' => Duration::try_hours(n),
                'd' => Duration::try_days(n),
                'w' => Duration::try_weeks(n),
                _ => None,
            };
            // Evidence is not older than a century; a larger span is a typo.
            return match span {
                Some(span) if span <= Duration::days(MAX_SPAN_DAYS) => Ok(TimeSpec::Ago(span)),
                Some(_) => Err(format!(
                    "span too large: '{text}' (at most {MAX_SPAN_DAYS} days)"
                )),
                None => Err(format!(
                    "invalid span '{text}': use a number and s, m, h, d or w"
                )),
            };
        }
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{text}' is ambiguous: write a date (2026-10-01), an RFC 3339 time or a span (72h, 30d)"
        ));
    }
    parse_timestamp(text).map(TimeSpec::At).ok_or_else(|| {
        format!("cannot read '{text}' as a time: use RFC 3339 (2026-10-01T00:00:00Z), a date (2026-10-01) or a span (72h, 30d)")
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_dates_and_times_without_a_zone_are_read_as_utc() {
        for text in [
            "2026-10-01",
            "2026-10-01T08:00:00",
            "2026-10-01 08:00",
            "10/01/2026 08:00:00",
        ] {
            assert!(written_without_zone(text), "{text}");
        }
        for text in [
            "2026-10-01T08:00:00Z",
            "2026-10-01T08:00:00+02:00",
            "2026-10-01 08:00:00-0500",
            "72h",
            "auto",
            "1790000000",
            "nonsense",
        ] {
            assert!(!written_without_zone(text), "{text}");
        }
    }

    #[test]
    fn windows_resolve_against_the_end_of_the_evidence_and_are_never_empty() {
        use super::*;
        let at = |text: &str| parse_timestamp(text).expect("time");
        let (start, end) = (at("2026-09-01T00:00:00Z"), at("2026-10-01T00:00:00Z"));
        let spec = |since: &str, until: Option<&str>| WindowSpec {
            since: Some(parse_time_spec(since).expect("since")),
            until: until.map(|u| parse_time_spec(u).expect("until")),
        };
        assert_eq!(
            spec("72h", None).resolve(start, end),
            Ok(Window {
                since: at("2026-09-28T00:00:00Z"),
                until: end
            })
        );
        assert_eq!(
            WindowSpec::default().resolve(start, end),
            Ok(Window {
                since: start,
                until: end
            })
        );
        // A span counts back from the end of the evidence, whatever the open end.
        let open = at("2026-10-01T00:00:00.000000001Z");
        assert_eq!(
            spec("1d", None).resolve_open_end(start, end, open),
            Ok(Window {
                since: at("2026-09-30T00:00:00Z"),
                until: open
            })
        );
        let empty = spec("2026-10-02", Some("2026-10-01")).resolve(start, end);
        assert_eq!(
            empty.map_err(|e| e.to_string()),
            Err("--since 2026-10-02T00:00:00Z is not before the end of the window 2026-10-01T00:00:00Z".into())
        );
        assert!(spec("2026-10-02", Some("2026-10-01")).check().is_err());
        assert!(
            spec("3d", Some("2026-10-01")).check().is_ok(),
            "decided against the evidence"
        );
        assert_eq!(
            spec("1d", None).bounds(end),
            (Some(at("2026-09-30T00:00:00Z")), None)
        );
    }

    #[test]
    fn us_style_timestamps_are_read_month_first() {
        let at = |text: &str| parse_timestamp(text).map(|t| t.to_rfc3339());
        assert_eq!(
            at("4/14/2025 11:35:37 AM").as_deref(),
            Some("2025-04-14T11:35:37+00:00")
        );
        assert_eq!(
            at("4/14/2025 1:05:07 PM").as_deref(),
            Some("2025-04-14T13:05:07+00:00")
        );
        assert_eq!(
            at("05/28/2025 01:15:14").as_deref(),
            Some("2025-05-28T01:15:14+00:00")
        );
        assert_eq!(
            at("05/28/2025 01:15:14 +02:00").as_deref(),
            Some("2025-05-27T23:15:14+00:00")
        );
        assert_eq!(
            at("12/31/2025 11:59:59.5 PM").as_deref(),
            Some("2025-12-31T23:59:59.500+00:00")
        );
        assert_eq!(
            at("13/01/2025 01:00:00"),
            None,
            "no month 13: day-first is not guessed"
        );
    }

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        parse_timestamp(text).expect("valid time")
    }

    #[test]
    fn reads_every_evidence_spelling() {
        let base = utc("2026-10-01T12:00:00Z");
        assert_eq!(utc("2026-10-01T12:00:00.0000000Z"), base);
        assert_eq!(utc("2026-10-01T14:00:00+02:00"), base);
        assert_eq!(utc("2026-10-01T12:00:00"), base);
        assert_eq!(utc("2026-10-01 12:00:00"), base);
        assert_eq!(utc("1790856000"), base);
        assert_eq!(utc("1790856000000"), base);
        let fine = utc("2019-03-12T16:02:15.5522137Z");
        assert_eq!(fine.timestamp_subsec_nanos(), 552_213_700);
        assert_eq!(format_utc(fine), "2019-03-12T16:02:15.552213700Z");
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("").is_none());
        assert!(parse_timestamp("2026-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn since_grammar() {
        let end = utc("2026-10-31T00:00:00Z");
        // Found by the time_and_since fuzzer: a huge span used to overflow (panic) when resolved.
        assert!(
            parse_time_spec("20212323566h")
                .unwrap_err()
                .contains("span too large")
        );
        assert_eq!(
            parse_time_spec("36525d").map(|s| s.resolve(end)),
            Ok(end - Duration::days(36_525))
        );
        assert!(parse_time_spec("36526d").is_err());
        assert_eq!(
            parse_time_spec("2026-10-01").map(|s| s.resolve(end)),
            Ok(utc("2026-10-01T00:00:00Z"))
        );
        assert_eq!(
            parse_time_spec("72h").map(|s| s.resolve(end)),
            Ok(utc("2026-10-28T00:00:00Z"))
        );
        assert_eq!(
            parse_time_spec("30d").map(|s| s.resolve(end)),
            Ok(utc("2026-10-01T00:00:00Z"))
        );
        assert_eq!(
            parse_time_spec("2026-10-01T06:30:00+01:00").map(|s| s.resolve(end)),
            Ok(utc("2026-10-01T05:30:00Z"))
        );
        assert!(parse_time_spec("30x").is_err());
        assert!(parse_time_spec("20261001").is_err());
        assert!(parse_time_spec("soon").is_err());
        assert!(parse_time_spec("99999999999999999999d").is_err());
    }

    #[test]
    fn a_named_zone_follows_daylight_saving_by_each_instants_date() {
        let berlin = Zone::parse("europe/berlin").unwrap();
        assert_eq!(berlin.label(), "Europe/Berlin");
        let summer = parse_timestamp("2026-07-01T12:00:00Z").unwrap();
        let winter = parse_timestamp("2026-12-01T12:00:00Z").unwrap();
        let fmt = "%Y-%m-%d %H:%M %:z";
        assert_eq!(berlin.format(summer, fmt), "2026-07-01 14:00 +02:00");
        assert_eq!(berlin.format(winter, fmt), "2026-12-01 13:00 +01:00");
        // The night the clocks go back: 00:30 and 01:30 UTC are both 02:xx local, an hour apart.
        let before = parse_timestamp("2026-10-25T00:30:00Z").unwrap();
        let after = parse_timestamp("2026-10-25T01:30:00Z").unwrap();
        assert_eq!(berlin.format(before, fmt), "2026-10-25 02:30 +02:00");
        assert_eq!(berlin.format(after, fmt), "2026-10-25 02:30 +01:00");
        let new_york = Zone::parse("America/New_York").unwrap();
        assert_eq!(new_york.format(summer, fmt), "2026-07-01 08:00 -04:00");
    }

    #[test]
    fn offsets_utc_and_mistakes() {
        let t = parse_timestamp("2026-07-01T12:00:00Z").unwrap();
        assert_eq!(
            Zone::parse("+05:30").unwrap().format(t, "%H:%M %:z"),
            "17:30 +05:30"
        );
        assert_eq!(
            Zone::parse("-0800").unwrap().format(t, "%H:%M %:z"),
            "04:00 -08:00"
        );
        assert_eq!(Zone::parse("utc").unwrap(), Zone::Utc);
        assert_eq!(
            Zone::parse("Z").unwrap().format(t, "%H:%M %:z"),
            "12:00 +00:00"
        );
        let error = Zone::parse("Mars/Olympus").unwrap_err();
        assert!(error.contains("IANA name such as Europe/Berlin"), "{error}");
        assert!(Zone::parse("+25:00").is_err());
    }
}
