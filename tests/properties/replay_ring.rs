//! The replay ring against a model that keeps every frame ever pushed: seqs
//! and offsets, eviction (whole frames, oldest first, the longest suffix that
//! fits), and the answers of `get`, `bytes_from`, `read_from` and
//! `first_seq_within_budget` for every seq in and around the ring.

use proptest::prelude::*;
use ptyhub::session::ReplayRing;

use crate::config;

/// Output of every size relative to small caps, with multi-byte characters so
/// an oversized frame is cut inside one.
fn chunk() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z]{0,12}",
        2 => "[a-zé€😀\u{1b}]{0,12}",
        1 => "[a-z€]{20,80}",
    ]
}

/// Seqs worth asking about: 0, every held seq, just outside on both sides,
/// and far away.
fn probe_seqs(head: u64) -> impl Iterator<Item = u64> {
    (0..=head + 2).chain([u64::MAX / 2, u64::MAX])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_ring_keeps_the_newest_frames_that_fit(
        max_retained_bytes in prop_oneof![0u64..=4, 5u64..=64, 65u64..=4096],
        pushes in prop::collection::vec(chunk(), 0..40),
        budgets in prop::collection::vec(prop_oneof![0u64..=8, 9u64..=200, Just(u64::MAX)], 1..4),
    ) {
        let mut ring = ReplayRing::new(max_retained_bytes);
        let cap = max_retained_bytes.max(1);
        // Every frame as pushed (after the ring's own cut of oversized data).
        let mut history: Vec<String> = Vec::new();
        let mut appended = 0u64;
        for data in pushes {
            let frame = ring.push(data.clone());
            prop_assert_eq!(frame.seq, history.len() as u64 + 1);
            prop_assert_eq!(frame.stream_offset, appended);
            prop_assert!(data.ends_with(&*frame.data), "the frame is a suffix of its data");
            if data.len() as u64 <= cap {
                prop_assert_eq!(&*frame.data, data.as_str());
            } else {
                prop_assert!(frame.len_bytes() <= cap);
                // Cut on the first character boundary at or after the cut point.
                prop_assert!(frame.len_bytes() + 4 > cap);
            }
            appended += frame.len_bytes();
            history.push(frame.data.to_string());
            prop_assert_eq!(ring.head_seq(), history.len() as u64);
            prop_assert_eq!(ring.appended_bytes(), appended);
        }

        let head = ring.head_seq();
        let oldest = ring.oldest_seq();
        let held = |seq: u64| seq >= oldest && seq <= head;
        let len_of = |seq: u64| history[(seq - 1) as usize].len() as u64;
        let bytes_from = |seq: u64| (seq..=head).map(len_of).sum::<u64>();
        prop_assert!(oldest >= 1 && oldest <= head + 1);
        if head > 0 {
            prop_assert!(oldest <= head, "the newest frame is always held");
            prop_assert!(bytes_from(oldest) <= cap || oldest == head, "over the cap");
            if oldest > 1 {
                prop_assert!(
                    bytes_from(oldest - 1) > cap,
                    "frame {} was evicted although it fits",
                    oldest - 1
                );
            }
        }

        for seq in probe_seqs(head) {
            let frame = ring.get(seq);
            prop_assert_eq!(frame.is_some(), held(seq), "get({})", seq);
            if let Some(frame) = frame {
                prop_assert_eq!(frame.seq, seq);
                prop_assert_eq!(&*frame.data, history[(seq - 1) as usize].as_str());
                let next = ring.get(seq + 1);
                if let Some(next) = next {
                    prop_assert_eq!(next.stream_offset, frame.end_offset());
                }
            }

            let expected_bytes = if seq > head {
                Some(0)
            } else if held(seq) {
                Some(bytes_from(seq))
            } else {
                None
            };
            prop_assert_eq!(ring.bytes_from(seq), expected_bytes, "bytes_from({})", seq);

            for &budget in &budgets {
                let read = ring.read_from(seq, budget);
                if !held(seq) {
                    prop_assert!(read.is_empty(), "read_from({}) outside the ring", seq);
                    continue;
                }
                prop_assert!(!read.is_empty(), "read_from({}) returned nothing", seq);
                let taken: u64 = read.iter().map(|f| f.len_bytes()).sum();
                for (i, frame) in read.iter().enumerate() {
                    prop_assert_eq!(frame.seq, seq + i as u64);
                }
                // Over the budget only to return some data at all (the frames
                // before the last are empty; the session never pushes empty
                // frames, but the ring allows them).
                let before_last = taken - read.last().map_or(0, |f| f.len_bytes());
                prop_assert!(taken <= budget || before_last == 0, "read_from over budget");
                let next = seq + read.len() as u64;
                if next <= head {
                    prop_assert!(taken + len_of(next) > budget, "read_from stopped early");
                }
            }
            // Seq 0 means "from the start", as seq 1 does.
            let from = seq.max(1);
            for &budget in &budgets {
                let expected = if from > head {
                    Some(head + 1)
                } else if from < oldest {
                    None
                } else {
                    Some((from..=head).find(|&s| bytes_from(s) <= budget).unwrap_or(head + 1))
                };
                prop_assert_eq!(
                    ring.first_seq_within_budget(seq, budget, |f| f.len_bytes()),
                    expected,
                    "first_seq_within_budget({}, {})", seq, budget
                );
            }
        }
    }
}
