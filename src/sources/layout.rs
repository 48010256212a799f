//! What a blob's path says: its container's format and the time bucket it was written to.
//!
//! Paths are parsed, never built: `y=/m=/d=/h=/m=` segments are read in order (the first
//! `m=` is the month, the one after `h=` the minute), whatever else surrounds them
//! (`WorkspaceResourceId=`, `resourceId=`, `tenantId=`, `flowLogResourceID=`, `macAddress=`).

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::catalog;

/// The export a blob belongs to, told from its container name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// Log Analytics data export: container `am-<table>`; holds the table name as written in the container (lower case).
    LogAnalytics(String),
    /// NSG flow logs (`insights-logs-networksecuritygroupflowevent`).
    NsgFlow,
    /// VNet flow logs (`insights-logs-flowlogflowevent`).
    VnetFlow,
    /// Any other diagnostic-settings archive (`insights-logs-<category>`); holds the category.
    ResourceLog(String),
}

impl ExportKind {
    /// Classifies a container name (case-insensitively); `None` for containers that are not exports.
    pub fn from_container(container: &str) -> Option<Self> {
        let lower = container.to_ascii_lowercase();
        if let Some(table) = lower.strip_prefix(catalog::EXPORT_PREFIX) {
            return (!table.is_empty()).then(|| ExportKind::LogAnalytics(table.to_string()));
        }
        match lower.strip_prefix(catalog::DIAGNOSTIC_PREFIX) {
            Some(catalog::NSG_FLOW_CATEGORY) => Some(ExportKind::NsgFlow),
            Some(catalog::VNET_FLOW_CATEGORY) => Some(ExportKind::VnetFlow),
            Some(category) if !category.is_empty() => {
                Some(ExportKind::ResourceLog(category.to_string()))
            }
            _ => None,
        }
    }
}

/// The time bucket a blob covers, read from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathTime {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Length of the bucket: five minutes for `PT05M`/`PT5M` blobs, otherwise an hour.
    pub span: Duration,
}

impl PathTime {
    /// Whether the bucket overlaps `[since, until)`.
    pub fn overlaps(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> bool {
        let end = self.start + self.span;
        since.is_none_or(|s| end > s) && until.is_none_or(|u| self.start < u)
    }
}

/// Reads the `y=/m=/d=/h=/m=` segments of a path. Missing hour or minute count as zero; a
/// path without year, month and day has no time.
pub fn path_time(path: &str) -> Option<PathTime> {
    let mut fields: [Option<u32>; 5] = [None; 5];
    let mut next = 0;
    for segment in path.split('/') {
        let Some((key, value)) = segment.split_once('=') else {
            continue;
        };
        let slot = match (key, next) {
            ("y", _) => 0,
            ("m", 1) => 1,
            ("d", _) => 2,
            ("h", _) => 3,
            ("m", 4) => 4,
            _ => continue,
        };
        let Ok(number) = value.parse::<u32>() else {
            return None;
        };
        fields[slot] = Some(number);
        next = slot + 1;
    }
    let (year, month, day) = (fields[0]?, fields[1]?, fields[2]?);
    let start = Utc
        .with_ymd_and_hms(
            i32::try_from(year).ok()?,
            month,
            day,
            fields[3].unwrap_or(0),
            fields[4].unwrap_or(0),
            0,
        )
        .single()?;
    let file = path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let five_minutes = file.starts_with("PT05M") || file.starts_with("PT5M");
    let span = if five_minutes {
        Duration::minutes(5)
    } else {
        Duration::hours(1)
    };
    Some(PathTime { start, span })
}

/// Whether a file name is an export body (`PT05M.json`, `PT05M_1.json`, `PT5M.json`, `PT1H.json`, …).
pub fn is_export_blob(file_name: &str) -> bool {
    file_name.to_ascii_lowercase().ends_with(".json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_minutes_are_told_apart() {
        let path = "am-apprequests/WorkspaceResourceId=/subscriptions/s/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws/y=2026/m=10/d=07/h=13/m=25/PT05M_1.json";
        let t = path_time(path).expect("time in path");
        assert_eq!(
            t.start,
            Utc.with_ymd_and_hms(2026, 10, 7, 13, 25, 0)
                .single()
                .expect("valid")
        );
        assert_eq!(t.span, Duration::minutes(5));
        let hourly = path_time("x/y=2021/m=09/d=30/h=23/m=00/PT1H.json").expect("time");
        assert_eq!(hourly.span, Duration::hours(1));
        let nsg = "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S/y=2026/m=10/d=01/h=02/m=00/macAddress=000D3AF87856/PT1H.json";
        assert_eq!(
            path_time(nsg).map(|t| t.start),
            Utc.with_ymd_and_hms(2026, 10, 1, 2, 0, 0).single()
        );
        assert!(path_time("am-x/no/time/here.json").is_none());
        assert!(path_time("am-x/y=2026/m=13/d=01/h=00/m=00/PT05M.json").is_none());
    }

    #[test]
    fn overlap_with_window() {
        let t = path_time("a/y=2026/m=10/d=07/h=13/m=25/PT5M.json").expect("time");
        let at = |h, m| Utc.with_ymd_and_hms(2026, 10, 7, h, m, 0).single();
        assert!(t.overlaps(at(13, 29), None));
        assert!(!t.overlaps(at(13, 30), None));
        assert!(t.overlaps(None, at(13, 26)));
        assert!(!t.overlaps(None, at(13, 25)));
    }

    #[test]
    fn containers() {
        assert_eq!(
            ExportKind::from_container("am-SigninLogs"),
            Some(ExportKind::LogAnalytics("signinlogs".into()))
        );
        assert_eq!(
            ExportKind::from_container("insights-logs-flowlogflowevent"),
            Some(ExportKind::VnetFlow)
        );
        assert_eq!(
            ExportKind::from_container("insights-logs-networksecuritygroupflowevent"),
            Some(ExportKind::NsgFlow)
        );
        assert_eq!(
            ExportKind::from_container("insights-logs-auditevent"),
            Some(ExportKind::ResourceLog("auditevent".into()))
        );
        assert_eq!(ExportKind::from_container("$logs"), None);
        assert_eq!(ExportKind::from_container("am-"), None);
    }
}
