//! Which terminal a resumed session continues.
//!
//! A resumed provider session runs in a new terminal with a new id, while
//! users hold the old one: a bookmarked `/#/t/<id>`, an id typed from
//! `ptyhub ls` before a restart, a name given with `ptyhub new -s`. The
//! registry remembers, for each terminal that resumed a session, the
//! terminal it continues, so every client can follow an old id to the
//! running terminal and nobody has to rename a session twice.

use super::Registry;
use crate::session::{Session, SessionRef};

/// The terminal a session last ran in, as the registry knew it before a resume.
pub(super) struct PreviousTerminal {
    pub terminal_id: String,
    /// The title a user gave it (a rename, `ptyhub new -s`), if any.
    pub user_title: Option<String>,
}

impl Registry {
    /// The terminal `terminal_id` continues, if it resumed a session.
    pub fn resumed_from(&self, terminal_id: &str) -> Option<String> {
        self.resumed_from.get(terminal_id).map(|old| old.clone())
    }

    /// Where `session_ref` last ran before now: a remembered session of a
    /// previous run, else the newest exited terminal of this run.
    pub(super) fn previous_terminal_of(
        &self,
        session_ref: &SessionRef,
    ) -> Option<PreviousTerminal> {
        if let Some(dormant) = self
            .dormant()
            .into_iter()
            .find(|d| d.session_ref() == *session_ref)
        {
            let default_title = self
                .providers
                .get(&dormant.provider)
                .map(|p| p.title.as_str());
            let user_title =
                (Some(dormant.title.as_str()) != default_title).then_some(dormant.title);
            return Some(PreviousTerminal {
                terminal_id: dormant.terminal_id,
                user_title,
            });
        }
        self.list()
            .into_iter()
            .rev()
            .find(|s| !s.is_running() && s.session_ref() == Some(session_ref))
            .map(|s| PreviousTerminal {
                terminal_id: s.terminal_id().to_owned(),
                user_title: self.labels(s.terminal_id()).title,
            })
    }

    /// Links a terminal that just resumed a session to the one it continues,
    /// and keeps the name a user gave the session.
    pub(super) fn continue_previous(&self, session: &Session, previous: PreviousTerminal) {
        let terminal_id = session.terminal_id().to_owned();
        if let Some(title) = previous.user_title {
            self.labels.entry(terminal_id.clone()).or_default().title = Some(title);
        }
        self.resumed_from.insert(terminal_id, previous.terminal_id);
    }
}
