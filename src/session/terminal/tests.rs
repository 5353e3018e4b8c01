//! The screen model's own tests: answers, repaints that carry the state
//! over, rest and waking.

use super::*;
use crate::session::query_filter::Terminator;

fn frame(seq: u64, offset: u64, data: &str) -> Arc<Frame> {
    Arc::new(Frame::new(seq, offset, data.into()))
}

fn model_fed(cols: u16, rows: u16, output: &str) -> ScreenModel {
    let mut model = ScreenModel::new(cols, rows);
    model.feed(&[frame(1, 0, output)]);
    model
}

/// codex's startup queries (as issue 12 lists them), answered from the
/// model's own state.
#[test]
fn the_model_answers_codexs_startup_queries() {
    let model = model_fed(80, 24, "\x1b[3;5Hhi");
    let answers: Vec<String> = [
        Query::KeyboardFlags,
        Query::Mode {
            private: true,
            mode: 1007,
        },
        Query::PrimaryAttributes,
        Query::CursorPosition,
        Query::Color {
            prefix: "10".into(),
            index: 256,
            terminator: Terminator::StringTerminator,
        },
        Query::Color {
            prefix: "11".into(),
            index: 257,
            terminator: Terminator::Bell,
        },
    ]
    .iter()
    .map(|query| model.answer(query, &Theme::WEB_CLIENT))
    .collect();
    assert_eq!(
        answers,
        [
            "\x1b[?0u",
            // Alternate scroll is on by default in the model.
            "\x1b[?1007;1$y",
            "\x1b[?1;2c",
            "\x1b[3;7R",
            "\x1b]10;rgb:d7d7/dcdc/e2e2\x1b\\",
            "\x1b]11;rgb:1010/1313/1818\x07",
        ]
    );
}

/// Answers come from the state: the cursor counted from the region's
/// top in origin mode, a colour the program set, the modes and kitty
/// flags in force, the size, and a rested model answers as it would
/// awake.
#[test]
fn answers_follow_the_state() {
    let stream = "\x1b[3;8r\x1b[?6h\x1b[2;4H\x1b]4;1;rgb:12/34/56\x07\x1b[?2004h\x1b[4h\x1b[>5u";
    let mut model = model_fed(20, 10, stream);
    let asked = |model: &ScreenModel| {
        [
            Query::CursorPosition,
            Query::ExtendedCursorPosition,
            Query::Color {
                prefix: "4;1".into(),
                index: 1,
                terminator: Terminator::Bell,
            },
            Query::Mode {
                private: true,
                mode: 2004,
            },
            Query::Mode {
                private: true,
                mode: 6,
            },
            Query::Mode {
                private: true,
                mode: 9999,
            },
            Query::Mode {
                private: false,
                mode: 4,
            },
            Query::KeyboardFlags,
            Query::WindowReport(18),
            Query::WindowReport(14),
        ]
        .iter()
        .map(|query| model.answer(query, &Theme::WEB_CLIENT))
        .collect::<Vec<_>>()
    };
    let awake = asked(&model);
    assert_eq!(
        awake,
        [
            "\x1b[2;4R",
            "\x1b[?2;4;1R",
            "\x1b]4;1;rgb:1212/3434/5656\x07",
            "\x1b[?2004;1$y",
            "\x1b[?6;1$y",
            "\x1b[?9999;0$y",
            "\x1b[4;1$y",
            "\x1b[?5u",
            "\x1b[8;10;20t",
            "\x1b[4;170;160t",
        ]
    );
    model.rest();
    assert!(model.is_resting());
    assert_eq!(asked(&model), awake);
}

/// A terminal that saw `before`, then gets the model's repaint.
fn viewer_repainted(model: &ScreenModel, before: &str) -> ScreenModel {
    let (cols, rows) = model.size();
    let mut viewer = ScreenModel::new(cols, rows);
    viewer.feed_bytes(before.as_bytes());
    viewer.feed_bytes(model.snapshot().repaint.as_bytes());
    viewer
}

/// Splits `output` at every char boundary listed; each viewer gets the
/// repaint of the model fed the first part, then the rest, and must
/// match a terminal fed everything.
fn assert_repaint_then_rest_matches_whole(cols: u16, rows: u16, output: &str, splits: &[usize]) {
    let whole = model_fed(cols, rows, output);
    for &split in splits {
        let (first, rest) = output.split_at(split);
        let model = model_fed(cols, rows, first);
        let mut viewer = viewer_repainted(&model, "");
        viewer.feed_bytes(rest.as_bytes());
        let differences = whole.differences_from(&viewer);
        assert!(
            differences.is_empty(),
            "split at {split} ({first:?} | {rest:?}):\n{}",
            differences.join("\n")
        );
    }
}

#[test]
fn repaint_reproduces_cells_cursor_and_modes() {
    let model = model_fed(
        40,
        10,
        "hello \x1b[1;31mred\x1b[m \x1b[4:3;58;5;9mcurl\x1b[m\r\n\x1b[?2004h\x1b[?1002h\x1b[?1006h\x1b[5;7Hx\x1b[?25l",
    );
    let viewer = viewer_repainted(&model, "");
    assert_eq!(viewer.differences_from(&model), Vec::<String>::new());
    assert_eq!(viewer.text(), "hello red curl\n\n\n\n      x");
}

#[test]
fn a_ticking_spinner_changes_few_cells_and_new_lines_change_many() {
    let mut model = ScreenModel::new(40, 10);
    model.feed(&[frame(1, 0, "working |\r\n")]);
    model.take_text_change();
    model.feed(&[frame(2, 11, "\x1b[1;9H/")]);
    assert_eq!(model.take_text_change(), 1);
    model.feed(&[frame(3, 20, "\x1b[2J\x1b[Hworking /")]);
    assert_eq!(
        model.take_text_change(),
        0,
        "a full redraw of the same text"
    );
    let lines: String = (0..10)
        .map(|i| format!("new output line {i}\r\n"))
        .collect();
    model.feed(&[frame(4, 40, &lines)]);
    assert!(model.take_text_change() > 50);
}

#[test]
fn repaint_restores_the_alternate_screen_the_primary_under_it_and_the_title() {
    let output = "$ ls\r\nfile\r\n$ vim\x1b]2;my app\x07\x1b[?1049h\x1b[2;2HTUI";
    let model = model_fed(20, 5, output);
    let snapshot = model.snapshot();
    assert!(snapshot.repaint.contains("\x1b]2;my app\x07"));
    let mut viewer = viewer_repainted(&model, "");
    assert_eq!(viewer.differences_from(&model), Vec::<String>::new());
    assert_eq!(viewer.text(), "\n TUI");
    viewer.feed_bytes(b"\x1b[?1049l");
    assert_eq!(viewer.text(), "$ ls\nfile\n$ vim");
}

#[test]
fn repaint_over_a_stale_screen_turns_stale_state_off() {
    let model = model_fed(20, 5, "plain");
    let viewer = viewer_repainted(
        &model,
        "\x1b[?1049h\x1b[?1003hgarbage\x1b[?2004h\x1b[3;4r\x1b(0\x1b]4;1;rgb:12/34/56\x07\x1b[3g\x1b[4h",
    );
    assert_eq!(viewer.differences_from(&model), Vec::<String>::new());
    assert_eq!(viewer.text(), "plain");
}

#[test]
fn a_model_at_rest_keeps_its_state_and_goes_on_from_it() {
    let output = "$ vim\x1b]2;t\x07\x1b[?1049h\x1b[2;4r\x1b[3;1H\x1b(0lqk\x1b7\x1b[1;31mred";
    let mut awake = model_fed(20, 6, output);
    let mut rested = model_fed(20, 6, output);
    let before = rested.snapshot().repaint;
    rested.rest();
    assert!(rested.is_resting());
    assert_eq!(
        rested.snapshot().repaint,
        before,
        "at rest, the same repaint"
    );
    assert_eq!(rested.text(), awake.text());
    assert_eq!(rested.title(), awake.title());
    assert_eq!(rested.size(), awake.size());
    let more = frame(2, output.len() as u64, "\x1b8x\nscrolled\x1b[?1049l$ ");
    awake.feed(&[Arc::clone(&more)]);
    rested.feed(&[more]);
    assert!(!rested.is_resting(), "output wakes it");
    assert_eq!(awake.differences_from(&rested), Vec::<String>::new());
    assert_eq!(
        awake.text(),
        "$ vim$",
        "back on the shell's line, after the prompt"
    );
}

#[test]
fn the_scroll_region_and_origin_mode_carry_over() {
    let output = "top\r\n\x1b[2;4r\x1b[?6h\x1b[3;1Hin region\r\na\r\nb\r\nc\r\nd";
    assert_repaint_then_rest_matches_whole(20, 6, output, &[12, 25, 40, output.len() - 4]);
}

#[test]
fn the_saved_cursor_carries_over() {
    let output = "\x1b[5;7H\x1b[1;32m\x1b7\x1b[m\x1b[Hmoved\x1b8X";
    assert_repaint_then_rest_matches_whole(20, 6, output, &[16, 20, 25]);
}

#[test]
fn a_pending_wrap_carries_over() {
    let output = "0123456789abcdefghij0123456789";
    assert_repaint_then_rest_matches_whole(10, 4, output, &[10, 20, 5]);
}

#[test]
fn wide_characters_soft_wraps_and_tabs_carry_over() {
    let output = "ab\t宽字符和表情😀😀 wrapped line that goes on and on\r\n\x1b[5G\t|\x1bH\r\t*";
    let splits: Vec<usize> = output
        .char_indices()
        .map(|(index, _)| index)
        .step_by(3)
        .collect();
    assert_repaint_then_rest_matches_whole(9, 6, output, &splits);
}

#[test]
fn charsets_colours_links_and_keyboard_modes_carry_over() {
    let output = "\x1b(0lqk\x1b)0\x0eq\x0f\x1b]4;3;rgb:10/20/30\x07\x1b]11;rgb:00/00/40\x07\
                  \x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\\x1b[>5u\x1b[=\x1b[4 q\x1b[?2026h";
    let splits: Vec<usize> = (0..output.len())
        .filter(|&i| output.is_char_boundary(i))
        .collect();
    assert_repaint_then_rest_matches_whole(20, 4, output, &splits);
}
