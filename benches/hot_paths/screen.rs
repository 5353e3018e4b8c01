//! Screen-model ingest and snapshots: the model's two costs, with vt100 beside it.
//!
//! Ingest runs beside the viewers (never between the PTY and them), so its rate bounds how
//! far behind the model may fall, not what viewers receive. A snapshot is what a resyncing
//! or reattaching viewer gets, and what the session stores as a checkpoint every 16 KiB of
//! output. ptyhub's model (alacritty_terminal) keeps no scrollback; `vt100` rows are the
//! emulator it replaced, measured on the same frames, and the vt100 scrollback variants
//! show what keeping history in an emulator would cost per snapshot.

use std::num::NonZeroU16;

use criterion::{BatchSize, Criterion, Throughput};
use ptyhub::session::ScreenModel;

use crate::streams::{StreamKind, COLS, ROWS};
use crate::{frames, stream_text};

pub fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("screen/ingest");
    for kind in [StreamKind::Plain, StreamKind::Tui] {
        let text = stream_text(kind);
        let frames = frames(&text);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(kind.name(), |b| {
            b.iter_batched_ref(
                || ScreenModel::new(COLS, ROWS),
                |model| model.feed(&frames),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("{} (vt100 0.18, replaced)", kind.name()), |b| {
            b.iter_batched_ref(
                || vt100::Parser::new(nonzero(ROWS), nonzero(COLS), 0),
                |parser| {
                    for frame in &frames {
                        parser.process(frame.data.as_bytes());
                    }
                },
                BatchSize::LargeInput,
            )
        });
        // The escape-sequence parser both emulators are built on, with nothing behind it:
        // the part of either's rate no emulator on vte can go below.
        group.bench_function(format!("{} (vte 0.15 parser alone)", kind.name()), |b| {
            b.iter_batched_ref(
                alacritty_terminal::vte::Parser::new,
                |parser| {
                    let mut sink = ParsedNothing;
                    for frame in &frames {
                        parser.advance(&mut sink, frame.data.as_bytes());
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// Takes every parsed action and does nothing with it.
struct ParsedNothing;

impl alacritty_terminal::vte::Perform for ParsedNothing {}

fn nonzero(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

pub fn snapshot(c: &mut Criterion) {
    let mut group = c.benchmark_group("screen/snapshot");
    for kind in [StreamKind::Plain, StreamKind::Tui] {
        let text = stream_text(kind);
        let mut model = ScreenModel::new(COLS, ROWS);
        model.feed(&frames(&text));
        let bytes = model.snapshot().repaint.len();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(format!("{} ({bytes} B)", kind.name()), |b| {
            b.iter(|| model.snapshot())
        });
    }
    // The same plain screen with vt100 scrollback kept, dumped page by page as a snapshot
    // with history would have to.
    let text = stream_text(StreamKind::Plain);
    for scrollback in [1_000usize, 10_000] {
        // About 14 000 lines: enough to fill either scrollback.
        let mut parser = vt100::Parser::new(nonzero(ROWS), nonzero(COLS), scrollback);
        parser.process(text.as_bytes());
        let dump = |parser: &mut vt100::Parser| {
            let mut out = String::new();
            let mut offset = scrollback;
            loop {
                parser.screen_mut().set_scrollback(offset);
                out.push_str(&parser.screen().contents_formatted());
                if offset == 0 {
                    break;
                }
                offset = offset.saturating_sub(ROWS as usize);
            }
            out
        };
        let bytes = dump(&mut parser).len();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(
            format!("plain + {scrollback} rows of vt100 scrollback ({bytes} B)"),
            |b| b.iter(|| dump(&mut parser)),
        );
    }
    group.finish();
}
