//! Forensic SQL functions registered on every session.
//!
//! `customer_ids(json_text)`: the data-subject identifiers named in a JSON document (tool
//! arguments or results), found under the case's customer keys at any depth, as a list of text.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use serde_json::Value;

/// Keys that name a customer in tool arguments and results, unless the case config says otherwise.
pub const DEFAULT_CUSTOMER_KEYS: [&str; 7] = [
    "customer_id",
    "customerId",
    "customer_ids",
    "customerIds",
    "customer",
    "account_id",
    "accountId",
];

/// The `customer_ids` function for these keys.
pub fn customer_ids_udf(keys: Vec<String>) -> ScalarUDF {
    let keys = Arc::new(keys);
    let implementation = move |args: &[ColumnarValue]| -> Result<ColumnarValue, DataFusionError> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let input = arrays
            .first()
            .and_then(|a| a.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| {
                DataFusionError::Plan("customer_ids expects one text argument".into())
            })?;
        let mut builder = ListBuilder::new(StringBuilder::new());
        for row in 0..input.len() {
            if input.is_null(row) {
                builder.append_null();
                continue;
            }
            for id in customer_ids(input.value(row), &keys) {
                builder.values().append_value(id);
            }
            builder.append(true);
        }
        let array: ArrayRef = Arc::new(builder.finish());
        Ok(ColumnarValue::Array(array))
    };
    create_udf(
        "customer_ids",
        vec![DataType::Utf8],
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        Volatility::Immutable,
        Arc::new(implementation),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
