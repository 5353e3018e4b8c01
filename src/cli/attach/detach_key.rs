//! The keys after the prefix (`C-\` by default): `d` detaches, `s` makes
//! the PTY take this terminal's size (tmux's `resize-window -A`, bound to a
//! key).
//!
//! Not tmux's `C-b`: inside tmux, tmux takes `C-b` for itself, so a
//! `ptyhub attach` in a tmux pane could never be detached that way (and
//! `C-b d` detaches tmux). `C-\` is dtach's and abduco's detach key; shells
//! and agent CLIs leave it alone (in raw mode it is only a byte, not
//! SIGQUIT), and the rare program that wants it gets it by pressing it twice.
//!
//! Every other byte passes through untouched, so the session sees exactly
//! what was typed: Ctrl-C is input in raw mode, and the prefix pressed twice
//! types the prefix once (tmux's `send-prefix`). A prefix followed by any
//! other key is passed on as both keys, so programs that use the prefix
//! themselves (Ctrl-b in emacs or readline) keep working.
//!
//! When the session has switched the local terminal into the kitty keyboard
//! protocol or xterm's modifyOtherKeys (codex does), Ctrl-b arrives as
//! `ESC [ 98 ; 5 u` or `ESC [ 27 ; 5 ; 98 ~`; those spellings are recognised
//! too, when they arrive within one read (a key press always does).

use std::fmt;
use std::str::FromStr;

/// A key: the byte a plain terminal sends, and its other spellings.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key {
    label: String,
    spellings: Vec<Vec<u8>>,
}

impl Key {
    /// Length of the spelling of this key that starts `input`, if any.
    fn matches(&self, input: &[u8]) -> Option<usize> {
        self.spellings
            .iter()
            .find(|spelling| input.starts_with(spelling))
            .map(Vec::len)
    }

    fn parse(text: &str) -> Result<Key, DetachKeyError> {
        let bad = || DetachKeyError(text.to_owned());
        let control = text
            .strip_prefix("C-")
            .or_else(|| text.strip_prefix("^"))
            .filter(|rest| !rest.is_empty());
        if let Some(rest) = control {
            let mut chars = rest.chars();
            let (Some(ch), None) = (chars.next(), chars.next()) else {
                return Err(bad());
            };
            let ch = ch.to_ascii_lowercase();
            let byte = match ch {
                'a'..='z' => ch as u8 - b'a' + 1,
                '@' | ' ' => 0,
                '\\' => 0x1c,
                ']' => 0x1d,
                '^' => 0x1e,
                '_' => 0x1f,
                // C-[ is Escape, which starts every arrow key: never a prefix.
                _ => return Err(bad()),
            };
            let code_point = if ch == '@' { ' ' as u32 } else { ch as u32 };
            return Ok(Key {
                label: format!("C-{ch}"),
                spellings: vec![
                    vec![byte],
                    format!("\x1b[{code_point};5u").into_bytes(),
                    format!("\x1b[27;5;{code_point}~").into_bytes(),
                ],
            });
        }
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(ch), None) if ch.is_ascii_graphic() => Ok(Key {
                label: ch.to_string(),
                spellings: vec![vec![ch as u8], format!("\x1b[{}u", ch as u32).into_bytes()],
            }),
            _ => Err(bad()),
        }
    }
}

/// The detach key when nothing else is configured (see the module doc).
pub const DEFAULT_DETACH_KEY: &str = "C-\\ d";
/// After the prefix: take the size (unless the detach key took `s`).
const TAKE_SIZE_KEY: &str = "s";

/// `--detach-key`: a prefix and the key after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetachKey {
    prefix: Key,
    key: Key,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read detach key {0:?}: write a prefix such as C-\\, C-a or ^], optionally followed by a key (default d), e.g. \"C-a d\"")]
pub struct DetachKeyError(String);

impl FromStr for DetachKey {
    type Err = DetachKeyError;

    /// `C-b`, `^b` or `C-b d`: a control key, then optionally the key after it.
    fn from_str(text: &str) -> Result<DetachKey, DetachKeyError> {
        let mut parts = text.split_whitespace();
        let prefix = parts
            .next()
            .ok_or_else(|| DetachKeyError(text.to_owned()))
            .and_then(Key::parse)?;
        if prefix.spellings[0].len() != 1 || prefix.spellings[0][0] >= 0x20 {
            return Err(DetachKeyError(text.to_owned()));
        }
        let key = Key::parse(parts.next().unwrap_or("d"))?;
        if parts.next().is_some() || key == prefix {
            return Err(DetachKeyError(text.to_owned()));
        }
        Ok(DetachKey { prefix, key })
    }
}

impl DetachKey {
    /// The key that, after the prefix, takes the size: `s`, unless the
    /// detach key is the prefix then `s`.
    fn take_size_key(&self) -> Option<Key> {
        Key::parse(TAKE_SIZE_KEY)
            .ok()
            .filter(|key| *key != self.key)
    }

    /// How the status line names the take-size key (`C-\ s`).
    pub fn take_size_label(&self) -> Option<String> {
        self.take_size_key()
            .map(|key| format!("{} {}", self.prefix.label, key.label))
    }
}

impl Default for DetachKey {
    fn default() -> DetachKey {
        // Both halves are valid keys.
        DetachKey::from_str(DEFAULT_DETACH_KEY)
            .unwrap_or_else(|_| unreachable!("the default parses"))
    }
}

impl fmt::Display for DetachKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.prefix.label, self.key.label)
    }
}

/// What one read of the keyboard amounts to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Bytes for the session, in order.
    pub forward: Vec<u8>,
    /// The detach key was pressed (input after it is dropped).
    pub detach: bool,
    /// The take-size key was pressed (once or more).
    pub take_size: bool,
}

/// Watches the keyboard for the detach key.
#[derive(Debug)]
pub struct DetachKeyFilter {
    key: DetachKey,
    take_size_key: Option<Key>,
    /// The prefix as it was typed, held until the next key decides.
    pending_prefix: Option<Vec<u8>>,
}

impl DetachKeyFilter {
    pub fn new(key: DetachKey) -> DetachKeyFilter {
        DetachKeyFilter {
            take_size_key: key.take_size_key(),
            key,
            pending_prefix: None,
        }
    }

    pub fn feed(&mut self, input: &[u8]) -> Filtered {
        let mut out = Filtered::default();
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            if let Some(prefix) = self.pending_prefix.take() {
                if self.key.key.matches(rest).is_some() {
                    out.detach = true;
                    return out;
                }
                if let Some(len) = self.take_size_key.as_ref().and_then(|k| k.matches(rest)) {
                    out.take_size = true;
                    at += len;
                    continue;
                }
                if let Some(len) = self.key.prefix.matches(rest) {
                    // Prefix twice: type the prefix once.
                    out.forward.extend_from_slice(&prefix);
                    at += len;
                    continue;
                }
                out.forward.extend_from_slice(&prefix);
                continue;
            }
            if let Some(len) = self.key.prefix.matches(rest) {
                self.pending_prefix = Some(rest[..len].to_vec());
                at += len;
                continue;
            }
            out.forward.push(input[at]);
            at += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(spec: &str) -> DetachKeyFilter {
        DetachKeyFilter::new(spec.parse().expect("valid key"))
    }

    #[test]
    fn ctrl_b_d_detaches_and_everything_else_passes_through() {
        let mut keys = filter("C-b");
        assert_eq!(
            keys.feed(b"ls\r\x03\x03"),
            Filtered {
                forward: b"ls\r\x03\x03".to_vec(),
                detach: false,
                take_size: false,
            }
        );
        let out = keys.feed(b"x\x02d-ignored");
        assert_eq!(out.forward, b"x");
        assert!(out.detach);
    }

    #[test]
    fn the_prefix_may_end_one_read_and_the_key_start_the_next() {
        let mut keys = filter("C-b d");
        assert_eq!(keys.feed(b"a\x02").forward, b"a");
        assert!(keys.feed(b"d").detach);
    }

    #[test]
    fn prefix_twice_types_it_once_and_other_keys_follow_it() {
        let mut keys = filter("C-b");
        assert_eq!(keys.feed(b"\x02\x02").forward, b"\x02");
        let out = keys.feed(b"\x02x");
        assert_eq!(out.forward, b"\x02x");
        assert!(!out.detach);
    }

    #[test]
    fn another_prefix_can_be_chosen() {
        let mut keys = filter("C-a");
        let out = keys.feed(b"\x02d");
        assert_eq!(out.forward, b"\x02d");
        assert!(!out.detach);
        assert!(keys.feed(b"\x01d").detach);
        assert!(filter("^\\ q").feed(b"\x1cq").detach);
    }

    #[test]
    fn kitty_and_modify_other_keys_spellings_are_recognised() {
        assert!(filter("C-b").feed(b"\x1b[98;5ud").detach);
        assert!(filter("C-b").feed(b"\x1b[27;5;98~\x1b[100u").detach);
        // Arrow keys are untouched.
        assert_eq!(filter("C-b").feed(b"\x1b[A").forward, b"\x1b[A");
    }

    #[test]
    fn prefix_then_s_takes_the_size_and_types_nothing() {
        let mut keys = filter("C-b");
        let out = keys.feed(b"a\x02sb");
        assert_eq!(out.forward, b"ab");
        assert!(out.take_size && !out.detach);
        // Across reads, and in the kitty spelling.
        assert_eq!(keys.feed(b"\x02").forward, b"");
        assert!(keys.feed(b"\x1b[115u").take_size);
        // A plain s is typed.
        let plain = keys.feed(b"s");
        assert_eq!(plain.forward, b"s");
        assert!(!plain.take_size);
        assert_eq!(
            DetachKey::default().take_size_label().as_deref(),
            Some("C-\\ s")
        );
        // A detach key on s leaves no key for the size.
        let on_s: DetachKey = "C-a s".parse().expect("valid key");
        assert_eq!(on_s.take_size_label(), None);
        assert!(DetachKeyFilter::new(on_s).feed(b"\x01s").detach);
    }

    #[test]
    fn unusable_keys_are_refused() {
        for spec in ["", "b", "C-[", "C-bb", "C-b d x", "C-b C-b", "C-é"] {
            assert!(spec.parse::<DetachKey>().is_err(), "{spec:?}");
        }
        assert_eq!(DetachKey::default().to_string(), "C-\\ d");
    }
}
