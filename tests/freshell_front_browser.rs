//! ptyhub in front of freshell, in a real browser (Debian's chromium, driven by
//! `web-client/e2e/front.mjs`): the full login link ptyhub prints lands on freshell's page,
//! logged in; the read-only link it prints, and an old read-only bookmark on freshell's page,
//! open ptyhub's own client and leave the profile's full-access freshell token in place; a page opened while freshell is down gets the "restarting" page, which
//! becomes the app by itself once freshell is back.
//!
//! freshell is the stand-in of `common::fake_freshell`, whose page keeps a `?token=` where
//! freshell's page keeps it (localStorage `freshell.auth-token` and the `freshell-auth` cookie).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::chromium::{missing_prerequisite, web_client_dir, CHROMIUM};
use common::fake_freshell::FakeFreshell;
use common::upstream_browser::start_in_front_of;
use serde_json::Value;

/// Each step of the script has its own 15 s limit; this bounds waiting for its next line.
const LINE_DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn read_only_links_keep_the_profile_logged_in_and_an_outage_page_turns_into_the_app() {
    if let Some(why) = missing_prerequisite() {
        panic!("the browser test cannot run: {why} (.ci/run installs everything it needs)");
    }
    let mut fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let view_token = daemon.view_token();

    let mut child = Command::new("node")
        .arg("e2e/front.mjs")
        .current_dir(web_client_dir())
        .env("PTYHUB_URL", format!("http://127.0.0.1:{}", daemon.port))
        .env("PTYHUB_TOKEN", &daemon.token)
        .env("PTYHUB_VIEW_TOKEN", &view_token)
        .env("PTYHUB_LOGIN_LINK", &daemon.login_link)
        .env("PTYHUB_READONLY_LINK", &daemon.read_only_link)
        .env("PTYHUB_CHROMIUM", CHROMIUM)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let next_line = |seen: &mut Vec<String>| -> String {
        let line = lines
            .recv_timeout(LINE_DEADLINE)
            .unwrap_or_else(|_| panic!("the browser script went quiet; it said: {seen:#?}"));
        seen.push(line.clone());
        line
    };
    let expect = |word: &str, seen: &mut Vec<String>| {
        let line = next_line(seen);
        assert_eq!(line, word, "the browser script's steps so far: {seen:#?}");
    };

    expect("OUTAGE?", &mut seen);
    fake.stop();
    writeln!(stdin, "down").unwrap();
    expect("SAW-RESTARTING", &mut seen);
    fake.restart();
    writeln!(stdin, "up").unwrap();
    expect("APP-BACK", &mut seen);
    let summary: Value = serde_json::from_str(&next_line(&mut seen)).expect("a JSON summary");
    drop(stdin);
    let _ = child.wait();

    assert!(summary.get("error").is_none(), "{summary:#}");
    assert!(
        daemon.login_link.contains("/ptyhub/#login="),
        "in front of freshell the link opens ptyhub's client, which knows login codes: {}",
        daemon.login_link
    );
    assert_eq!(
        summary["loginLinkLandedOn"], "/",
        "the full login link ends on freshell's page, without its code: {summary:#}"
    );
    assert_eq!(
        summary["before"]["stored"],
        daemon.token.as_str(),
        "{summary:#}"
    );
    assert_eq!(
        summary["before"]["cookie"],
        daemon.token.as_str(),
        "{summary:#}"
    );
    assert_eq!(summary["readOnlyLinkPath"], "/ptyhub/", "{summary:#}");
    assert_eq!(summary["oldBookmarkPath"], "/ptyhub/", "{summary:#}");
    assert_eq!(
        summary["after"]["stored"],
        daemon.token.as_str(),
        "the read-only links left freshell's stored token alone: {summary:#}"
    );
    assert_eq!(
        summary["after"]["cookie"],
        daemon.token.as_str(),
        "and its cookie: {summary:#}"
    );
    assert_eq!(summary["outageStatus"], 503, "{summary:#}");
    assert_eq!(
        summary["outageTitle"], "freshell is restarting",
        "{summary:#}"
    );
    assert_eq!(summary["appBack"], true, "{summary:#}");
}
