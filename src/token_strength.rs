//! How strong a token given in the environment must be.
//!
//! `AUTH_TOKEN` guards a shell on this machine and `PTYHUB_VIEW_TOKEN` the output of every
//! terminal. A short or patterned token (`aaaaaaaaaaaaaaaa`, `abababab…`) is guessed long
//! before any rate limit matters, so the daemon refuses to start with one and says how to
//! make a good one. Generated tokens come from the OS RNG (uuid v4, through `getrandom`).

/// Fewer characters than this is refused (16 hex digits: 64 bits).
pub const MIN_TOKEN_CHARS: usize = 16;

/// A token made of fewer different characters is refused.
const MIN_DISTINCT_CHARS: usize = 6;

const HOW_TO_MAKE_ONE: &str = "generate one with `openssl rand -hex 16`, or leave it unset";

/// Why a token is refused; `name` is the variable it came from.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeakToken {
    #[error(
        "{name} must be at least {MIN_TOKEN_CHARS} characters (it has {chars}): {HOW_TO_MAKE_ONE}"
    )]
    TooShort { name: &'static str, chars: usize },
    #[error("{name} repeats the same {period} character(s) over and over: {HOW_TO_MAKE_ONE}")]
    Repeated { name: &'static str, period: usize },
    #[error("{name} uses only {distinct} different characters: {HOW_TO_MAKE_ONE}")]
    FewCharacters { name: &'static str, distinct: usize },
}

/// Refuses a token that is short, a repeated pattern, or made of a handful of characters.
pub fn check(name: &'static str, token: &str) -> Result<(), WeakToken> {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < MIN_TOKEN_CHARS {
        return Err(WeakToken::TooShort {
            name,
            chars: chars.len(),
        });
    }
    if let Some(period) = (1..=chars.len() / 2).find(|&p| repeats_with_period(&chars, p)) {
        return Err(WeakToken::Repeated { name, period });
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(WeakToken::FewCharacters {
            name,
            distinct: distinct.len(),
        });
    }
    Ok(())
}

/// True when `chars` is its first `period` characters over and over (the last copy may be cut).
fn repeats_with_period(chars: &[char], period: usize) -> bool {
    chars
        .iter()
        .skip(period)
        .zip(chars)
        .all(|(later, earlier)| later == earlier)
}

/// A new token: 122 bits from the OS RNG, as 32 hex digits.
pub fn generate() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_repeated_and_monotonous_tokens_are_refused() {
        assert!(matches!(
            check("T", "a"),
            Err(WeakToken::TooShort { chars: 1, .. })
        ));
        assert!(matches!(
            check("T", "aaaaaaaaaaaaaaaa"),
            Err(WeakToken::Repeated { period: 1, .. })
        ));
        assert!(matches!(
            check("T", "abcabcabcabcabcabc"),
            Err(WeakToken::Repeated { period: 3, .. })
        ));
        assert!(matches!(
            check("T", "aaaaaaaaaaaaaaab"),
            Err(WeakToken::FewCharacters { distinct: 2, .. })
        ));
        assert!(check("T", "0123456789abcdef").is_ok());
        assert!(check("T", &generate()).is_ok());
        let err = check("AUTH_TOKEN", "x").expect_err("short").to_string();
        assert!(
            err.contains("AUTH_TOKEN") && err.contains("openssl rand"),
            "{err}"
        );
    }
}
