//! The escape sequence a frame may end in the middle of.
//!
//! Frames are cut where the PTY read ended, so the model can stand inside a
//! sequence (`ESC [ 3` of `ESC [ 3 1 m`) when a repaint is taken. A repaint
//! cannot express a parser's state, but it can end with the same unfinished
//! bytes: the viewer's parser is then where the model's is, and the rest of
//! the sequence, in the next frame, lands the same on both.
//!
//! Only the last ESC of the stream can start a sequence that is still open:
//! in every state an ESC aborts what came before and starts a new one.

/// Unfinished bytes kept at most; past this (a huge OSC 52 clipboard or a
/// DCS image) the rest of the payload is dropped from the repaint, which
/// shortens that one sequence but keeps its end where the viewer expects.
const MAX_KEPT_BYTES: usize = 64 * 1024;

const ESC: u8 = 0x1b;
/// CAN and SUB abort any sequence.
const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;
const BEL: u8 = 0x07;

#[derive(Debug, Default)]
pub struct UnfinishedSequence {
    bytes: String,
}

impl UnfinishedSequence {
    /// The unfinished bytes after everything noted so far (empty when the
    /// stream is between sequences).
    pub fn as_str(&self) -> &str {
        &self.bytes
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Notes output the model has just parsed.
    pub fn note(&mut self, data: &str) {
        let tail = match data.as_bytes().iter().rposition(|&b| b == ESC) {
            Some(start) => {
                self.bytes.clear();
                &data[start..]
            }
            None if self.bytes.is_empty() => return,
            None => data,
        };
        // Whether the sequence ended is decided on all it received, kept or
        // not; what was kept before did not end it.
        let finished = match (self.bytes.as_bytes(), tail.as_bytes()) {
            ([], [ESC, kind, body @ ..]) | ([ESC], [kind, body @ ..]) => finishes(*kind, body),
            ([ESC, kind, kept @ ..], body) => finishes(*kind, &[kept, body].concat()),
            _ => false,
        };
        if finished {
            self.bytes.clear();
            return;
        }
        // C0 controls inside a sequence were executed (or ignored) already;
        // kept, they would run again on the viewer.
        for c in tail.chars().filter(|&c| !(c < ' ' && c != '\x1b')) {
            if self.bytes.len() + c.len_utf8() > MAX_KEPT_BYTES {
                break;
            }
            self.bytes.push(c);
        }
    }
}

/// Any byte that aborts or ends every kind of sequence.
fn ends(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == CAN || b == SUB)
}

/// Whether the sequence `ESC kind body…` (no further ESC in it) is
/// complete, or was aborted, once `body` has been received.
fn finishes(kind: u8, body: &[u8]) -> bool {
    if ends(body) || kind == CAN || kind == SUB {
        return true;
    }
    if kind >= 0x80 || kind == 0x7f || kind < 0x20 {
        // Ignored (or, a C0 control, run) after an ESC, which still waits
        // for its final byte: `ESC 你 A` is `ESC A` to vte.
        return match body.split_first() {
            Some((next, rest)) => finishes(*next, rest),
            None => false,
        };
    }
    match kind {
        // CSI: parameters and intermediates, then a final byte.
        b'[' => body.iter().any(|b| (0x40..=0x7e).contains(b)),
        // OSC ends with BEL (or ST, which would be a later ESC).
        b']' => body.contains(&BEL),
        // DCS ends with ST, or, once its data began, with the byte 0x9C
        // (vte's C1 ST, even inside a UTF-8 character such as 한).
        b'P' => dcs_finishes(body),
        // SOS, PM, APC end only with ST.
        b'X' | b'^' | b'_' => false,
        // Intermediates, then a final byte.
        0x20..=0x2f => body.iter().any(|b| (0x30..=0x7e).contains(b)),
        _ => true,
    }
}

/// Whether a DCS whose bytes after `ESC P` are `body` ended, as vte's
/// states run: parameters and intermediates, then a final byte that starts
/// the data (or a misplaced byte that makes it ignore all up to ST).
fn dcs_finishes(body: &[u8]) -> bool {
    enum Dcs {
        Entry,
        Param,
        Intermediate,
        Data,
        Ignored,
    }
    let mut state = Dcs::Entry;
    for &byte in body {
        state = match (state, byte) {
            (Dcs::Data, 0x9c) => return true,
            (state @ (Dcs::Data | Dcs::Ignored), _) => state,
            (_, 0x40..=0x7e) => Dcs::Data,
            (Dcs::Entry | Dcs::Param, 0x20..=0x2f) => Dcs::Intermediate,
            (Dcs::Entry | Dcs::Param, 0x30..=0x3b) | (Dcs::Entry, 0x3c..=0x3f) => Dcs::Param,
            (Dcs::Param, 0x3c..=0x3f) | (Dcs::Intermediate, 0x30..=0x3f) => Dcs::Ignored,
            (state, _) => state,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(frames: &[&str]) -> String {
        let mut unfinished = UnfinishedSequence::default();
        for frame in frames {
            unfinished.note(frame);
        }
        unfinished.as_str().to_owned()
    }

    #[test]
    fn a_frame_that_ends_between_sequences_leaves_nothing() {
        assert_eq!(after(&["a\x1b[31mb"]), "");
        assert_eq!(after(&["\x1b]2;title\x07"]), "");
        assert_eq!(after(&["\x1b(0"]), "");
        assert_eq!(after(&["\x1b7"]), "");
    }

    #[test]
    fn a_sequence_cut_by_a_frame_boundary_is_kept_until_it_ends() {
        assert_eq!(after(&["a\x1b[3"]), "\x1b[3");
        assert_eq!(after(&["a\x1b[3", "1"]), "\x1b[31");
        assert_eq!(after(&["a\x1b[3", "1m"]), "");
        assert_eq!(after(&["\x1b]2;long ", "title"]), "\x1b]2;long title");
        assert_eq!(after(&["\x1b]2;long ", "title\x07"]), "");
        assert_eq!(after(&["\x1bP1$r", "text"]), "\x1bP1$rtext");
        assert_eq!(after(&["\x1bP1$r", "text\x1b\\"]), "");
        assert_eq!(after(&["\x1b"]), "\x1b");
        assert_eq!(after(&["\x1b(", "B"]), "");
        // Non-ASCII after an ESC is ignored: the ESC still waits.
        assert_eq!(after(&["\x1b你好"]), "\x1b你好");
        assert_eq!(after(&["\x1b你好", "A"]), "");
        // vte ends a DCS's data at the byte 0x9C, here inside 한 (ED 95 9C).
        assert_eq!(after(&["\x1bPA", "한"]), "");
        assert_eq!(after(&["\x1bPA한"]), "");
        assert_eq!(after(&["\x1bP1;한"]), "\x1bP1;한");
    }

    #[test]
    fn controls_inside_an_open_sequence_are_not_kept() {
        // The line feed ran when the model parsed it; the viewer must not
        // run it a second time.
        assert_eq!(after(&["\x1b[\n3"]), "\x1b[3");
        assert_eq!(after(&["\x1b]2;a\r\nb"]), "\x1b]2;ab");
    }

    #[test]
    fn can_and_sub_abort_an_open_sequence() {
        assert_eq!(after(&["\x1b[3", "\x18"]), "");
        assert_eq!(after(&["\x1b]2;x", "\x1a"]), "");
    }

    #[test]
    fn a_huge_payload_is_kept_only_up_to_the_bound() {
        let payload = "A".repeat(MAX_KEPT_BYTES * 2);
        let kept = after(&["\x1b]52;c;", &payload]);
        assert_eq!(kept.len(), MAX_KEPT_BYTES);
        assert!(kept.starts_with("\x1b]52;c;A"));
        assert_eq!(after(&["\x1b]52;c;", &payload, "\x07"]), "");
    }
}
