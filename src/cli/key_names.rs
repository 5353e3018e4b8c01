//! Key names as `tmux send-keys` takes them: `Enter`, `C-c`, `Up`, `M-x`,
//! `S-Tab`, `F5`, `C-Left` — each becomes the bytes an xterm sends for that
//! key. An argument that names no key is text, typed as it is.
//!
//! Cursor keys are sent in their normal-mode spelling (`ESC [ A`); the
//! daemon does not tell clients whether a program switched to application
//! cursor keys, and programs that do (vim, less) accept both.
//!
//! freshell's agent API has its own, smaller table
//! (`upstream/agent_api/keys.rs`): it answers as freshell does, which
//! types `F5` as text.

/// Ctrl, Meta (Alt), Shift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Modifiers {
    ctrl: bool,
    meta: bool,
    shift: bool,
}

impl Modifiers {
    fn any(self) -> bool {
        self.ctrl || self.meta || self.shift
    }

    /// xterm's modifier parameter: 1 + shift + 2·meta + 4·ctrl.
    fn parameter(self) -> u8 {
        1 + u8::from(self.shift) + 2 * u8::from(self.meta) + 4 * u8::from(self.ctrl)
    }
}

/// Keys that xterm sends as `CSI 1 ; <mods> <final>` (or `CSI <final>` unmodified).
const CSI_LETTER_KEYS: &[(&str, char)] = &[
    ("up", 'A'),
    ("down", 'B'),
    ("right", 'C'),
    ("left", 'D'),
    ("home", 'H'),
    ("end", 'F'),
];

/// F1–F4: `SS3 <final>` unmodified, `CSI 1 ; <mods> <final>` modified.
const SS3_KEYS: &[(&str, char)] = &[("f1", 'P'), ("f2", 'Q'), ("f3", 'R'), ("f4", 'S')];

/// Keys that xterm sends as `CSI <number> [; <mods>] ~`.
const TILDE_KEYS: &[(&str, u8)] = &[
    ("ic", 2),
    ("insert", 2),
    ("dc", 3),
    ("delete", 3),
    ("ppage", 5),
    ("pageup", 5),
    ("pgup", 5),
    ("npage", 6),
    ("pagedown", 6),
    ("pgdn", 6),
    ("f5", 15),
    ("f6", 17),
    ("f7", 18),
    ("f8", 19),
    ("f9", 20),
    ("f10", 21),
    ("f11", 23),
    ("f12", 24),
];

/// Keys that are one or two plain bytes.
const PLAIN_KEYS: &[(&str, &str)] = &[
    ("enter", "\r"),
    ("tab", "\t"),
    ("btab", "\x1b[Z"),
    ("escape", "\x1b"),
    ("esc", "\x1b"),
    ("space", " "),
    ("bspace", "\x7f"),
];

/// The bytes for `name` if it names a key (tmux's spelling, any case),
/// else `None`: the argument is text.
pub fn key_bytes(name: &str) -> Option<String> {
    let (modifiers, base) = split_modifiers(name);
    if base.is_empty() {
        return None;
    }
    let mut chars = base.chars();
    if let (Some(ch), None) = (chars.next(), chars.next()) {
        // A lone character is text unless a modifier makes it a key.
        return if modifiers.any() {
            modified_char(modifiers, ch)
        } else {
            None
        };
    }
    let base = base.to_ascii_lowercase();
    if let Some(&(_, last)) = CSI_LETTER_KEYS.iter().find(|(n, _)| *n == base) {
        return Some(if modifiers.any() {
            format!("\x1b[1;{}{last}", modifiers.parameter())
        } else {
            format!("\x1b[{last}")
        });
    }
    if let Some(&(_, last)) = SS3_KEYS.iter().find(|(n, _)| *n == base) {
        return Some(if modifiers.any() {
            format!("\x1b[1;{}{last}", modifiers.parameter())
        } else {
            format!("\x1bO{last}")
        });
    }
    if let Some(&(_, number)) = TILDE_KEYS.iter().find(|(n, _)| *n == base) {
        return Some(if modifiers.any() {
            format!("\x1b[{number};{}~", modifiers.parameter())
        } else {
            format!("\x1b[{number}~")
        });
    }
    let &(_, bytes) = PLAIN_KEYS.iter().find(|(n, _)| *n == base)?;
    match modifiers {
        Modifiers {
            shift: true,
            ctrl: false,
            meta: false,
        } if base == "tab" => Some("\x1b[Z".to_owned()),
        Modifiers {
            ctrl: false,
            shift: false,
            meta,
        } => Some(format!("{}{bytes}", if meta { "\x1b" } else { "" })),
        // Ctrl or Shift with Enter, Space, …: no standard bytes.
        _ => None,
    }
}

/// `C-M-x` → (ctrl + meta, `x`); `^c` → (ctrl, `c`). A modifier needs
/// something after it: `C-` alone is text.
fn split_modifiers(name: &str) -> (Modifiers, &str) {
    let mut modifiers = Modifiers::default();
    let mut rest = name;
    loop {
        if let Some(after) = rest.strip_prefix('^').filter(|a| !a.is_empty()) {
            modifiers.ctrl = true;
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        let (Some(letter), Some('-'), Some(_)) = (chars.next(), chars.next(), chars.next()) else {
            return (modifiers, rest);
        };
        match letter {
            'C' | 'c' => modifiers.ctrl = true,
            'M' | 'm' => modifiers.meta = true,
            'S' | 's' => modifiers.shift = true,
            _ => return (modifiers, rest),
        }
        rest = &rest[2..];
    }
}

/// A character with modifiers: `C-c` is ETX, `M-x` is ESC x, `S-a` is `A`.
fn modified_char(modifiers: Modifiers, ch: char) -> Option<String> {
    let ch = if modifiers.shift {
        ch.to_ascii_uppercase()
    } else {
        ch
    };
    let key = if modifiers.ctrl {
        let byte = match ch.to_ascii_lowercase() {
            c @ 'a'..='z' => c as u8 - b'a' + 1,
            '@' | ' ' | '2' => 0,
            '[' => 0x1b,
            '\\' => 0x1c,
            ']' => 0x1d,
            '^' => 0x1e,
            '_' | '/' => 0x1f,
            '?' => 0x7f,
            _ => return None,
        };
        char::from(byte).to_string()
    } else {
        ch.to_string()
    };
    Some(if modifiers.meta {
        format!("\x1b{key}")
    } else {
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmux_key_names_become_the_bytes_xterm_sends() {
        let cases = [
            ("Enter", "\r"),
            ("enter", "\r"),
            ("C-c", "\x03"),
            ("^C", "\x03"),
            ("C-\\", "\x1c"),
            ("M-x", "\x1bx"),
            ("C-M-a", "\x1b\x01"),
            ("Up", "\x1b[A"),
            ("C-Left", "\x1b[1;5D"),
            ("S-Up", "\x1b[1;2A"),
            ("F1", "\x1bOP"),
            ("F5", "\x1b[15~"),
            ("PageUp", "\x1b[5~"),
            ("NPage", "\x1b[6~"),
            ("Escape", "\x1b"),
            ("BSpace", "\x7f"),
            ("S-Tab", "\x1b[Z"),
            ("Space", " "),
            ("M-Enter", "\x1b\r"),
        ];
        for (name, bytes) in cases {
            assert_eq!(key_bytes(name).as_deref(), Some(bytes), "{name}");
        }
    }

    #[test]
    fn anything_else_is_text() {
        for text in [
            "echo hi",
            "x",
            "C-",
            "c-compiler",
            "Enterprise",
            "-",
            "S-",
            "é",
            "C-é",
        ] {
            assert_eq!(key_bytes(text), None, "{text:?}");
        }
    }
}
