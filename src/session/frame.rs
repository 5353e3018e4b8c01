//! One seq-numbered piece of terminal output, shared by every viewer.
//!
//! A frame is created once by the PTY reader and handed out as `Arc<Frame>` to
//! the replay ring, the screen model and every viewer: fan-out never copies the
//! text. Wire adapters may cache an encoding of the frame's data in
//! [`Frame::wire_cache`], so work common to all viewers (JSON-escaping the data)
//! happens once per frame, not once per viewer.

use std::sync::OnceLock;

#[derive(Debug)]
pub struct Frame {
    /// Position in the terminal's output stream: starts at 1, +1 per frame,
    /// never reused for a terminal.
    pub seq: u64,
    /// Bytes of output (UTF-8 of `data`) appended to the stream before this frame.
    pub stream_offset: u64,
    /// Decoded output; never splits a character.
    pub data: Box<str>,
    /// An adapter's viewer-independent encoding of `data`, computed at most
    /// once. Text, so a viewer's message is spliced from it without checking
    /// its UTF-8 again (with 100 viewers that check cost more than parsing).
    pub wire_cache: OnceLock<Box<str>>,
}

impl Frame {
    pub fn new(seq: u64, stream_offset: u64, data: Box<str>) -> Self {
        Self {
            seq,
            stream_offset,
            data,
            wire_cache: OnceLock::new(),
        }
    }

    /// UTF-8 bytes of output in this frame.
    pub fn len_bytes(&self) -> u64 {
        self.data.len() as u64
    }

    /// Stream offset just past this frame.
    pub fn end_offset(&self) -> u64 {
        self.stream_offset + self.len_bytes()
    }
}
