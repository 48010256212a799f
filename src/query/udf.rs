//! Forensic SQL functions registered on every session.
//!
//! `customer_ids(json_text)`: the data-subject identifiers named in a JSON document (tool
//! arguments or results), found under the case's customer keys at any depth, as a list of text.
//! `outside_hosts(json_text)`: the host names of every URL or e-mail address in a JSON document's
//! string values (where tool arguments send data), lower case, as a list of text.
//! `wide_request(json_text)`: whether tool arguments ask for everything: a wildcard as a
//! search value (`%`, `*`, `.*`, empty query) or a row limit of 1,000 or more.
//! `call_key(_blob, _line)`: a 64-bit key for one evidence row (xxh3 of the blob name seeded with
//! the line), so that the pack's queries join calls on one integer instead of a long blob name.
//! `target_host(text)`: the host a dependency's `Target` or a URL names, lower case, without
//! scheme, port, path or the database after ` | ` (`sql-1.database.windows.net | crm`).
//! `trace_id(text)`: a W3C trace id in one form (32 lower-case hex digits) from any form Azure
//! writes it in: App Insights' `OperationId`, API Management's `CorrelationId` (a GUID with
//! dashes), a `traceparent` header or a hierarchical `Request-Id` (`|<trace>.<span>.`); other
//! text is returned as it is, so ids that are not trace ids still compare as text.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use serde_json::Value;

/// Keys that name a customer in tool arguments and results, unless the case config says
/// otherwise (the case's settings own them).
pub use crate::case::DEFAULT_CUSTOMER_KEYS;

/// Which reading of a text a [`CustomerFunction`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerReading {
    /// `customer_ids`: the text parsed as JSON ([`customer_ids`]).
    Ids,
    /// `customer_mentions`: leniently, also when the text is not JSON ([`customer_mentions`]).
    Mentions,
}

/// `customer_ids` or `customer_mentions` for a case's customer keys. The keys are part of the
/// function, so a plan sent to other processes (a cluster's scheduler and executors) carries them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerFunction {
    reading: CustomerReading,
    keys: Vec<String>,
    signature: Signature,
}

impl CustomerFunction {
    /// The function reading texts this way under `keys`.
    pub fn new(reading: CustomerReading, keys: Vec<String>) -> Self {
        Self {
            reading,
            keys,
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        }
    }

    /// How the function reads a text.
    pub fn reading(&self) -> CustomerReading {
        self.reading
    }

    /// The customer keys it looks under.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

impl ScalarUDFImpl for CustomerFunction {
    fn name(&self) -> &str {
        match self.reading {
            CustomerReading::Ids => "customer_ids",
            CustomerReading::Mentions => "customer_mentions",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType, DataFusionError> {
        Ok(DataType::List(Arc::new(Field::new(
            "item",
            DataType::Utf8,
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue, DataFusionError> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let input = arrays
            .first()
            .and_then(|a| a.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| {
                DataFusionError::Plan(format!("{} expects one text argument", self.name()))
            })?;
        let mut builder = ListBuilder::new(StringBuilder::new());
        for row in 0..input.len() {
            if input.is_null(row) {
                builder.append_null();
                continue;
            }
            let text = input.value(row);
            let found = match self.reading {
                CustomerReading::Ids => customer_ids(text, &self.keys),
                CustomerReading::Mentions => customer_mentions(text, &self.keys),
            };
            for id in found {
                builder.values().append_value(id);
            }
            builder.append(true);
        }
        let array: ArrayRef = Arc::new(builder.finish());
        Ok(ColumnarValue::Array(array))
    }
}

/// The `customer_ids` function for these keys.
pub fn customer_ids_udf(keys: Vec<String>) -> ScalarUDF {
    ScalarUDF::new_from_impl(CustomerFunction::new(CustomerReading::Ids, keys))
}

/// The identifiers under `keys` anywhere in a JSON text, in order of appearance, without repeats.
pub fn customer_ids(text: &str, keys: &[String]) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(&value, keys, &mut found);
    found
}

fn walk(value: &Value, keys: &[String], found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if keys.iter().any(|k| k == key) {
                    collect(inner, found);
                }
                walk(inner, keys, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, keys, found)),
        // Tool results often carry JSON inside a string (MCP text content).
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                walk(&inner, keys, found);
            }
        }
        _ => {}
    }
}

/// The customer ids a text names under `keys`, read leniently: for text that is not JSON (a
/// rejected line cut short), every `"key": value` (also with escaped quotes, as inside a JSON
/// string) whose value is a complete string, number or array of them.
pub fn customer_mentions(text: &str, keys: &[String]) -> Vec<String> {
    let parsed = customer_ids(text, keys);
    if !parsed.is_empty() || serde_json::from_str::<Value>(text).is_ok() {
        return parsed;
    }
    let unescaped = text.replace("\\\"", "\"");
    let mut found = Vec::new();
    for key in keys {
        let quoted = format!("\"{key}\"");
        let mut rest = unescaped.as_str();
        while let Some(at) = rest.find(&quoted) {
            rest = &rest[at + quoted.len()..];
            let after = rest.trim_start();
            let Some(value) = after.strip_prefix(':') else {
                continue;
            };
            let value = value.trim_start();
            // Items of a closed array are complete, and so are those a comma follows. The last
            // item of an array the cut ended, like a bare value, is complete when its closing
            // quote survives (a text id) or something follows it (a number).
            let (items, closed): (Vec<&str>, bool) = match value.strip_prefix('[') {
                Some(list) => match list.find(']') {
                    Some(end) => (list[..end].split(',').collect(), true),
                    None => (list.split(',').collect(), false),
                },
                None => (vec![value], false),
            };
            let last = items.len().saturating_sub(1);
            for (index, item) in items.into_iter().enumerate() {
                let closed = closed || index < last;
                let item = item.trim();
                let id = if let Some(string) = item.strip_prefix('"') {
                    string.find('"').map(|end| &string[..end])
                } else {
                    let end = item
                        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                        .unwrap_or(item.len());
                    // A number cut by the end of the text may be incomplete: not named.
                    (end > 0 && (closed || end < item.len())).then(|| &item[..end])
                };
                if let Some(id) = id.map(str::trim).filter(|id| !id.is_empty())
                    && !found.iter().any(|f: &String| f == id)
                {
                    found.push(id.to_string());
                }
            }
        }
    }
    found
}

/// The `customer_mentions` function for these keys.
pub fn customer_mentions_udf(keys: Vec<String>) -> ScalarUDF {
    ScalarUDF::new_from_impl(CustomerFunction::new(CustomerReading::Mentions, keys))
}

fn collect(value: &Value, found: &mut Vec<String>) {
    let id = match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => {
            items
                .iter()
                .filter(|v| !v.is_array() && !v.is_object())
                .for_each(|v| collect(v, found));
            None
        }
        _ => None,
    };
    if let Some(id) = id.filter(|id| !found.contains(id)) {
        found.push(id);
    }
}

/// A scalar function from one text column to a value built per row.
fn text_udf<B, F>(
    name: &'static str,
    output: DataType,
    new_builder: fn() -> B,
    each: F,
) -> ScalarUDF
where
    B: arrow::array::ArrayBuilder,
    F: Fn(Option<&str>, &mut B) + Send + Sync + 'static,
{
    let implementation = move |args: &[ColumnarValue]| -> Result<ColumnarValue, DataFusionError> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let input = arrays
            .first()
            .and_then(|a| a.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| DataFusionError::Plan(format!("{name} expects one text argument")))?;
        let mut builder = new_builder();
        for row in 0..input.len() {
            each(
                (!input.is_null(row)).then(|| input.value(row)),
                &mut builder,
            );
        }
        Ok(ColumnarValue::Array(builder.finish()))
    };
    create_udf(
        name,
        vec![DataType::Utf8],
        output,
        Volatility::Immutable,
        Arc::new(implementation),
    )
}

/// Every function a session registers that needs nothing from the case: the JSON functions of
/// `datafusion-functions-json` and [`outside_hosts_udf`], [`wide_request_udf`].
pub fn keyless_functions() -> Vec<Arc<ScalarUDF>> {
    use datafusion_functions_json::udfs;
    vec![
        udfs::json_get_udf(),
        udfs::json_get_bool_udf(),
        udfs::json_get_float_udf(),
        udfs::json_get_int_udf(),
        udfs::json_get_json_udf(),
        udfs::json_get_array_udf(),
        udfs::json_as_text_udf(),
        udfs::json_get_str_udf(),
        udfs::json_contains_udf(),
        udfs::json_length_udf(),
        udfs::json_object_keys_udf(),
        udfs::json_from_scalar_udf(),
        udfs::json_union_to_text_udf(),
        Arc::new(outside_hosts_udf()),
        Arc::new(wide_request_udf()),
        Arc::new(call_key_udf()),
        Arc::new(trace_id_udf()),
        Arc::new(target_host_udf()),
    ]
}

/// The `target_host` function: [`target_host`] of each row.
pub fn target_host_udf() -> ScalarUDF {
    text_udf(
        "target_host",
        DataType::Utf8,
        StringBuilder::new,
        |text, builder: &mut StringBuilder| match text.map(target_host) {
            Some(host) if !host.is_empty() => builder.append_value(host),
            _ => builder.append_null(),
        },
    )
}

/// The host a dependency `Target` (`host`, `host:port`, `server | database`) or a URL
/// (`http://10.0.2.5:8080/mcp`) names, lower case; an IPv6 address loses its brackets.
pub fn target_host(text: &str) -> String {
    let text = text.split(" | ").next().unwrap_or_default().trim();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = text.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if authority.matches(':').count() == 1 {
        authority.split(':').next().unwrap_or_default()
    } else {
        authority
    };
    host.to_ascii_lowercase()
}

/// The `trace_id` function: [`trace_id`] of each row.
pub fn trace_id_udf() -> ScalarUDF {
    text_udf(
        "trace_id",
        DataType::Utf8,
        StringBuilder::new,
        |text, builder: &mut StringBuilder| match text {
            Some(text) => match trace_id(text) {
                Some(id) => builder.append_value(id),
                None => builder.append_value(text),
            },
            None => builder.append_null(),
        },
    )
}

/// The 128-bit trace id a text carries, as 32 lower-case hex digits: 32 hex digits, a GUID with
/// dashes (8-4-4-4-12, optionally in braces), a `traceparent` (`00-<trace>-<span>-<flags>`) or a
/// hierarchical `Request-Id` (`|<trace>.<span>.`). None for anything else, and for the all-zero
/// id, which the W3C specification declares invalid.
pub fn trace_id(text: &str) -> Option<String> {
    let text = text.trim();
    let hex32 = |s: &str| -> Option<String> {
        (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
    };
    let id = if let Some(id) = hex32(text) {
        Some(id)
    } else if let Some(rest) = text.strip_prefix('|') {
        hex32(rest.split('.').next().unwrap_or_default())
    } else {
        let parts: Vec<&str> = text.split('-').collect();
        match parts.as_slice() {
            // traceparent: version, trace id, parent span id, flags.
            [version, trace, span, flags]
                if version.len() == 2 && span.len() == 16 && flags.len() == 2 =>
            {
                hex32(trace)
            }
            _ => {
                let guid = text
                    .strip_prefix('{')
                    .and_then(|t| t.strip_suffix('}'))
                    .unwrap_or(text);
                let groups: Vec<&str> = guid.split('-').collect();
                let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
                if lengths == [8, 4, 4, 4, 12] {
                    hex32(&groups.concat())
                } else {
                    None
                }
            }
        }
    };
    id.filter(|id| id.bytes().any(|b| b != b'0'))
}

/// The `call_key` function: [`call_key`] of each row's blob name and line.
pub fn call_key_udf() -> ScalarUDF {
    use arrow::array::{Int64Builder, UInt64Array};
    let implementation = |args: &[ColumnarValue]| -> Result<ColumnarValue, DataFusionError> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let (Some(blobs), Some(lines)) = (
            arrays
                .first()
                .and_then(|a| a.as_any().downcast_ref::<StringArray>()),
            arrays
                .get(1)
                .and_then(|a| a.as_any().downcast_ref::<UInt64Array>()),
        ) else {
            return Err(DataFusionError::Plan(
                "call_key expects a blob name and a line number".into(),
            ));
        };
        let mut keys = Int64Builder::with_capacity(blobs.len());
        for row in 0..blobs.len() {
            keys.append_option(
                (!blobs.is_null(row) && !lines.is_null(row))
                    .then(|| call_key(blobs.value(row), lines.value(row))),
            );
        }
        Ok(ColumnarValue::Array(Arc::new(keys.finish()) as ArrayRef))
    };
    create_udf(
        "call_key",
        vec![DataType::Utf8, DataType::UInt64],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(implementation),
    )
}

/// A 64-bit key for the evidence row at `line` of `blob`: the same in every process and run of a
/// build (xxh3, which is specified, seeded with the line). Distinct rows may share a key with a
/// chance of about n²/2⁶⁵ among n rows (1 in 50 million at a million calls), so the pack checks
/// that the keys of every call it relates are distinct (`-- unique:` in a query's header).
pub fn call_key(blob: &str, line: u64) -> i64 {
    i64::from_ne_bytes(xxhash_rust::xxh3::xxh3_64_with_seed(blob.as_bytes(), line).to_ne_bytes())
}

/// The `outside_hosts` function.
pub fn outside_hosts_udf() -> ScalarUDF {
    text_udf(
        "outside_hosts",
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        || ListBuilder::new(StringBuilder::new()),
        |text, builder: &mut ListBuilder<StringBuilder>| match text {
            None => builder.append_null(),
            Some(text) => {
                for host in outside_hosts(text) {
                    builder.values().append_value(host);
                }
                builder.append(true);
            }
        },
    )
}

/// The `wide_request` function.
pub fn wide_request_udf() -> ScalarUDF {
    text_udf(
        "wide_request",
        DataType::Boolean,
        arrow::array::BooleanBuilder::new,
        |text, builder: &mut arrow::array::BooleanBuilder| {
            builder.append_option(text.map(wide_request));
        },
    )
}

/// Host names of the URLs (`scheme://host…`) and e-mail addresses (`name@host`) in the string
/// values of a JSON text (or in the text itself when it is not JSON), lower case, without repeats.
pub fn outside_hosts(text: &str) -> Vec<String> {
    let mut strings = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(value) => strings_of(&value, &mut strings),
        Err(_) => strings.push(text.to_string()),
    }
    let mut hosts = Vec::new();
    for s in &strings {
        for word in
            s.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ',' | ';'))
        {
            let host = if let Some((_, rest)) = word.split_once("://") {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                authority
                    .rsplit_once(':')
                    .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
                    .map_or(authority, |(h, _)| h)
            } else if let Some((local, domain)) = word.split_once('@') {
                if local.is_empty() || !domain.contains('.') {
                    continue;
                }
                domain
            } else {
                continue;
            };
            let host = host
                .trim_matches(|c: char| c == '.' || c == '[' || c == ']')
                .to_ascii_lowercase();
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
            if valid && !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
}

fn strings_of(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_of(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_of(v, out)),
        _ => {}
    }
}

/// Keys whose value is a search pattern.
const QUERY_KEYS: [&str; 5] = ["query", "q", "search", "filter", "pattern"];
/// Keys whose value bounds the rows returned.
const LIMIT_KEYS: [&str; 8] = [
    "limit",
    "top",
    "max",
    "max_rows",
    "maxRows",
    "page_size",
    "pageSize",
    "count",
];
/// A row limit at least this large asks for everything (an interactive tool asks for tens).
pub const WIDE_LIMIT: f64 = 1000.0;

/// Whether tool arguments ask for everything: a search value that is only wildcards or empty, or
/// a row limit of [`WIDE_LIMIT`] or more, under any key at the top level of the arguments.
pub fn wide_request(text: &str) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    map.iter().any(|(key, value)| {
        let key_is = |keys: &[&str]| keys.iter().any(|k| k.eq_ignore_ascii_case(key));
        match value {
            Value::String(s) if key_is(&QUERY_KEYS) => s
                .trim()
                .chars()
                .all(|c| matches!(c, '%' | '*' | '.' | '?' | '_')),
            Value::Number(n) if key_is(&LIMIT_KEYS) => n.as_f64().is_some_and(|n| n >= WIDE_LIMIT),
            Value::String(s) if key_is(&LIMIT_KEYS) => {
                s.trim().parse::<f64>().is_ok_and(|n| n >= WIDE_LIMIT)
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_hosts_read_as_exporters_write_targets() {
        for (target, host) in [
            ("files-drop.example.net", "files-drop.example.net"),
            ("Files-Drop.example.net:443", "files-drop.example.net"),
            (
                "sql-crm-prod.database.windows.net | crm",
                "sql-crm-prod.database.windows.net",
            ),
            ("http://10.0.2.5:8080/mcp", "10.0.2.5"),
            ("https://user@kb.contoso.com/a?b=1", "kb.contoso.com"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("", ""),
        ] {
            assert_eq!(target_host(target), host, "{target}");
        }
    }

    #[test]
    fn trace_ids_compare_in_every_form_azure_writes() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        for form in [
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "4BF92F3577B34DA6A3CE929D0E0E4736",
            "4bf92f35-77b3-4da6-a3ce-929d0e0e4736",
            "{4BF92F35-77B3-4DA6-A3CE-929D0E0E4736}",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "|4bf92f3577b34da6a3ce929d0e0e4736.00f067aa0ba902b7.",
        ] {
            assert_eq!(trace_id(form).as_deref(), Some(id), "{form}");
        }
        for other in [
            "",
            "abc",
            "00000000-0000-0000-0000-000000000000",
            "4bf92f35-77b3-4da6-a3ce-929d0e0e473",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "zzf92f3577b34da6a3ce929d0e0e4736",
        ] {
            assert_eq!(trace_id(other), None, "{other}");
        }
    }

    #[test]
    fn customer_mentions_reads_a_line_cut_short() {
        let keys: Vec<String> = DEFAULT_CUSTOMER_KEYS
            .iter()
            .map(|k| k.to_string())
            .collect();
        let cut = r#"{"Properties":{"gen_ai.tool.call.arguments":"{\"customer_id\":\"C-1\",\"customerIds\":[\"C-2\", 17],\"account_id\":12"#;
        assert_eq!(customer_mentions(cut, &keys), vec!["C-1", "C-2", "17"]);
        // A complete document is read as JSON, as customer_ids reads it.
        assert_eq!(
            customer_mentions(r#"{"customer":"C-9"}"#, &keys),
            vec!["C-9"]
        );
        assert!(customer_mentions(r#"{"customer_id":"C-"#, &keys).is_empty());
        // An array the cut ended: its complete items are named, the cut one is not.
        assert_eq!(
            customer_mentions(r#"{"customerIds":["C-2", "C-3", 41, 5"#, &keys),
            vec!["C-2", "C-3", "41"]
        );
    }

    #[test]
    fn outside_hosts_come_from_urls_and_mail_addresses() {
        assert_eq!(
            outside_hosts(
                r#"{"url":"https://Hooks.Example.net:8443/x?a=1","to":["ops@corp.example.org"],"n":3}"#
            ),
            vec!["hooks.example.net", "corp.example.org"]
        );
        assert_eq!(
            outside_hosts(
                r#"{"body":"see http://user:pw@10.1.2.3/a and https://hooks.example.net/b"}"#
            ),
            vec!["10.1.2.3", "hooks.example.net"]
        );
        assert!(outside_hosts(r#"{"customer_id":"C-1","query":"a@b"}"#).is_empty());
        assert_eq!(
            outside_hosts("plain https://x.example/y"),
            vec!["x.example"]
        );
    }

    #[test]
    fn wide_requests_are_wildcards_and_large_limits() {
        assert!(wide_request(r#"{"query":"%"}"#));
        assert!(wide_request(r#"{"Query":"","limit":10}"#));
        assert!(wide_request(r#"{"query":"acme","limit":5000}"#));
        assert!(wide_request(r#"{"top":"1000"}"#));
        assert!(!wide_request(r#"{"query":"acme ltd","limit":50}"#));
        assert!(!wide_request(r#"{"customer_id":"%"}"#));
        assert!(!wide_request("not json"));
    }

    fn keys() -> Vec<String> {
        DEFAULT_CUSTOMER_KEYS
            .iter()
            .map(|k| (*k).to_string())
            .collect()
    }

    #[test]
    fn finds_ids_under_every_alias_and_depth() {
        assert_eq!(
            customer_ids(r#"{"customer_id":"C-1","since":"2026"}"#, &keys()),
            vec!["C-1"]
        );
        assert_eq!(
            customer_ids(
                r#"{"customer_ids":["C-1","C-2","C-1"],"deliver_to":"x"}"#,
                &keys()
            ),
            vec!["C-1", "C-2"]
        );
        assert_eq!(
            customer_ids(
                r#"{"matches":[{"customerId":"C-3"},{"accountId":42}]}"#,
                &keys()
            ),
            vec!["C-3", "42"]
        );
        assert_eq!(
            customer_ids(
                r#"{"content":[{"type":"text","text":"{\"customer\":\"C-9\"}"}]}"#,
                &keys()
            ),
            vec!["C-9"]
        );
        assert!(customer_ids(r#"{"query":"acme ltd"}"#, &keys()).is_empty());
        assert!(customer_ids("not json", &keys()).is_empty());
        assert_eq!(
            customer_ids(r#"{"client":"C-1"}"#, &["client".to_string()]),
            vec!["C-1"]
        );
    }
}
