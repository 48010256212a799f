//! A Sigma detection, compiled to a DataFusion SQL predicate over one table (docs/sigma.md).
//!
//! Matching follows the Sigma specification: strings compare without regard to case unless
//! `cased`, `*` and `?` are wildcards, a list of values is any of them (all of them with `all`),
//! `re` is case-sensitive unless its `i` flag is given, and a field a record lacks never matches
//! (so `not filter` holds for it). What cannot be compiled faithfully is refused with the reason:
//! a rule is never run half.

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Modifier, Quantifier, SelectorPattern, SigmaRule,
    SigmaString, SigmaValue, SpecialChar, StringPart,
};

/// Why a rule cannot be compiled for a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Compiled = Result<String, Unsupported>;

fn refuse<T>(reason: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(reason.into()))
}

/// The columns of the table a rule runs on, and how its field names map onto them.
pub struct TableColumns<'a> {
    /// The table's name.
    pub table: &'a str,
    /// Its columns and their types.
    pub columns: Vec<(String, DataType)>,
    /// Field names of the rules renamed to columns (the log-source map's `fields`).
    pub renames: &'a BTreeMap<String, String>,
}

/// A column as SQL, with its type.
struct Column {
    sql: String,
    data_type: DataType,
}

impl Column {
    /// The column's value as text.
    fn text(&self) -> String {
        match self.data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => self.sql.clone(),
            _ => format!("CAST({} AS VARCHAR)", self.sql),
        }
    }

    fn is_numeric(&self) -> bool {
        self.data_type.is_numeric()
    }
}

/// `name` as a quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl TableColumns<'_> {
    fn find(&self, name: &str) -> Option<&(String, DataType)> {
        self.columns.iter().find(|(c, _)| c == name).or_else(|| {
            self.columns
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(name))
        })
    }

    /// The column a field names: renamed by the map, as written, without regard to case, or a
    /// path into a JSON text column (`Status.errorCode`). `None` when the table has no such
    /// field.
    fn column(&self, field: &str) -> Option<Column> {
        let name = self.renames.get(field).map_or(field, String::as_str);
        if let Some((column, data_type)) = self.find(name) {
            return Some(Column {
                sql: ident(column),
                data_type: data_type.clone(),
            });
        }
        let mut path = name.split('.');
        let head = path.next()?;
        let rest: Vec<&str> = path.collect();
        if rest.is_empty() {
            return None;
        }
        let (column, data_type) = self.find(head)?;
        if !matches!(
            data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return None;
        }
        let keys: Vec<String> = rest.iter().map(|k| literal(k)).collect();
        Some(Column {
            sql: format!("json_as_text({}, {})", ident(column), keys.join(", ")),
            data_type: DataType::Utf8,
        })
    }

    /// A field's value as text in SQL, for the correlations' group-by and counted fields.
    pub fn field_text(&self, field: &str) -> Option<String> {
        self.column(field).map(|c| c.text())
    }

    fn text_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|(name, t)| {
                (!name.starts_with('_') || name == "_extra")
                    && matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            })
            .map(|(name, _)| ident(name))
            .collect()
    }
}

/// The rule's condition as one SQL predicate over `table` (true where the rule matches).
pub fn rule_predicate(rule: &SigmaRule, table: &TableColumns<'_>) -> Compiled {
    if rule
        .detection
        .condition_strings
        .iter()
        .any(|c| c.contains('|'))
    {
        return refuse(
            "the condition uses the deprecated aggregation syntax (`| count() by …`); write it as a correlation rule",
        );
    }
    if rule.detection.conditions.is_empty() {
        return refuse("the rule has no condition");
    }
    let mut named = BTreeMap::new();
    for (name, detection) in &rule.detection.named {
        named.insert(name.clone(), detection_sql(detection, table)?);
    }
    let parts = rule
        .detection
        .conditions
        .iter()
        .map(|c| condition_sql(c, &named))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join(parts, "OR"))
}

fn join(parts: Vec<String>, op: &str) -> String {
    match parts.len() {
        0 if op == "AND" => "TRUE".into(),
        0 => "FALSE".into(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => format!("({})", parts.join(&format!(" {op} "))),
    }
}

fn condition_sql(expr: &ConditionExpr, named: &BTreeMap<String, String>) -> Compiled {
    match expr {
        ConditionExpr::And(items) => Ok(join(
            items
                .iter()
                .map(|i| condition_sql(i, named))
                .collect::<Result<_, _>>()?,
            "AND",
        )),
        ConditionExpr::Or(items) => Ok(join(
            items
                .iter()
                .map(|i| condition_sql(i, named))
                .collect::<Result<_, _>>()?,
            "OR",
        )),
        ConditionExpr::Not(inner) => Ok(format!("(NOT {})", condition_sql(inner, named)?)),
        ConditionExpr::Identifier(name) => named.get(name).cloned().ok_or_else(|| {
            Unsupported(format!(
                "the condition names `{name}`, which the detection does not define"
            ))
        }),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let chosen: Vec<&String> = named
                .iter()
                .filter(|(name, _)| match pattern {
                    // `them` leaves out identifiers beginning with an underscore (the spec).
                    SelectorPattern::Them => !name.starts_with('_'),
                    SelectorPattern::Pattern(p) => rsigma_parser::detection_name_matches(p, name),
                })
                .map(|(_, sql)| sql)
                .collect();
            if chosen.is_empty() {
                return refuse(format!(
                    "`{quantifier} of {pattern}` names no detection of the rule"
                ));
            }
            Ok(match quantifier {
                Quantifier::Any => join(chosen.into_iter().cloned().collect(), "OR"),
                Quantifier::All => join(chosen.into_iter().cloned().collect(), "AND"),
                Quantifier::Count(n) => format!(
                    "(({}) >= {n})",
                    chosen
                        .iter()
                        .map(|s| format!("CASE WHEN {s} THEN 1 ELSE 0 END"))
                        .collect::<Vec<_>>()
                        .join(" + ")
                ),
            })
        }
    }
}

fn detection_sql(detection: &Detection, table: &TableColumns<'_>) -> Compiled {
    match detection {
        Detection::AllOf(items) => Ok(join(
            items
                .iter()
                .map(|i| item_sql(i, table))
                .collect::<Result<_, _>>()?,
            "AND",
        )),
        Detection::AnyOf(items) => Ok(join(
            items
                .iter()
                .map(|i| detection_sql(i, table))
                .collect::<Result<_, _>>()?,
            "OR",
        )),
        Detection::And(items) => Ok(join(
            items
                .iter()
                .map(|i| detection_sql(i, table))
                .collect::<Result<_, _>>()?,
            "AND",
        )),
        Detection::Keywords(values) => {
            let columns = table.text_columns();
            let mut parts = Vec::new();
            for value in values {
                let SigmaValue::String(s) = value else {
                    parts.push(keyword_sql(&value.to_string(), &columns));
                    continue;
                };
                let pattern = like_pattern(s, true, true);
                parts.push(format!(
                    "({})",
                    columns
                        .iter()
                        .map(|c| format!(
                            "coalesce({c} ILIKE {} ESCAPE '\\', false)",
                            literal(&pattern)
                        ))
                        .collect::<Vec<_>>()
                        .join(" OR ")
                ));
            }
            Ok(join(parts, "OR"))
        }
        Detection::ArrayMatch { field, .. } => refuse(format!(
            "array matching (`{field}[any]` / `[all]`) is a proposed extension this tool does not compile"
        )),
        Detection::Conditional { .. } => {
            refuse("element-scoped conditions are a proposed extension this tool does not compile")
        }
    }
}

fn keyword_sql(text: &str, columns: &[String]) -> String {
    let pattern = format!("%{}%", escape_like(text));
    format!(
        "({})",
        columns
            .iter()
            .map(|c| format!(
                "coalesce({c} ILIKE {} ESCAPE '\\', false)",
                literal(&pattern)
            ))
            .collect::<Vec<_>>()
            .join(" OR ")
    )
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Sigma string as a LIKE pattern (wildcards kept, the rest literal), open at either end.
fn like_pattern(value: &SigmaString, open_start: bool, open_end: bool) -> String {
    let mut out = String::new();
    if open_start {
        out.push('%');
    }
    for part in &value.parts {
        match part {
            StringPart::Plain(text) => out.push_str(&escape_like(text)),
            StringPart::Special(SpecialChar::WildcardMulti) => out.push('%'),
            StringPart::Special(SpecialChar::WildcardSingle) => out.push('_'),
        }
    }
    if open_end {
        out.push('%');
    }
    out
}

/// The plain text of a string value, refusing wildcards where a modifier cannot keep them.
fn plain(value: &SigmaString, modifier: &str) -> Result<String, Unsupported> {
    value.as_plain().ok_or_else(|| {
        Unsupported(format!(
            "a wildcard in a value with `{modifier}` has no defined meaning"
        ))
    })
}

fn item_sql(item: &DetectionItem, table: &TableColumns<'_>) -> Compiled {
    let Some(field) = &item.field.name else {
        return detection_sql(&Detection::Keywords(item.values.clone()), table);
    };
    let has = |m: Modifier| item.field.has_modifier(m);
    for unsupported in [Modifier::Expand] {
        if has(unsupported) {
            return refuse(format!(
                "field `{field}`: the `expand` modifier needs placeholder values from a pipeline"
            ));
        }
    }
    let column = table.column(field);
    if has(Modifier::Exists) {
        let wanted = item
            .values
            .iter()
            .all(|v| !matches!(v, SigmaValue::Bool(false)));
        return Ok(match (&column, wanted) {
            (Some(c), true) => format!("({} IS NOT NULL)", c.sql),
            (Some(c), false) => format!("({} IS NULL)", c.sql),
            (None, true) => "FALSE".into(),
            (None, false) => "TRUE".into(),
        });
    }
    let Some(column) = column else {
        return refuse(format!(
            "field `{field}` is not a column of {} (`mcpforensics tables --columns` lists them; the log-source map's `fields` can rename it)",
            table.table
        ));
    };
    let mut parts = Vec::new();
    for value in &item.values {
        parts.push(value_sql(item, &column, value, table)?);
    }
    let all = has(Modifier::All);
    let combined = join(parts, if all { "AND" } else { "OR" });
    Ok(if has(Modifier::Neq) {
        format!("(NOT {combined})")
    } else {
        combined
    })
}

/// One value of an item against its column; never NULL (a missing field does not match).
// Long: one arm per Sigma modifier, as the specification lists them.
fn value_sql(
    item: &DetectionItem,
    column: &Column,
    value: &SigmaValue,
    table: &TableColumns<'_>,
) -> Compiled {
    let has = |m: Modifier| item.field.has_modifier(m);
    let guard = |sql: String| format!("coalesce({sql}, false)");
    // Timestamp parts: the field is a time, compared by one of its parts.
    for (modifier, part) in [
        (Modifier::Minute, "minute"),
        (Modifier::Hour, "hour"),
        (Modifier::Day, "day"),
        (Modifier::Week, "week"),
        (Modifier::Month, "month"),
        (Modifier::Year, "year"),
    ] {
        if has(modifier) {
            let SigmaValue::Integer(n) = value else {
                return refuse(format!("`{part}` compares with a whole number"));
            };
            return Ok(guard(format!(
                "CAST(date_part('{part}', {}) AS BIGINT) = {n}",
                column.sql
            )));
        }
    }
    for (modifier, op) in [
        (Modifier::Lt, "<"),
        (Modifier::Lte, "<="),
        (Modifier::Gt, ">"),
        (Modifier::Gte, ">="),
    ] {
        if has(modifier) {
            let number = match value {
                SigmaValue::Integer(n) => n.to_string(),
                SigmaValue::Float(f) => f.to_string(),
                SigmaValue::String(s) => match s.as_plain().and_then(|p| p.parse::<f64>().ok()) {
                    Some(f) => f.to_string(),
                    None => return refuse(format!("`{op}` compares with a number, not `{s}`")),
                },
                _ => return refuse(format!("`{op}` compares with a number, not `{value}`")),
            };
            return Ok(guard(format!(
                "TRY_CAST({} AS DOUBLE) {op} {number}",
                column.sql
            )));
        }
    }
    if matches!(value, SigmaValue::Null) {
        return Ok(format!("({} IS NULL)", column.sql));
    }
    let text = column.text();
    if has(Modifier::FieldRef) {
        let SigmaValue::String(other) = value else {
            return refuse("`fieldref` names a field");
        };
        let other_name = plain(other, "fieldref")?;
        let Some(other) = table.column(&other_name) else {
            return refuse(format!(
                "`fieldref` names `{other_name}`, which is not a column of {}",
                table.table
            ));
        };
        let (a, b) = if has(Modifier::Cased) {
            (text, other.text())
        } else {
            (format!("lower({text})"), format!("lower({})", other.text()))
        };
        let sql = if has(Modifier::Contains) {
            format!("strpos({a}, {b}) > 0")
        } else if has(Modifier::StartsWith) {
            format!("starts_with({a}, {b})")
        } else if has(Modifier::EndsWith) {
            format!("ends_with({a}, {b})")
        } else {
            format!("{a} = {b}")
        };
        return Ok(guard(sql));
    }
    if has(Modifier::Re) {
        let SigmaValue::String(pattern) = value else {
            return refuse("`re` takes a regular expression");
        };
        if let Err(e) = regex::Regex::new(&pattern.original) {
            return refuse(format!(
                "the regular expression `{}` does not compile: {e}",
                pattern.original
            ));
        }
        let mut flags = String::new();
        if has(Modifier::IgnoreCase) {
            flags.push('i');
        }
        if has(Modifier::Multiline) {
            flags.push('m');
        }
        if has(Modifier::DotAll) {
            flags.push('s');
        }
        return Ok(guard(if flags.is_empty() {
            format!("regexp_like({text}, {})", literal(&pattern.original))
        } else {
            format!(
                "regexp_like({text}, {}, {})",
                literal(&pattern.original),
                literal(&flags)
            )
        }));
    }
    if has(Modifier::Cidr) {
        let SigmaValue::String(range) = value else {
            return refuse("`cidr` takes an address range");
        };
        let range = plain(range, "cidr")?;
        if super::cidr::parse(&range).is_none() {
            return refuse(format!("`{range}` is not an address range"));
        }
        return Ok(guard(format!(
            "{}({text}, {})",
            super::cidr::FUNCTION,
            literal(&range)
        )));
    }
    let (open_start, open_end) = (
        has(Modifier::Contains) || has(Modifier::EndsWith),
        has(Modifier::Contains) || has(Modifier::StartsWith),
    );
    let op = if has(Modifier::Cased) {
        "LIKE"
    } else {
        "ILIKE"
    };
    let matches = |pattern: &str| {
        format!(
            "coalesce({text} {op} {} ESCAPE '\\', false)",
            literal(pattern)
        )
    };
    match value {
        SigmaValue::Integer(_) | SigmaValue::Float(_) if column.is_numeric() => {
            Ok(guard(format!("{} = {value}", column.sql)))
        }
        SigmaValue::Integer(_) | SigmaValue::Float(_) | SigmaValue::Bool(_) => {
            Ok(matches(&like_pattern(
                &SigmaString::from_raw(&value.to_string()),
                open_start,
                open_end,
            )))
        }
        SigmaValue::String(s) => {
            let variants = encoded_variants(item, s)?;
            Ok(join(
                variants
                    .iter()
                    .map(|v| matches(&like_pattern(v, open_start, open_end)))
                    .collect(),
                "OR",
            ))
        }
        SigmaValue::Null => Ok(format!("({} IS NULL)", column.sql)),
    }
}

/// The strings a value stands for after its encoding modifiers: `windash` (every dash or slash
/// before an option also as the other dashes), `wide`/`utf16*` then `base64`/`base64offset`.
fn encoded_variants(
    item: &DetectionItem,
    value: &SigmaString,
) -> Result<Vec<SigmaString>, Unsupported> {
    let has = |m: Modifier| item.field.has_modifier(m);
    let mut variants = vec![value.clone()];
    if has(Modifier::WindAsh) {
        variants = windash(&plain(value, "windash")?)?
            .into_iter()
            .map(|v| SigmaString::from_raw(&v))
            .collect();
    }
    let encoding = if has(Modifier::Wide) {
        Some(Utf16::Le)
    } else if has(Modifier::Utf16be) {
        Some(Utf16::Be)
    } else if has(Modifier::Utf16) {
        Some(Utf16::LeWithMark)
    } else {
        None
    };
    let base64 = has(Modifier::Base64);
    let offset = has(Modifier::Base64Offset);
    if encoding.is_some() && !base64 && !offset {
        return refuse(
            "`wide`/`utf16` without `base64` compares bytes this tool's text columns do not hold",
        );
    }
    if !base64 && !offset {
        return Ok(variants);
    }
    let mut out = Vec::new();
    for variant in variants {
        let text = plain(&variant, "base64")?;
        let bytes = encode_text(&text, encoding);
        if offset {
            out.extend(
                base64_offsets(&bytes)
                    .into_iter()
                    .map(|v| SigmaString::from_raw(&v)),
            );
        } else {
            out.push(SigmaString::from_raw(&base64_encode(&bytes)));
        }
    }
    Ok(out)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The three spellings of `bytes` inside a longer base64 text, whatever its offset there (as
/// pySigma's `base64offset`: the bytes after zero, one and two leading bytes, with the characters
/// the neighbours change cut off).
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_CUT: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut padded = vec![b' '; shift];
            padded.extend_from_slice(bytes);
            let encoded = base64_encode(&padded);
            let cut = END_CUT[(bytes.len() + shift) % 3];
            let end = encoded.len().saturating_sub(cut);
            encoded
                .get(START[shift]..end)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Utf16 {
    Le,
    Be,
    LeWithMark,
}

fn encode_text(text: &str, encoding: Option<Utf16>) -> Vec<u8> {
    match encoding {
        None => text.as_bytes().to_vec(),
        Some(Utf16::Le) => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Some(Utf16::Be) => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Some(Utf16::LeWithMark) => [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
    }
}

/// The dashes `windash` stands for.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// At most this many variants of one value (five per option character).
const MAX_WINDASH_VARIANTS: usize = 625;

/// Every spelling of `text` with each option character (a dash or slash after a non-word
/// character, before a word character, as pySigma reads it) replaced by each of [`DASHES`].
fn windash(text: &str) -> Result<Vec<String>, Unsupported> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            matches!(chars[i], '-' | '/')
                && !word(i.checked_sub(1).and_then(|p| chars.get(p)))
                && word(chars.get(i + 1))
        })
        .collect();
    let count = DASHES.len().saturating_pow(positions.len() as u32);
    if count > MAX_WINDASH_VARIANTS {
        return refuse(format!(
            "`windash` on `{text}` stands for {count} spellings (more than {MAX_WINDASH_VARIANTS})"
        ));
    }
    let mut out = vec![chars.clone()];
    for &p in &positions {
        out = out
            .into_iter()
            .flat_map(|v| {
                DASHES.iter().map(move |d| {
                    let mut v = v.clone();
                    v[p] = *d;
                    v
                })
            })
            .collect();
    }
    Ok(out.into_iter().map(|v| v.into_iter().collect()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windash_spells_every_option_with_every_dash() {
        let spellings = windash("net user -add /y").expect("few");
        assert_eq!(spellings.len(), 25);
        assert!(spellings.contains(&"net user /add -y".to_string()));
        assert!(spellings.contains(&"net user \u{2013}add \u{2015}y".to_string()));
        // A dash inside a word is no option.
        assert_eq!(windash("well-known").expect("one"), vec!["well-known"]);
    }

    /// pySigma's documented example: `base64offset|contains: 'http://'`.
    #[test]
    fn base64_offsets_are_pysigmas() {
        assert_eq!(
            base64_offsets(b"http://"),
            vec!["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]
        );
    }

    #[test]
    fn like_patterns_keep_wildcards_and_escape_the_rest() {
        let s = SigmaString::new("50%_a*b?c");
        assert_eq!(like_pattern(&s, false, false), "50\\%\\_a%b_c");
        assert_eq!(like_pattern(&SigmaString::new("x"), true, true), "%x%");
    }
}
