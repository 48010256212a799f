//! The house as docs/architecture.md draws it, read from the `crate::`, `super::` and `self::` paths
//! of `src/` (comments and `mod tests` left out): a module imports only modules on a lower floor,
//! the generator imports nothing of the tool, and no file imports one that imports it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's floor, as docs/architecture.md draws them: a module may import only
/// modules on a lower floor. `sample` stands apart (it imports nothing of the tool).
const FLOORS: &[(&str, u32)] = &[
    ("escape", 0),
    ("interrupt", 0),
    ("runtime", 0),
    ("console", 1),
    ("time", 1),
    ("catalog", 1),
    ("sources", 2),
    ("parsers", 3),
    ("case", 4),
    ("schema_doc", 4),
    ("ingest", 5),
    ("query", 5),
    ("scope", 6),
    ("sigma", 6),
    ("overview", 6),
    ("cluster", 6),
    ("report", 7),
    ("timeline", 7),
    ("error", 8),
    ("bundled", 9),
    ("cli", 9),
    ("commands", 10),
];

/// Modules that import nothing of the crate.
const APART: &[&str] = &["sample"];

/// A source file, by its module path (`["scope", "window"]`; `mod.rs` is its directory's).
struct SourceFile {
    module: Vec<String>,
    is_dir_module: bool,
    /// Its code (no tests, no comments).
    text: String,
    /// The file as written.
    source: String,
}

fn source_files() -> BTreeMap<String, SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut stack: Vec<PathBuf> = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let relative = path
                .strip_prefix(&root)
                .expect("inside src")
                .to_string_lossy()
                .replace('\\', "/");
            let mut module: Vec<String> = relative
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_string)
                .collect();
            let is_dir_module = module.last().is_some_and(|m| m == "mod");
            if is_dir_module || relative == "lib.rs" || relative == "main.rs" {
                module.pop();
            }
            if relative == "main.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            files.insert(
                relative,
                SourceFile {
                    module,
                    is_dir_module,
                    text: code_of(&text),
                    source: text,
                },
            );
        }
    }
    files
}

/// A file's code: without its test module (`#[cfg(test)]` on a `mod`, to the end of the file,
/// where this project keeps it) and without comment lines.
fn code_of(text: &str) -> String {
    without_tests(text)
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A file without its test module (`#[cfg(test)]` on a `mod`, to the end of the file).
fn without_tests(text: &str) -> &str {
    let test_module = text.match_indices("#[cfg(test)]").find(|(at, marker)| {
        text[at + marker.len()..]
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.contains("mod "))
    });
    test_module.map_or(text, |(at, _)| &text[..at])
}

/// Every path a file names from `crate`, `super` or `self` (groups `{a, b}` expanded one level),
/// and the children a directory module uses by their bare names.
fn named_paths(file: &SourceFile, child_names: &BTreeSet<String>) -> Vec<(String, Vec<String>)> {
    let text = &file.text;
    let mut paths = Vec::new();
    for base in ["crate", "super", "self"] {
        let needle = format!("{base}::");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(&needle) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + needle.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
                .unwrap_or(rest.len());
            let written = &rest[..end];
            let mut segments: Vec<String> = written
                .split("::")
                .map(|s| s.trim_end_matches('{').to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if written.ends_with('{') {
                let group_end = rest.find('}').unwrap_or(rest.len());
                for name in rest[end..group_end].split([',', ' ', '\n', '{', ':']) {
                    let name = name.trim();
                    if !name.is_empty() && name != "self" {
                        let mut path = segments.clone();
                        path.push(name.to_string());
                        paths.push((base.to_string(), path));
                    }
                }
            }
            segments.retain(|s| !s.is_empty());
            paths.push((base.to_string(), segments));
        }
    }
    if file.is_dir_module || file.module.is_empty() {
        for line in text.lines() {
            let line = line.trim_start();
            let line = line
                .strip_prefix("pub use ")
                .or_else(|| line.strip_prefix("use "));
            if let Some(child) = line.and_then(|l| l.split("::").next())
                && child_names.contains(child)
            {
                paths.push(("self".to_string(), vec![child.to_string()]));
            }
        }
    }
    paths
}

/// The file a path leads to: the longest prefix that is a file.
fn resolve(by_module: &BTreeMap<Vec<String>, String>, path: &[String]) -> Option<String> {
    (1..=path.len())
        .rev()
        .find_map(|n| by_module.get(&path[..n]).cloned())
}

/// File-level import edges (a file to each other file whose items it names).
fn file_edges(files: &BTreeMap<String, SourceFile>) -> BTreeMap<String, BTreeSet<String>> {
    let by_module: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|(name, f)| (f.module.clone(), name.clone()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in files {
        let children: BTreeSet<String> = files
            .values()
            .filter(|f| {
                f.module.len() == file.module.len() + 1 && f.module.starts_with(&file.module)
            })
            .filter_map(|f| f.module.last().cloned())
            .collect();
        let parent: Vec<String> = file.module[..file.module.len().saturating_sub(1)].to_vec();
        for (base, path) in named_paths(file, &children) {
            let full: Vec<String> = match base.as_str() {
                "crate" => path,
                "super" => parent.iter().cloned().chain(path).collect(),
                _ => file.module.iter().cloned().chain(path).collect(),
            };
            if let Some(target) = resolve(&by_module, &full)
                && &target != name
            {
                edges.entry(name.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

fn top_module(files: &BTreeMap<String, SourceFile>, file: &str) -> Option<String> {
    files.get(file).and_then(|f| f.module.first().cloned())
}

#[test]
fn no_module_imports_one_above_it() {
    let files = source_files();
    let floors: BTreeMap<&str, u32> = FLOORS.iter().copied().collect();
    let mut refused = Vec::new();
    let mut seen = 0;
    for (file, targets) in file_edges(&files) {
        let Some(from) = top_module(&files, &file) else {
            continue;
        };
        for target in targets {
            let Some(to) = top_module(&files, &target) else {
                continue;
            };
            if from == to {
                continue;
            }
            seen += 1;
            // The generator imports nothing of the tool; only the edge (the commands, the
            // command line and the error they report) may use it.
            let allowed = if APART.contains(&from.as_str()) {
                false
            } else if APART.contains(&to.as_str()) {
                matches!(from.as_str(), "commands" | "cli" | "error")
            } else {
                matches!(
                    (floors.get(from.as_str()), floors.get(to.as_str())),
                    (Some(a), Some(b)) if b < a
                )
            };
            if !allowed {
                refused.push(format!("{file} ({from}) imports {target} ({to})"));
            }
        }
    }
    assert!(seen > 100, "only {seen} edges read: the reading is broken");
    assert!(
        refused.is_empty(),
        "imports against the floors of docs/architecture.md:\n{}",
        refused.join("\n")
    );
    for module in files.values().filter_map(|f| f.module.first()) {
        assert!(
            floors.contains_key(module.as_str()) || APART.contains(&module.as_str()),
            "{module} has no floor: add it to FLOORS and to docs/architecture.md"
        );
    }
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let files = source_files();
    let edges = file_edges(&files);
    // A path from each file back to itself, by depth-first search (the graph is small).
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut visited = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    cycles.push(trail.join(" → ") + " → " + start);
                } else if visited.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
    // The reading sees the edges it must: a file that imports a sibling, and a parent its child.
    let has = |from: &str, to: &str| edges.get(from).is_some_and(|t| t.contains(to));
    assert!(has("scope/window.rs", "scope/findings.rs"));
    assert!(has("scope/mod.rs", "scope/coverage.rs"));
    assert!(has("case/writer.rs", "case/files.rs"));
}

/// A cycle planted in text is found: the check can fail.
#[test]
fn a_planted_cycle_is_found() {
    let mut files = BTreeMap::new();
    for (name, module, text) in [
        ("a/mod.rs", vec!["a"], "use b::Thing;\nmod b;"),
        ("a/b.rs", vec!["a", "b"], "use super::Other;"),
    ] {
        files.insert(
            name.to_string(),
            SourceFile {
                module: module.into_iter().map(str::to_string).collect(),
                is_dir_module: name.ends_with("mod.rs"),
                text: code_of(text),
                source: text.to_string(),
            },
        );
    }
    let edges = file_edges(&files);
    assert!(edges["a/mod.rs"].contains("a/b.rs"), "{edges:?}");
    assert!(edges["a/b.rs"].contains("a/mod.rs"), "{edges:?}");
}

/// Where a role's tables are still written out by hand (their columns differ per table), every
/// table the catalogue gives that role is named: forgetting one would make the analysis call a
/// table with data absent. Coverage and Application Insights are read from views generated from
/// the catalogue (`coverage_records`, `app_insights_records`, `evidence_roles`).
#[test]
fn every_role_table_appears_where_the_role_is_used() {
    use mcpforensics::catalog::{Role, with_role};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let uses: &[(Role, &[&str])] = &[(Role::TimelineDetail, &["src/timeline/timeline.sql"])];
    for (role, files) in uses {
        for file in *files {
            let text = read(file);
            // Sign-ins reach the timeline through the catalogue's view.
            assert!(text.contains("FROM identity_sign_ins"), "{file}");
            for table in
                with_role(*role).filter(|t| !with_role(Role::IdentitySource).any(|s| s == *t))
            {
                let quoted = format!("\"{table}\"");
                assert!(
                    text.contains(&quoted) || text.contains(&format!(" {table} ")),
                    "{file} does not name {table}, which the catalogue gives the role {role:?}"
                );
            }
        }
    }
    for (file, view) in [
        ("queries/hourly_volume.sql", "coverage_records"),
        ("queries/sampling.sql", "app_insights_records"),
        ("queries/window_signins.sql", "identity_sign_ins"),
        ("src/query/identity_index.sql", "all_days_sign_ins"),
    ] {
        assert!(read(file).contains(view), "{file} reads {view}");
    }
    // The sign-ins are read from the view the catalogue generates, never listed by hand.
    let sign_ins = mcpforensics::catalog::sign_ins_view("identity_sign_ins", None);
    for table in with_role(Role::IdentitySource) {
        assert!(
            sign_ins.contains(&format!("FROM \"{table}\"")),
            "{sign_ins}"
        );
        for file in [
            "queries/window_signins.sql",
            "src/query/identity_index.sql",
            "src/timeline/timeline.sql",
        ] {
            assert!(
                !read(file).contains(&format!("\"{table}\"")),
                "{file} lists {table} by hand"
            );
        }
    }
    let coverage = mcpforensics::catalog::coverage_records_view();
    for table in with_role(Role::Coverage) {
        assert!(
            coverage.contains(&format!("FROM \"{table}\"")),
            "{coverage}"
        );
    }
}

/// Files that may read the process's environment: the edge, where settings are resolved once
/// and passed down (`commands`, `cli`, `bundled`'s sample and cache directories), and the crash
/// tests' fault injection in the commit journal, which no user sets.
const READS_ENVIRONMENT: &[&str] = &["cli.rs", "bundled.rs", "case/journal.rs"];

#[test]
fn nothing_below_the_commands_reads_the_environment() {
    let files = source_files();
    let mut readers = Vec::new();
    for (relative, file) in &files {
        let code = &file.text;
        let reads = ["env::var(", "env::var_os(", "env::vars("]
            .iter()
            .any(|call| code.contains(call));
        if reads
            && !relative.starts_with("commands/")
            && !READS_ENVIRONMENT.contains(&relative.as_str())
        {
            readers.push(relative.clone());
        }
    }
    assert!(
        readers.is_empty(),
        "these files read the environment below the commands (resolve it at the edge and pass it down): {readers:?}"
    );
    assert!(files.len() > 50, "{} source files read", files.len());
}

/// The longest a function may be without a reason written above it.
const LONGEST_FUNCTION: usize = 150;

/// Functions of `text` longer than [`LONGEST_FUNCTION`] lines with no reason in the lines above
/// them (a `// Long:` comment, or clippy's `too_many_lines` allowed with its reason): (name,
/// first line, length).
fn long_functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature = trimmed
            .trim_start_matches("pub ")
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("async ")
            .trim_start_matches("const ");
        let Some(rest) = signature.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The body's end: the first line after the signature closing at the same indent.
        let Some(open) = (at..lines.len()).find(|i| {
            let l = lines[*i].trim_end();
            l.ends_with('{') || l.ends_with(';')
        }) else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let Some(close) = (open + 1..lines.len()).find(|i| {
            let l = lines[*i];
            l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
        }) else {
            continue;
        };
        let length = close - at + 1;
        let reasoned = lines[at.saturating_sub(12)..at].iter().any(|l| {
            l.trim_start().starts_with("// Long:") || l.contains("clippy::too_many_lines")
        });
        if length > LONGEST_FUNCTION && !reasoned {
            long.push((name, at + 1, length));
        }
    }
    long
}

#[test]
fn no_function_is_long_without_a_reason() {
    let mut long = Vec::new();
    for (relative, file) in source_files() {
        for (name, line, length) in long_functions(without_tests(&file.source)) {
            long.push(format!("src/{relative}:{line} {name} ({length} lines)"));
        }
    }
    assert!(
        long.is_empty(),
        "functions over {LONGEST_FUNCTION} lines without a `// Long:` reason above them:\n{}",
        long.join("\n")
    );
}

#[test]
fn a_long_function_is_found_and_a_reason_lets_it_be() {
    let body = "    let x = 1;\n".repeat(LONGEST_FUNCTION);
    let long = format!("fn planted() {{\n{body}}}\n");
    assert_eq!(
        long_functions(&long),
        vec![("planted".to_string(), 1, LONGEST_FUNCTION + 2)]
    );
    let reasoned = format!("// Long: one table of cases, read top to bottom.\n{long}");
    assert!(long_functions(&reasoned).is_empty());
    let short = format!("fn short() {{\n{}}}\n", "    let x = 1;\n".repeat(10));
    assert!(long_functions(&short).is_empty());
}
