//! `ui.command` to every browser, as freshell's server sends it when its
//! agent API changes the layout (`tab.create`, `pane.split`,
//! `pane.attach`): the browser applies the change and opens the terminal
//! it names.

use serde_json::{json, Value};
use tokio::sync::broadcast;

/// Commands a browser that stalls may miss: freshell's browsers re-sync
/// their layout on their own, and a missed `tab.create` costs a tab, not a
/// terminal.
const BACKLOG: usize = 256;

#[derive(Clone)]
pub struct UiCommands {
    sender: broadcast::Sender<String>,
}

impl Default for UiCommands {
    fn default() -> Self {
        UiCommands {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl UiCommands {
    pub fn send(&self, command: &str, payload: Value) {
        let message = json!({ "type": "ui.command", "command": command, "payload": payload });
        // No browser listening is fine: the layout is the browsers' to keep.
        let _ = self.sender.send(message.to_string());
    }

    /// For one authenticated browser socket.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.sender.subscribe()
    }
}
