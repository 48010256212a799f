//! Diagnostic-settings archives (`insights-logs-<category>`) onto the tables the Log Analytics
//! export fills, so the same evidence gives the same typed rows whichever way it was exported.
//!
//! A diagnostic-settings record is a camelCase envelope (`time`, `category`, `resultType`,
//! `callerIpAddress`, `correlationId`, `location`, …) around a `properties` object. Application
//! Insights categories already carry the Log Analytics column names beside `time`. The catalogue
//! (`crate::catalog`) names each category's table and its layout; here each layout is declared
//! once: the envelope keys that become columns, and the property names that differ from their
//! column (the rest map by capitalising the first letter). A key that maps to no declared column keeps its own name in `_extra`, so
//! nothing is dropped.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::log_analytics::{self, TableSpec};
use super::scan::{self, Member, ValueKind};
use crate::catalog::{self, Decoder, Envelope};

/// One diagnostic-settings category, as the catalogue places it.
#[derive(Debug, Clone, Copy)]
pub struct Category {
    /// The category as in the container name (`insights-logs-<category>`), lower case.
    pub category: &'static str,
    /// The Log Analytics table its records land in.
    pub table: &'static str,
    /// Envelope keys that become columns: (envelope key, column).
    pub envelope: &'static [(&'static str, &'static str)],
    /// `properties` keys whose column is not the key with its first letter capitalised.
    pub renames: &'static [(&'static str, &'static str)],
}

const ENTRA_SIGN_IN_ENVELOPE: &[(&str, &str)] = &[
    ("resultType", "ResultType"),
    ("resultSignature", "ResultSignature"),
    ("resultDescription", "ResultDescription"),
    ("category", "Category"),
    ("tenantId", "TenantId"),
    ("location", "Location"),
    ("correlationId", "CorrelationId"),
    ("callerIpAddress", "IPAddress"),
    ("operationName", "OperationName"),
    ("identity", "Identity"),
];

const ENTRA_SIGN_IN_RENAMES: &[(&str, &str)] = &[
    ("ipAddress", "IPAddress"),
    ("location", "LocationDetails"),
    ("resourceId", "ResourceIdentity"),
];

const AUDIT_ENVELOPE: &[(&str, &str)] = &[
    ("operationName", "OperationName"),
    ("resultDescription", "ResultDescription"),
    ("tenantId", "TenantId"),
    ("correlationId", "CorrelationId"),
    ("identity", "Identity"),
];

const AUDIT_RENAMES: &[(&str, &str)] = &[("operationType", "AADOperationType")];

/// Application Insights categories: Log Analytics names already; only the time differs.
const APP_ENVELOPE: &[(&str, &str)] = &[];

const APIM_ENVELOPE: &[(&str, &str)] = &[
    ("callerIpAddress", "CallerIpAddress"),
    ("correlationId", "CorrelationId"),
    ("durationMs", "TotalTime"),
    ("isRequestSuccess", "IsRequestSuccess"),
    ("location", "Region"),
    ("operationName", "OperationName"),
    ("category", "Category"),
];

const GENERIC_ENVELOPE: &[(&str, &str)] = &[
    ("operationName", "OperationName"),
    ("category", "Category"),
    ("tenantId", "TenantId"),
    ("correlationId", "CorrelationId"),
    ("callerIpAddress", "CallerIpAddress"),
];

/// HTTP access logs: the resource and, for Application Gateway v2, `timeStamp` instead of `time`.
const HTTP_ACCESS_ENVELOPE: &[(&str, &str)] = &[
    ("timeStamp", "TimeGenerated"),
    ("resourceId", "_ResourceId"),
    ("operationName", "OperationName"),
    ("category", "Category"),
];

/// Application Gateway writes `clientIP`; its Log Analytics table says `ClientIp`.
const AGW_RENAMES: &[(&str, &str)] = &[("clientIP", "ClientIp")];

/// (source key, column) pairs.
type KeyPairs = &'static [(&'static str, &'static str)];

/// The envelope keys and renames of a layout.
fn layout(envelope: Envelope) -> (KeyPairs, KeyPairs) {
    match envelope {
        Envelope::EntraSignIn => (ENTRA_SIGN_IN_ENVELOPE, ENTRA_SIGN_IN_RENAMES),
        Envelope::Audit => (AUDIT_ENVELOPE, AUDIT_RENAMES),
        Envelope::AppInsights => (APP_ENVELOPE, &[]),
        Envelope::ApiManagement => (APIM_ENVELOPE, &[]),
        Envelope::HttpAccess => (HTTP_ACCESS_ENVELOPE, &[]),
        Envelope::ApplicationGateway => (HTTP_ACCESS_ENVELOPE, AGW_RENAMES),
        Envelope::Generic | Envelope::None => (GENERIC_ENVELOPE, &[]),
    }
}

/// The declaration of a category (case-insensitive), if the catalogue reads it onto a table
/// (flow-log categories have their own decoder).
pub fn find_category(category: &str) -> Option<Category> {
    let (category, table) = catalog::find_category(category)?;
    if table.decoder == Decoder::Flows {
        return None;
    }
    let (envelope, renames) = layout(table.envelope);
    Some(Category {
        category,
        table: table.name,
        envelope,
        renames,
    })
}

/// The table spec a category's rows are checked against: the declared table, or the generic
/// spec (time, `Type`, everything else in `_extra`) for tables without one.
pub fn spec_of(category: &Category) -> &'static TableSpec {
    log_analytics::find_table(category.table).unwrap_or(&log_analytics::GENERIC)
}

/// Rewrites a diagnostic-settings record as the Log Analytics row of its table: `time` becomes
/// `TimeGenerated`, declared envelope keys and `properties` keys become their columns, `Type`
/// names the table, and every other key keeps its own name (an envelope key that would collide
/// with one already present is kept as `envelope.<key>`).
pub fn to_log_analytics(category: &Category, mut record: Map<String, Value>) -> Map<String, Value> {
    let spec = spec_of(category);
    let declared = |name: &str| spec.columns.iter().any(|c| c.name == name);
    let mut row = Map::new();
    if let Some(time) = record.remove("time") {
        row.insert("TimeGenerated".into(), time);
    }
    // App Insights categories keep their Log Analytics names and may nest `Properties`.
    let properties = match record.remove("properties") {
        Some(Value::Object(map)) => Some(map),
        // Some categories (FunctionAppLogs) write `properties` as text, in single quotes.
        Some(Value::String(text)) => match parse_properties_text(&text) {
            Some((map, repaired)) => {
                if repaired {
                    row.insert(
                        "_repaired".into(),
                        Value::String("properties: single-quoted JSON read as JSON".into()),
                    );
                }
                Some(map)
            }
            None => {
                record.insert("properties".into(), Value::String(text));
                None
            }
        },
        Some(other) => {
            record.insert("properties".into(), other);
            None
        }
        None => None,
    };
    for (key, value) in properties.into_iter().flatten() {
        let column = category
            .renames
            .iter()
            .find(|(from, _)| *from == key)
            .map_or_else(|| capitalised(&key), |(_, to)| (*to).to_string());
        if declared(&column) && !row.contains_key(&column) {
            row.insert(column, value);
        } else if !row.contains_key(&key) {
            row.insert(key, value);
        } else {
            row.insert(format!("properties.{key}"), value);
        }
    }
    for (key, value) in record {
        let column = category
            .envelope
            .iter()
            .find(|(from, _)| *from == key)
            .map(|(_, to)| *to);
        match column {
            Some(column) if declared(column) && !row.contains_key(column) => {
                row.insert(column.to_string(), value);
            }
            _ if !row.contains_key(&key) => {
                row.insert(key, value);
            }
            _ => {
                row.insert(format!("envelope.{key}"), value);
            }
        }
    }
    // The export fills `Type` with the table name; a status code is text in every sign-in table.
    row.entry("Type")
        .or_insert_with(|| Value::String(category.table.to_string()));
    if let Some(Value::Number(n)) = row.get("ResultType") {
        let text = n.to_string();
        row.insert("ResultType".into(), Value::String(text));
    }
    row
}

/// The members of a plain diagnostic-settings record (see [`super::scan`]) under the names
/// [`to_log_analytics`] gives them, in the same order (`time`, then `properties`, then the
/// envelope), each still the bytes written, for [`log_analytics::PlainRows::named_row_cells`].
/// `None` for what only the general path reads: `properties` written as text, a numeric
/// `ResultType` that is not a plain integer on a table declaring it, or no `time`.
pub fn plain_members<'t>(
    category: &Category,
    record: &'t str,
    top: &[Member],
    scratch: (&mut Vec<Member>, &mut Vec<super::scan::SeenKey>),
    named: &mut Vec<(Cow<'t, str>, Member)>,
) -> Option<()> {
    let spec = spec_of(category);
    let declared = |name: &str| spec.columns.iter().any(|c| c.name == name);
    let (properties, keys) = scratch;
    named.clear();
    properties.clear();
    let taken = |named: &[(Cow<'t, str>, Member)], name: &str| named.iter().any(|(k, _)| k == name);
    let time = top.iter().find(|m| m.key(record) == "time");
    if let Some(time) = time {
        named.push((Cow::Borrowed("TimeGenerated"), *time));
    }
    if let Some(member) = top.iter().find(|m| m.key(record) == "properties") {
        match member.kind {
            ValueKind::Object => scan::nested_members(record, member, properties, keys)?,
            ValueKind::String { .. } => return None,
            _ => {}
        }
    }
    for member in properties.iter() {
        let key = member.key(record);
        let column = category
            .renames
            .iter()
            .find(|(from, _)| *from == key)
            .map_or_else(
                || Cow::Owned(capitalised(key)),
                |(_, to)| Cow::Borrowed(*to),
            );
        let name = if declared(&column) && !taken(named, &column) {
            column
        } else if !taken(named, key) {
            Cow::Borrowed(key)
        } else {
            Cow::Owned(format!("properties.{key}"))
        };
        named.push((name, *member));
    }
    for member in top {
        let key = member.key(record);
        if key == "time" || (key == "properties" && member.kind == ValueKind::Object) {
            continue;
        }
        let column = category
            .envelope
            .iter()
            .find(|(from, _)| *from == key)
            .map(|(_, to)| *to);
        let name = match column {
            Some(column) if declared(column) && !taken(named, column) => Cow::Borrowed(column),
            _ if !taken(named, key) => Cow::Borrowed(key),
            _ => Cow::Owned(format!("envelope.{key}")),
        };
        named.push((name, *member));
    }
    if let Some((_, member)) = named.iter().find(|(k, _)| k == "ResultType")
        && let ValueKind::Number { integer } = member.kind
    {
        let raw = member.raw(record);
        // The general path writes the number's text again: the same only for plain integers.
        let canonical = integer && raw != "-0" && raw.len() <= 18;
        if !canonical || !declared("ResultType") {
            return None;
        }
    }
    Some(())
}

/// `properties` written as text: JSON, or the single-quoted form some categories write
/// (`{'appName':'x','levelId':2}`), repaired by turning each single-quoted string into a JSON
/// string. `None` when neither reads as an object; the bool says whether it was repaired.
fn parse_properties_text(text: &str) -> Option<(Map<String, Value>, bool)> {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        return Some((map, false));
    }
    let mut json = String::with_capacity(text.len() + 8);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                json.push('"');
                loop {
                    match chars.next()? {
                        '\'' => break,
                        '\\' => {
                            let escaped = chars.next()?;
                            if escaped == '\'' {
                                json.push('\'');
                            } else {
                                json.push('\\');
                                json.push(escaped);
                            }
                        }
                        '"' => json.push_str("\\\""),
                        other => json.push(other),
                    }
                }
                json.push('"');
            }
            other => json.push(other),
        }
    }
    match serde_json::from_str::<Value>(&json) {
        Ok(Value::Object(map)) => Some((map, true)),
        _ => None,
    }
}

/// The categories whose records Azure writes with `properties` as a single-quoted object in place
/// (`"properties": {'appName':'…','levelId':2}`): not JSON, so the whole record fails to parse.
const SINGLE_QUOTED_IN_PLACE: [&str; 1] = ["FunctionAppLogs"];

/// A record of a category in [`SINGLE_QUOTED_IN_PLACE`] whose `properties` object is written in
/// single quotes, rewritten as JSON: the record with that object as a JSON object, and the
/// object's original text. `None` for any other category, or when nothing can be read: then the
/// record stays rejected as written.
pub fn repair_in_place_properties(category: &Category, record: &[u8]) -> Option<(Vec<u8>, String)> {
    if !SINGLE_QUOTED_IN_PLACE.contains(&category.table) {
        return None;
    }
    let text = std::str::from_utf8(record).ok()?;
    let key = text.find("\"properties\"")?;
    let after_key = key + "\"properties\"".len();
    let colon = after_key + text[after_key..].find(|c: char| !c.is_whitespace())?;
    if !text[colon..].starts_with(':') {
        return None;
    }
    let open = colon + 1 + text[colon + 1..].find(|c: char| !c.is_whitespace())?;
    if !text[open..].starts_with('{') {
        return None;
    }
    // The object's end: its closing brace outside any quoted text (single or double quotes).
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut close = None;
    for (i, c) in text[open..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i + 1);
                    break;
                }
            }
            _ => {}
        }
    }
    let original = &text[open..close?];
    let (properties, repaired) = parse_properties_text(original)?;
    if !repaired {
        return None;
    }
    let json = serde_json::to_string(&Value::Object(properties)).ok()?;
    let mut rewritten = String::with_capacity(text.len() + 16);
    rewritten.push_str(&text[..open]);
    rewritten.push_str(&json);
    rewritten.push_str(&text[open + original.len()..]);
    Some((rewritten.into_bytes(), original.to_string()))
}

fn capitalised(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::columns::Cell;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// Every Entra diagnostic-settings category Microsoft lists lands in its Log Analytics table,
    /// except the three whose table is not documented (they keep a table of their own name).
    #[test]
    fn every_entra_category_has_its_table() {
        let tables = [
            ("AuditLogs", "AuditLogs"),
            ("SignInLogs", "SigninLogs"),
            (
                "NonInteractiveUserSignInLogs",
                "AADNonInteractiveUserSignInLogs",
            ),
            (
                "ServicePrincipalSignInLogs",
                "AADServicePrincipalSignInLogs",
            ),
            ("ManagedIdentitySignInLogs", "AADManagedIdentitySignInLogs"),
            (
                "MicrosoftServicePrincipalSignInLogs",
                "MicrosoftServicePrincipalSignInLogs",
            ),
            ("ProvisioningLogs", "AADProvisioningLogs"),
            ("ADFSSignInLogs", "ADFSSignInLogs"),
            ("RiskyUsers", "AADRiskyUsers"),
            ("UserRiskEvents", "AADUserRiskEvents"),
            ("RiskyServicePrincipals", "AADRiskyServicePrincipals"),
            (
                "ServicePrincipalRiskEvents",
                "AADServicePrincipalRiskEvents",
            ),
            ("MicrosoftGraphActivityLogs", "MicrosoftGraphActivityLogs"),
            ("NetworkAccessTrafficLogs", "NetworkAccessTraffic"),
            (
                "EnrichedOffice365AuditLogs",
                "EnrichedMicrosoft365AuditLogs",
            ),
            ("RemoteNetworkHealthLogs", "RemoteNetworkHealthLogs"),
        ];
        for (category, table) in tables {
            assert_eq!(
                find_category(category).map(|c| c.table),
                Some(table),
                "{category}"
            );
        }
        for undocumented in [
            "RiskyAgents",
            "AgentRiskEvents",
            "CustomSecurityAttributeAuditLogs",
        ] {
            assert!(find_category(undocumented).is_none(), "{undocumented}");
        }
    }

    /// Microsoft's first-party service principals sign in with the service-principal columns.
    #[test]
    fn a_microsoft_service_principal_sign_in_is_typed() {
        let category = find_category("MicrosoftServicePrincipalSignInLogs").expect("declared");
        let row = to_log_analytics(
            &category,
            map(
                json!({"time": "2026-10-01T02:00:00Z", "category": "MicrosoftServicePrincipalSignInLogs",
                "resultType": "0", "callerIpAddress": "20.190.1.1",
                "properties": {"servicePrincipalId": "sp-1", "servicePrincipalName": "Office 365 Exchange Online",
                    "appId": "00000002-0000-0ff1-ce00-000000000000", "resourceDisplayName": "Microsoft Graph"}}),
            ),
        );
        let spec = spec_of(&category);
        assert_eq!(spec.name, "MicrosoftServicePrincipalSignInLogs");
        for column in [
            "ServicePrincipalId",
            "ServicePrincipalName",
            "AppId",
            "ResourceDisplayName",
            "IPAddress",
            "ResultType",
        ] {
            assert!(
                spec.columns.iter().any(|c| c.name == column),
                "{column} declared"
            );
            assert!(row.contains_key(column), "{column} filled: {row:?}");
        }
        assert_eq!(row["ServicePrincipalName"], "Office 365 Exchange Online");
    }

    #[test]
    fn a_sign_in_record_becomes_a_signinlogs_row() {
        let category = find_category("SignInLogs").expect("declared");
        let row = to_log_analytics(
            &category,
            map(json!({
                "time": "2026-10-01T02:00:00Z", "category": "SignInLogs", "resultType": "50126",
                "callerIpAddress": "1.2.3.4", "location": "DE", "durationMs": 0,
                "properties": {"id": "x", "userPrincipalName": "a@b.c", "userId": "u1", "ipAddress": "1.2.3.4",
                    "location": {"city": "Berlin", "countryOrRegion": "DE"}, "isInteractive": true,
                    "resourceId": "app-guid", "appliedConditionalAccessPolicies": []}
            })),
        );
        assert_eq!(row["TimeGenerated"], "2026-10-01T02:00:00Z");
        assert_eq!(row["UserPrincipalName"], "a@b.c");
        assert_eq!(row["IPAddress"], "1.2.3.4");
        assert_eq!(row["LocationDetails"]["city"], "Berlin");
        assert_eq!(row["Location"], "DE");
        assert_eq!(row["ResultType"], "50126");
        assert_eq!(row["ResourceIdentity"], "app-guid");
        assert_eq!(row["IsInteractive"], true);
        assert_eq!(row["Type"], "SigninLogs");
        // Unknown keys keep their own names.
        assert!(row.contains_key("appliedConditionalAccessPolicies"));
        assert!(row.contains_key("durationMs"));
        // The envelope's caller address does not overwrite the property.
        assert!(!row.contains_key("envelope.callerIpAddress") || row["IPAddress"] == "1.2.3.4");
    }

    #[test]
    fn single_quoted_properties_are_read_and_marked_repaired() {
        let row = to_log_analytics(
            &find_category("FunctionAppLogs").expect("declared"),
            map(
                json!({"time": "2026-10-01T02:00:00Z", "category": "FunctionAppLogs",
                "properties": "{'appName':'func-mcp','message':'Executed \\'Functions.tools\\' said \"hi\"','levelId':2}"}),
            ),
        );
        assert_eq!(row["AppName"], "func-mcp");
        assert_eq!(row["Message"], "Executed 'Functions.tools' said \"hi\"");
        assert_eq!(row["LevelId"], 2);
        assert!(
            row["_repaired"]
                .as_str()
                .expect("marked")
                .contains("single-quoted")
        );
        let unreadable = to_log_analytics(
            &find_category("FunctionAppLogs").expect("declared"),
            map(json!({"time": "2026-10-01T02:00:00Z", "properties": "not {json"})),
        );
        assert_eq!(
            unreadable["properties"], "not {json",
            "kept as written when it cannot be read"
        );
    }

    #[test]
    fn single_quoted_properties_in_place_are_rewritten_as_json() {
        let category = find_category("FunctionAppLogs").expect("declared");
        let record = br#"{ "time": "2026-10-01T02:00:00Z", "resourceId": "/SUBSCRIPTIONS/S/PROVIDERS/MICROSOFT.WEB/SITES/FUNC-MCP", "category": "FunctionAppLogs", "operationName": "Microsoft.Web/sites/functions/log", "level": "Informational", "location": "West Europe", "properties": {'appName':'func-mcp','roleInstance':'54108609-638446440','message':'Executed \'Functions.tools\' (Succeeded, Id=1b2c, Duration=12ms) {"k": 1}','category':'Function.tools','hostVersion':'4.1040.300.1','functionInvocationId':'1b2c','functionName':'Functions.tools','hostInstanceId':'a3e1','level':'Information','levelId':2,'processId':7612,'eventId':2,'eventName':'FunctionCompleted'}}"#;
        let (rewritten, original) =
            repair_in_place_properties(&category, record).expect("repaired");
        assert!(
            original.starts_with("{'appName':'func-mcp'")
                && original.ends_with("'FunctionCompleted'}")
        );
        let value: Value = serde_json::from_slice(&rewritten).expect("JSON now");
        assert_eq!(value["properties"]["levelId"], 2);
        assert_eq!(value["properties"]["processId"], 7612);
        assert_eq!(
            value["properties"]["message"],
            "Executed 'Functions.tools' (Succeeded, Id=1b2c, Duration=12ms) {\"k\": 1}"
        );
        assert_eq!(
            value["location"], "West Europe",
            "the rest of the record as written"
        );
        // Other categories, valid JSON and unreadable text are left alone.
        let sign_in = find_category("SignInLogs").expect("declared");
        assert!(repair_in_place_properties(&sign_in, record).is_none());
        assert!(repair_in_place_properties(&category, br#"{"properties": {"a": 1}}"#).is_none());
        assert!(repair_in_place_properties(&category, b"{\"properties\": {'a': }").is_none());
    }

    #[test]
    fn app_insights_and_apim_categories() {
        let app = to_log_analytics(
            &find_category("apprequests").expect("declared"),
            map(
                json!({"time": "2026-10-01T02:00:00Z", "resourceId": "/x", "Name": "tools/call a", "Properties": {"a": 1}}),
            ),
        );
        assert_eq!(app["TimeGenerated"], "2026-10-01T02:00:00Z");
        assert_eq!(app["Name"], "tools/call a");
        assert_eq!(app["Properties"]["a"], 1);
        let gateway = to_log_analytics(
            &find_category("GatewayLogs").expect("declared"),
            map(
                json!({"time": "2026-10-01T02:00:00Z", "callerIpAddress": "9.9.9.9", "correlationId": "c1",
                "durationMs": 120, "isRequestSuccess": true, "properties": {"responseSize": 2048, "apimSubscriptionId": "k1", "cache": "none"}}),
            ),
        );
        assert_eq!(gateway["CallerIpAddress"], "9.9.9.9");
        assert_eq!(gateway["CorrelationId"], "c1");
        assert_eq!(gateway["TotalTime"], 120);
        assert_eq!(gateway["ResponseSize"], 2048);
        assert_eq!(gateway["ApimSubscriptionId"], "k1");
        assert_eq!(gateway["cache"], "none");
        assert!(find_category("not-a-category").is_none());
    }

    /// Both paths read a diagnostic record the same: the same cells (non-string values compared
    /// as JSON, the plain path keeping the bytes written) and the same `_extra` members.
    fn same_both_ways(category: &Category, record: &str) -> bool {
        let rows = log_analytics::PlainRows::new(spec_of(category));
        let (mut members, mut keys, mut nested, mut named) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let Some(text) = scan::top_level_members(record.as_bytes(), &mut members, &mut keys) else {
            return false;
        };
        let Some(row) = plain_members(
            category,
            text,
            &members,
            (&mut nested, &mut keys),
            &mut named,
        )
        .and_then(|()| rows.named_row_cells(text, &named, category.table)) else {
            return false;
        };
        let general = map(serde_json::from_str(record).expect("JSON"));
        let want = log_analytics::row_cells(spec_of(category), to_log_analytics(category, general))
            .expect("the general path reads it");
        log_analytics::assert_rows_agree(record, &row, &want);
        true
    }

    #[test]
    fn the_plain_path_reads_diagnostic_records_as_the_general_path_does() {
        let fixture = |name: &str| {
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/real")
                    .join(name),
            )
            .expect("fixture")
        };
        let cases: Vec<(&str, String)> = vec![
            ("signinlogs", fixture("entra_signinlogs_diagnostic-settings-record_docs-example.json")),
            ("applicationgatewayaccesslog", fixture("appgw-accesslog-v2_docs-example.json")),
            ("applicationgatewayaccesslog", fixture("appgw-accesslog-v1_docs-example.json")),
            // A service-principal sign-in as Entra writes it: spaces in the envelope only, the
            // status code as text, a float written with more digits than a double keeps.
            ("serviceprincipalsigninlogs", r#"{ "time": "2022-02-08T06:22:28.3518405Z", "resourceId": "/tenants/t/providers/Microsoft.aadiam", "operationName": "Sign-in activity", "category": "ServicePrincipalSignInLogs", "tenantId": "t", "resultType": "0", "durationMs": 0, "callerIpAddress": "1.128.3.4", "correlationId": "c", "Level": 4, "location": "IN", "properties": {"id":"d5","createdDateTime":"2022-02-08T06:22:28.3518405+00:00","userId":null,"appId":"a","ipAddress":"1.128.3.4","status":{"errorCode":0},"location":{"city":"Hyderabad","geoCoordinates":{"latitude":17.385000228881836,"longitude":78.486701965332031}},"servicePrincipalName":"agent-1","servicePrincipalId":"sp-1","resourceId":"797f"}}"#.into()),
            // An App Insights category: Log Analytics names beside `time`.
            ("apprequests", r#"{"time":"2026-10-01T02:00:00Z","Name":"tools/call get_customer","Success":true,"DurationMs":12.5,"ItemCount":1,"Properties":{"mcp.method.name":"tools/call","gen_ai.tool.name":"get_customer"},"Type":"AppRequests"}"#.into()),
            // App Service HTTP log: counters as numbers and as text, a collision with the envelope.
            ("appservicehttplogs", r#"{"time": "2022-12-14T12:18:26.4843064Z", "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.WEB/SITES/APP", "category": "AppServiceHTTPLogs", "properties": {"CsMethod":"POST","CsUriStem":"/mcp","CIp":"81.2.69.142","ScStatus":200,"ScBytes":778,"TimeTaken":"1793","category":"inner"}}"#.into()),
            // A ResultType number is re-written as text by the general path: same text here.
            ("auditlogs", r#"{"time":"2026-10-01T02:00:00Z","operationName":"Add member to role","resultType":0,"properties":{"operationType":"Assign","initiatedBy":{"user":{"userPrincipalName":"eve@contoso.com"}},"resultType":5}}"#.into()),
        ];
        for (name, record) in &cases {
            let category = find_category(name).expect("declared");
            assert!(
                same_both_ways(&category, record),
                "plain path refused {name}: {record}"
            );
        }
        // What only the general path reads is refused here, never read differently.
        let text_properties = r#"{"time":"2026-10-01T02:00:00Z","properties":"{'appName':'f'}"}"#;
        assert!(!same_both_ways(
            &find_category("functionapplogs").expect("declared"),
            text_properties
        ));
        let odd_result = r#"{"time":"2026-10-01T02:00:00Z","resultType":-0,"properties":{}}"#;
        assert!(!same_both_ways(
            &find_category("signinlogs").expect("declared"),
            odd_result
        ));
    }

    #[test]
    fn an_application_gateway_record_lands_typed_with_its_time_stamp() {
        let record = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/real/appgw-accesslog-v2_docs-example.json"),
        )
        .expect("fixture");
        let category = find_category("ApplicationGatewayAccessLog").expect("declared");
        let spec = spec_of(&category);
        let row = to_log_analytics(&category, map(serde_json::from_str(&record).expect("JSON")));
        let (cells, extra, time) = log_analytics::row_cells(spec, row).expect("typed");
        let cell = |name: &str| {
            let i = spec
                .columns
                .iter()
                .position(|c| c.name == name)
                .expect("column");
            cells[i].clone()
        };
        assert_eq!(time, Some(1_634_249_831_000_000_000));
        assert_eq!(cell("ClientIp"), Cell::Str("185.42.129.24".into()));
        assert_eq!(cell("HttpMethod"), Cell::Str("GET".into()));
        assert_eq!(cell("HttpStatus"), Cell::Str("200".into()));
        assert_eq!(
            cell("TransactionId"),
            Cell::Str("592d1649f75a8d480a3c4dc6a975309d".into())
        );
        assert_eq!(cell("Type"), Cell::Str("AGWAccessLogs".into()));
        assert!(
            matches!(cell("_ResourceId"), Cell::Str(r) if r.ends_with("{applicationGatewayName}"))
        );
        let extra: Value = serde_json::from_str(&extra.expect("kept")).expect("JSON");
        assert_eq!(extra["listenerName"], "HTTP-Listener");
        assert_eq!(extra["timeTaken"], 0.034);
    }
}
