//! `ptyhub completions <shell>`: a completion script for the shell, from
//! the same clap definition the CLI parses with (clap_complete), so it can
//! never fall behind a new flag.
//!
//! ```text
//! source <(ptyhub completions bash)
//! ptyhub completions zsh > "${fpath[1]}/_ptyhub"
//! ptyhub completions fish > ~/.config/fish/completions/ptyhub.fish
//! ```

use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "ptyhub", &mut std::io::stdout());
    Ok(())
}
