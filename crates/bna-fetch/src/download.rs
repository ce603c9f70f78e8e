//! One file from the network into the shared cache: resumable, size- and checksum-verified,
//! never fetched twice.
//!
//! A download goes to `<file>.part` and is renamed when complete; its SHA-256 and size are
//! then written to the file's manifest (`<file>.manifest.json`). A cached file is checked
//! against its manifest before use, so a truncated or altered file is noticed (and fetched
//! again when online). Nothing enters the cache before its content is verified (`verify`):
//! a login page, an error page or a file cut short is deleted, never adopted, and a cached
//! file that fails the check is fetched again.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::http::{self, Failure, Method, Stall, Timeouts};
use super::verify::{self, Content, Rejection};
use super::{redact, FetchError, FetchObserver, Origin};
use bna_engine::params;

/// A stalled transfer resumes only when that attempt had brought at least this much: a server
/// that sends nothing, or a trickle, will not do better on the next try.
const STALL_RESUME_MIN_BYTES: u64 = 1 << 20;

/// What to fetch and where it lives in the cache.
#[derive(Debug, Clone)]
pub struct Entry {
    /// For messages: "TIGER blocks for state 11", "OSM extract (Overpass)".
    pub what: String,
    pub url: String,
    /// A form body to POST (Overpass); `None` for a GET. POSTed answers cannot be resumed.
    pub form: Option<Vec<(String, String)>>,
    /// Path inside the cache.
    pub rel: PathBuf,
    pub max_bytes: u64,
    /// What the file must be to enter the cache.
    pub content: Content,
}

/// How downloads behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Use only cached files; never touch the network.
    pub offline: bool,
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Where the file came from, credentials redacted.
    pub url: String,
    pub size: u64,
    pub sha256: String,
    /// RFC 3339, when the file was fetched (or adopted from a file put in the cache by hand).
    pub fetched: String,
}

pub fn manifest_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".manifest.json");
    PathBuf::from(s)
}

fn part_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut f = File::open(path).map_err(|e| FetchError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| FetchError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// State of a file in the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Cached {
    Missing,
    Valid(Manifest),
    /// Present but not what was downloaded: the reason says how it differs.
    Corrupt(String),
}

/// Checks a cached file against its manifest and its content. A file without a manifest was
/// put there by hand (as the offline message asks): it is adopted if its content passes, its
/// checksum recorded from now on.
pub fn check_cached(file: &Path, entry: &Entry) -> Result<Cached, FetchError> {
    let meta = match std::fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cached::Missing),
        Err(e) => return Err(FetchError::io(file, e)),
    };
    let mpath = manifest_path(file);
    let manifest: Option<Manifest> = match std::fs::read(&mpath) {
        Ok(b) => serde_json::from_slice(&b).ok(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(FetchError::io(&mpath, e)),
    };
    if let Some(m) = &manifest {
        if meta.len() != m.size {
            return Ok(Cached::Corrupt(format!(
                "{} bytes instead of the {} downloaded",
                meta.len(),
                m.size
            )));
        }
    }
    let sha = sha256_file(file)?;
    if let Some(m) = &manifest {
        if sha != m.sha256 {
            return Ok(Cached::Corrupt(format!(
                "SHA-256 {sha} differs from the {} recorded at download",
                m.sha256
            )));
        }
    }
    // Also for files whose manifest matches: an older bna cached without this check.
    match verify::verify(file, entry.content) {
        Ok(()) => {}
        Err(Rejection::Io(e)) => return Err(FetchError::io(file, e)),
        Err(r) => return Ok(Cached::Corrupt(r.to_string())),
    }
    match manifest {
        Some(m) => Ok(Cached::Valid(m)),
        None => {
            let m = Manifest {
                url: redact::url(&entry.url),
                size: meta.len(),
                sha256: sha,
                fetched: now_rfc3339(),
            };
            write_manifest(file, &m)?;
            Ok(Cached::Valid(m))
        }
    }
}

fn write_manifest(file: &Path, m: &Manifest) -> Result<(), FetchError> {
    let p = manifest_path(file);
    let json = serde_json::to_vec_pretty(m).expect("manifest serialises");
    std::fs::write(&p, json).map_err(|e| FetchError::io(&p, e))
}

/// Real sources are fetched over HTTPS only. Plain http is accepted for loopback hosts
/// alone (127.0.0.1, localhost, ::1), so that tests can serve real files from a local server
/// without certificates; nothing else on the network is trusted without TLS.
pub fn check_url(url: &str) -> Result<(), FetchError> {
    let uri: ureq::http::Uri = url.parse().map_err(|_| FetchError::BadUrl {
        url: url.to_owned(),
        reason: "not a valid URL".into(),
    })?;
    let host = uri.host().unwrap_or("");
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(FetchError::BadUrl {
            url: url.to_owned(),
            reason: "plain http is allowed only for 127.0.0.1/localhost; use https".into(),
        }),
        _ => Err(FetchError::BadUrl {
            url: url.to_owned(),
            reason: "expected an https:// URL".into(),
        }),
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// Does `url` exist? A HEAD request: 2xx yes, 404 no, anything else an error.
pub fn exists(url: &str, timeouts: &Timeouts) -> Result<bool, FetchError> {
    check_url(url)?;
    let answer = http::call(url, Method::Head, timeouts).map_err(|f| match f {
        Failure::Refused(e) => e,
        Failure::Stalled(s) => FetchError::Network {
            url: url.to_owned(),
            reason: s.to_string(),
        },
        Failure::Broken(reason) => FetchError::Network {
            url: url.to_owned(),
            reason,
        },
    })?;
    match answer.response.status().as_u16() {
        200..=299 => Ok(true),
        404 | 410 => Ok(false),
        s => Err(FetchError::Http {
            url: url.to_owned(),
            status: s,
            retry_after: retry_after(&answer.response),
        }),
    }
}

/// The cached file for `entry`, downloading it first when it is missing, damaged or not
/// what it should be.
pub fn fetch(
    cache_root: &Path,
    entry: &Entry,
    opts: &Options,
    obs: &dyn FetchObserver,
) -> Result<PathBuf, FetchError> {
    let file = cache_root.join(&entry.rel);
    match check_cached(&file, entry)? {
        Cached::Valid(_) => {
            obs.finished(&entry.what, &file, Origin::Cache);
            return Ok(file);
        }
        Cached::Corrupt(reason) if opts.offline => {
            return Err(FetchError::Corrupt {
                path: file,
                reason,
                url: entry.url.clone(),
            })
        }
        Cached::Corrupt(reason) => {
            obs.message(&format!(
                "{}: cached file is damaged ({reason}); fetching it again",
                file.display()
            ));
            discard(&file)?;
        }
        Cached::Missing if opts.offline => {
            return Err(FetchError::Offline {
                what: entry.what.clone(),
                path: file,
                url: entry.url.clone(),
            })
        }
        Cached::Missing => {}
    }
    check_url(&entry.url)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| FetchError::io(dir, e))?;
    }
    let part = part_path(&file);
    let size = transfer(entry, &part, &file, opts, obs).map_err(|e| match e {
        FetchError::Network { url, reason } => FetchError::NetworkMissing {
            what: entry.what.clone(),
            url,
            reason,
            path: file.clone(),
        },
        other => other,
    })?;
    if let Err(r) = verify::verify(&part, entry.content) {
        // Not resumable either: the next run asks for the whole file again.
        let _ = std::fs::remove_file(&part);
        return Err(rejected(entry, &file, r));
    }
    std::fs::rename(&part, &file).map_err(|e| FetchError::io(&file, e))?;
    let m = Manifest {
        url: redact::url(&entry.url),
        size,
        sha256: sha256_file(&file)?,
        fetched: now_rfc3339(),
    };
    write_manifest(&file, &m)?;
    obs.finished(&entry.what, &file, Origin::Network);
    Ok(file)
}

/// Removes a cached file and its manifest, so that neither can be taken for the other.
fn discard(file: &Path) -> Result<(), FetchError> {
    for p in [manifest_path(file), file.to_path_buf()] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(FetchError::io(&p, e)),
        }
    }
    Ok(())
}

fn rejected(entry: &Entry, file: &Path, r: Rejection) -> FetchError {
    match r {
        Rejection::OverpassGaveUp(remark) => FetchError::OverpassGaveUp { remark },
        // `fetch_inputs` names the area's box; here only the URL is known.
        Rejection::NoData => FetchError::NoOsmData {
            area: redact::url(&entry.url),
        },
        Rejection::Io(e) => FetchError::io(part_path(file), e),
        Rejection::NotTheFile(reason) => FetchError::NotTheFile {
            what: entry.what.clone(),
            url: entry.url.clone(),
            reason,
            path: file.to_path_buf(),
        },
    }
}

/// Outcome of one request.
enum Attempt {
    Done(u64),
    /// The body stopped early (connection closed, short read): try again, resuming.
    Interrupted(String),
    /// A failure worth retrying from where we are (connection refused, 5xx, 429).
    Retry(FetchError),
    /// Too slow, silent or too long, after this many new bytes.
    Stalled(Stall, u64),
}

/// Brings `part` to the complete file, resuming across interruptions. Returns its size.
fn transfer(
    entry: &Entry,
    part: &Path,
    file: &Path,
    opts: &Options,
    obs: &dyn FetchObserver,
) -> Result<u64, FetchError> {
    let mut last = None;
    for attempt in 1..=params::FETCH_MAX_ATTEMPTS {
        if obs.is_cancelled() {
            return Err(FetchError::Cancelled);
        }
        match one_request(entry, part, &opts.timeouts, obs)? {
            Attempt::Done(n) => return Ok(n),
            Attempt::Interrupted(why) => {
                let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
                obs.message(&format!(
                    "{}: transfer interrupted at {have} bytes ({why}); resuming",
                    entry.what
                ));
                last = Some(FetchError::Network {
                    url: entry.url.clone(),
                    reason: why,
                });
            }
            Attempt::Retry(e) => {
                let asked = match &e {
                    FetchError::Http { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let wait = retry_wait(&opts.timeouts, attempt, asked);
                let Some(wait) = wait.filter(|_| attempt < params::FETCH_MAX_ATTEMPTS) else {
                    // The last attempt, or a server asking for a longer wait than a run
                    // should sit through: the message says to run again later.
                    return Err(e);
                };
                obs.message(&format!("{}: {e}; retrying", entry.what));
                last = Some(e);
                std::thread::sleep(wait);
            }
            Attempt::Stalled(stall, received) => {
                let e = FetchError::Stalled {
                    what: entry.what.clone(),
                    url: entry.url.clone(),
                    reason: stall.to_string(),
                    path: file.to_path_buf(),
                };
                // A POSTed query would start over; a silent or trickling server will not
                // do better on the next try.
                if entry.form.is_some() || received < STALL_RESUME_MIN_BYTES {
                    return Err(e);
                }
                obs.message(&format!("{}: {stall}; resuming", entry.what));
                last = Some(e);
            }
        }
    }
    Err(last.expect("at least one attempt"))
}

/// How long to wait before attempt `attempt + 1` after a busy or failing server: the usual
/// growing backoff, or the server's `Retry-After` when it asks for longer. A Retry-After
/// beyond the idle bound (60 s; a test's shortened bound) is not sat through silently: `None`,
/// give up now and say when to come back.
pub fn retry_wait(t: &Timeouts, attempt: u32, retry_after: Option<u64>) -> Option<Duration> {
    let backoff = t.retry_backoff * attempt;
    match retry_after.map(Duration::from_secs) {
        None => Some(backoff),
        Some(asked) if asked <= t.idle => Some(asked.max(backoff)),
        Some(_) => None,
    }
}

/// `Retry-After` in seconds; the HTTP-date form is ignored (the backoff applies).
fn retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    header_u64(resp, "retry-after")
}

fn header_u64(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<u64> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Start offset of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let range = v.trim().strip_prefix("bytes")?.trim();
    range.split('-').next()?.trim().parse().ok()
}

fn one_request(
    entry: &Entry,
    part: &Path,
    timeouts: &Timeouts,
    obs: &dyn FetchObserver,
) -> Result<Attempt, FetchError> {
    let url = &entry.url;
    // Only a GET can be resumed; a POSTed query is asked again from the start.
    let (have, method) = match &entry.form {
        None => {
            let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
            (have, Method::Get { from: have })
        }
        Some(form) => (0, Method::Post(form)),
    };
    let answer = match http::call(url, method, timeouts) {
        Ok(a) => a,
        Err(Failure::Refused(e)) => return Err(e),
        Err(Failure::Stalled(s)) => return Ok(Attempt::Stalled(s, 0)),
        Err(Failure::Broken(reason)) => {
            return Ok(Attempt::Retry(FetchError::Network {
                url: url.clone(),
                reason,
            }))
        }
    };
    let mut pace = answer.pace();
    let resp = answer.response;
    let status = resp.status().as_u16();
    let (offset, append) = match status {
        206 if have > 0 && content_range_start(&resp) == Some(have) => (have, true),
        200 => (0, false),
        // The server ignored or misread the range: start again from the first byte.
        206 | 416 => {
            std::fs::remove_file(part).map_err(|e| FetchError::io(part, e))?;
            return Ok(Attempt::Interrupted(format!(
                "the server answered the resume request with status {status}"
            )));
        }
        404 | 410 => return Err(FetchError::NotOnServer { url: url.clone() }),
        429 | 500..=599 => {
            return Ok(Attempt::Retry(FetchError::Http {
                url: url.clone(),
                status,
                retry_after: retry_after(&resp),
            }))
        }
        _ => {
            return Err(FetchError::Http {
                url: url.clone(),
                status,
                retry_after: None,
            })
        }
    };
    let length = header_u64(&resp, "content-length");
    let expected = length.map(|l| offset + l);
    if let Some(total) = expected.filter(|t| *t > entry.max_bytes) {
        return Err(FetchError::TooLarge {
            url: url.clone(),
            size: total,
            limit: entry.max_bytes,
        });
    }
    obs.started(&entry.what, &redact::url(url), expected, offset);
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .map_err(|e| FetchError::io(part, e))?;
    let mut body = resp.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = offset;
    loop {
        if obs.is_cancelled() {
            return Err(FetchError::Cancelled);
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Ok(match pace.read_failed(e) {
                    Failure::Stalled(s) => Attempt::Stalled(s, done - offset),
                    Failure::Broken(why) => Attempt::Interrupted(why),
                    Failure::Refused(e) => Attempt::Interrupted(e.to_string()),
                })
            }
        };
        out.write_all(&buf[..n])
            .map_err(|e| FetchError::io(part, e))?;
        done += n as u64;
        if done > entry.max_bytes {
            drop(out);
            let _ = std::fs::remove_file(part);
            return Err(FetchError::TooLarge {
                url: url.clone(),
                size: done,
                limit: entry.max_bytes,
            });
        }
        obs.progress(done);
        if let Err(s) = pace.arrived(n) {
            return Ok(Attempt::Stalled(s, done - offset));
        }
    }
    out.flush().map_err(|e| FetchError::io(part, e))?;
    match expected {
        Some(t) if done < t => Ok(Attempt::Interrupted(format!(
            "connection closed after {done} of {t} bytes"
        ))),
        Some(t) if done > t => {
            drop(out);
            let _ = std::fs::remove_file(part);
            Err(FetchError::Corrupt {
                path: part.to_path_buf(),
                reason: format!("received {done} bytes, more than the announced {t}"),
                url: url.clone(),
            })
        }
        _ => Ok(Attempt::Done(done)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_server_is_given_its_retry_after_up_to_the_idle_bound() {
        let t = Timeouts::default(); // backoff 1 s × attempt (params), idle 60 s
        let b = t.retry_backoff;
        let cases = [
            // (attempt, Retry-After, expected wait)
            (1, None, Some(b)),
            (3, None, Some(b * 3)),
            (1, Some(0), Some(b)),
            (1, Some(30), Some(Duration::from_secs(30).max(b))),
            (2, Some(60), Some(Duration::from_secs(60))),
            (1, Some(61), None),
            (1, Some(86_400), None),
        ];
        for (attempt, asked, want) in cases {
            assert_eq!(retry_wait(&t, attempt, asked), want, "{attempt} {asked:?}");
        }
    }
}
