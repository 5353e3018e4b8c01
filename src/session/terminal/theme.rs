//! The default colours the daemon's terminal reports (OSC 10, 11 and 12)
//! when the program set none. Agents pick their colours from the background
//! they are told (codex draws its highlights from it), so the answer should
//! be the background viewers really show: by default the web client's theme,
//! and once a viewer has reported its own theme (the web client does, on
//! every connection), that one.
//!
//! Learned once: the first report since the daemon started is kept for every
//! session, so that every agent hears one consistent answer whoever attaches
//! later. It is not handed over across an upgrade: the web client reports
//! again when it reconnects.

use std::sync::OnceLock;

use alacritty_terminal::vte::ansi::Rgb;

/// The colours a viewer shows where the program chose none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub foreground: Rgb,
    pub background: Rgb,
    pub cursor: Rgb,
}

/// `fg #rrggbb bg #rrggbb cursor #rrggbb`, as a log line shows it.
impl std::fmt::Display for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = |c: Rgb| format!("#{:02x}{:02x}{:02x}", c.r, c.g, c.b);
        write!(
            f,
            "fg {} bg {} cursor {}",
            hex(self.foreground),
            hex(self.background),
            hex(self.cursor)
        )
    }
}

impl Theme {
    /// The web client's theme (`web-client/src/theme.ts`; a unit test below
    /// holds the two together).
    pub const WEB_CLIENT: Theme = Theme {
        foreground: Rgb {
            r: 0xd7,
            g: 0xdc,
            b: 0xe2,
        },
        background: Rgb {
            r: 0x10,
            g: 0x13,
            b: 0x18,
        },
        cursor: Rgb {
            r: 0xf0,
            g: 0xc6,
            b: 0x74,
        },
    };

    /// A theme from `#rrggbb` colours, as a viewer reports them; without a
    /// cursor colour the cursor is the foreground's (as xterm.js draws it).
    pub fn from_hex(
        foreground: &str,
        background: &str,
        cursor: Option<&str>,
    ) -> Result<Theme, ThemeError> {
        let foreground = hex_color(foreground)?;
        Ok(Theme {
            foreground,
            background: hex_color(background)?,
            cursor: cursor.map(hex_color).transpose()?.unwrap_or(foreground),
        })
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a colour of the form #rrggbb")]
pub struct ThemeError(String);

fn hex_color(text: &str) -> Result<Rgb, ThemeError> {
    let invalid = || ThemeError(text.to_owned());
    let digits = text.strip_prefix('#').ok_or_else(invalid)?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let channel = |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).map_err(|_| invalid());
    Ok(Rgb {
        r: channel(0)?,
        g: channel(2)?,
        b: channel(4)?,
    })
}

/// The theme every session of a daemon reports: the web client's until a
/// viewer reports its own, then that one for good.
#[derive(Debug, Default)]
pub struct SharedTheme {
    learned: OnceLock<Theme>,
}

impl SharedTheme {
    pub fn current(&self) -> Theme {
        self.learned.get().copied().unwrap_or(Theme::WEB_CLIENT)
    }

    /// Keeps `theme` if no viewer reported one before; whether it did.
    pub fn learn(&self, theme: Theme) -> bool {
        self.learned.set(theme).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_web_clients_theme() {
        let web_client = include_str!("../../../web-client/src/theme.ts");
        for (name, color) in [
            ("foreground", Theme::WEB_CLIENT.foreground),
            ("background", Theme::WEB_CLIENT.background),
            ("cursor", Theme::WEB_CLIENT.cursor),
        ] {
            let Rgb { r, g, b } = color;
            let expected = format!("{name}: '#{r:02x}{g:02x}{b:02x}'");
            assert!(
                web_client.contains(&expected),
                "web-client/src/theme.ts does not say {expected}"
            );
        }
    }

    #[test]
    fn reported_colours_are_read_as_hex() {
        let theme = Theme::from_hex("#FFFFFF", "#000000", None).unwrap();
        assert_eq!(
            theme.foreground,
            Rgb {
                r: 255,
                g: 255,
                b: 255
            }
        );
        assert_eq!(theme.cursor, theme.foreground);
        for wrong in ["ffffff", "#fff", "#ffffffff", "#gg0000", "#ff00é"] {
            assert_eq!(
                Theme::from_hex(wrong, "#000000", None),
                Err(ThemeError(wrong.to_owned()))
            );
        }
    }

    #[test]
    fn the_first_report_is_kept() {
        let shared = SharedTheme::default();
        assert_eq!(shared.current(), Theme::WEB_CLIENT);
        let light = Theme::from_hex("#202020", "#fafafa", None).unwrap();
        assert!(shared.learn(light));
        assert!(!shared.learn(Theme::WEB_CLIENT));
        assert_eq!(shared.current(), light);
    }
}
