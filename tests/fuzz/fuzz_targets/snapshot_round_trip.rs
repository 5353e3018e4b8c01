//! A terminal fed arbitrary output, then rebuilt from its repaint, is in the
//! same state (`ScreenModel::differences_from`, as in the property suite): a
//! fresh terminal, and a viewer that saw only the first frames. Panics are
//! what this target hunts on any input; differences, where the property
//! suite holds the round trip exact (narrow text, no resizes, and not a
//! state `ScreenModel::inexact_repaint` names).
//!
//! Input layout, so libFuzzer's mutations (and `dictionaries/terminal.dict`)
//! work on the terminal bytes themselves:
//!
//! - byte 0: columns (2–121), byte 1: rows (1–40), byte 2: how many steps
//!   the stale viewer saw;
//! - the rest, split at 0xFF (never in UTF-8): one step each. A step that
//!   starts with 0xFE and two more bytes resizes to those (same ranges); any
//!   other step is one frame of output (lossy UTF-8, as the PTY reader
//!   decodes).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use ptyhub::session::{Frame, ScreenModel};


enum Step {
    Output(String),
    Resize(u16, u16),
}

/// Never one column: the protocol allows 2 and up.
fn cols(byte: u8) -> u16 {
    2 + u16::from(byte) % 120
}

fn rows(byte: u8) -> u16 {
    1 + u16::from(byte) % 40
}

fn steps(data: &[u8]) -> Vec<Step> {
    data.split(|&b| b == 0xFF)
        .map(|step| match step {
            [0xFE, c, r] => Step::Resize(cols(*c), rows(*r)),
            _ => Step::Output(String::from_utf8_lossy(step).into_owned()),
        })
        .collect()
}

/// Whether any output may hold a wide character: one at U+1100 or above
/// (where wide ones start), counted conservatively, but for the narrow
/// replacement character that invalid UTF-8 decodes to.
fn may_be_wide(steps: &[Step]) -> bool {
    steps.iter().any(|step| match step {
        Step::Output(text) => text
            .chars()
            .any(|c| c >= '\u{1100}' && c != char::REPLACEMENT_CHARACTER),
        Step::Resize(..) => false,
    })
}

fuzz_target!(|data: &[u8]| {
    let [c, r, seen, rest @ ..] = data else {
        return;
    };
    let steps = steps(rest);
    let seen = usize::from(*seen) % (steps.len() + 1);

    let mut model = ScreenModel::new(cols(*c), rows(*r));
    let mut viewer = ScreenModel::new(cols(*c), rows(*r));
    let (mut seq, mut offset) = (0, 0);
    for (index, step) in steps.iter().enumerate() {
        match step {
            Step::Output(text) => {
                seq += 1;
                let frame = Arc::new(Frame::new(seq, offset, text.as_str().into()));
                offset = frame.end_offset();
                model.feed(&[frame]);
                if index < seen {
                    viewer.feed_bytes(text.as_bytes());
                }
            }
            Step::Resize(cols, rows) => {
                model.resize(*cols, *rows);
                if index < seen {
                    viewer.resize(*cols, *rows);
                }
            }
        }
    }

    let repaint = model.snapshot().repaint;
    let (cols, rows) = model.size();
    let mut fresh = ScreenModel::new(cols, rows);
    fresh.feed_bytes(repaint.as_bytes());
    viewer.resize(cols, rows);
    viewer.feed_bytes(repaint.as_bytes());

    // Exact only where the property suite holds it exact: narrow text, no
    // resizes, and a state a repaint reaches without a trace (see
    // `inexact_repaint`). Elsewhere the repaint must still never panic.
    let resized = steps.iter().any(|step| matches!(step, Step::Resize(..)));
    if resized || may_be_wide(&steps) || model.inexact_repaint().is_some() {
        return;
    }
    let differences = model.differences_from(&fresh);
    assert!(
        differences.is_empty(),
        "fresh terminal:\n{}\nrepaint: {repaint:?}",
        differences.join("\n")
    );

    let differences = model.differences_from(&viewer);
    assert!(
        differences.is_empty(),
        "stale viewer (saw {seen} steps):\n{}\nrepaint: {repaint:?}",
        differences.join("\n")
    );
});
