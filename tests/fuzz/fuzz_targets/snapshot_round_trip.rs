//! A screen fed arbitrary output, then rebuilt from its snapshot, is the same
//! screen (`screen_state.rs`, shared with the property suite): in a fresh
//! terminal, and in a viewer that saw only the first frames.
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

use std::num::NonZeroU16;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use ptyhub::session::{Frame, ScreenModel};

#[path = "../../properties/screen_state.rs"]
mod screen_state;

enum Step {
    Output(String),
    Resize(u16, u16),
}

/// Never one column: the protocol allows 2 and up, and vt100 panics on a
/// widened character in one column (a known gap, see tests/properties/screen.rs).
fn cols(byte: u8) -> u16 {
    2 + u16::from(byte) % 120
}

fn rows(byte: u8) -> u16 {
    1 + u16::from(byte) % 40
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

fn steps(data: &[u8]) -> Vec<Step> {
    data.split(|&b| b == 0xFF)
        .map(|step| match step {
            [0xFE, c, r] => Step::Resize(cols(*c), rows(*r)),
            _ => Step::Output(String::from_utf8_lossy(step).into_owned()),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let [c, r, seen, rest @ ..] = data else {
        return;
    };
    let steps = steps(rest);
    // U+FE0F widens a character already drawn; at the right margin vt100
    // panics or cannot repaint the result (known gaps, see
    // tests/properties/screen.rs). Skipped so long runs find something new.
    if steps
        .iter()
        .any(|step| matches!(step, Step::Output(text) if text.contains('\u{fe0f}')))
    {
        return;
    }
    let seen = usize::from(*seen) % (steps.len() + 1);

    let mut model = ScreenModel::new(cols(*c), rows(*r));
    let mut viewer = vt100::Parser::new(nonzero(rows(*r)), nonzero(cols(*c)), 0);
    let (mut seq, mut offset) = (0, 0);
    for (index, step) in steps.iter().enumerate() {
        match step {
            Step::Output(text) => {
                seq += 1;
                let frame = Arc::new(Frame::new(seq, offset, text.as_str().into()));
                offset = frame.end_offset();
                model.feed(&[frame]);
                if index < seen {
                    viewer.process(text.as_bytes());
                }
            }
            Step::Resize(cols, rows) => {
                model.resize(*cols, *rows);
                if index < seen {
                    viewer.screen_mut().set_size(nonzero(*rows), nonzero(*cols));
                }
            }
        }
    }

    let repaint = model.snapshot().repaint;
    let (rows, cols) = model.screen().size();
    let mut fresh = vt100::Parser::new(rows, cols, 0);
    fresh.process(repaint.as_bytes());
    let differences = screen_state::screen_differences(model.screen(), fresh.screen());
    assert!(
        differences.is_empty(),
        "fresh terminal:\n{}\nrepaint: {repaint:?}",
        differences.join("\n")
    );

    viewer.screen_mut().set_size(rows, cols);
    viewer.process(repaint.as_bytes());
    let differences = screen_state::screen_differences(model.screen(), viewer.screen());
    assert!(
        differences.is_empty(),
        "stale viewer (saw {seen} steps):\n{}\nrepaint: {repaint:?}",
        differences.join("\n")
    );
});
