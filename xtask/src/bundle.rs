//! The release bundle (cargo → wasm-bindgen → wasm-opt → `dist/`) and its size report.
//!
//! `cargo xtask test` builds the bundle this way rather than through trunk, so a cold CI run
//! does not spend ~20 minutes compiling trunk; `cargo xtask demo` serves the playground through
//! trunk with the same crate and stylesheet.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::Tools;
use crate::util::{root, run, target_dir, Result};

/// The size budget: what a reader downloads (wasm, stylesheet inside, + module JS), brotli, in bytes.
///
/// Issue 2 asked for 60 KB; measured here that cannot hold a Leptos 0.8 widget with the required
/// behaviour (a bare Leptos form is 40.7 KB of wasm). Measured on 2026-11-26, wasm only:
///
/// | build | wasm |
/// |---|---|
/// | the full form, state machine, email rule, suggestions | 83.9 KB |
/// | and shadow roots, stylesheet, API, observer, events, remembered signups | 85.1 KB |
/// | and the five delivery adapters with JSONP | 104.9 KB |
/// | and retries and upgrading existing forms | 112.7 KB |
/// | and the offline queue and deferred mounting | 121.3 KB |
/// | and bot checks (session 1 end: 122,308 B wasm + 8,057 B JS = 130,365 B) | 122.3 KB |
/// | and consent, the challenge hook, one request per signup (2026-11-26, session 2) | 130.5 KB |
/// | and listmonk list discovery, `data-<provider>-*` settings, `pending_days` | 133.1 KB |
/// | the same, wasm-opt run twice (`-Oz -Oz`) | 132.2 KB |
/// | and the review's fixes: queued signups sent with their own settings (adapter fingerprints), joined signups keyed as one, the consent statement read with the button | 134.6 KB |
/// | session 3, the house redesign (one `Signup`, modules regrouped, the widget split into page, outbox, remembered, challenge, storage and view components): 134,391 → 134,023 B | 134.0 KB |
/// | and no repeat at services without idempotency keys, Ghost attribution, the busy button, left-alone forms, hostile URLs and huge configs refused, quiet config errors (2026-11-27: 136,578 B wasm + 6,316 B JS = 142,894 B) | 136.6 KB |
/// | session 4, each branch measured alone on 142,894 B: many slots in small tasks +1,221 B (issue 13); a redirecting service URL detected, Ghost's text for existing members, Mailchimp over https +1,132 B (issue 16); anonymous slot statistics +3,594 B (issue 14); real article pages (page colour scheme, unboxed, title/intro/image, named controls, errors sized to the form, Retry-After countdown, contrast warning, parts) +6,464 B (issue 11); real embeds (merge fields, radio/select choices, optional groups, GDPR permissions) +14,071 B (issue 12); the upgrade keeping what the reader did in the fallback form +2,806 B (issue 13) | – |
/// | session 4 merged, with the one config reader and one answer route (−196 B), the review's fixes, one JSON writer (−255 B) and the transport's one send() (+162 B), 2026-11-27: 163,432 B wasm + 6,788 B JS = 170,220 B | 163.4 KB |
/// | session 5, issue 11's widget items (branch pages2, alone on 170,220 B): the slots' space reserved by the entry script before the wasm (+812 B JS); the retry wait shown and counted down, the corrected part of a typo suggestion marked, a page's later light/dark switch followed, the legend set as a label under a title (+1,710 B wasm together): 165,142 B wasm + 7,600 B JS = 172,742 B | 165.1 KB |
/// | session 5 (goal branch alone on 170,220 B): the goal slot kind (its config, count reading and cache, progress bar, call to action, grouped numbers and plural forms) and `social_proof`: +8,033 B (171,465 B wasm + 6,788 B JS = 178,253 B); the ceiling is raised by exactly that | 171.5 KB |
/// | session 5 (upgrade), on 170,220 B: a label or paragraph above the form names its newsletter (issue 12) +202 B; the upgraded form as a typed layer, no JSON text round trip (issue 9) +271 B: 163,905 B wasm + 6,788 B JS = 170,693 B | 163.9 KB |
/// | session 5 merged (pages2, goal, upgrade, playground; 2026-11-27): 174,510 B wasm + 7,600 B JS = 182,110 B, 862 B above the sum of the branches' own measurements (LTO inlines differently once they meet) | 174.5 KB |
/// | and the review's fixes (reserve.js guarded per slot, its box cleared on unmount or a failed start, +129 B JS; the scheme follower throttled and unmount's clearing, +359 B wasm): 174,869 B wasm + 7,729 B JS = 182,598 B | 174.9 KB |
/// | session 6 (2026-11-27), from session 5's last commit (174,699 B wasm + 7,729 B JS = 182,428 B; its one text-above rule in core had taken 170 B off the row above): dependencies' panic locations without the builder's home folder (−154 B); wasm-opt inlining a one-caller function only when small, `-ocimfs=15` (−10,824 B); a broken goal slot's own heading, a wrong `kind` named as such (+529 B); the review's fixes (−98 B): 164,152 B wasm + 7,729 B JS = 171,881 B | 164.2 KB |
/// | and one reader for a slot's own configuration levels, shared by both kinds (−392 B): 163,760 B wasm + 7,729 B JS = 171,489 B | 163.8 KB |
///
/// The JS glue is minified by esbuild since session 2 (8,171 → 6,316 B). Issue 13 withdrew the
/// 60 KB budget for targets about what a reader waits for (first download ≤ 70 KB, the whole
/// journey ≤ 110 KB) and asks to enforce what is reached: session 4 reached 170,220 B, and this
/// ceiling is 276 B above that, raised by exactly what session 5 measured (issue 11's widget
/// items +2,522 B, the goal slot +8,033 B, the upgrade branch +473 B, their merge +862 B, the review's fixes +488 B). Lazy
/// chunks were measured and not shipped (docs/speed.md). Session 6 brought the bundle down to
/// 171,489 B (see the last row) and lowered the ceiling to 276 B above that.
pub const BUDGET_BROTLI_BYTES: usize = 171_489 + 276;

/// What `dist/` holds after [`build`].
pub struct Bundle {
    /// The files a reader downloads with the module tag: the wasm and `letterbox.js`.
    pub shipped: Vec<PathBuf>,
    /// Every file in `dist/`, with its SRI hash.
    pub files: Vec<(PathBuf, String)>,
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `sha384-<base64>`, the Subresource Integrity form.
pub fn sri(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha384-{}", base64(&sha2::Sha384::digest(bytes)))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The first 10 hex digits of the SHA-256 of `bytes`, for content-hashed file names.
fn short_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the entry script does before it asks for the wasm: reserve each slot's space from its
/// configuration, so the widget's arrival moves nothing below it (issue 11, item 5).
const RESERVE: &str = include_str!("../../dist-src/reserve.js");

/// When the wasm cannot start, the reserved space goes again: a blank box is worse than none.
const UNRESERVE: &str = "for (const h of document.querySelectorAll(\"[data-letterbox-reserved]\")) { h.style.minHeight = \"\"; h.removeAttribute(\"data-letterbox-reserved\"); }";

/// The lines appended to the ES-module glue: reserve the slots' space, then start at once,
/// finding the wasm relative to the script's own URL (so the tag works from any origin),
/// optionally pinned by its SRI hash.
pub(crate) fn module_start(wasm_name: &str, integrity: Option<&str>) -> String {
    let url = format!("new URL({wasm_name:?}, import.meta.url)");
    let source = match integrity {
        Some(i) => format!("fetch({url}, {{ integrity: {i:?} }})"),
        None => url,
    };
    format!(
        "\n{RESERVE}\n__wbg_init({{ module_or_path: {source} }}).catch((e) => {{ console.error(\"Letterbox could not start:\", e); {UNRESERVE} }});\n"
    )
}

/// The classic-script variant: the no-modules glue wrapped so it defines no globals, started
/// with the wasm found relative to `document.currentScript`.
fn classic(glue: &str, wasm_name: &str, integrity: Option<&str>) -> String {
    let url = format!("new URL({wasm_name:?}, document.currentScript.src)");
    let source = match integrity {
        Some(i) => format!("fetch({url}, {{ integrity: {i:?} }})"),
        None => url,
    };
    format!(
        "(function () {{\n{glue}\n{RESERVE}\nwasm_bindgen({{ module_or_path: {source} }}).catch((e) => {{ console.error(\"Letterbox could not start:\", e); {UNRESERVE} }});\n}})();\n"
    )
}

/// How wasm-opt shrinks the release wasm.
///
/// Two -Oz rounds: the second finds what the first opened up (about 0.9 KB brotli, 7 s more).
///
/// `--one-caller-inline-max-function-size` (`-ocimfs`): by default wasm-opt inlines every
/// function that has one caller, whatever its size, so the mount became one 111 KB function
/// holding the configuration reader, the form upgrade and the first render. Such a function
/// compresses badly (every inlined copy gets its own, larger local numbers, so brotli finds fewer
/// repeats) and V8 compiles all of it, cold paths too, on its first call. Functions of up to 15
/// instructions are still inlined at their one call; the rest stay functions. Measured
/// 2026-11-27 on the same input (raw / brotli -q 11 B): default 515,480 / 174,294; 0: 531,751 /
/// 165,091; 5: 523,733 / 164,294; 10: 521,698 / 163,923; **15: 520,497 / 163,626**; 20: 519,865
/// / 163,859; 30: 517,786 / 164,100; 100: 514,822 / 169,038; 1000: 515,703 / 174,349. On the
/// first render of a one-newsletter slot V8 then compiles 183 KB of functions instead of 240 KB
/// (CDP trace, `wasm.CompileLazy`).
pub const WASM_OPT_FLAGS: [&str; 3] = ["-Oz", "-Oz", "--one-caller-inline-max-function-size=15"];

/// The release build of the widget's wasm (with `features`), as every shipped or served build
/// makes it: the same flags each time, so the release build of the dependencies is shared.
///
/// Panic location strings name the file of every crate that can panic. Dependencies are named
/// from the registry folder (`tachys-0.2.19/src/html/event.rs`), not from the builder's home
/// directory (`/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/…`): the release
/// wasm no longer depends on where it was built, and it is smaller (measured 2026-11-27:
/// −1,712 B raw, −154 B brotli). Our own crates are already named relative to the workspace;
/// std's paths come precompiled and stay. The flags go in as `target.wasm32-unknown-unknown.rustflags`:
/// cargo then ignores a `build.rustflags` of the user's, and `RUSTFLAGS` in the environment
/// replaces them (the build is then not remapped).
pub fn release_wasm(features: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root()).args([
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "letterbox",
    ]);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let flags = registry_sources()
        .iter()
        .map(|dir| remap_flag(dir))
        .collect::<Vec<_>>();
    if !flags.is_empty() {
        cmd.arg("--config").arg(format!(
            "target.wasm32-unknown-unknown.rustflags=[{}]",
            flags.join(", ")
        ));
    }
    cmd
}

/// The registry folders (`$CARGO_HOME/registry/src/<index>`) holding the widget's
/// dependencies, from `cargo metadata` (which downloads and unpacks them first, so a fresh
/// machine's first build is remapped too). Only this workspace's folders count: another
/// project's registry or an older cargo's index folder must not change the flags, which would
/// rebuild every dependency. Empty when cargo cannot tell: the build then keeps the long paths.
fn registry_sources() -> Vec<PathBuf> {
    let out = Command::new("cargo")
        .current_dir(root())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            "wasm32-unknown-unknown",
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout)
            .map(|meta| index_folders(&meta))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The folders two levels above each registry package's manifest
/// (`<index>/<name>-<version>/Cargo.toml`), sorted, each once.
fn index_folders(meta: &serde_json::Value) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        })
        .filter_map(|p| {
            let manifest = Path::new(p["manifest_path"].as_str()?);
            Some(manifest.parent()?.parent()?.to_path_buf())
        })
        .collect();
    // The same order every time, or the flags (and so the build) would differ between runs.
    dirs.sort();
    dirs.dedup();
    dirs
}

/// `"--remap-path-prefix=<dir>/="` as a TOML string (JSON's string syntax is valid TOML).
fn remap_flag(dir: &Path) -> String {
    let mut prefix = dir.to_string_lossy().into_owned();
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    serde_json::Value::String(format!("--remap-path-prefix={prefix}=")).to_string()
}

/// Builds the release bundle into `dist/`: `letterbox.js` (ES module, the one-tag embed),
/// `letterbox.classic.js` (for `<script src defer>`), `letterbox_bg.wasm` (the stylesheet is
/// inside it), `letterbox.d.ts`, and content-hashed copies whose JS pins its wasm by SRI hash.
pub fn build(tools: &Tools) -> Result<Bundle> {
    let root = root();
    run(&mut release_wasm(&[]))?;
    let dist = root.join("dist");
    let _ = fs::remove_dir_all(&dist);
    let work = target_dir().join("letterbox-bindgen");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&dist).map_err(|e| format!("cannot create dist/: {e}"))?;
    let raw = target_dir().join("wasm32-unknown-unknown/release/letterbox.wasm");
    for target in ["web", "no-modules"] {
        run(Command::new(&tools.wasm_bindgen)
            .args([
                "--target",
                target,
                "--no-typescript",
                "--out-name",
                "letterbox",
                "--out-dir",
            ])
            .arg(work.join(target))
            .arg(&raw))?;
    }
    // Both targets emit the same wasm; one file serves both scripts.
    let wasm = dist.join("letterbox_bg.wasm");
    run(Command::new(&tools.wasm_opt)
        .env("PATH", &tools.path)
        .args(WASM_OPT_FLAGS)
        .arg(work.join("web/letterbox_bg.wasm"))
        .arg("-o")
        .arg(&wasm))?;
    let wasm_bytes = fs::read(&wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let module_glue = read_text(&work.join("web/letterbox.js"))?;
    let classic_glue = read_text(&work.join("no-modules/letterbox.js"))?;

    let module_js = dist.join("letterbox.js");
    let module_for = |wasm_name: &str, integrity: Option<&str>| {
        minify(
            tools,
            &format!("{module_glue}{}", module_start(wasm_name, integrity)),
            true,
        )
    };
    let classic_for = |wasm_name: &str, integrity: Option<&str>| {
        minify(tools, &classic(&classic_glue, wasm_name, integrity), false)
    };
    write(
        &module_js,
        module_for("letterbox_bg.wasm", None)?.as_bytes(),
    )?;
    write(
        &dist.join("letterbox.classic.js"),
        classic_for("letterbox_bg.wasm", None)?.as_bytes(),
    )?;
    fs::copy(
        root.join("dist-src/letterbox.d.ts"),
        dist.join("letterbox.d.ts"),
    )
    .map_err(|e| format!("cannot copy letterbox.d.ts: {e}"))?;

    // Content-hashed copies: the JS names and pins its wasm, so one `integrity=` on the script
    // tag covers both files.
    let wasm_hashed = format!("letterbox_bg.{}.wasm", short_hash(&wasm_bytes));
    write(&dist.join(&wasm_hashed), &wasm_bytes)?;
    let wasm_sri = sri(&wasm_bytes);
    let pinned_module = module_for(&wasm_hashed, Some(&wasm_sri))?;
    write(
        &dist.join(format!(
            "letterbox.{}.js",
            short_hash(pinned_module.as_bytes())
        )),
        pinned_module.as_bytes(),
    )?;
    let pinned_classic = classic_for(&wasm_hashed, Some(&wasm_sri))?;
    write(
        &dist.join(format!(
            "letterbox.classic.{}.js",
            short_hash(pinned_classic.as_bytes())
        )),
        pinned_classic.as_bytes(),
    )?;

    let mut files = Vec::new();
    let mut names: Vec<PathBuf> = fs::read_dir(&dist)
        .map_err(|e| format!("cannot list dist/: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    for path in names {
        let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        files.push((path, sri(&bytes)));
    }
    Ok(Bundle {
        shipped: vec![wasm, module_js],
        files,
    })
}

/// `js` minified by esbuild (whitespace, syntax, local names; never property names, so the
/// wasm-bindgen import names survive). `esm` keeps it an ES module; otherwise it is a classic
/// script, whose top-level names esbuild leaves alone.
fn minify(tools: &Tools, js: &str, esm: bool) -> Result<String> {
    use std::io::Write;
    let mut cmd = Command::new(&tools.esbuild);
    cmd.args([
        "--minify",
        "--loader=js",
        "--log-level=warning",
        "--target=es2020",
    ]);
    if esm {
        cmd.arg("--format=esm");
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("esbuild could not start: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("esbuild has no stdin")?;
    let input = js.to_owned();
    // Written from another thread, so a full stdout pipe cannot deadlock the two.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("esbuild failed: {e}"))?;
    writer
        .join()
        .map_err(|_| "writing to esbuild panicked".to_owned())?
        .map_err(|e| format!("writing to esbuild: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "esbuild could not minify the glue ({})",
            out.status
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| "esbuild wrote something that is not UTF-8".into())
}

/// Prints every file of the bundle with its SRI hash.
pub fn print_integrity(bundle: &Bundle) {
    println!("\ndist/ (pin a versioned copy with integrity=\"…\" crossorigin=\"anonymous\")");
    for (path, hash) in &bundle.files {
        println!("  {:<34} {hash}", name(path));
    }
}

/// Raw, gzip (-9) and brotli (-q 11) sizes of one file.
pub struct Sizes {
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

pub fn sizes(bytes: &[u8]) -> Sizes {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = gz.write_all(bytes);
    let gzip = gz.finish().map(|v| v.len()).unwrap_or(0);
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &bytes[..], &mut br, &params);
    Sizes {
        raw: bytes.len(),
        gzip,
        brotli: br.len(),
    }
}

/// Prints the size table of what a reader downloads (wasm + module JS; the stylesheet is inside
/// the wasm) and fails if the brotli total is over budget.
pub fn report(files: &[PathBuf]) -> Result<()> {
    println!("\nRelease size report (bytes)");
    println!("{:<22} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let mut total = Sizes {
        raw: 0,
        gzip: 0,
        brotli: 0,
    };
    for f in files {
        let bytes = fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let s = sizes(&bytes);
        println!("{:<22} {:>9} {:>9} {:>9}", name(f), s.raw, s.gzip, s.brotli);
        total.raw += s.raw;
        total.gzip += s.gzip;
        total.brotli += s.brotli;
    }
    println!(
        "{:<22} {:>9} {:>9} {:>9}",
        "total", total.raw, total.gzip, total.brotli
    );
    println!(
        "brotli total {} B of a {} B budget ({:.0}%)",
        total.brotli,
        BUDGET_BROTLI_BYTES,
        100.0 * total.brotli as f64 / BUDGET_BROTLI_BYTES as f64
    );
    if total.brotli > BUDGET_BROTLI_BYTES {
        return Err(format!(
            "the bundle is {} B brotli, over the {} B budget",
            total.brotli, BUDGET_BROTLI_BYTES
        ));
    }
    Ok(())
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sri_hashes_match_the_published_sha384_of_known_inputs() {
        // The SHA-384 of the empty string and of "abc", as listed in FIPS 180-2 examples.
        assert_eq!(
            sri(b""),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
        assert_eq!(
            sri(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    #[test]
    fn only_the_registry_folders_of_the_workspace_are_remapped() {
        let meta = serde_json::json!({"packages": [
            {"name": "letterbox", "source": null, "manifest_path": "/w/Cargo.toml"},
            {"name": "b", "source": "registry+https://github.com/rust-lang/crates.io-index",
             "manifest_path": "/h/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/b-1.0.0/Cargo.toml"},
            {"name": "a", "source": "sparse+https://index.crates.io/",
             "manifest_path": "/h/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/a-0.2.0/Cargo.toml"},
            {"name": "g", "source": "git+https://example.com/g#abc",
             "manifest_path": "/h/.cargo/git/checkouts/g-1/abc/Cargo.toml"}
        ]});
        assert_eq!(
            index_folders(&meta),
            vec![PathBuf::from(
                "/h/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f"
            )]
        );
        assert!(index_folders(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn the_registry_folder_is_remapped_away_and_quoted_for_toml() {
        assert_eq!(
            remap_flag(Path::new(
                "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f"
            )),
            r#""--remap-path-prefix=/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/=""#
        );
        // A quote or backslash in a home folder must not end the TOML string early.
        assert_eq!(
            remap_flag(Path::new(r#"/h/a"b\c/"#)),
            r#""--remap-path-prefix=/h/a\"b\\c/=""#
        );
        let release = release_wasm(&["playground"]);
        let args: Vec<String> = release
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.windows(2).any(|w| w == ["--features", "playground"]));
        assert!(args.contains(&"--release".to_owned()));
    }

    #[test]
    fn base64_pads_every_remainder() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
