//! `ptyhub man`: the manual page, in roff, from the clap definition
//! (clap_mangen): `ptyhub man | man -l -`, or
//! `ptyhub man > ~/.local/share/man/man1/ptyhub.1`.
//!
//! One page for the whole CLI, with a section per subcommand, as `man tmux`
//! is one page.

use std::io::Write;

use anyhow::Context;
use clap::{Args, CommandFactory};

#[derive(Debug, Args)]
pub struct ManArgs {}

pub fn run(_args: ManArgs) -> anyhow::Result<()> {
    let command = super::Cli::command();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render(&mut page)
        .context("cannot render the manual page")?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        writeln!(page, ".SH \"PTYHUB {}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(format!("ptyhub {name}"));
        let man = clap_mangen::Man::new(sub);
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
    }
    std::io::stdout()
        .write_all(&page)
        .context("cannot write the manual page")?;
    Ok(())
}
