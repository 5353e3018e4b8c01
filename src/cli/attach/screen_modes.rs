//! Which screen the session left the local terminal on.
//!
//! The CLI passes output through (or, when the PTY has another size,
//! draws its own model on the screen the session is on), so on the way out
//! it must know whether what it wrote switched to the alternate screen: leaving it brings back the user's shell, but
//! "leaving" it when it was never entered restores a stale cursor. This
//! follows DEC private mode 1049/1047/47 switches and full resets (`ESC c`)
//! through the output, byte by byte, so a sequence split between two
//! frames is still seen.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    Escape,
    /// After `ESC [`.
    Csi,
    /// After `ESC [ ?`, collecting parameters.
    Private,
}

#[derive(Debug)]
pub struct ScreenModes {
    state: State,
    params: Vec<u32>,
    alternate_screen: bool,
}

/// Parameters kept per sequence; real ones have a handful.
const MAX_PARAMS: usize = 16;

impl ScreenModes {
    pub fn new() -> ScreenModes {
        ScreenModes {
            state: State::Ground,
            params: Vec::new(),
            alternate_screen: false,
        }
    }

    /// True while the session has the local terminal on its alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.alternate_screen
    }

    pub fn observe(&mut self, output: &str) {
        for &byte in output.as_bytes() {
            self.state = match (self.state, byte) {
                (_, 0x1b) => State::Escape,
                (State::Escape, b'[') => State::Csi,
                (State::Escape, b'c') => {
                    self.alternate_screen = false;
                    State::Ground
                }
                (State::Csi, b'?') => {
                    self.params.clear();
                    self.params.push(0);
                    State::Private
                }
                (State::Private, b'0'..=b'9') => {
                    if let Some(last) = self.params.last_mut() {
                        *last = last
                            .saturating_mul(10)
                            .saturating_add(u32::from(byte - b'0'));
                    }
                    State::Private
                }
                (State::Private, b';') => {
                    if self.params.len() < MAX_PARAMS {
                        self.params.push(0);
                    }
                    State::Private
                }
                (State::Private, b'h' | b'l') => {
                    if self.params.iter().any(|p| matches!(p, 47 | 1047 | 1049)) {
                        self.alternate_screen = byte == b'h';
                    }
                    State::Ground
                }
                _ => State::Ground,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_screen_switches_are_followed_across_frames() {
        let mut modes = ScreenModes::new();
        modes.observe("plain \x1b[1;31mred\x1b[m");
        assert!(!modes.alternate_screen());
        modes.observe("\x1b[?10");
        modes.observe("49h");
        assert!(modes.alternate_screen());
        modes.observe("\x1b[?2004;1049l");
        assert!(!modes.alternate_screen());
        modes.observe("\x1b[?47h");
        assert!(modes.alternate_screen());
        modes.observe("\x1bc");
        assert!(!modes.alternate_screen());
        modes.observe("\x1b[?1049h\x1b[?25l\x1b[?2004h");
        assert!(modes.alternate_screen());
    }
}
