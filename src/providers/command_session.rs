//! A session running a command a client named (`ptyhub new -- htop`)
//! instead of a configured provider's program.
//!
//! It is a plain terminal (mode `shell`): no session id, nothing to resume
//! or dedupe. The command's words become the argv as given, never shell
//! text, exactly as a provider's configured command does.

use super::{ProgramOrigin, Provider, SessionFinder};

/// Longest title made from a command line; the rest is cut with an ellipsis.
const MAX_TITLE_CHARS: usize = 60;

impl Provider {
    /// This provider (its environment, its mode) running `argv` instead of its program.
    /// `argv` must not be empty.
    pub fn running_command(&self, argv: &[String]) -> Provider {
        let mut provider = self.clone();
        provider.program = argv.first().cloned().unwrap_or_default();
        provider.program_origin = ProgramOrigin::Client;
        provider.leading_args = argv.iter().skip(1).cloned().collect();
        provider.fresh_args = Vec::new();
        provider.resume_args = None;
        provider.server_assigns_session_id = false;
        provider.session_finder = SessionFinder::None;
        provider.title = command_title(argv);
        provider
    }
}

/// `htop`, `python3 -m http.server`: the command line, shortened.
fn command_title(argv: &[String]) -> String {
    let line = argv.join(" ");
    if line.chars().count() <= MAX_TITLE_CHARS {
        return line;
    }
    let mut short: String = line.chars().take(MAX_TITLE_CHARS - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{LaunchKind, LaunchRequest, Providers};
    use std::ffi::OsString;

    #[test]
    fn the_command_words_are_the_argv_unchanged() {
        let providers = Providers::from_config(&Default::default());
        let argv: Vec<String> = ["printf", "%s\\n", "a b; rm -rf /"]
            .map(str::to_owned)
            .to_vec();
        let provider = providers
            .get("shell")
            .expect("built in")
            .running_command(&argv);
        let kind = LaunchKind::Fresh { session_id: None };
        let spec = provider.launch_spec(&LaunchRequest {
            kind: &kind,
            cwd: None,
            terminal_id: "t",
            tab_id: None,
            pane_id: None,
            cols: 80,
            rows: 24,
            extra_args: &[],
            extra_env: &[],
        });
        assert_eq!(spec.program, OsString::from("printf"));
        assert_eq!(
            spec.args,
            vec![OsString::from("%s\\n"), OsString::from("a b; rm -rf /")]
        );
        assert_eq!(provider.title, "printf %s\\n a b; rm -rf /");
        assert!(!provider.can_resume());
    }

    #[test]
    fn long_command_lines_make_short_titles() {
        let argv = vec!["x".repeat(100)];
        assert_eq!(command_title(&argv).chars().count(), MAX_TITLE_CHARS);
    }
}
