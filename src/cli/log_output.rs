//! Where the log goes and how it looks: stderr, as text for a person or JSON for a collector.
//!
//! The daemon's stderr is as often a file or a journal as a terminal, so colour is used only
//! when stderr is a terminal and `NO_COLOR` (no-color.org) is unset or empty: escape codes in a
//! file make every `grep` and every reader's life harder. `RUST_LOG` filters both formats.

use std::ffi::OsStr;
use std::io::IsTerminal;

use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// `ptyhub serve --log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per entry: time, level, target, message, `key=value` fields.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields.message`, `target`, spans).
    Json,
}

/// The most a target may log, whatever `RUST_LOG` asks: tungstenite traces every frame and
/// message it reads or writes, and a `hello` carries the token.
fn log_ceilings() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("tungstenite", LevelFilter::DEBUG)
        .with_target("tokio_tungstenite", LevelFilter::DEBUG)
}

/// Whether text logs carry colour: only for a person at a terminal who has not opted out.
pub fn colour_wanted(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Installs the process's one subscriber, writing to stderr.
pub fn init(format: LogFormat) {
    let asked = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let filter = asked.and(log_ceilings());
    let layer = match format {
        LogFormat::Text => {
            let colour = colour_wanted(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(colour)
                .with_filter(filter)
                .boxed()
        }
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    tracing_subscriber::registry().with(layer).init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_at_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }
}
