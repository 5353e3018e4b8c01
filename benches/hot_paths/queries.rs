//! The reader's query filter (`session/query_filter.rs`): it looks at every read for terminal
//! queries before the read reaches the ring, so it sits between the PTY and the viewers and
//! its rate is a ceiling on the producer's.

use criterion::{BatchSize, Criterion, Throughput};
use ptyhub::session::QueryFilter;

use crate::streams::StreamKind;
use crate::{reads, stream_text};

pub fn filter(c: &mut Criterion) {
    let mut group = c.benchmark_group("reader/query_filter");
    for kind in [StreamKind::Plain, StreamKind::Tui] {
        let text = stream_text(kind);
        let reads = reads(&text);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(kind.name(), |b| {
            b.iter_batched(
                || reads.clone(),
                |reads| {
                    let mut filter = QueryFilter::new();
                    reads
                        .into_iter()
                        .map(|read| filter.filter(read).len())
                        .sum::<usize>()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}
