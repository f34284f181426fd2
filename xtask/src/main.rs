//! Letterbox's automation, run as `cargo xtask <command>`:
//!
//! - `setup`: install what is missing (wasm32 target, wasm-bindgen CLI, wasm-opt, Chromium, trunk).
//! - `test`: everything CI checks: rustfmt, no import circle between modules, clippy (native and
//!   wasm32), native tests, browser tests in headless Chromium, the release bundle and its size
//!   budget, the end-to-end and accessibility checks, the npm package and the deploy files.
//! - `demo`: serve the playground with `trunk serve` on http://127.0.0.1:8080, with the reference
//!   receiver on 127.0.0.1:8787 (SQLite under `data/`, `demo = true`). Without trunk, the same
//!   page from the release bundle at once while trunk installs in the background
//!   (`LETTERBOX_DEMO_STATIC=1` forces that path).
//! - `playground`: build the release bundle and, beside it in `dist-playground/`, the playground
//!   as a static page with the playground build of the widget (state picker, embed builder).
//! - `screenshots [--no-build]`: the README's and docs' pictures of the widget (`docs/images/`), taken from the
//!   built playground in headless Chromium, light and dark.
//! - `dist`: build the release bundle into `dist/` and print its size report and SRI hashes.
//! - `e2e`: build the bundle and run only the end-to-end WebDriver checks.
//! - `ghost [--reuse-dist]`: build the bundle (or use `dist/` as it is) and run only the real-Ghost
//!   checks (Ghost installed from npm into `~/.cache/letterbox` the first time); `ghost --record`
//!   records a real Ghost's answers into `core/tests/fixtures/ghost/`.
//! - `a11y`: build the bundle and run only the accessibility audit (axe-core, keyboard).
//! - `bench`: the receiver's load check (release build, SQLite and PostgreSQL).
//! - `bench widget [--rounds N] [--no-build]`: what a reader waits for, against a hand-written
//!   form, beside a Mailchimp classic embed and Ghost's signup-form (their scripts from npm), in
//!   headless Chromium at 1× and 4× CPU and on Slow-4G (see `speed.rs`).
//! - `embed CONFIG [--base URL]`: the recommended snippet for a slot's JSON configuration, with
//!   preload hints and SRI for the content-hashed files of `dist/`.
//! - `layers [DIR…]`: only the import-circle check, of `core/src` and `src` or of the folders given.
//! - `endpoint [PORT]`: run only the local endpoint.
//! - `package [--test]`: build `dist/` and lay it out as an npm package, packed with `npm pack`;
//!   `--test` then installs the tarball and runs the package checks of `cargo xtask test`.
//! - `deploy-check`: only the checks of `receiver/deploy/` (systemd-analyze, `check`, hadolint, nginx -t).

mod a11y;
mod attribution;
mod bundle;
mod deploy;
mod e2e;
mod endpoint;
mod ghost;
mod http;
mod layers;
mod operators;
mod package;
mod playground;
mod receiver;
mod screenshots;
mod speed;
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
        Some("setup") => tools::ensure(args.iter().any(|a| a == "--trunk")).map(|t| {
            if let Some(trunk) = t.trunk {
                println!("setup: trunk at {}", trunk.display());
            }
        }),
        Some("test") => test(),
        Some("demo") => demo(),
        Some("bench") if args.get(1).is_some_and(|a| a == "widget") => speed::rounds_from(&args)
            .and_then(|rounds| {
                tools::ensure(false)
                    .and_then(|t| speed::run(&t, rounds, !args.iter().any(|a| a == "--no-build")))
            }),
        Some("bench") => receiver::bench(),
        Some("embed") => match args.get(1) {
            Some(config) => tools::ensure(false).and_then(|t| {
                let base = args
                    .iter()
                    .position(|a| a == "--base")
                    .and_then(|i| args.get(i + 1))
                    .map_or("https://cdn.example/letterbox", String::as_str);
                speed::embed(&t, std::path::Path::new(config), base)
            }),
            None => Err("usage: cargo xtask embed CONFIG.json [--base URL]".into()),
        },
        Some("dist") => tools::ensure(false)
            .and_then(|t| bundle::build(&t))
            .and_then(|b| {
                bundle::print_integrity(&b);
                bundle::report(&b.shipped)?;
                size_attribution()
            }),
        Some("playground") => tools::ensure(false)
            .and_then(|t| playground::build(&t))
            .map(|dir| {
                println!(
                    "playground: {} (serve the folder; index.html)",
                    dir.display()
                )
            }),
        Some("screenshots") => tools::ensure(false)
            .and_then(|t| screenshots::run(&t, !args.iter().any(|a| a == "--no-build"))),
        Some("e2e") => {
            tools::ensure(false).and_then(|t| bundle::build(&t).and_then(|b| e2e::run(&t, &b)))
        }
        Some("ghost") if args.iter().any(|a| a == "--record") => ghost::scenarios::record(),
        Some("ghost") => tools::ensure(false).and_then(|t| {
            if !args.iter().any(|a| a == "--reuse-dist") {
                bundle::build(&t)?;
            }
            ghost::scenarios::run(&t)
        }),
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
                "usage: cargo xtask <setup [--trunk] | test | demo | playground | screenshots [--no-build] | dist | e2e | ghost [--reuse-dist | --record] | a11y | layers [DIR…] | bench [widget [--rounds N] [--no-build]] | embed CONFIG [--base URL] | endpoint [PORT] | package [--test] | deploy-check>"
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

/// The size report's second half: bytes by crate and by our own modules (twiggy).
fn size_attribution() -> Result<()> {
    let twiggy = tools::ensure_twiggy()?;
    attribution::report(
        &twiggy,
        &util::target_dir().join("letterbox-bindgen/web/letterbox_bg.wasm"),
    )
}

fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(root()).args(args);
    c
}

/// What a cold `cargo xtask test` writes into the target folder, with room to spare: measured
/// 2.9 GB at its peak on a clean clone (2026-11-27, with the workspace's debug-info settings and
/// CARGO_INCREMENTAL=0 as in `.ci/run`; 11-12 GB before those). Below it the run is likely to
/// die half-way with "No space left on device".
const COLD_RUN_DISK_BYTES: u64 = 5_000_000_000;

/// Says early, in one line, when the disk is too full for a cold run (a warm one needs less).
fn check_disk() {
    let target = util::target_dir();
    if let Some(free) = util::free_bytes(&target) {
        let note = if free < COLD_RUN_DISK_BYTES {
            format!(
                " — LOW: a run from a clean target folder writes about {}; \
                 free space (or remove old target folders) if steps fail with \
                 \"No space left on device\"",
                util::gigabytes(COLD_RUN_DISK_BYTES)
            )
        } else {
            String::new()
        };
        println!(
            "disk: {} free for {}{note}",
            util::gigabytes(free),
            target.display()
        );
    }
}

fn test() -> Result<()> {
    check_disk();
    let tools = tools::ensure(false)?;
    // Ghost installs (the first time: minutes of npm downloads and a C++ build) while the
    // Rust steps run; its step waits for it.
    let ghost_install = ghost::skipped()
        .is_none()
        .then(|| std::thread::spawn(|| ghost::ensure(false)));
    let mut steps: Vec<Step> = Vec::new();
    step(&mut steps, "rustfmt", "seconds", || {
        run(&mut cargo(&["fmt", "--all", "--", "--check"]))
    });
    step(
        &mut steps,
        "import circles (core/src, src)",
        "a second",
        || layers::check(&[root().join("core/src"), root().join("src")]),
    );
    step(
        &mut steps,
        "clippy (native)",
        "from a clean target folder 7 min on a busy 2-core machine, seconds after",
        || {
            run(&mut cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        },
    );
    step(
        &mut steps,
        "clippy (wasm32)",
        "from a clean target folder 15 min on a busy 2-core machine, seconds after",
        || {
            let wasm = ["--target", "wasm32-unknown-unknown"];
            run(cargo(&["clippy", "-p", "letterbox", "--all-targets"])
                .args(wasm)
                .args(["--", "-D", "warnings"]))?;
            // The playground build's own code (`Letterbox.playground`), which the release
            // build leaves out.
            run(cargo(&[
                "clippy",
                "-p",
                "letterbox",
                "--lib",
                "--features",
                "playground",
            ])
            .args(wasm)
            .args(["--", "-D", "warnings"]))?;
            run(cargo(&["clippy", "-p", "letterbox-core", "--lib"])
                .args(wasm)
                .args(["--", "-D", "warnings"]))
        },
    );
    step(
        &mut steps,
        "native tests",
        "from a clean target folder 4-5 min on a busy 2-core machine, under a minute after",
        || {
            run(&mut cargo(&[
                "test",
                "--workspace",
                "--exclude",
                "letterbox-receiver",
            ]))?;
            // Core's `serde` feature (what the receiver shares), which the run above leaves off.
            run(&mut cargo(&[
                "test",
                "-p",
                "letterbox-core",
                "--features",
                "serde",
                "--lib",
                "serde",
            ]))
        },
    );
    step(
        &mut steps,
        "receiver tests (SQLite + PostgreSQL)", "the first time 6 min on a busy 2-core machine (PostgreSQL from Debian if missing), about a minute after",
        receiver::test,
    );
    step(
        &mut steps,
        "browser tests (headless Chromium)",
        "the first time 12-13 min on a busy 2-core machine, about a minute after",
        || {
            let ep = endpoint::start(TEST_ENDPOINT_PORT, false)
                .or_else(|_| endpoint::start(0, false))?;
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
        },
    );
    let mut bundle = None;
    step(
        &mut steps,
        "release bundle and size budget",
        "from a clean target folder 12-14 min on a busy 2-core machine, about a minute after",
        || {
            let built = bundle::build(&tools)?;
            let report = bundle::report(&built.shipped);
            bundle = Some(built);
            report.and_then(|_| size_attribution())
        },
    );
    step(
        &mut steps,
        "end-to-end (WebDriver, strict CSP)",
        "about 20 s, plus the receiver's first build",
        || match &bundle {
            Some(b) => e2e::run(&tools, b),
            None => Err("no release bundle to test".into()),
        },
    );
    step(
        &mut steps,
        "real Ghost (members API, magic link)",
        "the first time 9-10 min to install Ghost on a busy 2-core machine (alongside the steps above), then about a minute",
        || match (ghost::skipped(), &bundle) {
            (Some(why), _) => {
                println!("SKIPPED: {why}");
                Ok(())
            }
            (None, None) => Err("no release bundle to test".into()),
            (None, Some(_)) => ghost_install
                .map(|t| t.join().unwrap_or_else(|_| Err("the Ghost install panicked".into())))
                .unwrap_or_else(|| ghost::ensure(true))
                .and_then(|_| ghost::scenarios::run(&tools)),
        },
    );
    step(
        &mut steps,
        "accessibility (axe-core)",
        "about 30 s",
        || match &bundle {
            Some(_) => a11y::run(&tools),
            None => Err("no release bundle to test".into()),
        },
    );
    step(
        &mut steps,
        "npm package (install, browser, tsc)",
        "about a minute (TypeScript from npm the first time)",
        || match &bundle {
            Some(b) => package::build(b).and_then(|p| package::test(&tools, &p)),
            None => Err("no release bundle to test".into()),
        },
    );
    step(
        &mut steps,
        "receiver deploy files",
        "under a minute (systemd, nginx and hadolint installed the first time)",
        || receiver::build_debug().and_then(|exe| deploy::check_all(&exe)),
    );

    println!("\nxtask test summary");
    for s in &steps {
        println!(
            "  {:<36} {:>7.1} s  {}",
            s.name,
            s.seconds,
            if s.result.is_ok() { "ok" } else { "FAILED" }
        );
    }
    if let Some(why) = ghost::skipped() {
        println!("  (the real-Ghost step was SKIPPED: {why})");
    }
    let failed = steps.iter().filter(|s| s.result.is_err()).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} of {} steps failed", steps.len()))
    }
}

/// What the demo's receiver step says.
const RECEIVER_BUILD: &str =
    "building and starting the reference receiver (debug; the first time over 12 min \
     measured on a busy 2-core machine, a few on an idle one; seconds after)";

/// The playground's port (Trunk.toml's `[serve] port`, and the origin the demo receiver allows).
const PLAYGROUND_PORT: u16 = 8080;

/// `cargo xtask demo`: with trunk, `trunk serve` (live reload) as always; without it, the same
/// page from the release bundle at once, while trunk installs in the background.
fn demo() -> Result<()> {
    let demo_start = std::time::Instant::now();
    println!("==> cargo xtask demo: checking the tools");
    let tools = tools::ensure(false)?;
    playground::check_demo_data_unwatched()?;
    let forced_static = std::env::var_os("LETTERBOX_DEMO_STATIC").is_some();
    let trunk = tools::find_trunk(&tools.path).filter(|_| !forced_static);
    let Some(trunk) = trunk else {
        return demo_without_trunk(&tools, demo_start, forced_static);
    };
    println!("==> {RECEIVER_BUILD}");
    let receiver = receiver::start_demo(DEMO_ENDPOINT_PORT)?;
    println!(
        "receiver on {} (data/receiver-demo.db; confirmation emails at /api/outbox)",
        receiver.url
    );
    print_operator_page(&receiver.url)?;
    println!("==> trunk serve: builds the widget (a debug wasm: minutes the first time on 2 cores, seconds after), then live-reloads on every change");
    println!("playground on http://127.0.0.1:{PLAYGROUND_PORT}");
    run(Command::new(trunk)
        .current_dir(root())
        .env("PATH", &tools.path)
        .arg("serve"))
}

fn demo_without_trunk(
    tools: &tools::Tools,
    demo_start: std::time::Instant,
    forced: bool,
) -> Result<()> {
    if forced {
        println!("LETTERBOX_DEMO_STATIC is set: serving the playground from the release bundle, without trunk.");
    } else {
        println!(
            "trunk is not installed. The playground is served at once from the release bundle (the same page, \n\
             the same receiver behind /api); live reload arrives when trunk is installed: it compiles in the \n\
             background (~{} min on 2 cores) once the playground is up, and the next `cargo xtask demo` uses it.",
            tools::TRUNK_MINUTES
        );
    }
    let phase = |what: &str| {
        println!("\n==> {what}");
        std::time::Instant::now()
    };
    let done =
        |since: std::time::Instant| println!("    done in {}", util::minutes(since.elapsed()));

    let t = phase("building the widget and the playground's build of it: release wasm, wasm-bindgen, wasm-opt (from a clean target folder: 13-14 min measured on a busy 2-core machine, a few on an idle one; about a minute after)");
    let built = playground::build(tools)?;
    done(t);
    let t = phase(RECEIVER_BUILD);
    let receiver = receiver::start_demo(DEMO_ENDPOINT_PORT)?;
    done(t);
    let server = playground::start(
        PLAYGROUND_PORT,
        &playground::snapshot(&built)?,
        &receiver.url,
    )?;
    println!(
        "\nplayground on {} ({} after start), served from its static build (dist-playground/, beside dist/) without live reload; \
         the receiver on {} (data/receiver-demo.db; confirmation emails in the page's outbox). \
         After changing src/ or style/, run `cargo xtask demo` again. Ctrl-C stops.",
        server.url(),
        util::minutes(demo_start.elapsed()),
        receiver.url
    );
    print_operator_page(&receiver.url)?;
    if forced {
        loop {
            std::thread::park();
        }
    }
    let install = tools::install_trunk_in_background()?;
    println!(
        "trunk: {} in the background (~{} min on 2 cores, at low priority); progress in {}\n\
         (`tail -f` it to follow; it goes on if you stop the demo).",
        if install.started_now {
            "installing"
        } else {
            "still installing, started by an earlier run,"
        },
        tools::TRUNK_MINUTES,
        install.log.display()
    );
    // Say how the install is doing every few minutes, and when it ends.
    let mut last = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(5));
        if !install.running() {
            match install.outcome() {
                Some(line) if line.contains("finished") => println!(
                    "\ntrunk is installed. Stop this demo (Ctrl-C) and run `cargo xtask demo` again for live reload."
                ),
                _ => println!(
                    "\nthe trunk install stopped without finishing; see {} (`cargo xtask setup --trunk` retries in the foreground). \
                     The playground keeps running.",
                    install.log.display()
                ),
            }
            break;
        }
        if last.elapsed() >= std::time::Duration::from_secs(180) {
            last = std::time::Instant::now();
            println!(
                "trunk install (background): {} crates compiled so far",
                install.crates_compiled()
            );
        }
    }
    loop {
        std::thread::park();
    }
}

/// Says where the operator page is and its token (the demo's own, in `data/`).
fn print_operator_page(receiver_url: &str) -> Result<()> {
    println!(
        "operator page on {receiver_url}/admin, token {} (data/receiver-demo.token)",
        receiver::demo_token()?
    );
    Ok(())
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
