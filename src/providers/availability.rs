//! Whether a provider's program can be started here, and if not, what to
//! fix — checked before anything is spawned.
//!
//! portable-pty's own failure for a missing program dumps the whole PATH
//! and names neither `CLAUDE_CMD` nor the config section that would fix
//! it; the web client must also not offer "New agent (claude)" where no
//! claude is installed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Provider;

/// Where a provider's program was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramOrigin {
    /// ptyhub's default, which this environment variable overrides.
    BuiltIn { env: Option<&'static str> },
    /// `command` under `[providers.<mode>]` in the daemon's config (or, for
    /// a mode only the config names, the mode itself as the program).
    Config,
    /// A command a client gave (`ptyhub new -- <command…>`).
    Client,
}

impl Provider {
    /// Why this provider's program cannot be started here, or `None` if it can.
    pub fn unavailable(&self) -> Option<String> {
        let problem = program_problem(&self.program)?;
        let mode = &self.mode;
        Some(match self.program_origin {
            ProgramOrigin::BuiltIn { env: Some(env) } => format!(
                "the {mode} program {problem}; install it, or give its path in {env} or as `command` under [providers.{mode}] in the daemon's config"
            ),
            ProgramOrigin::BuiltIn { env: None } | ProgramOrigin::Config => format!(
                "the {mode} program {problem}; fix `command` under [providers.{mode}] in the daemon's config"
            ),
            ProgramOrigin::Client => problem,
        })
    }
}

/// What is wrong with `program` (a path, or a name looked up on `PATH`).
fn program_problem(program: &str) -> Option<String> {
    if program.is_empty() {
        return Some("the command is empty".to_owned());
    }
    if program.contains('/') {
        let path = Path::new(program);
        return match std::fs::metadata(path) {
            Err(_) => Some(format!("{program} does not exist")),
            Ok(meta) if !meta.is_file() => Some(format!("{program} is not a file")),
            Ok(meta) if meta.permissions().mode() & 0o111 == 0 => {
                Some(format!("{program} is not executable"))
            }
            Ok(_) => None,
        };
    }
    match find_on_path(program) {
        Some(_) => None,
        None => Some(format!("`{program}` is not on the daemon's PATH")),
    }
}

/// The first executable file named `name` in the directories of `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProviderConfig;
    use crate::providers::Providers;
    use std::collections::BTreeMap;

    fn with_command(mode: &str, command: &str) -> Provider {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            mode.to_owned(),
            ProviderConfig {
                command: Some(command.to_owned()),
                ..ProviderConfig::default()
            },
        );
        Providers::from_config(&overrides)
            .get(mode)
            .expect("configured")
            .clone()
    }

    #[test]
    fn a_missing_program_names_the_setting_that_fixes_it() {
        let mut claude = with_command("claude", "/no/such/claude");
        let why = claude.unavailable().expect("missing");
        assert_eq!(
            why,
            "the claude program /no/such/claude does not exist; fix `command` under [providers.claude] in the daemon's config"
        );
        claude.program = "no-such-claude-anywhere".to_owned();
        claude.program_origin = ProgramOrigin::BuiltIn {
            env: Some("CLAUDE_CMD"),
        };
        let why = claude.unavailable().expect("missing");
        assert!(
            why.contains("CLAUDE_CMD") && why.contains("[providers.claude]"),
            "{why}"
        );
        assert!(!why.contains("/usr"), "the PATH is not dumped: {why}");
    }

    #[test]
    fn present_programs_and_directories_are_told_apart() {
        assert_eq!(with_command("x", "/bin/sh").unavailable(), None);
        assert_eq!(with_command("x", "sh").unavailable(), None);
        assert!(with_command("x", "/")
            .unavailable()
            .is_some_and(|why| why.contains("not a file")));
    }
}
