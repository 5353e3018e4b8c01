//! The look a character is drawn with (colours, weight, underline style,
//! link), and the escape sequences that select it.
//!
//! A repaint selects a pen from scratch (`SGR 0` first) whenever it changes,
//! never as a difference from the previous one: the bytes saved by diffing
//! are few, and a from-scratch pen cannot inherit a stale attribute.

use std::fmt::Write;

use alacritty_terminal::term::cell::{Cell, Flags, Hyperlink};
use alacritty_terminal::vte::ansi::{Color, NamedColor};

/// Flags that say how a cell looks, not where it sits in a wide character
/// or a wrapped line.
fn look_flags(flags: Flags) -> Flags {
    flags
        - (Flags::WRAPLINE
            | Flags::WIDE_CHAR
            | Flags::WIDE_CHAR_SPACER
            | Flags::LEADING_WIDE_CHAR_SPACER)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pen {
    fg: Color,
    bg: Color,
    flags: Flags,
    underline_color: Option<Color>,
    link: Option<Hyperlink>,
}

impl Default for Pen {
    fn default() -> Self {
        Self::of(&Cell::default())
    }
}

impl Pen {
    /// The pen `cell` was drawn with (or, for a cursor's template, will be).
    pub fn of(cell: &Cell) -> Self {
        Self {
            fg: cell.fg,
            bg: cell.bg,
            flags: look_flags(cell.flags),
            underline_color: cell.underline_color(),
            link: cell.hyperlink(),
        }
    }

    /// The same look with no hyperlink.
    pub fn without_link(self) -> Self {
        Self { link: None, ..self }
    }

    /// Whether `cell` is drawn with this pen; cheaper than `Pen::of` for
    /// the common cell with no underline colour or link.
    pub fn draws(&self, cell: &Cell) -> bool {
        self.fg == cell.fg
            && self.bg == cell.bg
            && self.flags == look_flags(cell.flags)
            && match &cell.extra {
                None => self.underline_color.is_none() && self.link.is_none(),
                Some(_) => {
                    self.underline_color == cell.underline_color() && self.link == cell.hyperlink()
                }
            }
    }

    /// Appends the sequences that switch from `current` to this pen.
    pub fn select(&self, current: &Pen, out: &mut String) {
        if self.fg != current.fg
            || self.bg != current.bg
            || self.flags != current.flags
            || self.underline_color != current.underline_color
        {
            self.write_sgr(out);
        }
        if self.link != current.link {
            match &self.link {
                Some(link) => {
                    let _ = write!(out, "\x1b]8;id={};{}\x1b\\", link.id(), link.uri());
                }
                None => out.push_str("\x1b]8;;\x1b\\"),
            }
        }
    }

    fn write_sgr(&self, out: &mut String) {
        out.push_str("\x1b[");
        self.write_sgr_parameters(out);
        out.push('m');
    }

    /// The SGR parameters that select this pen from scratch (`0;1;31`), as
    /// a repaint writes them and DECRQSS reports them.
    pub fn sgr_parameters(&self) -> String {
        let mut parameters = String::new();
        self.write_sgr_parameters(&mut parameters);
        parameters
    }

    fn write_sgr_parameters(&self, out: &mut String) {
        out.push('0');
        let flags = self.flags;
        for (flag, code) in [
            (Flags::BOLD, "1"),
            (Flags::DIM, "2"),
            (Flags::ITALIC, "3"),
            (Flags::INVERSE, "7"),
            (Flags::HIDDEN, "8"),
            (Flags::STRIKEOUT, "9"),
        ] {
            if flags.contains(flag) {
                out.push(';');
                out.push_str(code);
            }
        }
        // One underline style at a time; the colon form is the only one
        // that names styles beyond single and double.
        for (flag, code) in [
            (Flags::UNDERLINE, "4"),
            (Flags::DOUBLE_UNDERLINE, "4:2"),
            (Flags::UNDERCURL, "4:3"),
            (Flags::DOTTED_UNDERLINE, "4:4"),
            (Flags::DASHED_UNDERLINE, "4:5"),
        ] {
            if flags.contains(flag) {
                out.push(';');
                out.push_str(code);
                break;
            }
        }
        if self.fg != Color::Named(NamedColor::Foreground) {
            write_color(out, self.fg, ColorSlot::Foreground);
        }
        if self.bg != Color::Named(NamedColor::Background) {
            write_color(out, self.bg, ColorSlot::Background);
        }
        if let Some(color) = self.underline_color {
            write_color(out, color, ColorSlot::Underline);
        }
    }
}

#[derive(Clone, Copy)]
enum ColorSlot {
    Foreground,
    Background,
    Underline,
}

fn write_color(out: &mut String, color: Color, slot: ColorSlot) {
    // 38/48 in the semicolon form every terminal reads; 58 (underline
    // colour) exists only in the colon form.
    let _ = match (slot, color) {
        (ColorSlot::Underline, Color::Named(named)) if (named as usize) < 16 => {
            write!(out, ";58:5:{}", named as usize)
        }
        // The default colour; alacritty's dim and bright variants are
        // renderer colours that parsing never produces.
        (ColorSlot::Underline, Color::Named(_)) => write!(out, ";59"),
        (ColorSlot::Underline, Color::Indexed(index)) => write!(out, ";58:5:{index}"),
        (ColorSlot::Underline, Color::Spec(rgb)) => {
            write!(out, ";58:2::{}:{}:{}", rgb.r, rgb.g, rgb.b)
        }
        (slot, Color::Named(named)) => {
            let (base, bright_base, default) = match slot {
                ColorSlot::Background => (40, 100, 49),
                _ => (30, 90, 39),
            };
            match named as usize {
                index @ 0..=7 => write!(out, ";{}", base + index),
                index @ 8..=15 => write!(out, ";{}", bright_base + index - 8),
                _ => write!(out, ";{default}"),
            }
        }
        (slot, Color::Indexed(index)) => write!(out, ";{};5;{index}", slot.extended()),
        (slot, Color::Spec(rgb)) => {
            write!(out, ";{};2;{};{};{}", slot.extended(), rgb.r, rgb.g, rgb.b)
        }
    };
}

impl ColorSlot {
    /// The SGR code that takes an indexed or direct colour for this slot.
    fn extended(self) -> u8 {
        match self {
            ColorSlot::Foreground => 38,
            ColorSlot::Background => 48,
            ColorSlot::Underline => 58,
        }
    }
}
