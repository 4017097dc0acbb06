//! `catapult status --html` opened in a real headless browser (Debian's `chromium`, which
//! `ci/test` installs; the test fails when it is missing): the rendered grid's text is checked
//! through `--dump-dom` (environments in promotion order, a release held at a gate, the legend),
//! screenshots are saved as artifacts, wide and narrow (`target/artifacts/board.png` at 1400 px,
//! `board-narrow.png` at 420 px, where each application becomes a card), and every request the
//! browser makes goes to a proxy that records them: none may be the page's (Chromium's calls to
//! its own services aside).

use catapult_test::cli as common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{Bucket, Workspace};

fn record(version: u64, commit: &str, extra: &str) -> String {
    format!(
        r#"{{"version": {version}, "commit": "{commit:0<40}", "author": "dev@example.com", "image": null,
            "timestamp": "2026-11-20T10:00:00Z", "changelog": "{short}  2026-11-20  Dev Name  Change {version}{extra}",
            "commits": [], "rollback": false, "action_type": "automated"}}"#,
        short = &format!("{commit:0<7}")[..7]
    )
}

fn chromium() -> PathBuf {
    let name = std::env::var("CATAPULT_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&name))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: ci/test installs it (apt-get install -y chromium)")
    })
}

/// Runs headless chromium on `page` with `extra` flags, every request through `proxy`.
fn browse(page: &Path, proxy: u16, profile: &Path, extra: &[&str]) -> std::process::Output {
    browse_at(page, proxy, profile, (1400, 640), extra)
}

/// The same, in a window of `size` (width, height).
fn browse_at(
    page: &Path,
    proxy: u16,
    profile: &Path,
    size: (u32, u32),
    extra: &[&str],
) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{proxy}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn the_board_page_renders_offline_in_a_browser() {
    let releases = Bucket::named("rel");
    let production = Bucket::named("prod");
    // Production written first: its gate puts staging before it on the board.
    let workspace = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\n[deploy.production]\ns3_bucket = \"{}\"\nrequire_deployed_to = [\"staging\"]\n[deploy.staging]\n",
        releases.name, production.name
    ));
    for version in 1..=7 {
        let extra = if version == 7 {
            "\\n<script>alert(1)</script> in a subject"
        } else {
            ""
        };
        releases.put("billing", record(version, &format!("b{version}"), extra));
    }
    releases.put("deploys/staging/billing", record(6, "b6", ""));
    production.put("billing", record(2, "b2", ""));
    for version in 1..=3 {
        releases.put("search", record(version, &format!("c{version}"), ""));
    }
    releases.put("deploys/staging/search", record(3, "c3", ""));
    production.put("search", record(3, "c3", ""));
    releases.put("mailer", record(1, "d1", ""));

    let page = workspace.dir.path().join("board.html");
    let output = workspace.catapult(&["status", "--html", page.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for fetching in [
        "<script", "<link", "src=", "url(", "@import", "http://", "https://",
    ] {
        assert!(!html.contains(fetching), "the page holds {fetching:?}");
    }

    // A proxy that counts connections: any fetch the page made would reach it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 1024];
            let read = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..read]);
            let first = request.lines().next().unwrap_or_default().to_owned();
            seen.lock().unwrap().push(first);
        }
    });

    let profile = tempfile::tempdir().unwrap();
    let dom = browse(&page, port, profile.path(), &["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let text = squeeze(&strip_tags(&dom));
    for expected in [
        "What is deployed where",
        "application latest release staging production",
        "billing v7",
        "v6 1 behind",
        "v2 5 behind",
        "search v3",
        "v3 latest",
        "mailer v1",
        "never deployed",
        "dev@example.com",
        // billing 7 has reached neither staging nor production; mailer 1 nowhere.
        "dev@example.com · automated v7 waiting for staging changelog",
        "never deployed v1 waiting for staging",
        // A legend entry for every colour.
        "latest release runs the latest release 1–2 releases behind 3–5 behind 6 or more behind never deployed vN waiting for …: held at this environment's gate",
        "rollback",
        // Each cell's delivery metrics over the window, and what promoting would ship.
        "promoting staging ships 4 releases",
        "What promotion would ship billing: staging v6 → production v2 4 releases, 0 commits, tickets unknown for 4 releases (written before tickets were kept) v6 · tickets ?",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not in the page's text:\n{text}"
        );
    }
    // Production runs what staging does for search: nothing to ship.
    assert!(!text.contains("search: staging"), "{text}");
    // Each deploy cell's trend is an inline SVG, with its figures said in its title.
    assert!(dom.contains("<svg class=\"trend\""), "{dom}");
    assert!(dom.contains("deploys per 2.5 days, oldest first:"), "{dom}");
    // The record's markup is text on the page, never markup.
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<script>alert(1)"), "{dom}");

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("board.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = browse(
        &page,
        port,
        profile.path(),
        &[&format!("--screenshot={}", screenshot.display())],
    );
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&screenshot).expect("the screenshot is written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(png.len() > 10_000, "the screenshot shows something");
    assert_eq!(png_width(&png), 1400);

    // On a phone's width, the same page as cards (looked at by a person: the README's figure
    // and this artifact).
    let narrow = artifacts.join("board-narrow.png");
    let _ = std::fs::remove_file(&narrow);
    let shot = browse_at(
        &page,
        port,
        profile.path(),
        (420, 1600),
        &[&format!("--screenshot={}", narrow.display())],
    );
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&narrow).expect("the narrow screenshot is written");
    assert_eq!(png_width(&png), 420);

    // Chromium calls its own services (time, updates, accounts) whatever the page; any other
    // request is the page's.
    let requests = requests.lock().unwrap();
    let the_pages: Vec<&String> = requests
        .iter()
        .filter(|request| !is_the_browsers_own(request))
        .collect();
    assert!(
        the_pages.is_empty(),
        "the page made requests: {the_pages:?}"
    );
}

/// Whether a proxied request line (`GET http://host/…`, `CONNECT host:443`) goes to one of
/// Chromium's own services rather than anywhere a page could name.
fn is_the_browsers_own(request: &str) -> bool {
    let target = request.split_whitespace().nth(1).unwrap_or_default();
    let host = target
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    ["google.com", "googleapis.com", "gstatic.com", "gvt1.com"]
        .iter()
        .any(|own| host == *own || host.ends_with(&format!(".{own}")))
}

/// A PNG's width, from its IHDR chunk.
fn png_width(png: &[u8]) -> u32 {
    assert!(png.len() > 24 && png.starts_with(b"\x89PNG"), "a PNG");
    u32::from_be_bytes([png[16], png[17], png[18], png[19]])
}

/// The text of an HTML document, tags removed.
fn strip_tags(html: &str) -> String {
    let body = html.split_once("<body").map_or(html, |(_, body)| body);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
