//! Login links: the daemon prints links with a single-use, expiring code instead of its
//! tokens, the page trades the code for the token once (`POST /ptyhub/login`), and
//! `ptyhub url` asks the running daemon for a new link. (What a browser keeps of a link is
//! `tests/web_client_history.rs`.)

mod common;

use common::cli::ptyhub;
use common::http::{get, post, scrape, Auth, Reply};
use common::*;
use serde_json::{json, Value};

/// The code of a printed link (`…#login=<code>`).
fn code_of(link: &str) -> &str {
    link.split_once("#login=")
        .map(|(_, code)| code)
        .unwrap_or_else(|| panic!("{link:?} has no #login= code"))
}

fn redeem(daemon: &Daemon, code: &str) -> Reply {
    post(
        daemon,
        "/ptyhub/login",
        Auth::None,
        &json!({ "code": code }),
    )
}

fn redeemed(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "the login was refused: {}", reply.body);
    assert_eq!(
        reply.cache_control, "no-store",
        "a token must never be cached"
    );
    serde_json::from_str(&reply.body).expect("the login answers JSON")
}

#[test]
fn each_printed_link_opens_once_with_its_own_rights() {
    let daemon = Daemon::start("");
    // The harness already refuses a ready line that holds a token.
    assert!(
        daemon
            .login_link
            .starts_with(&format!("http://127.0.0.1:{}/#login=", daemon.port)),
        "{}",
        daemon.login_link
    );
    assert!(
        daemon.read_only_link.starts_with(&format!(
            "http://127.0.0.1:{}/?view=readonly#login=",
            daemon.port
        )),
        "{}",
        daemon.read_only_link
    );

    let full = redeemed(&redeem(&daemon, code_of(&daemon.login_link)));
    assert_eq!(full["token"], daemon.token.as_str());
    assert_eq!(full["access"], "full");
    assert_eq!(full["freshellFront"], false);
    let view = redeemed(&redeem(&daemon, code_of(&daemon.read_only_link)));
    assert_eq!(view["token"], daemon.view_token().as_str());
    assert_eq!(view["access"], "read-only");

    for link in [&daemon.login_link, &daemon.read_only_link] {
        let again = redeem(&daemon, code_of(link));
        assert_eq!(
            again.status, 401,
            "a spent code opened again: {}",
            again.body
        );
        assert!(
            again.body.contains("ptyhub url"),
            "a spent link must say how to get a new one: {}",
            again.body
        );
        assert!(
            !again.body.contains(&daemon.token),
            "a refusal leaks the token"
        );
    }
}

#[test]
fn ptyhub_url_prints_a_new_link_of_the_asked_rights() {
    let daemon = Daemon::start("");
    for (args, access, token) in [
        (&["url"][..], "full", daemon.token.clone()),
        (
            &["url", "--read-only"][..],
            "read-only",
            daemon.view_token(),
        ),
    ] {
        let output = ptyhub(&daemon, args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "`ptyhub {}` failed: {stdout}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        let link = stdout.trim();
        assert!(
            link.starts_with(&format!("http://127.0.0.1:{}/", daemon.port)),
            "{link}"
        );
        assert!(
            !stdout.contains(&daemon.token) && !stdout.contains(&daemon.view_token()),
            "`ptyhub url` printed a token: {stdout}"
        );
        let answer = redeemed(&redeem(&daemon, code_of(link)));
        assert_eq!(answer["access"], access);
        assert_eq!(answer["token"], token.as_str());
        assert_eq!(redeem(&daemon, code_of(link)).status, 401, "spent");
    }
}

#[test]
fn only_the_full_token_mints_links_and_pending_codes_are_bounded() {
    let daemon = Daemon::start("");
    let ask = json!({ "access": "full" });
    let anonymous = post(&daemon, "/ptyhub/api/login-links", Auth::None, &ask);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let view = daemon.view_token();
    let watcher = post(
        &daemon,
        "/ptyhub/api/login-links",
        Auth::Bearer(&view),
        &ask,
    );
    assert_eq!(watcher.status, 403, "{}", watcher.body);
    let odd = post(
        &daemon,
        "/ptyhub/api/login-links",
        Auth::Bearer(&daemon.token),
        &json!({ "access": "admin" }),
    );
    assert_eq!(odd.status, 400, "{}", odd.body);

    // The printed pair plus 20 more: only the newest 16 stay good, so a holder of the token
    // looping on this cannot make the daemon keep codes without bound. (Few wrong codes are
    // tried: each counts as a failed login, and a few more would be slowed down.)
    let minted: Vec<String> = (0..20)
        .map(|_| {
            let reply = post(
                &daemon,
                "/ptyhub/api/login-links",
                Auth::Bearer(&daemon.token),
                &ask,
            );
            assert_eq!(reply.status, 201, "{}", reply.body);
            assert_eq!(reply.cache_control, "no-store");
            let link: Value = serde_json::from_str(&reply.body).expect("JSON");
            assert_eq!(link["access"], "full");
            code_of(link["url"].as_str().expect("url")).to_owned()
        })
        .collect();
    for code in &minted[4..] {
        assert_eq!(redeem(&daemon, code).status, 200, "one of the newest 16");
    }
    assert_eq!(
        redeem(&daemon, code_of(&daemon.login_link)).status,
        401,
        "the oldest code stayed"
    );
    assert_eq!(
        redeem(&daemon, &minted[3]).status,
        401,
        "the 17th newest code stayed"
    );
}

#[test]
fn a_wrong_code_is_counted_and_logged_without_the_code() {
    let daemon = Daemon::start("");
    let guess = fresh_id("guess").replace('-', "");
    let reply = redeem(&daemon, &guess);
    assert_eq!(reply.status, 401, "{}", reply.body);
    let counted = scrape(&daemon).value("ptyhub_auth_failures_total", &[("route", "login_code")]);
    assert_eq!(
        counted,
        Some(1.0),
        "a wrong code is a failed authentication"
    );
    let log = daemon.log();
    assert!(
        log.lines()
            .any(|l| l.contains("authentication failed") && l.contains("login_code")),
        "no log line for the wrong code:\n{log}"
    );
    assert!(!log.contains(&guess), "the log repeats the code");
    assert!(
        !log.contains(code_of(&daemon.login_link)),
        "the log holds a printed code"
    );
    // The good link still opens: guesses never lock the owner out.
    assert_eq!(redeem(&daemon, code_of(&daemon.login_link)).status, 200);
    // A page cannot be told the token by a GET (no way to a cached answer).
    assert_eq!(
        get(&daemon, "/ptyhub/login", Auth::None).status,
        405,
        "only POST trades a code"
    );
}

#[test]
fn a_login_from_another_site_is_refused() {
    let daemon = Daemon::start("");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into();
    let code = code_of(&daemon.login_link);
    let reply = agent
        .post(&format!("http://127.0.0.1:{}/ptyhub/login", daemon.port))
        .header("Origin", "http://evil.example")
        .header("Content-Type", "application/json")
        .send(json!({ "code": code }).to_string())
        .expect("the daemon answers");
    assert_eq!(reply.status().as_u16(), 403);
    assert_eq!(
        redeem(&daemon, code).status,
        200,
        "a refused cross-site try must not spend the code"
    );
}
