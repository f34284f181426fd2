//! Where the wasm's bytes come from: `twiggy top` (installed from the crate registry by
//! [`crate::tools::ensure_twiggy`]) on the wasm-bindgen output, which still has its function
//! names, with every function attributed to a crate, and to a module for our own two crates.
//! Sizes are before wasm-opt (which shrinks the shipped file by about a third), so read the
//! shares, not the bytes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::{capture, Result};

/// Our crates, attributed by module rather than as a whole.
const OURS: [&str; 2] = ["letterbox", "letterbox_core"];

/// The fields of one CSV line (quoted fields, `""` for a quote inside one).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(f) = fields.last_mut() {
                    f.push('"');
                }
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// The crate (or, for ours, `crate::module`) a twiggy item belongs to; `None` for what is not
/// code or data that ships (names, custom sections).
pub fn owner(item: &str) -> Option<String> {
    if item.contains("custom section") || item.contains("subsection") {
        return None;
    }
    if item.starts_with("data segment") {
        return Some("(data: strings, tables)".into());
    }
    if item.starts_with("import ") || item.starts_with("export ") {
        return Some("(imports, exports)".into());
    }
    let mut n = item.trim();
    loop {
        let before = n;
        n = n.trim_start_matches(['&', '(', '[', '*', ' ']);
        n = n.strip_prefix("mut ").unwrap_or(n);
        n = n.strip_prefix("dyn ").unwrap_or(n);
        n = n.strip_prefix("const ").unwrap_or(n);
        if let Some(rest) = n.strip_prefix("core::ptr::drop_in_place<") {
            n = rest;
        }
        if let Some(rest) = n.strip_prefix('<') {
            // `<A as B>::f`: A's crate, unless A is a bare generic parameter (then B's).
            let generic = rest.split_once(" as ").filter(|(a, _)| {
                let a = a.trim_start_matches(['&', '(', '[', '*', ' ']);
                let a = a.strip_prefix("mut ").unwrap_or(a);
                let ident = &a[..a
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(a.len())];
                !ident.is_empty()
                    && ident.len() <= 2
                    && ident.chars().all(|c| c.is_ascii_uppercase())
            });
            n = generic.map_or(rest, |(_, b)| b);
        }
        if n == before {
            break;
        }
    }
    let end = |s: &str| {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let krate = &n[..end(n)];
    if krate.is_empty() {
        return Some("(other)".into());
    }
    let rest = n[krate.len()..]
        .trim_start_matches(|c: char| c == '[' || c.is_ascii_hexdigit() || c == ']');
    if OURS.contains(&krate) {
        if let Some(path) = rest.strip_prefix("::") {
            let module = &path[..end(path)];
            // A module starts lower case; `letterbox::Foo` is a crate-level item.
            if module.starts_with(|c: char| c.is_ascii_lowercase()) {
                return Some(format!("{krate}::{module}"));
            }
        }
    }
    Some(krate.to_owned())
}

/// Bytes per owner, largest first, and the total of what ships.
pub fn attribute(csv: &str) -> (Vec<(String, usize)>, usize) {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f = csv_fields(line);
        let (Some(name), Some(size)) = (f.first(), f.get(1).and_then(|s| s.parse::<usize>().ok()))
        else {
            continue;
        };
        if name.starts_with('Σ') || name.starts_with("... and") {
            continue;
        }
        if let Some(o) = owner(name) {
            *by.entry(o).or_default() += size;
        }
    }
    let total = by.values().sum();
    let mut rows: Vec<(String, usize)> = by.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (rows, total)
}

/// Prints the attribution of `wasm` (a build that still has its name section).
pub fn report(twiggy: &Path, wasm: &Path) -> Result<()> {
    let csv = capture(
        Command::new(twiggy)
            .args(["top", "-n", "1000000", "-f", "csv"])
            .arg(wasm),
    )?;
    let (rows, total) = attribute(&csv);
    println!(
        "\nWhere the wasm's bytes come from (twiggy, before wasm-opt; name sections left out)"
    );
    println!(
        "{:<34} {:>9} {:>6}",
        "crate or our module", "bytes", "share"
    );
    let ours: Vec<&(String, usize)> = rows
        .iter()
        .filter(|(o, _)| {
            OURS.iter()
                .any(|c| o == c || o.starts_with(&format!("{c}::")))
        })
        .collect();
    let theirs = rows.iter().filter(|r| !ours.contains(r)).take(14);
    for (owner, bytes) in theirs.chain(ours.iter().copied()) {
        println!(
            "{owner:<34} {bytes:>9} {:>5.1}%",
            100.0 * *bytes as f64 / total.max(1) as f64
        );
    }
    println!("{:<34} {total:>9}", "total");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_attributed_to_their_crate_and_our_modules() {
        assert_eq!(owner("core::fmt::write::h12").as_deref(), Some("core"));
        assert_eq!(
            owner("letterbox::page::mount_with::h1").as_deref(),
            Some("letterbox::page")
        );
        assert_eq!(
            owner("<letterbox_core::config::Config as core::clone::Clone>::clone::h2").as_deref(),
            Some("letterbox_core::config")
        );
        assert_eq!(
            owner("<T as reactive_graph::traits::Get>::get::h3").as_deref(),
            Some("reactive_graph")
        );
        assert_eq!(
            owner("core::ptr::drop_in_place<tachys::view::State>::h4").as_deref(),
            Some("tachys")
        );
        assert_eq!(
            owner("alloc[3ca501edff3f0c7c]::raw_vec::grow::h5").as_deref(),
            Some("alloc")
        );
        assert_eq!(owner("\"function names\" subsection"), None);
        assert_eq!(
            owner("data segment \".rodata\"").as_deref(),
            Some("(data: strings, tables)")
        );
    }

    #[test]
    fn csv_lines_with_quotes_and_commas_are_split_right() {
        let csv = "Name,ShallowSize,ShallowSizePercent\n\
                   \"<(A,B) as core::fmt::Debug>::fmt::h1\",30,1.0\n\
                   \"data segment \"\".rodata\"\"\",70,2.0\n\
                   \"\"\"function names\"\" subsection\",500,3.0\n";
        let (rows, total) = attribute(csv);
        assert_eq!(total, 100);
        assert_eq!(rows[0], ("(data: strings, tables)".to_owned(), 70));
        assert_eq!(rows[1], ("core".to_owned(), 30));
    }
}
