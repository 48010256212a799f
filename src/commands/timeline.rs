//! `mcpforensics timeline` and `mcpforensics export bookmarks`.

use std::io::IsTerminal;

use chrono::{Duration, Local};

use super::resolve_case;
use crate::case::Case;
use crate::cli::{BookmarkFormat, ExportBookmarksArgs, TimelineArgs};
use crate::error::{Error, Result, exit};
use crate::query::pack::PackParams;
use crate::time::WindowSpec;
use crate::timeline::TimelineOptions;

/// The zone the timeline starts in (`--tz`, else local) and how its header names it.
fn zone_and_label(zone: Option<crate::time::Zone>) -> (crate::time::Zone, String) {
    let zone = zone.unwrap_or(crate::time::Zone::Local);
    let label = match zone {
        crate::time::Zone::Local => format!("local ({})", Local::now().offset()),
        other => other.label(),
    };
    (zone, label)
}

pub(super) fn run_timeline(
    args: &TimelineArgs,
    settings: &crate::query::QuerySettings,
) -> Result<u8> {
    if let Some(format) = args.format {
        if args.tz.is_some() {
            return Err(Error::Usage(
                "--tz is for the interactive timeline: exported times are UTC (RFC 3339 with Z), so every \
                 tool reading the file reads the same instant; leave --tz out"
                    .into(),
            ));
        }
        return export_timeline(args, format, settings);
    }
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !args.bench && !interactive {
        return Err(Error::Usage(
            "timeline is interactive and needs a terminal; to write it to a file use \
             `mcpforensics timeline --format csv|jsonl|timesketch --out FILE`"
                .into(),
        ));
    }
    let case_dir = resolve_case(&args.case)?;
    let case = Case::open(&case_dir)?;
    let (start, end) = case.evidence_span()?;
    let shown = args.window().resolve(start, end)?;
    let (from, to) = (shown.since, shown.until);
    let scope = match args.scope_since.or(args.since) {
        Some(since) => {
            let marks = WindowSpec {
                since: Some(since),
                until: None,
            };
            Some(PackParams::new(
                marks.resolve(start, end)?,
                args.baseline_days,
            ))
        }
        None => None,
    };
    let iocs = args.iocs.indicators();
    let (zone, zone_label) = zone_and_label(args.tz);
    let options = TimelineOptions {
        case: case_dir,
        from,
        to,
        scope,
        iocs,
        sigma: args.sigma.clone(),
        user: args.user.clone(),
        zone,
        zone_label,
        events_budget: usize::try_from(args.events_mib << 20).unwrap_or(usize::MAX),
        settings: settings.clone(),
    };
    if args.bench {
        let figures = crate::timeline::bench(&options, 200, 50)?;
        crate::say!(
            "{}",
            serde_json::to_string_pretty(&figures).unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    crate::timeline::run(&options)?;
    Ok(exit::OK)
}

pub(super) fn run_export_bookmarks(args: &ExportBookmarksArgs) -> Result<u8> {
    super::check_output(&args.out, args.force)?;
    let case_dir = resolve_case(&args.case)?;
    let case = Case::open(&case_dir)?;
    let marks = crate::case::bookmarks::Bookmarks::load(&case_dir)?;
    let (_, manifest_sha256) =
        crate::case::files::hash_file(&case_dir.join(crate::case::MANIFEST_FILE))?;
    let text = match args.format {
        BookmarkFormat::Csv => crate::report::bookmarks::to_csv(marks.items(), &manifest_sha256),
        BookmarkFormat::Jsonl => {
            crate::report::bookmarks::to_jsonl(marks.items(), &manifest_sha256)
        }
    };
    drop(case);
    if args.out.as_os_str() == "-" {
        crate::console::print_document(&text).map_err(|source| crate::error::Error::Io {
            context: "writing bookmarks".into(),
            source,
        })?;
    } else {
        crate::case::write_atomic(&args.out, text.as_bytes())?;
        crate::tell!(
            "wrote {} bookmarks to {}",
            marks.items().len(),
            args.out.display()
        );
    }
    Ok(exit::OK)
}

/// `timeline --format … --out FILE`: the window's events to a file, no terminal needed.
fn export_timeline(
    args: &TimelineArgs,
    format: crate::timeline::export::ExportFormat,
    settings: &crate::query::QuerySettings,
) -> Result<u8> {
    if let Some(out) = &args.out {
        super::check_output(out, args.force)?;
    }
    let case_dir = resolve_case(&args.case)?;
    let case = std::sync::Arc::new(Case::open(&case_dir)?);
    let (start, end) = case.evidence_span()?;
    // The end of the evidence is its last event: included.
    let exported = args
        .window()
        .resolve_open_end(start, end, end + Duration::nanoseconds(1))?;
    let (from, to) = (exported.since, exported.until);
    let marks = export_marks(args, &case, (from, to), settings)?;
    let marks = marks.as_ref();
    let written = match args.out.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            // Written beside the file and renamed into place: a failed export leaves no part.
            let (mut written, mut failed) = (0, None);
            let file = crate::case::write_atomic_with(path, |out| {
                crate::timeline::export::export(&case, (from, to), marks, format, out, settings)
                    .map(|n| written = n)
                    .map_err(|e| {
                        let io = std::io::Error::other(e.to_string());
                        failed = Some(e);
                        io
                    })
            });
            if let Some(e) = failed {
                return Err(e.into());
            }
            file?;
            crate::tell!(
                "wrote {written} events ({} … {}) to {}",
                crate::time::format_utc(from),
                crate::time::format_utc(to),
                path.display()
            );
            written
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                // Made terminal-safe like every document written to a terminal.
                let mut buffer = Vec::new();
                let written = crate::timeline::export::export(
                    &case,
                    (from, to),
                    marks,
                    format,
                    &mut buffer,
                    settings,
                )?;
                crate::console::print_document(&String::from_utf8_lossy(&buffer)).map_err(|e| {
                    Error::Io {
                        context: "writing the timeline".into(),
                        source: e,
                    }
                })?;
                written
            } else {
                let mut out = std::io::BufWriter::new(stdout.lock());
                match crate::timeline::export::export(
                    &case,
                    (from, to),
                    marks,
                    format,
                    &mut out,
                    settings,
                ) {
                    Ok(written) => written,
                    // A reader that went away (| head) ends the export quietly.
                    Err(crate::timeline::TimelineError::Write(e))
                        if crate::console::reader_gone(&e) =>
                    {
                        return Ok(exit::OK);
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        }
    };
    if written == 0 {
        crate::tell!("warning: the case holds no events in this window");
    }
    Ok(exit::OK)
}

/// What the export tags: scope's attacker marks when `--scope-since` is given, the Sigma rules'
/// hits when `--sigma` is; nothing (and no scope run) otherwise.
fn export_marks(
    args: &TimelineArgs,
    case: &std::sync::Arc<Case>,
    (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    settings: &crate::query::QuerySettings,
) -> Result<Option<crate::timeline::loader::Marks>> {
    if args.scope_since.is_none() && args.sigma.is_empty() {
        return Ok(None);
    }
    let (start, end) = case.evidence_span()?;
    let scope = match args.scope_since {
        Some(since) => Some(PackParams::new(
            WindowSpec {
                since: Some(since),
                until: None,
            }
            .resolve(start, end)?,
            args.baseline_days,
        )),
        None => None,
    };
    let plan = crate::timeline::loader::LoadPlan {
        case: case.clone(),
        from,
        to,
        scope,
        iocs: args.iocs.indicators(),
        sigma: args.sigma.clone(),
        events_budget: 0,
        settings: settings.clone(),
    };
    crate::tell!(
        "marking the export: {}",
        if scope.is_some() {
            "running scope for the attacker marks"
        } else {
            "running the Sigma rules"
        }
    );
    let marks = crate::timeline::loader::load_marks(&plan)
        .map_err(crate::timeline::TimelineError::Marks)?;
    crate::tell!("{}", marks.basis);
    Ok(Some(marks))
}
