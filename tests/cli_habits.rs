//! What a tmux user expects of ptyhub's CLI beyond attaching (issue 15): a remembered session
//! resumed by `attach` and `send` exactly once, names (`new -s`) wherever an id goes, `send`
//! with tmux's key names, `new -- <command>` with its words as the argv, a detach key from the
//! config file or the environment that works inside tmux, `attach` ending with the session's
//! exit code, shell completions that load in bash, and errors that say what to do.
//!
//! Real parts only: the `ptyhub` binary against a test daemon, a tmux pane as the terminal
//! (`tests/common/cli.rs`), the fake agent as claude and a raw-mode byte dumper as the program
//! that reports exactly which bytes arrive.

mod common;

use std::process::{Command, Stdio};

use common::cli::*;
use common::{answered_hex_on_screen, hex, Daemon, RAW_INPUT_DUMP};
use serde_json::Value;

/// A daemon whose `dump` mode runs the raw-mode byte dumper (every read shown as `HEX:…`).
fn daemon_with_dumper() -> Daemon {
    let dumper = toml::Value::String(RAW_INPUT_DUMP.to_owned());
    Daemon::start(&format!("[providers.dump]\ncommand = {dumper}\n"))
}

/// The bytes the dumper in `target` has reported so far, in hex.
fn dumped_hex(daemon: &Daemon, target: &str) -> String {
    answered_hex_on_screen(&snapshot(daemon, target))
}

/// Waits until the dumper in `target` has reported exactly `expected` (hex), and says so.
fn wait_for_dumped(daemon: &Daemon, target: &str, expected: &str) {
    poll(&format!("the dumper reports {expected}"), || {
        let seen = dumped_hex(daemon, target);
        if seen == expected {
            Ok(())
        } else {
            Err(seen)
        }
    });
}

/// Fake-agent starts that resumed `session_id`, once at least one has (an agent writes its
/// ledger line when it starts, a moment after the daemon answered).
fn resumes_of(daemon: &Daemon, session_id: &str) -> usize {
    poll(&format!("an agent resumed {session_id}"), || {
        let resumes = daemon
            .spawns_mentioning(session_id)
            .iter()
            .filter(|spawn| spawn.arg_after("--resume") == Some(session_id))
            .count();
        if resumes > 0 {
            Ok(resumes)
        } else {
            Err("no resume in the ledger".to_owned())
        }
    })
}

fn running_terminals_of(daemon: &Daemon, session_id: &str) -> Vec<Value> {
    sessions(daemon)
        .into_iter()
        .filter(|s| s["status"] == "running" && s["sessionRef"]["sessionId"] == session_id)
        .collect()
}

/// stderr of a failed CLI run, asserting it failed and said one line.
fn one_line_failure(daemon_state: &std::path::Path, args: &[&str]) -> String {
    let output = ptyhub_in(daemon_state, args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "`ptyhub {}` succeeded:\n{stderr}",
        args.join(" ")
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line of error: {stderr}"
    );
    stderr
}

// ---------------------------------------------------------------------------------------------
// Resume
// ---------------------------------------------------------------------------------------------

#[test]
fn attach_and_send_resume_a_remembered_session_exactly_once_after_a_restart() {
    let daemon = Daemon::start("");
    let old = new_session(&daemon, &["--mode", "claude", "-s", "work"]);
    let session_id = session(&daemon, &old)["sessionRef"]["sessionId"]
        .as_str()
        .expect("claude has a session id")
        .to_owned();
    ptyhub_ok(&daemon, &["send", &old, "echo before-restart", "Enter"]);
    wait_for_snapshot(&daemon, &old, "ECHO:before-restart");

    let daemon = daemon.restart();
    let remembered = session(&daemon, &old);
    assert_eq!(remembered["status"], "exited", "{remembered}");
    assert_eq!(remembered["resumable"], true, "{remembered}");
    let table = ptyhub_ok(&daemon, &["ls"]);
    let row = table
        .lines()
        .find(|l| l.starts_with(old.as_str()))
        .unwrap_or_else(|| panic!("{old} in the table:\n{table}"));
    assert!(row.contains("resumable") && row.contains("work"), "{table}");
    // The screen of a session that is not running yet: the error names the command that works.
    let no_screen = one_line_failure(&daemon.state_dir, &["snapshot", &old]);
    assert!(
        no_screen.contains(&format!("`ptyhub attach {old}`")),
        "{no_screen}"
    );

    // Four `send`s by the old id and one by name, all at once: one process resumes the session.
    let mut senders: Vec<_> = (0..4)
        .map(|i| format!("echo sent-{i}"))
        .chain(["echo by-name".to_owned()])
        .enumerate()
        .map(|(i, line)| {
            let target = if i == 4 { "work" } else { old.as_str() };
            Command::new(PTYHUB)
                .args(["send", target, &line, "Enter", "--state-dir"])
                .arg(&daemon.state_dir)
                .env_remove("AUTH_TOKEN")
                .env_remove("PTYHUB_URL")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run ptyhub send")
        })
        .collect();
    for sender in senders.drain(..) {
        let output = sender.wait_with_output().expect("ptyhub send ends");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for i in 0..4 {
        wait_for_snapshot(&daemon, "work", &format!("ECHO:sent-{i}"));
    }
    wait_for_snapshot(&daemon, &old, "ECHO:by-name");
    assert_eq!(resumes_of(&daemon, &session_id), 1, "one resumed process");

    // attach by the old id shows that process, which keeps the name.
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, &format!("attach {old}"));
    pane.wait_for_text("ECHO:by-name");
    pane.type_line("echo typed-after-resume");
    pane.wait_for_text("ECHO:typed-after-resume");
    let running = running_terminals_of(&daemon, &session_id);
    assert_eq!(running.len(), 1, "{running:?}");
    assert_eq!(running[0]["resumedFrom"], old.as_str());
    assert_eq!(running[0]["title"], "work", "the name survives the resume");
    assert_eq!(running[0]["viewers"], 1);

    // `new --resume` of a session that runs joins it.
    let joined = new_session(&daemon, &["--mode", "claude", "--resume", &session_id]);
    assert_eq!(joined, running[0]["terminalId"].as_str().expect("an id"));
    assert_eq!(resumes_of(&daemon, &session_id), 1, "still one process");
    pane.press(&["C-\\", "d"]);
    pane.wait_for_text("[detached");
}

#[test]
fn new_resume_starts_a_named_agent_session_once() {
    let daemon = Daemon::start("");
    let session_id = uuid::Uuid::new_v4().to_string();
    let id = new_session(
        &daemon,
        &[
            "--mode",
            "claude",
            "--resume",
            &session_id,
            "-s",
            "old-work",
        ],
    );
    assert_eq!(resumes_of(&daemon, &session_id), 1);
    assert_eq!(session(&daemon, &id)["title"], "old-work");
    let again = new_session(&daemon, &["--mode", "claude", "--resume", &session_id]);
    assert_eq!(again, id, "the running terminal of that session");
    assert_eq!(resumes_of(&daemon, &session_id), 1);
    let shell = one_line_failure(&daemon.state_dir, &["new", "--resume", &session_id]);
    assert!(shell.contains("cannot be resumed"), "{shell}");
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

#[test]
fn send_types_tmux_key_names_and_text() {
    let daemon = daemon_with_dumper();
    let id = new_session(&daemon, &["--mode", "dump", "-s", "dumper"]);
    wait_for_snapshot(&daemon, &id, "RAW-READY");

    ptyhub_ok(
        &daemon,
        &[
            "send", "dumper", "C-c", "Enter", "Up", "a b", "M-x", "F5", "C-Left",
        ],
    );
    let keys = format!(
        "03{}{}{}{}{}{}",
        "0d",
        hex("\x1b[A"),
        hex("a b"),
        hex("\x1bx"),
        hex("\x1b[15~"),
        hex("\x1b[1;5D")
    );
    wait_for_dumped(&daemon, &id, &keys);
    // -l types the names as text; --enter presses Enter after.
    ptyhub_ok(&daemon, &["send", "-l", &id, "Enter", "C-c", "--enter"]);
    wait_for_dumped(&daemon, &id, &format!("{keys}{}", hex("EnterC-c\r")));
}

#[test]
fn a_detach_key_from_the_config_file_or_the_environment_works_inside_tmux() {
    let daemon = daemon_with_dumper();
    let id = new_session(&daemon, &["--mode", "dump"]);
    wait_for_snapshot(&daemon, &id, "RAW-READY");
    let config = daemon.scratch_dir("config").join("config.toml");
    std::fs::write(&config, "[attach]\ndetach_key = \"C-g x\"\n").expect("write the config");
    let config_env = format!("PTYHUB_CONFIG={}", config.display());

    let pane = Pane::start();
    pane.run_ptyhub_with_env(&daemon, &config_env, &format!("attach {id}"));
    pane.wait_for_text("RAW-READY");
    // The default key is only keys now: the session gets both.
    pane.press(&["C-\\", "d"]);
    wait_for_dumped(&daemon, &id, "1c64");
    pane.press(&["C-g", "x"]);
    pane.wait_for_text(&detached_line(&id));
    pane.wait_for_text("[ptyhub exit 0]");
    assert_eq!(
        dumped_hex(&daemon, &id),
        "1c64",
        "the detach key is not typed"
    );

    // The environment wins over the file.
    pane.run_ptyhub_with_env(
        &daemon,
        &format!("{config_env} PTYHUB_DETACH_KEY=C-y"),
        &format!("attach {id}"),
    );
    pane.wait_for_text("HEX:");
    pane.press(&["C-g", "x"]);
    wait_for_dumped(&daemon, &id, "1c640778");
    pane.press(&["C-y", "d"]);
    pane.wait_for_text(&detached_line(&id));
    assert_eq!(dumped_hex(&daemon, &id), "1c640778");
    pane.assert_outer_shell_is_sane();
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

#[test]
fn new_runs_the_words_after_double_dash_as_the_argv_never_through_a_shell() {
    let daemon = Daemon::start("");
    let id = new_session(
        &daemon,
        &[
            "-s",
            "words",
            "--",
            "/bin/sh",
            "-c",
            r#"printf '<%s>\n' "$@"; exec cat"#,
            "sh",
            "a b",
            "$(echo injected)",
            "; echo also-injected",
        ],
    );
    let screen = wait_for_snapshot(&daemon, "words", "<; echo also-injected>");
    for word in ["<a b>", "<$(echo injected)>"] {
        assert!(screen.contains(word), "{word} in:\n{screen}");
    }
    assert!(!screen.contains("<injected>"), "{screen}");
    let record = session(&daemon, &id);
    assert_eq!(record["mode"], "shell");
    assert_eq!(record["title"], "words");
    assert!(record["sessionRef"].is_null(), "{record}");
}

#[test]
fn a_full_screen_command_runs_attached_and_attach_ends_with_the_session_exit_code() {
    let daemon = Daemon::start("");
    let pane = Pane::start();
    pane.run_ptyhub(&daemon, "new --attach -s monitor -- top -d 1");
    let screen = pane.wait_for_text("load average");
    assert!(screen.contains("PID"), "{screen}");
    let record = sessions(&daemon)
        .into_iter()
        .find(|s| s["title"] == "monitor")
        .expect("the top session is listed by its name");
    assert_eq!(record["status"], "running");
    pane.press(&["q"]);
    pane.wait_for_text("[exited with code 0]");
    pane.wait_for_text("[ptyhub exit 0]");
    pane.assert_outer_shell_is_sane();

    pane.run_ptyhub(&daemon, "new --attach -- /bin/bash --norc --noprofile");
    pane.wait_for("the inner shell's prompt", |s| s.contains("bash-"));
    pane.type_line("exit 3");
    pane.wait_for_text("[exited with code 3]");
    pane.wait_for_text("[ptyhub exit 3]");
}

// ---------------------------------------------------------------------------------------------
// Completions, memory, errors
// ---------------------------------------------------------------------------------------------

#[test]
fn bash_completion_loads_and_completes_subcommands_and_flags() {
    let pane = Pane::start();
    pane.type_line(&format!(
        "source <({PTYHUB} completions bash) && echo loaded-$((1+1))"
    ));
    pane.wait_for_text("loaded-2");
    pane.type_line("clear");
    pane.wait_for("a cleared pane", |s| {
        s.trim_start().starts_with(OUTER_PROMPT_SHOWN)
    });
    pane.tmux(&["send-keys", "-t", "main", "-l", &format!("{PTYHUB} atta")]);
    pane.press(&["Tab"]);
    // capture-pane drops the blank the completion adds; the next word shows it.
    pane.wait_for("the subcommand completed", |s| {
        s.lines().any(|l| l.ends_with(&format!("{PTYHUB} attach")))
    });
    pane.tmux(&["send-keys", "-t", "main", "-l", "--", "--detach-k"]);
    pane.press(&["Tab"]);
    pane.wait_for("the flag completed", |s| {
        s.lines()
            .any(|l| l.ends_with(&format!("{PTYHUB} attach --detach-key")))
    });
    pane.press(&["C-c"]);

    for shell in ["zsh", "fish"] {
        let output = Command::new(PTYHUB)
            .args(["completions", shell])
            .output()
            .expect("run ptyhub");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && script.contains("detach-key"),
            "{shell}: {script}"
        );
    }
}

#[test]
fn ls_shows_processes_and_resident_memory_of_running_sessions() {
    let daemon = Daemon::start("[limits]\naccounting_interval_ms = 100\n");
    let id = new_session(&daemon, &[]);
    let table = poll("ls shows figures for the shell", || {
        let table = ptyhub_ok(&daemon, &["ls"]);
        let header = table.lines().next().unwrap_or_default().to_owned();
        let row = table
            .lines()
            .find(|l| l.starts_with(id.as_str()))
            .unwrap_or_default()
            .to_owned();
        let cell = |column: &str| {
            header
                .find(column)
                .and_then(|at| row.get(at..))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_default()
                .to_owned()
        };
        let (procs, rss) = (cell("PROCS"), cell("RSS"));
        let measured = procs.parse::<u32>().is_ok_and(|n| n >= 1)
            && rss.ends_with(['K', 'M'])
            && rss[..rss.len() - 1].parse::<f64>().is_ok_and(|n| n > 0.0);
        if measured {
            Ok(table)
        } else {
            Err(table)
        }
    });
    assert!(table.contains("running"), "{table}");
}

#[test]
fn errors_are_one_line_and_say_what_to_do() {
    let daemon = Daemon::start("[providers.claude]\ncommand = \"/nonexistent/claude\"\n");
    let scratch = daemon.scratch_dir("here");
    let file = scratch.join("a-file");
    std::fs::write(&file, "x").expect("write a file");
    let missing = scratch.join("missing");

    let no_dir = one_line_failure(
        &daemon.state_dir,
        &["new", "--cwd", missing.to_str().unwrap()],
    );
    assert!(no_dir.contains("there is no directory"), "{no_dir}");
    let not_dir = one_line_failure(&daemon.state_dir, &["new", "--cwd", file.to_str().unwrap()]);
    assert!(not_dir.contains("is not a directory"), "{not_dir}");
    assert!(sessions(&daemon).is_empty(), "nothing was started");

    let no_claude = one_line_failure(&daemon.state_dir, &["new", "--mode", "claude"]);
    assert!(
        no_claude.contains("/nonexistent/claude does not exist")
            && no_claude.contains("[providers.claude]"),
        "{no_claude}"
    );

    let taken = new_session(&daemon, &["-s", "taken"]);
    let duplicate = one_line_failure(&daemon.state_dir, &["new", "-s", "taken"]);
    assert!(
        duplicate.contains(&taken) && duplicate.contains("another name"),
        "{duplicate}"
    );

    // A daemon that is gone: the record's pid is named, the io error said once.
    let gone = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        gone.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("private dir");
    let record = gone.path().join("daemon.json");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("port").port();
    drop(listener);
    std::fs::write(
        &record,
        format!(
            r#"{{"url":"http://127.0.0.1:{port}/","token":"t","pid":{}}}"#,
            std::process::id()
        ),
    )
    .expect("write the record");
    std::fs::set_permissions(&record, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("private record");
    let unanswered = one_line_failure(gone.path(), &["ls"]);
    assert!(
        unanswered.contains(&format!("(pid {})", std::process::id()))
            && unanswered.matches("refused").count() == 1,
        "{unanswered}"
    );
}
