//! The catalogue of evidence tables: for each table of a case, where its records come from (the
//! Log Analytics export container, the diagnostic-settings categories), how diagnostic settings lay
//! it out, which decoder reads it, and what the analysis uses it for.
//!
//! Every list of tables elsewhere (containers to probe, coverage, the App Insights family, timeline
//! details, identity sources, access logs in front of a server) is read from here. Adding a table is
//! one entry here, its columns in `parsers::log_analytics` when it has declared ones, and a test.
//! This module depends on nothing in the crate.

/// How a table's records are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// A Log Analytics record with declared columns (`parsers::log_analytics` declares them under
    /// the table's name); every other member goes into `_extra` as written.
    Declared,
    /// A Log Analytics record without declared columns: its time and `Type` typed, every other
    /// member in `_extra`.
    Generic,
    /// NSG and VNet flow-log documents, unnested to one row per flow tuple (`parsers::flows`).
    Flows,
}

/// How diagnostic settings lay out a table's records around its Log Analytics columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// Entra sign-ins: a camelCase envelope, most columns in `properties`.
    EntraSignIn,
    /// Entra audit logs.
    Audit,
    /// Application Insights: Log Analytics names already; only the time differs.
    AppInsights,
    /// API Management gateway logs.
    ApiManagement,
    /// HTTP access logs (App Service, Front Door).
    HttpAccess,
    /// Application Gateway access logs: an HTTP access log whose client is `clientIP`.
    ApplicationGateway,
    /// Any other category: the common envelope members.
    Generic,
    /// Not a diagnostic-settings layout (flow logs are read by their own decoder).
    None,
}

/// What the analysis uses a table for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Counted per hour by `scope`'s coverage: absence in the window is reported as a gap.
    Coverage,
    /// Application Insights, exported together: an export outage silences all of them at once.
    AppInsights,
    /// The timeline can show one of its records in full.
    TimelineDetail,
    /// Names identities (people, service principals, managed identities).
    IdentitySource,
    /// An HTTP access log of what may front an MCP server: caller addresses by time.
    HttpAccess,
}

impl Role {
    /// The role as `evidence_roles` names it.
    pub fn sql_name(self) -> &'static str {
        match self {
            Role::Coverage => "coverage",
            Role::AppInsights => "app_insights",
            Role::TimelineDetail => "timeline_detail",
            Role::IdentitySource => "identity_source",
            Role::HttpAccess => "http_access",
        }
    }
}

/// One table of a case.
#[derive(Debug)]
pub struct EvidenceTable {
    /// Name in the case and in SQL (the Log Analytics spelling; `flows` for flow logs).
    pub name: &'static str,
    /// One line on what the table holds.
    pub doc: &'static str,
    /// How its records are decoded.
    pub decoder: Decoder,
    /// Diagnostic-settings categories archived as `insights-logs-<category>`, lower case.
    pub categories: &'static [&'static str],
    /// How those archives lay out a record.
    pub envelope: Envelope,
    /// What the analysis uses it for.
    pub roles: &'static [Role],
}

impl EvidenceTable {
    /// The column that holds a record's time, quoted for SQL (`time` for flows).
    pub fn time_column(&self) -> &'static str {
        match self.decoder {
            Decoder::Flows => "time",
            Decoder::Declared | Decoder::Generic => "\"TimeGenerated\"",
        }
    }

    /// Whether the table has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The Log Analytics data-export container (`am-<table>`, lower case), if it is exported so
    /// (flow logs are not).
    pub fn export_container(&self) -> Option<String> {
        (self.decoder != Decoder::Flows).then(|| format!("am-{}", self.name.to_ascii_lowercase()))
    }
}

/// Diagnostic-settings container prefix.
pub const DIAGNOSTIC_PREFIX: &str = "insights-logs-";

/// Log Analytics data-export container prefix.
pub const EXPORT_PREFIX: &str = "am-";

/// The category of NSG flow logs.
pub const NSG_FLOW_CATEGORY: &str = "networksecuritygroupflowevent";

/// The category of VNet flow logs.
pub const VNET_FLOW_CATEGORY: &str = "flowlogflowevent";

use Role::{AppInsights, Coverage, HttpAccess, IdentitySource, TimelineDetail};

const SIGN_IN_ROLES: &[Role] = &[Coverage, TimelineDetail, IdentitySource];
const APP_ROLES: &[Role] = &[Coverage, AppInsights, TimelineDetail];

macro_rules! table {
    ($name:literal, $doc:literal, $decoder:ident, [$($category:literal),*], $envelope:ident, $roles:expr) => {
        EvidenceTable {
            name: $name,
            doc: $doc,
            decoder: Decoder::$decoder,
            categories: &[$($category),*],
            envelope: Envelope::$envelope,
            roles: $roles,
        }
    };
}

/// Every table a case can hold, in the order reports list them.
pub static TABLES: &[EvidenceTable] = &[
    table!(
        "SigninLogs",
        "Entra ID interactive sign-ins",
        Declared,
        ["signinlogs"],
        EntraSignIn,
        SIGN_IN_ROLES
    ),
    table!(
        "AADNonInteractiveUserSignInLogs",
        "Entra ID non-interactive sign-ins (token refresh and replay); dynamic columns arrive as JSON strings",
        Declared,
        ["noninteractiveusersigninlogs"],
        EntraSignIn,
        SIGN_IN_ROLES
    ),
    table!(
        "AADServicePrincipalSignInLogs",
        "Entra ID service-principal sign-ins (applications and AI agents; Entra Agent ID records carry Agent)",
        Declared,
        ["serviceprincipalsigninlogs"],
        EntraSignIn,
        &[IdentitySource]
    ),
    table!(
        "AADManagedIdentitySignInLogs",
        "Entra ID managed-identity sign-ins",
        Declared,
        ["managedidentitysigninlogs"],
        EntraSignIn,
        &[IdentitySource]
    ),
    table!(
        "MicrosoftServicePrincipalSignInLogs",
        "Entra ID sign-ins of Microsoft's first-party service principals (service principal sign-in columns)",
        Declared,
        ["microsoftserviceprincipalsigninlogs"],
        EntraSignIn,
        &[]
    ),
    table!(
        "AuditLogs",
        "Entra ID directory changes; the actor is lifted out of InitiatedBy",
        Declared,
        ["auditlogs"],
        Audit,
        &[Coverage, TimelineDetail]
    ),
    table!(
        "AppRequests",
        "Application Insights requests: server spans, one per MCP call handled",
        Declared,
        ["apprequests"],
        AppInsights,
        APP_ROLES
    ),
    table!(
        "AppDependencies",
        "Application Insights dependencies: outgoing calls (databases, HTTP, storage) and client spans",
        Declared,
        ["appdependencies"],
        AppInsights,
        APP_ROLES
    ),
    table!(
        "AppTraces",
        "Application Insights traces (log messages)",
        Declared,
        ["apptraces"],
        AppInsights,
        APP_ROLES
    ),
    table!(
        "AppEvents",
        "Application Insights custom events",
        Declared,
        ["appevents"],
        AppInsights,
        APP_ROLES
    ),
    table!(
        "AppExceptions",
        "Application Insights exceptions",
        Declared,
        ["appexceptions"],
        AppInsights,
        APP_ROLES
    ),
    table!(
        "ApiManagementGatewayLogs",
        "API Management gateway requests (caller IP, response codes and sizes, logged bodies)",
        Declared,
        ["gatewaylogs"],
        ApiManagement,
        &[Coverage, TimelineDetail]
    ),
    table!(
        "ApiManagementGatewayMCPLog",
        "API Management MCP gateway log: one row per MCP request through APIM; joins ApiManagementGatewayLogs on CorrelationId",
        Declared,
        ["gatewaymcplogs"],
        ApiManagement,
        &[Coverage, TimelineDetail]
    ),
    table!(
        "AppServiceHTTPLogs",
        "App Service HTTP access log: the caller's address (CIp) of requests to a server hosted on App Service",
        Declared,
        ["appservicehttplogs"],
        HttpAccess,
        &[HttpAccess]
    ),
    table!(
        "AGWAccessLogs",
        "Application Gateway access log: the address of the gateway's immediate client",
        Declared,
        ["applicationgatewayaccesslog"],
        ApplicationGateway,
        &[HttpAccess]
    ),
    table!(
        "FrontDoorAccessLog",
        "Azure Front Door access log (diagnostic category FrontDoorAccessLog; no resource-specific Log Analytics table): the client's address",
        Declared,
        ["frontdooraccesslog"],
        HttpAccess,
        &[HttpAccess]
    ),
    table!(
        "MicrosoftGraphActivityLogs",
        "Microsoft Graph requests",
        Generic,
        ["microsoftgraphactivitylogs"],
        Generic,
        &[]
    ),
    table!(
        "AADRiskyUsers",
        "Entra ID Protection: users at risk",
        Generic,
        ["riskyusers"],
        Generic,
        &[]
    ),
    table!(
        "AADUserRiskEvents",
        "Entra ID Protection: risk detections",
        Generic,
        ["userriskevents"],
        Generic,
        &[]
    ),
    table!(
        "AADProvisioningLogs",
        "Entra ID provisioning of users and groups to and from applications",
        Generic,
        ["provisioninglogs"],
        Generic,
        &[]
    ),
    table!(
        "ADFSSignInLogs",
        "AD FS sign-ins reported through Entra Connect Health",
        Generic,
        ["adfssigninlogs"],
        EntraSignIn,
        &[]
    ),
    table!(
        "AADRiskyServicePrincipals",
        "Entra ID Protection: service principals at risk",
        Generic,
        ["riskyserviceprincipals"],
        Generic,
        &[]
    ),
    table!(
        "AADServicePrincipalRiskEvents",
        "Entra ID Protection: service principal risk detections",
        Generic,
        ["serviceprincipalriskevents"],
        Generic,
        &[]
    ),
    table!(
        "NetworkAccessTraffic",
        "Global Secure Access traffic logs",
        Generic,
        ["networkaccesstrafficlogs"],
        Generic,
        &[]
    ),
    table!(
        "EnrichedMicrosoft365AuditLogs",
        "Global Secure Access enriched Microsoft 365 audit logs",
        Generic,
        ["enrichedoffice365auditlogs"],
        Generic,
        &[]
    ),
    table!(
        "RemoteNetworkHealthLogs",
        "Global Secure Access remote network health",
        Generic,
        ["remotenetworkhealthlogs"],
        Generic,
        &[]
    ),
    table!(
        "ApiManagementGatewayLlmLog",
        "API Management LLM gateway log",
        Generic,
        ["gatewayllmlogs"],
        ApiManagement,
        &[]
    ),
    table!(
        "AzureDiagnostics",
        "Azure diagnostics mode: records of resources whose diagnostic setting writes to the shared table (suffixed columns); API Management's GatewayLogs are read as ApiManagementGatewayLogs",
        Declared,
        [],
        Generic,
        &[]
    ),
    table!(
        "FunctionAppLogs",
        "Azure Functions host and function logs",
        Declared,
        ["functionapplogs"],
        Generic,
        &[]
    ),
    table!(
        "flows",
        "NSG (v1, v2) and VNet flow-log tuples, one row per tuple",
        Flows,
        ["networksecuritygroupflowevent", "flowlogflowevent"],
        None,
        &[Coverage, TimelineDetail]
    ),
];

/// The table named `name` (case-insensitively: container names are lower case).
pub fn find(name: &str) -> Option<&'static EvidenceTable> {
    TABLES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The table a diagnostic-settings category lands in (case-insensitively), with the category as
/// the catalogue spells it.
pub fn find_category(category: &str) -> Option<(&'static str, &'static EvidenceTable)> {
    TABLES.iter().find_map(|t| {
        t.categories
            .iter()
            .find(|c| c.eq_ignore_ascii_case(category))
            .map(|c| (*c, t))
    })
}

/// Names of the tables with `role`, in catalogue order.
pub fn with_role(role: Role) -> impl Iterator<Item = &'static str> {
    TABLES.iter().filter(move |t| t.has(role)).map(|t| t.name)
}

/// The columns holding an identity's object id, name and display name in a sign-in table
/// (`Role::IdentitySource`): service principals' and managed identities' sign-ins name them by
/// their service principal, people's by their user.
pub fn identity_columns(table: &str) -> (&'static str, &'static str, &'static str) {
    match identity_kind(table) {
        "person" => ("UserId", "UserPrincipalName", "UserDisplayName"),
        _ => (
            "ServicePrincipalId",
            "ServicePrincipalName",
            "ServicePrincipalName",
        ),
    }
}

/// The kind of identity a sign-in table holds, before its Entra Agent ID fields are read:
/// `person`, `service principal` or `managed identity`.
pub fn identity_kind(table: &str) -> &'static str {
    match table {
        "AADServicePrincipalSignInLogs" | "MicrosoftServicePrincipalSignInLogs" => {
            "service principal"
        }
        "AADManagedIdentitySignInLogs" => "managed identity",
        _ => "person",
    }
}

/// The view of every sign-in of the `IdentitySource` tables under `schema` (the session's own
/// tables when `None`, else `all_days`), generated from the catalogue: `table_name`, `time`,
/// `ip`, `country`, `result`, `interactive` (the interactive sign-ins' table), `user_id`, `upn`,
/// `display` (people's display name; NULL for service principals, whose name is their display),
/// `os` and `browser` (people's DeviceDetail), `kind` ([`identity_kind`]), `agent` (the Entra
/// Agent ID object), `app`, `id`, `app_name` (the application a person signed in to, the resource
/// a service principal or managed identity got a token for), `result_description`, `user_agent`
/// and `session` (people's; NULL for the others), `_blob`, `_line`, `date`. The queries and the
/// timeline read it, so a table given the role is read without any other edit.
pub fn sign_ins_view(name: &str, schema: Option<&str>) -> String {
    let selects: Vec<String> = TABLES
        .iter()
        .filter(|t| t.has(Role::IdentitySource))
        .map(|t| {
            let (id, upn, display) = identity_columns(t.name);
            let kind = identity_kind(t.name);
            let person = kind == "person";
            let device = |field: &str| {
                if person {
                    format!("nullif(json_get_str(\"DeviceDetail\", '{field}'), '')")
                } else {
                    "CAST(NULL AS VARCHAR)".to_string()
                }
            };
            format!(
                "SELECT '{table}' AS table_name, \"TimeGenerated\" AS time, \"IPAddress\" AS ip, \"Location\" AS country, \
                 \"ResultType\" AS result, {interactive} AS interactive, \"{id}\" AS user_id, \"{upn}\" AS upn, {display} AS display, \
                 {os} AS os, {browser} AS browser, '{kind}' AS kind, \"Agent\" AS agent, \"AppId\" AS app, \"Id\" AS id, \
                 {app_name} AS app_name, \"ResultDescription\" AS result_description, {user_agent} AS user_agent, \
                 {session} AS session, _blob, _line, date \
                 FROM {schema}\"{table}\"",
                table = t.name,
                interactive = t.name == "SigninLogs",
                display = if person {
                    format!("\"{display}\"")
                } else {
                    "CAST(NULL AS VARCHAR)".to_string()
                },
                app_name = if person { "\"AppDisplayName\"" } else { "\"ResourceDisplayName\"" },
                user_agent = if person { "\"UserAgent\"" } else { "CAST(NULL AS VARCHAR)" },
                session = if person { "\"SessionId\"" } else { "CAST(NULL AS VARCHAR)" },
                os = device("operatingSystem"),
                browser = device("browser"),
                schema = schema.map(|s| format!("{s}.")).unwrap_or_default(),
            )
        })
        .collect();
    format!("CREATE VIEW {name} AS {}", selects.join(" UNION ALL "))
}

/// The view of every record of the `Coverage` tables, by table and time (`coverage_records`:
/// `table_name`, `time`), generated from the catalogue: the coverage queries read it, so a table
/// given this role is counted without any other edit.
pub fn coverage_records_view() -> String {
    role_view(Role::Coverage, "coverage_records", "")
}

/// The view of every record of the `AppInsights` tables with its item count
/// (`app_insights_records`: `table_name`, `time`, `item_count`), generated from the catalogue.
pub fn app_insights_records_view() -> String {
    role_view(
        Role::AppInsights,
        "app_insights_records",
        ", \"ItemCount\" AS item_count",
    )
}

/// The view of every table's roles (`evidence_roles`: `table_name`, `role`), one row per table and
/// role, generated from the catalogue: queries that must list a table even when it holds nothing
/// read their tables from it.
pub fn evidence_roles_view() -> String {
    let rows: Vec<String> = TABLES
        .iter()
        .flat_map(|t| {
            t.roles
                .iter()
                .map(move |r| format!("('{}', '{}')", t.name, r.sql_name()))
        })
        .collect();
    format!(
        "CREATE VIEW evidence_roles AS SELECT column1 AS table_name, column2 AS role FROM (VALUES {})",
        rows.join(", ")
    )
}

/// `CREATE VIEW <name>` over every table with `role`: its name as `table_name`, its time as
/// `time`, then `extra` columns.
fn role_view(role: Role, name: &str, extra: &str) -> String {
    let selects: Vec<String> = TABLES
        .iter()
        .filter(|t| t.has(role))
        .map(|t| {
            format!(
                "SELECT '{table}' AS table_name, {time} AS time{extra} FROM \"{table}\"",
                table = t.name,
                time = t.time_column(),
            )
        })
        .collect();
    format!("CREATE VIEW {name} AS {}", selects.join(" UNION ALL "))
}

/// Every container an account's evidence may sit in: each export container, then each
/// diagnostic-settings container (probed when an account's containers cannot be listed).
pub fn containers() -> Vec<String> {
    let mut names: Vec<String> = TABLES.iter().filter_map(|t| t.export_container()).collect();
    names.extend(
        TABLES
            .iter()
            .flat_map(|t| t.categories)
            .map(|c| format!("{DIAGNOSTIC_PREFIX}{c}")),
    );
    names
}

/// The diagnostic-settings container of a table (its first category), if it has one.
pub fn diagnostic_container(table: &str) -> Option<String> {
    find(table)
        .and_then(|t| t.categories.first())
        .map(|c| format!("{DIAGNOSTIC_PREFIX}{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_categories_are_unique() {
        let mut names: Vec<String> = TABLES.iter().map(|t| t.name.to_ascii_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        let mut categories: Vec<&str> = TABLES.iter().flat_map(|t| t.categories).copied().collect();
        let count = categories.len();
        categories.sort();
        categories.dedup();
        assert_eq!(categories.len(), count);
        assert!(
            categories
                .iter()
                .all(|c| *c == c.to_ascii_lowercase().as_str())
        );
    }

    #[test]
    fn lookups_ignore_case_and_roles_keep_catalogue_order() {
        assert_eq!(find("apprequests").map(|t| t.name), Some("AppRequests"));
        assert_eq!(
            find_category("ApplicationGatewayAccessLog").map(|(c, t)| (c, t.name)),
            Some(("applicationgatewayaccesslog", "AGWAccessLogs"))
        );
        assert_eq!(
            find_category(VNET_FLOW_CATEGORY).map(|(_, t)| t.decoder),
            Some(Decoder::Flows)
        );
        assert!(find_category("auditevent").is_none());
        assert_eq!(
            with_role(Role::AppInsights).collect::<Vec<_>>(),
            [
                "AppRequests",
                "AppDependencies",
                "AppTraces",
                "AppEvents",
                "AppExceptions"
            ]
        );
        assert_eq!(
            diagnostic_container("AuditLogs").as_deref(),
            Some("insights-logs-auditlogs")
        );
        assert_eq!(find("flows").and_then(|t| t.export_container()), None);
        let containers = containers();
        assert!(containers.contains(&"am-apprequests".to_string()));
        assert!(containers.contains(&"insights-logs-networksecuritygroupflowevent".to_string()));
        assert!(!containers.contains(&"am-flows".to_string()));
    }
}
