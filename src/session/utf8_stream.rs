//! Incremental UTF-8 decoding of PTY reads.
//!
//! A PTY read can end in the middle of a multi-byte character; the tail is kept
//! and completed by the next read, so a character is never split or replaced.
//! Bytes that can never be valid UTF-8 become U+FFFD, as node-pty does.

#[derive(Debug, Default)]
pub struct Utf8Stream {
    /// An incomplete character carried over from the previous read (≤ 3 bytes).
    carry: Vec<u8>,
}

impl Utf8Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// The start of a character the last read ended inside of.
    pub fn carried(&self) -> &[u8] {
        &self.carry
    }

    /// Decodes `input`, returning every complete character seen so far.
    pub fn decode(&mut self, input: &[u8]) -> String {
        let owned;
        let mut bytes: &[u8] = if self.carry.is_empty() {
            input
        } else {
            self.carry.extend_from_slice(input);
            owned = std::mem::take(&mut self.carry);
            &owned
        };
        let mut out = String::with_capacity(bytes.len());
        loop {
            match std::str::from_utf8(bytes) {
                Ok(valid) => {
                    out.push_str(valid);
                    return out;
                }
                Err(err) => {
                    let (valid, rest) = bytes.split_at(err.valid_up_to());
                    // SAFETY-free: `valid` was just checked by from_utf8.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match err.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            bytes = &rest[bad..];
                        }
                        None => {
                            // Incomplete character at the end: keep it for the next read.
                            self.carry = rest.to_vec();
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// Flushes an incomplete trailing character at end of stream as U+FFFD.
    pub fn finish(&mut self) -> String {
        if self.carry.is_empty() {
            String::new()
        } else {
            self.carry.clear();
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_reads_is_joined() {
        let mut stream = Utf8Stream::new();
        let euro = "€".as_bytes();
        assert_eq!(stream.decode(&[b'a', euro[0]]), "a");
        assert_eq!(stream.decode(&euro[1..2]), "");
        assert_eq!(stream.decode(&[euro[2], b'b']), "€b");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut stream = Utf8Stream::new();
        assert_eq!(stream.decode(b"x\xffy"), "x\u{fffd}y");
        assert_eq!(stream.decode(b"\xe2\x82"), "");
        assert_eq!(stream.finish(), "\u{fffd}");
    }
}
