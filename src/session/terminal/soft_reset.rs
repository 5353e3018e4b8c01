//! Finds DECSTR (`CSI ! p`, the soft terminal reset) in the output. vte's
//! parser drops it as unknown, so `Term` never resets anything on it, while
//! xterm.js — every viewer — resets the pen, margins, charsets, several modes
//! and the saved cursor (and `tput init` sends it: it is in xterm's `is2`).
//! The emulator feeds the output up to the end of each one found, then
//! carries out the reset itself (`emulator.rs`).
//!
//! Only escape characters are looked at (a byte search): the output's
//! other bytes cost nothing here.

/// How far into a DECSTR the last chunk ended, if it ended inside one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Partial {
    #[default]
    Nothing,
    /// `ESC`.
    Escape,
    /// `ESC [` and parameters, if any.
    Parameters,
    /// `ESC [ … !`.
    Intermediate,
}

const ESC: u8 = 0x1b;

/// Finds the DECSTRs of a stream given in chunks, one split anywhere.
#[derive(Clone, Debug, Default)]
pub struct SoftResetFinder {
    partial: Partial,
}

impl SoftResetFinder {
    /// The end (one past its final byte) of the first DECSTR in `bytes`,
    /// counting one the previous chunk ended inside of; `None` if there is
    /// none, remembering where a DECSTR the chunk ends inside of stands.
    pub fn next_end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut state = std::mem::take(&mut self.partial);
        let mut at = 0;
        loop {
            if state == Partial::Nothing {
                at += memchr::memchr(ESC, &bytes[at..])? + 1;
                state = Partial::Escape;
            }
            while state != Partial::Nothing {
                let Some(&byte) = bytes.get(at) else {
                    self.partial = state;
                    return None;
                };
                at += 1;
                state = match (state, byte) {
                    (_, ESC) => Partial::Escape,
                    (Partial::Escape, b'[') => Partial::Parameters,
                    (Partial::Parameters, b'0'..=b'9' | b';' | b':') => Partial::Parameters,
                    (Partial::Parameters, b'!') => Partial::Intermediate,
                    (Partial::Intermediate, b'p') => return Some(at),
                    _ => Partial::Nothing,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every DECSTR end in `chunks`, as offsets into their concatenation.
    fn ends(chunks: &[&str]) -> Vec<usize> {
        let mut finder = SoftResetFinder::default();
        let mut found = Vec::new();
        let mut base = 0;
        for chunk in chunks {
            let bytes = chunk.as_bytes();
            let mut from = 0;
            while let Some(end) = finder.next_end(&bytes[from..]) {
                from += end;
                found.push(base + from);
            }
            base += bytes.len();
        }
        found
    }

    #[test]
    fn finds_each_soft_reset_with_or_without_parameters() {
        assert_eq!(ends(&["ab\x1b[!pcd\x1b[0!p"]), [6, 13]);
    }

    #[test]
    fn finds_one_split_across_chunks_at_any_byte() {
        let stream = "xx\x1b[1;2!pyy";
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(ends(&[a, b]), [9], "split at {split}");
        }
    }

    #[test]
    fn ignores_other_sequences_that_end_in_p_or_hold_a_bang() {
        // DECRQM (`CSI ? … $ p`, `CSI … $ p`), a private-marker CSI, text, and a
        // sequence an escape interrupted before the real one.
        assert!(ends(&["\x1b[?2026$p\x1b[4$p\x1b[?!p!p\x1b!p"]).is_empty());
        assert_eq!(ends(&["\x1b[1\x1b[!p"]), [7]);
    }
}
