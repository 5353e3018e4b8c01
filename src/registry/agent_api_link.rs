//! In front of freshell, a terminal reaches freshell's agent API the way
//! freshell's own terminals do: through `FRESHELL_URL` and `FRESHELL_TOKEN`
//! in its environment (pointing at ptyhub, which answers that API), and —
//! for claude and codex — freshell's MCP tool in its launch (`--mcp-config
//! <file>` for claude, `-c mcp_servers.freshell.…` for codex), as freshell
//! builds them.
//!
//! claude's MCP config is a file per terminal, written into the state
//! dir's `mcp/` folder (mode 0600, never through a planted symlink) and
//! removed when the terminal exits.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::providers::McpStyle;

/// How to start freshell's MCP server.
#[derive(Clone, Debug)]
pub struct McpServer {
    pub command: String,
    pub args: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct AgentApiLink {
    /// ptyhub's own address (the front), where the agent API is answered.
    pub url: String,
    pub token: String,
    pub mcp_server: Option<McpServer>,
    /// Where claude's per-terminal MCP config files go.
    pub mcp_config_dir: PathBuf,
}

impl AgentApiLink {
    /// What every terminal's environment gets, as in freshell.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        vec![
            ("FRESHELL".into(), "1".into()),
            ("FRESHELL_URL".into(), self.url.clone().into()),
            ("FRESHELL_TOKEN".into(), self.token.clone().into()),
        ]
    }

    /// The arguments that give a terminal of this style freshell's MCP
    /// tool (writing claude's config file first).
    pub fn mcp_args(&self, style: McpStyle, terminal_id: &str) -> std::io::Result<Vec<String>> {
        let Some(server) = &self.mcp_server else {
            return Ok(Vec::new());
        };
        match style {
            McpStyle::None | McpStyle::OpencodeConfigContent => Ok(Vec::new()),
            McpStyle::ConfigFileFlag(flag) => {
                let path = self.config_file(terminal_id);
                write_private(&self.mcp_config_dir, &path, &config_json(server))?;
                Ok(vec![flag.to_owned(), path.display().to_string()])
            }
            McpStyle::CodexOverrides => Ok(vec![
                "-c".to_owned(),
                format!(
                    "mcp_servers.freshell.command={}",
                    toml::Value::String(server.command.clone())
                ),
                "-c".to_owned(),
                format!(
                    "mcp_servers.freshell.args={}",
                    toml::Value::Array(
                        server
                            .args
                            .iter()
                            .cloned()
                            .map(toml::Value::String)
                            .collect()
                    )
                ),
            ]),
        }
    }

    /// The environment that gives a terminal of this style freshell's MCP
    /// tool: opencode's inline config (merged into one the user set there
    /// already, whose own `freshell` entry, if any, wins, as in freshell).
    pub fn mcp_env(&self, style: McpStyle) -> Vec<(OsString, OsString)> {
        let (Some(server), McpStyle::OpencodeConfigContent) = (&self.mcp_server, style) else {
            return Vec::new();
        };
        let users = std::env::var(OPENCODE_CONFIG_CONTENT).ok();
        vec![(
            OPENCODE_CONFIG_CONTENT.into(),
            opencode_config_content(users.as_deref(), server).into(),
        )]
    }

    /// The terminal exited: its config file goes.
    pub fn forget(&self, terminal_id: &str) {
        let _ = std::fs::remove_file(self.config_file(terminal_id));
    }

    fn config_file(&self, terminal_id: &str) -> PathBuf {
        // terminal ids are ptyhub's own hex uuids: no path separators.
        self.mcp_config_dir.join(format!("{terminal_id}.json"))
    }
}

/// The variable opencode reads an inline config from.
const OPENCODE_CONFIG_CONTENT: &str = "OPENCODE_CONFIG_CONTENT";

/// `users` (an inline opencode config, if any) with freshell's MCP server
/// added as `mcp.freshell`, unless it has one.
fn opencode_config_content(users: Option<&str>, server: &McpServer) -> String {
    let mut config = match users.and_then(|text| serde_json::from_str(text).ok()) {
        Some(serde_json::Value::Object(config)) => config,
        _ => serde_json::Map::new(),
    };
    let mut command = vec![server.command.clone()];
    command.extend(server.args.iter().cloned());
    let mcp = config.entry("mcp").or_insert_with(|| serde_json::json!({}));
    if let Some(mcp) = mcp.as_object_mut() {
        mcp.entry("freshell").or_insert_with(
            || serde_json::json!({ "type": "local", "command": command, "enabled": true }),
        );
    }
    serde_json::Value::Object(config).to_string()
}

fn config_json(server: &McpServer) -> String {
    serde_json::json!({
        "mcpServers": { "freshell": { "command": server.command, "args": server.args } }
    })
    .to_string()
}

/// Creates `path` afresh (0600) in `dir` (0700): an existing file or a
/// planted symlink at that name is removed, not followed.
fn write_private(dir: &Path, path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(dir: &Path) -> AgentApiLink {
        AgentApiLink {
            url: "http://127.0.0.1:3001".into(),
            token: "t".repeat(20),
            mcp_server: Some(McpServer {
                command: "node".into(),
                args: vec!["/opt/fresh \"shell\"/server.js".into()],
            }),
            mcp_config_dir: dir.join("mcp"),
        }
    }

    #[test]
    fn opencode_gets_freshells_tool_inline_merged_into_the_users_own() {
        let server = McpServer {
            command: "node".into(),
            args: vec!["/opt/server.js".into()],
        };
        let config: serde_json::Value =
            serde_json::from_str(&opencode_config_content(None, &server)).unwrap();
        assert_eq!(
            config,
            serde_json::json!({"mcp": {"freshell": {
                "type": "local", "command": ["node", "/opt/server.js"], "enabled": true}}})
        );
        let users = r#"{"theme":"dark","mcp":{"other":{"type":"remote","url":"http://x"}}}"#;
        let merged: serde_json::Value =
            serde_json::from_str(&opencode_config_content(Some(users), &server)).unwrap();
        assert_eq!(merged["theme"], "dark");
        assert_eq!(merged["mcp"]["other"]["url"], "http://x");
        assert_eq!(merged["mcp"]["freshell"]["command"][1], "/opt/server.js");
        let own = r#"{"mcp":{"freshell":{"type":"local","command":["mine"]}}}"#;
        let kept: serde_json::Value =
            serde_json::from_str(&opencode_config_content(Some(own), &server)).unwrap();
        assert_eq!(
            kept["mcp"]["freshell"]["command"],
            serde_json::json!(["mine"])
        );
    }

    #[test]
    fn claude_gets_a_private_config_file_that_goes_with_the_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let link = link(dir.path());
        let args = link
            .mcp_args(McpStyle::ConfigFileFlag("--mcp-config"), "abc")
            .unwrap();
        assert_eq!(args[0], "--mcp-config");
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&args[1]).unwrap()).unwrap();
        assert_eq!(
            written["mcpServers"]["freshell"]["args"][0],
            "/opt/fresh \"shell\"/server.js"
        );
        let mode = std::fs::metadata(&args[1]).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        link.forget("abc");
        assert!(!Path::new(&args[1]).exists());
    }

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let link = link(dir.path());
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "untouched").unwrap();
        std::fs::create_dir_all(dir.path().join("mcp")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join("mcp/abc.json")).unwrap();
        link.mcp_args(McpStyle::ConfigFileFlag("--mcp-config"), "abc")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
    }

    #[test]
    fn codex_gets_toml_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let args = link(dir.path())
            .mcp_args(McpStyle::CodexOverrides, "abc")
            .unwrap();
        assert_eq!(args[0], "-c");
        assert_eq!(args[1], "mcp_servers.freshell.command=\"node\"");
        let parsed: toml::Table = args[3].parse().unwrap();
        assert_eq!(
            parsed["mcp_servers"]["freshell"]["args"][0].as_str(),
            Some("/opt/fresh \"shell\"/server.js")
        );
    }
}
