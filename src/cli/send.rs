//! `ptyhub send`: type keys into a session, as `tmux send-keys` does.
//!
//! Each argument is a key name (`Enter`, `C-c`, `Up`, `M-x`; `key_names.rs`)
//! or, if it names no key, text typed exactly as given (no newline added,
//! `\n` not interpreted). `-l` types every argument as text. `--enter`
//! presses Enter at the end. A session that can be resumed is resumed first.

use clap::Args;

use super::client_runtime;
use super::endpoint::DaemonArgs;
use super::key_names::key_bytes;
use super::live_target::live_terminal;
use super::protocol_client::ProtocolClient;
use super::wire::ClientMessage;

/// Characters per `terminal.input`: even escaped six-fold, one message stays
/// under the daemon's 1 MiB limit.
const INPUT_CHUNK_CHARS: usize = 128 * 1024;

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The session: a terminal id, a session id, a name, or a unique prefix.
    pub target: String,
    /// Keys and text, e.g. `'echo hi' Enter` or `C-c`; each argument that names
    /// no key is typed exactly as given.
    #[arg(required = true, value_name = "KEYS")]
    pub keys: Vec<String>,
    /// Type every argument as text, even `Enter` or `C-c` (tmux's -l).
    #[arg(short = 'l', long)]
    pub literal: bool,
    /// Press Enter after the keys.
    #[arg(long)]
    pub enter: bool,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: SendArgs) -> anyhow::Result<()> {
    let endpoint = args.daemon.locate()?;
    let terminal_id = live_terminal(&endpoint, &args.target)?;
    let mut text = typed_text(&args.keys, args.literal);
    if args.enter {
        text.push('\r');
    }
    let chunks = chunks(&text, INPUT_CHUNK_CHARS);
    let messages: Vec<ClientMessage<'_>> = chunks
        .iter()
        .map(|data| ClientMessage::Input {
            terminal_id: &terminal_id,
            data,
        })
        .collect();
    client_runtime()?.block_on(async {
        let mut client = ProtocolClient::connect(&endpoint).await?;
        let sent = client.send_and_sync(&terminal_id, &messages).await;
        client.close().await;
        Ok(sent?)
    })
}

/// What the arguments type, in order.
fn typed_text(keys: &[String], literal: bool) -> String {
    keys.iter()
        .map(|arg| match literal {
            true => arg.clone(),
            false => key_bytes(arg).unwrap_or_else(|| arg.clone()),
        })
        .collect()
}

/// `text` cut into pieces of at most `max_chars` characters.
fn chunks(text: &str, max_chars: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .char_indices()
            .nth(max_chars)
            .map_or(rest.len(), |(at, _)| at);
        let (piece, after) = rest.split_at(end);
        pieces.push(piece);
        rest = after;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_character_boundaries() {
        assert_eq!(chunks("aé€b", 2), vec!["aé", "€b"]);
        assert_eq!(chunks("abc", 5), vec!["abc"]);
        assert!(chunks("", 5).is_empty());
    }

    #[test]
    fn key_names_and_text_mix_unless_literal() {
        let args: Vec<String> = ["echo hi", "Enter", "C-c"].map(str::to_owned).to_vec();
        assert_eq!(typed_text(&args, false), "echo hi\r\x03");
        assert_eq!(typed_text(&args, true), "echo hiEnterC-c");
    }
}
