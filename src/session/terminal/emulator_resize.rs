//! A resize of the emulator: `Term`'s own, the state the model mirrors
//! resized alike, and what a resize leaves that no write reaches made
//! reachable again, so a repaint can still carry the whole state.

use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::vte::ansi;

use super::{default_tab_stops, Emulator, GridSize};

impl Emulator {
    pub fn resize(&mut self, size: GridSize) {
        if size == self.size {
            return;
        }
        let old_columns = self.size.columns();
        self.term.resize(size);
        mark_every_cell_written(self.term.grid_mut());
        let observed = &mut self.observed;
        observed.scroll_region_request = None;
        let columns = size.columns();
        if columns != old_columns {
            observed.tab_stops.truncate(columns);
            let kept = observed.tab_stops.len();
            observed.tab_stops.extend(default_tab_stops(kept, columns));
        }
        if let Some(primary) = &mut observed.primary_under_alternate {
            // As `Term` resizes its inactive primary grid: with reflow.
            primary.resize::<ansi::Color>(true, size.screen_lines(), columns);
        }
        if let Some(saved) = &mut observed.alternate_saved_cursor {
            // As `Term` resizes its inactive alternate grid: clamped.
            saved.point.line = saved.point.line.min(Line(size.screen_lines() as i32 - 1));
            saved.point.column = saved.point.column.min(Column(columns - 1));
        }
        // A saved cursor waits to wrap only in the last column. `Term`
        // keeps the flag when a widening leaves it inside the row, where
        // restoring it would wrap before the next character: a state no
        // write reaches (so no repaint could carry it) and one xterm.js,
        // which never restores a waiting cursor, does not have.
        let last_column = Column(columns - 1);
        let saved_cursors = [
            Some(&mut self.term.grid_mut().saved_cursor),
            observed.alternate_saved_cursor.as_mut(),
            observed
                .primary_under_alternate
                .as_mut()
                .map(|primary| &mut primary.saved_cursor),
        ];
        for saved in saved_cursors.into_iter().flatten() {
            if saved.point.column < last_column {
                saved.input_needs_wrap = false;
            }
        }
        self.size = size;
    }
}

/// Marks every cell of the screen as written, as a viewer's cells are.
///
/// `Term` resets (erases, scrolls in) only the cells of a row it marked
/// written, or all of them when the row's last cell differs from the
/// erasing pen. A row erased in a background has none marked; widened by a
/// resize, its new last cell is blank, so the next reset in the default
/// background left the old cells' background hidden, to show again when the
/// row next scrolled in — which neither a viewer nor a repaint ever shows.
/// (`Row::last_mut` is the public way to mark a whole row.)
pub(super) fn mark_every_cell_written(grid: &mut Grid<Cell>) {
    for line in 0..grid.screen_lines() {
        let _ = grid[Line(line as i32)].last_mut();
    }
}
