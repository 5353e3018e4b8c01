//! Splitting decoded output into frames no larger than the wire allows.
//!
//! The limit is expressed by the wire adapter (freshell: a worst-case
//! `terminal.output` message must serialize to ≤ 16 KiB), so the core measures
//! each character with the adapter's weight function and knows nothing of JSON.

/// How large one frame may be, in the adapter's units.
#[derive(Clone, Copy, Debug)]
pub struct FrameLimit {
    /// Largest total weight of one frame's characters.
    pub max_weight: usize,
    /// The weight of each byte of UTF-8 (e.g. its JSON-escaped length); a
    /// character weighs the sum of its bytes. Per byte rather than per
    /// character, so a read is measured by a table lookup per byte: this runs
    /// on the PTY loop, for every byte a child writes.
    pub byte_weights: &'static [u8; 256],
}

/// Every byte weighs one.
static UTF8_BYTE_WEIGHTS: [u8; 256] = [1; 256];

impl FrameLimit {
    /// A limit in plain UTF-8 bytes.
    pub fn utf8_bytes(max_bytes: usize) -> Self {
        Self {
            max_weight: max_bytes,
            byte_weights: &UTF8_BYTE_WEIGHTS,
        }
    }

    fn weight(&self, bytes: &[u8]) -> usize {
        bytes
            .iter()
            .map(|&byte| usize::from(self.byte_weights[usize::from(byte)]))
            .sum()
    }

    /// Splits `text` into pieces within the limit, on character boundaries.
    /// A character heavier than the limit is a piece of its own.
    pub fn split(&self, text: String) -> Vec<String> {
        let bytes = text.as_bytes();
        if self.weight(bytes) <= self.max_weight {
            return vec![text];
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut weight = 0;
        let mut index = 0;
        while index < bytes.len() {
            let byte_weight = usize::from(self.byte_weights[usize::from(bytes[index])]);
            if weight + byte_weight > self.max_weight {
                let cut = char_start(bytes, index);
                if cut > start {
                    pieces.push(text[start..cut].to_owned());
                    start = cut;
                    // The bytes of the character cut in two move to the next
                    // piece; the byte at `index` is weighed again there.
                    weight = self.weight(&bytes[cut..index]);
                    continue;
                }
            }
            weight += byte_weight;
            index += 1;
        }
        pieces.push(text[start..].to_owned());
        pieces
    }
}

/// Where the character holding byte `index` starts.
fn char_start(bytes: &[u8], mut index: usize) -> usize {
    // UTF-8 continuation bytes are 0b10xx_xxxx.
    while index > 0 && bytes[index] & 0xc0 == 0x80 {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubled(ch: char) -> usize {
        ch.len_utf8() * 2
    }

    static DOUBLED: [u8; 256] = [2; 256];

    #[test]
    fn small_text_is_one_frame() {
        let limit = FrameLimit::utf8_bytes(1024);
        assert_eq!(limit.split("hello".into()), vec!["hello".to_string()]);
    }

    #[test]
    fn large_text_splits_on_character_boundaries_within_the_limit() {
        let limit = FrameLimit {
            max_weight: 10,
            byte_weights: &DOUBLED,
        };
        let text = "ab€cdefghé".repeat(3);
        let pieces = limit.split(text.clone());
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        for piece in &pieces {
            assert!(piece.chars().map(doubled).sum::<usize>() <= 10, "{piece:?}");
        }
    }

    /// Control bytes weigh 6, the rest 1: a table like freshell's.
    static CONTROLS_HEAVY: [u8; 256] = {
        let mut weights = [1; 256];
        let mut byte = 0;
        while byte < 0x20 {
            weights[byte] = 6;
            byte += 1;
        }
        weights
    };

    #[test]
    fn every_piece_is_as_full_as_the_limit_allows() {
        let text = "a\x1b[1m€😀b\n".repeat(40);
        let weight = |piece: &str| {
            piece
                .bytes()
                .map(|byte| usize::from(CONTROLS_HEAVY[usize::from(byte)]))
                .sum::<usize>()
        };
        // From the heaviest character up: one heavier than the limit is a piece alone.
        for max_weight in 6..40 {
            let limit = FrameLimit {
                max_weight,
                byte_weights: &CONTROLS_HEAVY,
            };
            let pieces = limit.split(text.clone());
            assert_eq!(pieces.concat(), text, "limit {max_weight}");
            for pair in pieces.windows(2) {
                assert!(
                    weight(&pair[0]) <= max_weight,
                    "limit {max_weight}: {pair:?}"
                );
                let next_char = pair[1].chars().next().map(String::from).unwrap_or_default();
                assert!(
                    weight(&pair[0]) + weight(&next_char) > max_weight,
                    "limit {max_weight}: {:?} could have taken {next_char:?}",
                    pair[0]
                );
            }
        }
    }
}
