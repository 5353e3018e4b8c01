//! `ptyhub serve --config FILE`: TOML configuration with sane defaults.
//!
//! Every key is optional; see `docs/test-contract.md` and the README for the
//! full list. Unknown keys are rejected so a typo is an error, not a silent
//! default, and so are values out of their range (`config/ranges.rs`).

mod ranges;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

pub use ranges::OutOfRange;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub sessions: SessionsConfig,
    pub limits: LimitsConfig,
    pub reaper: ReaperConfig,
    pub providers: BTreeMap<String, ProviderConfig>,
    pub freshell: FreshellConfig,
    /// Read by `ptyhub attach`, not the daemon: one file may serve both.
    pub attach: AttachConfig,
}

/// `[attach]`: how `ptyhub attach` (and `new --attach`) behave.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachConfig {
    /// The detach key, e.g. `"C-a d"` (`PTYHUB_DETACH_KEY` and `--detach-key` override it).
    pub detach_key: Option<String>,
}

/// In front of freshell (`--freshell-upstream`): how agents reach
/// freshell's MCP tool, which freshell itself gives every claude and codex.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FreshellConfig {
    /// freshell's MCP server script (`dist/server/mcp/server.js` in its
    /// built checkout). Unset: agents start without freshell's tool.
    pub mcp_server: Option<String>,
    /// The program that runs it.
    pub node: String,
}

impl Default for FreshellConfig {
    fn default() -> Self {
        Self {
            mcp_server: None,
            node: "node".to_owned(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Mirrors freshell's `MAX_CONNECTIONS` (50).
    pub max_connections: usize,
    /// Mirrors freshell's `HELLO_TIMEOUT_MS` (5 s).
    pub hello_timeout_ms: u64,
    /// A socket that has sent nothing at all is closed (4002) after this.
    pub silent_hello_timeout_ms: u64,
    /// Open TCP connections; a new one evicts the oldest unauthenticated one.
    pub max_open_connections: usize,
    /// Every request head must be complete within this of the connection being ready for it
    /// (accepted, or its previous response sent); a keep-alive connection quiet that long is
    /// closed.
    pub header_read_timeout_ms: u64,
    /// An unauthenticated connection without a byte either way is closed after this.
    pub idle_timeout_ms: u64,
    /// Mirrors freshell's `PING_INTERVAL_MS` (30 s).
    pub ping_interval_ms: u64,
    /// Origins allowed besides the daemon's own host.
    pub allowed_origins: Vec<String>,
    /// `Host` names answered besides the daemon's own address and `localhost`
    /// (`name`, with the daemon's port, or `name:port`); see `server/host_gate.rs`.
    pub allowed_hosts: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_connections: 50,
            hello_timeout_ms: 5_000,
            silent_hello_timeout_ms: 1_000,
            max_open_connections: 1024,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 300_000,
            ping_interval_ms: 30_000,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
        }
    }
}

impl ServerConfig {
    pub fn hello_timeout(&self) -> Duration {
        Duration::from_millis(self.hello_timeout_ms)
    }

    /// The first message's deadline: the silent-socket one, if shorter than the hello's.
    pub fn first_message_timeout(&self) -> Duration {
        Duration::from_millis(self.silent_hello_timeout_ms.min(self.hello_timeout_ms))
    }

    pub fn connection_budgets(&self) -> crate::server::connection_budget::Budgets {
        crate::server::connection_budget::Budgets {
            max_open_connections: self.max_open_connections.max(1),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
        }
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms.max(1))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Raw output history kept per terminal, in bytes.
    pub replay_ring_bytes: u64,
    /// How far (bytes of output) a viewer may fall behind before it is
    /// resynced with the screen. The queue is the shared ring, so this costs
    /// no memory; it is the slack a viewer that keeps up on average has for
    /// a burst (3/4 of the ring by default: 6 MiB is ~70 ms of a TUI flood at
    /// full speed; 2 MiB resynced even a lone viewer on a busy 2-core host).
    pub viewer_queue_bytes: u64,
    /// Replay budget (serialized bytes) for attaches that name none.
    pub default_replay_budget_bytes: u64,
    /// Spacing of SIGHUP → SIGTERM → SIGKILL when a terminal is killed.
    pub kill_grace_ms: u64,
    /// Mirrors freshell's initial PTY size (120×30).
    pub initial_cols: u16,
    pub initial_rows: u16,
    /// Exited terminals remembered for the inventory (freshell: 200).
    pub max_exited_terminals: usize,
    /// Which viewer's window size a shared PTY takes: `latest` (the viewer
    /// that typed last, or the only one), `largest`, `smallest`, `manual`.
    pub size_policy: crate::session::SizePolicy,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            replay_ring_bytes: 8 * 1024 * 1024,
            viewer_queue_bytes: 6 * 1024 * 1024,
            default_replay_budget_bytes: 256 * 1024,
            kill_grace_ms: 3_000,
            initial_cols: 120,
            initial_rows: 30,
            max_exited_terminals: 200,
            size_policy: crate::session::SizePolicy::default(),
        }
    }
}

/// What ptyhub refuses to spawn past. A create that joins a running
/// session is never refused: a viewer is nearly free.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Running sessions overall (freshell's `MAX_TERMINALS` is 50).
    pub max_sessions: usize,
    /// Running sessions per provider, e.g. `{ claude = 20 }`.
    pub max_sessions_per_provider: BTreeMap<String, usize>,
    /// Memory for all session trees together, in MiB; 0: use the share.
    pub memory_budget_mib: u64,
    /// Without an absolute budget: this share of the memory sessions could
    /// have (MemAvailable plus what they already use).
    pub memory_budget_share: f64,
    /// Past this share of a limit, ptyhub warns (log and metrics).
    pub warn_ratio: f64,
    /// Mirrors freshell: at most this many non-restore creates per socket
    /// in `create_window_ms` (restores are exempt).
    pub creates_per_window: usize,
    pub create_window_ms: u64,
    /// Spawns that may run at once.
    pub max_concurrent_spawns: usize,
    /// How often process trees and memory are measured.
    pub accounting_interval_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_sessions: 50,
            max_sessions_per_provider: BTreeMap::new(),
            memory_budget_mib: 0,
            memory_budget_share: 0.75,
            warn_ratio: 0.8,
            creates_per_window: 10,
            create_window_ms: 10_000,
            max_concurrent_spawns: 4,
            accounting_interval_ms: 5_000,
        }
    }
}

/// Ending sessions nobody watches or uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReaperConfig {
    /// A session with no viewer, no input and no meaningful output for this
    /// long is ended (0: never). Spinners, clocks and same-text redraws are
    /// not activity.
    pub idle_timeout_ms: u64,
    pub check_interval_ms: u64,
}

impl Default for ReaperConfig {
    fn default() -> Self {
        Self {
            idle_timeout_ms: 12 * 60 * 60 * 1000,
            check_interval_ms: 30_000,
        }
    }
}

/// How one mode (`shell`, `claude`, …) is started.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// The program; looked up on PATH when not absolute.
    pub command: Option<String>,
    /// Leading arguments. When `command` is set and this is not, none.
    pub args: Option<Vec<String>>,
    /// Argument tail of a fresh start; `{session_id}` is substituted.
    pub fresh_args: Option<Vec<String>>,
    /// Argument tail of a resume; `{session_id}` is substituted.
    pub resume_args: Option<Vec<String>>,
    /// Pane title (freshell shows e.g. "Claude CLI").
    pub title: Option<String>,
    /// Overrides `[reaper] idle_timeout_ms` for this mode.
    pub idle_timeout_ms: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// One line (`line L, column C: what`), where toml's own text spans several: the error is
    /// printed on stderr, which is often a log file read line by line.
    #[error("invalid config file {path}: line {line}, column {column}: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid config file {path}: {source}")]
    OutOfRange { path: String, source: OutOfRange },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|err| {
            let at = err.span().map_or(0, |span| span.start);
            let (line, column) = line_and_column(&text, at);
            ConfigError::Parse {
                path: path.display().to_string(),
                line,
                column,
                message: err.message().trim().replace('\n', " "),
            }
        })?;
        ranges::check(&config).map_err(|source| ConfigError::OutOfRange {
            path: path.display().to_string(),
            source,
        })?;
        Ok(config)
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_command_can_be_overridden_and_defaults_remain() {
        let config: Config = toml::from_str(
            "[providers.claude]\ncommand = \"/tmp/fake\"\n[sessions]\nviewer_queue_bytes = 1024\n",
        )
        .expect("valid config");
        assert_eq!(
            config.providers["claude"].command.as_deref(),
            Some("/tmp/fake")
        );
        assert_eq!(config.sessions.viewer_queue_bytes, 1024);
        assert_eq!(config.server.max_connections, 50);
    }

    #[test]
    fn the_size_policy_is_named_in_lowercase_and_defaults_to_latest() {
        use crate::session::SizePolicy;
        assert_eq!(Config::default().sessions.size_policy, SizePolicy::Latest);
        let config: Config = toml::from_str("[sessions]\nsize_policy = \"smallest\"\n").unwrap();
        assert_eq!(config.sessions.size_policy, SizePolicy::Smallest);
        assert!(toml::from_str::<Config>("[sessions]\nsize_policy = \"tallest\"\n").is_err());
    }

    #[test]
    fn a_parse_error_is_one_line_with_its_place() {
        assert_eq!(line_and_column("a = 1\nb = é!\n", 12), (2, 6));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[server]\nmax_conections = 3\n").expect("write");
        let text = Config::load(&path).expect_err("unknown key").to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(
            text.contains("line 2, column 1: unknown field `max_conections`"),
            "{text}"
        );
    }

    #[test]
    fn a_value_out_of_range_is_refused_when_loading() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[limits]\nwarn_ratio = 0\n").expect("write");
        let text = Config::load(&path).expect_err("out of range").to_string();
        assert!(text.starts_with("invalid config file "), "{text}");
        assert!(
            text.ends_with("limits.warn_ratio = 0 is out of range: a share in (0, 1], e.g. 0.75"),
            "{text}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<Config>("[server]\nmax_conections = 3\n").is_err());
    }
}
