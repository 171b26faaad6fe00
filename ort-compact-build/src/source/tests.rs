//! Fetching pinned archives from mirrors: a loopback HTTP server (pool layout and flat, with
//! fault modes) and directory mirrors. No outside host is contacted.

use super::fetch::Fetcher;
use super::mirror::Mirror;
use super::pins::{PinnedSource, Pins};
use super::Provisioner;
use crate::error::Error;
use crate::progress::Progress;
use crate::util::sha256_bytes;
use ort_compact_test_support::mirror::{Fault, MirrorServer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One pinned archive of `len` bytes for the tests: its pin and bytes.
struct Archive {
    pin: PinnedSource,
    bytes: Vec<u8>,
    file: String,
}

impl Archive {
    fn new(package: &str, len: usize) -> Archive {
        let bytes: Vec<u8> = (0..len)
            .map(|k| (k as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2])
            .collect();
        let file = format!("{package}_1.0.orig.tar.gz");
        let text = format!(
            "schema = 1\nort_version = \"1.21.0\"\n[[source]]\nname = \"onnxruntime\"\n\
             version = \"1.0\"\nfetchcontent = \"\"\ndebian = \"trixie/source/{package}=1.0-1\"\n\
             file = \"{file}\"\nsha256 = \"{}\"\n",
            sha256_bytes(&bytes)
        );
        let pins = Pins::parse(&text, Path::new("pins.toml"), None).unwrap();
        Archive {
            pin: pins.sources[0].clone(),
            bytes,
            file,
        }
    }

    /// Its path below a Debian mirror's base.
    fn pool(&self) -> String {
        self.pin.pool_path().unwrap()
    }

    /// Writes it into `dir`; returns the path.
    fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(&self.file);
        std::fs::write(&path, &self.bytes).unwrap();
        path
    }
}

/// A server serving `a` at `/debian/<pool path>` and `/flat/<file>`; the bytes live in `dir`.
fn server_with(a: &Archive, dir: &Path) -> MirrorServer {
    let path = a.write(&dir.join("served"));
    let server = MirrorServer::start();
    server
        .serve(&format!("/debian/{}", a.pool()), &path)
        .serve(&format!("/flat/{}", a.file), &path);
    server
}

fn fetch(
    downloads: &Path,
    mirrors: &[Mirror],
    pins: &[&PinnedSource],
) -> crate::Result<Vec<PathBuf>> {
    Fetcher::new(downloads, false, mirrors, &Progress::default())
        .read_timeout(Duration::from_secs(1))
        .without_apt()
        .ensure_all(pins)
}

fn url(server: &MirrorServer, path: &str) -> Mirror {
    Mirror::parse(&format!("{}{path}", server.base())).unwrap()
}

/// Files in `dir` (downloads: the cache must hold only verified archives).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_debian_mirror_serves_the_pool_path_and_a_flat_one_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("fake-pool", 3000);
    let server = server_with(&a, tmp.path());
    let downloads = tmp.path().join("d1");
    let got = fetch(&downloads, &[url(&server, "/debian")], &[&a.pin]).unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);
    assert_eq!(
        server.log(),
        [format!("GET /debian/pool/main/f/fake-pool/{}", a.file)]
    );
    assert_eq!(names(&downloads), vec![a.file.clone()]);

    let downloads = tmp.path().join("d2");
    let got = fetch(&downloads, &[url(&server, "/flat/")], &[&a.pin]).unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);
    let log = server.log();
    assert_eq!(
        log[1],
        format!("GET /flat/pool/main/f/fake-pool/{}", a.file)
    );
    assert_eq!(log[2], format!("GET /flat/{}", a.file));
}

#[test]
fn directory_mirrors_in_pool_layout_or_flat() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("libfake-dir", 500);
    assert_eq!(a.pool(), format!("pool/main/libf/libfake-dir/{}", a.file));
    let pool_dir = tmp.path().join("debian");
    a.write(&pool_dir.join(Path::new(&a.pool()).parent().unwrap()));
    let got = fetch(&tmp.path().join("d1"), &[Mirror::Dir(pool_dir)], &[&a.pin]).unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);

    let flat = tmp.path().join("flat");
    a.write(&flat);
    let spec = format!("file://{}", flat.display());
    let got = fetch(
        &tmp.path().join("d2"),
        &[Mirror::parse(&spec).unwrap()],
        &[&a.pin],
    )
    .unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);
}

#[test]
fn an_unreachable_or_missing_mirror_falls_through_to_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("fake-next", 800);
    let server = server_with(&a, tmp.path());
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/debian", l.local_addr().unwrap())
    };
    let mirrors = [
        Mirror::parse(&closed).unwrap(),
        url(&server, "/elsewhere"),
        url(&server, "/debian"),
    ];
    let got = fetch(&tmp.path().join("d"), &mirrors, &[&a.pin]).unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);
}

#[test]
fn wrong_bytes_name_the_file_and_both_hashes_and_nothing_enters_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("fake-wrong", 1000);
    let server = server_with(&a, tmp.path());
    server.fault(&format!("/debian/{}", a.pool()), Fault::WrongBytes);
    let downloads = tmp.path().join("d");
    let err = fetch(&downloads, &[url(&server, "/debian")], &[&a.pin]).unwrap_err();
    assert!(matches!(err, Error::ArchivesUnavailable { .. }), "{err:?}");
    let msg = err.to_string();
    let wrong: Vec<u8> = a.bytes.iter().map(|b| b ^ 0x5a).collect();
    assert!(msg.contains(&a.file), "{msg}");
    assert!(msg.contains(a.pin.sha256.as_deref().unwrap()), "{msg}");
    assert!(msg.contains(&sha256_bytes(&wrong)), "{msg}");
    assert!(msg.contains(crate::env::MIRROR), "{msg}");
    assert!(names(&downloads).is_empty(), "{:?}", names(&downloads));
}

#[test]
fn a_dropped_connection_is_resumed_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("fake-resume", 100_000);
    let server = server_with(&a, tmp.path());
    let at = format!("/debian/{}", a.pool());
    server.fault(&at, Fault::TruncateOnce(40_000));
    let downloads = tmp.path().join("d");
    let mirrors = [url(&server, "/debian")];
    let err = fetch(&downloads, &mirrors, &[&a.pin]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("broke after 40000 of 100000 bytes"), "{msg}");
    assert_eq!(names(&downloads), [format!("{}.partial", a.file)]);
    let got = fetch(&downloads, &mirrors, &[&a.pin]).unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);
    let log = server.log();
    assert!(
        log.contains(&format!("GET {at} Range: bytes=40000-")),
        "{log:?}"
    );
    assert_eq!(names(&downloads), vec![a.file.clone()]);
}

#[test]
fn a_slow_server_delivers_and_a_stalled_one_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("fake-slow", 20_000);
    let server = server_with(&a, tmp.path());
    server.fault(&format!("/debian/{}", a.pool()), Fault::Slow);
    server.fault(
        &format!("/flat/{}", a.file),
        Fault::Stall(Duration::from_secs(5)),
    );
    let got = fetch(
        &tmp.path().join("d1"),
        &[url(&server, "/debian")],
        &[&a.pin],
    )
    .unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);

    let started = std::time::Instant::now();
    let err = fetch(&tmp.path().join("d2"), &[url(&server, "/flat")], &[&a.pin]).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("timeout"), "{err}");
}

#[test]
fn one_error_lists_every_archive_missing_from_a_directory_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        Archive::new("fake-here", 100),
        Archive::new("fake-gone", 100),
    );
    let flat = tmp.path().join("flat");
    a.write(&flat);
    let downloads = tmp.path().join("d");
    let err = fetch(&downloads, &[Mirror::Dir(flat.clone())], &[&a.pin, &b.pin]).unwrap_err();
    let Error::ArchivesUnavailable { files, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(files, &vec![b.file.clone()]);
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{}: no such file", flat.join(&b.file).display())),
        "{msg}"
    );
    assert!(msg.contains(&b.pool()), "{msg}");
    assert_eq!(names(&downloads), vec![a.file.clone()]);
}

#[test]
fn a_mirror_of_unknown_scheme_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Provisioner::new(tmp.path())
        .mirror("ftp://mirror.invalid/debian")
        .provision()
        .unwrap_err();
    assert!(matches!(err, Error::BadMirror { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown scheme 'ftp'"), "{err}");
}

#[test]
fn offline_takes_directory_mirrors_and_leaves_urls_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::new("fake-offline", 300);
    let server = server_with(&a, tmp.path());
    let flat = tmp.path().join("flat");
    let offline = |mirrors: &[Mirror], downloads: &Path| {
        Fetcher::new(downloads, true, mirrors, &Progress::default()).ensure_all(&[&a.pin])
    };
    let err = offline(&[url(&server, "/debian")], &tmp.path().join("d1")).unwrap_err();
    assert!(server.log().is_empty(), "{:?}", server.log());
    let msg = err.to_string();
    assert!(
        msg.contains("not downloaded, ORT_COMPACT_OFFLINE is set"),
        "{msg}"
    );
    a.write(&flat);
    let got = offline(&[Mirror::Dir(flat)], &tmp.path().join("d2")).unwrap();
    assert_eq!(std::fs::read(&got[0]).unwrap(), a.bytes);
}

#[test]
fn pool_paths_are_checked_and_stay_out_of_the_tree_key() {
    let pin = |pool: &str| {
        format!(
            "schema = 1\nort_version = \"1.21.0\"\n[[source]]\nname = \"onnxruntime\"\n\
             version = \"1.0\"\nfetchcontent = \"\"\ndebian = \"trixie/binary/libx-dev=1.0-1\"\n\
             file = \"libx-dev_1.0-1_all.deb\"\n{pool}sha256 = \"{}\"\n",
            "a".repeat(64)
        )
    };
    let parse = |text: &str| Pins::parse(text, Path::new("pins.toml"), None);
    let with = parse(&pin("pool = \"pool/main/x/x/libx-dev_1.0-1_all.deb\"\n")).unwrap();
    let without = parse(&pin("")).unwrap();
    assert_eq!(
        with.sources[0].pool_path().as_deref(),
        Some("pool/main/x/x/libx-dev_1.0-1_all.deb")
    );
    // A binary package's pool directory is its source package's: not derived.
    assert_eq!(without.sources[0].pool_path(), None);
    assert_eq!(with.key_text(), without.key_text());
    assert_eq!(without.key_text(), without.text);
    for bad in [
        "pool = \"pool/main/../../etc/libx-dev_1.0-1_all.deb\"\n",
        "pool = \"/srv/pool/libx-dev_1.0-1_all.deb\"\n",
        "pool = \"pool/main/x/x/other.deb\"\n",
    ] {
        let err = parse(&pin(bad)).unwrap_err();
        assert!(matches!(err, Error::PinFile { .. }), "{bad}: {err:?}");
    }
}
