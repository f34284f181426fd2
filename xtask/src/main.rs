//! Letterbox's automation, run as `cargo xtask <command>`:
//!
//! - `setup`: install what is missing (wasm32 target, wasm-bindgen CLI, wasm-opt, Chromium, trunk).
//! - `test`: everything CI checks: rustfmt, no import circle between modules, clippy (native and wasm32), native tests, browser tests
//!   in headless Chromium, the release bundle and its size budget.
//! - `demo`: serve the playground with `trunk serve` on http://127.0.0.1:8080, with the reference
//!   receiver on 127.0.0.1:8787 (SQLite under `data/`, `demo = true`).
//! - `dist`: build the release bundle into `dist/` and print its size report and SRI hashes.
//! - `e2e`: build the bundle and run only the end-to-end WebDriver checks.
//! - `a11y`: build the bundle and run only the accessibility audit (axe-core, keyboard).
//! - `layers [DIR…]`: only the import-circle check, of `core/src` and `src` or of the folders given.
//! - `bench`: the receiver's load check (release build, SQLite and PostgreSQL).
//! - `endpoint [PORT]`: run only the local endpoint.
//! - `package [--test]`: build `dist/` and lay it out as an npm package, packed with `npm pack`;
//!   `--test` then installs the tarball and runs the package checks of `cargo xtask test`.
//! - `deploy-check`: only the checks of `receiver/deploy/` (systemd-analyze, `check`, hadolint, nginx -t).

mod a11y;
mod bundle;
mod deploy;
mod e2e;
mod endpoint;
mod layers;
mod package;
mod receiver;
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
        Some("bench") => receiver::bench(),
        Some("dist") => tools::ensure(false)
            .and_then(|t| bundle::build(&t))
            .and_then(|b| {
                bundle::print_integrity(&b);
                bundle::report(&b.shipped)
            }),
        Some("e2e") => {
            tools::ensure(false).and_then(|t| bundle::build(&t).and_then(|b| e2e::run(&t, &b)))
        }
        Some("package") => tools::ensure(false).and_then(|t| {
            let p = bundle::build(&t).and_then(|b| package::build(&b))?;
            match args.iter().any(|a| a == "--test") {
                true => package::test(&t, &p),
                false => Ok(()),
            }
        }),
        Some("deploy-check") => receiver::build_debug().and_then(|exe| deploy::check_all(&exe)),
        Some("a11y") => {
            tools::ensure(false).and_then(|t| bundle::build(&t).and_then(|_| a11y::run(&t)))
        }
        Some("layers") => layers::check(
            &args[1..]
                .iter()
                .map(std::path::PathBuf::from)
                .collect::<Vec<_>>()
                .into_iter()
                .chain(
                    args.len()
                        .eq(&1)
                        .then(|| [root().join("core/src"), root().join("src")])
                        .into_iter()
                        .flatten(),
                )
                .collect::<Vec<_>>(),
        ),
        Some("endpoint") => serve_endpoint(
            args.get(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(DEMO_ENDPOINT_PORT),
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup [--trunk] | test | demo | dist | e2e | a11y | layers [DIR…] | bench | endpoint [PORT] | package [--test] | deploy-check>"
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
    step(&mut steps, "import circles (core/src, src)", || {
        layers::check(&[root().join("core/src"), root().join("src")])
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
        run(&mut cargo(&[
            "test",
            "--workspace",
            "--exclude",
            "letterbox-receiver",
        ]))
    });
    step(
        &mut steps,
        "receiver tests (SQLite + PostgreSQL)",
        receiver::test,
    );
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
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        .env("LETTERBOX_TEST_ENDPOINT", ep.url()))
    });
    let mut bundle = None;
    step(&mut steps, "release bundle and size budget", || {
        let built = bundle::build(&tools)?;
        let report = bundle::report(&built.shipped);
        bundle = Some(built);
        report
    });
    step(
        &mut steps,
        "end-to-end (WebDriver, strict CSP)",
        || match &bundle {
            Some(b) => e2e::run(&tools, b),
            None => Err("no release bundle to test".into()),
        },
    );
    step(&mut steps, "accessibility (axe-core)", || match &bundle {
        Some(_) => a11y::run(&tools),
        None => Err("no release bundle to test".into()),
    });
    step(
        &mut steps,
        "npm package (install, browser, tsc)",
        || match &bundle {
            Some(b) => package::build(b).and_then(|p| package::test(&tools, &p)),
            None => Err("no release bundle to test".into()),
        },
    );
    step(&mut steps, "receiver deploy files", || {
        receiver::build_debug().and_then(|exe| deploy::check_all(&exe))
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
    let receiver = receiver::start_demo(DEMO_ENDPOINT_PORT)?;
    println!(
        "receiver on {} (data/receiver-demo.db; confirmation emails at /api/outbox)",
        receiver.url
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
