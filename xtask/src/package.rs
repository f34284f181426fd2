//! The npm package, as a news site that does not use Rust gets Letterbox:
//!
//! - [`build`] (`cargo xtask package`): lays out `dist/` as an npm package in
//!   `<target dir>/npm-package/` (`package.json` with the workspace version, `exports` for the
//!   module and classic entries, `types`, `files`, `sideEffects`, the licence; a README with the
//!   SRI hashes of this version; `integrity.json`) and runs `npm pack` into `<target dir>/npm/`.
//! - [`test`] (a step of `cargo xtask test`): installs the tarball into a fresh project with
//!   `npm install --offline <tarball>` (no registry), checks what Node resolves for the package's
//!   entries, loads the widget from `node_modules` in pages served on 127.0.0.1 with the strict
//!   CSP in headless Chromium (module and classic), signs up, and checks that `Letterbox.version`,
//!   the package's version and `letterbox-receiver --version` agree; then compiles a TypeScript
//!   file that uses `window.Letterbox` and the event types with `tsc --noEmit` (TypeScript from
//!   npm, pinned, in the tools cache), and checks that a wrong use does not compile.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::bundle::Bundle;
use crate::e2e::{Browser, STRICT_CSP};
use crate::endpoint::{self, Statics};
use crate::tools::Tools;
use crate::util::{root, run, target_dir, Result};

/// The package's name on npm (CDN URLs: `…/letterbox@1/letterbox.js`).
pub const NAME: &str = "letterbox";
/// The one version of the widget, the receiver and the package: the workspace's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The TypeScript release the declarations are checked with.
const TYPESCRIPT_NPM: &str = "typescript@5.9.3";

/// A packed package.
pub struct Package {
    /// The `npm pack` tarball.
    pub tarball: PathBuf,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `package.json` for the files of `dist/` named in `files`.
pub fn manifest(files: &[String]) -> Value {
    let license = workspace_license();
    json!({
        "name": NAME,
        "version": VERSION,
        "description": "Embeddable newsletter signup widget: one script tag, a WebAssembly form in every <div data-letterbox>",
        "license": license,
        "keywords": ["newsletter", "signup", "widget", "webassembly", "embed"],
        "type": "module",
        "browser": "./letterbox.js",
        "module": "./letterbox.js",
        "types": "./letterbox.d.ts",
        "unpkg": "./letterbox.js",
        "jsdelivr": "./letterbox.js",
        "exports": exports(),
        // Importing a script starts the widget: never tree-shake it away.
        "sideEffects": ["./letterbox.js", "./letterbox.classic.js", "./letterbox.*.js"],
        "files": files,
    })
}

/// The `exports` map. In the `"."` entry the order matters (conditions are tried in order:
/// `types` first, `default` last), so it is written as text rather than as a `json!` object,
/// whose keys serde_json sorts.
const EXPORTS: &str = r#"{
    ".": {
      "types": "./letterbox.d.ts",
      "import": "./letterbox.js",
      "default": "./letterbox.js"
    },
    "./classic": "./letterbox.classic.js",
    "./letterbox.js": "./letterbox.js",
    "./letterbox.classic.js": "./letterbox.classic.js",
    "./letterbox_bg.wasm": "./letterbox_bg.wasm",
    "./letterbox.d.ts": "./letterbox.d.ts",
    "./integrity.json": "./integrity.json",
    "./package.json": "./package.json"
  }"#;

fn exports() -> Value {
    serde_json::from_str(EXPORTS).unwrap_or(Value::Null)
}

/// `package.json` as written: [`manifest`] with [`EXPORTS`] in its own order.
fn manifest_text(files: &[String]) -> String {
    let mut manifest = manifest(files);
    manifest["exports"] = json!("__EXPORTS__");
    format!(
        "{}\n",
        serde_json::to_string_pretty(&manifest)
            .unwrap_or_default()
            .replace("\"__EXPORTS__\"", EXPORTS)
    )
}

/// The `license` of `[workspace.package]` in the root Cargo.toml.
fn workspace_license() -> String {
    fs::read_to_string(root().join("Cargo.toml"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("license = \"")
                .map(|v| v.trim_end_matches('"').to_owned())
        })
        .unwrap_or_else(|| "MIT OR Apache-2.0".to_owned())
}

fn package_readme(integrity: &[(String, String)]) -> String {
    let sri = |name: &str| {
        integrity
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h.clone())
            .unwrap_or_default()
    };
    let pinned = integrity
        .iter()
        .map(|(n, _)| n.as_str())
        .find(|n| n.starts_with("letterbox.") && n.ends_with(".js") && n.matches('.').count() == 2)
        .unwrap_or("letterbox.js");
    let mut table = String::new();
    for (name, hash) in integrity {
        table.push_str(&format!("| `{name}` | `{hash}` |\n"));
    }
    format!(
        r#"# letterbox {VERSION}

An embeddable newsletter signup widget (Rust compiled to WebAssembly). Paste one tag, put a
`<div data-letterbox>` wherever a signup should appear.

```html
<!-- the latest 1.x (the embed contract does not change within a major version) -->
<script type="module" src="https://cdn.jsdelivr.net/npm/letterbox@1/letterbox.js"></script>
<!-- this exact version, pinned: the hashed script names its hashed wasm and checks it -->
<script type="module" src="https://cdn.jsdelivr.net/npm/letterbox@{VERSION}/{pinned}"
        integrity="{}" crossorigin="anonymous"></script>

<div data-letterbox>
  <script type="application/json">
    {{"endpoint": "/api/subscribe", "newsletters": [{{"id": "daily", "name": "The Daily Briefing"}}]}}
  </script>
</div>
```

Served from your own site: copy `node_modules/letterbox/` (or import `letterbox` in a bundler
that copies assets: the script finds `letterbox_bg.wasm` next to itself). `letterbox/classic` is
the variant for a plain `<script src defer>`. Types: `letterbox.d.ts` declares `window.Letterbox`
and the `letterbox:*` events.

## Subresource Integrity of {VERSION}

Also in `integrity.json`.

| file | integrity |
|---|---|
{table}
Full documentation, the endpoint contract and the reference receiver: see the repository.
"#,
        sri(pinned)
    )
}

/// Lays out `dist/` (as built by `bundle`) as an npm package and packs it.
pub fn build(bundle: &Bundle) -> Result<Package> {
    let dir = target_dir().join("npm-package");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    let mut integrity = Vec::new();
    for (path, hash) in &bundle.files {
        let name = file_name(path);
        fs::copy(path, dir.join(&name))
            .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        integrity.push((name.clone(), hash.clone()));
        files.push(name);
    }
    for required in [
        "letterbox.js",
        "letterbox.classic.js",
        "letterbox_bg.wasm",
        "letterbox.d.ts",
    ] {
        if !files.iter().any(|f| f == required) {
            return Err(format!("dist/ has no {required}"));
        }
    }
    let integrity_json: serde_json::Map<String, Value> = integrity
        .iter()
        .map(|(n, h)| (n.clone(), Value::String(h.clone())))
        .collect();
    write(
        &dir.join("integrity.json"),
        &serde_json::to_string_pretty(&Value::Object(integrity_json)).unwrap_or_default(),
    )?;
    files.push("integrity.json".to_owned());
    write(&dir.join("README.md"), &package_readme(&integrity))?;
    write(&dir.join("package.json"), &manifest_text(&files))?;
    let out = target_dir().join("npm");
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let tarball = out.join(format!("{NAME}-{VERSION}.tgz"));
    let _ = fs::remove_file(&tarball);
    run(Command::new("npm")
        .current_dir(&dir)
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&out))?;
    if !tarball.exists() {
        return Err(format!("npm pack did not write {}", tarball.display()));
    }
    println!(
        "\npackage: {} (laid out in {})",
        tarball.display(),
        dir.display()
    );
    for (name, hash) in &integrity {
        println!("  {name:<34} {hash}");
    }
    Ok(Package { tarball })
}

/// One GET on loopback (the test endpoint closes each connection): the body.
fn get(port: u16, path: &str) -> Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    Ok(raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

/// `npm install --offline <tarball>` into a fresh project; returns the project folder.
fn install(package: &Package) -> Result<PathBuf> {
    let project = target_dir().join("npm-consumer");
    let _ = fs::remove_dir_all(&project);
    fs::create_dir_all(&project)
        .map_err(|e| format!("cannot create {}: {e}", project.display()))?;
    write(
        &project.join("package.json"),
        r#"{"name": "a-news-site", "version": "1.0.0", "private": true, "type": "module"}"#,
    )?;
    run(Command::new("npm")
        .current_dir(&project)
        .args(["install", "--offline", "--no-audit", "--no-fund"])
        .arg(&package.tarball))?;
    Ok(project)
}

fn check(what: &str, ok: bool, failed: &mut Vec<String>) {
    println!("package: {} {what}", if ok { "ok    " } else { "FAILED" });
    if !ok {
        failed.push(what.to_owned());
    }
}

/// The installed package, checked the way a site uses it. Needs the receiver's debug build
/// for the version check.
pub fn test(tools: &Tools, package: &Package) -> Result<()> {
    let mut failed = Vec::new();
    let project = install(package)?;
    let installed = project.join("node_modules").join(NAME);
    let manifest: Value = fs::read_to_string(installed.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or("the installed package has no readable package.json")?;
    check(
        "npm install <tarball> installs the package with the workspace version",
        manifest["version"] == VERSION && manifest["name"] == NAME,
        &mut failed,
    );
    let mut listed: Vec<String> = fs::read_dir(&installed)
        .map_err(|e| format!("cannot list {}: {e}", installed.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    let unexpected: Vec<&String> = listed
        .iter()
        .filter(|n| {
            !(n.starts_with("letterbox")
                || ["package.json", "README.md", "integrity.json"].contains(&n.as_str()))
        })
        .collect();
    check(
        &format!("the package holds only the bundle and its metadata ({listed:?})"),
        unexpected.is_empty(),
        &mut failed,
    );
    let resolved = Command::new("node")
        .current_dir(&project)
        .args([
            "--input-type=module",
            "-e",
            "for (const s of ['letterbox', 'letterbox/classic', 'letterbox/letterbox_bg.wasm']) console.log(import.meta.resolve(s))",
        ])
        .output()
        .map_err(|e| format!("node could not start: {e}"))?;
    let resolved = String::from_utf8_lossy(&resolved.stdout).into_owned();
    check(
        "Node resolves the exports: the module entry, the classic entry and the wasm",
        resolved.lines().count() == 3
            && resolved
                .lines()
                .next()
                .is_some_and(|l| l.ends_with("/node_modules/letterbox/letterbox.js"))
            && resolved
                .lines()
                .nth(1)
                .is_some_and(|l| l.ends_with("/node_modules/letterbox/letterbox.classic.js")),
        &mut failed,
    );

    // The receiver's version, from its binary.
    let receiver = crate::receiver::build_debug()?;
    let receiver_version = Command::new(&receiver)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();

    // Pages that load the widget from node_modules, as a site copying the package would.
    let pages = target_dir().join("npm-pages");
    let _ = fs::remove_dir_all(&pages);
    fs::create_dir_all(&pages).map_err(|e| format!("cannot create {}: {e}", pages.display()))?;
    let page = |id: &str, test: &str, script: &str| {
        format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>From node_modules</title></head><body>
<div data-letterbox id="{id}"><script type="application/json">{{"endpoint": "/t/{test}/subscribed", "min_fill_ms": 0,
  "newsletters": [{{"id": "daily", "name": "The Daily Briefing"}}]}}</script></div>
{script}
</body></html>"#
        )
    };
    write(
        &pages.join("module.html"),
        &page(
            "npm-module",
            "npm-module",
            r#"<script type="module" src="/node_modules/letterbox/letterbox.js"></script>"#,
        ),
    )?;
    write(
        &pages.join("classic.html"),
        &page(
            "npm-classic",
            "npm-classic",
            r#"<script src="/node_modules/letterbox/letterbox.classic.js" defer></script>"#,
        ),
    )?;
    let statics = Statics {
        mounts: vec![
            ("/node_modules/".into(), project.join("node_modules")),
            ("/site/".into(), pages.clone()),
        ],
        csp: Some(STRICT_CSP.to_owned()),
        ..Statics::default()
    };
    let server = endpoint::start_serving(0, false, statics)?;
    let port = server.addr.port();
    let base = server.url();
    let browser = Browser::start(tools)?;
    for (name, id) in [("module", "npm-module"), ("classic", "npm-classic")] {
        let signed_up = (|| -> Result<bool> {
            browser.open(&format!("{base}/site/{name}.html"))?;
            browser.wait(
                "the form",
                &format!("document.querySelector('#{id}').shadowRoot.querySelector('form')"),
            )?;
            browser.type_into(
                &browser.in_shadow(&format!("#{id}"), "input[type=email]")?,
                "reader@example.com",
            )?;
            browser.click(&browser.in_shadow(&format!("#{id}"), "button[type=submit]")?)?;
            browser.wait(
                "the success panel",
                &format!(
                    "(() => {{ const s = document.querySelector('#{id}').shadowRoot.querySelector('.lb-success'); return s && !s.hidden; }})()"
                ),
            )?;
            let sent: Value = serde_json::from_str(&get(port, &format!("/t/{id}/requests"))?)
                .map_err(|e| format!("requests listing: {e}"))?;
            Ok(sent.as_array().is_some_and(|r| {
                r.len() == 1
                    && serde_json::from_str::<Value>(r[0]["body"].as_str().unwrap_or(""))
                        .is_ok_and(|b| b["email"] == "reader@example.com")
            }))
        })();
        check(
            &format!(
                "the {name} entry from node_modules mounts under the strict CSP and signs up once"
            ),
            signed_up.unwrap_or_else(|e| {
                println!("package: {name}: {e}");
                false
            }),
            &mut failed,
        );
    }
    let widget_version = browser
        .script("return window.Letterbox && window.Letterbox.version")
        .unwrap_or(Value::Null);
    check(
        &format!(
            "one version: Letterbox.version {widget_version}, package.json {}, `{receiver_version}`",
            manifest["version"]
        ),
        widget_version == VERSION
            && manifest["version"] == VERSION
            && receiver_version == format!("letterbox-receiver {VERSION}"),
        &mut failed,
    );
    drop(browser);

    // TypeScript: a site's file using window.Letterbox and the events compiles; a wrong use does not.
    let tsc = ensure_typescript()?;
    write(&project.join("use.ts"), USE_TS)?;
    write(&project.join("misuse.ts"), MISUSE_TS)?;
    let compile = |file: &str| -> Result<std::process::Output> {
        let config = project.join(format!("tsconfig.{file}.json"));
        write(
            &config,
            &json!({
                "compilerOptions": {
                    "noEmit": true, "strict": true, "target": "es2020", "module": "esnext",
                    "moduleResolution": "bundler", "lib": ["es2020", "dom"], "types": []
                },
                "files": [file]
            })
            .to_string(),
        )?;
        Command::new(&tsc)
            .current_dir(&project)
            .arg("-p")
            .arg(&config)
            .output()
            .map_err(|e| format!("tsc could not start: {e}"))
    };
    let good = compile("use.ts")?;
    if !good.status.success() {
        println!("{}", String::from_utf8_lossy(&good.stdout));
    }
    check(
        "a TypeScript file using window.Letterbox and the event types compiles (tsc --noEmit --strict)",
        good.status.success(),
        &mut failed,
    );
    let bad = compile("misuse.ts")?;
    let bad_out = String::from_utf8_lossy(&bad.stdout).into_owned();
    print!("{bad_out}");
    check(
        "a wrong use (a selector for an element, an unknown detail field) does not compile",
        !bad.status.success() && bad_out.contains("misuse.ts(3") && bad_out.contains("misuse.ts(5"),
        &mut failed,
    );

    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("package checks failed: {}", failed.join("; ")))
    }
}

/// What a site's TypeScript does with the package's types.
const USE_TS: &str = r##"import type { LetterboxApi, LetterboxEventDetail, LetterboxOptions } from "letterbox";

const api: LetterboxApi = window.Letterbox;
const version: string = window.Letterbox.version;
const options: LetterboxOptions = {
  endpoint: "/api/subscribe",
  newsletters: [{ id: "daily", name: "The Daily Briefing", checked: true }],
  provider: "json",
  consent: { text: "I agree", version: "2026-01" },
};
const host = document.querySelector<HTMLElement>("#signup");
if (host && !api.mount(host, options)) api.unmount(host);
window.Letterbox.ready.then((ready) => ready.forget());
document.addEventListener("letterbox:loaded", (e) => {
  e.detail.challenge(async ({ slot, provider }) => `${provider}:${slot}`);
});
document.addEventListener("letterbox:success", (e) => {
  const detail: LetterboxEventDetail = e.detail;
  console.log(version, detail.slot, detail.outcome, detail.newsletters.join(","));
});
host?.addEventListener("letterbox:error", (e) => console.log(e.detail.fields?.includes("email")));
"##;

/// Two mistakes the declarations must catch (lines 3 and 5).
const MISUSE_TS: &str = r##"import type {} from "letterbox";

window.Letterbox.mount("#signup");

document.addEventListener("letterbox:success", (e) => console.log(e.detail.address));
"##;

/// The tools cache (`$XDG_CACHE_HOME/letterbox` or `~/.cache/letterbox`), as in tools.rs.
fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/root/.cache"))
        .join("letterbox")
}

/// TypeScript from npm at exactly [`TYPESCRIPT_NPM`], in the tools cache.
fn ensure_typescript() -> Result<PathBuf> {
    let dir = cache_dir().join(TYPESCRIPT_NPM.replace('@', "-"));
    let bin = dir.join("node_modules").join(".bin").join("tsc");
    let wanted = TYPESCRIPT_NPM.trim_start_matches("typescript@");
    let version = |bin: &Path| {
        Command::new(bin)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    if bin.exists() && version(&bin).is_some_and(|v| v == format!("Version {wanted}")) {
        return Ok(bin);
    }
    crate::tools::npm_install(&dir, &[TYPESCRIPT_NPM])?;
    match version(&bin) {
        Some(v) if v == format!("Version {wanted}") => Ok(bin),
        v => Err(format!(
            "{} does not run as TypeScript {wanted} (it reports {v:?})",
            bin.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version_line(manifest: &str) -> String {
        fs::read_to_string(root().join(manifest))
            .unwrap_or_else(|e| panic!("reading {manifest}: {e}"))
            .lines()
            .skip_while(|l| l.trim() != "[package]")
            .find(|l| l.trim_start().starts_with("version"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    #[test]
    fn the_widget_the_receiver_and_the_package_share_the_workspace_version() {
        // The widget's Letterbox.version is its crate's CARGO_PKG_VERSION, the receiver's
        // --version its own, the package's this crate's: all three must come from the workspace.
        for manifest in [
            "Cargo.toml",
            "core/Cargo.toml",
            "receiver/Cargo.toml",
            "xtask/Cargo.toml",
        ] {
            assert_eq!(
                version_line(manifest),
                "version.workspace = true",
                "{manifest} must take the workspace version"
            );
        }
        let manifest = manifest(&["letterbox.js".to_owned()]);
        assert_eq!(manifest["version"], VERSION);
        let changelog = fs::read_to_string(root().join("CHANGELOG.md")).expect("CHANGELOG.md");
        assert!(
            changelog.contains(&format!("## [{VERSION}]")),
            "CHANGELOG.md has no entry for {VERSION}"
        );
    }

    #[test]
    fn the_manifest_exports_both_entries_and_the_types() {
        let m = manifest(&[]);
        assert_eq!(m["exports"]["."]["default"], "./letterbox.js");
        assert_eq!(m["exports"]["."]["types"], "./letterbox.d.ts");
        assert_eq!(m["exports"]["./classic"], "./letterbox.classic.js");
        assert_eq!(m["types"], "./letterbox.d.ts");
        assert_eq!(m["license"], "MIT OR Apache-2.0");
        let text = manifest_text(&[]);
        let (types, default) = (
            text.find("\"types\": \"./letterbox.d.ts\",\n      \"import\""),
            text.find("\"default\": \"./letterbox.js\""),
        );
        assert!(
            types.is_some() && default.is_some() && types < default,
            "{text}"
        );
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
        assert!(m["sideEffects"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("./letterbox.js"))));
    }
}
