//! Finding the daemon: its URL and token, for every client subcommand.
//!
//! `ptyhub serve` writes `daemon.json` (URL, token, pid) into its state dir,
//! so `ptyhub ls` works with no flags, like `tmux ls` finds its server's
//! socket. `--url` points elsewhere (a `?token=` in it, as printed on the
//! daemon's ready line, is used as the token), and `AUTH_TOKEN` overrides the
//! record's token. Every error says what to do next.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::state_dir::{
    check_private_dir, default_state_dir, read_private, DaemonRecord, StateDirError,
};

/// How a client subcommand finds the daemon.
#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// The daemon's state dir, where it records its URL and token
    /// [default: $PTYHUB_STATE_DIR, else ~/.local/state/ptyhub].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The daemon's URL (e.g. http://127.0.0.1:7373/) instead of the state dir's record;
    /// the token is then `?token=…` in the URL or $AUTH_TOKEN.
    #[arg(long, value_name = "URL", env = "PTYHUB_URL")]
    pub url: Option<String>,
    /// $AUTH_TOKEN: overrides the record's token. Not a flag, so it never shows in `ps`.
    #[arg(skip = std::env::var("AUTH_TOKEN").ok())]
    pub token: Option<String>,
}

/// Where the daemon listens, and the token it wants.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://host:port/` (always with a trailing slash).
    pub http_base: String,
    /// `ws://host:port/ws`.
    pub ws_url: String,
    pub token: String,
    /// The daemon's pid and record file when it was found through its record.
    pub recorded: Option<(u32, PathBuf)>,
}

#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("no daemon found (no {record}): run `ptyhub serve`, or pass --url and AUTH_TOKEN")]
    NoRecord { record: PathBuf },
    #[error("cannot read {record}: {source}")]
    UnreadableRecord {
        record: PathBuf,
        source: std::io::Error,
    },
    /// A record others could have written would send the token to their server.
    #[error(transparent)]
    UnsafeStateDir(#[from] StateDirError),
    #[error("no daemon running: {record} names pid {pid}, which is gone; run `ptyhub serve`")]
    StaleRecord { record: PathBuf, pid: u32 },
    #[error("no token for {url}: set AUTH_TOKEN, or put ?token=… in --url")]
    NoToken { url: String },
    #[error("unsupported daemon URL {url:?}: expected http://host:port/")]
    BadUrl { url: String },
}

impl DaemonArgs {
    /// The daemon to talk to, from the flags, the environment and the state dir.
    pub fn locate(&self) -> Result<Endpoint, LocateError> {
        let state_dir = self.state_dir.clone().unwrap_or_else(default_state_dir);
        let env_token = self.token.clone().filter(|t| !t.is_empty());
        match &self.url {
            Some(url) => {
                let (base, url_token) = split_token(url)?;
                // A token written into the URL is the most specific.
                let token = url_token
                    .or(env_token)
                    .or_else(|| {
                        // The record's token is good only for the record's daemon.
                        read_record(&state_dir)
                            .ok()
                            .filter(|record| same_base(&record.url, &base))
                            .map(|record| record.token)
                    })
                    .ok_or_else(|| LocateError::NoToken { url: base.clone() })?;
                Endpoint::new(&base, token)
            }
            None => {
                let record = read_record(&state_dir)?;
                if !process_exists(record.pid) {
                    return Err(LocateError::StaleRecord {
                        record: record_path(&state_dir),
                        pid: record.pid,
                    });
                }
                let (base, _) = split_token(&record.url)?;
                let mut endpoint = Endpoint::new(&base, env_token.unwrap_or(record.token))?;
                endpoint.recorded = Some((record.pid, record_path(&state_dir)));
                Ok(endpoint)
            }
        }
    }
}

impl Endpoint {
    fn new(base: &str, token: String) -> Result<Endpoint, LocateError> {
        let bad = || LocateError::BadUrl {
            url: base.to_owned(),
        };
        let rest = base.strip_prefix("http://").ok_or_else(bad)?;
        let authority = rest
            .split('/')
            .next()
            .filter(|a| !a.is_empty())
            .ok_or_else(bad)?;
        Ok(Endpoint {
            http_base: format!("http://{authority}/"),
            ws_url: format!("ws://{authority}/ws"),
            token,
            recorded: None,
        })
    }

    /// Why nothing answers at this endpoint, in the words of what to do next:
    /// the recorded daemon has died, or is alive but not answering, or
    /// nothing listens at the URL given.
    pub fn unreachable(&self, reason: &str) -> String {
        match &self.recorded {
            Some((pid, record)) if !process_exists(*pid) => format!(
                "no daemon answers at {} ({reason}): the daemon recorded in {} (pid {pid}) is not running; run `ptyhub serve`",
                self.http_base,
                record.display()
            ),
            Some((pid, _)) => format!(
                "the daemon (pid {pid}) does not answer at {} ({reason}); it may be starting or stuck",
                self.http_base
            ),
            None => format!(
                "no daemon answers at {} ({reason}): is `ptyhub serve` running there?",
                self.http_base
            ),
        }
    }
}

fn record_path(state_dir: &Path) -> PathBuf {
    state_dir.join("daemon.json")
}

fn read_record(state_dir: &Path) -> Result<DaemonRecord, LocateError> {
    let record = record_path(state_dir);
    if !record.exists() {
        return Err(LocateError::NoRecord { record });
    }
    check_private_dir(state_dir)?;
    read_private(&record)
        .and_then(|text| serde_json::from_str(&text).map_err(std::io::Error::other))
        .map_err(|source| LocateError::UnreadableRecord { record, source })
}

/// `http://h:p/?token=T` → (`http://h:p/`, Some(T)).
fn split_token(url: &str) -> Result<(String, Option<String>), LocateError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    if !base.starts_with("http://") {
        return Err(LocateError::BadUrl {
            url: url.to_owned(),
        });
    }
    let token = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok((base.to_owned(), token))
}

fn same_base(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    // EPERM: it exists but belongs to someone else — still a daemon.
    alive || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_dir::StateDir;

    fn args(state_dir: &Path, url: Option<&str>, token: Option<&str>) -> DaemonArgs {
        DaemonArgs {
            state_dir: Some(state_dir.to_owned()),
            url: url.map(str::to_owned),
            token: token.map(str::to_owned),
        }
    }

    fn write_record(dir: &Path, url: &str, pid: u32) {
        StateDir::open(dir)
            .expect("state dir")
            .write_daemon_record(&DaemonRecord {
                url: url.to_owned(),
                token: "record-token".to_owned(),
                pid,
            })
            .expect("write record");
    }

    #[test]
    fn the_record_is_found_without_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_record(dir.path(), "http://127.0.0.1:7373/", std::process::id());
        let endpoint = args(dir.path(), None, None).locate().expect("found");
        assert_eq!(endpoint.http_base, "http://127.0.0.1:7373/");
        assert_eq!(endpoint.ws_url, "ws://127.0.0.1:7373/ws");
        assert_eq!(endpoint.token, "record-token");
        let endpoint = args(dir.path(), None, Some("env-token"))
            .locate()
            .expect("found");
        assert_eq!(endpoint.token, "env-token");
    }

    #[test]
    fn a_missing_or_stale_record_says_to_run_serve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = args(dir.path(), None, None)
            .locate()
            .expect_err("no record");
        assert!(err.to_string().contains("run `ptyhub serve`"), "{err}");
        // Not a valid pid on Linux, so certainly not running.
        write_record(dir.path(), "http://127.0.0.1:7373/", u32::MAX);
        let err = args(dir.path(), None, None).locate().expect_err("stale");
        assert!(matches!(err, LocateError::StaleRecord { .. }), "{err}");
    }

    #[test]
    fn a_url_takes_its_token_from_the_query_the_env_or_a_matching_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let from_query = args(dir.path(), Some("http://127.0.0.1:9/?token=abc"), None)
            .locate()
            .expect("token in url");
        assert_eq!(from_query.token, "abc");
        assert_eq!(from_query.ws_url, "ws://127.0.0.1:9/ws");
        let err = args(dir.path(), Some("http://127.0.0.1:9/"), None)
            .locate()
            .expect_err("no token");
        assert!(err.to_string().contains("AUTH_TOKEN"), "{err}");
        write_record(dir.path(), "http://127.0.0.1:9/", std::process::id());
        let from_record = args(dir.path(), Some("http://127.0.0.1:9"), None)
            .locate()
            .expect("record token");
        assert_eq!(from_record.token, "record-token");
        assert!(args(dir.path(), Some("https://x/"), Some("t"))
            .locate()
            .is_err());
    }
}
