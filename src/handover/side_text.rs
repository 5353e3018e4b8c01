//! How the handover carries bulk text: a session's replay ring (up to its
//! cap, 8 MiB by default), its checkpoints and its repaint are most of the
//! handover's bytes, and JSON-escaping terminal output costs time while
//! every agent's output waits. So each such text is written once, raw,
//! after the JSON document, which names it by `[offset, length]`; reading
//! slices it back. (Format 1 wrote it inline as a JSON string; that still
//! reads.)
//!
//! Serde has no side channel, so the bytes go through thread-local
//! buffers, set for the duration of one `write` or `read` on this thread.

use std::cell::RefCell;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    /// The side bytes being written.
    static SIDE: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    /// The handover being read.
    static READING: RefCell<Option<Reading>> = const { RefCell::new(None) };
}

struct Reading {
    /// The whole handover: the JSON document, then the side bytes.
    bytes: Vec<u8>,
    side_start: usize,
    /// false: check that every text is there without copying it out (the
    /// new binary's dry run reads the structure, not megabytes of output).
    materialize: bool,
}

/// Serializes `document`, its bulk text set aside: (JSON, side bytes).
pub fn write<T: Serialize>(document: &T) -> serde_json::Result<(Vec<u8>, Vec<u8>)> {
    SIDE.with(|side| *side.borrow_mut() = Some(Vec::new()));
    let json = serde_json::to_vec(document);
    let side = SIDE
        .with(|side| side.borrow_mut().take())
        .unwrap_or_default();
    Ok((json?, side))
}

/// Reads the document in `bytes[..json_end]` whose bulk text starts at
/// `side_start`; with `materialize` false, texts are checked to be there and
/// read as empty.
pub fn read<T: for<'de> Deserialize<'de>>(
    bytes: Vec<u8>,
    json_end: usize,
    side_start: usize,
    materialize: bool,
) -> serde_json::Result<T> {
    READING.with(|slot| {
        *slot.borrow_mut() = Some(Reading {
            bytes,
            side_start,
            materialize,
        })
    });
    let document = READING.with(|slot| {
        let reading = slot.borrow();
        let json = reading.as_ref().map_or(&[][..], |r| &r.bytes[..json_end]);
        serde_json::from_slice(json)
    });
    READING.with(|slot| slot.borrow_mut().take());
    document
}

/// `#[serde(with = "crate::handover::side_text")]` on a `String` field.
pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    let at = SIDE.with(|side| {
        side.borrow_mut().as_mut().map(|side| {
            let at = side.len();
            side.extend_from_slice(text.as_bytes());
            at
        })
    });
    match at {
        Some(at) => (at as u64, text.len() as u64).serialize(serializer),
        // Outside `write` (a debug print, a test): inline, as format 1 did.
        None => text.serialize(serializer),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Inline(String),
        Aside(u64, u64),
    }
    match Stored::deserialize(deserializer)? {
        Stored::Inline(text) => Ok(text),
        Stored::Aside(at, len) => READING.with(|slot| {
            let reading = slot.borrow();
            let reading = reading
                .as_ref()
                .ok_or_else(|| D::Error::custom("text set aside outside a handover's read"))?;
            let bytes = usize::try_from(at)
                .ok()
                .and_then(|at| at.checked_add(reading.side_start))
                .and_then(|at| Some(at..at.checked_add(usize::try_from(len).ok()?)?))
                .and_then(|range| reading.bytes.get(range))
                .ok_or_else(|| D::Error::custom("text set aside past the end of the handover"))?;
            if !reading.materialize {
                return Ok(String::new());
            }
            String::from_utf8(bytes.to_vec()).map_err(D::Error::custom)
        }),
    }
}
