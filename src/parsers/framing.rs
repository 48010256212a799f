//! Splitting a blob body into records without holding the blob in memory.
//!
//! Two body shapes exist: JSON Lines (Log Analytics export, diagnostic settings since 2018) and
//! one JSON document `{"records":[…]}` (flow logs, older diagnostic settings), which may be cut
//! short when the blob was read mid-hour. The shape is sniffed from the first bytes, so a body
//! in the "wrong" shape for its container is still read. Each record comes with the line it
//! starts on; anything that cannot be a record comes back as [`Framed::Bad`] with a reason.

use std::io::{self, BufRead, Cursor, Read};

/// Largest record accepted; longer lines are rejected without being buffered.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;
/// How much of a rejected record is kept in the case's rejects.
pub const MAX_REJECT_RAW_BYTES: usize = 1024 * 1024;
const SNIFF_BYTES: usize = 4096;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One unit out of the framer.
#[derive(Debug, PartialEq)]
pub enum Framed {
    /// The bytes of one record (one JSON value, not yet parsed).
    Record {
        /// 1-based line the record starts on.
        line: u64,
        /// The record's bytes.
        bytes: Vec<u8>,
    },
    /// Bytes that cannot be a record.
    Bad {
        /// 1-based line where the bad bytes start.
        line: u64,
        /// Why they were rejected.
        reason: String,
        /// The bytes (at most [`MAX_REJECT_RAW_BYTES`]).
        raw: Vec<u8>,
    },
}

/// The body shape found by sniffing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// One JSON object per line.
    JsonLines,
    /// A `{"records":[…]}` document, or a bare run of objects (an appended block `,{…}`, a pretty-printed object).
    Objects,
}

/// Streams records out of a blob body.
pub struct Framer<R> {
    reader: R,
    shape: BodyShape,
    line: u64,
    in_records_array: bool,
    array_closed: bool,
}

/// The read buffer of one blob. Most export blobs are a few KiB (five minutes of one table) and the
/// buffer is zeroed once per blob, so it is kept small; a longer record is gathered across reads.
const READ_BUFFER_BYTES: usize = 64 * 1024;

impl Framer<io::BufReader<io::Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>>> {
    /// Sniffs the body's shape from its first bytes and returns a framer over the whole body.
    pub fn sniff(mut reader: Box<dyn Read + Send>) -> io::Result<Self> {
        let mut prefix = Vec::with_capacity(SNIFF_BYTES);
        (&mut reader)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut prefix)?;
        let (shape, skip, in_records_array) = sniff_shape(&prefix);
        let line = 1 + prefix[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
        let rest = prefix.split_off(skip);
        let chained = Cursor::new(rest).chain(reader);
        Ok(Framer {
            reader: io::BufReader::with_capacity(READ_BUFFER_BYTES, chained),
            shape,
            line,
            in_records_array,
            array_closed: false,
        })
    }
}

/// Returns the shape, how many leading bytes to skip (a `{"records":[` opening) and whether
/// records sit inside an array.
fn sniff_shape(prefix: &[u8]) -> (BodyShape, usize, bool) {
    let body = prefix.strip_prefix(BOM).unwrap_or(prefix);
    let offset = prefix.len() - body.len();
    let mut i = skip_ws(body, 0);
    match body.get(i) {
        Some(b',' | b'[') => (BodyShape::Objects, 0, true),
        Some(b'{') => {
            let after_brace = skip_ws(body, i + 1);
            if body[after_brace..].starts_with(b"\"records\"") {
                i = skip_ws(body, after_brace + b"\"records\"".len());
                if body.get(i) == Some(&b':') {
                    i = skip_ws(body, i + 1);
                    if body.get(i) == Some(&b'[') {
                        return (BodyShape::Objects, offset + i + 1, true);
                    }
                }
            }
            // A lone `{` on the first line is a pretty-printed object, not JSON Lines.
            let first_line_end = body[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(body.len(), |p| i + p);
            if body[i..first_line_end]
                .iter()
                .all(|b| b.is_ascii_whitespace() || *b == b'{')
            {
                (BodyShape::Objects, 0, false)
            } else {
                (BodyShape::JsonLines, 0, false)
            }
        }
        _ => (BodyShape::JsonLines, 0, false),
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

impl<R: BufRead> Framer<R> {
    /// The shape that was sniffed.
    pub fn shape(&self) -> BodyShape {
        self.shape
    }

    /// The next record or bad span; `None` at the end of the body.
    pub fn next_framed(&mut self) -> io::Result<Option<Framed>> {
        match self.shape {
            BodyShape::JsonLines => self.next_line(),
            BodyShape::Objects => self.next_object(),
        }
    }

    fn next_line(&mut self) -> io::Result<Option<Framed>> {
        loop {
            let mut bytes = Vec::new();
            let mut length = 0usize;
            let mut saw_any = false;
            loop {
                let buf = self.reader.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                saw_any = true;
                let (chunk, found_newline) = match buf.iter().position(|&b| b == b'\n') {
                    Some(p) => (&buf[..p], true),
                    None => (buf, false),
                };
                length += chunk.len();
                if length <= MAX_RECORD_BYTES {
                    bytes.extend_from_slice(chunk);
                } else if bytes.len() < MAX_REJECT_RAW_BYTES {
                    let keep = MAX_REJECT_RAW_BYTES - bytes.len();
                    bytes.extend_from_slice(&chunk[..chunk.len().min(keep)]);
                }
                let consumed = chunk.len() + usize::from(found_newline);
                self.reader.consume(consumed);
                if found_newline {
                    break;
                }
            }
            if !saw_any {
                return Ok(None);
            }
            let line = self.line;
            self.line += 1;
            if length > MAX_RECORD_BYTES {
                bytes.truncate(MAX_REJECT_RAW_BYTES);
                return Ok(Some(Framed::Bad {
                    line,
                    reason: format!(
                        "line is {length} bytes, over the {MAX_RECORD_BYTES}-byte record limit"
                    ),
                    raw: bytes,
                }));
            }
            if line == 1 && bytes.starts_with(BOM) {
                bytes.drain(..BOM.len());
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            while bytes.last().is_some_and(u8::is_ascii_whitespace) {
                bytes.pop();
            }
            return Ok(Some(Framed::Record { line, bytes }));
        }
    }

    fn next_object(&mut self) -> io::Result<Option<Framed>> {
        // Skip separators between records.
        loop {
            let buf = self.reader.fill_buf()?;
            let Some(&byte) = buf.first() else {
                return Ok(None);
            };
            match byte {
                b'\n' => {
                    self.line += 1;
                    self.reader.consume(1);
                }
                b' ' | b'\t' | b'\r' | b',' => self.reader.consume(1),
                b']' if self.in_records_array => {
                    self.in_records_array = false;
                    self.array_closed = true;
                    self.reader.consume(1);
                }
                b'}' if self.array_closed => self.reader.consume(1),
                b'{' => break,
                _ if buf.starts_with(BOM) => self.reader.consume(BOM.len()),
                _ => return self.garbage().map(Some),
            }
        }
        let line = self.line;
        let mut bytes = Vec::new();
        let mut length = 0usize;
        let mut scan = RecordScan::default();
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                bytes.truncate(MAX_REJECT_RAW_BYTES);
                return Ok(Some(Framed::Bad {
                    line,
                    reason: "blob ends inside this record (truncated)".into(),
                    raw: bytes,
                }));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                match scan.step(b) {
                    Step::Inside => {
                        if b == b'\n' {
                            self.line += 1;
                        }
                    }
                    Step::Closed => {
                        end = Some((i + 1, None));
                        break;
                    }
                    // The byte is not part of this record: the next record (or the end of the
                    // records array) begins there, and is read by the next call.
                    Step::Unclosed(reason) => {
                        end = Some((i, Some(reason)));
                        break;
                    }
                }
            }
            let take = end.as_ref().map_or(buf.len(), |(at, _)| *at);
            length += take;
            if length <= MAX_RECORD_BYTES {
                bytes.extend_from_slice(&buf[..take]);
            } else if bytes.len() < MAX_REJECT_RAW_BYTES {
                let keep = (MAX_REJECT_RAW_BYTES - bytes.len()).min(take);
                bytes.extend_from_slice(&buf[..keep]);
            }
            self.reader.consume(take);
            match end {
                None => {}
                Some((_, Some(reason))) => {
                    bytes.truncate(MAX_REJECT_RAW_BYTES);
                    while bytes
                        .last()
                        .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                    {
                        bytes.pop();
                    }
                    return Ok(Some(Framed::Bad {
                        line,
                        reason: reason.into(),
                        raw: bytes,
                    }));
                }
                Some((_, None)) if length > MAX_RECORD_BYTES => {
                    bytes.truncate(MAX_REJECT_RAW_BYTES);
                    return Ok(Some(Framed::Bad {
                        line,
                        reason: format!(
                            "record is {length} bytes, over the {MAX_RECORD_BYTES}-byte limit"
                        ),
                        raw: bytes,
                    }));
                }
                Some((_, None)) => return Ok(Some(Framed::Record { line, bytes })),
            }
        }
    }

    /// Bytes between records that are not a record: kept up to the next line or object.
    fn garbage(&mut self) -> io::Result<Framed> {
        let line = self.line;
        let mut raw = Vec::new();
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let stop = buf.iter().position(|&b| b == b'\n' || b == b'{');
            let take = stop.unwrap_or(buf.len());
            if raw.len() < MAX_REJECT_RAW_BYTES {
                raw.extend_from_slice(&buf[..take.min(MAX_REJECT_RAW_BYTES - raw.len())]);
            }
            self.reader.consume(take);
            if stop.is_some() {
                break;
            }
        }
        Ok(Framed::Bad {
            line,
            reason: "bytes between records that are not JSON".into(),
            raw,
        })
    }
}

/// What one byte does to the record being scanned.
#[derive(Debug, PartialEq)]
enum Step {
    /// Part of the record, which goes on.
    Inside,
    /// The byte closed the record.
    Closed,
    /// The record can never close: this byte starts the next record (`,{` where only a key
    /// may follow) or closes the records array. The record is rejected without it and reading
    /// resumes at it, so one unbalanced record does not swallow the records after it.
    Unclosed(&'static str),
}

/// The nesting of one record, byte by byte, strings and escapes respected.
#[derive(Debug, Default)]
struct RecordScan {
    /// Open containers: `true` for an object, `false` for an array.
    open: Vec<bool>,
    in_string: bool,
    escaped: bool,
    /// A `,` directly inside an object was the last byte that is not white space.
    comma_in_object: bool,
}

impl RecordScan {
    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return Step::Inside;
        }
        if b.is_ascii_whitespace() {
            return Step::Inside;
        }
        let after_comma_in_object = std::mem::take(&mut self.comma_in_object);
        match b {
            b'{' if after_comma_in_object => Step::Unclosed(
                "record is not closed before the next record begins (rejected; reading resumed at the next record)",
            ),
            b'"' => {
                self.in_string = true;
                Step::Inside
            }
            b',' => {
                self.comma_in_object = self.open.last() == Some(&true);
                Step::Inside
            }
            b'{' | b'[' => {
                self.open.push(b == b'{');
                Step::Inside
            }
            b'}' | b']' => {
                let object = b == b'}';
                // A closer that matches nothing open closes the records array, not the record.
                let Some(at) = self.open.iter().rposition(|&o| o == object) else {
                    return Step::Unclosed(
                        "record is not closed before the end of the records array (rejected)",
                    );
                };
                // A mismatched closer also closes what it skips: the record is malformed (its
                // JSON is rejected when parsed) but its end is still found.
                self.open.truncate(at);
                if self.open.is_empty() {
                    Step::Closed
                } else {
                    Step::Inside
                }
            }
            _ => Step::Inside,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> (BodyShape, Vec<Framed>) {
        let mut framer = Framer::sniff(Box::new(Cursor::new(body.to_vec()))).expect("sniff");
        let mut out = Vec::new();
        while let Some(item) = framer.next_framed().expect("read") {
            out.push(item);
        }
        (framer.shape(), out)
    }

    fn record(line: u64, text: &str) -> Framed {
        Framed::Record {
            line,
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn json_lines_with_blank_lines_bom_and_crlf() {
        let (shape, items) = frame(b"\xEF\xBB\xBF{\"a\":1}\r\n\n{\"b\":2}\n   \n{\"c\":3}");
        assert_eq!(shape, BodyShape::JsonLines);
        assert_eq!(
            items,
            vec![
                record(1, "{\"a\":1}"),
                record(3, "{\"b\":2}"),
                record(5, "{\"c\":3}")
            ]
        );
    }

    #[test]
    fn records_document_complete_and_cut_short() {
        let doc = b"{\"records\":[{\"a\":\"x}\"},\n{\"b\":[1,{\"c\":2}]}]}";
        let (shape, items) = frame(doc);
        assert_eq!(shape, BodyShape::Objects);
        assert_eq!(
            items,
            vec![
                record(1, "{\"a\":\"x}\"}"),
                record(2, "{\"b\":[1,{\"c\":2}]}")
            ]
        );
        // Read mid-hour: the closing `]}` has not been written yet.
        let (_, items) = frame(b"{ \"records\" : [ {\"a\":1}\n,{\"b\":2}");
        assert_eq!(items, vec![record(1, "{\"a\":1}"), record(2, "{\"b\":2}")]);
        // Cut inside the last record.
        let (_, items) = frame(b"{\"records\":[{\"a\":1},{\"b\":[1,2");
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Framed::Bad { reason, .. } if reason.contains("truncated")));
    }

    #[test]
    fn appended_block_and_pretty_object() {
        let (shape, items) = frame(b"\xEF\xBB\xBF,{\"time\":1},{\"time\":2}");
        assert_eq!(shape, BodyShape::Objects);
        assert_eq!(
            items,
            vec![record(1, "{\"time\":1}"), record(1, "{\"time\":2}")]
        );
        let (shape, items) = frame(b"{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
        assert_eq!(shape, BodyShape::Objects);
        assert_eq!(
            items,
            vec![record(1, "{\n  \"a\": {\n    \"b\": 1\n  }\n}")]
        );
    }

    #[test]
    fn an_unbalanced_record_is_rejected_alone_and_the_records_after_it_are_read() {
        // The second record misses its closing brace; a third and fourth follow.
        let doc = b"{\"records\":[{\"time\":1},\n{\"time\":2,\"p\":{\"a\":[1,{\"b\":2}]},\n{\"time\":3},{\"time\":4,\"q\":[{\"x\":1},{\"y\":2}]}]}";
        let (_, items) = frame(doc);
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[0], record(1, "{\"time\":1}"));
        assert!(
            matches!(&items[1], Framed::Bad { line: 2, reason, raw }
                if reason.contains("not closed before the next record")
                && raw == b"{\"time\":2,\"p\":{\"a\":[1,{\"b\":2}]}"),
            "{:?}",
            items[1]
        );
        assert_eq!(items[2], record(3, "{\"time\":3}"));
        assert_eq!(
            items[3],
            record(3, "{\"time\":4,\"q\":[{\"x\":1},{\"y\":2}]}")
        );
        // The last record unbalanced: the array's end ends it.
        let (_, items) = frame(b"{\"records\":[{\"time\":1},{\"time\":2,\"p\":{\"a\":1}]}");
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(
            matches!(&items[1], Framed::Bad { reason, .. } if reason.contains("end of the records array"))
        );
        // A brace inside a string never counts.
        let (_, items) = frame(b"{\"records\":[{\"m\":\",{\\\"}\"},{\"time\":2}]}");
        assert_eq!(
            items,
            vec![record(1, "{\"m\":\",{\\\"}\"}"), record(1, "{\"time\":2}")]
        );
    }

    #[test]
    fn garbage_between_records() {
        let (_, items) = frame(b"{\"records\":[{\"a\":1},\nnot json\n{\"b\":2}]}");
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1], Framed::Bad { line: 2, raw, .. } if raw == b"not json"));
        assert_eq!(items[2], record(3, "{\"b\":2}"));
    }

    #[test]
    fn empty_body() {
        assert!(frame(b"").1.is_empty());
        assert!(frame(b"\n\n  \n").1.is_empty());
    }
}
