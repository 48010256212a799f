//! The timeline's filter expressions.
//!
//! A filter is terms separated by spaces, all of which must hold:
//! - `field=value` (equal, ignoring case), `field!=value`, `field~text` (contains), `field!~text`;
//! - `time>=T`, `time>T`, `time<T`, `time<=T` with T an RFC 3339 time or a date (UTC);
//!   `time=2026-10-01` is that UTC day;
//! - a bare word: any text field contains it;
//! - `-term` negates a term; values with spaces go in double quotes (`summary~"export all"`).
//!
//! Fields: kind, user, ip, peer, session, tool, customer (one of the event's customers), summary,
//! table, blob, severity (0–2, also with `>=`), time, operation (the App Insights operation id).

use super::store::Event;

/// A field a term can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Event kind label.
    Kind,
    /// Identity.
    User,
    /// Caller or source address.
    Ip,
    /// Destination.
    Peer,
    /// Session.
    Session,
    /// Tool.
    Tool,
    /// One of the customers.
    Customer,
    /// Summary text.
    Summary,
    /// Case table.
    Table,
    /// Source blob.
    Blob,
    /// Severity 0–2.
    Severity,
    /// Event time.
    Time,
    /// App Insights operation id.
    Operation,
}

impl Field {
    /// Parses a field name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "kind" => Field::Kind,
            "user" | "identity" => Field::User,
            "ip" | "src" | "client" => Field::Ip,
            "peer" | "dst" | "dest" => Field::Peer,
            "session" => Field::Session,
            "tool" => Field::Tool,
            "customer" | "customers" => Field::Customer,
            "summary" | "text" => Field::Summary,
            "table" => Field::Table,
            "blob" => Field::Blob,
            "severity" | "sev" => Field::Severity,
            "time" => Field::Time,
            "operation" | "op" => Field::Operation,
            _ => return None,
        })
    }

    /// The field's name in filters.
    pub fn name(self) -> &'static str {
        match self {
            Field::Kind => "kind",
            Field::User => "user",
            Field::Ip => "ip",
            Field::Peer => "peer",
            Field::Session => "session",
            Field::Tool => "tool",
            Field::Customer => "customer",
            Field::Summary => "summary",
            Field::Table => "table",
            Field::Blob => "blob",
            Field::Severity => "severity",
            Field::Time => "time",
            Field::Operation => "operation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Contains,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// Any text field contains the (lower-cased) text.
    Any(String),
    /// A text field compared with a (lower-cased) value.
    Text(Field, Op, String),
    /// Time within [from, to) in nanoseconds.
    Time(i64, i64),
    /// Severity compared with a number.
    Severity(Op, u8),
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    test: Test,
}

/// A parsed filter: every term must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    terms: Vec<Term>,
    text: String,
}

fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err("unclosed double quote".into());
    }
    if started {
        out.push(current);
    }
    Ok(out)
}

fn parse_time_bound(text: &str) -> Result<(i64, i64), String> {
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if let Some(day) = day {
        let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        if let Some(start) = start.and_then(crate::time::to_nanos) {
            return Ok((start, start + 86_400_000_000_000));
        }
    }
    let t = crate::time::parse_timestamp(text)
        .and_then(crate::time::to_nanos)
        .ok_or_else(|| format!("{text:?} is not a time (RFC 3339 or YYYY-MM-DD)"))?;
    Ok((t, t))
}

fn parse_term(token: &str) -> Result<Term, String> {
    let (negated, body) = match token.strip_prefix('-') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, token),
    };
    let operators: [(&str, Op, bool); 8] = [
        ("!=", Op::Eq, true),
        ("!~", Op::Contains, true),
        (">=", Op::Ge, false),
        ("<=", Op::Le, false),
        ("=", Op::Eq, false),
        ("~", Op::Contains, false),
        (">", Op::Gt, false),
        ("<", Op::Lt, false),
    ];
    let found = operators
        .iter()
        .filter_map(|(symbol, op, negates)| {
            body.find(symbol).map(|at| (at, *symbol, *op, *negates))
        })
        .min_by_key(|(at, symbol, ..)| (*at, std::cmp::Reverse(symbol.len())));
    let Some((at, symbol, op, negates)) = found.filter(|(at, ..)| *at > 0) else {
        if body.is_empty() {
            return Err("empty term".into());
        }
        return Ok(Term {
            negated,
            test: Test::Any(body.to_lowercase()),
        });
    };
    let name = &body[..at];
    let value = &body[at + symbol.len()..];
    let field = Field::parse(name).ok_or_else(|| {
        format!("unknown field {name:?} (kind, user, ip, peer, session, tool, customer, summary, table, blob, severity, time, operation)")
    })?;
    let negated = negated ^ negates;
    let test = match field {
        Field::Time => {
            if op == Op::Contains {
                return Err("time takes =, >, >=, < or <=".into());
            }
            let (from, to) = parse_time_bound(value)?;
            let point_or_start = from;
            let point_or_end = if to == from { from } else { to };
            match op {
                Op::Eq => Test::Time(from, if to == from { from + 1 } else { to }),
                Op::Ge => Test::Time(point_or_start, i64::MAX),
                Op::Gt => Test::Time(point_or_end.saturating_add(i64::from(to == from)), i64::MAX),
                Op::Lt => Test::Time(i64::MIN, point_or_start),
                Op::Le => Test::Time(i64::MIN, point_or_end.saturating_add(i64::from(to == from))),
                Op::Contains => Test::Time(from, to),
            }
        }
        Field::Severity => {
            let level: u8 = value
                .parse()
                .ok()
                .filter(|l| *l <= 2)
                .ok_or_else(|| format!("severity {value:?} is not 0, 1 or 2"))?;
            if op == Op::Contains {
                return Err("severity takes =, >, >=, < or <=".into());
            }
            Test::Severity(op, level)
        }
        _ => {
            if !matches!(op, Op::Eq | Op::Contains) {
                return Err(format!("{} takes =, !=, ~ or !~", field.name()));
            }
            Test::Text(field, op, value.to_lowercase())
        }
    };
    Ok(Term { negated, test })
}

fn field_text<'e>(event: &'e Event<'_>, field: Field) -> Option<&'e str> {
    match field {
        Field::Kind => Some(event.kind.label()),
        Field::User => event.user,
        Field::Ip => event.ip,
        Field::Peer => event.peer,
        Field::Session => event.session,
        Field::Tool => event.tool,
        Field::Customer => event.customers,
        Field::Summary => Some(&event.summary),
        Field::Table => Some(event.source_table),
        Field::Blob => Some(&event.blob),
        Field::Operation => event.operation,
        Field::Severity | Field::Time => None,
    }
}

fn contains_ignoring_case(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() && needle_lower.is_ascii() {
        let needle = needle_lower.as_bytes();
        return needle.is_empty()
            || haystack
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack.to_lowercase().contains(needle_lower)
}

fn compare(op: Op, left: u8, right: u8) -> bool {
    match op {
        Op::Eq | Op::Contains => left == right,
        Op::Ge => left >= right,
        Op::Gt => left > right,
        Op::Le => left <= right,
        Op::Lt => left < right,
    }
}

impl Term {
    fn matches(&self, event: &Event<'_>) -> bool {
        let hit = match &self.test {
            Test::Any(text) => [
                Field::Summary,
                Field::User,
                Field::Ip,
                Field::Peer,
                Field::Session,
                Field::Tool,
                Field::Customer,
                Field::Kind,
            ]
            .into_iter()
            .filter_map(|f| field_text(event, f))
            .any(|value| contains_ignoring_case(value, text)),
            Test::Text(Field::Customer, Op::Eq, value) => event
                .customers
                .is_some_and(|c| c.split(',').any(|one| one.eq_ignore_ascii_case(value))),
            Test::Text(field, Op::Eq, value) => {
                field_text(event, *field).is_some_and(|v| v.eq_ignore_ascii_case(value))
            }
            Test::Text(field, _, value) => {
                field_text(event, *field).is_some_and(|v| contains_ignoring_case(v, value))
            }
            Test::Time(from, to) => event.time >= *from && event.time < *to,
            Test::Severity(op, level) => compare(*op, event.severity, *level),
        };
        hit != self.negated
    }
}

impl Filter {
    /// Parses a filter expression.
    pub fn parse(text: &str) -> Result<Self, String> {
        let terms = tokens(text)?
            .iter()
            .map(|t| parse_term(t))
            .collect::<Result<Vec<_>, _>>()?;
        if terms.is_empty() {
            return Err("empty filter".into());
        }
        Ok(Self {
            terms,
            text: text.trim().to_string(),
        })
    }

    /// A filter for one field's exact value (a pivot).
    pub fn equals(field: Field, value: &str) -> Self {
        let quoted = if value.contains(char::is_whitespace) {
            format!("\"{value}\"")
        } else {
            value.to_string()
        };
        Self {
            terms: vec![Term {
                negated: false,
                test: Test::Text(field, Op::Eq, value.to_lowercase()),
            }],
            text: format!("{}={quoted}", field.name()),
        }
    }

    /// Whether every term holds for the event.
    pub fn matches(&self, event: &Event<'_>) -> bool {
        self.terms.iter().all(|t| t.matches(event))
    }

    /// The expression as typed.
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;
    use crate::timeline::store::{EventStore, tests::chunk};

    fn store() -> EventStore {
        let mut store = EventStore::default();
        store.push(chunk(&[
            (
                1_790_000_000,
                "signin",
                Some("bob.keller@contoso.example"),
                "10.0.0.5",
                "sign-in to MCP succeeded",
            ),
            (
                1_790_003_600,
                "tool",
                Some("bob.keller@contoso.example"),
                "45.86.202.14",
                "get_customer {\"customer_id\":\"C-1\"}",
            ),
            (
                1_790_090_000,
                "tool",
                Some("carla.diaz@contoso.example"),
                "10.0.0.9",
                "list_orders FAILED",
            ),
            (
                1_790_100_000,
                "flow",
                None,
                "10.1.0.4",
                "10.1.0.4:443 → 91.215.85.30:443 T O A",
            ),
        ]));
        store
    }

    fn hits(expression: &str) -> Vec<usize> {
        let filter = Filter::parse(expression).unwrap();
        let store = store();
        (0..store.len())
            .filter(|&i| filter.matches(&store.get(i).unwrap()))
            .collect()
    }

    #[test]
    fn field_tests_and_bare_words() {
        assert_eq!(hits("kind=tool"), vec![1, 2]);
        assert_eq!(hits("kind!=tool"), vec![0, 3]);
        assert_eq!(hits("-kind=tool"), vec![0, 3]);
        assert_eq!(hits("user~BOB"), vec![0, 1]);
        assert_eq!(hits("user=bob"), Vec::<usize>::new());
        assert_eq!(hits("91.215.85.30"), vec![3]);
        assert_eq!(hits("ip=45.86.202.14 tool=get_customer"), vec![1]);
        assert_eq!(hits("customer=c-1002"), vec![1]);
        assert_eq!(hits("severity>=1"), vec![2]);
        assert_eq!(hits("summary~\"to MCP\""), vec![0]);
        assert_eq!(hits("user!~carla -kind=flow"), vec![0, 1]);
    }

    #[test]
    fn time_terms() {
        // 1_790_000_000 is 2026-09-21T14:13:20Z.
        assert_eq!(hits("time=2026-09-21"), vec![0, 1]);
        assert_eq!(hits("time>=2026-09-22"), vec![2, 3]);
        assert_eq!(hits("time<2026-09-21T15:00:00Z"), vec![0]);
        assert_eq!(hits("time>2026-09-21T14:13:20Z"), vec![1, 2, 3]);
        assert_eq!(hits("time<=2026-09-21T14:13:20Z"), vec![0]);
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(Filter::parse("").unwrap_err().contains("empty"));
        assert!(
            Filter::parse("colour=red")
                .unwrap_err()
                .contains("unknown field \"colour\"")
        );
        assert!(Filter::parse("time~x").unwrap_err().contains("time takes"));
        assert!(
            Filter::parse("time>=yesterday")
                .unwrap_err()
                .contains("not a time")
        );
        assert!(
            Filter::parse("severity=9")
                .unwrap_err()
                .contains("not 0, 1 or 2")
        );
        assert!(
            Filter::parse("user>bob")
                .unwrap_err()
                .contains("user takes")
        );
        assert!(
            Filter::parse("summary~\"open")
                .unwrap_err()
                .contains("quote")
        );
    }

    #[test]
    fn pivots_match_exactly_and_read_back() {
        let filter = Filter::equals(Field::Ip, "45.86.202.14");
        assert_eq!(filter.text(), "ip=45.86.202.14");
        let store = store();
        let matched: Vec<usize> = (0..store.len())
            .filter(|&i| filter.matches(&store.get(i).unwrap()))
            .collect();
        assert_eq!(matched, vec![1]);
        assert_eq!(
            Filter::equals(Field::Summary, "a b").text(),
            "summary=\"a b\""
        );
    }
}
