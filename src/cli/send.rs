//! `ptyhub send`: type text into a session, like `tmux send-keys -l`.
//!
//! The text goes in exactly as given: no newline is added and `\n` is not
//! interpreted. `--enter` presses Enter afterwards (a carriage return, which
//! is what the Enter key sends).

use clap::Args;

use super::client_runtime;
use super::endpoint::DaemonArgs;
use super::protocol_client::ProtocolClient;
use super::running_target;
use super::wire::ClientMessage;

/// Characters per `terminal.input`: even escaped six-fold, one message stays
/// under the daemon's 1 MiB limit.
const INPUT_CHUNK_CHARS: usize = 128 * 1024;

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The terminal: its id, its session's id, or a unique prefix.
    pub target: String,
    /// The text to type, exactly (no newline is added).
    pub text: String,
    /// Press Enter after the text.
    #[arg(long)]
    pub enter: bool,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: SendArgs) -> anyhow::Result<()> {
    let endpoint = args.daemon.locate()?;
    let terminal_id = running_target(&endpoint, &args.target)?;
    let mut text = args.text;
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
}
