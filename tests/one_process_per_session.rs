//! One provider session is one process, however many sockets and panes ask for it.
//!
//! freshell opens a socket per browser tab and re-sends creates on every reconnect; the
//! daemon's job is to answer all of them with the one terminal that owns the session
//! (freshell spec §9.2–9.4, §10.9).

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_sockets_restoring_one_session_at_once_share_one_process() {
    let daemon = Daemon::start("");
    let session_id = uuid::Uuid::new_v4().to_string();
    let session_ref = json!({"provider": "claude", "sessionId": session_id});
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(Client::connect_ready(&daemon).await.0);
    }

    // Five tabs restore the same pane at the same moment, each from a different cwd.
    let creates: Vec<Value> = (0..5)
        .map(|i| {
            json!({
                "type": "terminal.create",
                "requestId": fresh_id("req"),
                "mode": "claude",
                "restore": true,
                "sessionRef": session_ref,
                "cwd": daemon.scratch_dir(&format!("cwd-{i}")),
            })
        })
        .collect();
    let mut terminal_ids = Vec::new();
    for created in create_at_once(&mut clients, &creates).await {
        assert_eq!(
            created["type"], "terminal.created",
            "every restore is answered with the terminal: {created}"
        );
        assert_eq!(
            created["sessionRef"], session_ref,
            "the terminal is bound to the session: {created}"
        );
        terminal_ids.push(created["terminalId"].as_str().unwrap().to_owned());
    }
    let terminal_id = terminal_ids[0].clone();
    assert!(
        terminal_ids.iter().all(|t| *t == terminal_id),
        "one terminal for one session: {terminal_ids:?}"
    );

    let mut attach_ids = Vec::new();
    for client in clients.iter_mut() {
        let attach = client.attach(&terminal_id).await;
        client.wait_for_text(&attach, "FAKE-AGENT").await;
        attach_ids.push(attach);
    }
    let spawned = daemon.spawns_mentioning(&session_id);
    assert_eq!(
        spawned.len(),
        1,
        "exactly one process was started for the session: {spawned:?}"
    );
    assert!(
        spawned[0]
            .argv
            .ends_with(&["--resume".into(), session_id.clone()]),
        "{spawned:?}"
    );
    assert_eq!(
        daemon.live_agents_mentioning(&session_id).len(),
        1,
        "exactly one process is alive"
    );

    // Input from any socket reaches the one child, and every socket sees every answer.
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .type_line(&terminal_id, &format!("echo from-{i}"))
            .await;
    }
    clients[0].type_line(&terminal_id, "echo last").await;
    for (client, attach) in clients.iter_mut().zip(&attach_ids) {
        for i in 0..5 {
            client
                .wait_for_text(attach, &format!("ECHO:from-{i}"))
                .await;
        }
        client.wait_for_text(attach, "ECHO:last\r\nfake> ").await;
    }
    let first = clients[0].stream(&attach_ids[0]);
    for (client, attach) in clients.iter().zip(&attach_ids).skip(1) {
        let other = client.stream(attach);
        assert_eq!(
            other.last_seq(),
            first.last_seq(),
            "every viewer ends at the same seq"
        );
        assert_same_output(&first.data, &other.data, "every viewer saw the same bytes");
    }
    assert_eq!(
        daemon.spawns_mentioning(&session_id).len(),
        1,
        "still one process after all that input"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_claude_gets_a_server_chosen_session_id_reported_everywhere() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;

    let created = client.create(json!({"mode": "claude"})).await;
    let session_ref = created["sessionRef"].clone();
    assert_eq!(
        session_ref["provider"], "claude",
        "terminal.created carries the sessionRef: {created}"
    );
    let session_id = session_ref["sessionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        is_uuid(&session_id),
        "the server chose a UUID session id: {created}"
    );
    let terminal_id = created["terminalId"].as_str().unwrap();

    let attach = client.attach(terminal_id).await;
    assert_eq!(
        client.stream(&attach).ready["sessionRef"],
        session_ref,
        "attach.ready carries the sessionRef"
    );
    client.wait_for_text(&attach, "FAKE-AGENT").await;

    let (_, handshake) = Client::connect_ready(&daemon).await;
    let listed = handshake
        .terminal(terminal_id)
        .expect("a new socket's inventory lists the terminal");
    assert_eq!(
        listed["sessionRef"], session_ref,
        "the inventory carries the sessionRef: {listed}"
    );
    assert_eq!(listed["status"], "running");
    assert_eq!(listed["mode"], "claude");

    let spawned = daemon.spawns_mentioning(&session_id);
    assert_eq!(spawned.len(), 1, "{spawned:?}");
    assert!(
        spawned[0]
            .argv
            .ends_with(&["--session-id".into(), session_id.clone()]),
        "the CLI was started with --session-id <the reported id>: {:?}",
        spawned[0].argv
    );
    assert!(
        !spawned[0].argv.contains(&"--resume".to_owned()),
        "{:?}",
        spawned[0].argv
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_with_a_session_ref_resumes_that_session() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let session_id = uuid::Uuid::new_v4().to_string();
    let session_ref = json!({"provider": "claude", "sessionId": session_id});

    let created = client
        .create(json!({"mode": "claude", "restore": true, "sessionRef": session_ref}))
        .await;
    assert_eq!(created["sessionRef"], session_ref, "{created}");
    let attach = client.attach(created["terminalId"].as_str().unwrap()).await;
    client.wait_for_text(&attach, "FAKE-AGENT").await;

    let spawned = daemon.spawns_mentioning(&session_id);
    assert_eq!(spawned.len(), 1, "{spawned:?}");
    assert!(
        spawned[0]
            .argv
            .ends_with(&["--resume".into(), session_id.clone()]),
        "the CLI was started with --resume <id>: {:?}",
        spawned[0].argv
    );
    assert!(
        !spawned[0].argv.contains(&"--session-id".to_owned()),
        "{:?}",
        spawned[0].argv
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_request_id_from_another_socket_returns_the_running_terminal() {
    let daemon = Daemon::start("");
    let (mut first_tab, _) = Client::connect_ready(&daemon).await;
    let request_id = fresh_id("req");

    let created = first_tab
        .create(json!({"mode": "claude", "requestId": request_id}))
        .await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let attach = first_tab.attach(&terminal_id).await;
    first_tab.wait_for_text(&attach, "FAKE-AGENT").await;

    // A reconnecting client re-sends the create that is still awaiting its answer.
    let (mut second_tab, _) = Client::connect_ready(&daemon).await;
    let again = second_tab
        .create(json!({"mode": "claude", "requestId": request_id}))
        .await;
    assert_eq!(
        again["terminalId"],
        terminal_id.as_str(),
        "the same requestId names the same terminal: {again}"
    );
    assert_eq!(again["sessionRef"], created["sessionRef"], "{again}");

    let second_attach = second_tab.attach(&terminal_id).await;
    second_tab.type_line(&terminal_id, "echo shared").await;
    second_tab
        .wait_for_text(&second_attach, "ECHO:shared")
        .await;
    first_tab.wait_for_text(&attach, "ECHO:shared").await;
    assert_eq!(
        daemon.ledger().len(),
        1,
        "nothing else was spawned: {:?}",
        daemon.ledger()
    );
}

/// Another terminal's exit forgets only that terminal's requestId: a create re-sent for a
/// terminal still running gets it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requestid_still_names_its_terminal_after_another_terminal_exits() {
    let daemon = Daemon::start("");
    let (mut tab, _) = Client::connect_ready(&daemon).await;
    let request_id = fresh_id("req");
    let created = tab
        .create(json!({"mode": "claude", "requestId": request_id}))
        .await;
    let other = tab.create(json!({"mode": "claude"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = tab.attach(&other).await;
    tab.wait_for_text(&attach, "fake> ").await;
    tab.type_line(&other, "exit 0").await;
    tab.wait_for_exit(&other).await;

    let again = tab
        .create(json!({"mode": "claude", "requestId": request_id}))
        .await;
    assert_eq!(again["terminalId"], created["terminalId"], "{again}");
    // Both agents have started (each writes its ledger line on start), and no third.
    let first = tab.attach(created["terminalId"].as_str().unwrap()).await;
    tab.wait_for_text(&first, "fake> ").await;
    assert_eq!(daemon.ledger().len(), 2, "{:?}", daemon.ledger());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_panes_on_one_socket_each_receive_every_frame() {
    let daemon = Daemon::start("");
    let (mut tab, _) = Client::connect_ready(&daemon).await;
    let created = tab.create(json!({"mode": "claude"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap();

    let left = tab
        .attach_with(
            terminal_id,
            Attach {
                attach_request_id: Some("pane-left:1:abcdef".into()),
                ..Default::default()
            },
        )
        .await;
    // The prompt, not just the banner: typed text echoed before it would merge with it.
    tab.wait_for_text(&left, "fake> ").await;
    let right = tab
        .attach_with(
            terminal_id,
            Attach {
                attach_request_id: Some("pane-right:1:ghijkl".into()),
                ..Default::default()
            },
        )
        .await;

    tab.type_line(terminal_id, "flood 2000").await;
    // Typing while output flows would put the tty's echo in the middle of the lines.
    tab.wait_for_text(&left, "line 2000\r\nfake> ").await;
    tab.type_line(terminal_id, "echo done").await;
    tab.wait_for_text(&left, "ECHO:done\r\nfake> ").await;
    tab.wait_for_text(&right, "ECHO:done\r\nfake> ").await;

    let (left, right) = (tab.stream(&left), tab.stream(&right));
    assert_same_output(
        &left.data,
        &right.data,
        "both panes received the same frames",
    );
    assert_eq!(left.last_seq(), right.last_seq());
    assert_eq!(
        numbered_lines(&left.data),
        (1..=2000).collect::<Vec<u64>>(),
        "every line arrived"
    );
}

/// A session is a provider's: the same id under two providers is two conversations, two
/// processes; each provider's later create joins its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_id_under_two_providers_is_two_sessions() {
    let daemon = Daemon::start("");
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let session_id = uuid::Uuid::new_v4().to_string();
    let under = |provider: &str| json!({"mode": provider, "restore": true, "sessionRef": {"provider": provider, "sessionId": session_id}});

    let claude = client.create(under("claude")).await;
    let codex = client.create(under("codex")).await;
    assert_ne!(
        claude["terminalId"], codex["terminalId"],
        "claude's and codex's sessions are not one: {claude} {codex}"
    );
    assert_eq!(codex["sessionRef"]["provider"], "codex", "{codex}");
    let again = client.create(under("claude")).await;
    assert_eq!(again["terminalId"], claude["terminalId"], "{again}");
    let again = client.create(under("codex")).await;
    assert_eq!(again["terminalId"], codex["terminalId"], "{again}");

    for terminal in [&claude, &codex] {
        let attach = client
            .attach(terminal["terminalId"].as_str().unwrap())
            .await;
        client.wait_for_text(&attach, "FAKE-AGENT").await;
    }
    let spawned = daemon.spawns_mentioning(&session_id);
    assert_eq!(spawned.len(), 2, "one process per provider: {spawned:#?}");
    assert!(
        spawned
            .iter()
            .any(|s| s.argv.ends_with(&["--resume".into(), session_id.clone()]))
            && spawned.iter().any(|s| s.argv.ends_with(&[
                "resume".into(),
                "--".into(),
                session_id.clone()
            ])),
        "claude resumed with --resume, codex with resume: {spawned:#?}"
    );
}

/// A reconnecting page that names the terminal it had (`liveTerminal`, same server instance)
/// gets that terminal back, even with a new requestId and no session to dedupe by.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_naming_its_live_terminal_reuses_it() {
    let daemon = Daemon::start("");
    let (mut first, handshake) = Client::connect_ready(&daemon).await;
    let instance = handshake.ready["serverInstanceId"].clone();
    // opencode: no server-chosen session id, so nothing but liveTerminal ties the creates.
    let created = first.create(json!({"mode": "opencode"})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let attach = first.attach(&terminal_id).await;
    first.wait_for_text(&attach, "FAKE-AGENT").await;
    first.close().await;

    let (mut second, _) = Client::connect_ready(&daemon).await;
    let reused = second
        .create(json!({"mode": "opencode", "liveTerminal": {"terminalId": terminal_id, "serverInstanceId": instance}}))
        .await;
    assert_eq!(reused["terminalId"], terminal_id.as_str(), "{reused}");
    assert_eq!(daemon.ledger().len(), 1, "{:#?}", daemon.ledger());

    // Another installation's terminal id is not this one's: a new process.
    let fresh = second
        .create(json!({"mode": "opencode", "liveTerminal": {"terminalId": terminal_id, "serverInstanceId": "srv-elsewhere"}}))
        .await;
    assert_ne!(fresh["terminalId"], terminal_id.as_str(), "{fresh}");
    let attach = second.attach(fresh["terminalId"].as_str().unwrap()).await;
    second.wait_for_text(&attach, "FAKE-AGENT").await;
    assert_eq!(daemon.ledger().len(), 2, "{:#?}", daemon.ledger());
}
