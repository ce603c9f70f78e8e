//! For the tests that fetch over HTTP (`bna` fetch tests, the app's Get data): a tiny HTTP/1.1
//! server on 127.0.0.1 serving real files from `data/`, and builders for the answers of the real
//! sources.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bna_fetch::Sources;

/// A file of the bundled data folder, by its path inside `data/`.
pub fn data(p: &str) -> PathBuf {
    crate::data_dir().join(p)
}

// ---- a tiny HTTP/1.1 server: one request per connection, Range, request log, faults ----

#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub body: String,
}

#[derive(Default)]
pub struct Routes {
    pub files: HashMap<String, Vec<u8>>,
    /// path → body bytes after which the next full (200) answer for it is cut off.
    pub cut_once: HashMap<String, usize>,
    /// Answer for POSTs to this path (the Overpass endpoint).
    pub post: Option<(String, Vec<u8>)>,
    /// path → pause after each 4 KiB of its body: a slow transfer, to watch and cancel.
    pub trickle: HashMap<String, Duration>,
    /// path → a misbehaving answer, given to every request for it (GET, HEAD or POST).
    pub faults: HashMap<String, Fault>,
}

/// How a server can misbehave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Headers at once, then `bytes` of the body every `every`.
    Trickle { bytes: usize, every: Duration },
    /// Headers and the first `after` bytes of the body, then silence, the connection open.
    StallAfter(usize),
    /// Reads the request and never answers, the connection open.
    NeverAnswer,
    /// Announces the whole length but sends `short` bytes fewer, then closes.
    ShortBody { short: usize },
    /// No Content-Length: the first `bytes` bytes, then the connection closes.
    NoLength { bytes: usize },
    /// `302 Found` to this URL.
    Redirect(String),
    /// `200 OK` with this body (with its true length) instead of the file.
    Body(Vec<u8>),
    /// This status (403, 429, 500, 503 …) with an empty body, and a `Retry-After: <seconds>`
    /// header when given.
    Status { code: u16, retry_after: Option<u64> },
}

/// How long a held connection (a stall, a silence) stays open at most.
const HOLD: Duration = Duration::from_secs(30);

pub struct Server {
    port: u16,
    host: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    routes: Arc<Mutex<Routes>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(routes: Routes) -> Self {
        Self::start_on("127.0.0.1", routes)
    }

    /// A server on another loopback address (127.0.0.2 …), e.g. as a redirect target.
    pub fn start_on(host: &str, routes: Routes) -> Self {
        let listener = TcpListener::bind((host, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(Mutex::new(routes));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, r, s) = (hits.clone(), routes.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = conn {
                    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
                    let _ = serve(c, &h, &r);
                }
            }
        });
        Self {
            port,
            host: host.to_owned(),
            hits,
            routes,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.port)
    }

    /// `path` misbehaves from now on.
    pub fn set_fault(&self, path: &str, fault: Fault) {
        self.routes
            .lock()
            .unwrap()
            .faults
            .insert(path.to_owned(), fault);
    }

    /// The server behaves from now on.
    pub fn clear_faults(&self) {
        self.routes.lock().unwrap().faults.clear();
    }

    /// Requests for `path` so far.
    pub fn hits_on(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| h.path == path).count()
    }

    pub fn sources(&self) -> Sources {
        Sources {
            tiger: self.url("/tiger"),
            lodes: self.url("/lodes"),
            overpass: self.url("/api/interpreter"),
        }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag and ends.
        let _ = TcpStream::connect((self.host.as_str(), self.port));
    }
}

fn serve(mut c: TcpStream, hits: &Mutex<Vec<Hit>>, routes: &Mutex<Routes>) -> std::io::Result<()> {
    let mut r = BufReader::new(c.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut body = vec![
        0u8;
        headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap())
    ];
    r.read_exact(&mut body)?;
    let range = headers.get("range").cloned();
    hits.lock().unwrap().push(Hit {
        method: method.clone(),
        path: path.clone(),
        range: range.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut routes = routes.lock().unwrap();
    if let Some(fault) = routes.faults.get(&path).cloned() {
        let content = if method == "POST" {
            routes.post.as_ref().map(|(_, b)| b.clone())
        } else {
            routes.files.get(&path).cloned()
        };
        drop(routes);
        return serve_fault(c, fault, content.unwrap_or_default(), &method);
    }
    let content = if method == "POST" {
        routes
            .post
            .as_ref()
            .filter(|(p, _)| *p == path)
            .map(|(_, b)| b.clone())
    } else {
        routes.files.get(&path).cloned()
    };
    let Some(content) = content else {
        return c.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    };
    let len = content.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .map(|s| s.parse::<usize>().unwrap());
    let (status, from) = match start {
        Some(s) => (
            format!(
                "206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}",
                len - 1
            ),
            s,
        ),
        None => ("200 OK".to_owned(), 0),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
        len - from
    );
    c.write_all(head.as_bytes())?;
    if method == "HEAD" {
        return Ok(());
    }
    let mut end = len;
    if start.is_none() {
        if let Some(cut) = routes.cut_once.remove(&path) {
            end = cut;
        }
    }
    let pause = routes.trickle.get(&path).copied();
    drop(routes);
    match pause {
        Some(p) => {
            for chunk in content[from..end].chunks(4096) {
                c.write_all(chunk)?;
                c.flush()?;
                std::thread::sleep(p);
            }
        }
        None => c.write_all(&content[from..end])?,
    }
    c.flush()?;
    // Closing here, before the announced length, is the interrupted transfer.
    c.shutdown(std::net::Shutdown::Both)
}

/// A misbehaving answer. Held connections get a thread of their own, so that the server
/// keeps answering the retries meanwhile.
fn serve_fault(
    mut c: TcpStream,
    fault: Fault,
    content: Vec<u8>,
    method: &str,
) -> std::io::Result<()> {
    let head = |len: Option<usize>| {
        let len = len.map_or(String::new(), |l| format!("Content-Length: {l}\r\n"));
        format!("HTTP/1.1 200 OK\r\n{len}Connection: close\r\n\r\n")
    };
    let body = method != "HEAD";
    match fault {
        Fault::Trickle { bytes, every } => {
            c.write_all(head(Some(content.len())).as_bytes())?;
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                for chunk in content.chunks(bytes.max(1)) {
                    if !body || started.elapsed() > HOLD || c.write_all(chunk).is_err() {
                        break;
                    }
                    std::thread::sleep(every);
                }
            });
        }
        Fault::StallAfter(after) => {
            c.write_all(head(Some(content.len())).as_bytes())?;
            if body {
                c.write_all(&content[..after.min(content.len())])?;
            }
            c.flush()?;
            hold(c);
        }
        Fault::NeverAnswer => hold(c),
        Fault::ShortBody { short } => {
            c.write_all(head(Some(content.len())).as_bytes())?;
            if body {
                c.write_all(&content[..content.len().saturating_sub(short)])?;
            }
            c.flush()?;
            c.shutdown(std::net::Shutdown::Both)?;
        }
        Fault::NoLength { bytes } => {
            c.write_all(head(None).as_bytes())?;
            if body {
                c.write_all(&content[..bytes.min(content.len())])?;
            }
            c.flush()?;
            c.shutdown(std::net::Shutdown::Both)?;
        }
        Fault::Redirect(to) => {
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            c.write_all(answer.as_bytes())?;
            c.flush()?;
            c.shutdown(std::net::Shutdown::Both)?;
        }
        Fault::Status { code, retry_after } => {
            let wait = retry_after.map_or(String::new(), |s| format!("Retry-After: {s}\r\n"));
            let answer = format!(
                "HTTP/1.1 {code} Status {code}\r\n{wait}Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            c.write_all(answer.as_bytes())?;
            c.flush()?;
            c.shutdown(std::net::Shutdown::Both)?;
        }
        Fault::Body(b) => {
            c.write_all(head(Some(b.len())).as_bytes())?;
            if body {
                c.write_all(&b)?;
            }
            c.flush()?;
            c.shutdown(std::net::Shutdown::Both)?;
        }
    }
    Ok(())
}

/// Keeps a connection open and silent until the client gives up (or `HOLD` passes).
fn hold(c: TcpStream) {
    std::thread::spawn(move || {
        let mut c = c;
        c.set_read_timeout(Some(HOLD)).ok();
        let mut sink = [0u8; 1024];
        while matches!(c.read(&mut sink), Ok(n) if n > 0) {}
    });
}

// ---- real files, at the paths the real servers use ----

pub const BLOCKS_PATH: &str = "/tiger/TABBLOCK20/tl_2020_11_tabblock20.zip";
pub const LODES_PATH: &str = "/lodes/dc/wac/dc_wac_S000_JT00_2021.csv.gz";

pub fn dc_routes(overpass_answer: Vec<u8>) -> Routes {
    let mut files = HashMap::new();
    // The bundled TIGER 2021 file stands in for the 2020 one: same zip/shapefile layout.
    files.insert(
        BLOCKS_PATH.to_owned(),
        std::fs::read(data("us-dc/tl_2021_11_tabblock20.zip")).unwrap(),
    );
    files.insert(
        LODES_PATH.to_owned(),
        std::fs::read(data("us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz")).unwrap(),
    );
    Routes {
        files,
        cut_once: HashMap::new(),
        post: Some(("/api/interpreter".to_owned(), overpass_answer)),
        trickle: HashMap::new(),
        faults: HashMap::new(),
    }
}

/// The DC extract as OSM XML, as the Overpass API answers: written from the real PBF.
pub fn pbf_to_osm_xml(pbf: &Path) -> Vec<u8> {
    use osmpbf::{Element, ElementReader};
    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    fn tags<'a>(out: &mut String, t: impl Iterator<Item = (&'a str, &'a str)>) {
        for (k, v) in t {
            out.push_str(&format!("  <tag k=\"{}\" v=\"{}\"/>\n", esc(k), esc(v)));
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm version=\"0.6\" generator=\"Overpass API\">\n",
    );
    ElementReader::from_path(pbf)
        .unwrap()
        .for_each(|el| match el {
            Element::Node(n) => {
                out.push_str(&format!(
                    "<node id=\"{}\" lat=\"{}\" lon=\"{}\">\n",
                    n.id(),
                    n.lat(),
                    n.lon()
                ));
                tags(&mut out, n.tags());
                out.push_str("</node>\n");
            }
            Element::DenseNode(n) => {
                let t: Vec<_> = n.tags().collect();
                if t.is_empty() {
                    out.push_str(&format!(
                        "<node id=\"{}\" lat=\"{}\" lon=\"{}\"/>\n",
                        n.id(),
                        n.lat(),
                        n.lon()
                    ));
                } else {
                    out.push_str(&format!(
                        "<node id=\"{}\" lat=\"{}\" lon=\"{}\">\n",
                        n.id(),
                        n.lat(),
                        n.lon()
                    ));
                    tags(&mut out, t.into_iter());
                    out.push_str("</node>\n");
                }
            }
            Element::Way(w) => {
                out.push_str(&format!("<way id=\"{}\">\n", w.id()));
                for r in w.refs() {
                    out.push_str(&format!("  <nd ref=\"{r}\"/>\n"));
                }
                tags(&mut out, w.tags());
                out.push_str("</way>\n");
            }
            Element::Relation(r) => {
                out.push_str(&format!("<relation id=\"{}\">\n", r.id()));
                for m in r.members() {
                    let ty = match m.member_type {
                        osmpbf::RelMemberType::Node => "node",
                        osmpbf::RelMemberType::Way => "way",
                        osmpbf::RelMemberType::Relation => "relation",
                    };
                    out.push_str(&format!(
                        "  <member type=\"{ty}\" ref=\"{}\" role=\"{}\"/>\n",
                        m.member_id,
                        esc(m.role().unwrap_or(""))
                    ));
                }
                tags(&mut out, r.tags());
                out.push_str("</relation>\n");
            }
        })
        .unwrap();
    out.push_str("</osm>\n");
    out.into_bytes()
}

/// Fields (name, value) and geometry of one record.
pub type TigerRow<'a> = (&'a [(&'a str, &'a str)], geo::MultiPolygon<f64>);

/// A TIGER-layout place (or county subdivision) zip, with the real field names and real
/// geometry: Burlington's city boundary (data/us-burlington-vt).
pub fn tiger_zip(dir: &Path, stem: &str, rows: &[TigerRow]) -> Vec<u8> {
    use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
    let names: Vec<&str> = rows[0].0.iter().map(|(k, _)| *k).collect();
    let mut b = TableWriterBuilder::new();
    for n in &names {
        b = b.add_character_field(FieldName::try_from(*n).unwrap(), 100);
    }
    let shp = dir.join(format!("{stem}.shp"));
    {
        let mut w = shapefile::Writer::from_path(&shp, b).unwrap();
        for (fields, geom) in rows {
            let mut r = Record::default();
            for (k, v) in *fields {
                r.insert(
                    (*k).to_owned(),
                    FieldValue::Character(Some((*v).to_owned())),
                );
            }
            w.write_shape_and_record(&shapefile::Polygon::from(geom.clone()), &r)
                .unwrap();
        }
    }
    let zip_path = dir.join(format!("{stem}.zip"));
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for ext in ["shp", "shx", "dbf"] {
        z.start_file(
            format!("{stem}.{ext}"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(&std::fs::read(shp.with_extension(ext)).unwrap())
            .unwrap();
    }
    z.finish().unwrap();
    std::fs::read(zip_path).unwrap()
}
