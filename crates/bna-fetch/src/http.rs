//! One HTTP exchange that cannot hang and cannot be walked off the allowed schemes: connect
//! and idle timeouts, a bound on the whole attempt, a floor on the transfer rate, and
//! redirects followed here (not by the client) so that every hop passes `check_url`.

use std::time::{Duration, Instant};

use super::{redact, FetchError};
use bna_engine::params;

/// Environment variable, for tests only: every timeout of a download becomes this many
/// milliseconds (the attempt bound four times that), so that a test can show a stalled server
/// fails in seconds.
pub const TEST_TIMEOUT_ENV: &str = "BNA_TEST_FETCH_TIMEOUT_MS";

/// How long a download may wait. The defaults suit real servers on a slow line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Name lookup plus TCP and TLS handshakes.
    pub connect: Duration,
    /// Longest silence of a file server, and the window over which the rate is measured.
    pub idle: Duration,
    /// Longest silence of the Overpass API, which computes the whole answer (up to its own
    /// `[timeout:]`) before it sends the elements.
    pub query: Duration,
    /// Slowest average rate accepted over a window: a trickle is a stall.
    pub min_bytes_per_s: u64,
    /// Bound on one request, redirects included; a longer download resumes in the next one.
    pub attempt: Duration,
    /// Pause before the n-th retry: n times this.
    pub retry_backoff: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            query: Duration::from_secs(params::OVERPASS_TIMEOUT_S + 60),
            min_bytes_per_s: 1024,
            attempt: Duration::from_secs(3600),
            retry_backoff: Duration::from_millis(params::FETCH_RETRY_BACKOFF_MS),
        }
    }
}

impl Timeouts {
    /// The defaults, or every bound shortened by `BNA_TEST_FETCH_TIMEOUT_MS` (tests only).
    pub fn from_env() -> Self {
        let ms = std::env::var(TEST_TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0);
        match ms {
            Some(ms) => Self::all(Duration::from_millis(ms)),
            None => Self::default(),
        }
    }

    /// Every wait `t` long, the attempt `4 t`: for tests.
    pub fn all(t: Duration) -> Self {
        Self {
            connect: t,
            idle: t,
            query: t,
            min_bytes_per_s: 1024,
            attempt: 4 * t,
            retry_backoff: t / 10,
        }
    }

    fn silence(&self, method: &Method) -> Duration {
        match method {
            Method::Post(_) => self.query,
            Method::Get { .. } | Method::Head => self.idle,
        }
    }
}

/// Why a transfer was given up as stalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stall {
    NoConnection(Duration),
    Silent(Duration),
    Slow { bytes_per_s: u64, window: Duration },
    TooLong(Duration),
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = |d: &Duration| humantime::format_duration(*d).to_string();
        match self {
            Stall::NoConnection(t) => write!(f, "no connection within {}", d(t)),
            Stall::Silent(t) => write!(f, "no data for {}", d(t)),
            Stall::Slow {
                bytes_per_s,
                window,
            } => write!(f, "under {bytes_per_s} bytes/s for {}", d(window)),
            Stall::TooLong(t) => write!(f, "not finished within {}", d(t)),
        }
    }
}

/// What went wrong with a request or its body.
#[derive(Debug)]
pub enum Failure {
    /// A hop that must not be followed (a redirect to plain http, a bad Location).
    Refused(FetchError),
    Stalled(Stall),
    /// Refused connection, reset, early close: worth another try.
    Broken(String),
}

pub enum Method<'a> {
    /// A GET, resuming from byte `from` when it is not 0.
    Get {
        from: u64,
    },
    Head,
    /// A form POST (the Overpass query).
    Post(&'a [(String, String)]),
}

/// A response with headers read, and the URL that gave it (after redirects).
pub struct Answer {
    pub response: ureq::http::Response<ureq::Body>,
    pub url: String,
    started: Instant,
    timeouts: Timeouts,
    silence: Duration,
}

const MAX_REDIRECTS: usize = 10;

/// Sends `method` to `url`, following up to 10 redirects, each checked like the first URL.
pub fn call(url: &str, method: Method, timeouts: &Timeouts) -> Result<Answer, Failure> {
    let started = Instant::now();
    let silence = timeouts.silence(&method);
    let mut current = url.to_owned();
    let mut method = method;
    for _ in 0..=MAX_REDIRECTS {
        check_hop(url, &current)?;
        let left = timeouts
            .attempt
            .checked_sub(started.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or(Failure::Stalled(Stall::TooLong(timeouts.attempt)))?;
        let agent = agent(timeouts, silence, left);
        let sent = match &method {
            Method::Get { from: 0 } => agent.get(&current).call(),
            Method::Get { from } => agent
                .get(&current)
                .header("Range", format!("bytes={from}-"))
                .call(),
            Method::Head => agent.head(&current).call(),
            Method::Post(form) => agent
                .post(&current)
                .send_form(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        };
        let response = sent.map_err(|e| failure(e, timeouts, silence))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (status, location) {
            (301 | 302 | 303 | 307 | 308, Some(to)) => {
                current = resolve(&current, &to).ok_or_else(|| {
                    Failure::Refused(FetchError::BadRedirect {
                        url: url.to_owned(),
                        to: to.clone(),
                        reason: "the Location is not a URL".into(),
                    })
                })?;
                // A 303 (and, as browsers do, a 301/302 after a POST) asks for a GET.
                if matches!(status, 301..=303) && matches!(method, Method::Post(_)) {
                    method = Method::Get { from: 0 };
                }
            }
            _ => {
                return Ok(Answer {
                    response,
                    url: current,
                    started,
                    timeouts: *timeouts,
                    silence,
                })
            }
        }
    }
    Err(Failure::Refused(FetchError::BadRedirect {
        url: url.to_owned(),
        to: current,
        reason: format!("more than {MAX_REDIRECTS} redirects"),
    }))
}

fn check_hop(first: &str, hop: &str) -> Result<(), Failure> {
    let is_https = |u: &str| {
        u.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    };
    // Loopback http is for tests serving loopback URLs, never a way out of TLS.
    if is_https(first) && !is_https(hop) {
        return Err(Failure::Refused(FetchError::BadRedirect {
            url: first.to_owned(),
            to: hop.to_owned(),
            reason: "a redirect from https to anything else is never followed".into(),
        }));
    }
    match super::download::check_url(hop) {
        Ok(()) => Ok(()),
        Err(e) if first == hop => Err(Failure::Refused(e)),
        Err(e) => Err(Failure::Refused(FetchError::BadRedirect {
            url: first.to_owned(),
            to: hop.to_owned(),
            reason: match e {
                FetchError::BadUrl { reason, .. } => reason,
                other => other.to_string(),
            },
        })),
    }
}

fn agent(t: &Timeouts, silence: Duration, left: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        // Redirects are followed by `call`, which checks every hop.
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_resolve(Some(t.connect))
        .timeout_connect(Some(t.connect))
        .timeout_per_read(Some(silence))
        .timeout_per_write(Some(t.idle))
        .timeout_global(Some(left))
        .user_agent(concat!("bna/", env!("CARGO_PKG_VERSION"), " (bna fetch)"))
        .build()
        .into()
}

/// `to` (a Location header) made absolute against `base`.
fn resolve(base: &str, to: &str) -> Option<String> {
    let to = to.trim();
    if to.contains("://") {
        return to.parse::<ureq::http::Uri>().ok().map(|_| to.to_owned());
    }
    let uri: ureq::http::Uri = base.parse().ok()?;
    let origin = format!("{}://{}", uri.scheme_str()?, uri.authority()?);
    if let Some(rest) = to.strip_prefix("//") {
        return Some(format!("{}://{rest}", uri.scheme_str()?));
    }
    if to.starts_with('/') {
        return Some(format!("{origin}{to}"));
    }
    let dir = uri.path().rsplit_once('/').map_or("", |(d, _)| d);
    Some(format!("{origin}{dir}/{to}"))
}

fn failure(e: ureq::Error, t: &Timeouts, silence: Duration) -> Failure {
    use ureq::Timeout as T;
    match e {
        ureq::Error::Timeout(T::Resolve | T::Connect) => {
            Failure::Stalled(Stall::NoConnection(t.connect))
        }
        ureq::Error::Timeout(T::Global) => Failure::Stalled(Stall::TooLong(t.attempt)),
        ureq::Error::Timeout(_) => Failure::Stalled(Stall::Silent(silence)),
        other => Failure::Broken(redact::in_text(&other.to_string())),
    }
}

impl Answer {
    /// Watches the body as it arrives: call `arrived` after every read.
    pub fn pace(&self) -> Pace {
        Pace {
            started: self.started,
            window_start: Instant::now(),
            window_bytes: 0,
            timeouts: self.timeouts,
            window: self.silence,
        }
    }
}

/// The rate floor and the attempt bound, checked as the body arrives; the client's per-read
/// timeout covers a server that sends nothing at all.
pub struct Pace {
    started: Instant,
    window_start: Instant,
    window_bytes: u64,
    timeouts: Timeouts,
    window: Duration,
}

impl Pace {
    pub fn arrived(&mut self, n: usize) -> Result<(), Stall> {
        self.window_bytes += n as u64;
        if self.started.elapsed() > self.timeouts.attempt {
            return Err(Stall::TooLong(self.timeouts.attempt));
        }
        let spent = self.window_start.elapsed();
        if spent >= self.window {
            let floor = self.timeouts.min_bytes_per_s as f64 * spent.as_secs_f64();
            if (self.window_bytes as f64) < floor {
                return Err(Stall::Slow {
                    bytes_per_s: self.timeouts.min_bytes_per_s,
                    window: self.window,
                });
            }
            self.window_start = Instant::now();
            self.window_bytes = 0;
        }
        Ok(())
    }

    /// A failed read of the body: a timeout is a stall, anything else a broken transfer.
    pub fn read_failed(&self, e: std::io::Error) -> Failure {
        let e = ureq::Error::from(e);
        failure(e, &self.timeouts, self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_request() {
        let cases = [
            ("https://a/x/y.zip", "https://b/z.zip", "https://b/z.zip"),
            ("https://a/x/y.zip", "/z.zip", "https://a/z.zip"),
            ("https://a:8443/x/y.zip", "z.zip", "https://a:8443/x/z.zip"),
            (
                "http://127.0.0.1:9/x",
                "//127.0.0.2:9/y",
                "http://127.0.0.2:9/y",
            ),
        ];
        for (base, to, want) in cases {
            assert_eq!(resolve(base, to).as_deref(), Some(want), "{base} + {to}");
        }
    }

    #[test]
    fn a_hop_to_plain_http_is_refused_after_a_redirect() {
        let cases = [
            ("http://127.0.0.1:1/a", "http://127.0.0.1:1/b", true),
            ("http://127.0.0.1:1/a", "https://example.org/b", true),
            ("http://127.0.0.1:1/a", "http://127.0.0.2:1/b", false),
            ("https://example.org/a", "http://example.org/b", false),
            ("https://example.org/a", "http://127.0.0.1:1/b", false),
            (
                "https://example.org/a",
                "https://mirror.example.org/b",
                true,
            ),
            ("https://example.org/a", "file:///etc/passwd", false),
        ];
        for (first, hop, ok) in cases {
            let got = check_hop(first, hop);
            assert_eq!(got.is_ok(), ok, "{first} → {hop}");
            if let Err(Failure::Refused(e)) = got {
                assert!(matches!(e, FetchError::BadRedirect { .. }), "{e}");
                assert!(e.is_bad_input());
            }
        }
    }

    #[test]
    fn a_trickle_is_a_stall_and_a_steady_flow_is_not() {
        let t = Timeouts::all(Duration::from_millis(50));
        let now = Instant::now();
        let mut slow = Pace {
            started: now,
            window_start: now,
            window_bytes: 0,
            timeouts: t,
            window: t.idle,
        };
        std::thread::sleep(Duration::from_millis(60));
        assert!(matches!(slow.arrived(1), Err(Stall::Slow { .. })));

        let mut fast = Pace {
            window_bytes: 0,
            ..slow
        };
        fast.window_start = Instant::now();
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(fast.arrived(64 << 10), Ok(()));

        let mut long = Pace {
            started: Instant::now() - t.attempt - Duration::from_millis(1),
            ..fast
        };
        assert!(matches!(long.arrived(64 << 10), Err(Stall::TooLong(_))));
    }

    #[test]
    fn stalls_read_as_words() {
        let cases = [
            (Stall::Silent(Duration::from_secs(60)), "no data for 1m"),
            (
                Stall::Slow {
                    bytes_per_s: 1024,
                    window: Duration::from_secs(60),
                },
                "under 1024 bytes/s for 1m",
            ),
            (
                Stall::TooLong(Duration::from_secs(3600)),
                "not finished within 1h",
            ),
            (
                Stall::NoConnection(Duration::from_secs(30)),
                "no connection within 30s",
            ),
        ];
        for (stall, words) in cases {
            assert_eq!(stall.to_string(), words);
        }
    }
}
