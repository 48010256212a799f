//! One pass over a record's bytes that checks it is plain JSON and finds its top-level members,
//! without building a tree.
//!
//! The common record of a Log Analytics export (an object of a few dozen members, no repeated
//! key) is read from here straight into its columns, every member kept as its original bytes.
//! Anything this scanner does not fully understand is not "plain", and the record takes the
//! general path ([`super::strict_json`]), which gives the exact reason for a reject or keeps a
//! repeated key beside the first. So the scanner may refuse freely: refusing costs speed, never
//! a different result.

/// What a member's value is, from its first byte (the value's bytes are in [`Member::raw`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A string; `escaped` when it holds a backslash escape (its text then needs unescaping).
    String {
        /// Whether the string holds an escape.
        escaped: bool,
    },
    /// A number; `integer` when written without fraction or exponent.
    Number {
        /// Whether the literal is an integer.
        integer: bool,
    },
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
    /// An object.
    Object,
    /// An array.
    Array,
}

/// One top-level member of a record, as byte ranges of the record (so a buffer of members can
/// be reused from record to record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    key: (u32, u32),
    raw: (u32, u32),
    /// What the value is.
    pub kind: ValueKind,
}

impl Member {
    /// The key (never escaped: a key with an escape makes the record not plain).
    pub fn key<'t>(&self, record: &'t str) -> &'t str {
        &record[self.key.0 as usize..self.key.1 as usize]
    }

    /// The value's bytes exactly as written (strings with their quotes).
    pub fn raw<'t>(&self, record: &'t str) -> &'t str {
        &record[self.raw.0 as usize..self.raw.1 as usize]
    }

    /// The text of a string value without quotes, when it holds no escape.
    pub fn plain_str<'t>(&self, record: &'t str) -> Option<&'t str> {
        match self.kind {
            ValueKind::String { escaped: false } => {
                Some(&record[self.raw.0 as usize + 1..self.raw.1 as usize - 1])
            }
            _ => None,
        }
    }
}

/// A key already read in an object being scanned: its byte range and a fingerprint of its bytes,
/// so that looking for a repeat compares fingerprints and only equal ones byte by byte.
#[derive(Debug, Clone, Copy)]
pub struct SeenKey {
    start: u32,
    end: u32,
    fingerprint: u32,
}

/// A key's length with its first and last bytes: a repeat needs an equal fingerprint and equal
/// bytes. Taken in constant time (hashing every byte of every key cost more than the byte-by-byte
/// comparisons it saved: docs/performance.md).
fn fingerprint(bytes: &[u8]) -> u32 {
    let (first, last) = (bytes.first(), bytes.last());
    (bytes.len() as u32 & 0xffff)
        | u32::from(first.copied().unwrap_or(0)) << 16
        | u32::from(last.copied().unwrap_or(0)) << 24
}

/// The first byte of `rest` that ends a run of a string's plain bytes: a quote, a backslash or a
/// control character. Eight bytes at a time (the bit tricks below flag the lowest such byte of a
/// word exactly; a flag above it may be false, and is never looked at), the tail byte by byte.
fn string_stop(rest: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut words = rest.chunks_exact(8);
    let mut at = 0;
    for chunk in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let word = u64::from_le_bytes(bytes);
        let flags = zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS);
        if flags != 0 {
            return Some(at + flags.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// Deepest nesting read here; deeper records take the general path (which allows 128).
const MAX_DEPTH: usize = 64;
/// Most members of one object checked for repeats by comparison; larger objects take the
/// general path, so a hostile record cannot make the check more than linear in its size times
/// this bound. Real records stay well under it (an Entra sign-in's `properties` has 40–80
/// members, a Log Analytics row 30–70).
const MAX_KEYS_PER_OBJECT: usize = 256;

/// Fills `members` with the top-level members of `record` when it is plain JSON: one object,
/// valid UTF-8 and syntax, no repeated key at any depth, no escaped key, no escaped surrogate,
/// every number in range, nesting at most [`MAX_DEPTH`], at most 4 GiB. Returns the record as
/// text, or `None` (the content of `members` is then meaningless). `keys` is scratch space.
pub fn top_level_members<'a>(
    record: &'a [u8],
    members: &mut Vec<Member>,
    keys: &mut Vec<SeenKey>,
) -> Option<&'a str> {
    members.clear();
    keys.clear();
    let text = std::str::from_utf8(record).ok()?;
    u32::try_from(record.len()).ok()?;
    let mut scanner = Scanner {
        bytes: record,
        at: 0,
        keys,
    };
    scanner.skip_space();
    if scanner.peek() != Some(b'{') {
        return None;
    }
    scanner.object(0, Some(members))?;
    scanner.skip_space();
    (scanner.at == record.len()).then_some(text)
}

/// The members of the object that `member` (a member of a record already read by
/// [`top_level_members`]) holds, with byte ranges of the whole record, so they can be used like
/// its top-level members. `None` when the value is not an object.
pub fn nested_members(
    record: &str,
    member: &Member,
    members: &mut Vec<Member>,
    keys: &mut Vec<SeenKey>,
) -> Option<()> {
    if member.kind != ValueKind::Object {
        return None;
    }
    let (start, end) = member.raw;
    top_level_members(
        &record.as_bytes()[start as usize..end as usize],
        members,
        keys,
    )?;
    for nested in members.iter_mut() {
        nested.key = (nested.key.0 + start, nested.key.1 + start);
        nested.raw = (nested.raw.0 + start, nested.raw.1 + start);
    }
    Some(())
}

struct Scanner<'a, 'k> {
    bytes: &'a [u8],
    at: usize,
    keys: &'k mut Vec<SeenKey>,
}

impl Scanner<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// An object at `self.at` (which holds `{`); with `top`, its members are recorded.
    fn object(&mut self, depth: usize, mut top: Option<&mut Vec<Member>>) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.at += 1;
        let first_key = self.keys.len();
        self.skip_space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.skip_space();
            let key_start = self.at;
            if self.string()? {
                return None; // an escaped key: the general path compares keys as text
            }
            let key = (key_start as u32 + 1, self.at as u32 - 1);
            let key_bytes = &self.bytes[key.0 as usize..key.1 as usize];
            let print = fingerprint(key_bytes);
            let seen = &self.keys[first_key..];
            if seen.len() >= MAX_KEYS_PER_OBJECT
                || seen.iter().any(|k| {
                    k.fingerprint == print
                        && &self.bytes[k.start as usize..k.end as usize] == key_bytes
                })
            {
                return None;
            }
            self.keys.push(SeenKey {
                start: key.0,
                end: key.1,
                fingerprint: print,
            });
            self.skip_space();
            self.expect(b':')?;
            self.skip_space();
            let value_start = self.at;
            let kind = self.value(depth + 1)?;
            if let Some(members) = top.as_mut() {
                members.push(Member {
                    key,
                    raw: (value_start as u32, self.at as u32),
                    kind,
                });
            }
            self.skip_space();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    self.keys.truncate(first_key);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.skip_space();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.skip_space();
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<ValueKind> {
        Some(match self.peek()? {
            b'"' => ValueKind::String {
                escaped: self.string()?,
            },
            b'{' => {
                self.object(depth, None)?;
                ValueKind::Object
            }
            b'[' => {
                self.array(depth)?;
                ValueKind::Array
            }
            b't' => {
                self.literal(b"true")?;
                ValueKind::Bool
            }
            b'f' => {
                self.literal(b"false")?;
                ValueKind::Bool
            }
            b'n' => {
                self.literal(b"null")?;
                ValueKind::Null
            }
            b'-' | b'0'..=b'9' => ValueKind::Number {
                integer: self.number()?,
            },
            _ => return None,
        })
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A string at `self.at` (which holds `"`); returns whether it holds an escape.
    fn string(&mut self) -> Option<bool> {
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            // Plain bytes are skipped in one step; the input is known to be UTF-8.
            self.at += string_stop(self.bytes.get(self.at..)?)?;
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.bytes.get(self.at + 1..self.at + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            let unit =
                                u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                            if (0xD800..=0xDFFF).contains(&unit) {
                                return None; // surrogates: the general path judges pairs
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }

    /// A number by the JSON grammar; returns whether it is an integer literal. Literals that
    /// could fall outside a double's range are parsed to check.
    fn number(&mut self) -> Option<bool> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.at += 1;
            self.digit_required()?;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            exponent = true;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.digit_required()?;
        }
        let literal = &self.bytes[start..self.at];
        if exponent || literal.len() > 20 {
            let value: f64 = std::str::from_utf8(literal).ok()?.parse().ok()?;
            if !value.is_finite() {
                return None;
            }
        }
        Some(integer)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn digit_required(&mut self) -> Option<()> {
        if !self.peek()?.is_ascii_digit() {
            return None;
        }
        self.digits();
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(record: &str) -> Option<Vec<(String, String, ValueKind)>> {
        let mut members = Vec::new();
        let mut keys = Vec::new();
        let text = top_level_members(record.as_bytes(), &mut members, &mut keys)?;
        Some(
            members
                .iter()
                .map(|m| (m.key(text).to_string(), m.raw(text).to_string(), m.kind))
                .collect(),
        )
    }

    #[test]
    fn wide_objects_up_to_the_bound_are_plain() {
        let object = |n: usize| {
            let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{\"p\":{{{}}}}}", members.join(","))
        };
        assert!(scan(&object(100)).is_some());
        assert!(scan(&object(MAX_KEYS_PER_OBJECT)).is_some());
        assert!(scan(&object(MAX_KEYS_PER_OBJECT + 1)).is_none());
    }

    /// Keys of one length with the same first and last bytes are compared byte by byte: different
    /// ones are not a repeat, at the top and nested; the same key twice is.
    #[test]
    fn keys_alike_at_their_ends_are_told_apart() {
        let (mut members, mut keys) = (Vec::new(), Vec::new());
        let record = br#"{"abc":1,"axc":2,"o":{"ab":1,"aab":2,"a_b":3,"ab_":4}}"#;
        assert!(top_level_members(record, &mut members, &mut keys).is_some());
        assert_eq!(members.len(), 3);
        for repeated in [
            &br#"{"abc":1,"axc":2,"abc":3}"#[..],
            br#"{"o":{"a_b":1,"ab":2,"a_b":3}}"#,
        ] {
            assert!(top_level_members(repeated, &mut members, &mut keys).is_none());
        }
    }

    /// The word-at-a-time search stops where a byte-at-a-time one does: every byte value at every
    /// position of runs of every length up to three words, over a background of plain bytes that
    /// sit next to the stops in value (`!`, `#`, `[`, `]`, space, DEL, UTF-8 continuation bytes).
    #[test]
    fn the_string_stop_is_the_first_quote_backslash_or_control_byte() {
        let naive = |rest: &[u8]| {
            rest.iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        };
        for background in [b'a', b'!', b'#', b'[', b']', b' ', 0x7f, 0x80, 0xbf, 0xff] {
            for len in 0..=24 {
                let plain = vec![background; len];
                assert_eq!(string_stop(&plain), naive(&plain), "{background} {len}");
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut run = plain.clone();
                        run[at] = byte;
                        assert_eq!(
                            string_stop(&run),
                            naive(&run),
                            "{background} {len} {at} {byte}"
                        );
                        // A second stop after the first never moves the answer.
                        if at + 1 < len {
                            run[len - 1] = 0;
                            assert_eq!(string_stop(&run), naive(&run));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nested_members_are_in_the_record_coordinates() {
        let record = r#"{"time":"t", "properties" : {"ipAddress":"1.2.3.4","n":1.50}}"#;
        let (mut members, mut keys, mut nested) = (Vec::new(), Vec::new(), Vec::new());
        let text = top_level_members(record.as_bytes(), &mut members, &mut keys).expect("plain");
        assert!(nested_members(text, &members[0], &mut nested, &mut keys).is_none());
        nested_members(text, &members[1], &mut nested, &mut keys).expect("an object");
        let got: Vec<(&str, &str)> = nested.iter().map(|m| (m.key(text), m.raw(text))).collect();
        assert_eq!(got, [("ipAddress", "\"1.2.3.4\""), ("n", "1.50")]);
    }

    #[test]
    fn members_keep_their_bytes() {
        let members = scan(
            r#" {"a": 78.376632690429688, "b":"x\"y", "c" : {"d":[1,{"e":null}]},"f":true,"g":-0,"h":"é"} "#,
        )
        .expect("plain");
        let raw: Vec<&str> = members.iter().map(|(_, r, _)| r.as_str()).collect();
        assert_eq!(
            raw,
            [
                "78.376632690429688",
                r#""x\"y""#,
                r#"{"d":[1,{"e":null}]}"#,
                "true",
                "-0",
                "\"é\""
            ]
        );
        assert_eq!(members[0].2, ValueKind::Number { integer: false });
        assert_eq!(members[1].2, ValueKind::String { escaped: true });
        assert_eq!(members[3].2, ValueKind::Bool);
        assert_eq!(members[4].0, "g");
        assert_eq!(scan("{}"), Some(vec![]));
    }

    #[test]
    fn anything_unusual_is_not_plain() {
        for record in [
            r#"{"a":1,"a":2}"#,        // repeated key
            r#"{"o":{"x":1,"x":2}}"#,  // repeated key, nested
            r#"{"a\u0041":1}"#,        // escaped key
            r#"{"a":"\ud83d\ude00"}"#, // surrogates
            r#"{"a":1e400}"#,          // out of range
            r#"{"a":01}"#,             // leading zero
            r#"{"a":1.}"#,             // no fraction digits
            r#"{"a":"x"#,              // unterminated
            "{\"a\":\"tab\there\"}",   // control character
            r#"{"a":1,}"#,             // trailing comma
            r#"{"a":1} x"#,            // trailing content
            r#"[1]"#,                  // not an object
            r#"{"a":tru}"#,            // bad literal
            r#"{"a":"\x"}"#,           // bad escape
            r#"{"a":"\u12G4"}"#,       // bad hex
        ] {
            assert_eq!(scan(record), None, "{record}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(80), "]".repeat(80));
        assert_eq!(scan(&deep), None);
        assert!(scan("{\"a\":\"\\u00e9\\n\"}").is_some());
        assert_eq!(
            scan("{\"a\":[1,2],\"b\":{\"a\":1}}").map(|m| m.len()),
            Some(2)
        );
    }

    /// Whatever is plain here is valid JSON to serde_json, with the same members in order.
    #[test]
    fn plain_records_parse_the_same_in_serde() {
        for record in [
            r#"{"TimeGenerated":"2026-10-01T00:00:00Z","n":-12.5e-3,"s":"a\/b\u00e9","o":{"x":[true,false,null]}}"#,
            r#"{"big":123456789012345678901234567890}"#,
        ] {
            let members = scan(record).expect("plain");
            let value: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(record).expect("serde");
            let keys: Vec<&str> = value.keys().map(String::as_str).collect();
            let ours: Vec<&str> = members.iter().map(|(k, _, _)| k.as_str()).collect();
            assert_eq!(keys, ours);
            for (key, raw, _) in &members {
                let parsed: serde_json::Value = serde_json::from_str(raw).expect("member");
                assert_eq!(parsed, value[key.as_str()]);
            }
        }
    }
}
