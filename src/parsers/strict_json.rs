//! Parsing a record so that a repeated key never silently replaces the first.
//!
//! JSON leaves duplicate keys undefined and `serde_json` keeps the last one: a record carrying
//! `"UserPrincipalName"` twice would type the second into the column, unseen. Here the first
//! occurrence wins at every depth, and every later one is handed back with its path, so the
//! decoder can keep it (in `_extra`, under [`DUPLICATE_KEYS`]) and mark the row.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// `_extra` key under which the later values of repeated keys are kept, by JSON path.
pub const DUPLICATE_KEYS: &str = "_duplicate_keys";

/// A later value of a repeated key: its path (`Properties.user`) and the value.
pub type Duplicate = (String, Value);

/// Parses `bytes` as one JSON value, first key wins; returns it and the later duplicates.
pub fn parse(bytes: &[u8]) -> Result<(Value, Vec<Duplicate>), serde_json::Error> {
    let mut duplicates = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    // The serde_json recursion limit (128) still applies and rejects deeper input clearly.
    let value = FirstWins {
        at: None,
        duplicates: &mut duplicates,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok((value, duplicates))
}

/// The later values as one object for `_extra`: `{"path": value}` or `{"path": [v2, v3]}`.
pub fn duplicates_object(duplicates: Vec<Duplicate>) -> Value {
    let mut out = Map::new();
    for (path, value) in duplicates {
        match out.get_mut(&path) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => {
                let first = first.take();
                out.insert(path, Value::Array(vec![first, value]));
            }
            None => {
                out.insert(path, value);
            }
        }
    }
    Value::Object(out)
}

/// Where a value sits, as a chain of borrowed steps: nothing is allocated per key, the text
/// of a path is built only for a duplicate (this runs on every record ingested).
struct Step<'p> {
    parent: Option<&'p Step<'p>>,
    key: StepKey<'p>,
}

enum StepKey<'p> {
    Name(&'p str),
    Index(usize),
}

impl Step<'_> {
    fn render(&self) -> String {
        let mut path = self.parent.map(Step::render).unwrap_or_default();
        match self.key {
            StepKey::Name(name) if path.is_empty() => path.push_str(name),
            StepKey::Name(name) => {
                path.push('.');
                path.push_str(name);
            }
            StepKey::Index(i) => path.push_str(&format!("[{i}]")),
        }
        path
    }
}

struct FirstWins<'a, 'p> {
    at: Option<&'p Step<'p>>,
    duplicates: &'a mut Vec<Duplicate>,
}

impl<'de> DeserializeSeed<'de> for FirstWins<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstWins<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        loop {
            let step = Step {
                parent: self.at,
                key: StepKey::Index(values.len()),
            };
            let next = seq.next_element_seed(FirstWins {
                at: Some(&step),
                duplicates: &mut *self.duplicates,
            })?;
            match next {
                Some(value) => values.push(value),
                None => return Ok(Value::Array(values)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = Step {
                parent: self.at,
                key: StepKey::Name(&key),
            };
            let value = map.next_value_seed(FirstWins {
                at: Some(&step),
                duplicates: &mut *self.duplicates,
            })?;
            if object.contains_key(&key) {
                self.duplicates.push((step.render(), value));
            } else {
                object.insert(key, value);
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_of_a_repeated_key_wins_at_every_depth_and_the_rest_is_kept() {
        let (value, duplicates) = parse(
            br#"{"User":"alice","P":{"a":1,"a":2,"a":3},"User":"mallory","L":[{"k":1,"k":2}]}"#,
        )
        .unwrap();
        assert_eq!(value["User"], "alice");
        assert_eq!(value["P"]["a"], 1);
        assert_eq!(value["L"][0]["k"], 1);
        assert_eq!(
            duplicates_object(duplicates),
            serde_json::json!({"P.a": [2, 3], "User": "mallory", "L[0].k": 2})
        );
        let (value, duplicates) = parse(br#"{"a":1.5,"b":[true,null]}"#).unwrap();
        assert_eq!(value, serde_json::json!({"a":1.5,"b":[true,null]}));
        assert!(duplicates.is_empty());
        assert!(parse(br#"{"a":1}{"#).is_err());
    }
}
