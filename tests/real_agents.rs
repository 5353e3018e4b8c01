//! The real coding CLIs under ptyhub (issue 12): `@openai/codex` and
//! `@anthropic-ai/claude-code` from the npm registry, installed outside the
//! repository (`.ci/run` puts them in `target/agents/`). Without network they
//! still start: codex asks its terminal about itself (kitty flags, DECRQM,
//! DA1, CPR, colours) and draws its sign-in screen; claude asks (XTVERSION,
//! DA1) and prints a connection error. With three viewers attached from the
//! start, no viewer is sent a query (the daemon answers them), and every
//! viewer shows the same screen. (codex draws even unanswered, so whether it
//! was answered once is `terminal_queries.rs`'s to show, with a fixture.)

mod common;

use std::path::Path;

use common::*;
use serde_json::json;

const AGENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/agents");

/// The versions whose startup queries issue 12 recorded.
const PACKAGES: [&str; 2] = ["@openai/codex@0.171.0", "@anthropic-ai/claude-code@2.1.197"];

/// The installed CLI, installed from the npm registry first if missing (`.ci/run` does it
/// ahead of the tests).
fn agent(name: &str) -> String {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    let path = Path::new(AGENTS).join("node_modules/.bin").join(name);
    INSTALL.call_once(|| {
        if path.exists() {
            return;
        }
        std::fs::create_dir_all(AGENTS).unwrap();
        let status = std::process::Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
                AGENTS,
            ])
            .args(PACKAGES)
            .status()
            .expect("run npm");
        assert!(status.success(), "npm install {PACKAGES:?} failed");
    });
    assert!(
        path.exists(),
        "{} is missing after npm install",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// Three viewers attached before the CLI's first output; returns them and their attaches.
async fn three_viewers_of(daemon: &Daemon, mode: &str) -> (String, Vec<(Client, String)>) {
    let (mut creator, _) = Client::connect_ready(daemon).await;
    let created = creator.create(json!({"mode": mode})).await;
    let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
    let mut viewers = Vec::new();
    let attach = creator.attach(&terminal_id).await;
    viewers.push((creator, attach));
    for _ in 0..2 {
        let (mut viewer, _) = Client::connect_ready(daemon).await;
        let attach = viewer.attach(&terminal_id).await;
        viewers.push((viewer, attach));
    }
    (terminal_id, viewers)
}

/// Every viewer's output holds `text`, and every viewer shows the same screen as the first.
async fn all_show_the_same(viewers: &mut [(Client, String)], text: &str) {
    for (viewer, attach) in viewers.iter_mut() {
        viewer.wait_for_text(attach, text).await;
    }
    let (first, first_attach) = &viewers[0];
    let expected = first.stream(first_attach).screen(ROWS, COLS);
    for (index, (viewer, attach)) in viewers.iter().enumerate().skip(1) {
        assert_same_screen(
            &expected,
            &viewer.stream(attach).screen(ROWS, COLS),
            &format!("viewer {} against viewer 1", index + 1),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_draws_its_sign_in_screen_for_three_viewers_who_never_see_its_queries() {
    let codex = toml::Value::String(agent("codex"));
    let daemon = Daemon::start(&format!("[providers.codex]\ncommand = {codex}\n"));
    let (_, mut viewers) = three_viewers_of(&daemon, "codex").await;
    all_show_the_same(&mut viewers, "Sign in with ChatGPT").await;
    for (viewer, attach) in &viewers {
        let output = &viewer.stream(attach).data;
        for query in ["\x1b[c", "\x1b[6n", "\x1b[?u", "\x1b]11;?"] {
            assert!(!output.contains(query), "a viewer was sent {query:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_starts_without_network_and_every_viewer_sees_the_same_error() {
    let claude = toml::Value::String(agent("claude"));
    let daemon = Daemon::start(&format!("[providers.claude]\ncommand = {claude}\n"));
    let (terminal_id, mut viewers) = three_viewers_of(&daemon, "claude").await;
    // Its words are placed by cursor moves: one word is what the output holds whole.
    all_show_the_same(&mut viewers, "ENOTFOUND").await;
    for (viewer, attach) in &viewers {
        let output = &viewer.stream(attach).data;
        for query in ["\x1b[>0q", "\x1b[c"] {
            assert!(!output.contains(query), "a viewer was sent {query:?}");
        }
    }
    let (viewer, _) = &mut viewers[0];
    assert_ne!(viewer.wait_for_exit(&terminal_id).await, 0);
}
