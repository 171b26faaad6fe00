//! HTTP(S) downloads of pinned archives (ureq): into a `.partial` file that a later run resumes
//! with a `Range` request, with bounded waits and a progress line for big files. Whether the
//! bytes are the pinned ones is the caller's check (see `fetch`).

use crate::progress::Progress;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// Files at least this big get progress lines.
const BIG: u64 = 4 << 20;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one read may wait for bytes (a stalled server fails instead of hanging the build).
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTP client for archive downloads. It goes through the proxy the environment names
/// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`), except to this machine's loopback
/// addresses, which no proxy can reach.
pub(super) struct Http {
    agent: ureq::Agent,
    direct: ureq::Agent,
}

impl Http {
    /// A client that gives up on a server silent for `read_timeout`.
    pub fn new(read_timeout: Duration) -> Http {
        let config = || {
            ureq::Agent::config_builder()
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .timeout_recv_response(Some(read_timeout))
                .timeout_per_read(Some(read_timeout))
                .user_agent(concat!("ort-compact-build/", env!("CARGO_PKG_VERSION")))
        };
        Http {
            agent: config().build().new_agent(),
            direct: config().proxy(None).build().new_agent(),
        }
    }

    /// Downloads `url` into `partial`, continuing after the bytes it already holds when the
    /// server honours `Range` (else from the start). `Err` says why, for the caller's report;
    /// what arrived stays in `partial` for the next attempt.
    pub fn fetch(&self, url: &str, partial: &Path, progress: &Progress) -> Result<(), String> {
        let have = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
        let agent = if loopback(url) {
            &self.direct
        } else {
            &self.agent
        };
        let mut request = agent.get(url);
        if have > 0 {
            request = request.header("Range", format!("bytes={have}-"));
        }
        let response = match request.call() {
            Ok(r) => r,
            // Nothing left to send: the partial file is whole (or wrong, which the hash says).
            Err(ureq::Error::StatusCode(416)) if have > 0 => return Ok(()),
            Err(ureq::Error::StatusCode(code)) => return Err(format!("HTTP status {code}")),
            Err(e) => return Err(e.to_string()),
        };
        let resumed = response.status().as_u16() == 206;
        if resumed && range_start(response.headers()) != Some(have) {
            return Err("the server answered the resume request with another range".into());
        }
        let start = if resumed { have } else { 0 };
        let total = header_u64(response.headers(), "content-length").map(|n| n + start);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(partial)
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        let meter = Meter::new(url, start, total, progress);
        let mut body = response.into_body().into_reader();
        copy(&mut body, &mut file, meter).map_err(|(done, e)| {
            let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
            format!("the transfer broke after {done}{of} bytes ({e}); the next run resumes it")
        })
    }
}

/// Copies `from` into `to`; on failure (bytes so far, why).
fn copy(from: &mut impl Read, to: &mut impl Write, mut meter: Meter) -> Result<(), (u64, String)> {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((meter.done, e.to_string())),
        };
        to.write_all(&buf[..n])
            .map_err(|e| (meter.done, e.to_string()))?;
        meter.add(n as u64);
    }
    to.flush().map_err(|e| (meter.done, e.to_string()))?;
    match meter.total {
        Some(t) if meter.done < t => Err((meter.done, "the connection closed early".into())),
        _ => Ok(()),
    }
}

/// Progress of one big download: a line when it starts and at each quarter.
struct Meter<'p> {
    done: u64,
    total: Option<u64>,
    quarter: u64,
    progress: Option<&'p Progress>,
}

impl<'p> Meter<'p> {
    fn new(url: &str, start: u64, total: Option<u64>, progress: &'p Progress) -> Meter<'p> {
        let big = total.filter(|t| *t >= BIG);
        if let Some(t) = big {
            let from = if start > 0 {
                format!(", resuming at {:.1} MB", mb(start))
            } else {
                String::new()
            };
            progress.say(format!("downloading {url} ({:.1} MB{from})", mb(t)));
        }
        Meter {
            done: start,
            total,
            quarter: start * 4 / total.unwrap_or(u64::MAX).max(1),
            progress: big.map(|_| progress),
        }
    }

    fn add(&mut self, n: u64) {
        self.done += n;
        let (Some(p), Some(t)) = (self.progress, self.total) else {
            return;
        };
        let quarter = self.done * 4 / t.max(1);
        if quarter > self.quarter && quarter < 4 {
            p.say(format!("  … {}% of {:.1} MB", quarter * 25, mb(t)));
        }
        self.quarter = quarter;
    }
}

/// Whether `url` names this machine (`localhost`, `127.x.x.x`, `[::1]`).
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn header_u64(headers: &ureq::http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The first byte of a `Content-Range: bytes FIRST-LAST/SIZE` header.
fn range_start(headers: &ureq::http::HeaderMap) -> Option<u64> {
    let value = headers.get("content-range")?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::loopback;

    #[test]
    fn loopback_urls_are_told_apart() {
        for url in [
            "http://127.0.0.1:8080/debian",
            "http://localhost/x",
            "http://[::1]:80/",
            "https://u@127.1.2.3/",
        ] {
            assert!(loopback(url), "{url}");
        }
        for url in [
            "https://mirror.example/debian",
            "http://10.0.0.1/",
            "http://[fe80::1]/",
        ] {
            assert!(!loopback(url), "{url}");
        }
    }
}
