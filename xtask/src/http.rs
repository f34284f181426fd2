//! A small HTTP/1.1 server for the test endpoint, the end-to-end pages and the playground
//! without trunk, with the few parts of tiny_http's API they use.
//!
//! Why not tiny_http 0.12 (issue 10, item 10): its pool of connection threads loses wake-ups.
//! When connections arrive in a burst it queues them for threads it counts as idle but that
//! have already been woken for an earlier one, and a queued connection waits until some thread
//! finishes a whole connection. Browsers keep their connections open (keep-alive), so a page that
//! opens more connections at once than there are truly idle threads (the strict end-to-end page:
//! a stylesheet, two scripts, two module scripts and the wasm) has one request that is never
//! read, and its load event never fires. Measured with 8 keep-alive connections opened at once:
//! 1 to 4 of them never answered. Here every connection has its own thread, so none waits for
//! another (`http::tests::a_burst_of_keep_alive_connections_is_served_at_once`).

use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body read.
const MAX_BODY: usize = 1024 * 1024;
/// How long an idle keep-alive connection is kept.
const IDLE: Duration = Duration::from_secs(60);

/// A request method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Options,
    Head,
    Other(String),
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Other(m) => m,
        })
    }
}

/// A header name, compared without regard to case.
#[derive(Debug, Clone)]
pub struct HeaderName(String);

impl HeaderName {
    /// Whether this is the header `name` (any case).
    pub fn equiv(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A header value.
#[derive(Debug, Clone)]
pub struct HeaderValue(String);

impl HeaderValue {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One header.
#[derive(Debug, Clone)]
pub struct Header {
    pub field: HeaderName,
    pub value: HeaderValue,
}

impl Header {
    /// A header; an error if either part holds a line break or is not UTF-8.
    pub fn from_bytes(name: &[u8], value: &[u8]) -> Result<Header, ()> {
        let name = std::str::from_utf8(name).map_err(|_| ())?;
        let value = std::str::from_utf8(value).map_err(|_| ())?;
        if name.is_empty() || name.contains([':', '\r', '\n']) || value.contains(['\r', '\n']) {
            return Err(());
        }
        Ok(Header {
            field: HeaderName(name.to_owned()),
            value: HeaderValue(value.to_owned()),
        })
    }
}

/// A header, or `None` if it could not be sent as it is.
pub fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// The body of a `Transfer-Encoding: chunked` message, its chunks joined.
pub fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = body.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&body[..i]);
        let size = size.split(';').next().unwrap_or("").trim();
        let Ok(n) = usize::from_str_radix(size, 16) else {
            break;
        };
        let rest = &body[i + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        body = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// An answer: status, headers and a body of known length.
pub struct Response {
    status: u16,
    headers: Vec<Header>,
    body: Vec<u8>,
}

impl Response {
    /// 200 with `body` as `text/plain; charset=utf-8` (until a Content-Type is added).
    pub fn from_string(body: impl Into<String>) -> Response {
        Response::from_data(body.into().into_bytes())
    }

    /// 200 with `body`.
    pub fn from_data(body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_status_code(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    /// Adds a header; a Content-Type replaces the one set before. Connection framing headers
    /// (Connection, Content-Length, Transfer-Encoding) are the server's and are ignored.
    pub fn add_header(&mut self, header: Header) {
        let name = &header.field;
        if [
            "connection",
            "content-length",
            "transfer-encoding",
            "keep-alive",
        ]
        .iter()
        .any(|h| name.equiv(h))
        {
            return;
        }
        if name.equiv("content-type") {
            self.headers.retain(|h| !h.field.equiv("content-type"));
        }
        self.headers.push(header);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A request, its body already read. Answer it with [`Request::respond`]; dropped unanswered,
/// its connection is closed.
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<Header>,
    body: Cursor<Vec<u8>>,
    stream: TcpStream,
    close: bool,
    done: Sender<()>,
}

impl Request {
    /// The request target as sent (path and query).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The body.
    pub fn as_reader(&mut self) -> &mut dyn Read {
        &mut self.body
    }

    /// Writes the answer; the connection then waits for the client's next request.
    pub fn respond(mut self, response: Response) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason(response.status)
        );
        if !response
            .headers
            .iter()
            .any(|h| h.field.equiv("content-type"))
        {
            head.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        }
        for h in &response.headers {
            head.push_str(&format!("{}: {}\r\n", h.field, h.value));
        }
        let no_body =
            response.status == 204 || response.status == 304 || self.method == Method::Head;
        if !(response.status == 204 || response.status == 304) {
            head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
        }
        head.push_str(if self.close {
            "Connection: close\r\n\r\n"
        } else {
            "Connection: keep-alive\r\n\r\n"
        });
        let mut out = head.into_bytes();
        if !no_body {
            out.extend_from_slice(&response.body);
        }
        let written = self
            .stream
            .write_all(&out)
            .and_then(|_| self.stream.flush());
        if written.is_ok() {
            let _ = self.done.send(());
        }
        written
    }
}

/// Where a server listens.
#[derive(Debug, Clone, Copy)]
pub struct ListenAddr(SocketAddr);

impl ListenAddr {
    pub fn to_ip(self) -> Option<SocketAddr> {
        Some(self.0)
    }
}

enum Message {
    Request(Box<Request>),
    Stop,
}

/// A listening server: [`Server::incoming_requests`] yields the requests of every connection.
pub struct Server {
    addr: SocketAddr,
    queue: Mutex<Receiver<Message>>,
    sender: Sender<Message>,
    stopping: Arc<AtomicBool>,
}

impl Server {
    /// Listens on `addr`; a thread accepts connections and gives each its own thread.
    pub fn http(addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let (sender, queue) = channel();
        let stopping = Arc::new(AtomicBool::new(false));
        {
            let sender = sender.clone();
            let stopping = stopping.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let sender = sender.clone();
                    thread::spawn(move || connection(stream, &sender));
                }
            });
        }
        Ok(Server {
            addr,
            queue: Mutex::new(queue),
            sender,
            stopping,
        })
    }

    pub fn server_addr(&self) -> ListenAddr {
        ListenAddr(self.addr)
    }

    /// The requests, as they arrive, until [`Server::unblock`].
    pub fn incoming_requests(&self) -> impl Iterator<Item = Request> + '_ {
        std::iter::from_fn(move || {
            let queue = self.queue.lock().ok()?;
            match queue.recv() {
                Ok(Message::Request(r)) => Some(*r),
                _ => None,
            }
        })
    }

    /// Stops accepting connections and ends [`Server::incoming_requests`].
    pub fn unblock(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.sender.send(Message::Stop);
        // Wake the blocking accept so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Serves one connection: reads each request, hands it over, waits for its answer.
fn connection(stream: TcpStream, sender: &Sender<Message>) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    loop {
        let Some(request) = read_request(&mut reader, &stream) else {
            break;
        };
        let (done, answered) = channel();
        let close = request.0.close;
        let request = Request { done, ..request.0 };
        if sender.send(Message::Request(Box::new(request))).is_err() {
            break;
        }
        if answered.recv().is_err() || close {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// A request without its answer channel yet.
struct Incoming(Request);

fn read_request(reader: &mut BufReader<TcpStream>, stream: &TcpStream) -> Option<Incoming> {
    let mut lines = Vec::new();
    let mut size = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).ok()?;
        if n == 0 {
            return None;
        }
        size += n;
        if size > MAX_HEAD {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // a stray line break between requests
            }
            break;
        }
        lines.push(line);
    }
    let mut first = lines[0].split(' ');
    let (method, url, version) = (first.next()?, first.next()?, first.next()?);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "OPTIONS" => Method::Options,
        "HEAD" => Method::Head,
        other => Method::Other(other.to_owned()),
    };
    let headers: Vec<Header> = lines[1..]
        .iter()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Header::from_bytes(name.trim().as_bytes(), value.trim().as_bytes()).ok()
        })
        .collect();
    let value = |name: &str| {
        headers
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_ascii_lowercase())
    };
    if value("transfer-encoding").is_some() {
        return None; // chunked request bodies: no client of these servers sends them
    }
    let length: usize = value("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return None;
    }
    let mut writer = stream.try_clone().ok()?;
    if value("expect").is_some_and(|v| v == "100-continue") {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let connection = value("connection").unwrap_or_default();
    let close = connection.contains("close")
        || (version == "HTTP/1.0" && !connection.contains("keep-alive"));
    let (done, _) = channel();
    Some(Incoming(Request {
        method,
        url: url.to_owned(),
        headers,
        body: Cursor::new(body),
        stream: writer,
        close,
        done,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn serve() -> (Arc<Server>, SocketAddr) {
        let server = Arc::new(Server::http(("127.0.0.1", 0)).expect("listen"));
        let addr = server.server_addr().to_ip().expect("ip");
        let s = server.clone();
        thread::spawn(move || {
            for mut request in s.incoming_requests() {
                thread::spawn(move || {
                    let mut body = String::new();
                    let _ = request.as_reader().read_to_string(&mut body);
                    let text = format!("{} {} {body}", request.method(), request.url());
                    let _ = request.respond(Response::from_string(text));
                });
            }
        });
        (server, addr)
    }

    fn answer(stream: &mut TcpStream) -> String {
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// Issue 10, item 10: tiny_http 0.12 left 1 to 4 of 8 such connections unanswered.
    #[test]
    fn a_burst_of_keep_alive_connections_is_served_at_once() {
        let (_server, addr) = serve();
        let mut streams: Vec<TcpStream> = (0..24)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        let start = Instant::now();
        for s in &mut streams {
            s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("write");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
        }
        let unanswered = streams
            .iter_mut()
            .map(answer)
            .filter(|a| !a.starts_with("HTTP/1.1 200 OK"))
            .count();
        assert_eq!(unanswered, 0, "of 24 keep-alive connections");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn keep_alive_serves_several_requests_on_one_connection_with_bodies() {
        let (_server, addr) = serve();
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"POST /one?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            .expect("write");
        let first = answer(&mut s);
        assert!(first.ends_with("POST /one?x=1 hello"), "{first}");
        assert!(first.contains("Connection: keep-alive"), "{first}");
        s.write_all(b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let second = answer(&mut s);
        assert!(second.ends_with("GET /two "), "{second}");
        assert!(second.contains("Connection: close"), "{second}");
        assert_eq!(answer(&mut s), "", "closed after Connection: close");
    }

    #[test]
    fn a_request_dropped_unanswered_closes_its_connection() {
        let server = Arc::new(Server::http(("127.0.0.1", 0)).expect("listen"));
        let addr = server.server_addr().to_ip().expect("ip");
        let s = server.clone();
        thread::spawn(move || {
            for request in s.incoming_requests() {
                drop(request)
            }
        });
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        assert_eq!(answer(&mut stream), "");
        server.unblock();
    }
}
