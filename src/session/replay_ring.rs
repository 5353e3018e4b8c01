//! The seq-numbered history of one terminal's output, bounded in bytes.
//!
//! Every frame is stored once; viewers read it through cursors (see
//! `viewer.rs`), so the ring doubles as every viewer's queue. Eviction drops
//! whole frames, oldest first, once the retained bytes pass the cap.
//!
//! Beside the frames the ring keeps checkpoints: repaints of the screen as
//! it stood after some frame. A viewer whose replay does not fit its budget
//! starts from the oldest checkpoint whose repaint and following frames do:
//! its screen is exact from the repaint on, and the lines the frames after
//! it scroll land in the viewer's own scrollback, as far back as the budget
//! reaches.

use std::collections::VecDeque;
use std::sync::Arc;

use super::frame::Frame;

/// A repaint of the screen as it stood right after frame `seq`.
#[derive(Debug)]
pub struct Checkpoint {
    pub seq: u64,
    pub repaint: Arc<str>,
    /// (cols, rows) of the screen: the frames after it were drawn at that
    /// size, so it serves only while the terminal keeps it.
    pub size: (u16, u16),
}

#[derive(Debug)]
pub struct ReplayRing {
    frames: VecDeque<Arc<Frame>>,
    /// Oldest first; each one's following frames are all still held.
    checkpoints: VecDeque<Arc<Checkpoint>>,
    retained_bytes: u64,
    max_retained_bytes: u64,
    /// Highest seq ever assigned (0 before the first frame).
    head_seq: u64,
    /// Total bytes ever appended: the stream offset of the next frame.
    appended_bytes: u64,
}

impl ReplayRing {
    pub fn new(max_retained_bytes: u64) -> Self {
        Self {
            frames: VecDeque::new(),
            checkpoints: VecDeque::new(),
            retained_bytes: 0,
            max_retained_bytes: max_retained_bytes.max(1),
            head_seq: 0,
            appended_bytes: 0,
        }
    }

    /// A ring holding `frames` (seq, stream offset, data; oldest first, as
    /// an earlier ring held them) after `head_seq` frames and
    /// `appended_bytes` bytes in all.
    pub fn restored(
        max_retained_bytes: u64,
        head_seq: u64,
        appended_bytes: u64,
        frames: impl Iterator<Item = (u64, u64, String)>,
    ) -> Self {
        let mut ring = Self::new(max_retained_bytes);
        for (seq, stream_offset, data) in frames {
            let frame = Frame::new(seq, stream_offset, data.into_boxed_str());
            ring.retained_bytes += frame.len_bytes();
            ring.frames.push_back(Arc::new(frame));
        }
        ring.head_seq = head_seq;
        ring.appended_bytes = appended_bytes;
        while ring.retained_bytes > ring.max_retained_bytes && ring.frames.len() > 1 {
            if let Some(old) = ring.frames.pop_front() {
                ring.retained_bytes -= old.len_bytes();
            }
        }
        ring
    }

    /// The checkpoints held, oldest first.
    pub fn checkpoints(&self) -> impl Iterator<Item = &Arc<Checkpoint>> {
        self.checkpoints.iter()
    }

    pub fn head_seq(&self) -> u64 {
        self.head_seq
    }

    /// Seq of the oldest frame still held, or `head_seq + 1` when empty.
    pub fn oldest_seq(&self) -> u64 {
        self.frames
            .front()
            .map_or(self.head_seq + 1, |frame| frame.seq)
    }

    #[cfg(test)]
    pub fn retained_bytes(&self) -> u64 {
        self.retained_bytes
    }

    pub fn appended_bytes(&self) -> u64 {
        self.appended_bytes
    }

    /// Appends output as the next frame and evicts what no longer fits.
    pub fn push(&mut self, mut data: String) -> Arc<Frame> {
        let cap = self.max_retained_bytes as usize;
        if data.len() > cap {
            // A frame larger than the whole ring keeps only its newest bytes.
            let mut cut = data.len() - cap;
            while !data.is_char_boundary(cut) {
                cut += 1;
            }
            data.drain(..cut);
        }
        self.head_seq += 1;
        let frame = Arc::new(Frame::new(
            self.head_seq,
            self.appended_bytes,
            data.into_boxed_str(),
        ));
        self.appended_bytes += frame.len_bytes();
        self.retained_bytes += frame.len_bytes();
        self.frames.push_back(Arc::clone(&frame));
        while self.retained_bytes > self.max_retained_bytes && self.frames.len() > 1 {
            if let Some(old) = self.frames.pop_front() {
                self.retained_bytes -= old.len_bytes();
            }
        }
        let oldest = self.oldest_seq();
        while self
            .checkpoints
            .front()
            .is_some_and(|checkpoint| checkpoint.seq + 1 < oldest)
        {
            self.checkpoints.pop_front();
        }
        frame
    }

    /// Keeps a repaint of the screen as it stood after frame `seq` (the
    /// newest checkpoint so far). Older checkpoints go as their frames do.
    pub fn add_checkpoint(&mut self, checkpoint: Checkpoint) {
        if checkpoint.seq + 1 < self.oldest_seq()
            || self
                .checkpoints
                .back()
                .is_some_and(|newest| newest.seq >= checkpoint.seq)
        {
            return;
        }
        self.checkpoints.push_back(Arc::new(checkpoint));
    }

    /// Forgets every checkpoint: after a resize, the frames that follow one
    /// were drawn at two sizes, and only a repaint of the screen as it is
    /// now is exact.
    pub fn clear_checkpoints(&mut self) {
        self.checkpoints.clear();
    }

    /// The oldest checkpoint after frame `after_seq` or later, drawn at
    /// `size`, whose repaint plus the frames after it cost at most `budget`.
    pub fn checkpoint_within_budget(
        &self,
        after_seq: u64,
        size: (u16, u16),
        budget: u64,
        cost: impl Fn(&Frame) -> u64,
    ) -> Option<Arc<Checkpoint>> {
        self.checkpoints
            .iter()
            .filter(|checkpoint| checkpoint.seq >= after_seq && checkpoint.size == size)
            .find(|checkpoint| {
                let Some(rest) = budget.checked_sub(checkpoint.repaint.len() as u64) else {
                    return false;
                };
                let from = checkpoint.seq + 1;
                self.first_seq_within_budget(from, rest, &cost) == Some(from)
            })
            .cloned()
    }

    /// The frame with this seq, if still held.
    pub fn get(&self, seq: u64) -> Option<&Arc<Frame>> {
        let oldest = self.frames.front()?.seq;
        let index = seq.checked_sub(oldest)?;
        self.frames.get(usize::try_from(index).ok()?)
    }

    /// Bytes of output from `seq` (inclusive) to the head, or `None` when
    /// `seq` has already been evicted.
    pub fn bytes_from(&self, seq: u64) -> Option<u64> {
        if seq > self.head_seq {
            return Some(0);
        }
        self.get(seq)
            .map(|frame| self.appended_bytes - frame.stream_offset)
    }

    /// Frames from `seq` on, stopping once `max_bytes` of data is collected
    /// (at least one frame is returned when any is available).
    pub fn read_from(&self, seq: u64, max_bytes: u64) -> Vec<Arc<Frame>> {
        let mut out = Vec::new();
        let oldest = self.oldest_seq();
        if seq < oldest {
            return out;
        }
        let mut taken = 0;
        let start = (seq - oldest) as usize;
        for frame in self.frames.iter().skip(start) {
            if taken > 0 && taken + frame.len_bytes() > max_bytes {
                break;
            }
            taken += frame.len_bytes();
            out.push(Arc::clone(frame));
        }
        out
    }

    /// The oldest seq `s ≥ from_seq` such that frames `s..=head` cost at most
    /// `budget` under `cost`. Returns `head_seq + 1` when not even the newest
    /// frame fits, and `None` when `from_seq` is no longer held.
    pub fn first_seq_within_budget(
        &self,
        from_seq: u64,
        budget: u64,
        cost: impl Fn(&Frame) -> u64,
    ) -> Option<u64> {
        let from_seq = from_seq.max(1);
        if from_seq > self.head_seq {
            return Some(self.head_seq + 1);
        }
        if from_seq < self.oldest_seq() {
            return None;
        }
        let mut spent = 0;
        let mut first = self.head_seq + 1;
        for frame in self.frames.iter().rev() {
            if frame.seq < from_seq {
                break;
            }
            spent += cost(frame);
            if spent > budget {
                break;
            }
            first = frame.seq;
        }
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_start_at_one_and_count_up() {
        let mut ring = ReplayRing::new(1024);
        assert_eq!(ring.head_seq(), 0);
        assert_eq!(ring.oldest_seq(), 1);
        assert_eq!(ring.push("a".into()).seq, 1);
        assert_eq!(ring.push("b".into()).seq, 2);
        assert_eq!(ring.get(2).map(|f| &*f.data), Some("b"));
    }

    #[test]
    fn eviction_drops_whole_frames_oldest_first() {
        let mut ring = ReplayRing::new(10);
        for _ in 0..5 {
            ring.push("abcd".into());
        }
        assert_eq!(ring.head_seq(), 5);
        assert_eq!(ring.oldest_seq(), 4);
        assert_eq!(ring.retained_bytes(), 8);
        assert_eq!(ring.bytes_from(1), None);
        assert_eq!(ring.bytes_from(5), Some(4));
        assert_eq!(ring.bytes_from(6), Some(0));
    }

    #[test]
    fn an_oversized_frame_keeps_its_newest_bytes_on_a_char_boundary() {
        let mut ring = ReplayRing::new(4);
        let frame = ring.push("xx€€".into());
        assert_eq!(&*frame.data, "€");
    }

    fn checkpoint(seq: u64, repaint: &str) -> Checkpoint {
        Checkpoint {
            seq,
            repaint: repaint.into(),
            size: (80, 24),
        }
    }

    #[test]
    fn the_oldest_checkpoint_that_fits_the_budget_is_chosen() {
        let mut ring = ReplayRing::new(1024);
        for seq in 1..=10 {
            ring.push("12345".into());
            if seq % 3 == 0 {
                ring.add_checkpoint(checkpoint(seq, "RR"));
            }
        }
        let len = |f: &Frame| f.len_bytes();
        // After 3: 2 + 7 frames × 5 = 37; after 6: 2 + 20 = 22; after 9: 7.
        let pick = |budget| {
            ring.checkpoint_within_budget(1, (80, 24), budget, len)
                .map(|c| c.seq)
        };
        assert_eq!(pick(37), Some(3));
        assert_eq!(pick(36), Some(6));
        assert_eq!(pick(7), Some(9));
        assert_eq!(pick(6), None);
        assert_eq!(
            ring.checkpoint_within_budget(1, (100, 24), 100, len)
                .map(|c| c.seq),
            None,
            "a checkpoint drawn at another size does not serve"
        );
    }

    #[test]
    fn checkpoints_go_when_the_frames_after_them_do() {
        let mut ring = ReplayRing::new(10);
        ring.push("abcd".into());
        ring.add_checkpoint(checkpoint(1, "R"));
        ring.push("abcd".into());
        ring.push("abcd".into());
        // Frames 2 and 3 are held: the checkpoint after frame 1 still serves.
        assert!(ring
            .checkpoint_within_budget(1, (80, 24), 100, |f| f.len_bytes())
            .is_some());
        ring.push("abcd".into());
        assert!(ring
            .checkpoint_within_budget(1, (80, 24), 100, |f| f.len_bytes())
            .is_none());
    }

    #[test]
    fn budget_selects_the_newest_frames_that_fit() {
        let mut ring = ReplayRing::new(1024);
        for _ in 0..10 {
            ring.push("12345".into());
        }
        let first = ring.first_seq_within_budget(1, 12, |f| f.len_bytes());
        assert_eq!(first, Some(9));
        assert_eq!(
            ring.first_seq_within_budget(1, 4, |f| f.len_bytes()),
            Some(11)
        );
        assert_eq!(ring.read_from(9, u64::MAX).len(), 2);
    }
}
