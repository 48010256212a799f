//! `mcpforensics overview`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{open_case_to_read, resolve_case, resolve_window, runtime};
use crate::cli::{OverviewArgs, OverviewFormat};
use crate::error::{Error, Result, exit};
use crate::query::QuerySettings;
use crate::report::overview;

pub(super) fn run_overview(args: &OverviewArgs, settings: &QuerySettings) -> Result<u8> {
    let out = args.out.as_deref().filter(|p| p.as_os_str() != "-");
    let csv_files: Vec<(String, PathBuf)> = match (out, args.format) {
        (Some(path), OverviewFormat::Html) => crate::overview::PANELS
            .iter()
            .map(|(name, _)| (name.to_string(), csv_beside(path, name)))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(path) = out {
        super::check_output(path, args.force)?;
    }
    for (_, file) in &csv_files {
        super::check_output(file, args.force)?;
    }
    let case_dir = resolve_case(&args.case)?;
    let case = open_case_to_read(&case_dir, &crate::cli::environment_credentials())?;
    let params = resolve_window(&case, &args.window)?;
    let overview = runtime()?.block_on(crate::overview::overview(&case, params, settings))?;
    let io = |context: String| move |source: std::io::Error| Error::Io { context, source };
    let document = match args.format {
        OverviewFormat::Json => overview::json(&overview).map_err(io("writing JSON".into()))?,
        OverviewFormat::Html => {
            let mut names = BTreeMap::new();
            for (panel, (name, file)) in overview.panels.iter().zip(&csv_files) {
                let csv = overview::panel_csv(panel).map_err(io(format!("writing {name}")))?;
                crate::case::write_atomic(file, &csv)?;
                names.insert(
                    name.clone(),
                    file.file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
            }
            overview::html(&overview, &names)
        }
    };
    match out {
        Some(path) => {
            crate::case::write_atomic(path, document.as_bytes())?;
            crate::tell!(
                "wrote the overview of {} panels to {}{}",
                overview.panels.len(),
                path.display(),
                if csv_files.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", each panel's rows to a CSV beside it ({} files)",
                        csv_files.len()
                    )
                }
            );
        }
        None => {
            crate::console::print_document(&document).map_err(io("writing the overview".into()))?
        }
    }
    Ok(exit::OK)
}

/// `overview.html` → `overview-NAME.csv` in the same directory.
fn csv_beside(page: &Path, name: &str) -> PathBuf {
    let stem = page
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "overview".into());
    page.with_file_name(format!("{stem}-{name}.csv"))
}
