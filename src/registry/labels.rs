//! What users call their terminals: a title, a description, and whether the
//! terminal is hidden from directory listings. These change while a
//! terminal runs (renames from the UI), unlike its `SessionInfo`.

use super::Registry;
use crate::session::Session;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TerminalLabels {
    /// Replaces the provider's title (e.g. "Claude CLI") when set.
    pub title: Option<String>,
    pub description: Option<String>,
    /// Hidden from directory listings; the terminal keeps running.
    pub hidden: bool,
}

impl Registry {
    pub fn labels(&self, terminal_id: &str) -> TerminalLabels {
        self.labels
            .get(terminal_id)
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// The title to show for a terminal.
    pub fn title_of(&self, session: &Session) -> String {
        self.labels(session.terminal_id())
            .title
            .unwrap_or_else(|| session.info().title.clone())
    }

    /// Changes a terminal's labels and tells every client the list changed.
    pub fn update_labels(
        &self,
        terminal_id: &str,
        update: impl FnOnce(&mut TerminalLabels),
    ) -> TerminalLabels {
        let labels = {
            let mut entry = self.labels.entry(terminal_id.to_owned()).or_default();
            update(&mut entry);
            entry.clone()
        };
        self.announce_change(Vec::new());
        self.state_changed();
        labels
    }
}
