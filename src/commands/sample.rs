//! `mcpforensics sample-data generate`: checks the options and writes the generator's scenario.

use std::path::Path;

use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::sample::{GroundTruth, Scenario};

/// `mcpforensics sample-data generate`.
pub(super) fn run_generate(args: &GenerateArgs) -> Result<()> {
    let start = chrono::NaiveDate::parse_from_str(&args.start, "%Y-%m-%d").map_err(|_| {
        Error::Usage(format!(
            "--start {:?} is not a date (YYYY-MM-DD)",
            args.start
        ))
    })?;
    if !(args.scale > 0.0 && args.scale <= 10_000.0) {
        return Err(Error::Usage(
            "--scale must be above 0 and at most 10000".into(),
        ));
    }
    if !(10..=400).contains(&args.days) {
        return Err(Error::Usage("--days must be between 10 and 400".into()));
    }
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::Usage(format!(
            "--out {} exists and is not empty; choose a new directory",
            args.out.display()
        )));
    }
    let scenario = Scenario::new(args.seed, args.scale, start, args.days)
        .with_compromised(usize::from(args.compromised))
        .with_story(args.scenario)
        .with_sign_in_layout(args.signins)
        .with_emitter(args.emitter)
        .with_peer_addresses(args.peer_addresses)
        .with_plain_export(args.plain)
        .with_apim_logs(args.apim_logs)
        .with_sampling(args.sampled);
    let summary = scenario.write(&args.out)?;
    if let Some(path) = &args.truth {
        write_truth(path, &scenario.truth())?;
    }
    crate::tell!(
        "wrote {} blobs ({} rows) to {}",
        summary.blobs,
        summary.rows,
        args.out.display()
    );
    Ok(())
}

fn write_truth(path: &Path, truth: &GroundTruth) -> Result<()> {
    let text = serde_json::to_string_pretty(truth).map_err(|e| Error::Io {
        context: "writing truth".into(),
        source: e.into(),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| Error::Io {
        context: format!("writing {}", path.display()),
        source,
    })
}
