//! Build script: the long version string (`--version`) names the commit and its date, so a
//! report or a bug can be traced to the exact build. Without git (a source tarball) it says so.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    // The commit's date, not the clock's: the same commit always builds the same version text.
    let date = git(&["log", "-1", "--format=%cs"]);
    // Without optional locks: checking must not rewrite the index (and so re-run this script).
    let dirty = git(&[
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
    ])
    .is_some();
    let version = match (commit, date) {
        (Some(commit), Some(date)) => format!(
            "{} (commit {commit}{}, {date})",
            env!("CARGO_PKG_VERSION"),
            if dirty { " with local changes" } else { "" }
        ),
        _ => format!(
            "{} (commit unknown: built outside git)",
            env!("CARGO_PKG_VERSION")
        ),
    };
    println!("cargo:rustc-env=MCPFORENSICS_LONG_VERSION={version}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    if let Some(head) = std::fs::read_to_string(".git/HEAD")
        .ok()
        .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        println!("cargo:rerun-if-changed=.git/{head}");
    }
}
