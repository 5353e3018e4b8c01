//! The replay ring: every frame is appended once and read by every viewer through a cursor,
//! and every attach plans its replay by walking back from the head. Measured on a full
//! 8 MiB ring (the default `replay_ring_bytes`), so every append also evicts.

use criterion::{BatchSize, Criterion, Throughput};
use ptyhub::session::ReplayRing;

use crate::streams::StreamKind;
use crate::{reads, stream_text};

const RING_BYTES: u64 = 8 * 1024 * 1024;

fn full_ring(reads: &[String]) -> ReplayRing {
    let mut ring = ReplayRing::new(RING_BYTES);
    while ring.appended_bytes() < 2 * RING_BYTES {
        for read in reads {
            ring.push(read.clone());
        }
    }
    ring
}

pub fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring/append");
    let reads = reads(&stream_text(StreamKind::Plain));
    let bytes: usize = reads.iter().map(String::len).sum();
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("1 MiB in 4 KiB frames, full 8 MiB ring", |b| {
        let mut ring = full_ring(&reads);
        b.iter_batched(
            || reads.clone(),
            |reads| {
                for read in reads {
                    ring.push(read);
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

pub fn poll(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring/poll");
    let reads = reads(&stream_text(StreamKind::Plain));
    let ring = full_ring(&reads);
    let oldest = ring.oldest_seq();
    let middle = (oldest + ring.head_seq()) / 2;
    // What a viewer's poll does under the ring's lock: its backlog, then 64 KiB of frames.
    group.throughput(Throughput::Bytes(64 * 1024));
    group.bench_function("backlog + 64 KiB of frames", |b| {
        b.iter(|| {
            let backlog = ring.bytes_from(middle);
            (backlog, ring.read_from(middle, 64 * 1024).len())
        })
    });
    group.finish();
}

pub fn plan_attach(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring/plan_attach");
    let reads = reads(&stream_text(StreamKind::Plain));
    let ring = full_ring(&reads);
    let cost = |frame: &ptyhub::session::Frame| frame.len_bytes() + 120;
    group.bench_function("sinceSeq in the ring, 256 KiB budget", |b| {
        b.iter(|| ring.first_seq_within_budget(ring.oldest_seq(), 256 * 1024, cost))
    });
    group.bench_function("sinceSeq in the ring, whole ring within budget", |b| {
        b.iter(|| ring.first_seq_within_budget(ring.oldest_seq(), u64::MAX, cost))
    });
    group.finish();
}
