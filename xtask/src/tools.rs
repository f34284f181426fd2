//! Installs, idempotently and from the package registries only, every tool the build and the
//! tests need: the wasm32 target, the wasm-bindgen CLI at exactly the Cargo.lock version, a
//! binaryen `wasm-opt` ≥ 116 (never Debian's 108), esbuild (minifies the JS glue), Chromium with
//! ChromeDriver, and (for the demo) trunk. Nothing is downloaded from GitHub. What cannot be installed is reported in one line
//! that says what to run.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{capture, root, run, Result};

/// The binaryen release installed from npm when no suitable `wasm-opt` is on PATH.
const BINARYEN_NPM: &str = "binaryen@132.0.0";
/// The oldest binaryen whose output instantiates (108 rewrites the externref table export).
const MIN_BINARYEN: u32 = 116;
/// The esbuild release installed from npm to minify the wasm-bindgen JS glue.
const ESBUILD_NPM: &str = "esbuild@0.25.12";

/// Where the tools were found, and the PATH to give child processes so trunk and
/// wasm-bindgen-test-runner find them too.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The `wasm-bindgen` CLI.
    pub wasm_bindgen: PathBuf,
    /// A binaryen `wasm-opt` ≥ 116.
    pub wasm_opt: PathBuf,
    /// esbuild, at exactly [`ESBUILD_NPM`].
    pub esbuild: PathBuf,
    /// ChromeDriver (for wasm-bindgen-test-runner).
    pub chromedriver: PathBuf,
    /// trunk, when asked for.
    pub trunk: Option<PathBuf>,
    /// PATH with the tool folders first.
    pub path: String,
}

/// Makes sure every tool is present, installing what is missing. `with_trunk` adds trunk
/// (needed by `cargo xtask demo` only; it takes ~20 minutes to compile on 2 cores).
pub fn ensure(with_trunk: bool) -> Result<Tools> {
    let cargo_bin = cargo_home().join("bin");
    let binaryen_dir = cache_dir().join(BINARYEN_NPM.replace('@', "-"));
    let binaryen_bin = binaryen_dir.join("node_modules").join(".bin");
    let path = prepend_path(&[&binaryen_bin, &cargo_bin]);

    ensure_wasm_target()?;
    let wasm_bindgen = ensure_wasm_bindgen(&path)?;
    let wasm_opt = ensure_wasm_opt(&path, &binaryen_dir)?;
    let esbuild = ensure_esbuild()?;
    let chromedriver = ensure_chromium()?;
    let trunk = if with_trunk {
        Some(ensure_trunk(&path)?)
    } else {
        None
    };
    Ok(Tools {
        wasm_bindgen,
        wasm_opt,
        esbuild,
        chromedriver,
        trunk,
        path,
    })
}

fn ensure_wasm_target() -> Result<()> {
    let installed =
        capture(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    println!("setup: adding the wasm32-unknown-unknown target");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
        .map_err(|e| format!("{e}\n  run: rustup target add wasm32-unknown-unknown"))
}

/// The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock ({e}); run `cargo generate-lockfile`"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
            {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn ensure_wasm_bindgen(path: &str) -> Result<PathBuf> {
    let want = locked_wasm_bindgen_version()?;
    let found = which("wasm-bindgen", path);
    let runner = which("wasm-bindgen-test-runner", path);
    if let (Some(bin), Some(_)) = (&found, &runner) {
        let version = capture(Command::new(bin).arg("--version")).unwrap_or_default();
        if version.split_whitespace().nth(1) == Some(want.as_str()) {
            return Ok(bin.clone());
        }
        println!(
            "setup: wasm-bindgen on PATH is {:?}, Cargo.lock wants {want}",
            version.trim()
        );
    }
    println!(
        "setup: installing wasm-bindgen-cli {want} from crates.io (~3 minutes on 2 cores, once)"
    );
    // No --locked: its lock file wants a webpki-roots version this registry lacks.
    run(&mut cargo_install(&[
        "wasm-bindgen-cli",
        "--version",
        &want,
        "--force",
    ]))
    .map_err(|e| format!("{e}\n  run: cargo install wasm-bindgen-cli --version {want}"))?;
    which("wasm-bindgen", path).ok_or_else(|| "wasm-bindgen installed but not found on PATH".into())
}

fn binaryen_version(bin: &Path) -> Option<u32> {
    let out = capture(Command::new(bin).arg("--version")).ok()?;
    // "wasm-opt version 132 (version_132)" or "wasm-opt version 116"
    out.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .and_then(|v| v.trim_start_matches("version_").parse().ok())
}

fn ensure_wasm_opt(path: &str, binaryen_dir: &Path) -> Result<PathBuf> {
    if let Some(bin) = which("wasm-opt", path) {
        match binaryen_version(&bin) {
            Some(v) if v >= MIN_BINARYEN => return Ok(bin),
            v => println!(
                "setup: ignoring {} (binaryen {v:?}; need >= {MIN_BINARYEN}: older ones break the externref table)",
                bin.display()
            ),
        }
    }
    let local = binaryen_dir
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt");
    if !local.exists() {
        npm_install(binaryen_dir, &[BINARYEN_NPM])
            .map_err(|e| format!("{e}   (or: cargo install wasm-opt --locked)"))?;
    }
    match binaryen_version(&local) {
        Some(v) if v >= MIN_BINARYEN => Ok(local),
        v => Err(format!(
            "{} reports binaryen {v:?}; need >= {MIN_BINARYEN}",
            local.display()
        )),
    }
}

fn ensure_chromium() -> Result<PathBuf> {
    let have = |name: &str| which(name, &env::var("PATH").unwrap_or_default());
    if let (Some(_), Some(driver)) = (have("chromium"), have("chromedriver")) {
        return Ok(driver);
    }
    let root_user = capture(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false);
    if !root_user || have("apt-get").is_none() {
        return Err("Chromium and ChromeDriver are missing\n  run: sudo apt-get install -y chromium chromium-driver".into());
    }
    println!("setup: installing chromium and chromium-driver from Debian (~30 s)");
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
        .map_err(|e| {
            format!("{e}\n  run: apt-get update && apt-get install -y chromium chromium-driver")
        })
    };
    apt(&["update", "-q"])?;
    apt(&["install", "-y", "-q", "chromium", "chromium-driver"])?;
    have("chromedriver")
        .ok_or_else(|| "chromium-driver installed but chromedriver is not on PATH".into())
}

/// trunk on `path`, if installed.
pub fn find_trunk(path: &str) -> Option<PathBuf> {
    which("trunk", path)
}

/// `cargo install` for a tool, outside the project's target folder (so a long install never
/// holds the project's build lock).
fn cargo_install(args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.arg("install").args(args).env_remove("CARGO_TARGET_DIR");
    c
}

/// The command lines that install trunk: 0.22 first, then the last 0.21 if that fails.
const TRUNK_INSTALL: [&[&str]; 2] = [
    // trunk 0.22 declares rustc 1.96 but builds and runs on 1.95.
    &["trunk", "--locked", "--ignore-rust-version"],
    &["trunk@0.21.14", "--locked"],
];

/// How long trunk takes to compile on 2 cores (measured), for the messages.
pub const TRUNK_MINUTES: u32 = 19;

fn ensure_trunk(path: &str) -> Result<PathBuf> {
    if let Some(bin) = find_trunk(path) {
        return Ok(bin);
    }
    println!(
        "setup: installing trunk 0.22 from crates.io (~{TRUNK_MINUTES} minutes on 2 cores, once)"
    );
    if let Err(e) = run(&mut cargo_install(TRUNK_INSTALL[0])) {
        println!("setup: trunk 0.22 failed ({e}); trying trunk 0.21.14");
        run(&mut cargo_install(TRUNK_INSTALL[1])).map_err(|e| {
            format!("{e}\n  run: cargo install trunk --locked --ignore-rust-version")
        })?;
    }
    find_trunk(path).ok_or_else(|| "trunk installed but not found on PATH".into())
}

/// A trunk install running in the background (see [`install_trunk_in_background`]).
pub struct TrunkInstall {
    /// Its process id (the shell running `cargo install`).
    pub pid: u32,
    /// Everything it prints goes here.
    pub log: PathBuf,
    /// True if this call started it, false if an earlier `cargo xtask demo` did.
    pub started_now: bool,
}

impl TrunkInstall {
    /// Whether it is still running.
    pub fn running(&self) -> bool {
        process_alive(self.pid)
    }

    /// How many crates it has compiled so far (from its log).
    pub fn crates_compiled(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|text| {
                text.lines()
                    .filter(|l| {
                        matches!(crate::util::cargo_line(l), crate::util::CargoLine::Built(_))
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// The log's last line that says how it ended, once it has.
    pub fn outcome(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        text.lines()
            .rev()
            .find(|l| l.starts_with(INSTALL_DONE))
            .map(str::to_owned)
    }
}

const INSTALL_DONE: &str = "letterbox: trunk install ";

/// The background install's log and pid file, in the tools cache.
pub fn trunk_install_files() -> (PathBuf, PathBuf) {
    let dir = cache_dir();
    (dir.join("trunk-install.log"), dir.join("trunk-install.pid"))
}

fn process_alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("cargo install"))
        .unwrap_or(false)
}

/// Starts `cargo install trunk` in the background, at low CPU priority, in its own process
/// group (so Ctrl-C on the demo does not stop it), writing everything to a log file; or finds
/// the one an earlier `cargo xtask demo` started and that is still running.
pub fn install_trunk_in_background() -> Result<TrunkInstall> {
    let (log, pid_file) = trunk_install_files();
    if let Some(pid) = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|pid| process_alive(*pid))
    {
        return Ok(TrunkInstall {
            pid,
            log,
            started_now: false,
        });
    }
    std::fs::create_dir_all(cache_dir())
        .map_err(|e| format!("cannot create {}: {e}", cache_dir().display()))?;
    let file =
        std::fs::File::create(&log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let [first, fallback] = TRUNK_INSTALL.map(|args| args.join(" "));
    // `nice`: the demo's own builds and the browser come first on a 2-core machine.
    let script = format!(
        "echo \"letterbox: installing trunk for cargo xtask demo's live reload, started $(date -u +%H:%M) UTC (~{TRUNK_MINUTES} min on 2 cores)\"
         if nice -n 10 cargo install {first}; then echo '{INSTALL_DONE}finished: the next cargo xtask demo serves with trunk and live reload'
         elif echo 'letterbox: trunk 0.22 failed; trying 0.21.14' && nice -n 10 cargo install {fallback}; then echo '{INSTALL_DONE}finished (trunk 0.21.14): the next cargo xtask demo serves with trunk and live reload'
         else echo '{INSTALL_DONE}failed: see the errors above; cargo xtask setup --trunk tries again in the foreground'; fi"
    );
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new("sh")
            .args(["-c", &script])
            .env_remove("CARGO_TARGET_DIR")
            .stdin(std::process::Stdio::null())
            .stdout(file)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the trunk install: {e}"))?
    };
    let pid = child.id();
    // Reaped by a thread so it does not linger as a zombie while the demo runs; the process
    // itself goes on if the demo stops.
    std::thread::spawn(move || {
        let mut child = child;
        let _ = child.wait();
    });
    let _ = std::fs::write(&pid_file, pid.to_string());
    Ok(TrunkInstall {
        pid,
        log,
        started_now: true,
    })
}

fn cargo_home() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"))
}

fn home() -> PathBuf {
    env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// Tools kept between clones of the repository (so CI on a reused machine does not reinstall).
pub fn cache_dir() -> PathBuf {
    env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache"))
        .join("letterbox")
}

fn prepend_path(dirs: &[&Path]) -> String {
    let mut parts: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    parts.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    env::join_paths(parts)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// esbuild from npm, in the tools cache (about a second; its platform binary is an npm package
/// too, so nothing comes from GitHub).
fn ensure_esbuild() -> Result<PathBuf> {
    let dir = cache_dir().join(ESBUILD_NPM.replace('@', "-"));
    let bin = dir.join("node_modules").join(".bin").join("esbuild");
    let wanted = ESBUILD_NPM.trim_start_matches("esbuild@");
    let version = |bin: &Path| capture(Command::new(bin).arg("--version")).ok();
    if bin.exists() && version(&bin).is_some_and(|v| v.trim() == wanted) {
        return Ok(bin);
    }
    npm_install(&dir, &[ESBUILD_NPM])?;
    match version(&bin) {
        Some(v) if v.trim() == wanted => Ok(bin),
        v => Err(format!(
            "{} does not run as esbuild {wanted} (it reports {v:?})",
            bin.display()
        )),
    }
}

/// Pinned npm packages used as files rather than as tools (axe-core for the accessibility audit,
/// the peer widgets of the speed benchmark), installed together with `npm install --prefix` into
/// one folder of the tools cache named after them (`axe-core@4.14.1` → `axe-core-4.14.1`,
/// `@tryghost/signup-form@0.3.592` → `tryghost-signup-form-0.3.592`, several joined by `+`),
/// when one is missing or at another version. Returns that folder's `node_modules`.
pub fn ensure_npm_packages(specs: &[&str]) -> Result<PathBuf> {
    let dir = cache_dir().join(npm_cache_name(specs));
    let modules = dir.join("node_modules");
    let installed = |spec: &str| {
        let (name, version) = npm_spec(spec);
        std::fs::read_to_string(modules.join(name).join("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v["version"] == version)
    };
    if specs.iter().all(|s| installed(s)) {
        return Ok(modules);
    }
    npm_install(&dir, specs)?;
    match specs.iter().find(|s| !installed(s)) {
        None => Ok(modules),
        Some(s) => Err(format!(
            "{s} is not in {} after npm install",
            modules.display()
        )),
    }
}

/// `npm install --prefix dir specs…`, saying so first, with the command to run by hand when it
/// fails.
pub(crate) fn npm_install(dir: &Path, specs: &[&str]) -> Result<()> {
    println!(
        "setup: installing {} from npm into {}",
        specs.join(" "),
        dir.display()
    );
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .args(specs))
    .map_err(|e| {
        format!(
            "{e}\n  run: npm install --prefix {} {}",
            dir.display(),
            specs.join(" ")
        )
    })
}

/// An npm spec's package name and version: `@scope/name@1.2.3` → (`@scope/name`, `1.2.3`).
fn npm_spec(spec: &str) -> (&str, &str) {
    match spec.rfind('@') {
        Some(at) if at > 0 => (&spec[..at], &spec[at + 1..]),
        _ => (spec, ""),
    }
}

/// The tools-cache folder name for a set of npm specs.
fn npm_cache_name(specs: &[&str]) -> String {
    specs
        .iter()
        .map(|s| s.trim_start_matches('@').replace(['@', '/'], "-"))
        .collect::<Vec<_>>()
        .join("+")
}

/// The wasm size profiler for the size report's attribution.
const TWIGGY_VERSION: &str = "0.8.0";

/// twiggy, installed from the crate registry into cargo's bin folder when missing (about three
/// minutes on 2 cores, once).
pub fn ensure_twiggy() -> Result<PathBuf> {
    let bin = cargo_home().join("bin").join("twiggy");
    let version = |bin: &Path| capture(Command::new(bin).arg("--version")).ok();
    if version(&bin).is_some_and(|v| v.contains(TWIGGY_VERSION)) {
        return Ok(bin);
    }
    println!("setup: installing twiggy {TWIGGY_VERSION} from the crate registry (about 3 min)");
    run(&mut cargo_install(&[
        "twiggy",
        "--version",
        TWIGGY_VERSION,
        "--locked",
    ]))
    .map_err(|e| format!("{e}\n  run: cargo install twiggy --version {TWIGGY_VERSION} --locked"))?;
    match version(&bin) {
        Some(v) if v.contains(TWIGGY_VERSION) => Ok(bin),
        v => Err(format!(
            "{} does not run as twiggy {TWIGGY_VERSION} (it reports {v:?})",
            bin.display()
        )),
    }
}

/// Finds an executable on `path`.
pub fn which(name: &str, path: &str) -> Option<PathBuf> {
    env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_specs_split_and_name_their_cache_folder() {
        assert_eq!(npm_spec("axe-core@4.14.1"), ("axe-core", "4.14.1"));
        assert_eq!(
            npm_spec("@tryghost/signup-form@0.3.592"),
            ("@tryghost/signup-form", "0.3.592")
        );
        // The folder axe-core was always installed into, so an existing cache is reused.
        assert_eq!(npm_cache_name(&["axe-core@4.14.1"]), "axe-core-4.14.1");
        assert_eq!(
            npm_cache_name(&["@tryghost/signup-form@0.3.592"]),
            "tryghost-signup-form-0.3.592"
        );
        assert_eq!(
            npm_cache_name(&["jquery@1.9.1", "jquery-form@4.2.0"]),
            "jquery-1.9.1+jquery-form-4.2.0"
        );
    }
}
