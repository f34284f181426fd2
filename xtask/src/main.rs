//! Letterbox's automation, run as `cargo xtask <command>`:
//!
//! - `setup`: install what is missing (wasm32 target, wasm-bindgen CLI, wasm-opt, Chromium, trunk).
//! - `test`: everything CI checks: rustfmt, clippy (native and wasm32), native tests, browser tests
//!   in headless Chromium, the release bundle and its size budget.
//! - `demo`: serve the playground with `trunk serve` on http://127.0.0.1:8080, with a local
//!   endpoint on 127.0.0.1:8787 that prints each signup.
//! - `dist`: build the release bundle into `dist/` and print its size report.
//! - `endpoint [PORT]`: run only the local endpoint.

mod bundle;
mod endpoint;
mod tools;
mod util;

use std::process::{Command, ExitCode};

use util::{root, run, step, Result, Step};

/// The demo endpoint's port; Trunk.toml proxies `/api/` to it.
const DEMO_ENDPOINT_PORT: u16 = 8787;
/// The browser tests' endpoint port (another free port is used if it is taken).
const TEST_ENDPOINT_PORT: u16 = 8788;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => tools::ensure(args.iter().any(|a| a == "--trunk")).map(|_| ()),
        Some("test") => test(),
        Some("demo") => demo(),
        Some("dist") => tools::ensure(false)
            .and_then(|t| bundle::build(&t))
            .and_then(|b| {
                bundle::print_integrity(&b);
                bundle::report(&b.shipped)
            }),
        Some("endpoint") => serve_endpoint(
            args.get(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(DEMO_ENDPOINT_PORT),
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup [--trunk] | test | demo | dist | endpoint [PORT]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(root()).args(args);
    c
}

fn test() -> Result<()> {
    let tools = tools::ensure(false)?;
    let mut steps: Vec<Step> = Vec::new();
    step(&mut steps, "rustfmt", || {
        run(&mut cargo(&["fmt", "--all", "--", "--check"]))
    });
    step(&mut steps, "clippy (native)", || {
        run(&mut cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    step(&mut steps, "clippy (wasm32)", || {
        let wasm = ["--target", "wasm32-unknown-unknown"];
        run(cargo(&["clippy", "-p", "letterbox", "--all-targets"])
            .args(wasm)
            .args(["--", "-D", "warnings"]))?;
        run(cargo(&["clippy", "-p", "letterbox-core", "--lib"])
            .args(wasm)
            .args(["--", "-D", "warnings"]))
    });
    step(&mut steps, "native tests", || {
        run(&mut cargo(&["test", "--workspace"]))
    });
    step(&mut steps, "browser tests (headless Chromium)", || {
        let ep =
            endpoint::start(TEST_ENDPOINT_PORT, false).or_else(|_| endpoint::start(0, false))?;
        println!("test endpoint on {}", ep.url());
        run(cargo(&[
            "test",
            "-p",
            "letterbox",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("PATH", &tools.path)
        .env("CHROMEDRIVER", &tools.chromedriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "90")
        .env("LETTERBOX_TEST_ENDPOINT", ep.url()))
    });
    step(&mut steps, "release bundle and size budget", || {
        bundle::build(&tools).and_then(|b| bundle::report(&b.shipped))
    });

    println!("\nxtask test summary");
    for s in &steps {
        println!(
            "  {:<36} {:>7.1} s  {}",
            s.name,
            s.seconds,
            if s.result.is_ok() { "ok" } else { "FAILED" }
        );
    }
    let failed = steps.iter().filter(|s| s.result.is_err()).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} of {} steps failed", steps.len()))
    }
}

fn demo() -> Result<()> {
    let tools = tools::ensure(true)?;
    let trunk = tools.trunk.clone().ok_or("trunk is missing")?;
    let ep = endpoint::start(DEMO_ENDPOINT_PORT, true)?;
    println!(
        "demo endpoint on {} (prints every signup it receives)",
        ep.url()
    );
    println!("playground on http://127.0.0.1:8080");
    run(Command::new(trunk)
        .current_dir(root())
        .env("PATH", &tools.path)
        .arg("serve"))
}

fn serve_endpoint(port: u16) -> Result<()> {
    let ep = endpoint::start(port, true)?;
    println!(
        "endpoint on {}; POST /api/subscribe; Ctrl-C to stop",
        ep.url()
    );
    loop {
        std::thread::park();
    }
}
