//! Entra rows written the way diagnostic settings archive them (`insights-logs-<category>`,
//! `tenantId=<guid>/y=/m=/d=/h=/m=00/PT1H.json`, JSON Lines): a camelCase envelope around a
//! `properties` object, the inverse of what `parsers::diagnostic` reads.

use serde_json::{Map, Value, json};

/// The diagnostic-settings container of each Entra table (sign-ins and audit logs): Microsoft
/// Entra's diagnostic-settings categories (`SignInLogs`, `NonInteractiveUserSignInLogs`, …)
/// archived as `insights-logs-<category in lower case>`. The generator's own list, written from
/// Microsoft's documentation, not the tool's catalogue; a test compares the two.
const CONTAINERS: &[(&str, &str)] = &[
    ("SigninLogs", "insights-logs-signinlogs"),
    (
        "AADNonInteractiveUserSignInLogs",
        "insights-logs-noninteractiveusersigninlogs",
    ),
    (
        "AADServicePrincipalSignInLogs",
        "insights-logs-serviceprincipalsigninlogs",
    ),
    (
        "AADManagedIdentitySignInLogs",
        "insights-logs-managedidentitysigninlogs",
    ),
    ("AuditLogs", "insights-logs-auditlogs"),
];

/// The diagnostic-settings container of an Entra table (sign-ins and audit logs), if it has one.
pub fn container_of(table: &str) -> Option<String> {
    CONTAINERS
        .iter()
        .find(|(name, _)| *name == table)
        .map(|(_, container)| (*container).to_string())
}

/// Log Analytics columns that diagnostic settings write in the envelope, by envelope key.
const ENVELOPE: &[(&str, &str)] = &[
    ("TimeGenerated", "time"),
    ("OperationName", "operationName"),
    ("ResultType", "resultType"),
    ("ResultSignature", "resultSignature"),
    ("ResultDescription", "resultDescription"),
    ("Identity", "identity"),
    ("Location", "location"),
];

/// Columns that exist only in the Log Analytics export.
const WORKSPACE_ONLY: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "Type",
    "ResourceId",
    "DurationMs",
    "Level",
    "OperationVersion",
];

/// Property names that are not the column with its first letter in lower case.
const RENAMES: &[(&str, &str)] = &[
    ("IPAddress", "ipAddress"),
    ("LocationDetails", "location"),
    ("ResourceIdentity", "resourceId"),
    ("AADOperationType", "operationType"),
];

/// Rewrites a Log Analytics row of an Entra table as its diagnostic-settings record.
pub fn record_of(table: &str, tenant_id: &str, row: &Value) -> Value {
    let Some(columns) = row.as_object() else {
        return row.clone();
    };
    let mut envelope = Map::new();
    let mut properties = Map::new();
    for (column, value) in columns {
        if let Some((_, key)) = ENVELOPE.iter().find(|(c, _)| c == column) {
            envelope.insert((*key).to_string(), value.clone());
            continue;
        }
        if WORKSPACE_ONLY.contains(&column.as_str()) {
            continue;
        }
        if column == "Category" && table != "AuditLogs" {
            envelope.insert("category".into(), value.clone());
            continue;
        }
        let key = RENAMES
            .iter()
            .find(|(c, _)| c == column)
            .map_or_else(|| lower_first(column), |(_, k)| (*k).to_string());
        // The workspace writes some dynamic columns as JSON text; the archive writes objects.
        let value = match value {
            Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
                serde_json::from_str(s).unwrap_or_else(|_| value.clone())
            }
            other => other.clone(),
        };
        properties.insert(key, value);
    }
    if let Some(ip) = properties.get("ipAddress").cloned() {
        envelope.insert("callerIpAddress".into(), ip);
    }
    if let Some(correlation) = properties.get("correlationId").cloned() {
        envelope.insert("correlationId".into(), correlation);
    }
    if table == "AuditLogs" {
        envelope.insert("category".into(), json!("AuditLogs"));
    }
    envelope.insert(
        "resourceId".into(),
        json!(format!("/tenants/{tenant_id}/providers/Microsoft.aadiam")),
    );
    envelope.insert("tenantId".into(), json!(tenant_id));
    envelope.insert("operationVersion".into(), json!("1.0"));
    envelope.insert("durationMs".into(), json!(0));
    envelope.insert("Level".into(), json!(4));
    envelope.insert("properties".into(), Value::Object(properties));
    Value::Object(envelope)
}

/// API Management's tables in a workspace whose diagnostic setting uses Azure diagnostics mode,
/// with their category there.
const AZURE_DIAGNOSTICS_CATEGORIES: &[(&str, &str)] = &[
    ("ApiManagementGatewayLogs", "GatewayLogs"),
    ("ApiManagementGatewayMCPLog", "GatewayMCPLogs"),
];

/// Columns the mode writes under the shared table's common names.
const AZURE_DIAGNOSTICS_COMMON: &[(&str, &str)] = &[
    ("TimeGenerated", "TimeGenerated"),
    ("CorrelationId", "CorrelationId"),
    ("CallerIpAddress", "CallerIPAddress"),
    ("TotalTime", "DurationMs"),
    ("TenantId", "TenantId"),
];

/// Members whose mode column is not the rule's: `lastError` is an object flattened with `_`.
const AZURE_DIAGNOSTICS_RENAMES: &[(&str, &str)] = &[
    ("LastErrorReason", "lastError_reason"),
    ("LastErrorMessage", "lastError_message"),
    ("LastErrorSource", "lastError_source"),
    ("LastErrorSection", "lastError_section"),
];

/// Rewrites a row of API Management's resource-specific tables as the `AzureDiagnostics` row
/// the same record becomes in Azure diagnostics mode: the common columns by their shared names,
/// every other member camelCase with the mode's type suffix (`_s` text and JSON, `_d` number,
/// `_b` boolean), the resource id upper-cased. The generator's own reading of Microsoft's
/// description of the mode, not the tool's mapping. `None` for any other table.
pub fn azure_diagnostics_row(table: &str, row: &Value) -> Option<Value> {
    let (_, category) = AZURE_DIAGNOSTICS_CATEGORIES
        .iter()
        .find(|(name, _)| *name == table)?;
    let columns = row.as_object()?;
    let mut out = Map::new();
    for (column, value) in columns {
        if let Some((_, common)) = AZURE_DIAGNOSTICS_COMMON.iter().find(|(c, _)| c == column) {
            out.insert((*common).to_string(), value.clone());
            continue;
        }
        if matches!(
            column.as_str(),
            "Type" | "Category" | "OperationName" | "Region"
        ) {
            continue;
        }
        if column == "_ResourceId" {
            let id = value.as_str().unwrap_or_default().to_ascii_uppercase();
            out.insert(
                "Resource".into(),
                json!(id.rsplit('/').next().unwrap_or("")),
            );
            out.insert("ResourceId".into(), json!(id));
            continue;
        }
        let name = AZURE_DIAGNOSTICS_RENAMES
            .iter()
            .find(|(c, _)| c == column)
            .map_or_else(|| lower_first(column), |(_, k)| (*k).to_string());
        let (suffix, value) = match value {
            Value::Null => continue,
            Value::Number(_) => ("d", value.clone()),
            Value::Bool(_) => ("b", value.clone()),
            Value::String(_) => ("s", value.clone()),
            other => ("s", json!(other.to_string())),
        };
        out.insert(format!("{name}_{suffix}"), value);
    }
    out.insert("Category".into(), json!(category));
    out.insert(
        "OperationName".into(),
        json!(format!("Microsoft.ApiManagement/{category}")),
    );
    out.insert("ResourceProvider".into(), json!("MICROSOFT.APIMANAGEMENT"));
    out.insert("ResourceType".into(), json!("SERVICE"));
    out.insert("Type".into(), json!("AzureDiagnostics"));
    Some(Value::Object(out))
}

fn lower_first(column: &str) -> String {
    let mut chars = column.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator's containers are the ones the tool's catalogue reads, for every Entra table
    /// the analysis uses (it names identities or counts for coverage), and no other. The Entra
    /// tables the catalogue only archives (AD FS, Microsoft's own service principals) are not
    /// generated.
    #[test]
    fn containers_are_the_catalogues() {
        use crate::catalog::{Envelope, Role, TABLES, diagnostic_container};
        let entra: Vec<_> = TABLES
            .iter()
            .filter(|t| matches!(t.envelope, Envelope::EntraSignIn | Envelope::Audit))
            .filter(|t| t.has(Role::IdentitySource) || t.has(Role::Coverage))
            .collect();
        assert_eq!(entra.len(), CONTAINERS.len());
        for table in entra {
            assert_eq!(
                container_of(table.name),
                diagnostic_container(table.name),
                "{}",
                table.name
            );
        }
        assert_eq!(container_of("AppRequests"), None);
    }
}
