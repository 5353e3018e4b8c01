//! Naming and forgetting sessions from the clients' session lists.
//!
//! Exited terminals pile up (a list of "Shell", "Shell", "Shell"), so a
//! user may forget one; a session remembered from a previous run may be
//! forgotten too, after which it is no longer offered for resume. A running
//! terminal is never forgotten: it is killed first, on purpose.

use super::Registry;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForgetError {
    #[error("terminal {0} is running: kill it first")]
    Running(String),
    #[error("no terminal {0}")]
    Unknown(String),
}

impl Registry {
    /// Forgets an exited terminal, or a remembered session of a previous run.
    pub fn forget(&self, terminal_id: &str) -> Result<(), ForgetError> {
        if let Some(session) = self.get(terminal_id) {
            if session.is_running() {
                return Err(ForgetError::Running(terminal_id.to_owned()));
            }
            self.terminals.remove(terminal_id);
            self.labels.remove(terminal_id);
            self.resumed_from.remove(terminal_id);
            self.exited_order.lock().retain(|id| id != terminal_id);
        } else if !self.forget_dormant(terminal_id) {
            return Err(ForgetError::Unknown(terminal_id.to_owned()));
        }
        self.state_changed();
        self.announce_change(Vec::new());
        Ok(())
    }

    /// Gives any known terminal — running, exited or remembered — a title
    /// (`None`: back to its provider's). Returns false for an unknown id.
    pub fn rename(&self, terminal_id: &str, title: Option<String>) -> bool {
        if self.get(terminal_id).is_some() {
            self.update_labels(terminal_id, |labels| labels.title = title);
            return true;
        }
        let renamed = self.retitle_dormant(terminal_id, |provider| {
            title.clone().unwrap_or_else(|| {
                self.providers
                    .get(provider)
                    .map_or_else(|| provider.to_owned(), |p| p.title.clone())
            })
        });
        if renamed {
            self.state_changed();
            self.announce_change(Vec::new());
        }
        renamed
    }
}
