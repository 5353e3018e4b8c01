//! The screen model and its repaint: a screen fed random escape-heavy output
//! (split across frames, resized between feeds), then rebuilt from its
//! snapshot, is the same screen — in a fresh terminal and in a viewer that
//! saw part of the stream and stopped anywhere, even mid-sequence.

use std::num::NonZeroU16;
use std::sync::Arc;

use proptest::prelude::*;
use ptyhub::session::{Frame, ScreenModel};

use crate::config;
use crate::screen_state::screen_differences;
use crate::terminal_input::{cut_into_frames, output};

/// What the session does to its model, in order.
#[derive(Clone, Debug)]
enum Step {
    Output(String),
    Resize { cols: u16, rows: u16 },
}

#[derive(Clone, Debug)]
struct Scenario {
    cols: u16,
    rows: u16,
    steps: Vec<Step>,
}

/// Sizes biased to the edges, where wide characters and pending wraps
/// misbehave first. Never one column: the protocol allows 2 and up, and vt100
/// itself panics there (see `known_gap_vt100_panics_when_a_character_widens_in_one_column`).
fn dimension(min: u16, max: u16) -> impl Strategy<Value = u16> {
    prop_oneof![2 => min..=4u16, 5 => 5..=30u16, 1 => 31..=max]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        dimension(2, 120),
        dimension(1, 40),
        output(160),
        prop::collection::vec(0.0..1.0f64, 0..8),
        prop::collection::vec((0.0..1.0f64, dimension(2, 120), dimension(1, 40)), 0..3),
    )
        .prop_map(|(cols, rows, text, cuts, resizes)| {
            let frames = cut_into_frames(&text, &cuts);
            let mut steps: Vec<Step> = frames.into_iter().map(Step::Output).collect();
            for (at, cols, rows) in resizes {
                let index = ((steps.len() as f64) * at) as usize;
                steps.insert(index.min(steps.len()), Step::Resize { cols, rows });
            }
            Scenario { cols, rows, steps }
        })
}

/// Catches the window title, as a viewer's terminal would show it.
#[derive(Default)]
struct Title(Option<String>);

impl vt100::Callbacks for Title {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.0 = Some(String::from_utf8_lossy(title).into_owned());
    }
}

fn terminal(cols: u16, rows: u16) -> vt100::Parser<Title> {
    let nonzero = |n: u16| NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN);
    vt100::Parser::new_with_callbacks(nonzero(rows), nonzero(cols), 0, Title::default())
}

/// Runs the scenario's first `steps` steps through a model.
fn model_after(scenario: &Scenario, steps: usize) -> ScreenModel {
    let mut model = ScreenModel::new(scenario.cols, scenario.rows);
    let (mut seq, mut offset) = (0, 0);
    for step in scenario.steps.iter().take(steps) {
        match step {
            Step::Output(data) => {
                seq += 1;
                let frame = Arc::new(Frame::new(seq, offset, data.as_str().into()));
                offset = frame.end_offset();
                model.feed(&[frame]);
            }
            Step::Resize { cols, rows } => model.resize(*cols, *rows),
        }
    }
    model
}

/// The same steps as a viewer's terminal sees them.
fn viewer_after(scenario: &Scenario, steps: usize) -> vt100::Parser<Title> {
    let mut viewer = terminal(scenario.cols, scenario.rows);
    for step in scenario.steps.iter().take(steps) {
        match step {
            Step::Output(data) => viewer.process(data.as_bytes()),
            Step::Resize { cols, rows } => viewer.screen_mut().set_size(
                NonZeroU16::new(*rows).unwrap_or(NonZeroU16::MIN),
                NonZeroU16::new(*cols).unwrap_or(NonZeroU16::MIN),
            ),
        }
    }
    viewer
}

/// The title a repaint promises: the model's, without control characters.
fn expected_title(model: &ScreenModel) -> Option<String> {
    model
        .title()
        .map(|title| title.chars().filter(|c| !c.is_control()).collect())
}

fn size_of(screen: &vt100::Screen) -> (u16, u16) {
    let (rows, cols) = screen.size();
    (cols.get(), rows.get())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_repaint_rebuilds_the_screen_in_a_fresh_terminal(scenario in scenario()) {
        let model = model_after(&scenario, usize::MAX);
        let snapshot = model.snapshot();
        let (cols, rows) = size_of(model.screen());
        let mut fresh = terminal(cols, rows);
        fresh.process(snapshot.repaint.as_bytes());
        let differences = screen_differences(model.screen(), fresh.screen());
        prop_assert!(
            differences.is_empty(),
            "{}\nrepaint: {:?}",
            differences.join("\n"),
            snapshot.repaint
        );
        prop_assert_eq!(&fresh.callbacks().0, &expected_title(&model));
    }

    #[test]
    fn a_repaint_brings_a_stale_viewer_to_the_same_screen(
        scenario in scenario(),
        seen in 0.0..1.0f64,
    ) {
        let seen_steps = ((scenario.steps.len() as f64) * seen) as usize;
        let model = model_after(&scenario, usize::MAX);
        let mut viewer = viewer_after(&scenario, seen_steps);
        let (cols, rows) = size_of(model.screen());
        viewer.screen_mut().set_size(
            NonZeroU16::new(rows).unwrap_or(NonZeroU16::MIN),
            NonZeroU16::new(cols).unwrap_or(NonZeroU16::MIN),
        );
        let repaint = model.snapshot().repaint;
        viewer.process(repaint.as_bytes());
        let differences = screen_differences(model.screen(), viewer.screen());
        prop_assert!(
            differences.is_empty(),
            "{}\nrepaint: {:?}",
            differences.join("\n"),
            repaint
        );
        // A viewer that stopped inside an OSC has it ended by the repaint's
        // first ESC, and vt100 (like xterm) then applies what it had: a title
        // the model, which saw the rest of the sequence, may never have set.
        // When the model has a title, the repaint sets it last.
        if let Some(title) = expected_title(&model) {
            prop_assert_eq!(viewer.callbacks().0.as_ref(), Some(&title));
        }
    }

    #[test]
    fn the_mode_preamble_reenters_the_models_modes(scenario in scenario()) {
        let model = model_after(&scenario, usize::MAX);
        let (cols, rows) = size_of(model.screen());
        let mut fresh = terminal(cols, rows);
        fresh.process(model.mode_preamble().as_bytes());
        let (expected, got) = (model.screen(), fresh.screen());
        prop_assert_eq!(expected.application_cursor(), got.application_cursor());
        prop_assert_eq!(expected.application_keypad(), got.application_keypad());
        prop_assert_eq!(expected.bracketed_paste(), got.bracketed_paste());
        prop_assert_eq!(expected.mouse_protocol_mode(), got.mouse_protocol_mode());
        prop_assert_eq!(expected.mouse_protocol_encoding(), got.mouse_protocol_encoding());
        prop_assert_eq!(expected.alternate_screen(), got.alternate_screen());
        prop_assert_eq!(expected.hide_cursor(), got.hide_cursor());
    }

    #[test]
    fn frames_fed_twice_are_parsed_once(scenario in scenario()) {
        let mut model = model_after(&scenario, usize::MAX);
        let before = model.snapshot();
        let (mut seq, mut offset) = (0, 0);
        for step in &scenario.steps {
            if let Step::Output(data) = step {
                seq += 1;
                let frame = Arc::new(Frame::new(seq, offset, data.as_str().into()));
                offset = frame.end_offset();
                model.feed(&[frame]);
            }
        }
        let after = model.snapshot();
        prop_assert_eq!(before.through_seq, seq);
        prop_assert_eq!(after.through_seq, seq);
        prop_assert_eq!(model.parsed_through_offset(), offset);
        prop_assert_eq!(before.repaint, after.repaint);
    }

    #[test]
    fn an_unchanged_screen_reports_no_text_change(scenario in scenario()) {
        let mut model = model_after(&scenario, usize::MAX);
        model.take_text_change();
        prop_assert_eq!(model.take_text_change(), 0);
    }
}

// Regressions the properties found, as plain cases.

/// A viewer that saw a cursor style the session later reset (`ESC[0 q`)
/// must get the default style back from the repaint; vt100 writes the style
/// only when it is not the default.
#[test]
fn a_repaint_resets_a_stale_cursor_style() {
    let mut model = ScreenModel::new(10, 3);
    model.feed(&[Arc::new(Frame::new(1, 0, "\x1b[1 q".into()))]);
    let mut viewer = terminal(10, 3);
    viewer.process(b"\x1b[1 q");
    model.feed(&[Arc::new(Frame::new(2, 5, "\x1b[0 q".into()))]);
    viewer.process(model.snapshot().repaint.as_bytes());
    assert_eq!(viewer.screen().cursor_style(), vt100::CursorStyle::Default);
}

/// The modes a fresh viewer is sent include the application keypad (`ESC =`).
#[test]
fn the_mode_preamble_includes_the_application_keypad() {
    let mut model = ScreenModel::new(10, 3);
    model.feed(&[Arc::new(Frame::new(1, 0, "\x1b=".into()))]);
    let mut fresh = terminal(10, 3);
    fresh.process(model.mode_preamble().as_bytes());
    assert!(fresh.screen().application_keypad());
}

// Known gaps. The properties above compare what a viewer *shows*; these are
// states vt100 keeps but a repaint cannot carry, so output after the repaint
// can land differently on the viewer than on the model. Each test states the
// ideal; they are ignored until the gap is closed
// (`cargo test --test properties -- --ignored` shows them failing).

/// Feeds `before` to a model, repaints a fresh terminal from it, then feeds
/// `after` to both and returns (model, terminal) contents.
fn contents_after_repaint(cols: u16, rows: u16, before: &str, after: &str) -> (String, String) {
    let mut model = ScreenModel::new(cols, rows);
    model.feed(&[Arc::new(Frame::new(1, 0, before.into()))]);
    let mut fresh = terminal(cols, rows);
    fresh.process(model.snapshot().repaint.as_bytes());
    let offset = before.len() as u64;
    model.feed(&[Arc::new(Frame::new(2, offset, after.into()))]);
    fresh.process(after.as_bytes());
    (model.screen().contents(), fresh.screen().contents())
}

/// vt100 does not expose the scrolling region (DECSTBM), so the repaint
/// resets it: a TUI that scrolls inside a region scrolls the whole screen on
/// a repainted viewer until it sets the region again.
#[test]
#[ignore = "known gap: the scrolling region is not in vt100's public state"]
fn known_gap_the_scrolling_region_survives_a_repaint() {
    let (model, viewer) = contents_after_repaint(5, 4, "a\r\nb\r\nc\r\nd\x1b[2;3r", "\x1b[3;1H\n");
    assert_eq!(viewer, model);
}

/// The cursor saved by DECSC (`ESC 7`) is not in vt100's public state.
#[test]
#[ignore = "known gap: the saved cursor is not in vt100's public state"]
fn known_gap_the_saved_cursor_survives_a_repaint() {
    let (model, viewer) = contents_after_repaint(5, 4, "\x1b[3;3H\x1b7\x1b[H", "\x1b8X");
    assert_eq!(viewer, model);
}

/// While the alternate screen is shown, the repaint carries only it: when
/// the TUI exits, a repainted viewer shows an empty primary screen instead
/// of the shell's. (vt100 keeps the primary grid but exposes only the
/// visible one; a cloned `Screen` put in a scratch parser and fed
/// `ESC[?1049l` would reach it, cursor included.)
#[test]
#[ignore = "known gap: the primary screen under the alternate screen is not repainted"]
fn known_gap_the_primary_screen_survives_a_repaint_of_the_alternate_screen() {
    let (model, viewer) = contents_after_repaint(10, 3, "$ vim\r\n\x1b[?1049hTUI", "\x1b[?1049l");
    assert_eq!(viewer, model);
}

/// vt100 0.18 panics (an index out of range or an `unwrap` on `None`) when
/// U+FE0F widens the character in a one-column screen. The model catches
/// the panic, rebuilds its parser and goes on parsing what follows.
#[test]
fn the_model_survives_vt100_panicking_on_a_character_widened_in_one_column() {
    let mut model = ScreenModel::new(1, 3);
    model.feed(&[Arc::new(Frame::new(1, 0, "0\u{fe0f}".into()))]);
    model.feed(&[Arc::new(Frame::new(2, 4, "\x1b[2;1Hz".into()))]);
    assert_eq!(model.parsed_through_seq(), 2);
    assert_eq!(model.screen().contents().trim(), "z");
}

/// vt100 0.18 panics (`Option::unwrap()` on `None`, screen.rs:985) when a
/// character widened by U+FE0F at the right margin wrapped to a new line and
/// the row it left is then rewritten. Any program can print this (✔️, ❤️ and
/// 🕳️ are narrow until U+FE0F). The model keeps the screen it had before
/// that frame where vt100 can still format it, and parses what follows.
#[test]
fn the_model_survives_vt100_panicking_when_the_row_under_a_widened_character_is_rewritten() {
    let output = format!(
        "{}你好🕳\u{fe0f}\x1b[A\r{}",
        "a".repeat(23 * 80 + 75),
        "a".repeat(80)
    );
    let mut model = ScreenModel::new(80, 24);
    model.feed(&[Arc::new(Frame::new(1, 0, output.as_str().into()))]);
    let after = "\x1b[H\x1b[2Jstill parsing";
    model.feed(&[Arc::new(Frame::new(2, output.len() as u64, after.into()))]);
    assert_eq!(model.parsed_through_seq(), 2);
    assert_eq!(model.screen().contents().trim(), "still parsing");
    let mut fresh = terminal(80, 24);
    fresh.process(model.snapshot().repaint.as_bytes());
    assert_eq!(fresh.screen().contents(), model.screen().contents());
}

/// A character widened by U+FE0F in the last column wraps to the next line;
/// vt100's formatted output of that screen does not rebuild it.
#[test]
#[ignore = "known gap: vt100 cannot repaint a character widened at the right margin"]
fn known_gap_a_character_widened_at_the_right_margin_is_repainted() {
    let mut model = ScreenModel::new(2, 2);
    model.feed(&[Arc::new(Frame::new(1, 0, "\na❤\u{fe0f}".into()))]);
    let mut fresh = terminal(2, 2);
    fresh.process(model.snapshot().repaint.as_bytes());
    assert_eq!(fresh.screen().contents(), model.screen().contents());
}
