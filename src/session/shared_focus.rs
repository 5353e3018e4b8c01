//! Focus as one signal (mode 1004): the child hears focus-in when the first
//! viewer gains focus and focus-out when the last one loses it or leaves.
//! Viewers' own reports (`CSI I`, `CSI O`, which their terminals send while
//! the child has focus reporting on) are taken out of their input.

use std::collections::HashSet;

const FOCUS_IN: &[u8] = b"\x1b[I";
const FOCUS_OUT: &[u8] = b"\x1b[O";

/// The owners (sockets) whose viewer has focus.
#[derive(Debug, Default)]
pub struct SharedFocus {
    focused: HashSet<u64>,
}

impl SharedFocus {
    /// Takes `owner`'s focus reports out of its input; returns the input
    /// left and the report the child gets for it, if the session's focus
    /// as a whole changed (the last report of the input counts).
    pub fn take_reports(&mut self, owner: u64, input: Vec<u8>) -> (Vec<u8>, Option<&'static [u8]>) {
        if !contains(&input, FOCUS_IN) && !contains(&input, FOCUS_OUT) {
            return (input, None);
        }
        let had_focus = !self.focused.is_empty();
        let mut left = Vec::with_capacity(input.len());
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            if rest.starts_with(FOCUS_IN) {
                self.focused.insert(owner);
            } else if rest.starts_with(FOCUS_OUT) {
                self.focused.remove(&owner);
            } else {
                left.push(input[at]);
                at += 1;
                continue;
            }
            at += FOCUS_IN.len();
        }
        (left, self.report(had_focus))
    }

    /// `owner` has no viewer left: it has no focus either.
    pub fn left(&mut self, owner: u64) -> Option<&'static [u8]> {
        let had_focus = !self.focused.is_empty();
        self.focused.remove(&owner);
        self.report(had_focus)
    }

    fn report(&self, had_focus: bool) -> Option<&'static [u8]> {
        match (had_focus, !self.focused.is_empty()) {
            (false, true) => Some(FOCUS_IN),
            (true, false) => Some(FOCUS_OUT),
            _ => None,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_focus_in_and_the_last_focus_out_reach_the_child() {
        let mut focus = SharedFocus::default();
        assert_eq!(
            focus.take_reports(1, b"\x1b[I".to_vec()),
            (Vec::new(), Some(FOCUS_IN))
        );
        // A second viewer's focus changes nothing for the session.
        assert_eq!(
            focus.take_reports(2, b"\x1b[I".to_vec()),
            (Vec::new(), None)
        );
        assert_eq!(
            focus.take_reports(1, b"\x1b[O".to_vec()),
            (Vec::new(), None)
        );
        // The last one leaving takes the focus with it.
        assert_eq!(focus.left(2), Some(FOCUS_OUT));
        assert_eq!(focus.left(1), None);
    }

    #[test]
    fn keystrokes_pass_and_reports_inside_input_are_taken_out() {
        let mut focus = SharedFocus::default();
        assert_eq!(
            focus.take_reports(1, b"ls\r".to_vec()),
            (b"ls\r".to_vec(), None)
        );
        assert_eq!(
            focus.take_reports(1, b"a\x1b[Ib\x1b[1;5R".to_vec()),
            (b"ab\x1b[1;5R".to_vec(), Some(FOCUS_IN))
        );
        assert_eq!(
            focus.take_reports(1, b"\x1b[O\x1b[I".to_vec()),
            (Vec::new(), None)
        );
    }
}
