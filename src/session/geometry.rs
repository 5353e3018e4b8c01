//! The one size of a shared PTY, and how sure we are that viewers agree on it.
//!
//! Last writer wins. The epoch counts real size changes so a viewer can tell
//! that its checkpointed screen was drawn at another size; the authority says
//! whether the size was set while several owners (sockets) were attached.

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GeometryAuthority {
    /// The size was last set while no other owner was attached.
    SingleClient,
    /// Several owners were attached: some may render at another size.
    MultiClientUnknown,
}

#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Geometry {
    pub cols: u16,
    pub rows: u16,
    /// Starts at 1; +1 each time a recorded size actually changes.
    pub epoch: u64,
    pub authority: GeometryAuthority,
    /// Whether any viewer has set the size yet (the spawn size does not count).
    recorded: bool,
}

impl Geometry {
    pub fn new(cols: u16, rows: u16) -> Self {
        Self {
            cols,
            rows,
            epoch: 1,
            authority: GeometryAuthority::SingleClient,
            recorded: false,
        }
    }

    /// Records a size set by a viewer; returns whether the PTY must change.
    pub fn record(&mut self, cols: u16, rows: u16, others_attached: bool) -> bool {
        let changed = (cols, rows) != (self.cols, self.rows);
        if changed && self.recorded {
            self.epoch += 1;
        }
        self.recorded = true;
        self.cols = cols;
        self.rows = rows;
        self.authority = if others_attached {
            GeometryAuthority::MultiClientUnknown
        } else {
            GeometryAuthority::SingleClient
        };
        changed
    }

    /// A viewer joined without resizing while others watch: sizes may differ.
    pub fn note_passive_join(&mut self, others_attached: bool) {
        if others_attached {
            self.authority = GeometryAuthority::MultiClientUnknown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_recorded_size_does_not_bump_the_epoch() {
        let mut geometry = Geometry::new(120, 30);
        assert!(geometry.record(80, 24, false));
        assert_eq!(geometry.epoch, 1);
        assert!(!geometry.record(80, 24, false));
        assert_eq!(geometry.epoch, 1);
        assert!(geometry.record(100, 40, true));
        assert_eq!(geometry.epoch, 2);
        assert_eq!(geometry.authority, GeometryAuthority::MultiClientUnknown);
    }
}
