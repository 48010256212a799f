//! Reading Sigma rule files: files or folders (recursively, `.yml` and `.yaml`), each parsed by
//! `rsigma-parser`; what cannot be read or parsed is kept with its reason.

use std::path::{Path, PathBuf};

use rsigma_parser::{CorrelationRule, SigmaRule};

/// A rule file larger than this is refused unread (a rule is a few kilobytes; SigmaHQ's largest
/// is under 100 KB).
pub const MAX_RULE_BYTES: u64 = 1024 * 1024;

/// What a rule file held.
#[derive(Debug)]
pub enum Loaded {
    /// A detection rule.
    Rule {
        /// The file it came from.
        path: String,
        /// The rule.
        rule: Box<SigmaRule>,
    },
    /// A correlation rule.
    Correlation {
        /// The file it came from.
        path: String,
        /// The rule.
        rule: Box<CorrelationRule>,
    },
    /// A file, or a document in it, that could not be read or parsed.
    Refused {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The rule files under `paths`, in a stable order.
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), std::io::Error> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            found.push(path);
        }
    }
    Ok(())
}

/// Every rule of the files under `paths`, and every refusal with its reason.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Loaded>, std::io::Error> {
    let mut loaded = Vec::new();
    for file in files(paths)? {
        let path = file.display().to_string();
        let refuse = |reason: String| Loaded::Refused {
            path: path.clone(),
            reason,
        };
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if size > MAX_RULE_BYTES {
            loaded.push(refuse(format!(
                "{size} bytes: larger than a rule file can be ({MAX_RULE_BYTES} bytes), not read"
            )));
            continue;
        }
        let text = match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    loaded.push(refuse("not UTF-8 text".into()));
                    continue;
                }
            },
            Err(e) => {
                loaded.push(refuse(format!("cannot be read: {e}")));
                continue;
            }
        };
        match rsigma_parser::parse_sigma_yaml(&text) {
            Ok(collection) => {
                for reason in collection.errors {
                    loaded.push(refuse(reason));
                }
                for rule in collection.rules {
                    loaded.push(Loaded::Rule {
                        path: path.clone(),
                        rule: Box::new(rule),
                    });
                }
                for rule in collection.correlations {
                    loaded.push(Loaded::Correlation {
                        path: path.clone(),
                        rule: Box::new(rule),
                    });
                }
                if !collection.filters.is_empty() {
                    loaded.push(refuse(format!(
                        "{} filter document(s): Sigma filters are not applied by this tool",
                        collection.filters.len()
                    )));
                }
            }
            Err(e) => loaded.push(refuse(e.to_string())),
        }
    }
    Ok(loaded)
}
