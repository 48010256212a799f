//! Which tables a Sigma log source reads: the declared map of `src/sigma/logsources.yaml`, or a file
//! the responder gives (docs/sigma.md).

use std::collections::BTreeMap;

use rsigma_parser::LogSource;
use serde::Deserialize;

/// The file in a case folder that replaces the built-in map for that case.
pub const CASE_FILE: &str = "sigma-logsources.yaml";

/// The map shipped with the tool.
pub const BUILT_IN: &str = include_str!("logsources.yaml");

/// One entry of the map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The log-source keys a rule must name (`product`, `service`, `category`, …).
    pub logsource: BTreeMap<String, String>,
    /// The tables it reads.
    pub tables: Vec<String>,
    /// The time column (`TimeGenerated` unless given).
    #[serde(default)]
    pub time: Option<String>,
    /// The column naming who acted, shown with each hit.
    #[serde(default)]
    pub identity: Option<String>,
    /// The column holding the actor's address, shown with each hit.
    #[serde(default)]
    pub address: Option<String>,
    /// Field names of rules renamed to columns.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

impl Source {
    /// The time column as written in the map.
    pub fn time_column(&self) -> &str {
        self.time.as_deref().unwrap_or("TimeGenerated")
    }

    /// A description of the entry's log source, `product/service/category`.
    pub fn label(&self) -> String {
        self.logsource
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    sources: Vec<Source>,
}

/// The log-source map.
#[derive(Debug, Clone)]
pub struct LogSourceMap {
    sources: Vec<Source>,
}

impl LogSourceMap {
    /// The map in `text` (YAML), or why it cannot be read.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: MapFile = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        if let Some(empty) = file.sources.iter().find(|s| s.tables.is_empty()) {
            return Err(format!("the entry for {} lists no table", empty.label()));
        }
        Ok(LogSourceMap {
            sources: file.sources,
        })
    }

    /// The map shipped with the tool (a unit test holds it readable).
    pub fn built_in() -> Result<Self, String> {
        Self::parse(BUILT_IN).map_err(|e| format!("src/sigma/logsources.yaml: {e}"))
    }

    /// The map a case keeps for itself (`sigma-logsources.yaml` in the case folder, which a
    /// responder adds to rename a tenant's fields for every run on that case), with its path; else
    /// the built-in map and no path.
    pub fn of_case(
        case_root: &std::path::Path,
    ) -> Result<(Self, Option<std::path::PathBuf>), String> {
        let path = case_root.join(CASE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text)
                .map(|map| (map, Some(path.clone())))
                .map_err(|e| format!("the case's log-source map {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Self::built_in().map(|map| (map, None))
            }
            Err(e) => Err(format!(
                "reading the case's log-source map {}: {e}",
                path.display()
            )),
        }
    }

    /// The entry a rule's log source reads: the first whose keys all equal the rule's (compared
    /// without regard to case).
    pub fn resolve(&self, logsource: &LogSource) -> Option<&Source> {
        let mut given: BTreeMap<String, String> = logsource
            .custom
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_ascii_lowercase()))
            .collect();
        for (key, value) in [
            ("product", &logsource.product),
            ("service", &logsource.service),
            ("category", &logsource.category),
        ] {
            if let Some(value) = value {
                given.insert(key.into(), value.to_ascii_lowercase());
            }
        }
        if given.is_empty() {
            return None;
        }
        // Every key the rule names must be matched by the entry, and every key of the entry by
        // the rule: a rule for `product: azure` alone names no table.
        self.sources.iter().find(|source| {
            source.logsource.len() == given.len()
                && source.logsource.iter().all(|(k, v)| {
                    given.get(&k.to_ascii_lowercase()) == Some(&v.to_ascii_lowercase())
                })
        })
    }

    /// Every entry.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logsource(product: &str, service: Option<&str>, category: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.into()),
            service: service.map(Into::into),
            category: category.map(Into::into),
            ..LogSource::default()
        }
    }

    #[test]
    fn the_built_in_map_names_the_azure_and_mcp_sources() {
        let map = LogSourceMap::built_in().expect("the built-in map");
        let signins = map
            .resolve(&logsource("azure", Some("signinlogs"), None))
            .expect("sign-ins");
        assert_eq!(signins.tables, vec!["SigninLogs"]);
        assert_eq!(
            map.resolve(&logsource("Azure", Some("AuditLogs"), None))
                .expect("audit")
                .tables,
            vec!["AuditLogs"]
        );
        assert_eq!(
            map.resolve(&logsource("mcp", None, Some("tool_call")))
                .expect("mcp")
                .tables,
            vec!["tool_call_hours"]
        );
        assert_eq!(
            map.resolve(&logsource("mcp", None, Some("mcp_message")))
                .expect("mcp messages")
                .tables,
            vec!["mcp_messages"]
        );
        // A source the map does not hold is not guessed.
        assert!(
            map.resolve(&logsource("azure", Some("activitylogs"), None))
                .is_none()
        );
        assert!(map.resolve(&logsource("azure", None, None)).is_none());
    }

    #[test]
    fn a_map_entry_without_tables_is_refused() {
        let refused =
            LogSourceMap::parse("sources:\n  - logsource: {product: x}\n    tables: []\n");
        assert!(refused.unwrap_err().contains("lists no table"));
        assert!(
            LogSourceMap::parse("sources:\n  - logsource: {product: x}\n    tabels: [a]\n")
                .is_err()
        );
    }
}
