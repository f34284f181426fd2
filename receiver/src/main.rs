//! The `letterbox-receiver` binary.
//!
//! ```text
//! letterbox-receiver [--config PATH] [serve]                 run the server (default)
//! letterbox-receiver [--config PATH] check                   validate the configuration
//! letterbox-receiver [--config PATH] export --format csv [--all] [--raw]   print the list as CSV
//! letterbox-receiver --version                               print the version
//! ```
//!
//! The configuration file may also be named by `LETTERBOX_CONFIG`; environment variables override
//! it (see `letterbox_receiver::config::ENV_OVERRIDES`). Logs go to standard error (`RUST_LOG`
//! filters them, default `info`; `log_format = "json"` or `LOG_FORMAT=json` writes one JSON
//! object per line); `serve` prints `listening on http://ADDR` on standard output once
//! it accepts connections, and stops gracefully on SIGINT or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use letterbox_receiver::config::{Config, LogFormat, ENV_OVERRIDES};
use letterbox_receiver::db::Db;

const USAGE: &str = "usage: letterbox-receiver [--config PATH] \
     [serve | check | export --format csv [--all] [--raw]]";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut config_path = std::env::var_os("LETTERBOX_CONFIG").map(PathBuf::from);
    if let Some(i) = args.iter().position(|a| a == "--config") {
        if i + 1 >= args.len() {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        config_path = Some(PathBuf::from(args.remove(i + 1)));
        args.remove(i);
    }
    if args.iter().any(|a| a == "--version" || a == "-V") {
        // The one version of the widget, the receiver and the npm package (the workspace's).
        println!("letterbox-receiver {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}\n\nEnvironment overrides:");
        for (var, setting) in ENV_OVERRIDES {
            println!("  {var:<34} {setting}");
        }
        return ExitCode::SUCCESS;
    }
    let command = args.first().cloned().unwrap_or_else(|| "serve".to_owned());
    let config = match Config::load(config_path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("letterbox-receiver: configuration problems:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    match command.as_str() {
        "check" => {
            println!(
                "configuration ok: {} newsletter(s), database {}, listen {}{}, logs {}{}",
                config.newsletters.len(),
                if config.database_url.starts_with("sqlite:") {
                    "SQLite"
                } else {
                    "PostgreSQL"
                },
                config.listen,
                if config.mail.smtp_url.is_some() {
                    ", SMTP on"
                } else {
                    ", no SMTP (outbox only)"
                },
                config.log_format.name(),
                if config.limits.shared_per_ip {
                    ", per-IP limit shared in the database"
                } else {
                    ""
                }
            );
            ExitCode::SUCCESS
        }
        "serve" | "export" => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("letterbox-receiver: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = if command == "serve" {
                runtime.block_on(serve(config))
            } else {
                let format_ok = args.windows(2).any(|w| w[0] == "--format" && w[1] == "csv");
                if !format_ok {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
                let all = args.iter().any(|a| a == "--all");
                let raw = args.iter().any(|a| a == "--raw");
                runtime.block_on(export(config, all, raw))
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("letterbox-receiver: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    // A connection is a file: take all the open-file room the hard limit allows.
    // Logged with the start line below (the first line stays "letterbox-receiver started").
    let (files_before, open_files) = letterbox_receiver::fd_limit::raise().unwrap_or((0, 0));
    let running = letterbox_receiver::start(config.clone()).await?;
    tracing::info!(
        addr = %running.addr,
        database = if running.db.is_sqlite() { "sqlite" } else { "postgres" },
        demo = config.demo,
        smtp = config.mail.smtp_url.is_some(),
        open_files,
        open_files_before = files_before,
        "letterbox-receiver started"
    );
    println!("listening on {}", running.url());
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    running.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn export(config: Config, all: bool, raw: bool) -> Result<(), String> {
    let db = Db::connect(&config.database_url, 2).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let n = letterbox_receiver::export::write_csv(&db, all, raw, &mut out).await?;
    db.close().await;
    eprintln!("exported {n} row(s)");
    Ok(())
}
