//! A viewer that stops reading never slows the child or the other viewers; when it reads
//! again it is told exactly what it lost and is repainted (docs/test-contract.md: a live
//! viewer more than `viewer_queue_bytes` behind gets `queue_overflow` gap + screen).

mod common;

use std::path::Path;

use common::daemon::read_json_file;
use common::*;
use serde_json::json;

const VIEWER_QUEUE_BYTES: u64 = 256 * 1024;
/// Several times a stalled viewer's queue plus its socket buffers (kept small: see
/// `Client::connect_with_small_receive_buffer`).
const FLOOD_BYTES: u64 = 1_500_000;
/// The pace the flooder aims at: well within what even a debug build of the daemon delivers
/// to a reading viewer, so a healthy viewer never falls a whole queue behind; a daemon that
/// let a stalled viewer hold back the PTY would still drop the achieved rate far below it.
const FLOOD_TARGET_BYTES_PER_SECOND: u64 = 1_000_000;

/// Runs the flooder in the shell, waits until `viewer` saw it finish, returns the rate the
/// child achieved (bytes/second).
async fn flood(
    viewer: &mut Client,
    attach: &str,
    terminal_id: &str,
    tag: &str,
    report: &Path,
) -> f64 {
    let command = format!(
        "{FLOODER} {tag} {FLOOD_BYTES} {} {FLOOD_TARGET_BYTES_PER_SECOND}",
        report.display()
    );
    viewer.type_line(terminal_id, &command).await;
    viewer
        .wait_for_text(attach, &format!("flooder {tag} finished"))
        .await;
    let report = read_json_file(report, PATIENCE);
    report["bytes"].as_f64().unwrap() / report["seconds"].as_f64().unwrap().max(1e-6)
}

/// The indices of the flooder's lines tagged `tag`, in order of appearance. Only the text
/// after a line's last carriage return counts (bash prints `ESC[?2004l CR` before a command's
/// output).
fn flood_lines(output: &str, tag: &str) -> Vec<u64> {
    output
        .split('\n')
        .filter_map(|line| line.trim_end_matches('\r').rsplit('\r').next())
        .filter_map(|line| {
            line.strip_prefix(tag)?
                .strip_prefix(' ')?
                .get(..8)?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_viewer_is_resynced_without_slowing_the_child_or_other_viewers() {
    let daemon = Daemon::start(&format!(
        "[sessions]\nviewer_queue_bytes = {VIEWER_QUEUE_BYTES}\n"
    ));
    let reports = daemon.scratch_dir("reports");
    let (mut healthy, _) = Client::connect_ready(&daemon).await;
    let terminal_id = healthy.create(json!({"mode": "shell"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let watched = healthy.attach(&terminal_id).await;
    healthy.type_line(&terminal_id, "PS1='REA''DY> '").await;
    healthy.wait_for_text(&watched, "READY> ").await;

    // The child's own write rate with only a healthy viewer attached...
    let rate_alone = flood(
        &mut healthy,
        &watched,
        &terminal_id,
        "FLOOD-A",
        &reports.join("a.json"),
    )
    .await;

    // ...and with a viewer that is attached but stops reading.
    let mut stalled = Client::connect_with_small_receive_buffer(&daemon, 4096).await;
    stalled.hello().await;
    let stuck = stalled.attach(&terminal_id).await;
    let caught_up_to = stalled.stream(&stuck).ready["replayToSeq"]
        .as_u64()
        .unwrap();
    stalled.wait_for_seq(&stuck, caught_up_to).await;
    let rate_with_stalled = flood(
        &mut healthy,
        &watched,
        &terminal_id,
        "FLOOD-B",
        &reports.join("b.json"),
    )
    .await;

    healthy.type_line(&terminal_id, "echo END-$((1+1))").await;
    healthy.wait_for_text(&watched, "END-2\r\n").await;
    let after_marker = healthy.stream(&watched).data.rfind("END-2\r\n").unwrap();
    healthy
        .wait_for_text_from(&watched, after_marker, "READY> ")
        .await;
    let head_seq = healthy.stream(&watched).last_seq();

    let expected_lines: Vec<u64> = (0..FLOOD_BYTES / 100).collect();
    let seen = healthy.stream(&watched);
    assert!(
        seen.gaps.is_empty(),
        "the healthy viewer lost nothing: {:?}",
        seen.gaps
    );
    for tag in ["FLOOD-A", "FLOOD-B"] {
        let got = flood_lines(&seen.data, tag);
        let first_wrong = got.iter().zip(&expected_lines).position(|(g, e)| g != e);
        assert!(
            got == expected_lines,
            "the healthy viewer got {} of {} lines of {tag}; first out of place at index {first_wrong:?}",
            got.len(),
            expected_lines.len()
        );
    }
    // How fast the child wrote is the bench's to measure, not a test's to assert (a shared
    // two-core machine makes any ratio flaky): here the counts above say the healthy viewer
    // got every line, and below that the stalled one was told exactly what it missed.
    println!("child write rate: alone {rate_alone:.0} B/s, with a stalled viewer {rate_with_stalled:.0} B/s");

    // The stalled viewer reads again: what it had, then the exact gap, a repaint, the rest.
    stalled.wait_for_seq(&stuck, head_seq).await;
    let resynced = stalled.stream(&stuck);
    // Its attach skipped flood A (over the replay budget); everything after that is live.
    let live_gaps: Vec<&Gap> = resynced
        .gaps
        .iter()
        .filter(|g| g.frames_before > 0)
        .collect();
    assert!(
        !live_gaps.is_empty(),
        "the stalled viewer was told it lost output: {:?}",
        resynced.gaps
    );
    assert!(
        live_gaps.iter().all(|g| g.reason == "queue_overflow"),
        "{live_gaps:?}"
    );

    // Every frame it did get is byte-identical to the healthy viewer's, except the repaints,
    // which follow each gap at the next seq and show exactly the screen a viewer that
    // received every byte up to that seq had. (The harness already checked that each gap
    // starts where the frames before it stopped.)
    let mut stalled_screen = screen_model(ROWS, COLS);
    let mut healthy_screen = screen_model(ROWS, COLS);
    let mut healthy_fed = 0;
    let repaint_frames: Vec<usize> = resynced.gaps.iter().map(|g| g.frames_before).collect();
    for (index, frame) in resynced.frames.iter().enumerate() {
        stalled_screen.process(resynced.frame_data(frame).as_bytes());
        if !repaint_frames.contains(&index) {
            assert_eq!(
                Some(resynced.frame_data(frame)),
                seen.data_for_seqs(frame.seq_start, frame.seq_end),
                "frame {index} (seqs {}..={}) differs from what the healthy viewer got",
                frame.seq_start,
                frame.seq_end
            );
            continue;
        }
        assert_eq!(frame.seq_start, frame.seq_end, "a repaint is one seq");
        let healthy_end = seen
            .frames
            .iter()
            .find(|f| f.seq_end == frame.seq_end)
            .expect("the healthy viewer got every seq")
            .end;
        healthy_screen.process(&seen.data.as_bytes()[healthy_fed..healthy_end]);
        healthy_fed = healthy_end;
        assert_same_screen(
            &healthy_screen,
            &stalled_screen,
            &format!("repaint at seq {}", frame.seq_start),
        );
    }
    healthy_screen.process(&seen.data.as_bytes()[healthy_fed..]);
    assert_same_screen(
        &healthy_screen,
        &stalled_screen,
        "resynced viewer at the end",
    );
}
