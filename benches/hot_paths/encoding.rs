//! From a PTY read to each viewer's message: cutting reads into frames that fit freshell's
//! 16 KiB message limit, then encoding every frame for N viewers. ptyhub escapes a frame's
//! data once and splices each viewer's envelope around it; `serde per viewer` is the
//! straightforward alternative (one `serde_json::to_string` of the whole message per viewer)
//! the field notes measured at half the throughput from 10 viewers on.

use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput};
use ptyhub::protocol::freshell::output_encoding::{frame_limit, OutputEnvelope, Source};
use ptyhub::session::Frame;

use crate::streams::StreamKind;
use crate::{frames, reads, stream_text};

pub fn framing(c: &mut Criterion) {
    let mut group = c.benchmark_group("encoding/framing");
    let limit = frame_limit();
    for kind in [StreamKind::Plain, StreamKind::Tui] {
        let text = stream_text(kind);
        // A Linux PTY hands out at most ~4 KiB per read; the reader's buffer takes 16 KiB
        // when a burst is waiting.
        for reads_of in [1usize, 4] {
            let reads: Vec<String> = reads(&text)
                .chunks(reads_of)
                .map(|chunk| chunk.concat())
                .collect();
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_function(format!("{}/{} KiB reads", kind.name(), 4 * reads_of), |b| {
                b.iter_batched(
                    || reads.clone(),
                    |reads| {
                        reads
                            .into_iter()
                            .map(|read| limit.split(read).len())
                            .sum::<usize>()
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

fn fresh_frames(frames: &[Arc<Frame>]) -> Vec<Frame> {
    frames
        .iter()
        .map(|f| Frame::new(f.seq, f.stream_offset, f.data.clone()))
        .collect()
}

fn envelopes(viewers: usize) -> Vec<OutputEnvelope> {
    (0..viewers)
        .map(|i| {
            OutputEnvelope::new(
                "3f2a9c1e7b5d4a60",
                "stream-3f2a9c1e7b5d4a60",
                Some(&format!("pane-{i}:attach-0123456789abcdef")),
            )
        })
        .collect()
}

pub fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("encoding/fan_out");
    for kind in [StreamKind::Plain, StreamKind::Tui] {
        let text = stream_text(kind);
        let frames = frames(&text);
        for viewers in [1usize, 8, 100] {
            let envelopes = envelopes(viewers);
            // Output bytes delivered: the stream once per viewer.
            group.throughput(Throughput::Bytes((text.len() * viewers) as u64));
            group.bench_function(format!("{}/{viewers} viewers", kind.name()), |b| {
                b.iter_batched(
                    || fresh_frames(&frames),
                    |frames| {
                        let mut bytes = 0;
                        for frame in &frames {
                            for envelope in &envelopes {
                                bytes += envelope.encode(frame, Source::Live).len();
                            }
                        }
                        bytes
                    },
                    BatchSize::LargeInput,
                )
            });
            if viewers != 8 {
                continue;
            }
            group.bench_function(
                format!("{}/{viewers} viewers, serde per viewer", kind.name()),
                |b| {
                    b.iter(|| {
                        let mut bytes = 0;
                        for frame in &frames {
                            for i in 0..viewers {
                                let message = serde_json::json!({
                                    "type": "terminal.output",
                                    "terminalId": "3f2a9c1e7b5d4a60",
                                    "streamId": "stream-3f2a9c1e7b5d4a60",
                                    "attachRequestId": format!("pane-{i}:attach-0123456789abcdef"),
                                    "seqStart": frame.seq,
                                    "seqEnd": frame.seq,
                                    "source": "live",
                                    "data": &*frame.data,
                                });
                                bytes += message.to_string().len();
                            }
                        }
                        bytes
                    })
                },
            );
        }
    }
    group.finish();
}
