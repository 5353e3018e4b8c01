//! What "the same screen" means for a repaint: every visible cell (text,
//! width, colours, attributes), the cursor, the pen the next character is
//! drawn with, and every mode vt100 models.
//!
//! Shared by the property suite and the `snapshot_round_trip` fuzz target
//! (`tests/fuzz/`), so both check exactly the same thing.

/// Every way `actual` differs from `expected`, one line each; empty when they
/// are the same screen. Stops listing cells after a few, so a failure stays
/// readable.
pub fn screen_differences(expected: &vt100::Screen, actual: &vt100::Screen) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! same {
        ($what:literal, $e:expr, $a:expr) => {
            let (e, a) = ($e, $a);
            if e != a {
                out.push(format!("{}: expected {e:?}, got {a:?}", $what));
            }
        };
    }
    same!("size (rows, cols)", expected.size(), actual.size());
    if expected.size() != actual.size() {
        return out;
    }
    same!("contents", expected.contents(), actual.contents());
    same!(
        "cursor (row, col)",
        expected.cursor_position(),
        actual.cursor_position()
    );
    same!("hide_cursor", expected.hide_cursor(), actual.hide_cursor());
    same!(
        "alternate_screen",
        expected.alternate_screen(),
        actual.alternate_screen()
    );
    same!(
        "bracketed_paste",
        expected.bracketed_paste(),
        actual.bracketed_paste()
    );
    same!(
        "application_cursor",
        expected.application_cursor(),
        actual.application_cursor()
    );
    same!(
        "application_keypad",
        expected.application_keypad(),
        actual.application_keypad()
    );
    same!(
        "mouse_protocol_mode",
        expected.mouse_protocol_mode(),
        actual.mouse_protocol_mode()
    );
    same!(
        "mouse_protocol_encoding",
        expected.mouse_protocol_encoding(),
        actual.mouse_protocol_encoding()
    );
    same!(
        "cursor_style",
        expected.cursor_style(),
        actual.cursor_style()
    );
    same!("pen", pen(expected), pen(actual));

    let (rows, cols) = expected.size();
    let mut cell_differences = 0;
    for row in 0..rows.get() {
        same!(
            "row_wrapped",
            (row, expected.row_wrapped(row)),
            (row, actual.row_wrapped(row))
        );
        for col in 0..cols.get() {
            let (e, a) = (
                expected.cell(row, col).map(cell_state),
                actual.cell(row, col).map(cell_state),
            );
            if e != a {
                cell_differences += 1;
                if cell_differences <= 5 {
                    out.push(format!("cell ({row}, {col}): expected {e:?}, got {a:?}"));
                }
            }
        }
    }
    if cell_differences > 5 {
        out.push(format!("… and {} more cells", cell_differences - 5));
    }
    out
}

/// One cell as the comparison sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct CellState {
    contents: String,
    wide: bool,
    wide_continuation: bool,
    fg: vt100::Color,
    bg: vt100::Color,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    inverse: bool,
}

fn cell_state(cell: &vt100::Cell) -> CellState {
    CellState {
        contents: cell.contents().to_owned(),
        wide: cell.is_wide(),
        wide_continuation: cell.is_wide_continuation(),
        fg: cell.fgcolor(),
        bg: cell.bgcolor(),
        bold: cell.bold(),
        dim: cell.dim(),
        italic: cell.italic(),
        underline: cell.underline(),
        inverse: cell.inverse(),
    }
}

/// The drawing attributes the next printed character gets.
type Pen = (vt100::Color, vt100::Color, bool, bool, bool, bool, bool);

fn pen(screen: &vt100::Screen) -> Pen {
    (
        screen.fgcolor(),
        screen.bgcolor(),
        screen.bold(),
        screen.dim(),
        screen.italic(),
        screen.underline(),
        screen.inverse(),
    )
}
