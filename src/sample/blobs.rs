//! Writing generated rows in the exact export layouts: `am-<table>` 5-minute (and hourly) JSON
//! Lines blobs with overflow files, and hourly flow-log `{"records":[…]}` documents per MAC.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike, Utc};

type Result<T> = std::result::Result<T, SampleError>;

/// The generator could not write a blob: what it was doing, and why. The generator stands apart
/// from the tool (it reads nothing the tool reads), so it has its own error.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct SampleError {
    /// What was being done (`writing <path>`).
    pub context: String,
    /// The underlying error.
    pub source: std::io::Error,
}

/// How a Log Analytics export rule names its blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotLayout {
    /// `m=<5-minute bucket>/PT05M.json` (since 2021-10-15).
    FiveMinutes,
    /// `m=<5-minute bucket>/PT5M.json`, the spelling one real deployment shows.
    FiveMinutesShort,
    /// `m=00/PT1H.json` (before 2021-10-15).
    Hourly,
}

/// Rows buffered per blob until the day is written.
#[derive(Default)]
pub struct BlobSet {
    /// Export lines per (container, folder) with the time used to order them.
    lines: BTreeMap<(String, String), Vec<(i64, String)>>,
    /// Flow-log records per (container, folder prefix, MAC) path.
    flow_records: BTreeMap<String, Vec<(i64, String)>>,
    /// Blob paths to write cut short (read mid-append), by how many bytes to drop.
    truncate: BTreeMap<String, usize>,
    /// Diagnostic-settings JSON Lines per hourly blob path (one blob an hour, never overflowing).
    diagnostic_lines: BTreeMap<String, Vec<(i64, String)>>,
}

/// Workspace path segment of every `am-*` blob.
pub fn workspace_prefix(subscription: &str, resource_group: &str, workspace: &str) -> String {
    format!(
        "WorkspaceResourceId=/subscriptions/{subscription}/resourcegroups/{}/providers/microsoft.operationalinsights/workspaces/{}",
        resource_group.to_ascii_lowercase(),
        workspace.to_ascii_lowercase()
    )
}

impl BlobSet {
    /// Adds one exported row of `table` at time `t`.
    pub fn row(
        &mut self,
        workspace: &str,
        table: &str,
        layout: SlotLayout,
        t: DateTime<Utc>,
        line: String,
    ) {
        let minute = match layout {
            SlotLayout::Hourly => 0,
            _ => t.minute() / 5 * 5,
        };
        let folder = format!(
            "{workspace}/y={:04}/m={:02}/d={:02}/h={:02}/m={minute:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour()
        );
        let file = match layout {
            SlotLayout::FiveMinutes => "PT05M",
            SlotLayout::FiveMinutesShort => "PT5M",
            SlotLayout::Hourly => "PT1H",
        };
        let key = (
            format!("am-{}", table.to_ascii_lowercase()),
            format!("{folder}\u{0}{file}"),
        );
        self.lines.entry(key).or_default().push((nanos(t), line));
    }

    /// Adds one flow-log record for a NIC, in the hourly blob of its time.
    pub fn flow_record(
        &mut self,
        container: &str,
        resource_prefix: &str,
        mac: &str,
        t: DateTime<Utc>,
        record: String,
    ) {
        let path = flow_blob_path(container, resource_prefix, mac, t);
        self.flow_records
            .entry(path)
            .or_default()
            .push((nanos(t), record));
    }

    /// Adds one diagnostic-settings record to the hourly blob of its time:
    /// `<container>/<prefix>/y=/m=/d=/h=/m=00/PT1H.json`.
    pub fn diagnostic_row(
        &mut self,
        container: &str,
        prefix: &str,
        t: DateTime<Utc>,
        line: String,
    ) {
        let path = format!(
            "{container}/{prefix}/y={:04}/m={:02}/d={:02}/h={:02}/m=00/PT1H.json",
            t.year(),
            t.month(),
            t.day(),
            t.hour()
        );
        self.diagnostic_lines
            .entry(path)
            .or_default()
            .push((nanos(t), line));
    }

    /// Marks a flow-log blob as read while being appended to: it loses its closing `]}` and the
    /// last `cut` bytes of its last record.
    pub fn cut_flow_blob(
        &mut self,
        container: &str,
        resource_prefix: &str,
        mac: &str,
        t: DateTime<Utc>,
        cut: usize,
    ) {
        let path = flow_blob_path(container, resource_prefix, mac, t);
        self.truncate.insert(path, cut);
    }

    /// Writes every buffered blob below `root` and empties the set. Slots with more than
    /// `overflow_rows` rows spill into `_1`, `_2` … files, as append-blob limits make the export do.
    pub fn flush(&mut self, root: &Path, overflow_rows: usize) -> Result<u64> {
        let mut written = 0;
        for ((container, folder_file), mut lines) in std::mem::take(&mut self.lines) {
            lines.sort_by_key(|(t, _)| *t);
            let (folder, file) = folder_file
                .split_once('\u{0}')
                .unwrap_or((&folder_file, "PT05M"));
            for (n, chunk) in lines.chunks(overflow_rows.max(1)).enumerate() {
                let name = if n == 0 {
                    format!("{file}.json")
                } else {
                    format!("{file}_{n}.json")
                };
                let mut body = Vec::new();
                for (_, line) in chunk {
                    body.extend_from_slice(line.as_bytes());
                    body.push(b'\n');
                }
                write_blob(&root.join(&container).join(folder).join(name), &body)?;
                written += 1;
            }
        }
        for (path, mut lines) in std::mem::take(&mut self.diagnostic_lines) {
            lines.sort_by_key(|(t, _)| *t);
            let mut body = Vec::new();
            for (_, line) in lines {
                body.extend_from_slice(line.as_bytes());
                body.push(b'\n');
            }
            write_blob(&root.join(&path), &body)?;
            written += 1;
        }
        for (path, mut records) in std::mem::take(&mut self.flow_records) {
            records.sort_by_key(|(t, _)| *t);
            let mut body = b"{\"records\":[".to_vec();
            for (i, (_, record)) in records.iter().enumerate() {
                body.extend_from_slice(if i == 0 { b"\r\n" } else { b"\r\n," });
                body.extend_from_slice(record.as_bytes());
            }
            match self.truncate.remove(&path) {
                Some(cut) => body.truncate(body.len().saturating_sub(cut)),
                None => body.extend_from_slice(b"\r\n]}"),
            }
            write_blob(&root.join(&path), &body)?;
            written += 1;
        }
        Ok(written)
    }
}

/// The hourly flow-log blob of a NIC: `<container>/<resource>/y=/m=/d=/h=/m=00/macAddress=<MAC>/PT1H.json`.
fn flow_blob_path(container: &str, resource_prefix: &str, mac: &str, t: DateTime<Utc>) -> String {
    format!(
        "{container}/{resource_prefix}/y={:04}/m={:02}/d={:02}/h={:02}/m=00/macAddress={mac}/PT1H.json",
        t.year(),
        t.month(),
        t.day(),
        t.hour()
    )
}

fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or_default()
}

fn write_blob(path: &PathBuf, body: &[u8]) -> Result<()> {
    let io = |source| SampleError {
        context: format!("writing {}", path.display()),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = fs::File::create(path).map_err(io)?;
    file.write_all(body).map_err(io)
}
