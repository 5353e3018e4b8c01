//! `ptyhub man`: the manual page, in roff, from the clap definition
//! (clap_mangen): `ptyhub man | man -l -`, or
//! `ptyhub man > ~/.local/share/man/man1/ptyhub.1`.
//!
//! One page for the whole CLI with a section per subcommand, as `man tmux`
//! is one page: clap_mangen renders a page per command, so each
//! subcommand's synopsis, description and options are rendered alone and
//! their headings demoted to subsections.

use std::io::Write;

use anyhow::Context;
use clap::{Args, CommandFactory};

#[derive(Debug, Args)]
pub struct ManArgs {}

pub fn run(_args: ManArgs) -> anyhow::Result<()> {
    let page = render().context("cannot render the manual page")?;
    std::io::stdout()
        .write_all(&page)
        .context("cannot write the manual page")
}

fn render() -> std::io::Result<Vec<u8>> {
    let command = super::Cli::command();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("ptyhub {}", sub.get_name());
        writeln!(page, ".SH \"{}\"", name.to_uppercase())?;
        let man = clap_mangen::Man::new(sub.clone().bin_name(name));
        let mut section = Vec::new();
        man.render_synopsis_section(&mut section)?;
        man.render_description_section(&mut section)?;
        man.render_options_section(&mut section)?;
        page.extend(demoted(&section));
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// A rendered page part with its `.SH` headings made `.SS` and the string
/// definitions every part repeats left out (the page's title defines them).
fn demoted(section: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(section);
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with(".ie \\n(.g") || line.starts_with(".el .ds Aq") {
            continue;
        }
        match line.strip_prefix(".SH ") {
            Some(heading) => out.push_str(&format!(".SS {heading}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_its_section_and_options() {
        let page = String::from_utf8(render().expect("renders")).expect("text");
        for name in [
            "SERVE",
            "NEW",
            "LS",
            "ATTACH",
            "SNAPSHOT",
            "SEND",
            "KILL",
            "COMPLETIONS",
        ] {
            assert!(page.contains(&format!(".SH \"PTYHUB {name}\"")), "{name}");
        }
        assert!(page.contains("\\-\\-detach\\-key"));
        assert_eq!(page.matches(".SH SYNOPSIS").count(), 1);
    }
}
