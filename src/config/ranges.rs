//! The values each numeric setting may take, checked once at start.
//!
//! Types alone let nonsense through: `memory_budget_share = 7.5` would budget seven times the
//! machine's memory and `warn_ratio = 0` would warn from the first session, and both were
//! accepted without a word. A value outside its range is refused at start, naming the key, the
//! value and what is allowed, as an unknown key is.

use super::Config;

/// One setting outside the values it can take.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{key} = {value} is out of range: {allowed}")]
pub struct OutOfRange {
    /// The dotted TOML key, e.g. `limits.warn_ratio`.
    pub key: String,
    pub value: String,
    pub allowed: &'static str,
}

const SHARE: &str = "a share in (0, 1], e.g. 0.75";
const AT_LEAST_ONE: &str = "at least 1";
const POSITIVE_MS: &str = "at least 1 (milliseconds)";
const POSITIVE_BYTES: &str = "at least 1 (bytes)";

/// The first setting of `config` outside its range, if any.
pub fn check(config: &Config) -> Result<(), OutOfRange> {
    let server = &config.server;
    let sessions = &config.sessions;
    let limits = &config.limits;
    let counts = [
        ("server.max_connections", server.max_connections),
        ("server.max_open_connections", server.max_open_connections),
        ("limits.max_sessions", limits.max_sessions),
        ("limits.creates_per_window", limits.creates_per_window),
        ("limits.max_concurrent_spawns", limits.max_concurrent_spawns),
    ];
    for (key, value) in counts {
        at_least_one(key, value as u64, AT_LEAST_ONE)?;
    }
    // 0 ms would close every socket at once, spin a timer, or escalate a kill to SIGKILL
    // before SIGHUP could be heard; "never" is spelt 0 only where the docs say so (the
    // reaper's idle timeouts).
    let intervals = [
        ("server.hello_timeout_ms", server.hello_timeout_ms),
        (
            "server.silent_hello_timeout_ms",
            server.silent_hello_timeout_ms,
        ),
        (
            "server.header_read_timeout_ms",
            server.header_read_timeout_ms,
        ),
        ("server.idle_timeout_ms", server.idle_timeout_ms),
        ("server.ping_interval_ms", server.ping_interval_ms),
        ("sessions.kill_grace_ms", sessions.kill_grace_ms),
        ("limits.create_window_ms", limits.create_window_ms),
        (
            "limits.accounting_interval_ms",
            limits.accounting_interval_ms,
        ),
        ("reaper.check_interval_ms", config.reaper.check_interval_ms),
    ];
    for (key, value) in intervals {
        at_least_one(key, value, POSITIVE_MS)?;
    }
    let sizes = [
        ("sessions.replay_ring_bytes", sessions.replay_ring_bytes),
        ("sessions.viewer_queue_bytes", sessions.viewer_queue_bytes),
        (
            "sessions.default_replay_budget_bytes",
            sessions.default_replay_budget_bytes,
        ),
    ];
    for (key, value) in sizes {
        at_least_one(key, value, POSITIVE_BYTES)?;
    }
    // The type already caps them at 65535; a 0-column terminal cannot be drawn.
    let window = "at least 1 and at most 65535";
    at_least_one(
        "sessions.initial_cols",
        sessions.initial_cols.into(),
        window,
    )?;
    at_least_one(
        "sessions.initial_rows",
        sessions.initial_rows.into(),
        window,
    )?;
    share("limits.memory_budget_share", limits.memory_budget_share)?;
    share("limits.warn_ratio", limits.warn_ratio)?;
    Ok(())
}

fn at_least_one(key: &str, value: u64, allowed: &'static str) -> Result<(), OutOfRange> {
    if value >= 1 {
        return Ok(());
    }
    Err(OutOfRange {
        key: key.to_owned(),
        value: value.to_string(),
        allowed,
    })
}

/// A fraction of something: more than none, at most all of it (NaN is neither).
fn share(key: &str, value: f64) -> Result<(), OutOfRange> {
    if value > 0.0 && value <= 1.0 {
        return Ok(());
    }
    Err(OutOfRange {
        key: key.to_owned(),
        value: value.to_string(),
        allowed: SHARE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(toml_text: &str) -> Result<(), OutOfRange> {
        check(&toml::from_str(toml_text).expect("well-formed config"))
    }

    #[test]
    fn the_defaults_and_the_documented_example_are_in_range() {
        assert_eq!(check(&Config::default()), Ok(()));
        assert_eq!(
            verdict("[limits]\nmemory_budget_share = 1.0\nwarn_ratio = 0.01\n"),
            Ok(())
        );
    }

    #[test]
    fn a_share_or_ratio_must_be_more_than_none_and_at_most_all() {
        let err = verdict("[limits]\nmemory_budget_share = 7.5\n").unwrap_err();
        assert_eq!(err.key, "limits.memory_budget_share");
        assert_eq!(
            err.to_string(),
            "limits.memory_budget_share = 7.5 is out of range: a share in (0, 1], e.g. 0.75"
        );
        assert_eq!(
            verdict("[limits]\nwarn_ratio = 0\n").unwrap_err().key,
            "limits.warn_ratio"
        );
        assert!(verdict("[limits]\nwarn_ratio = -0.5\n").is_err());
        assert!(verdict("[limits]\nwarn_ratio = nan\n").is_err());
        assert!(verdict("[limits]\nmemory_budget_share = inf\n").is_err());
    }

    #[test]
    fn a_count_that_zero_would_disable_must_be_at_least_one() {
        for key in [
            "[server]\nmax_connections",
            "[server]\nmax_open_connections",
            "[limits]\nmax_sessions",
            "[limits]\ncreates_per_window",
            "[limits]\nmax_concurrent_spawns",
        ] {
            let err = verdict(&format!("{key} = 0\n")).unwrap_err();
            assert_eq!(err.value, "0", "{key}");
            assert_eq!(err.allowed, AT_LEAST_ONE, "{key}");
        }
    }

    #[test]
    fn intervals_and_sizes_must_be_positive_where_zero_does_not_mean_never() {
        let err = verdict("[reaper]\ncheck_interval_ms = 0\n").unwrap_err();
        assert_eq!(err.key, "reaper.check_interval_ms");
        let err = verdict("[sessions]\nreplay_ring_bytes = 0\n").unwrap_err();
        assert_eq!(err.key, "sessions.replay_ring_bytes");
        assert!(verdict("[server]\nping_interval_ms = 0\n").is_err());
        // 0 is documented as "never" for the reaper's idle timeouts, and as "use the share"
        // for the memory budget.
        assert_eq!(
            verdict(
                "[reaper]\nidle_timeout_ms = 0\n[providers.codex]\nidle_timeout_ms = 0\n\
                 [limits]\nmemory_budget_mib = 0\n"
            ),
            Ok(())
        );
    }

    #[test]
    fn the_initial_window_needs_a_column_and_a_row() {
        let err = verdict("[sessions]\ninitial_cols = 0\n").unwrap_err();
        assert_eq!(err.key, "sessions.initial_cols");
        assert!(verdict("[sessions]\ninitial_rows = 0\n").is_err());
        // Beyond u16 the type refuses it while parsing.
        assert!(toml::from_str::<Config>("[sessions]\ninitial_cols = 70000\n").is_err());
    }
}
