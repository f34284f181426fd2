//! The import-circle check: no two modules of `core/src` or `src/` may import each other,
//! directly or through others.
//!
//! A module is a top-level file (`email.rs`) or folder (`delivery/`); inside a folder, its files
//! are modules too, checked among themselves (the folder's `mod.rs` is their parent and may
//! re-export them, so it is not a node of its own). An import is any `crate::name` path, any name
//! inside `use crate::{…}`, and, inside a folder, `super::name` of a sibling file. Comments and
//! the test code after a file's `#[cfg(test)]` are not read: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::Result;

/// One import: `from` uses `to`, first at `file`:`line`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    to: String,
    file: PathBuf,
    line: usize,
}

type Graph = BTreeMap<String, Vec<Edge>>;

/// Checks every crate source folder in `roots`; the error lists each circle found.
pub fn check(roots: &[PathBuf]) -> Result<()> {
    let mut problems = Vec::new();
    for root in roots {
        for (scope, graph) in graphs(root)? {
            for circle in circles(&graph) {
                problems.push(format!("{}: {}", scope, describe(&graph, &circle)));
            }
        }
    }
    if problems.is_empty() {
        println!("no import circles in {} crates", roots.len());
        Ok(())
    } else {
        Err(format!(
            "import circles (a module must not import a module that imports it back; move the \
             shared noun into a module below both):\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// The code of a file without comments and without its trailing test code.
fn code(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = match line.find("//") {
            // Good enough for `use` lines: a `//` inside a string on the same line as a path is
            // rare, and reading less only hides an import, never invents one.
            Some(at) => &line[..at],
            None => line,
        };
        out.push((i + 1, code.to_owned()));
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first segments after each `prefix::` in `line`, expanding `prefix::{a, b::c}` groups
/// (nested groups are read for their first segments too).
fn names_after(line: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let needle = format!("{prefix}::");
    let mut rest = line;
    while let Some(at) = rest.find(&needle) {
        let before_ok = at == 0 || !rest[..at].ends_with(is_ident);
        rest = &rest[at + needle.len()..];
        if !before_ok {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut take = true;
            for c in group.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        take = false;
                    }
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !item.is_empty() {
                            names.push(std::mem::take(&mut item));
                        }
                        take = true;
                    }
                    ':' => take = false,
                    c if is_ident(c) && take => item.push(c),
                    c if c.is_whitespace() && !item.is_empty() => take = false,
                    _ => {}
                }
            }
            if !item.is_empty() {
                names.push(item);
            }
        } else {
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// The module graphs of one crate folder: its top level, and one per sub-folder.
fn graphs(root: &Path) -> Result<Vec<(String, Graph)>> {
    let mut top: Graph = BTreeMap::new();
    let mut folders: Vec<(String, Graph)> = Vec::new();
    let entries = std::fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut modules: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            files.sort();
            modules.push((name, files));
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            modules.push((name, vec![path]));
        }
    }
    modules.sort();
    let known: BTreeSet<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
    let relative = |file: &Path| file.strip_prefix(root).unwrap_or(file).to_path_buf();
    for (module, files) in &modules {
        let edges = top.entry(module.clone()).or_default();
        let siblings: BTreeSet<String> = files
            .iter()
            .filter_map(|f| f.file_stem()?.to_str().map(str::to_owned))
            .filter(|s| s != "mod")
            .collect();
        let mut inner: Graph = BTreeMap::new();
        for file in files {
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            for (line, code) in code(&text) {
                for name in names_after(&code, "crate") {
                    if name != *module && known.contains(name.as_str()) {
                        let edge = Edge {
                            to: name,
                            file: relative(file),
                            line,
                        };
                        if !edges.contains(&edge) {
                            edges.push(edge);
                        }
                    }
                }
                if stem == "mod" || files.len() == 1 {
                    continue;
                }
                let own = format!("crate::{module}");
                let mut sibling_names = names_after(&code, "super");
                for path in names_after(&code, &own) {
                    sibling_names.push(path);
                }
                let node = inner.entry(stem.clone()).or_default();
                for name in sibling_names {
                    if name != stem && siblings.contains(&name) {
                        node.push(Edge {
                            to: name,
                            file: relative(file),
                            line,
                        });
                    }
                }
            }
        }
        if files.len() > 1 {
            folders.push((format!("{}/{module}", root.display()), inner));
        }
    }
    let mut all = vec![(root.display().to_string(), top)];
    all.extend(folders);
    Ok(all)
}

/// Every elementary circle found by a depth-first search, each once (as the list of its modules
/// from its smallest name).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    fn visit(graph: &Graph, node: &str, path: &mut Vec<String>, found: &mut BTreeSet<Vec<String>>) {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut circle: Vec<String> = path[at..].to_vec();
            let start = circle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| n.as_str())
                .map_or(0, |(i, _)| i);
            circle.rotate_left(start);
            found.insert(circle);
            return;
        }
        if path.len() > graph.len() {
            return;
        }
        path.push(node.to_owned());
        for edge in graph.get(node).into_iter().flatten() {
            visit(graph, &edge.to, path, found);
        }
        path.pop();
    }
    let mut found = BTreeSet::new();
    for node in graph.keys() {
        visit(graph, node, &mut Vec::new(), &mut found);
    }
    found.into_iter().collect()
}

/// `a → b (a.rs:3) → a (b.rs:9)`.
fn describe(graph: &Graph, circle: &[String]) -> String {
    let mut out = circle[0].clone();
    for (i, from) in circle.iter().enumerate() {
        let to = &circle[(i + 1) % circle.len()];
        let edge = graph
            .get(from)
            .and_then(|edges| edges.iter().find(|e| e.to == *to));
        match edge {
            Some(e) => out.push_str(&format!(" → {to} ({}:{})", e.file.display(), e.line)),
            None => out.push_str(&format!(" → {to}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("letterbox-layers-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn reads_plain_paths_grouped_imports_and_nested_groups() {
        assert_eq!(
            names_after(
                "use crate::{email::parse, json::{self, Value}, signup};",
                "crate"
            ),
            ["email", "json", "signup"]
        );
        assert_eq!(
            names_after("let x = crate::config::providers::url(u);", "crate"),
            ["config"]
        );
        assert_eq!(
            names_after("use letterbox_core::crate_name::x;", "crate"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_two_module_circle_is_found_with_where_each_import_is() {
        let root = tree(
            "two",
            &[
                ("lib.rs", "pub mod a;\npub mod b;\n"),
                ("a.rs", "use crate::b::B;\npub struct A;\n"),
                (
                    "b.rs",
                    "// crate::c in a comment\npub struct B;\nfn f() { let _ = crate::a::A; }\n",
                ),
            ],
        );
        let err = check(std::slice::from_ref(&root)).unwrap_err();
        assert!(err.contains("a → b ("), "{err}");
        assert!(err.contains("a → b (a.rs:1) → a (b.rs:3)"), "{err}");
    }

    #[test]
    fn a_circle_through_a_folder_and_between_sibling_files_is_found() {
        let root = tree(
            "folder",
            &[
                ("lib.rs", ""),
                ("leaf.rs", "pub fn f() {}\n"),
                (
                    "delivery/mod.rs",
                    "pub mod form;\npub mod json;\nuse crate::leaf::f;\n",
                ),
                ("delivery/form.rs", "use super::json::J;\n"),
                (
                    "delivery/json.rs",
                    "use super::form::F;\nuse crate::config::C;\n",
                ),
                ("config.rs", "use crate::delivery::Adapter;\n"),
            ],
        );
        let err = check(std::slice::from_ref(&root)).unwrap_err();
        assert!(err.contains("config → delivery"), "{err}");
        assert!(err.contains("form → json"), "{err}");
    }

    #[test]
    fn layered_modules_children_using_their_parent_and_tests_pass() {
        let root = tree("layered", &[
            ("lib.rs", ""),
            ("json.rs", "pub fn w() {}\n"),
            ("signup.rs", "use crate::json::w;\n"),
            ("delivery/mod.rs", "pub mod form;\nuse crate::signup::S;\n"),
            ("delivery/form.rs", "use super::Envelope;\nuse crate::json::w;\n"),
            (
                "pending.rs",
                "use crate::signup::S;\n#[cfg(test)]\nmod tests {\n    use crate::delivery::x;\n}\n",
            ),
            ("delivery/retry.rs", "use crate::pending::P;\n"),
        ]);
        // delivery → pending (retry.rs) and pending → delivery only in tests: no circle.
        assert_eq!(check(std::slice::from_ref(&root)), Ok(()));
    }
}
