//! The timeline's filter expressions.
//!
//! A filter is terms combined with `AND` (also written as a space), `OR`, `NOT` (also `-term`) and
//! parentheses; `AND` binds tighter than `OR` (`kind=tool AND (ip=1.2.3.4 OR NOT user~svc)`).
//! Keywords are case-insensitive; a quoted word is never a keyword. Terms:
//! - `field=value` (equal, ignoring case), `field!=value`;
//! - `field~regex` (a regular expression, ignoring case, anywhere in the value: plain text finds
//!   itself), `field!~regex`;
//! - `ip in 45.86.202.0/24`, `peer in 2001:db8::/32` (CIDR; an address with a port is read without
//!   it);
//! - `time>=T`, `time>T`, `time<T`, `time<=T` with T an RFC 3339 time or a date (UTC);
//!   `time=2026-10-01` is that UTC day;
//! - a bare word: any text field contains it;
//! - values with spaces or parentheses go in double quotes (`summary~"export all"`).
//!
//! Fields: kind, user, ip, peer, session, tool, customer (one of the event's customers), summary,
//! table, blob, severity (0–2, also with `>=`), time, operation (the App Insights operation id).
//! A filter that cannot be read says why and where; it never quietly matches nothing.

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

#[derive(Debug, Clone)]
enum Test {
    /// Any text field contains the (lower-cased) text.
    Any(String),
    /// A text field equal to a (lower-cased) value.
    Equals(Field, String),
    /// A text field matched by a regular expression (case-insensitive).
    Regex(Field, regex::Regex),
    /// An address field inside a network.
    Network(Field, Network),
    /// Time within [from, to) in nanoseconds.
    Time(i64, i64),
    /// Severity compared with a number.
    Severity(Op, u8),
}

/// A CIDR network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    address: std::net::IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
        let address: std::net::IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not a network (CIDR such as 45.86.202.0/24)"))?;
        let most = if address.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            most
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(|| format!("{text:?}: the prefix length is 0 to {most}"))?
        };
        Ok(Self { address, prefix })
    }

    fn contains(self, value: &str) -> bool {
        let Some(address) = address_of(value) else {
            return false;
        };
        let bits = |a: std::net::IpAddr| match a {
            std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
            std::net::IpAddr::V6(v6) => (u128::from(v6), 128u32),
        };
        // An IPv4-mapped IPv6 address is the IPv4 address.
        let canonical = |a: std::net::IpAddr| match a {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, std::net::IpAddr::V4),
            v4 => v4,
        };
        let (net, width) = bits(canonical(self.address));
        let (value, value_width) = bits(canonical(address));
        if width != value_width {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= width || (net >> shift) == (value >> shift)
    }
}

/// The address in a field's value: `1.2.3.4`, `1.2.3.4:443`, `[2001:db8::1]:443` or `2001:db8::1`.
fn address_of(value: &str) -> Option<std::net::IpAddr> {
    let value = value.trim();
    if let Ok(address) = value.parse() {
        return Some(address);
    }
    if let Ok(socket) = value.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    value
        .rsplit_once(':')
        .and_then(|(host, _)| host.parse().ok())
}

/// A filter expression.
#[derive(Debug, Clone)]
enum Expr {
    Term { negated: bool, test: Test },
    Not(Box<Expr>),
    All(Vec<Expr>),
    Any(Vec<Expr>),
}

/// A parsed filter.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
    text: String,
}

/// Two filters are the same when they read the same (a pivot's and the one typed for it too).
impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A token of the expression: a word and whether it was quoted (a quoted word is never a
/// keyword or a parenthesis).
#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    quoted: bool,
}

impl Token {
    fn is(&self, keyword: &str) -> bool {
        !self.quoted && self.text.eq_ignore_ascii_case(keyword)
    }
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut started, mut had_quote) = (false, false, false);
    for c in text.chars() {
        match c {
            '"' => {
                // A word that opens with a quote is a literal word; a quote later in a word
                // only groups its value (`summary~"export all"`).
                if !started {
                    had_quote = true;
                }
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push((std::mem::take(&mut current), had_quote));
                    (started, had_quote) = (false, false);
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
        words.push((current, had_quote));
    }
    // Parentheses open a word or close it (more `)` than `(` in it); elsewhere they are the
    // value's own (`tool~(get|list)_customer`).
    let mut out = Vec::new();
    for (word, had_quote) in words {
        if had_quote {
            out.push(Token {
                text: word,
                quoted: true,
            });
            continue;
        }
        let body = word.trim_start_matches('(');
        for _ in 0..word.len() - body.len() {
            out.push(Token {
                text: "(".into(),
                quoted: false,
            });
        }
        let mut body = body.to_string();
        let mut closing = 0;
        while body.ends_with(')') && body.matches(')').count() > body.matches('(').count() {
            body.pop();
            closing += 1;
        }
        if !body.is_empty() {
            out.push(Token {
                text: body,
                quoted: false,
            });
        }
        for _ in 0..closing {
            out.push(Token {
                text: ")".into(),
                quoted: false,
            });
        }
    }
    Ok(out)
}

/// The recursive-descent reader of a token list.
struct Reader<'t> {
    tokens: &'t [Token],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    /// `or := and (OR and)*`
    fn or(&mut self) -> Result<Expr, String> {
        let mut any = vec![self.and()?];
        while self.peek().is_some_and(|t| t.is("or")) {
            self.at += 1;
            if self.peek().is_none_or(|t| t.is(")")) {
                return Err("OR needs a term after it".into());
            }
            any.push(self.and()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Expr::Any(any)
        })
    }

    /// `and := unary ((AND)? unary)*`
    fn and(&mut self) -> Result<Expr, String> {
        let mut all = vec![self.unary()?];
        loop {
            match self.peek() {
                None => break,
                Some(t) if t.is(")") || t.is("or") => break,
                Some(t) if t.is("and") => {
                    self.at += 1;
                    if self.peek().is_none_or(|t| t.is(")") || t.is("or")) {
                        return Err("AND needs a term after it".into());
                    }
                }
                Some(_) => {}
            }
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::All(all)
        })
    }

    /// `unary := NOT unary | ( or ) | term`
    fn unary(&mut self) -> Result<Expr, String> {
        let Some(token) = self.next().cloned() else {
            return Err("the filter ends where a term was expected".into());
        };
        if token.is("not") {
            if self.peek().is_none_or(|t| t.is(")")) {
                return Err("NOT needs a term after it".into());
            }
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if token.is("(") {
            let inner = self.or()?;
            return match self.next() {
                Some(t) if t.is(")") => Ok(inner),
                _ => Err("a parenthesis is not closed".into()),
            };
        }
        if token.is(")") {
            return Err("a closing parenthesis without its opening one".into());
        }
        if token.is("and") || token.is("or") {
            return Err(format!(
                "{} needs a term before it",
                token.text.to_uppercase()
            ));
        }
        // `field in CIDR`
        if !token.quoted
            && self.peek().is_some_and(|t| t.is("in"))
            && let Some(field) = Field::parse(&token.text)
        {
            self.at += 1;
            let Some(network) = self.next() else {
                return Err(format!("{} in needs a network (CIDR)", field.name()));
            };
            if !matches!(field, Field::Ip | Field::Peer) {
                return Err(format!(
                    "`in` takes an address field (ip, peer), not {}",
                    field.name()
                ));
            }
            return Ok(Expr::Term {
                negated: false,
                test: Test::Network(field, Network::parse(&network.text)?),
            });
        }
        if token.quoted {
            return Ok(Expr::Term {
                negated: false,
                test: Test::Any(token.text.to_lowercase()),
            });
        }
        parse_term(&token.text)
    }
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

fn parse_term(token: &str) -> Result<Expr, String> {
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
        return Ok(Expr::Term {
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
        _ => match op {
            Op::Eq => Test::Equals(field, value.to_lowercase()),
            Op::Contains => Test::Regex(
                field,
                regex::RegexBuilder::new(value)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        format!(
                            "{}~{value}: not a regular expression ({}); quote plain text or escape it with \\",
                            field.name(),
                            e.to_string().lines().last().unwrap_or_default().trim()
                        )
                    })?,
            ),
            _ => return Err(format!("{} takes =, !=, ~, !~ or in", field.name())),
        },
    };
    Ok(Expr::Term { negated, test })
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

impl Expr {
    fn matches(&self, event: &Event<'_>) -> bool {
        match self {
            Expr::Term { negated, test } => test.matches(event) != *negated,
            Expr::Not(inner) => !inner.matches(event),
            Expr::All(all) => all.iter().all(|e| e.matches(event)),
            Expr::Any(any) => any.iter().any(|e| e.matches(event)),
        }
    }
}

impl Test {
    fn matches(&self, event: &Event<'_>) -> bool {
        match self {
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
            Test::Equals(Field::Customer, value) => event
                .customers
                .is_some_and(|c| c.split(',').any(|one| one.eq_ignore_ascii_case(value))),
            Test::Equals(field, value) => {
                field_text(event, *field).is_some_and(|v| v.eq_ignore_ascii_case(value))
            }
            Test::Regex(field, regex) => {
                field_text(event, *field).is_some_and(|v| regex.is_match(v))
            }
            Test::Network(field, network) => {
                field_text(event, *field).is_some_and(|v| network.contains(v))
            }
            Test::Time(from, to) => event.time >= *from && event.time < *to,
            Test::Severity(op, level) => compare(*op, event.severity, *level),
        }
    }
}

impl Filter {
    /// Parses a filter expression; a mistake is explained.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = tokens(text)?;
        if tokens.is_empty() {
            return Err("empty filter".into());
        }
        let mut reader = Reader {
            tokens: &tokens,
            at: 0,
        };
        let expr = reader.or()?;
        if let Some(extra) = reader.peek() {
            return Err(if extra.is(")") {
                "a closing parenthesis without its opening one".into()
            } else {
                format!("unexpected {:?}", extra.text)
            });
        }
        Ok(Self {
            expr,
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
            expr: Expr::Term {
                negated: false,
                test: Test::Equals(field, value.to_lowercase()),
            },
            text: format!("{}={quoted}", field.name()),
        }
    }

    /// Whether the event passes the filter.
    pub fn matches(&self, event: &Event<'_>) -> bool {
        self.expr.matches(event)
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
    fn boolean_operators_parentheses_regex_and_networks() {
        assert_eq!(hits("kind=signin OR kind=flow"), vec![0, 3]);
        assert_eq!(hits("kind=tool AND user~bob"), vec![1]);
        assert_eq!(hits("kind=tool user~bob"), vec![1], "a space is AND");
        assert_eq!(hits("NOT kind=tool"), vec![0, 3]);
        assert_eq!(hits("not (kind=tool or kind=flow)"), vec![0]);
        // AND binds tighter than OR.
        assert_eq!(hits("kind=flow OR kind=tool AND user~carla"), vec![2, 3]);
        assert_eq!(hits("(kind=flow OR kind=tool) AND ip~^10\\."), vec![2, 3]);
        assert_eq!(hits("tool~^(get|list)_"), vec![1, 2]);
        assert_eq!(
            hits("summary~(failed)"),
            vec![2],
            "a value's own parentheses"
        );
        assert_eq!(hits("user!~^bob"), vec![2, 3], "no user is not bob");
        assert_eq!(hits("ip in 45.86.202.0/24"), vec![1]);
        assert_eq!(hits("ip in 10.0.0.0/8 AND NOT kind=flow"), vec![0, 2]);
        assert_eq!(hits("ip in 10.0.0.5"), vec![0], "an address is its own /32");
        assert_eq!(
            hits("\"or\""),
            vec![2],
            "a quoted keyword is a word (list_orders)"
        );
    }

    #[test]
    fn networks_read_ports_and_both_families() {
        let net = Network::parse("45.86.202.0/24").unwrap();
        assert!(net.contains("45.86.202.14") && net.contains("45.86.202.14:443"));
        assert!(!net.contains("45.86.203.1") && !net.contains("not an address"));
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1") && v6.contains("[2001:db8::1]:443"));
        assert!(!v6.contains("45.86.202.14"));
        assert!(Network::parse("::ffff:45.86.202.0/120").is_ok());
        assert!(Network::parse("0.0.0.0/0").unwrap().contains("8.8.8.8"));
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
    fn mistakes_in_the_expression_are_explained() {
        let error = |text: &str| Filter::parse(text).unwrap_err();
        assert!(error("(kind=tool").contains("not closed"));
        assert!(error("kind=tool)").contains("without its opening"));
        assert!(error("kind=tool OR").contains("OR needs a term after"));
        assert!(error("AND kind=tool").contains("AND needs a term before"));
        assert!(error("NOT").contains("NOT needs a term"));
        assert!(error("ip in 45.86.202.0/33").contains("prefix length"));
        assert!(error("ip in nowhere").contains("not a network"));
        assert!(error("user in 10.0.0.0/8").contains("address field"));
        assert!(error("tool~get_customer(").contains("not a regular expression"));
        assert!(error("user>bob").contains("user takes"));
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
