//! The playground without trunk: `index.html` served with the release bundle (`dist/`) in place
//! of trunk's `<link data-trunk rel="rust">`, and `/api/` forwarded to the reference receiver as
//! trunk's `[[proxy]]` does. `cargo xtask demo` serves it this way while trunk, which takes
//! ~19 minutes to compile on 2 cores, installs in the background; the end-to-end step tests it.
//!
//! Also here: the check that the demo's data (the receiver's SQLite file, written on every
//! signup) is outside what `trunk serve` watches, so a signup never reloads the page.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::http::{header, Request, Response, Server};

use crate::util::{root, Result};

/// The largest request body forwarded to the receiver.
const MAX_BODY: u64 = 256 * 1024;

/// The folder, relative to the workspace root, where `cargo xtask demo` keeps the receiver's
/// configuration and SQLite database (see `receiver::start_demo`).
pub const DEMO_DATA_DIR: &str = "data";

/// Where `cargo xtask playground` writes the built playground, next to `dist/`: `index.html`,
/// the playground build of the widget (`letterbox.js`, `letterbox_bg.wasm`: the release build
/// with the cargo feature `playground`, which adds the state picker and the embed builder's
/// `Letterbox.playground`) and `embed-files.json` (the release bundle's content-hashed files
/// and SRI hashes, for the embed builder's snippet).
pub const BUILT_DIR: &str = "dist-playground";

/// Builds the release bundle (`dist/`, as `cargo xtask dist`) and then the playground into
/// [`BUILT_DIR`]; returns that folder. The release bundle never has the playground feature.
pub fn build(tools: &crate::tools::Tools) -> Result<PathBuf> {
    crate::bundle::build(tools)?;
    build_beside_dist(tools)
}

/// The playground build into [`BUILT_DIR`], beside the `dist/` already built.
pub fn build_beside_dist(tools: &crate::tools::Tools) -> Result<PathBuf> {
    use std::process::Command;
    let root = root();
    let files = crate::speed::hashed_files(&root.join("dist"))?;
    crate::util::run(&mut crate::bundle::release_wasm(&["playground"]))?;
    let out = root.join(BUILT_DIR);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let work = crate::util::target_dir().join("letterbox-playground-bindgen");
    let _ = std::fs::remove_dir_all(&work);
    let raw = crate::util::target_dir().join("wasm32-unknown-unknown/release/letterbox.wasm");
    crate::util::run(
        Command::new(&tools.wasm_bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "letterbox",
                "--out-dir",
            ])
            .arg(&work)
            .arg(&raw),
    )?;
    crate::util::run(
        Command::new(&tools.wasm_opt)
            .env("PATH", &tools.path)
            .arg("-Oz")
            .arg(work.join("letterbox_bg.wasm"))
            .arg("-o")
            .arg(out.join("letterbox_bg.wasm")),
    )?;
    let glue = std::fs::read_to_string(work.join("letterbox.js"))
        .map_err(|e| format!("cannot read the playground's glue: {e}"))?;
    let write = |name: &str, text: &str| {
        std::fs::write(out.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write(
        "letterbox.js",
        &format!(
            "{glue}{}",
            crate::bundle::module_start("letterbox_bg.wasm", None)
        ),
    )?;
    let index = std::fs::read_to_string(root.join("index.html"))
        .map_err(|e| format!("cannot read index.html: {e}"))?;
    // Relative, so the folder works wherever it is served.
    write(
        "index.html",
        &page(&index)?.replace(
            r#"<script type="module" src="/letterbox.js">"#,
            r#"<script type="module" src="letterbox.js">"#,
        ),
    )?;
    let [(script, script_sri), (wasm, wasm_sri)] = &files;
    write(
        "embed-files.json",
        &serde_json::json!({"script": script, "script_sri": script_sri, "wasm": wasm, "wasm_sri": wasm_sri})
            .to_string(),
    )?;
    Ok(out)
}

/// A running playground server; stops when dropped.
pub struct Playground {
    /// Where it listens.
    pub addr: SocketAddr,
    server: Arc<Server>,
    worker: Option<thread::JoinHandle<()>>,
}

impl Playground {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// `index.html` as trunk would serve it, for the release bundle: the `data-trunk` rust link
/// becomes the one-tag embed. An error names any other trunk asset, which this server cannot
/// build.
pub fn page(index_html: &str) -> Result<String> {
    let mut out = String::with_capacity(index_html.len());
    let mut rust_links = 0;
    for line in index_html.lines() {
        if line.contains("data-trunk") {
            let is_rust = line.contains("rel=\"rust\"") && line.trim_start().starts_with("<link");
            if !is_rust {
                return Err(format!(
                    "index.html has a trunk asset the playground without trunk cannot serve: {}",
                    line.trim()
                ));
            }
            rust_links += 1;
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(indent);
            out.push_str(r#"<script type="module" src="/letterbox.js"></script>"#);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if rust_links != 1 {
        return Err(format!(
            "index.html should have exactly one <link data-trunk rel=\"rust\">, it has {rust_links}"
        ));
    }
    Ok(out)
}

/// The newsletter ids the playground's slots offer (the receiver must know them).
pub fn newsletter_ids(index_html: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut rest = index_html;
    while let Some(i) = rest.find("\"id\":") {
        rest = rest[i + 5..].trim_start();
        if let Some(value) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
            if !ids.iter().any(|id| id == value) {
                ids.push(value.to_owned());
            }
        }
    }
    ids
}

/// Serves the playground on 127.0.0.1:`port` (0: any free port): the page from `index.html`,
/// the bundle from `dist`, and `/api/*` forwarded to `backend` (`http://127.0.0.1:PORT`).
pub fn start(port: u16, dist: &Path, backend: &str) -> Result<Playground> {
    let index = std::fs::read_to_string(root().join("index.html"))
        .map_err(|e| format!("cannot read index.html: {e}"))?;
    let page = Arc::new(page(&index)?);
    let backend: SocketAddr = backend
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|e| format!("the receiver's address {backend:?} is not host:port ({e})"))?;
    let server = Server::http(("127.0.0.1", port)).map_err(|e| {
        format!("cannot listen on 127.0.0.1:{port} ({e}); is another `cargo xtask demo` running?")
    })?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or("the playground is not listening on an IP address")?;
    let server = Arc::new(server);
    let dist = Arc::new(dist.to_path_buf());
    let worker = {
        let server = server.clone();
        thread::spawn(move || {
            for request in server.incoming_requests() {
                let (page, dist) = (page.clone(), dist.clone());
                thread::spawn(move || handle(request, &page, &dist, backend));
            }
        })
    };
    Ok(Playground {
        addr,
        server,
        worker: Some(worker),
    })
}

fn handle(request: Request, page: &str, dist: &Path, backend: SocketAddr) {
    let path = request.url().split('?').next().unwrap_or("").to_owned();
    if path.starts_with("/api/") {
        return proxy(request, backend);
    }
    let found: Option<(Vec<u8>, &str)> = match path.as_str() {
        "/" | "/index.html" => Some((page.as_bytes().to_vec(), "text/html; charset=utf-8")),
        p => {
            let name = &p[1..];
            let plain = !name.is_empty()
                && !name.contains('/')
                && !name.contains("..")
                && !name.starts_with('.');
            plain
                .then(|| std::fs::read(dist.join(name)).ok())
                .flatten()
                .map(|bytes| (bytes, crate::endpoint::content_type(name)))
        }
    };
    let response = match found {
        Some((bytes, kind)) => {
            let mut r = Response::from_data(bytes);
            for h in [
                header("Content-Type", kind),
                // The bundle is rebuilt by each `cargo xtask demo`: never serve a stale copy.
                header("Cache-Control", "no-store"),
            ]
            .into_iter()
            .flatten()
            {
                r.add_header(h);
            }
            r
        }
        None => Response::from_data(format!("no file {path}").into_bytes()).with_status_code(404),
    };
    let _ = request.respond(response);
}

/// Headers that belong to one connection, not to the request or answer.
fn hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "host",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Forwards one request to the receiver over a fresh connection and relays its answer.
fn proxy(mut request: Request, backend: SocketAddr) {
    let mut body = Vec::new();
    let _ = request.as_reader().take(MAX_BODY).read_to_end(&mut body);
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {backend}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method(),
        request.url(),
        body.len()
    );
    for h in request.headers() {
        if !hop_by_hop(h.field.as_str()) {
            head.push_str(&format!("{}: {}\r\n", h.field, h.value));
        }
    }
    head.push_str("\r\n");
    let answer = (|| -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect_timeout(&backend, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        stream.write_all(head.as_bytes())?;
        stream.write_all(&body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(raw)
    })();
    let response = match answer
        .map_err(|e| e.to_string())
        .and_then(|raw| parse(&raw))
    {
        Ok((status, headers, body)) => {
            let mut r = Response::from_data(body).with_status_code(status);
            for (name, value) in headers {
                if let Some(h) = header(&name, &value) {
                    r.add_header(h);
                }
            }
            r
        }
        Err(e) => Response::from_data(
            format!("the receiver on {backend} did not answer: {e}").into_bytes(),
        )
        .with_status_code(502),
    };
    let _ = request.respond(response);
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A whole HTTP/1.1 answer read to the end of the connection: status, end-to-end headers, body.
fn parse(raw: &[u8]) -> Result<Answer> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no complete answer")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut chunked = false;
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked") {
            chunked = true;
        }
        if !hop_by_hop(name) {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked {
        crate::http::dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, headers, body))
}

/// What `trunk serve` watches, from `Trunk.toml`'s `[watch]` table: the `watch` folders (the
/// folder of the target HTML when empty, as trunk does) and the `ignore` ones, both relative
/// to the workspace root.
#[derive(Debug, Default, PartialEq)]
pub struct TrunkWatch {
    pub watch: Vec<String>,
    pub ignore: Vec<String>,
}

/// Reads `[watch] watch = [...]` and `ignore = [...]` (one-line string arrays) from Trunk.toml.
pub fn trunk_watch(trunk_toml: &str) -> TrunkWatch {
    let mut out = TrunkWatch::default();
    let mut in_watch = false;
    for line in trunk_toml.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_watch = line == "[watch]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let list = value
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|v| v.trim().trim_matches('"').trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty());
        match (in_watch, key.trim()) {
            (true, "watch") => out.watch.extend(list),
            (true, "ignore") => out.ignore.extend(list),
            _ => {}
        }
    }
    out
}

/// Whether a write to `file` (relative to the workspace root) would make `trunk serve` rebuild
/// and reload the page.
pub fn trunk_rebuilds_on(watch: &TrunkWatch, file: &str) -> bool {
    let under = |dir: &str| {
        let dir = dir.trim_start_matches("./");
        dir.is_empty() || dir == "." || file == dir || file.starts_with(&format!("{dir}/"))
    };
    let watched = if watch.watch.is_empty() {
        true // the target HTML's folder: the workspace root
    } else {
        watch.watch.iter().any(|d| under(d))
    };
    watched && !watch.ignore.iter().any(|d| under(d))
}

/// The files the demo's receiver writes while the playground is open (SQLite with its
/// write-ahead log and shared memory, and the configuration written at start).
pub fn demo_data_files() -> Vec<String> {
    [
        "receiver-demo.db",
        "receiver-demo.db-wal",
        "receiver-demo.db-shm",
        "receiver-demo.db-journal",
    ]
    .iter()
    .map(|f| format!("{DEMO_DATA_DIR}/{f}"))
    .collect()
}

/// Fails if `trunk serve` would rebuild (and reload the playground) when the demo's receiver
/// writes its data: every signup does.
pub fn check_demo_data_unwatched() -> Result<()> {
    let toml = std::fs::read_to_string(root().join("Trunk.toml"))
        .map_err(|e| format!("cannot read Trunk.toml: {e}"))?;
    let watch = trunk_watch(&toml);
    let reloading: Vec<String> = demo_data_files()
        .into_iter()
        .filter(|f| trunk_rebuilds_on(&watch, f))
        .collect();
    if reloading.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "trunk serve would rebuild and reload the playground on every signup: it watches {} \
             (keep {DEMO_DATA_DIR}/ out of [watch] watch in Trunk.toml)",
            reloading.join(", ")
        ))
    }
}

/// Copies the built playground (`from`, [`BUILT_DIR`]) to a folder of the demo's own, so a
/// `cargo xtask test` or `playground` run while the demo is open (both rebuild it) does not pull
/// the files from under the page. Returns that folder.
pub fn snapshot(from: &Path) -> Result<PathBuf> {
    let to = crate::util::target_dir().join("playground-dist");
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(&to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot list {}: {e}", from.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() {
            std::fs::copy(&path, to.join(entry.file_name()))
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(to)
}

/// With trunk installed: runs `trunk watch` on a copy of `Trunk.toml` (beside a plain page, so
/// nothing compiles), writes the demo's database files, and fails if trunk starts a build;
/// then changes the page and fails if trunk does not (so the check can see a build at all).
pub fn check_trunk_ignores_demo_data(trunk: &Path, path: &str) -> Result<()> {
    use std::io::BufRead;
    use std::sync::mpsc;
    let dir = crate::util::target_dir().join("trunk-watch-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(DEMO_DATA_DIR))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::copy(root().join("Trunk.toml"), dir.join("Trunk.toml"))
        .map_err(|e| format!("cannot copy Trunk.toml: {e}"))?;
    // trunk refuses watch paths that do not exist: empty stand-ins (files have an extension).
    let toml = std::fs::read_to_string(dir.join("Trunk.toml")).unwrap_or_default();
    for entry in trunk_watch(&toml).watch {
        let at = dir.join(&entry);
        let made = if entry.contains('.') {
            std::fs::write(&at, "")
        } else {
            std::fs::create_dir_all(&at)
        };
        made.map_err(|e| format!("cannot create {}: {e}", at.display()))?;
    }
    let page = |text: &str| {
        std::fs::write(
            dir.join("index.html"),
            format!("<!doctype html><title>{text}</title>"),
        )
        .map_err(|e| format!("cannot write the check's page: {e}"))
    };
    page("first")?;
    let mut child = std::process::Command::new(trunk)
        .arg("watch")
        .current_dir(&dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("trunk watch could not start: {e}"))?;
    let (lines, seen) = mpsc::channel::<String>();
    for out in [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let lines = lines.clone();
        thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(|l| l.ok()) {
                let _ = lines.send(line);
            }
        });
    }
    // Counts the builds trunk starts within `wait`.
    let builds = |wait: Duration| {
        let deadline = std::time::Instant::now() + wait;
        let mut n = 0;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match seen.recv_timeout(left) {
                Ok(line) if line.contains("starting build") => n += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        n
    };
    let result = (|| {
        if builds(Duration::from_secs(15)) == 0 {
            return Err("trunk watch did not start its first build in 15 s".to_owned());
        }
        // Let the first build finish and the watcher settle.
        builds(Duration::from_secs(3));
        for file in demo_data_files() {
            std::fs::write(dir.join(&file), b"written by the demo's receiver")
                .map_err(|e| format!("cannot write {file}: {e}"))?;
        }
        let after_data = builds(Duration::from_secs(4));
        page("second")?;
        let after_page = builds(Duration::from_secs(10));
        match (after_data, after_page) {
            (0, n) if n > 0 => Ok(()),
            (0, _) => Err("trunk watch did not rebuild after the page changed either: the check cannot tell".to_owned()),
            (n, _) => Err(format!(
                "trunk rebuilt {n} time(s) after the demo's database was written: the playground would reload on every signup"
            )),
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_the_bundle_where_trunk_would_inject_its_loader() {
        let index = std::fs::read_to_string(root().join("index.html")).expect("index.html");
        let served = page(&index).expect("the playground page");
        assert!(!served.contains("data-trunk"), "{served}");
        assert_eq!(
            served
                .matches(r#"<script type="module" src="/letterbox.js"></script>"#)
                .count(),
            1
        );
        assert_eq!(
            served.matches("data-letterbox").count(),
            index.matches("data-letterbox").count()
        );
    }

    #[test]
    fn a_trunk_asset_the_static_server_cannot_build_is_named() {
        let index = r#"<link data-trunk rel="rust" href="Cargo.toml"/>
<link data-trunk rel="scss" href="style/main.scss"/>"#;
        let e = page(index).unwrap_err();
        assert!(e.contains("style/main.scss"), "{e}");
        assert!(page("<p>no link</p>").is_err());
    }

    #[test]
    fn the_playground_newsletter_ids_are_found() {
        let index = std::fs::read_to_string(root().join("index.html")).expect("index.html");
        let ids = newsletter_ids(&index);
        assert!(ids.contains(&"daily-briefing".to_owned()), "{ids:?}");
        assert!(ids.contains(&"culture-uk".to_owned()), "{ids:?}");
        assert_eq!(ids.iter().filter(|i| *i == "daily-briefing").count(), 1);
    }

    #[test]
    fn answers_are_parsed_with_or_without_chunks() {
        let (status, headers, body) = parse(
            b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
        )
        .expect("parsed");
        assert_eq!(status, 202);
        assert_eq!(
            headers,
            vec![("content-type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(body, b"{}");
        let (_, _, body) =
            parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .expect("parsed");
        assert_eq!(body, b"abcde");
    }

    /// Issue 11: every signup wrote the receiver's SQLite file under data/, trunk rebuilt and
    /// the page reloaded, so the success panel a designer had just produced vanished.
    #[test]
    fn the_demo_database_is_outside_what_trunk_serve_watches() {
        check_demo_data_unwatched().expect("Trunk.toml");
    }

    #[test]
    fn the_watch_rules_read_as_trunk_applies_them() {
        let none = trunk_watch("[build]\ntarget = \"index.html\"\n");
        assert!(trunk_rebuilds_on(&none, "data/receiver-demo.db"));
        let ignored = trunk_watch("[watch]\nignore = [\"data\", \"docs/\"] # demo data\n");
        assert_eq!(ignored.ignore, ["data", "docs"]);
        assert!(!trunk_rebuilds_on(&ignored, "data/receiver-demo.db-wal"));
        assert!(trunk_rebuilds_on(&ignored, "database.rs"));
        assert!(trunk_rebuilds_on(&ignored, "src/lib.rs"));
        let narrow = trunk_watch("[watch]\nwatch = [\"src\", \"style\", \"index.html\"]\n");
        assert!(!trunk_rebuilds_on(&narrow, "data/receiver-demo.db"));
        assert!(trunk_rebuilds_on(&narrow, "style/letterbox.css"));
    }
}
