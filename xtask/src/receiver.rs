//! The reference receiver (`receiver/`, crate `letterbox-receiver`) in the automation:
//!
//! - [`Postgres`]: a throwaway PostgreSQL cluster on 127.0.0.1 (Debian's `postgresql`, installed
//!   with apt-get when root), stopped and deleted when dropped.
//! - [`test`]: `cargo test -p letterbox-receiver` with `LETTERBOX_TEST_POSTGRES_URL` set, so the
//!   contract tests run on SQLite and on PostgreSQL.
//! - [`bench`]: the load check: a release receiver, 20,000 signups over 64 connections on
//!   loopback, throughput and p50/p99, then every 2xx-answered signup checked in the database.
//! - [`Receiver`]: a receiver child process (the demo's), stopped with SIGTERM when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::{capture, root, run, target_dir, Result};

/// A running throwaway PostgreSQL cluster.
pub struct Postgres {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
}

fn is_root() -> bool {
    capture(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

impl Postgres {
    /// Installs PostgreSQL if needed and possible, and starts a cluster in a temporary folder on a
    /// free loopback port. `Ok(None)` (after printing why) when it cannot be installed here.
    /// `durable = false` turns fsync off (fine for tests, not for figures).
    pub fn start(durable: bool) -> Result<Option<Postgres>> {
        let bin = match pg_bin() {
            Some(b) => b,
            None if is_root() => {
                println!(
                    "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
                );
                let install = || {
                    run(Command::new("apt-get")
                        .args(["install", "-y", "--no-install-recommends", "postgresql"])
                        .env("DEBIAN_FRONTEND", "noninteractive"))
                };
                if install().is_err() {
                    let _ = run(Command::new("apt-get").arg("update"));
                    if let Err(e) = install() {
                        println!("skipped PostgreSQL: it could not be installed ({e})");
                        return Ok(None);
                    }
                }
                match pg_bin() {
                    Some(b) => b,
                    None => {
                        println!("skipped PostgreSQL: installed, but no initdb under /usr/lib/postgresql");
                        return Ok(None);
                    }
                }
            }
            None => {
                println!(
                    "skipped PostgreSQL: not installed; run `sudo apt-get install postgresql` \
                     (or set LETTERBOX_TEST_POSTGRES_URL to a server of yours)"
                );
                return Ok(None);
            }
        };
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "letterbox-pg-{}-{}",
            std::process::id(),
            free_port()?
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(&dir))?;
        }
        let mut pg = Postgres {
            url: String::new(),
            bin,
            dir,
            as_postgres,
        };
        let data = pg.dir.join("data");
        run(pg
            .cmd("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .stdout(Stdio::null()))?;
        let port = free_port()?;
        // Set before starting, so a half-started server is stopped on drop too.
        pg.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let mut opts = format!("-h 127.0.0.1 -p {port} -k {}", pg.dir.display());
        if !durable {
            opts.push_str(" -F");
        }
        run(pg
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(pg.dir.join("server.log"))
            .args(["-w", "-o", &opts, "start"])
            .stdout(Stdio::null()))?;
        Ok(Some(pg))
    }

    fn cmd(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if !self.url.is_empty() {
            let _ = self
                .cmd("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `cargo xtask test`'s step: the receiver's tests on SQLite and (when it can be had) PostgreSQL.
pub fn test() -> Result<()> {
    let pg = Postgres::start(false)?;
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root())
        .args(["test", "-p", "letterbox-receiver"]);
    match &pg {
        Some(pg) => {
            println!("PostgreSQL for the tests: {}", pg.url);
            cmd.env("LETTERBOX_TEST_POSTGRES_URL", &pg.url);
        }
        None => {
            cmd.env_remove("LETTERBOX_TEST_POSTGRES_URL");
        }
    }
    run(&mut cmd)
}

/// A receiver child process; SIGTERM (graceful stop) when dropped.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
}

impl Receiver {
    /// Starts `exe` with `config` and extra environment, waits for its `listening on` line.
    pub fn spawn(exe: &Path, config: &Path, env: &[(&str, &str)]) -> Result<Receiver> {
        let mut cmd = Command::new(exe);
        cmd.arg("--config").arg(config).arg("serve");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Receiver::spawn_command(cmd)
    }

    /// Starts `cmd` (a server printing `listening on URL` first), waits for that line.
    pub fn spawn_command(mut cmd: Command) -> Result<Receiver> {
        cmd.stdout(Stdio::piped());
        let exe = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("{exe} could not start: {e}"))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        match line.trim().strip_prefix("listening on ") {
            Some(url) => Ok(Receiver {
                url: url.to_owned(),
                child,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("the receiver did not start (printed {line:?})"))
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Builds the receiver's binaries with release optimisation (without the widget's size-first
/// LTO settings, which are for the wasm) into `<target dir>/receiver-release`; returns the bin folder.
pub fn build_release() -> Result<PathBuf> {
    let target = target_dir().join("receiver-release");
    run(Command::new("cargo")
        .current_dir(root())
        .args(["build", "--release", "-p", "letterbox-receiver", "--bins"])
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_PANIC", "unwind"))?;
    Ok(target.join("release"))
}

const BENCH_CONFIG: &str = r#"listen = "127.0.0.1:0"
public_url = "http://127.0.0.1:8787"
[limits]
per_ip_per_minute = 0
per_address_per_hour = 0
[[newsletters]]
id = "daily"
name = "The Daily Briefing"
"#;

/// `cargo xtask bench`: a trivial handler on the same HTTP stack, then the receiver on SQLite and
/// on PostgreSQL, each with 20,000 signups over 64 connections; prints each figure and its ratio
/// to the trivial handler measured in the same run.
pub fn bench() -> Result<()> {
    let bin = build_release()?;
    let dir = std::env::temp_dir().join(format!("letterbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = dir.join("bench.toml");
    std::fs::write(&config, BENCH_CONFIG).map_err(|e| format!("{}: {e}", config.display()))?;
    let result = (|| {
        let mut figures = Vec::new();
        println!("\n==> load check: trivial handler (same HTTP stack, no checks, no storage)");
        let mut trivial_cmd = Command::new(bin.join("letterbox-bench"));
        trivial_cmd.arg("--serve-trivial");
        let trivial = Receiver::spawn_command(trivial_cmd)?;
        let baseline = load_figures(&bin, &trivial.url, "none")?;
        drop(trivial);
        figures.push(("trivial handler", baseline));
        let sqlite = format!("sqlite://{}", dir.join("bench.db").display());
        println!("\n==> load check: SQLite (WAL, synchronous = FULL, group commit)");
        figures.push(("SQLite", load(&bin, &config, &sqlite)?));
        match Postgres::start(true)? {
            Some(pg) => {
                println!("\n==> load check: PostgreSQL (fsync on, group commit)");
                figures.push(("PostgreSQL", load(&bin, &config, &pg.url)?));
            }
            None => println!("PostgreSQL skipped"),
        }
        println!("\n==> summary: 20,000 signups, 64 connections, this machine, this run");
        for (name, (rps, p99)) in &figures {
            println!(
                "{name:<16} {rps:>8.0} signups/s  p99 {p99:>6.1} ms  {:>5.1} % of the trivial handler",
                100.0 * rps / baseline.0.max(1.0)
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn load(bin: &Path, config: &Path, db: &str) -> Result<(f64, f64)> {
    let receiver = Receiver::spawn(
        &bin.join("letterbox-receiver"),
        config,
        &[("DATABASE_URL", db), ("RUST_LOG", "warn")],
    )?;
    let result = load_figures(bin, &receiver.url, db);
    drop(receiver);
    result
}

/// Runs the load driver against `url`, prints its report, returns (requests/s, p99 ms).
fn load_figures(bin: &Path, url: &str, db: &str) -> Result<(f64, f64)> {
    let output = Command::new(bin.join("letterbox-bench"))
        .args([
            "--url",
            url,
            "--db",
            db,
            "--requests",
            "20000",
            "--concurrency",
            "64",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("letterbox-bench could not start: {e}"))?;
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{out}");
    if !output.status.success() {
        return Err(format!("the load check failed ({})", output.status));
    }
    let line = out
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("result: "))
        .ok_or("letterbox-bench printed no result line")?;
    let mut parts = line.split_whitespace().map(|v| v.parse::<f64>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(rps), Some(p99)) => Ok((rps, p99)),
        _ => Err(format!("unreadable result line {line:?}")),
    }
}

/// Builds the receiver binary (debug profile) and returns its path.
pub fn build_debug() -> Result<PathBuf> {
    run(Command::new("cargo").current_dir(root()).args([
        "build",
        "-p",
        "letterbox-receiver",
        "--bin",
        "letterbox-receiver",
    ]))?;
    Ok(target_dir().join("debug").join("letterbox-receiver"))
}

/// Writes the demo configuration (under `data/`) and starts the debug receiver on
/// 127.0.0.1:`port` with a SQLite file beside it and `demo = true`.
pub fn start_demo(port: u16) -> Result<Receiver> {
    let exe = build_debug()?;
    let data = root().join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let config = data.join("receiver-demo.toml");
    let text = format!(
        r#"# Written by `cargo xtask demo`; the playground's newsletters.
listen = "127.0.0.1:{port}"
database_url = "sqlite://{db}"
public_url = "http://127.0.0.1:8080"
allowed_origins = ["http://127.0.0.1:8080", "http://localhost:8080"]
demo = true
site_name = "Letterbox playground"
min_fill_ms = 0
admin_token = "{token}"
[limits]
per_ip_per_minute = 120
per_address_per_hour = 30
confirmations_per_address_per_day = 20
# The playground's goal slots show the public count unrounded.
[stats]
count_round_to = 1
{newsletters}"#,
        db = data.join("receiver-demo.db").display(),
        newsletters = DEMO_NEWSLETTERS,
        token = demo_token()?,
    );
    std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
    Receiver::spawn(&exe, &config, &[])
}

/// The demo receiver's operator token: made once from the system's random source and kept in
/// `data/receiver-demo.token`, so a login to `/admin` survives restarts of the demo.
pub fn demo_token() -> Result<String> {
    let path = root().join("data").join("receiver-demo.token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim();
        if t.len() >= 24 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(t.to_owned());
        }
    }
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, &token).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(token)
}

/// The newsletter ids used by the playground (`index.html`).
const DEMO_NEWSLETTERS: &str = r#"
[[newsletters]]
id = "daily-briefing"
name = "The Daily Briefing"
[[newsletters]]
id = "explaining-ukraine"
name = "Explaining Ukraine"
[[newsletters]]
id = "culture"
name = "Culture"
[[newsletters]]
id = "breaking"
name = "Breaking news"
[[newsletters]]
id = "ukrainian-edition"
name = "Ukrainian edition"
[[newsletters]]
id = "daily-uk"
name = "Щоденний огляд"
[[newsletters]]
id = "explaining-uk"
name = "Пояснюємо Україну"
[[newsletters]]
id = "culture-uk"
name = "Культура"
"#;
