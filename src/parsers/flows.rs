//! NSG flow logs (v1, v2) and VNet flow logs: one `flows` row per flow tuple.
//!
//! NSG: `records[].properties.flows[].rule` → `.flows[].mac` → `.flowTuples[]`, tuples of 8
//! (v1) or 13 (v2) fields. VNet: `records[].flowRecords.flows[].aclID` → `.flowGroups[].rule`
//! → `.flowTuples[]`, 13 fields with a numeric protocol and the time in seconds or milliseconds.
//! A malformed tuple rejects that tuple only; the rest of its record is kept.

use serde_json::{Map, Value};

use super::columns::{Cell, ColumnSpec, Kind, derived};

use Kind::{Int, Str, Time};

/// Columns of the `flows` table.
pub const FLOW_COLUMNS: &[ColumnSpec] = &[
    derived(
        "time",
        Time,
        "tuple time (epoch seconds, or milliseconds in VNet flow logs)",
    ),
    derived("record_time", Time, "the enclosing record's `time`"),
    derived(
        "log_type",
        Str,
        "nsg (NSG flow log) or vnet (VNet flow log)",
    ),
    derived(
        "log_version",
        Int,
        "properties.Version (NSG) or flowLogVersion (VNet)",
    ),
    derived(
        "resource_id",
        Str,
        "the NSG (resourceId) or the flow log (flowLogResourceID)",
    ),
    derived(
        "target_resource_id",
        Str,
        "VNet flow logs: the VNet, subnet or NIC logged",
    ),
    derived("acl_id", Str, "VNet flow logs: aclID"),
    derived("rule", Str, "the rule that matched"),
    derived("mac", Str, "the NIC's MAC address"),
    derived("src_ip", Str, "source address"),
    derived("dst_ip", Str, "destination address"),
    derived("src_port", Int, "source port"),
    derived("dst_port", Int, "destination port"),
    derived(
        "protocol",
        Str,
        "TCP or UDP (T/U in NSG, 6/17 in VNet tuples; other numbers kept as written)",
    ),
    derived(
        "direction",
        Str,
        "I inbound, O outbound (as seen by the NIC)",
    ),
    derived(
        "decision",
        Str,
        "A allowed, D denied (VNet: D when the flow state is D)",
    ),
    derived(
        "state",
        Str,
        "v2/VNet flow state: B begin, C continuing, E end, D denied; null in v1",
    ),
    derived(
        "encryption",
        Str,
        "VNet flow logs: X encrypted, NX… not encrypted",
    ),
    derived(
        "packets_src_to_dst",
        Int,
        "packets source→destination since the last update (null when not counted)",
    ),
    derived(
        "bytes_src_to_dst",
        Int,
        "bytes source→destination since the last update",
    ),
    derived(
        "packets_dst_to_src",
        Int,
        "packets destination→source since the last update",
    ),
    derived(
        "bytes_dst_to_src",
        Int,
        "bytes destination→source since the last update; for an inbound flow, what the server sent to the client",
    ),
];

/// One decoded tuple, or why a tuple or record was rejected.
pub enum FlowItem {
    /// A tuple turned into cells, with the text hashed for de-duplication.
    Row {
        /// Cells in [`FLOW_COLUMNS`] order.
        cells: Vec<Cell<'static>>,
        /// Identity of the tuple: resource, MAC, rule and the tuple text.
        identity: String,
    },
    /// A rejected tuple or record.
    Reject {
        /// Why.
        reason: String,
        /// The offending text.
        raw: String,
    },
}

/// Decodes one flow-log record into tuple rows and rejects.
pub fn decode_record(record: &Map<String, Value>) -> Vec<FlowItem> {
    let mut out = Vec::new();
    let record_time = record
        .get("time")
        .and_then(Value::as_str)
        .and_then(crate::time::parse_timestamp)
        .and_then(crate::time::to_nanos);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    if let Some(flow_records) = record.get("flowRecords") {
        let version = record.get("flowLogVersion").and_then(Value::as_i64);
        if !matches!(version, Some(1..=4)) {
            out.push(reject_record(
                format!(
                    "unsupported VNet flow log version {}",
                    show(record.get("flowLogVersion"))
                ),
                record,
            ));
            return out;
        }
        let context = TupleContext {
            record_time,
            log_type: "vnet",
            version: version.unwrap_or_default(),
            resource_id: text(record.get("flowLogResourceID")),
            target_resource_id: text(record.get("targetResourceID")),
            mac: text(record.get("macAddress")),
        };
        let mut bad = Vec::new();
        if !flow_records.is_object() {
            bad.push(format!(
                "flowRecords is {}, not an object",
                super::columns::describe(flow_records)
            ));
        }
        for flow in objects(flow_records.get("flows"), "flowRecords.flows", &mut bad) {
            let acl = text(flow.get("aclID"));
            for group in objects(flow.get("flowGroups"), "flowGroups", &mut bad) {
                let rule = text(group.get("rule"));
                for tuple in array(group.get("flowTuples"), "flowTuples", &mut bad) {
                    out.push(context.tuple(
                        tuple,
                        acl.as_deref(),
                        rule.as_deref(),
                        context.mac.as_deref(),
                    ));
                }
            }
        }
        out.extend(bad.into_iter().map(|reason| reject_record(reason, record)));
        return out;
    }
    let Some(properties) = record.get("properties").and_then(Value::as_object) else {
        out.push(reject_record(
            "neither properties.flows (NSG) nor flowRecords (VNet): not a flow-log record".into(),
            record,
        ));
        return out;
    };
    let version = properties.get("Version").and_then(Value::as_i64);
    if !matches!(version, Some(1 | 2)) {
        out.push(reject_record(
            format!(
                "unsupported NSG flow log version {}",
                show(properties.get("Version"))
            ),
            record,
        ));
        return out;
    }
    let context = TupleContext {
        record_time,
        log_type: "nsg",
        version: version.unwrap_or_default(),
        resource_id: text(record.get("resourceId")).or_else(|| text(record.get("resourceid"))),
        target_resource_id: None,
        mac: text(record.get("macAddress")),
    };
    let mut bad = Vec::new();
    for rule_flows in objects(properties.get("flows"), "properties.flows", &mut bad) {
        let rule = text(rule_flows.get("rule"));
        for mac_flows in objects(
            rule_flows.get("flows"),
            "properties.flows[].flows",
            &mut bad,
        ) {
            let mac = text(mac_flows.get("mac")).or_else(|| context.mac.clone());
            for tuple in array(mac_flows.get("flowTuples"), "flowTuples", &mut bad) {
                out.push(context.tuple(tuple, None, rule.as_deref(), mac.as_deref()));
            }
        }
    }
    out.extend(bad.into_iter().map(|reason| reject_record(reason, record)));
    out
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(missing)".to_string(), Value::to_string)
}

/// The items of an array field; absent or null is empty. Any other type is noted in `bad` (the
/// record is then rejected with that reason, so nothing is skipped silently).
fn array<'a>(value: Option<&'a Value>, path: &str, bad: &mut Vec<String>) -> &'a [Value] {
    match value {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            bad.push(format!(
                "{path} is {}, not an array",
                super::columns::describe(other)
            ));
            &[]
        }
    }
}

/// The object items of an array field; other items are noted in `bad` like a wrong type.
fn objects<'a>(
    value: Option<&'a Value>,
    path: &str,
    bad: &mut Vec<String>,
) -> Vec<&'a Map<String, Value>> {
    let mut out = Vec::new();
    for item in array(value, path, bad) {
        match item.as_object() {
            Some(object) => out.push(object),
            None => bad.push(format!(
                "an item of {path} is {}, not an object",
                super::columns::describe(item)
            )),
        }
    }
    out
}

fn reject_record(reason: String, record: &Map<String, Value>) -> FlowItem {
    FlowItem::Reject {
        reason,
        raw: Value::Object(record.clone()).to_string(),
    }
}

struct TupleContext {
    record_time: Option<i64>,
    log_type: &'static str,
    version: i64,
    resource_id: Option<String>,
    target_resource_id: Option<String>,
    mac: Option<String>,
}

impl TupleContext {
    fn tuple(
        &self,
        tuple: &Value,
        acl: Option<&str>,
        rule: Option<&str>,
        mac: Option<&str>,
    ) -> FlowItem {
        let Some(text) = tuple.as_str() else {
            return FlowItem::Reject {
                reason: "flow tuple is not a string".into(),
                raw: tuple.to_string(),
            };
        };
        match self.parse(text, acl, rule, mac) {
            Ok(cells) => FlowItem::Row {
                cells,
                identity: self.identity(acl, rule, mac, text),
            },
            Err(reason) => FlowItem::Reject {
                reason: format!("flow tuple: {reason}"),
                raw: text.to_string(),
            },
        }
    }

    /// What makes a tuple the same tuple: every field that places it, as a JSON array, so no
    /// two different tuples share it (a `|` inside a rule name cannot shift one field into the
    /// next, and an absent field differs from an empty one).
    fn identity(
        &self,
        acl: Option<&str>,
        rule: Option<&str>,
        mac: Option<&str>,
        text: &str,
    ) -> String {
        serde_json::json!([
            self.log_type,
            self.resource_id,
            self.target_resource_id,
            mac,
            acl,
            rule,
            text
        ])
        .to_string()
    }

    fn parse(
        &self,
        text: &str,
        acl: Option<&str>,
        rule: Option<&str>,
        mac: Option<&str>,
    ) -> Result<Vec<Cell<'static>>, String> {
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        let expected = if self.log_type == "nsg" && self.version == 1 {
            8
        } else {
            13
        };
        if fields.len() != expected {
            return Err(format!(
                "{} fields, expected {expected} for {} v{}",
                fields.len(),
                self.log_type,
                self.version
            ));
        }
        let epoch: i64 = fields[0]
            .parse()
            .map_err(|_| format!("time {:?} is not an epoch", fields[0]))?;
        let time = crate::time::epoch_to_utc(epoch)
            .and_then(crate::time::to_nanos)
            .ok_or_else(|| format!("time {epoch} out of range"))?;
        for ip in [fields[1], fields[2]] {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(format!("{ip:?} is not an IP address"));
            }
        }
        let port = |s: &str| {
            s.parse::<u16>()
                .map(|p| Cell::Int(i64::from(p)))
                .map_err(|_| format!("port {s:?} is not a port number"))
        };
        let protocol = match fields[5] {
            "T" | "6" => "TCP".to_string(),
            "U" | "17" => "UDP".to_string(),
            other if !other.is_empty() && other.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                other.to_string()
            }
            other => return Err(format!("protocol {other:?}")),
        };
        if !matches!(fields[6], "I" | "O") {
            return Err(format!("direction {:?} is not I or O", fields[6]));
        }
        let (decision, state, encryption, counters) = if expected == 8 {
            (fields[7], None, None, &[][..])
        } else if self.log_type == "nsg" {
            (fields[7], Some(fields[8]), None, &fields[9..13])
        } else {
            let state = fields[7];
            (
                if state == "D" { "D" } else { "A" },
                Some(state),
                Some(fields[8]),
                &fields[9..13],
            )
        };
        if !matches!(decision, "A" | "D") {
            return Err(format!("decision {decision:?} is not A or D"));
        }
        if let Some(s) = state.filter(|s| !matches!(*s, "B" | "C" | "E" | "D")) {
            return Err(format!("flow state {s:?} is not B, C, E or D"));
        }
        let mut counts = Vec::with_capacity(4);
        for c in counters {
            counts.push(if c.is_empty() {
                Cell::Null
            } else {
                Cell::Int(
                    c.parse::<i64>()
                        .map_err(|_| format!("counter {c:?} is not a number"))?,
                )
            });
        }
        counts.resize(4, Cell::Null);
        let mut cells = vec![
            Cell::Time(time),
            self.record_time.map_or(Cell::Null, Cell::Time),
            Cell::Str(self.log_type.into()),
            Cell::Int(self.version),
            Cell::text(self.resource_id.clone()),
            Cell::text(self.target_resource_id.clone()),
            Cell::text(acl.map(str::to_string)),
            Cell::text(rule.map(str::to_string)),
            Cell::text(mac.map(str::to_string)),
            Cell::Str(fields[1].to_string().into()),
            Cell::Str(fields[2].to_string().into()),
            port(fields[3])?,
            port(fields[4])?,
            Cell::Str(protocol.into()),
            Cell::Str(fields[6].to_string().into()),
            Cell::Str(decision.to_string().into()),
            Cell::text(state.map(str::to_string)),
            Cell::text(encryption.map(str::to_string)),
        ];
        cells.extend(counts);
        Ok(cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_identities_never_merge_two_different_tuples() {
        let context = |resource: &str| TupleContext {
            record_time: None,
            log_type: "NSG",
            version: 2,
            resource_id: Some(resource.into()),
            target_resource_id: None,
            mac: None,
        };
        let tuple = "1,10.0.0.1,10.0.0.2,1,2,T,I,A";
        // The same text split differently between resource, rule and MAC.
        let a = context("R|x").identity(None, Some("y"), None, tuple);
        let b = context("R").identity(None, Some("x|y"), None, tuple);
        assert_ne!(a, b);
        // Absent and empty differ; so do two ACLs with the same rule.
        assert_ne!(
            context("R").identity(None, Some(""), None, tuple),
            context("R").identity(None, None, None, tuple)
        );
        assert_ne!(
            context("R").identity(Some("acl-1"), Some("r"), None, tuple),
            context("R").identity(Some("acl-2"), Some("r"), None, tuple)
        );
        assert_eq!(
            context("R").identity(Some("acl-1"), Some("r"), Some("m"), tuple),
            context("R").identity(Some("acl-1"), Some("r"), Some("m"), tuple)
        );
    }
    use serde_json::json;

    fn decode(record: Value) -> (Vec<Vec<Cell<'static>>>, Vec<String>) {
        let Value::Object(map) = record else {
            return (vec![], vec![]);
        };
        let mut rows = Vec::new();
        let mut rejects = Vec::new();
        for item in decode_record(&map) {
            match item {
                FlowItem::Row { cells, .. } => rows.push(cells),
                FlowItem::Reject { reason, .. } => rejects.push(reason),
            }
        }
        (rows, rejects)
    }

    #[test]
    fn nsg_v2_tuples_with_empty_and_full_counters() {
        let (rows, rejects) = decode(
            json!({"time": "2018-11-13T12:00:35.3899262Z", "resourceId": "/NSG", "properties": {"Version": 2, "flows": [
            {"rule": "R", "flows": [{"mac": "000D3AF87856", "flowTuples": [
                "1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,",
                "1542110377,10.5.16.4,203.0.113.10,35370,23,T,O,A,E,1,66,1,66",
                "1542110377,10.5.16.4,203.0.113.10,35370,23,T,O,A,E,1,66,1,x",
                "bad"]}]}]}}),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rejects.len(), 2);
        assert_eq!(rows[0][13], Cell::Str("UDP".into()));
        assert_eq!(rows[0][18], Cell::Null);
        assert_eq!(rows[1][21], Cell::Int(66));
    }

    #[test]
    fn vnet_tuples_in_milliseconds_and_unknown_versions() {
        let (rows, rejects) = decode(
            json!({"time": "2022-09-14T09:00:52Z", "flowLogVersion": 4, "macAddress": "00224871C205",
            "flowRecords": {"flows": [{"aclID": "a", "flowGroups": [{"rule": "R", "flowTuples": [
                "1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580"]}]}]}}),
        );
        assert!(rejects.is_empty());
        assert_eq!(rows[0][0], Cell::Time(1_663_146_003_606_000_000));
        assert_eq!(rows[0][15], Cell::Str("A".into()));
        assert_eq!(rows[0][8], Cell::Str("00224871C205".into()));
        let (rows, rejects) =
            decode(json!({"time": "x", "properties": {"Version": 3, "flows": []}}));
        assert!(rows.is_empty());
        assert_eq!(
            rejects,
            vec!["unsupported NSG flow log version 3".to_string()]
        );
    }
}
