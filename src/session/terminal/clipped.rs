//! The screen drawn on a terminal of another size: its top-left corner on a
//! smaller terminal, the whole of it in the top-left of a larger one, as tmux
//! draws a window on a client whose size differs from the window's.
//!
//! A viewer whose size the PTY does not have (another viewer typed last, a
//! read-only viewer, or sizes that simply differ) cannot pass the output on
//! as it is: the program wraps and positions for the PTY's width, and a
//! terminal of another width puts every wrapped or positioned line in the
//! wrong place. Such a viewer keeps a screen model of its own and draws it
//! with this instead: each row clipped to the viewer's width (never
//! wrapped), the rows the viewer lacks left out, the area the screen does
//! not cover filled with `·` (tmux's fill), the cursor where the program
//! put it when it is inside, and the input modes the program asked for, so
//! keys and the mouse reach it encoded as it expects.
//!
//! Unlike the repaint (`repaint/`), a clipped draw is not meant to be
//! followed by the raw output: the viewer draws every change the same way.
//! [`ClippedView`] remembers the rows it drew and writes only those that
//! changed, tmux's line-level redraw.

use std::fmt::Write;

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::TermMode;
use alacritty_terminal::vte::ansi::{Color, NamedColor};

use super::emulator::Emulator;
use super::pen::Pen;
use super::repaint::{cursor_style_code, kitty_keyboard_flags, write_cell, write_dec_modes};

/// Held while a draw is written, so the terminal never shows it half done.
const BEGIN_SYNCHRONIZED: &str = "\x1b[?2026h";
const END_SYNCHRONIZED: &str = "\x1b[?2026l";

/// What every draw first puts back to a known state, whatever the output
/// passed on before it (or an earlier draw) left: no scroll region, no
/// origin mode, no autowrap (a cell in the last column must not wrap), no
/// insert mode, ASCII charsets, the default pen, no open hyperlink.
const DRAWING_STATE: &str = "\x1b[r\x1b[?6l\x1b[?7l\x1b[4l\x1b(B\x1b)B\x0f\x1b[0m\x1b]8;;\x1b\\";

/// Where the screen does not reach: tmux's fill character, dimmed.
const FILL: char = '·';
const FILL_PEN: &str = "\x1b[0;2m";

/// The area a clipped screen is drawn in: the viewer's columns, and the rows
/// it gives the screen (a status line may take the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClipArea {
    pub cols: u16,
    pub rows: u16,
}

/// The rows last drawn on one viewer's terminal, so the next draw writes
/// only the rows that changed.
#[derive(Debug, Default)]
pub struct ClippedView {
    area: Option<ClipArea>,
    /// Each drawn row as written (its position included), then the footer.
    drawn: Vec<String>,
}

impl ClippedView {
    pub fn new() -> ClippedView {
        ClippedView::default()
    }

    /// The terminal was written to by something else (the raw output, a
    /// screen switch, a resize): the next draw writes every row.
    pub fn invalidate(&mut self) {
        self.area = None;
        self.drawn.clear();
    }

    /// Escape sequences that bring the viewer's terminal from the last draw
    /// to this screen in `area`, then `footer` (drawn after the rows, before
    /// the cursor is placed: a status line below them).
    pub(super) fn draw(&mut self, emulator: &Emulator, area: ClipArea, footer: &str) -> String {
        if self.area != Some(area) {
            self.invalidate();
            self.area = Some(area);
        }
        let mut rows: Vec<String> = (0..usize::from(area.rows))
            .map(|row| draw_row(emulator, area, row))
            .collect();
        rows.push(footer.to_owned());
        let mut out = String::with_capacity(4096);
        out.push_str(BEGIN_SYNCHRONIZED);
        out.push_str(DRAWING_STATE);
        for (index, row) in rows.iter().enumerate() {
            if self.drawn.get(index) != Some(row) {
                out.push_str(row);
            }
        }
        self.drawn = rows;
        write_input_modes(&mut out, *emulator.term.mode());
        write_cursor(&mut out, emulator, area);
        out.push_str(END_SYNCHRONIZED);
        out
    }
}

/// A cell nothing was drawn in: a space in the default colours.
fn is_blank(cell: &Cell) -> bool {
    cell.c == ' '
        && (cell.flags - Flags::WRAPLINE).is_empty()
        && cell.fg == Color::Named(NamedColor::Foreground)
        && cell.bg == Color::Named(NamedColor::Background)
        && cell.extra.is_none()
}

/// Row `row` of the area: the screen's row clipped to the area's width and
/// the fill beyond the screen's width, or a row of fill below its height.
/// Self-contained: it starts with its position and the default pen, so it
/// can be written alone.
fn draw_row(emulator: &Emulator, area: ClipArea, row: usize) -> String {
    let grid = emulator.term.grid();
    let area_cols = usize::from(area.cols);
    let screen_cols = grid.columns();
    let mut out = String::with_capacity(area_cols + 32);
    let _ = write!(out, "\x1b[{};1H", row + 1);
    if row >= grid.screen_lines() {
        write_fill(&mut out, area_cols);
        return out;
    }
    let clip_cols = area_cols.min(screen_cols);
    let cells = &grid[Line(row as i32)];
    // Blanks at the end are erased rather than written.
    let end = (0..clip_cols)
        .rev()
        .find(|&column| !is_blank(&cells[Column(column)]))
        .map_or(0, |column| column + 1);
    let mut pen = Pen::default();
    let mut column = 0;
    while column < end {
        let cell = &cells[Column(column)];
        let wide = cell.flags.contains(Flags::WIDE_CHAR);
        if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
            // Covered by the wide character before it.
            column += 1;
            continue;
        }
        if (wide && column + 1 >= clip_cols)
            || cell.c == '\t'
            || cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER)
        {
            // Half a wide character does not fit: a blank in its colours,
            // as tmux draws it. A tab's mark is a blank too.
            let blank = Cell {
                c: ' ',
                flags: cell.flags
                    - (Flags::WIDE_CHAR | Flags::LEADING_WIDE_CHAR_SPACER | Flags::WRAPLINE),
                ..cell.clone()
            };
            write_cell(&mut out, &blank, column, &mut pen);
            column += 1;
            continue;
        }
        write_cell(&mut out, cell, column, &mut pen);
        column += if wide { 2 } else { 1 };
    }
    Pen::default().select(&pen, &mut out);
    if screen_cols < area_cols {
        if end < screen_cols {
            let _ = write!(out, "\x1b[{}X\x1b[{}G", screen_cols - end, screen_cols + 1);
        }
        write_fill(&mut out, area_cols - screen_cols);
    } else if end < area_cols {
        // Not in the last column, so not waiting to wrap there: EL spares
        // the cells written.
        out.push_str("\x1b[K");
    }
    out
}

fn write_fill(out: &mut String, count: usize) {
    out.push_str(FILL_PEN);
    out.extend(std::iter::repeat_n(FILL, count));
    out.push_str("\x1b[0m");
}

/// The modes that decide how the viewer's terminal encodes keys and the
/// mouse (cursor keys, keypad, mouse reports, focus reports, bracketed
/// paste, the kitty keyboard flags), as the program set them. Autowrap and
/// the cursor's visibility belong to the drawing, not the program.
fn write_input_modes(out: &mut String, mode: TermMode) {
    write_dec_modes(out, mode, &[7, 25]);
    // Sets the flags in force (`CSI = flags ; 1 u`) instead of pushing, so
    // drawing again and again leaves one entry on the terminal's stack.
    let _ = write!(out, "\x1b[={};1u", kitty_keyboard_flags(mode));
}

/// The cursor where the program has it, when that is inside the area and
/// the program shows it; hidden otherwise.
fn write_cursor(out: &mut String, emulator: &Emulator, area: ClipArea) {
    let grid = emulator.term.grid();
    let point = grid.cursor.point;
    let line = usize::try_from(point.line.0).unwrap_or(0);
    let column = point.column.0;
    let clip_cols = usize::from(area.cols).min(grid.columns());
    let inside = line < usize::from(area.rows).min(grid.screen_lines()) && column < clip_cols;
    if inside && emulator.term.mode().contains(TermMode::SHOW_CURSOR) {
        let _ = write!(
            out,
            "\x1b[{};{}H\x1b[{} q\x1b[?25h",
            line + 1,
            column + 1,
            cursor_style_code(emulator)
        );
    } else {
        out.push_str("\x1b[?25l");
    }
}

#[cfg(test)]
mod tests {
    use super::super::ScreenModel;
    use super::*;

    /// What a terminal of `cols`×`rows` shows after `drawn`.
    fn shown(cols: u16, rows: u16, drawn: &str) -> ScreenModel {
        let mut viewer = ScreenModel::new(cols, rows);
        viewer.feed_bytes(drawn.as_bytes());
        viewer
    }

    fn session(cols: u16, rows: u16, output: &str) -> ScreenModel {
        let mut model = ScreenModel::new(cols, rows);
        model.feed_bytes(output.as_bytes());
        model
    }

    #[test]
    fn a_wide_screen_is_cut_at_the_viewers_width_not_wrapped() {
        let model = session(
            20,
            4,
            "0123456789abcdefghij\r\nshort\r\n\x1b[1;31mred and long line!!\x1b[m",
        );
        let mut view = ClippedView::new();
        let area = ClipArea { cols: 8, rows: 3 };
        let drawn = model.draw_clipped(&mut view, area, "\x1b[4;1Hstatus");
        let viewer = shown(8, 4, &drawn);
        assert_eq!(viewer.text(), "01234567\nshort\nred and\nstatus");
        assert!(!viewer.reading().term.mode().contains(TermMode::SHOW_CURSOR));
    }

    #[test]
    fn a_small_screen_sits_in_the_corner_with_fill_around_it() {
        let model = session(4, 2, "ab\r\ncd");
        let mut view = ClippedView::new();
        let drawn = model.draw_clipped(&mut view, ClipArea { cols: 6, rows: 3 }, "");
        let viewer = shown(6, 3, &drawn);
        assert_eq!(viewer.text(), "ab  ··\ncd  ··\n······");
        // The cursor after "cd", shown.
        let grid_cursor = viewer.reading().term.grid().cursor.point;
        assert_eq!((grid_cursor.line.0, grid_cursor.column.0), (1, 2));
        assert!(viewer.reading().term.mode().contains(TermMode::SHOW_CURSOR));
    }

    #[test]
    fn only_changed_rows_are_written_again() {
        let mut model = session(10, 3, "one\r\ntwo\r\nthree");
        let mut view = ClippedView::new();
        let area = ClipArea { cols: 10, rows: 3 };
        let first = model.draw_clipped(&mut view, area, "");
        assert!(first.contains("one") && first.contains("three"));
        model.feed_bytes(b"\x1b[2;1HTWO");
        let second = model.draw_clipped(&mut view, area, "");
        assert!(second.contains("TWO"), "{second:?}");
        assert!(!second.contains("one") && !second.contains("three"));
        let mut viewer = shown(10, 3, &first);
        viewer.feed_bytes(second.as_bytes());
        assert_eq!(viewer.text(), "one\nTWO\nthree");
        view.invalidate();
        assert!(model.draw_clipped(&mut view, area, "").contains("one"));
    }

    #[test]
    fn wide_characters_cut_in_half_become_blanks_and_modes_follow_the_program() {
        let model = session(10, 2, "ab宽字\x1b[?1h\x1b[?2004h\x1b[?1002h\x1b[?1006h");
        let mut view = ClippedView::new();
        let drawn = model.draw_clipped(&mut view, ClipArea { cols: 5, rows: 2 }, "");
        let viewer = shown(5, 2, &drawn);
        assert_eq!(viewer.text(), "ab宽");
        let mode = *viewer.reading().term.mode();
        for flag in [
            TermMode::APP_CURSOR,
            TermMode::BRACKETED_PASTE,
            TermMode::MOUSE_DRAG,
            TermMode::SGR_MOUSE,
        ] {
            assert!(mode.contains(flag), "{flag:?} not set: {drawn:?}");
        }
        assert!(
            !mode.contains(TermMode::LINE_WRAP),
            "drawn without autowrap"
        );
    }
}
