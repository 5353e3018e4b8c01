//! Providers: how a mode (`shell`, `claude`, `codex`, …) becomes an argv.
//!
//! Built-in defaults describe how each CLI starts fresh and resumes; the
//! config file may override any part. Provider quirks live here and nowhere
//! else. Client strings (session ids, cwd, tab ids) only ever become single
//! argv entries or environment values — never shell text.
//!
//! Where a session id is a positional argument (codex's `resume <id>`), the
//! template puts `--` before it, so that the provider's parser could never
//! read it as an option even if the id check let one through. Where it is an
//! option's value (claude's `--resume <id>`, opencode's `--session <id>`), a
//! `--` cannot stand between the two: claude's `--resume` takes an optional
//! value, so `--resume -- <id>` resumes nothing and sends the id as a prompt,
//! and `--session-id -- <id>` takes `--` as the id. There the id check (no
//! leading `-`, UUIDs for claude) is the guard.

mod availability;
pub mod codex_sessions;
mod command_session;
mod launch_settings;
pub mod opencode_server;

pub use availability::ProgramOrigin;
pub use launch_settings::LaunchSettings;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::config::ProviderConfig;
use crate::session::LaunchSpec;

/// Variables of the daemon's environment a child must not inherit (the
/// daemon's secrets, and settings that change how CLIs render). Mirrors the
/// list freshell strips, plus ptyhub's own read-only token.
const ENV_NOT_INHERITED: &[&str] = &[
    "AUTH_TOKEN",
    "PTYHUB_VIEW_TOKEN",
    "ALLOWED_ORIGINS",
    "CLAUDECODE",
    "CI",
    "NO_COLOR",
    "FORCE_COLOR",
    "COLOR",
    "PORT",
    "NODE_ENV",
    "npm_lifecycle_script",
    "OPENCODE_SERVER_USERNAME",
    "OPENCODE_SERVER_PASSWORD",
];

/// What a session id of a provider must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionIdRule {
    /// A canonical UUID (claude, codex).
    Uuid,
    /// 1–128 characters of `[A-Za-z0-9_.-]` (opencode and custom providers).
    Token,
}

impl SessionIdRule {
    pub fn check(self, id: &str) -> Result<(), String> {
        // A program would read it as an option (`--print-logs`), not as the id.
        if id.starts_with('-') {
            return Err(format!(
                "Invalid session id '{}': a session id must not begin with '-'.",
                truncate(id)
            ));
        }
        match self {
            SessionIdRule::Uuid => uuid::Uuid::try_parse(id)
                .ok()
                .filter(|_| id.len() == 36)
                .map(|_| ())
                .ok_or_else(|| format!("Invalid session id '{}': expected a UUID.", truncate(id))),
            SessionIdRule::Token => {
                let ok = !id.is_empty()
                    && id.len() <= 128
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "Invalid session id '{}': expected 1-128 characters of A-Z a-z 0-9 _ . -",
                        truncate(id)
                    ))
                }
            }
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

/// How a new process of a provider starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchKind {
    /// A new conversation; `session_id` is set when the server chose it.
    Fresh { session_id: Option<String> },
    /// Continue an existing conversation.
    Resume { session_id: String },
}

/// Where a CLI that picks its own session id writes it down, so the
/// terminal can be bound to its session later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionFinder {
    /// Fresh starts are launched with their id, or have no sessions.
    None,
    /// codex's rollout files (`codex_sessions.rs`).
    CodexRollouts,
    /// opencode's own server, started on a port of 127.0.0.1, which also
    /// tells when the agent works (`opencode_server.rs`).
    OpencodeServer,
}

/// How a mode's program is given an MCP server on its command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum McpStyle {
    None,
    /// A JSON config file named by this flag (claude's `--mcp-config`).
    ConfigFileFlag(&'static str),
    /// TOML overrides `-c mcp_servers.<name>.…` (codex).
    CodexOverrides,
    /// A whole config in `OPENCODE_CONFIG_CONTENT`, which opencode merges
    /// over its config files (no file in the user's project is touched).
    OpencodeConfigContent,
}

#[derive(Clone, Debug)]
pub struct Provider {
    pub mode: String,
    pub title: String,
    program: String,
    /// Where `program` came from, so a missing one names what to fix.
    program_origin: ProgramOrigin,
    leading_args: Vec<String>,
    fresh_args: Vec<String>,
    /// `None`: this mode has no sessions to resume (a shell).
    resume_args: Option<Vec<String>>,
    pub session_ids: SessionIdRule,
    /// The server picks the session id of a fresh start (claude's `--session-id`).
    pub server_assigns_session_id: bool,
    /// How the program takes an MCP server (freshell's tool, in front mode).
    pub mcp_style: McpStyle,
    /// How a fresh start's session is found when the CLI picks its id.
    pub session_finder: SessionFinder,
}

/// What the caller knows about the terminal being launched.
pub struct LaunchRequest<'a> {
    pub kind: &'a LaunchKind,
    pub cwd: Option<&'a str>,
    pub terminal_id: &'a str,
    pub tab_id: Option<&'a str>,
    pub pane_id: Option<&'a str>,
    pub cols: u16,
    pub rows: u16,
    /// Arguments after the leading ones, before the fresh/resume tail
    /// (freshell's MCP tool, in front mode).
    pub extra_args: &'a [String],
    /// Environment on top of ptyhub's own (`FRESHELL_URL`, … in front mode).
    pub extra_env: &'a [(OsString, OsString)],
}

impl Provider {
    pub fn can_resume(&self) -> bool {
        self.resume_args.is_some()
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    pub fn launch_spec(&self, request: &LaunchRequest<'_>) -> LaunchSpec {
        let (tail, session_id): (&[String], Option<&str>) = match request.kind {
            LaunchKind::Fresh { session_id } => (&self.fresh_args, session_id.as_deref()),
            LaunchKind::Resume { session_id } => (
                self.resume_args.as_deref().unwrap_or_default(),
                Some(session_id.as_str()),
            ),
        };
        let mut args: Vec<OsString> = self.leading_args.iter().map(OsString::from).collect();
        args.extend(request.extra_args.iter().map(OsString::from));
        for arg in tail {
            match session_id {
                Some(id) => args.push(arg.replace("{session_id}", id).into()),
                None if arg.contains("{session_id}") => {}
                None => args.push(arg.into()),
            }
        }
        let mut env_set: Vec<(OsString, OsString)> = vec![
            ("TERM".into(), "xterm-256color".into()),
            ("COLORTERM".into(), "truecolor".into()),
            ("PTYHUB_TERMINAL_ID".into(), request.terminal_id.into()),
            ("FRESHELL_TERMINAL_ID".into(), request.terminal_id.into()),
        ];
        if std::env::var_os("LANG").is_none() {
            env_set.push(("LANG".into(), "C.UTF-8".into()));
        }
        if let Some(tab) = request.tab_id {
            env_set.push(("FRESHELL_TAB_ID".into(), tab.into()));
        }
        if let Some(pane) = request.pane_id {
            env_set.push(("FRESHELL_PANE_ID".into(), pane.into()));
        }
        env_set.extend(request.extra_env.iter().cloned());
        LaunchSpec {
            program: self.program.clone().into(),
            args,
            cwd: Some(resolve_cwd(request.cwd)),
            env_set,
            env_remove: ENV_NOT_INHERITED.iter().map(OsString::from).collect(),
            cols: request.cols,
            rows: request.rows,
        }
    }
}

/// The requested directory when it exists, else `$HOME`, else `/`.
fn resolve_cwd(requested: Option<&str>) -> PathBuf {
    if let Some(dir) = requested.filter(|d| Path::new(d).is_dir()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = requested {
        tracing::warn!(cwd = dir, "requested cwd is not a directory; using $HOME");
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|home| home.is_dir())
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn default_shell() -> String {
    std::env::var("SHELL")
        .ok()
        .filter(|shell| Path::new(shell).is_file())
        .or_else(|| {
            Path::new("/bin/bash")
                .is_file()
                .then(|| "/bin/bash".to_owned())
        })
        .unwrap_or_else(|| "/bin/sh".to_owned())
}

/// What claude is started with so that it rings the terminal's bell when a
/// turn completes (a Stop hook writing BEL to its terminal), as freshell
/// starts it: the bell is how the daemon knows the agent waits for its user
/// (`session/turn_tracker.rs`). The hook is a constant, never client text.
const CLAUDE_STOP_HOOK_SETTINGS: &str = r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"sh -c \"printf '\\a' > /dev/tty 2>/dev/null || true\""}]}]}}"#;

/// What codex is started with so that it rings the bell when a turn
/// completes, as freshell starts it.
const CODEX_BELL_ON_TURN_COMPLETE: [&str; 4] = [
    "-c",
    "tui.notification_method=bel",
    "-c",
    "tui.notifications=['agent-turn-complete']",
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The modes ptyhub knows without any configuration.
fn built_in(mode: &str) -> Option<Provider> {
    let env_command =
        |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
    let provider = match mode {
        "shell" => Provider {
            mode: "shell".into(),
            title: "Shell".into(),
            program: default_shell(),
            program_origin: ProgramOrigin::BuiltIn { env: Some("SHELL") },
            leading_args: strings(&["-l"]),
            fresh_args: Vec::new(),
            resume_args: None,
            session_ids: SessionIdRule::Token,
            server_assigns_session_id: false,
            mcp_style: McpStyle::None,
            session_finder: SessionFinder::None,
        },
        "claude" => Provider {
            mode: "claude".into(),
            title: "Claude CLI".into(),
            program: env_command("CLAUDE_CMD", "claude"),
            program_origin: ProgramOrigin::BuiltIn {
                env: Some("CLAUDE_CMD"),
            },
            leading_args: strings(&["--settings", CLAUDE_STOP_HOOK_SETTINGS]),
            fresh_args: strings(&["--session-id", "{session_id}"]),
            resume_args: Some(strings(&["--resume", "{session_id}"])),
            session_ids: SessionIdRule::Uuid,
            server_assigns_session_id: true,
            mcp_style: McpStyle::ConfigFileFlag("--mcp-config"),
            session_finder: SessionFinder::None,
        },
        "codex" => Provider {
            mode: "codex".into(),
            title: "Codex CLI".into(),
            program: env_command("CODEX_CMD", "codex"),
            program_origin: ProgramOrigin::BuiltIn {
                env: Some("CODEX_CMD"),
            },
            leading_args: strings(&CODEX_BELL_ON_TURN_COMPLETE),
            fresh_args: Vec::new(),
            // codex's parser (clap) reads what follows `--` as positionals: the id.
            resume_args: Some(strings(&["resume", "--", "{session_id}"])),
            session_ids: SessionIdRule::Uuid,
            server_assigns_session_id: false,
            mcp_style: McpStyle::CodexOverrides,
            session_finder: SessionFinder::CodexRollouts,
        },
        "opencode" => Provider {
            mode: "opencode".into(),
            title: "OpenCode".into(),
            program: env_command("OPENCODE_CMD", "opencode"),
            program_origin: ProgramOrigin::BuiltIn {
                env: Some("OPENCODE_CMD"),
            },
            leading_args: Vec::new(),
            fresh_args: Vec::new(),
            resume_args: Some(strings(&["--session", "{session_id}"])),
            session_ids: SessionIdRule::Token,
            server_assigns_session_id: false,
            mcp_style: McpStyle::OpencodeConfigContent,
            session_finder: SessionFinder::OpencodeServer,
        },
        _ => return None,
    };
    Some(provider)
}

const BUILT_IN_MODES: &[&str] = &["shell", "claude", "codex", "opencode"];

/// Every mode this daemon can start.
#[derive(Clone, Debug)]
pub struct Providers {
    by_mode: BTreeMap<String, Provider>,
}

impl Providers {
    pub fn from_config(overrides: &BTreeMap<String, ProviderConfig>) -> Providers {
        let mut by_mode: BTreeMap<String, Provider> = BUILT_IN_MODES
            .iter()
            .filter_map(|mode| built_in(mode).map(|p| ((*mode).to_owned(), p)))
            .collect();
        for (mode, config) in overrides {
            let provider = match by_mode.remove(mode) {
                Some(base) => apply_overrides(base, config),
                None => apply_overrides(custom_provider(mode), config),
            };
            by_mode.insert(mode.clone(), provider);
        }
        Providers { by_mode }
    }

    pub fn get(&self, mode: &str) -> Option<&Provider> {
        self.by_mode.get(mode)
    }

    pub fn modes(&self) -> impl Iterator<Item = &str> {
        self.by_mode.keys().map(String::as_str)
    }
}

fn custom_provider(mode: &str) -> Provider {
    Provider {
        mode: mode.to_owned(),
        title: mode.to_owned(),
        program: mode.to_owned(),
        program_origin: ProgramOrigin::Config,
        leading_args: Vec::new(),
        fresh_args: Vec::new(),
        resume_args: None,
        session_ids: SessionIdRule::Token,
        server_assigns_session_id: false,
        mcp_style: McpStyle::None,
        session_finder: SessionFinder::None,
    }
}

fn apply_overrides(mut provider: Provider, config: &ProviderConfig) -> Provider {
    if let Some(command) = &config.command {
        provider.program = command.clone();
        provider.program_origin = ProgramOrigin::Config;
        // Built-in leading args belong to the built-in program.
        provider.leading_args = Vec::new();
    }
    if let Some(args) = &config.args {
        provider.leading_args = args.clone();
    }
    if let Some(fresh) = &config.fresh_args {
        provider.fresh_args = fresh.clone();
    }
    if let Some(resume) = &config.resume_args {
        provider.resume_args = Some(resume.clone());
    }
    if let Some(title) = &config.title {
        provider.title = title.clone();
    }
    provider
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(kind: &'a LaunchKind) -> LaunchRequest<'a> {
        LaunchRequest {
            kind,
            cwd: None,
            terminal_id: "t1",
            tab_id: None,
            pane_id: None,
            cols: 80,
            rows: 24,
            extra_args: &[],
            extra_env: &[],
        }
    }

    #[test]
    fn claude_resumes_with_the_session_id_as_one_argument() {
        let providers = Providers::from_config(&BTreeMap::new());
        let claude = providers.get("claude").expect("built in");
        let kind = LaunchKind::Resume {
            session_id: "0b6c5e5e-3f7c-4c39-9d8e-3f3b8e1f2a11".into(),
        };
        let spec = claude.launch_spec(&request(&kind));
        assert!(spec.args.ends_with(&[
            OsString::from("--resume"),
            OsString::from("0b6c5e5e-3f7c-4c39-9d8e-3f3b8e1f2a11")
        ]));
    }

    #[test]
    fn claude_starts_with_a_stop_hook_that_rings_the_bell() {
        let providers = Providers::from_config(&BTreeMap::new());
        let kind = LaunchKind::Fresh { session_id: None };
        let spec = providers
            .get("claude")
            .unwrap()
            .launch_spec(&request(&kind));
        assert_eq!(spec.args[0], "--settings");
        let settings: serde_json::Value =
            serde_json::from_str(spec.args[1].to_str().unwrap()).expect("the settings are JSON");
        let hook = settings["hooks"]["Stop"][0]["hooks"][0]["command"]
            .as_str()
            .unwrap();
        assert_eq!(
            hook,
            r#"sh -c "printf '\a' > /dev/tty 2>/dev/null || true""#
        );
    }

    #[test]
    fn a_configured_command_replaces_the_program_but_keeps_the_resume_protocol() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "codex".to_owned(),
            ProviderConfig {
                command: Some("/opt/fake-codex".into()),
                ..ProviderConfig::default()
            },
        );
        let providers = Providers::from_config(&overrides);
        let codex = providers.get("codex").expect("configured");
        let kind = LaunchKind::Resume {
            session_id: "abc".into(),
        };
        let spec = codex.launch_spec(&request(&kind));
        assert_eq!(spec.program, OsString::from("/opt/fake-codex"));
        assert_eq!(
            spec.args,
            vec![
                OsString::from("resume"),
                OsString::from("--"),
                OsString::from("abc")
            ]
        );
    }

    #[test]
    fn session_ids_are_validated_per_provider() {
        assert!(SessionIdRule::Uuid
            .check("0b6c5e5e-3f7c-4c39-9d8e-3f3b8e1f2a11")
            .is_ok());
        assert!(SessionIdRule::Uuid.check("not-a-uuid").is_err());
        assert!(SessionIdRule::Uuid
            .check("0b6c5e5e3f7c4c399d8e3f3b8e1f2a11")
            .is_err());
        assert!(SessionIdRule::Token.check("ses_abc-1.2").is_ok());
        assert!(SessionIdRule::Token.check("a b").is_err());
        assert!(SessionIdRule::Token.check("; rm -rf /").is_err());
        assert!(SessionIdRule::Token.check("--print-logs").is_err());
        assert!(SessionIdRule::Token.check("-x").is_err());
        assert!(SessionIdRule::Token.check("x-").is_ok());
    }
}
