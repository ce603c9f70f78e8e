//! A tiny HTTP server on 127.0.0.1 that answers as AWS might when things go wrong: what moto
//! cannot emulate (rejected keys, a silent endpoint) and exact answers for one request
//! (a job without a log stream). Each request goes to `route`; `None` means never answer.
// Each test binary uses a part of this file.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The operation of an awsJson request (CloudWatch Logs): `X-Amz-Target` after the dot.
    pub fn target(&self) -> Option<&str> {
        self.header("x-amz-target")?.split('.').nth(1)
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// A restJson / awsJson error: the code travels in `x-amzn-ErrorType`.
    pub fn json_error(status: u16, code: &str, message: &str) -> Response {
        let mut r = Response::json(
            status,
            &format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        );
        r.headers.push(("x-amzn-ErrorType".into(), code.into()));
        r
    }

    /// An S3 error document.
    pub fn s3_error(status: u16, code: &str, message: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/xml".into())],
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>r1</RequestId></Error>"
            ),
        }
    }
}

pub type Route = dyn Fn(&Request) -> Option<Response> + Send + Sync;

pub struct FakeAws {
    pub endpoint: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeAws {
    pub fn start(route: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static) -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let route: Arc<Route> = Arc::new(route);
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (route, seen) = (route.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, &*route, &seen));
            }
        });
        FakeAws { endpoint, requests }
    }
}

/// Answers one request, or holds the connection open without a word until the client
/// gives up.
fn serve(mut s: TcpStream, route: &Route, seen: &Mutex<Vec<Request>>) {
    let Some(req) = read_request(&mut s) else {
        return;
    };
    seen.lock().unwrap().push(req.clone());
    let Some(r) = route(&req) else {
        let mut sink = [0u8; 65536];
        let _ = s.set_read_timeout(None);
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        return;
    };
    let mut head = format!("HTTP/1.1 {} Fake\r\n", r.status);
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(r.body.as_bytes());
    let _ = s.flush();
}

fn read_request(s: &mut TcpStream) -> Option<Request> {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let expects_continue = headers
        .iter()
        .any(|(k, v)| k == "expect" && v.eq_ignore_ascii_case("100-continue"));
    let mut body = buf[head_end..].to_vec();
    while !expects_continue && body.len() < len {
        match s.read(&mut chunk) {
            Ok(n) if n > 0 => body.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}
