//! Login codes: what the daemon's printed links carry instead of its tokens.
//!
//! A browser keeps every address it opens in its history database, the query and the
//! fragment included, and taking the token out of the address bar afterwards
//! (`history.replaceState`) does not remove the row that was already written: Chromium's
//! `History` file, its session files and its HTTP cache held the full token of a printed
//! `?token=` link. So the links the daemon prints carry a code instead, which the page trades
//! once for the token (`POST /ptyhub/login`): a code is single use and expires, so the one
//! left in the history is worthless.
//!
//! Codes come from the OS RNG (122 bits, as generated tokens), are compared in constant time,
//! and are never logged. Only the daemon's start and a holder of the full token can mint one,
//! and at most [`MAX_PENDING_CODES`] wait at once (the oldest goes first), so nobody can make
//! the daemon store codes without bound.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use subtle::{Choice, ConstantTimeEq};

use crate::daemon::Access;

/// Codes waiting to be used at most; minting another drops the oldest.
pub const MAX_PENDING_CODES: usize = 16;

/// How long the links printed at start work: until opened once, or this long (whoever
/// starts the daemon may get to the browser a while later).
pub const STARTUP_CODE_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// How long a link asked for later (`ptyhub url`) works: it is opened at once.
pub const REQUESTED_CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The codes not used yet.
#[derive(Default)]
pub struct LoginCodes {
    pending: Mutex<Vec<PendingCode>>,
}

struct PendingCode {
    code: String,
    access: Access,
    expires: Instant,
}

impl LoginCodes {
    /// A new code that grants `access` once, within `lifetime`.
    pub fn mint(&self, access: Access, lifetime: Duration) -> String {
        let code = uuid::Uuid::new_v4().simple().to_string();
        let now = Instant::now();
        let mut pending = self.pending.lock();
        pending.retain(|p| p.expires > now);
        if pending.len() >= MAX_PENDING_CODES {
            // Oldest first: codes are pushed in the order they were minted.
            pending.remove(0);
        }
        pending.push(PendingCode {
            code: code.clone(),
            access,
            expires: now + lifetime,
        });
        code
    }

    /// The access a presented code grants, spending it; `None` for a code that is unknown,
    /// spent or expired. Every pending code is compared, in constant time, whichever matches.
    pub fn redeem(&self, presented: &str) -> Option<Access> {
        let now = Instant::now();
        let mut pending = self.pending.lock();
        pending.retain(|p| p.expires > now);
        let mut found: Option<usize> = None;
        for (index, candidate) in pending.iter().enumerate() {
            let matches: Choice = if candidate.code.len() == presented.len() {
                candidate.code.as_bytes().ct_eq(presented.as_bytes())
            } else {
                Choice::from(0)
            };
            if bool::from(matches) {
                found = Some(index);
            }
        }
        found.map(|index| pending.remove(index).access)
    }

    /// Codes waiting now (expired ones not counted).
    pub fn pending(&self) -> usize {
        let now = Instant::now();
        self.pending
            .lock()
            .iter()
            .filter(|p| p.expires > now)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_grants_its_access_once() {
        let codes = LoginCodes::default();
        let full = codes.mint(Access::Full, STARTUP_CODE_LIFETIME);
        let view = codes.mint(Access::ReadOnly, STARTUP_CODE_LIFETIME);
        assert_ne!(full, view);
        assert_eq!(codes.redeem(&view), Some(Access::ReadOnly));
        assert_eq!(codes.redeem(&full), Some(Access::Full));
        assert_eq!(codes.redeem(&full), None, "spent");
        assert_eq!(codes.redeem(""), None);
        assert_eq!(codes.pending(), 0);
    }

    #[test]
    fn an_expired_code_grants_nothing() {
        let codes = LoginCodes::default();
        let code = codes.mint(Access::Full, Duration::ZERO);
        assert_eq!(codes.redeem(&code), None);
    }

    #[test]
    fn codes_are_bounded_and_the_oldest_goes_first() {
        let codes = LoginCodes::default();
        let first = codes.mint(Access::Full, STARTUP_CODE_LIFETIME);
        let mut later = Vec::new();
        for _ in 0..MAX_PENDING_CODES {
            later.push(codes.mint(Access::ReadOnly, STARTUP_CODE_LIFETIME));
        }
        assert_eq!(codes.pending(), MAX_PENDING_CODES);
        assert_eq!(codes.redeem(&first), None, "dropped for the newest");
        assert!(later
            .iter()
            .all(|c| codes.redeem(c) == Some(Access::ReadOnly)));
    }

    #[test]
    fn codes_are_long_and_unlike_each_other() {
        let codes = LoginCodes::default();
        let a = codes.mint(Access::Full, STARTUP_CODE_LIFETIME);
        let b = codes.mint(Access::Full, STARTUP_CODE_LIFETIME);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
