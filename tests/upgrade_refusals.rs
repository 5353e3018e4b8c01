//! An upgrade that cannot go well is refused and changes nothing, so a broken build never costs
//! the running agents: a binary that does not run, hangs, reads another handover format
//! (`check-handover` names the ones it reads), or cannot read the very state it is to take
//! over leaves the daemon serving; a second daemon on a state dir in use is refused while the
//! first keeps serving.

mod common;

use std::path::Path;
use std::process::Command;

use common::upgrade::{daemon_status, install_file, ptyhub};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_that_cannot_take_over_is_refused_and_the_daemon_keeps_serving() {
    let daemon = Daemon::start_from_copied_binary("", &[]);
    let daemon_pid = daemon.pid().unwrap();
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    let ours = Path::new(env!("CARGO_BIN_EXE_ptyhub"));

    let refusals: [(&str, &[u8], &str); 3] = [
        (
            "a build that reads another handover format",
            b"#!/bin/sh\necho 'ptyhub 9.0.0 reads handover formats [7], not 2' >&2\nexit 1\n",
            "reads handover formats [7], not 2",
        ),
        (
            "a file that is no program",
            b"\x7fELF garbage",
            "does not run",
        ),
        (
            "a binary that hangs",
            b"#!/bin/sh\nexec sleep 600\n",
            "did not answer",
        ),
    ];
    for (what, contents, reason) in refusals {
        install_file(daemon.binary_path(), contents);
        let upgrade = ptyhub(ours, &daemon, &["upgrade"]);
        let said = String::from_utf8_lossy(&upgrade.stderr);
        assert!(!upgrade.status.success(), "{what}: the upgrade went ahead");
        assert!(
            said.contains("cannot take over") && said.contains(reason),
            "{what}: {said}"
        );
        // Nothing changed: same process, no handover, the viewer's socket still open.
        assert!(process_is_alive(daemon_pid));
        assert_eq!(daemon_status(&daemon).unwrap()["handovers"], 0);
        viewer
            .type_line(&agent.terminal_id, &format!("echo after {what}"))
            .await;
        viewer
            .wait_for_text(&agent.attach, &format!("ECHO:after {what}"))
            .await;
    }

    // A build that claims the running format but cannot read the state itself (a format changed without
    // a new number): found when it reads the real state, before the exec. The sockets had
    // been closed for the exec by then: clients come back, and the agent's output meanwhile
    // is all there.
    install_file(
        daemon.binary_path(),
        b"#!/bin/sh\ncase \"$*\" in\n  *--state-fd*) echo 'the handover state of format 2 does not read: missing field `x`' >&2; exit 1;;\n  *) echo 'takes over handover format 2';;\nesac\n",
    );
    let had = viewer.stream(&agent.attach).next_seq - 1;
    let upgrade = ptyhub(ours, &daemon, &["upgrade"]);
    let said = String::from_utf8_lossy(&upgrade.stderr);
    assert!(!upgrade.status.success(), "the upgrade went ahead");
    assert!(said.contains("missing field `x`"), "{said}");
    let status = daemon_status(&daemon).unwrap();
    assert_eq!(status["handovers"], 0);
    assert_eq!(status["upgradeFailures"], 4, "{status}");
    let (_, code) = viewer.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4009));
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let attach = viewer.reattach_since(&agent.terminal_id, had).await;
    viewer
        .type_line(&agent.terminal_id, "echo after a state it could not read")
        .await;
    viewer
        .wait_for_text(&attach, "ECHO:after a state it could not read")
        .await;
    assert!(viewer.stream(&attach).gaps.is_empty());
    let agent = FakeAgent { attach, ..agent };

    // SIGUSR2 with a broken binary: the same refusal, in the log.
    install_file(daemon.binary_path(), b"#!/bin/sh\nexit 3\n");
    daemon.signal(libc::SIGUSR2);
    wait_until("the refusal is logged", PATIENCE, || {
        daemon.log().contains("SIGUSR2 upgrade did not happen")
    })
    .await;
    viewer
        .type_line(&agent.terminal_id, "echo after SIGUSR2")
        .await;
    viewer
        .wait_for_text(&agent.attach, "ECHO:after SIGUSR2")
        .await;
    assert_eq!(daemon.ledger().len(), 1);
}

#[test]
fn check_handover_names_the_formats_it_reads() {
    let ours = env!("CARGO_BIN_EXE_ptyhub");
    let accepted = Command::new(ours)
        .args(["check-handover", "--format", "2"])
        .output()
        .unwrap();
    assert!(accepted.status.success());
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("takes over handover format 2"));
    for other in ["0", "3"] {
        let refused = Command::new(ours)
            .args(["check-handover", "--format", other])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "format {other} was accepted");
        assert!(
            String::from_utf8_lossy(&refused.stderr)
                .contains(&format!("reads handover formats [1, 2], not {other}")),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_a_state_dir_in_use_is_refused_and_the_first_keeps_serving() {
    let daemon = Daemon::start("");
    let second = Command::new(env!("CARGO_BIN_EXE_ptyhub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
        .arg(&daemon.state_dir)
        .env(
            "AUTH_TOKEN",
            "another-token-long-enough-for-the-check-0123456789",
        )
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second daemon started: {said}");
    assert!(
        said.contains(&format!(
            "another ptyhub daemon (pid {}",
            daemon.pid().unwrap()
        )),
        "{said}"
    );
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let agent = viewer.start_fake_agent().await;
    viewer.type_line(&agent.terminal_id, "echo first").await;
    viewer.wait_for_text(&agent.attach, "ECHO:first").await;
    let record = std::fs::read_to_string(daemon.state_dir.join("daemon.json")).unwrap();
    assert!(
        record.contains(&daemon.token),
        "the first daemon's record was overwritten"
    );
}
