//! The state dir holds the tokens, so nothing in it may redirect the daemon: a symlink
//! planted at a state file or at a temp name is neither read nor written through, and a
//! directory others own or may write into is refused at start, by the daemon and the CLI.

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::daemon::{serve_on_own_tokens, serve_refused};
use common::*;

const STATE_FILES: [&str; 4] = ["view-token", "instance-id", "daemon.json", "sessions.json"];
const PLANTED_VIEW_TOKEN: &str = "view-planted-by-someone-else-0123456789";
const PLANTED_INSTANCE_ID: &str = "srv-planted-by-someone-else";

/// Files outside the state dir, each the target of a symlink planted at `name` inside it.
fn plant_symlinks(state_dir: &Path, outside: &Path, names: &[&str]) {
    for name in names {
        let target = outside.join(format!("target-of-{name}"));
        let content = match *name {
            "view-token" => PLANTED_VIEW_TOKEN,
            "instance-id" => PLANTED_INSTANCE_ID,
            _ => "untouched",
        };
        std::fs::write(&target, content).unwrap();
        let link = state_dir.join(name);
        let _ = std::fs::remove_file(&link);
        symlink(&target, &link).unwrap();
    }
}

fn assert_targets_untouched(outside: &Path) {
    for entry in std::fs::read_dir(outside).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            ["untouched", PLANTED_VIEW_TOKEN, PLANTED_INSTANCE_ID].contains(&text.as_str()),
            "the daemon wrote through a symlink into {}: {text:?}",
            path.display()
        );
    }
}

fn assert_regular_file(path: &Path) {
    let meta = std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{} is missing: {e}", path.display()));
    assert!(meta.is_file(), "{} is not a regular file", path.display());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "{} is not private",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_planted_at_state_files_and_temp_names_are_never_followed() {
    let outside = tempfile::tempdir().unwrap();
    let daemon = Daemon::start("");
    let daemon =
        daemon.restart_with(|state_dir| plant_symlinks(state_dir, outside.path(), &STATE_FILES));

    // The planted values were not read: not the view token, not the instance id.
    let mut planted = Client::connect(&daemon).await;
    planted
        .send_json(&serde_json::json!({
            "type": "hello", "protocolVersion": 7, "token": PLANTED_VIEW_TOKEN,
        }))
        .await;
    let (_, code) = planted.recv_until_closed(PATIENCE).await;
    assert_eq!(code, Some(4001), "a planted view token was accepted");
    let (mut owner, handshake) = Client::connect_ready(&daemon).await;
    assert_ne!(handshake.ready["serverInstanceId"], PLANTED_INSTANCE_ID);

    // The sessions file's temp name, planted while the daemon runs, before its next save.
    let pid = daemon.pid().expect("running");
    let temp_link = daemon.state_dir.join(format!("sessions.tmp-{pid}"));
    let temp_target = outside.path().join("target-of-sessions-temp");
    std::fs::write(&temp_target, "untouched").unwrap();
    symlink(&temp_target, &temp_link).unwrap();
    let agent = owner.start_fake_agent().await;
    let sessions = daemon.state_dir.join("sessions.json");
    settle_until(PATIENCE, || {
        std::fs::symlink_metadata(&sessions).is_ok_and(|m| m.is_file())
            && std::fs::read_to_string(&sessions).is_ok_and(|t| t.contains(&agent.session_id))
    })
    .await;

    assert_targets_untouched(outside.path());
    for name in STATE_FILES {
        assert_regular_file(&daemon.state_dir.join(name));
    }
    assert!(
        std::fs::read_to_string(daemon.state_dir.join("sessions.json"))
            .unwrap()
            .contains(&agent.session_id),
        "the session was not saved in place of the symlink"
    );
}

#[test]
fn a_state_dir_others_may_write_into_is_refused_by_the_daemon_and_the_cli() {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o770)).unwrap();
    let token = fresh_id("token");
    let stderr = serve_refused(&shared, &[("AUTH_TOKEN", &token)]);
    assert!(stderr.contains("refusing the state dir"), "{stderr}");
    assert!(stderr.contains("chmod 700"), "{stderr}");
    assert!(
        std::fs::read_dir(&shared).unwrap().next().is_none(),
        "the daemon wrote into a refused dir"
    );

    // A record planted there would send the CLI (and its AUTH_TOKEN) elsewhere.
    std::fs::write(
        shared.join("daemon.json"),
        format!(
            r#"{{"url":"http://127.0.0.1:9/","token":"x","pid":{}}}"#,
            std::process::id()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ptyhub"))
        .args(["ls", "--state-dir"])
        .arg(&shared)
        .env_remove("PTYHUB_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the CLI used a record from a shared dir"
    );
    assert!(stderr.contains("refusing the state dir"), "{stderr}");
}

#[test]
fn a_state_dir_owned_by_another_user_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let foreign = root.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    // Only root can give a directory away; as anyone else, the test cannot stage it.
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot make a directory owned by another user; skipped");
        return;
    }
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
    let token = fresh_id("token");
    let stderr = serve_refused(&foreign, &[("AUTH_TOKEN", &token)]);
    assert!(stderr.contains("belongs to uid 65534"), "{stderr}");
}

/// Starts the daemon without `AUTH_TOKEN` on `state_dir`, and returns the token it chose (from
/// its record) once it serves; then stops it.
fn token_of_a_run_without_auth_token(state_dir: &Path) -> String {
    let mut child = serve_on_own_tokens(state_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the ptyhub binary");
    let record = state_dir.join("daemon.json");
    let deadline = std::time::Instant::now() + PATIENCE;
    let token = loop {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            break value["token"].as_str().expect("a token").to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon wrote no record"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().expect("the daemon stops");
    token
}

/// A token the daemon generated itself is kept in the state dir, private like the view
/// token: a restart keeps it, so open tabs and printed `?token=` URLs keep working. A symlink
/// planted at its name is neither read nor written through.
#[test]
fn a_generated_token_is_kept_across_restarts_and_never_read_through_a_symlink() {
    let root = tempfile::tempdir().unwrap();
    let state_dir = root.path().join("state");
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&state_dir)
        .unwrap();
    let first = token_of_a_run_without_auth_token(&state_dir);
    let second = token_of_a_run_without_auth_token(&state_dir);
    assert_eq!(first, second, "a restart changed the generated token");
    assert_regular_file(&state_dir.join("token"));

    let outside = tempfile::tempdir().unwrap();
    let planted = "planted-by-someone-else-0123456789abcdef";
    let target = outside.path().join("target-of-token");
    std::fs::write(&target, planted).unwrap();
    std::fs::remove_file(state_dir.join("token")).unwrap();
    symlink(&target, state_dir.join("token")).unwrap();
    let third = token_of_a_run_without_auth_token(&state_dir);
    assert_ne!(
        third, planted,
        "the token was read through a planted symlink"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), planted);
    assert_regular_file(&state_dir.join("token"));
}
