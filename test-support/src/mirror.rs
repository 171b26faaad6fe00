//! A loopback HTTP/1.1 file server (127.0.0.1 only) standing in for an archive mirror, with
//! fault modes: slow, stalled, truncating, wrong bytes, missing. It serves files by URL path
//! (percent-decoded), honours `Range: bytes=N-`, and logs every request it got.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server misbehaves for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Sends the file in small pieces with pauses (it still arrives whole).
    Slow,
    /// Sends the headers, then nothing for this long.
    Stall(Duration),
    /// Sends this many bytes of the body, then closes the connection; once, then it behaves.
    TruncateOnce(usize),
    /// Sends other bytes of the same length.
    WrongBytes,
    /// Answers 404.
    NotFound,
}

#[derive(Default)]
struct State {
    files: HashMap<String, PathBuf>,
    faults: HashMap<String, Fault>,
    log: Vec<String>,
}

/// A running server; it stops with the test process.
#[derive(Clone)]
pub struct MirrorServer {
    base: String,
    state: Arc<Mutex<State>>,
}

impl MirrorServer {
    /// Starts serving on a free port of 127.0.0.1.
    pub fn start() -> MirrorServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &state);
                });
            }
        });
        MirrorServer { base, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Serves `file` at URL path `path` (`/debian/pool/main/…`).
    pub fn serve(&self, path: &str, file: impl Into<PathBuf>) -> &Self {
        let mut s = self.state.lock().unwrap();
        s.files.insert(path.to_string(), file.into());
        self
    }

    /// Misbehaves for `path` from now on.
    pub fn fault(&self, path: &str, fault: Fault) -> &Self {
        let mut s = self.state.lock().unwrap();
        s.faults.insert(path.to_string(), fault);
        self
    }

    /// Every request so far: `GET /path` plus ` Range: …` when one was asked.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    let raw_path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = decode(&raw_path);
    let (file, fault) = {
        let mut s = state.lock().unwrap();
        let entry = match &range {
            Some(r) => format!("GET {path} Range: {r}"),
            None => format!("GET {path}"),
        };
        s.log.push(entry);
        let fault = s.faults.get(&path).copied();
        if let Some(Fault::TruncateOnce(_)) = fault {
            s.faults.remove(&path);
        }
        (s.files.get(&path).cloned(), fault)
    };
    let mut out = stream;
    let Some(file) = file.filter(|_| fault != Some(Fault::NotFound)) else {
        return respond(&mut out, "404 Not Found", &[], b"not here\n");
    };
    let mut body = std::fs::read(&file)?;
    if fault == Some(Fault::WrongBytes) {
        body.iter_mut().for_each(|b| *b ^= 0x5a);
    }
    let len = body.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let (status, from, extra) = match start {
        Some(n) if n >= len => {
            let cr = format!("Content-Range: bytes */{len}");
            return respond(&mut out, "416 Range Not Satisfiable", &[cr], b"");
        }
        Some(n) => (
            "206 Partial Content",
            n,
            vec![format!("Content-Range: bytes {n}-{}/{len}", len - 1)],
        ),
        None => ("200 OK", 0, vec![]),
    };
    let part = &body[from..];
    write_head(&mut out, status, &extra, part.len())?;
    match fault {
        Some(Fault::Slow) => {
            for chunk in part.chunks(part.len().div_ceil(8).max(1)) {
                out.write_all(chunk)?;
                out.flush()?;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Some(Fault::Stall(d)) => {
            out.flush()?;
            std::thread::sleep(d);
        }
        Some(Fault::TruncateOnce(n)) => out.write_all(&part[..n.min(part.len())])?,
        _ => out.write_all(part)?,
    }
    out.flush()?;
    let _ = out.shutdown(std::net::Shutdown::Both);
    // Drain what the client may still send so the close is clean.
    let _ = reader.read(&mut [0u8; 16]);
    Ok(())
}

fn write_head(
    out: &mut TcpStream,
    status: &str,
    extra: &[String],
    len: usize,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n");
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    extra: &[String],
    body: &[u8],
) -> std::io::Result<()> {
    write_head(out, status, extra, body.len())?;
    out.write_all(body)?;
    out.flush()
}

/// Percent-decodes a URL path.
fn decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}
