//! `ptyhub serve --freshell-upstream <url>`: the HTTP routes ptyhub answers itself in front of
//! freshell, its terminals above all (`docs/freshell-http-terminals.md` §1, §2, §3).
//!
//! The terminals freshell's page lists, renames, hides and searches over HTTP are ptyhub's, so
//! `/api/terminals…`, `POST /api/ai/terminals/{id}/summary`, `/healthz` and `/ptyhub/…` are
//! answered by ptyhub from its own sessions, behind one token layer, however the path is
//! spelled, and never reach freshell; a near miss of those paths is freshell's. freshell's
//! session directory and directory suggestions stay freshell's answers, with ptyhub's running
//! terminals added, since freshell cannot see them.
//!
//! freshell here is the in-process stand-in of `common::fake_freshell`, which records what
//! reached it and marks everything it says about terminals with `UPSTREAM-ONLY`; requests go
//! out through `common::raw_http`, which keeps headers and bodies byte-exact.

mod common;

use common::fake_freshell::*;
use common::raw_http::http;
use common::upstream_browser::{auth, authorized_get, start_in_front_of, Browser};
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminals_api_is_answered_by_ptyhub_with_its_own_terminals() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;

    let listed = authorized_get(&daemon, "/api/terminals").await;

    assert_eq!(listed.status, 200, "{}", listed.text());
    assert!(
        !listed.served_by_freshell(),
        "ptyhub answers /api/terminals"
    );
    let items = listed.json();
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("a JSON array: {items}"));
    assert!(
        items
            .iter()
            .any(|t| t["terminalId"] == terminal_id.as_str()),
        "ptyhub's terminal is listed: {items:#?}"
    );
    assert!(
        !listed.text().contains(UPSTREAM_ONLY),
        "freshell's terminals are not: {}",
        listed.text()
    );

    for (case, headers) in [
        ("no token", Vec::new()),
        (
            "a wrong token",
            vec![("x-auth-token", b"wrong-token-0123456789".as_slice())],
        ),
    ] {
        let refused = http(&daemon, "GET", "/api/terminals", &headers, Vec::new()).await;
        assert_eq!(refused.status, 401, "{case}");
        assert!(!refused.served_by_freshell(), "{case}: ptyhub's own 401");
        assert_eq!(refused.json(), json!({"error": "Unauthorized"}), "{case}");
    }
    assert!(
        fake.requests_under("/api/terminals").is_empty(),
        "nothing reached freshell's /api/terminals"
    );
}

/// `docs/freshell-http-terminals.md` §2: the UI's fetches use the header, but the
/// `freshell-auth` cookie is accepted as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminals_api_accepts_the_freshell_auth_cookie() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let cookie = format!("theme=dark; freshell-auth={}", daemon.token);

    let listed = http(
        &daemon,
        "GET",
        "/api/terminals",
        &[("cookie", cookie.as_bytes())],
        Vec::new(),
    )
    .await;

    assert_eq!(listed.status, 200, "{}", listed.text());
    assert!(!listed.served_by_freshell());
    assert!(listed.json().is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ptyhubs_own_routes_never_reach_freshell_and_near_misses_do() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    let token = auth(&daemon);
    let json_type: (&str, &[u8]) = ("content-type", b"application/json");

    let own = [
        ("GET", "/healthz".to_owned(), Vec::new()),
        ("GET", "/ptyhub/".to_owned(), Vec::new()),
        ("GET", "/ptyhub/api/sessions".to_owned(), Vec::new()),
        (
            "GET",
            "/api/terminals?priority=visible".to_owned(),
            Vec::new(),
        ),
        (
            "GET",
            format!("/api/terminals/{terminal_id}/search?query=x"),
            Vec::new(),
        ),
        (
            "PATCH",
            format!("/api/terminals/{terminal_id}"),
            br#"{"titleOverride":"renamed"}"#.to_vec(),
        ),
        (
            "DELETE",
            "/api/terminals/no-such-terminal".to_owned(),
            Vec::new(),
        ),
        (
            "GET",
            format!("/api/terminals/{terminal_id}/viewport"),
            Vec::new(),
        ),
        ("GET", "/api/terminals/a/b/c/unknown".to_owned(), Vec::new()),
        (
            "POST",
            format!("/api/ai/terminals/{terminal_id}/summary"),
            b"{}".to_vec(),
        ),
    ];
    for (method, target, body) in own {
        let reply = http(&daemon, method, &target, &[token, json_type], body).await;
        assert!(
            !reply.served_by_freshell(),
            "{method} {target} is ptyhub's: {} {}",
            reply.status,
            reply.text()
        );
        assert!(
            !reply.text().contains(UPSTREAM_ONLY),
            "{method} {target}: {}",
            reply.text()
        );
    }
    let leaked: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .filter(|r| {
            r.contains("/healthz")
                || r.contains("/ptyhub")
                || r.contains("/api/terminals")
                || r.contains("/api/ai/")
        })
        .collect();
    assert!(
        leaked.is_empty(),
        "requests that reached freshell: {leaked:?}"
    );

    for target in ["/api/terminalsx", "/ptyhubx", "/healthzz"] {
        let reply = http(&daemon, "GET", target, &[token], Vec::new()).await;
        assert!(
            reply.served_by_freshell(),
            "GET {target} is not ptyhub's: it goes to freshell"
        );
    }
}

/// The terminal's entry in `GET /api/terminals`, if listed.
async fn listed_terminal(daemon: &Daemon, terminal_id: &str) -> Option<serde_json::Value> {
    let listed = http(daemon, "GET", "/api/terminals", &[auth(daemon)], Vec::new()).await;
    listed
        .json()
        .as_array()?
        .iter()
        .find(|t| t["terminalId"] == terminal_id)
        .cloned()
}

/// Every freshell route ptyhub answers sits behind one token layer: no token or a wrong one is
/// freshell's 401, the view token reads but never changes, the full token changes and the
/// change reads back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshells_terminal_routes_share_one_token_layer_and_changes_read_back() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;
    let view = daemon.view_token();
    let json_type: (&str, &[u8]) = ("content-type", b"application/json");
    let routes = [
        ("GET", "/api/terminals".to_owned(), ""),
        ("GET", "/api/terminals?priority=visible".to_owned(), ""),
        (
            "GET",
            format!("/api/terminals/{terminal_id}/search?query=x"),
            "",
        ),
        (
            "PATCH",
            format!("/api/terminals/{terminal_id}"),
            r#"{"titleOverride":"sneaky"}"#,
        ),
        ("DELETE", format!("/api/terminals/{terminal_id}"), ""),
        (
            "POST",
            format!("/api/ai/terminals/{terminal_id}/summary"),
            "{}",
        ),
    ];
    for (method, target, body) in &routes {
        for (case, headers) in [
            ("no token", vec![json_type]),
            (
                "a wrong token",
                vec![
                    json_type,
                    ("x-auth-token", b"wrong-token-0123456789".as_slice()),
                ],
            ),
        ] {
            let refused = http(&daemon, method, target, &headers, body.as_bytes().to_vec()).await;
            assert_eq!(refused.status, 401, "{method} {target}, {case}");
            assert!(!refused.served_by_freshell(), "{method} {target}, {case}");
            assert_eq!(refused.json(), json!({"error": "Unauthorized"}));
        }
        let with_view = http(
            &daemon,
            method,
            target,
            &[json_type, ("x-auth-token", view.as_bytes())],
            body.as_bytes().to_vec(),
        )
        .await;
        let expected = if *method == "GET" { 200 } else { 403 };
        assert_eq!(
            with_view.status, expected,
            "{method} {target} with the view token"
        );
    }
    let item = listed_terminal(&daemon, &terminal_id)
        .await
        .expect("the terminal is still listed: nothing refused changed it");
    assert_ne!(item["title"], "sneaky");

    let patched = http(
        &daemon,
        "PATCH",
        &format!("/api/terminals/{terminal_id}"),
        &[auth(&daemon), json_type],
        br#"{"titleOverride":"build box","descriptionOverride":"runs the build"}"#.to_vec(),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(
        patched.json(),
        json!({"titleOverride": "build box", "descriptionOverride": "runs the build"})
    );
    let item = listed_terminal(&daemon, &terminal_id)
        .await
        .expect("listed");
    assert_eq!(item["title"], "build box");
    assert_eq!(item["description"], "runs the build");

    let hidden = http(
        &daemon,
        "DELETE",
        &format!("/api/terminals/{terminal_id}"),
        &[auth(&daemon)],
        Vec::new(),
    )
    .await;
    assert_eq!(hidden.json(), json!({"ok": true}));
    let listed = authorized_get(&daemon, "/api/terminals").await;
    assert!(
        !listed.text().contains(&terminal_id),
        "a hidden terminal is not listed: {}",
        listed.text()
    );
    assert!(
        common::http::api_session(&daemon, &terminal_id).is_some(),
        "hiding does not kill"
    );
    assert!(fake.requests_under("/api/terminals").is_empty());
}

/// freshell's session directory and directory suggestions come from freshell, with ptyhub's
/// terminals in them: an indexed session running in ptyhub is marked running, an agent
/// terminal freshell has not indexed is a live-only entry, running terminals' directories
/// are suggested first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_directory_and_candidate_dirs_show_ptyhubs_terminals() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let json_type: (&str, &[u8]) = ("content-type", b"application/json");
    let workdir = daemon.scratch_dir("codex-project");
    let workdir = workdir.to_str().unwrap();
    let create = |body: serde_json::Value| {
        let daemon = &daemon;
        async move {
            let reply = http(
                daemon,
                "POST",
                "/api/tabs",
                &[auth(daemon), json_type],
                body.to_string().into_bytes(),
            )
            .await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json()["data"]["terminalId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let claude = create(json!({"mode": "claude", "sessionRef": {"provider": "claude", "sessionId": INDEXED_CLAUDE_SESSION}})).await;
    let codex = create(json!({"mode": "codex", "cwd": workdir})).await;
    create(json!({"mode": "shell"})).await;

    let page = authorized_get(&daemon, "/api/session-directory?priority=visible").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.served_by_freshell(), "freshell's answer, amended");
    let page = page.json();
    let items = page["items"].as_array().expect("items");
    let find = |session_id: &str| {
        items
            .iter()
            .find(|i| i["sessionId"] == session_id)
            .unwrap_or_else(|| panic!("{session_id} listed: {items:#?}"))
    };
    assert_eq!(find(INDEXED_CLAUDE_SESSION)["isRunning"], true);
    assert_eq!(
        find(INDEXED_CLAUDE_SESSION)["runningTerminalId"],
        claude.as_str()
    );
    assert_eq!(find(INDEXED_IDLE_SESSION)["isRunning"], false);
    let live = find(&format!("terminal:{codex}"));
    assert_eq!(live["liveTerminalOnly"], true);
    assert_eq!(live["provider"], "codex");
    assert_eq!(live["runningTerminalId"], codex.as_str());
    assert_eq!(live["cwd"], workdir);
    assert_eq!(
        items.len(),
        3,
        "no entry for a shell, none twice: {items:#?}"
    );
    assert_eq!(page["revision"], 7, "freshell's other fields are kept");

    let later = authorized_get(&daemon, "/api/session-directory?priority=visible&cursor=c1").await;
    assert_eq!(
        later.json()["items"].as_array().unwrap().len(),
        2,
        "live-only entries on the first page only"
    );

    let dirs = authorized_get(&daemon, "/api/files/candidate-dirs").await;
    assert_eq!(dirs.status, 200, "{}", dirs.text());
    let dirs: Vec<String> = serde_json::from_value(dirs.json()["directories"].clone()).unwrap();
    let at = |dir: &str| {
        dirs.iter()
            .position(|d| d == dir)
            .unwrap_or_else(|| panic!("{dir} in {dirs:?}"))
    };
    assert!(at(workdir) < at(INDEXED_PROJECT), "{dirs:?}");
    at("/srv/recent");
    let unique: std::collections::HashSet<&String> = dirs.iter().collect();
    assert_eq!(unique.len(), dirs.len(), "no directory twice: {dirs:?}");
}

/// Issue 16: a path that spells `/api/terminals` differently is still ptyhub's, answered as
/// the plain spelling is; freshell never sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_the_terminal_routes_is_answered_by_ptyhub() {
    let fake = FakeFreshell::start();
    let daemon = start_in_front_of(&fake);
    let (_browser, terminal_id) = Browser::with_a_shell(&daemon).await;

    for spelling in [
        "/api/terminals/",
        "/api//terminals",
        "//api/terminals",
        "/api/%74erminals",
        "/api/terminals//",
        "/api/%74erminals/?priority=visible",
    ] {
        let listed = authorized_get(&daemon, spelling).await;
        assert_eq!(listed.status, 200, "{spelling}: {}", listed.text());
        assert!(!listed.served_by_freshell(), "{spelling} reached freshell");
        assert!(
            listed.text().contains(&terminal_id),
            "{spelling}: ptyhub's terminal is not listed: {}",
            listed.text()
        );
    }
    for (spelling, plain) in [
        ("/api/%74erminals/nope/x/y", "/api/terminals/nope/x/y"),
        (
            "/api//terminals/no-such/search/",
            "/api/terminals/no-such/search",
        ),
    ] {
        let answered = authorized_get(&daemon, spelling).await;
        let expected = authorized_get(&daemon, plain).await;
        assert_eq!(answered.status, expected.status, "{spelling}");
        assert_eq!(answered.body, expected.body, "{spelling}");
        assert!(
            !answered.served_by_freshell(),
            "{spelling} reached freshell"
        );
    }
    assert!(
        fake.requests().iter().all(|r| !r.path.contains("erminals")),
        "a terminal route reached freshell: {:?}",
        fake.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}
