//! How the screen model follows a real child's output on its own, with no
//! viewer and no registry asking for the screen.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::{FrameLimit, LaunchSpec, Session, SessionConfig, SessionInfo, SizePolicy};

fn session_running(script: &str) -> Arc<Session> {
    let info = SessionInfo {
        terminal_id: "screen-feed-test".into(),
        stream_id: "screen-feed-test".into(),
        mode: "shell".into(),
        title: "test".into(),
        cwd: None,
        session_ref: None,
        created_at_ms: super::now_ms(),
    };
    let spec = LaunchSpec {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        cwd: None,
        env_set: Vec::new(),
        env_remove: Vec::new(),
        cols: 80,
        rows: 24,
    };
    let config = SessionConfig {
        replay_ring_bytes: 8 * 1024 * 1024,
        frame_limit: FrameLimit::utf8_bytes(16 * 1024),
        kill_grace: Duration::from_millis(50),
        size_policy: SizePolicy::default(),
        theme: Default::default(),
    };
    Session::spawn(info, &spec, config, None).expect("sh starts on a PTY")
}

fn unparsed_bytes(session: &Session) -> u64 {
    let appended = session.ring.lock().appended_bytes();
    appended.saturating_sub(session.screen_parsed_offset.load(Ordering::Relaxed))
}

/// Waits (up to 10 s) for `done`, checking every 10 ms.
async fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_bytes_of_output_reach_the_model_with_nobody_asking() {
    let session = session_running("printf 'hello from the child'; exec sleep 30");
    let printed = eventually(|| session.ring.lock().appended_bytes() > 0).await;
    assert!(printed, "the child's output never reached the ring");
    let followed = eventually(|| unparsed_bytes(&session) == 0).await;
    assert!(
        followed,
        "{} bytes of output were never parsed by the screen model",
        unparsed_bytes(&session)
    );
    assert!(session
        .screen
        .lock()
        .text()
        .contains("hello from the child"));
    session.process.signal_group(libc::SIGKILL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_in_small_reads_wakes_no_catch_up_per_read() {
    // A hundred lines a few milliseconds apart: a read each, as typing
    // echoes or an agent's spinner come.
    let session = session_running(
        "i=0; while [ $i -lt 100 ]; do printf 'line %d\\n' $i; i=$((i+1)); sleep 0.005; done; exec sleep 30",
    );
    let followed = eventually(|| {
        unparsed_bytes(&session) == 0 && session.screen.lock().text().contains("line 99")
    })
    .await;
    assert!(followed, "the screen model never showed the last line");
    let at_once = session.screen_catch_ups_at_once.load(Ordering::Relaxed);
    assert_eq!(
        at_once, 0,
        "small reads woke {at_once} catch-ups at once; they wait for a batch or a pause"
    );
    session.process.signal_group(libc::SIGKILL);
}
