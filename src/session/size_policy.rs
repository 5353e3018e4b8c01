//! Which viewer's window size the one PTY takes, in the spirit of tmux's
//! `window-size`. Viewers are owners (sockets): each may want a size; the
//! policy picks one, and the PTY changes only when the pick does — so a
//! viewer that only watches, attaches, reloads or resizes its window never
//! takes the size from the person typing.

use std::collections::HashMap;

use serde::Deserialize;

/// `[sessions] size_policy`, and per session over the API.
#[derive(Clone, Copy, Debug, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SizePolicy {
    /// The size of the viewer that most recently sent input, or of the only
    /// viewer; a viewer's size is remembered and applied when it types.
    #[default]
    Latest,
    /// The largest width and height any attached viewer wants.
    Largest,
    /// The smallest width and height any attached viewer wants.
    Smallest,
    /// Viewers never resize the PTY.
    Manual,
}

/// Columns and rows.
pub type Size = (u16, u16);

/// The sizes attached viewers want, and who typed last.
#[derive(Debug, Default)]
pub struct SizeArbiter {
    policy: SizePolicy,
    wanted: HashMap<u64, Size>,
    typist: Option<u64>,
}

impl SizeArbiter {
    pub fn new(policy: SizePolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// `owner`'s window is `size`; `attached` are the owners viewing (with
    /// `owner`). Returns the size the PTY takes now, if the policy picks one.
    pub fn wants(&mut self, owner: u64, size: Size, attached: &[u64]) -> Option<Size> {
        self.wanted.insert(owner, size);
        self.pick(attached)
    }

    pub fn policy(&self) -> SizePolicy {
        self.policy
    }

    /// Changes the policy; returns the size it picks now among `attached`.
    pub fn set_policy(&mut self, policy: SizePolicy, attached: &[u64]) -> Option<Size> {
        self.policy = policy;
        self.pick(attached)
    }

    /// `owner` sent input.
    pub fn typed(&mut self, owner: u64, attached: &[u64]) -> Option<Size> {
        self.typist = Some(owner);
        self.pick(attached)
    }

    /// `owner` asks for the size without typing (a viewer's "use my size"):
    /// under `latest` it becomes the viewer whose size counts, as if it had
    /// typed; under `manual` its size is applied once; `largest` and
    /// `smallest` keep to their rule.
    pub fn take(&mut self, owner: u64, attached: &[u64]) -> Option<Size> {
        match self.policy {
            SizePolicy::Latest => self.typed(owner, attached),
            SizePolicy::Manual => self.wanted.get(&owner).copied(),
            SizePolicy::Largest | SizePolicy::Smallest => self.pick(attached),
        }
    }

    /// `owner` has no viewer left; `attached` are those that remain.
    pub fn left(&mut self, owner: u64, attached: &[u64]) -> Option<Size> {
        self.wanted.remove(&owner);
        if self.typist == Some(owner) {
            self.typist = None;
        }
        self.pick(attached)
    }

    /// The size the policy picks among the attached owners' wishes (`None`:
    /// keep the present size).
    fn pick(&self, attached: &[u64]) -> Option<Size> {
        let wanted = || attached.iter().filter_map(|owner| self.wanted.get(owner));
        match self.policy {
            SizePolicy::Manual => None,
            SizePolicy::Latest => match attached {
                [only] => self.wanted.get(only).copied(),
                _ => self
                    .typist
                    .filter(|typist| attached.contains(typist))
                    .and_then(|typist| self.wanted.get(&typist).copied()),
            },
            SizePolicy::Largest => wanted()
                .copied()
                .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1))),
            SizePolicy::Smallest => wanted()
                .copied()
                .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPIST: u64 = 1;
    const WATCHER: u64 = 2;

    #[test]
    fn latest_follows_the_typist_and_remembers_the_watchers_size() {
        let mut sizes = SizeArbiter::new(SizePolicy::Latest);
        // Alone, a viewer's window is the size.
        assert_eq!(sizes.wants(TYPIST, (100, 30), &[TYPIST]), Some((100, 30)));
        assert_eq!(sizes.typed(TYPIST, &[TYPIST]), Some((100, 30)));
        // A watcher arriving or resizing changes nothing.
        let both = [TYPIST, WATCHER];
        assert_eq!(sizes.wants(WATCHER, (60, 20), &both), Some((100, 30)));
        assert_eq!(sizes.wants(WATCHER, (61, 21), &both), Some((100, 30)));
        // Until it types.
        assert_eq!(sizes.typed(WATCHER, &both), Some((61, 21)));
        // The typist's window follows it while it does not type.
        assert_eq!(sizes.wants(TYPIST, (90, 30), &both), Some((61, 21)));
        assert_eq!(sizes.typed(TYPIST, &both), Some((90, 30)));
        // The one left is the only viewer.
        assert_eq!(sizes.left(TYPIST, &[WATCHER]), Some((61, 21)));
    }

    #[test]
    fn with_several_viewers_and_no_typist_the_size_stays() {
        let mut sizes = SizeArbiter::new(SizePolicy::Latest);
        assert_eq!(sizes.wants(TYPIST, (100, 30), &[TYPIST, WATCHER]), None);
        assert_eq!(sizes.wants(WATCHER, (60, 20), &[TYPIST, WATCHER]), None);
        // Someone typing who never sent a size picks nothing either.
        assert_eq!(sizes.typed(3, &[TYPIST, WATCHER, 3]), None);
    }

    #[test]
    fn largest_smallest_and_manual() {
        let both = [TYPIST, WATCHER];
        let mut largest = SizeArbiter::new(SizePolicy::Largest);
        largest.wants(TYPIST, (100, 20), &both);
        assert_eq!(largest.wants(WATCHER, (60, 40), &both), Some((100, 40)));
        assert_eq!(largest.left(TYPIST, &[WATCHER]), Some((60, 40)));
        let mut smallest = SizeArbiter::new(SizePolicy::Smallest);
        smallest.wants(TYPIST, (100, 20), &both);
        assert_eq!(smallest.wants(WATCHER, (60, 40), &both), Some((60, 20)));
        // A policy changed on a live session picks at once.
        assert_eq!(
            smallest.set_policy(SizePolicy::Largest, &both),
            Some((100, 40))
        );
        let mut manual = SizeArbiter::new(SizePolicy::Manual);
        assert_eq!(manual.wants(TYPIST, (100, 20), &[TYPIST]), None);
        assert_eq!(manual.typed(TYPIST, &[TYPIST]), None);
    }

    #[test]
    fn taking_the_size_is_typing_under_latest_and_a_one_off_under_manual() {
        let both = [TYPIST, WATCHER];
        let mut latest = SizeArbiter::new(SizePolicy::Latest);
        latest.wants(TYPIST, (100, 30), &both);
        latest.typed(TYPIST, &both);
        latest.wants(WATCHER, (60, 20), &both);
        assert_eq!(latest.take(WATCHER, &both), Some((60, 20)));
        // It is now the one whose window counts.
        assert_eq!(latest.wants(WATCHER, (70, 20), &both), Some((70, 20)));
        let mut manual = SizeArbiter::new(SizePolicy::Manual);
        manual.wants(WATCHER, (60, 20), &both);
        assert_eq!(manual.take(WATCHER, &both), Some((60, 20)));
        assert_eq!(manual.wants(WATCHER, (70, 20), &both), None);
        let mut largest = SizeArbiter::new(SizePolicy::Largest);
        largest.wants(TYPIST, (100, 30), &both);
        largest.wants(WATCHER, (60, 20), &both);
        assert_eq!(largest.take(WATCHER, &both), Some((100, 30)));
    }
}
