//! Small helpers shared by the xtask commands: the workspace root, running commands, timing.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

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

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command with inherited output; an error if it cannot start or exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let what = describe(cmd);
    let status = cmd
        .status()
        .map_err(|e| format!("`{what}` could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{what}` failed ({status})"))
    }
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

/// Runs `f` as a step, printing a header, and records how it went.
pub fn step(steps: &mut Vec<Step>, name: &'static str, f: impl FnOnce() -> Result<()>) -> bool {
    println!("\n==> {name}");
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
