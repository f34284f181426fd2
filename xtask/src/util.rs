//! Small helpers shared by the xtask commands: the workspace root, running commands, timing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Errors are messages for the person at the terminal.
pub type Result<T> = std::result::Result<T, String>;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target folder: `$CARGO_TARGET_DIR` (relative to the workspace root if relative), else
/// `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Free bytes on the file system that holds `path` (or its nearest existing parent), as `df`
/// reports them; `None` when `df` cannot tell.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let mut dir = path;
    while !dir.exists() {
        dir = dir.parent()?;
    }
    let out = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    parse_df_available(&String::from_utf8_lossy(&out.stdout))
}

/// The "Available" column (KiB) of `df -Pk`'s one data line, in bytes.
pub fn parse_df_available(df: &str) -> Option<u64> {
    let line = df.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command with inherited output; an error if it cannot start or exits non-zero.
///
/// Cargo's own chatter ("Compiling …", "Downloaded …", one line per crate: pages on a cold
/// build) is condensed into a progress line every [`PROGRESS_EVERY`] (how long so far, how many
/// crates, which one now) and a closing count; everything else cargo or the program prints
/// (warnings, errors, test results) goes through as it is.
pub fn run(cmd: &mut Command) -> Result<()> {
    let what = describe(cmd);
    let status = if is_cargo(cmd) {
        run_condensed(cmd, &what)?
    } else {
        cmd.status()
            .map_err(|e| format!("`{what}` could not start: {e}"))?
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{what}` failed ({status})"))
    }
}

/// How often a long cargo run reports progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(20);

fn is_cargo(cmd: &Command) -> bool {
    Path::new(cmd.get_program())
        .file_name()
        .is_some_and(|n| n == "cargo")
}

/// What one line of cargo's standard error is.
#[derive(Debug, PartialEq, Eq)]
pub enum CargoLine<'a> {
    /// "Compiling foo v1.2.3" (or Checking, Documenting): the crate's name.
    Built(&'a str),
    /// A per-crate or per-package line that says nothing a person needs (Downloaded, Adding, …).
    Noise,
    /// Anything else: shown.
    Show,
}

/// Sorts a line of cargo's standard error (as printed without a terminal).
pub fn cargo_line(line: &str) -> CargoLine<'_> {
    let t = line.trim_start();
    let Some((verb, rest)) = t.split_once(' ') else {
        return CargoLine::Show;
    };
    // Cargo right-aligns its verbs in 12 columns; a rustc diagnostic never starts that way.
    let indented = line.len() - t.len() + verb.len() == 12;
    match verb {
        "Compiling" | "Checking" | "Documenting" if indented => {
            CargoLine::Built(rest.split_whitespace().next().unwrap_or(rest))
        }
        "Downloaded" | "Downloading" | "Adding" | "Locking" | "Fresh" | "Unpacking" if indented => {
            CargoLine::Noise
        }
        _ => CargoLine::Show,
    }
}

/// "4.5 GB" (decimal gigabytes, one decimal).
pub fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// "45 s", "3 min 20 s".
pub fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

#[derive(Default)]
struct Built {
    count: usize,
    now: String,
}

fn run_condensed(cmd: &mut Command, what: &str) -> Result<std::process::ExitStatus> {
    let start = Instant::now();
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{what}` could not start: {e}"))?;
    let built = Arc::new(Mutex::new(Built::default()));
    let reader = child.stderr.take().map(|stderr| {
        let built = built.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr)
                .lines()
                .map_while(std::io::Result::ok)
            {
                match cargo_line(&line) {
                    CargoLine::Built(name) => {
                        if let Ok(mut b) = built.lock() {
                            b.count += 1;
                            b.now = name.to_owned();
                        }
                    }
                    CargoLine::Noise => {}
                    // A full disk can make writing to our own stderr fail: that must not
                    // panic the relay thread (cargo's own error says what went wrong).
                    CargoLine::Show => {
                        use std::io::Write;
                        let _ = writeln!(std::io::stderr(), "{line}");
                    }
                }
            }
        })
    });
    let mut last_report = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("`{what}`: {e}")),
        }
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            if let Ok(b) = built.lock() {
                println!(
                    "    … {} so far, {} crates compiled{}",
                    minutes(start.elapsed()),
                    b.count,
                    if b.now.is_empty() {
                        String::new()
                    } else {
                        format!(" (now {})", b.now)
                    }
                );
            }
        }
    };
    if let Some(r) = reader {
        let _ = r.join();
    }
    let count = built.lock().map(|b| b.count).unwrap_or(0);
    if count > 0 {
        println!(
            "    compiled {count} crates in {}",
            minutes(start.elapsed())
        );
    }
    Ok(status)
}

/// Runs a command and returns its standard output; an error if it cannot start or fails.
pub fn capture(cmd: &mut Command) -> Result<String> {
    let what = describe(cmd);
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("`{what}` could not start: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{what}` failed ({})", out.status))
    }
}

/// A named step of a pipeline, with its duration, for the closing summary.
pub struct Step {
    pub name: &'static str,
    pub seconds: f64,
    pub result: Result<()>,
}

/// Runs `f` as a step, printing a header with what to expect (`about`: how long it takes on
/// 2 cores), and records how it went.
pub fn step(
    steps: &mut Vec<Step>,
    name: &'static str,
    about: &str,
    f: impl FnOnce() -> Result<()>,
) -> bool {
    println!("\n==> {name} ({about})");
    let start = Instant::now();
    let result = f();
    if let Err(e) = &result {
        eprintln!("xtask: {name}: {e}");
    }
    let ok = result.is_ok();
    steps.push(Step {
        name,
        seconds: start.elapsed().as_secs_f64(),
        result,
    });
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_from_dfs_available_column() {
        let df = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n\
                  /dev/vda         263174212  90425576   4718592      96% /\n";
        assert_eq!(parse_df_available(df), Some(4_718_592 * 1024));
        assert_eq!(parse_df_available("Filesystem\n"), None);
        assert_eq!(gigabytes(4_831_838_208), "4.8 GB");
    }

    #[test]
    fn cargo_chatter_is_condensed_and_everything_else_shown() {
        assert_eq!(
            cargo_line("   Compiling leptos_dom v0.8.9"),
            CargoLine::Built("leptos_dom")
        );
        assert_eq!(
            cargo_line("    Checking serde v1.0.228"),
            CargoLine::Built("serde")
        );
        assert_eq!(cargo_line("  Downloaded tokio v1.48.0"), CargoLine::Noise);
        for shown in [
            "warning: unused variable: `x`",
            "error[E0308]: mismatched types",
            "    Finished `release` profile [optimized] target(s) in 1m 02s",
            "     Running unittests src/main.rs (target/debug/deps/xtask-1)",
            "  Installing /root/.cargo/bin/trunk",
            "Compiling is a word a test may print",
        ] {
            assert_eq!(cargo_line(shown), CargoLine::Show, "{shown}");
        }
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(minutes(Duration::from_secs(45)), "45 s");
        assert_eq!(minutes(Duration::from_secs(200)), "3 min 20 s");
    }
}
