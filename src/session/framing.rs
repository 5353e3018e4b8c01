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
    /// The weight of one character (e.g. its JSON-escaped length).
    pub char_weight: fn(char) -> usize,
}

impl FrameLimit {
    /// A limit in plain UTF-8 bytes.
    pub fn utf8_bytes(max_bytes: usize) -> Self {
        Self {
            max_weight: max_bytes,
            char_weight: char::len_utf8,
        }
    }

    /// Splits `text` into pieces within the limit, on character boundaries.
    pub fn split(&self, text: String) -> Vec<String> {
        // Fast path: most reads are small enough that even a 6× escape blow-up fits.
        if text.len().saturating_mul(6) <= self.max_weight {
            return vec![text];
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut weight = 0;
        for (index, ch) in text.char_indices() {
            let w = (self.char_weight)(ch);
            if weight + w > self.max_weight && index > start {
                pieces.push(text[start..index].to_owned());
                start = index;
                weight = 0;
            }
            weight += w;
        }
        if start == 0 {
            pieces.push(text);
        } else if start < text.len() {
            pieces.push(text[start..].to_owned());
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubled(ch: char) -> usize {
        ch.len_utf8() * 2
    }

    #[test]
    fn small_text_is_one_frame() {
        let limit = FrameLimit::utf8_bytes(1024);
        assert_eq!(limit.split("hello".into()), vec!["hello".to_string()]);
    }

    #[test]
    fn large_text_splits_on_character_boundaries_within_the_limit() {
        let limit = FrameLimit {
            max_weight: 10,
            char_weight: doubled,
        };
        let text = "ab€cdefghé".repeat(3);
        let pieces = limit.split(text.clone());
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        for piece in &pieces {
            assert!(piece.chars().map(doubled).sum::<usize>() <= 10, "{piece:?}");
        }
    }
}
