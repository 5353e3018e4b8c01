//! What a browser keeps of the daemon's printed links (issue 16): Debian's chromium opens the
//! full and the read-only link (`web-client/e2e/history.mjs`), has full access from the one
//! and watches with the other, closes, and then its profile is read. Chromium writes every
//! address it opened into its `History` database — query and fragment included, and after
//! `history.replaceState` the first address stays — as well as into its session files. So
//! neither token may be anywhere in the profile but the page's own storage (where the page
//! keeps it by design), and every code the history holds must be spent.
//!
//! Needs `node`, `/usr/bin/chromium`, `python3` (its `sqlite3` reads the History database)
//! and `web-client/node_modules` (`npm ci` in web-client).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::chromium::{missing_prerequisite, run_node_script};
use common::http::{post, Auth};
use common::Daemon;
use serde_json::json;

const BROWSER_RUN_DEADLINE: Duration = Duration::from_secs(240);

/// Where the page keeps its tokens on purpose (localStorage); everything else in the profile
/// must be free of them.
const PAGE_STORAGE_DIR: &str = "Local Storage";

/// Every row of every table of a History database, one line per row, through python3's
/// sqlite3 (a copy is read, so no lock of chromium's matters).
fn history_rows(history: &Path) -> Vec<String> {
    let copy = history.with_extension("copy");
    std::fs::copy(history, &copy).expect("copy the History database");
    let script = r#"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
for table in tables:
    for row in db.execute(f'select * from "{table}"'):
        print(table, *[repr(v) for v in row], sep='\t')
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&copy)
        .output()
        .expect("run python3 (its sqlite3 reads the History database)");
    assert!(
        output.status.success(),
        "reading {} failed: {}",
        history.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Files under `dir` (recursively), but not under a directory named `skip`.
fn files_under(dir: &Path, skip: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != skip {
                files.extend(files_under(&path, skip));
            }
        } else if kind.is_file() {
            files.push(path);
        }
    }
    files
}

/// Whether `haystack` holds `needle` as UTF-8 or as UTF-16 (which chromium uses for some
/// strings it stores).
fn holds(haystack: &[u8], needle: &str) -> bool {
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    [needle.as_bytes(), &utf16[..]]
        .iter()
        .any(|n| haystack.windows(n.len()).any(|w| w == *n))
}

#[test]
fn the_printed_links_leave_no_token_in_the_browser_profile() {
    if let Some(why) = missing_prerequisite() {
        panic!("the browser test cannot run: {why} (.ci/run installs everything it needs)");
    }
    let daemon = Daemon::start("");
    let view_token = daemon.view_token();
    let profile = tempfile::Builder::new()
        .prefix("ptyhub-history-profile-")
        .tempdir()
        .expect("a profile dir");
    let run = run_node_script(
        "e2e/history.mjs",
        &[],
        &[
            ("PTYHUB_URL", format!("http://127.0.0.1:{}", daemon.port)),
            ("PTYHUB_TOKEN", daemon.token.clone()),
            ("PTYHUB_VIEW_TOKEN", view_token.clone()),
            ("PTYHUB_LOGIN_LINK", daemon.login_link.clone()),
            ("PTYHUB_READONLY_LINK", daemon.read_only_link.clone()),
            ("PTYHUB_PROFILE", profile.path().display().to_string()),
        ],
        BROWSER_RUN_DEADLINE,
    );
    // The browser has closed: what did it write down? (Asked first: it is the point.)
    let history = profile.path().join("Default").join("History");
    let rows = history_rows(&history);
    let visited: Vec<&String> = rows.iter().filter(|r| r.starts_with("urls\t")).collect();
    let daemon_address = format!("http://127.0.0.1:{}/", daemon.port);
    assert!(
        visited.iter().any(|r| r.contains(&daemon_address)),
        "chromium recorded no visit of the daemon's page, so this test would prove nothing: {visited:#?}"
    );
    for (name, token) in [("full", &daemon.token), ("read-only", &view_token)] {
        let leaks: Vec<&String> = rows.iter().filter(|r| r.contains(token.as_str())).collect();
        assert!(
            leaks.is_empty(),
            "the {name} token is in chromium's History database: {leaks:#?}"
        );
    }
    let mut scanned = 0;
    for file in files_under(profile.path(), PAGE_STORAGE_DIR) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        scanned += 1;
        for (name, token) in [("full", &daemon.token), ("read-only", &view_token)] {
            assert!(
                !holds(&bytes, token),
                "the {name} token is in the browser profile's {}",
                file.strip_prefix(profile.path()).unwrap_or(&file).display()
            );
        }
    }
    assert!(scanned > 20, "only {scanned} profile files were read");

    // Then the page did what it must with the links.
    assert!(
        run.success && run.summary["ok"] == true,
        "the browser run failed.\nits checks:\n{}\nsummary: {:#}",
        run.log,
        run.summary
    );
    for check in [
        "the printed link gives full access",
        "the address bar holds neither code nor token",
        "the page types into a shell",
        "the full token is stored",
        "the read-only link gives read-only access",
        "the read-only page keeps ?view=readonly and drops the code",
        "both tokens are stored, each under its own key",
        "a spent link opens with the stored token",
        "a spent link with nothing stored says to run ptyhub url",
    ] {
        assert_eq!(
            run.summary["checks"][check], true,
            "check {check:?} missing or failed: {:#}",
            run.summary
        );
    }

    // And what the history does hold opens nothing any more.
    for link in [&daemon.login_link, &daemon.read_only_link] {
        let (_, code) = link.split_once("#login=").expect("a login link");
        assert!(
            visited.iter().any(|r| r.contains(code)),
            "{link} is not in the history"
        );
        let reply = post(
            &daemon,
            "/ptyhub/login",
            Auth::None,
            &json!({ "code": code }),
        );
        assert_eq!(reply.status, 401, "a code from the history still opens");
    }
}
