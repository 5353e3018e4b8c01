//! Which pane is which: freshell's agent API names panes by layout ids,
//! titles and indexes, and only the browser knows the layout. Every browser
//! pushes its whole layout (`ui.layout.sync`); ptyhub keeps the latest, as
//! freshell's own layout store does, and adds the panes it placed itself
//! (a tab it created, a split, a respawn) until a browser's layout shows
//! them — so an agent can drive a pane it just opened even before a browser
//! has drawn it.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A pane as the agent API sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaneView {
    pub id: String,
    /// `terminal`, `browser`, `editor`, `fresh-agent`, … (freshell's pane kinds).
    pub kind: String,
    pub terminal_id: Option<String>,
    pub title: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TabView {
    id: String,
    title: Option<String>,
    /// In layout order (depth first, first child first), as freshell indexes them.
    panes: Vec<PaneView>,
    active_pane: Option<String>,
}

/// A tab with the panes ptyhub placed in it.
#[derive(Clone, Debug)]
pub struct PlacedTab {
    pub id: String,
    pub title: Option<String>,
    pub panes: Vec<PaneView>,
}

/// A target resolved to a pane (or why not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub tab_id: Option<String>,
    pub pane_id: Option<String>,
    pub message: Option<String>,
}

/// freshell's words when several panes carry the asked-for title.
const AMBIGUOUS: &str = "pane target is ambiguous; use pane id or tab.pane index";
const NOT_RESOLVED: &str = "target not resolved";

/// A pane ptyhub put a terminal in, not yet confirmed by a browser's layout.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PlacedPane {
    tab_id: String,
    tab_title: Option<String>,
    terminal_id: String,
    mode: String,
}

/// What the mirror knows. It goes to the next image of the daemon at an
/// upgrade (`crate::handover`): freshell's page pushes its layout only when
/// it changes, so a reconnect after the upgrade would not tell it again.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LayoutState {
    tabs: Vec<TabView>,
    active_tab: Option<String>,
    placed: HashMap<String, PlacedPane>,
    /// Order in which ptyhub placed panes (for a stable merged view).
    placed_order: Vec<String>,
}

#[derive(Default)]
pub struct LayoutMirror {
    state: Mutex<LayoutState>,
}

impl LayoutMirror {
    /// What the mirror knows, for the next image of the daemon.
    pub fn hand_over(&self) -> LayoutState {
        self.state.lock().clone()
    }

    /// What an earlier image of the daemon knew (this one knows nothing yet).
    pub fn take_over(&self, handed: LayoutState) {
        *self.state.lock() = handed;
    }

    /// A browser's `ui.layout.sync` (its whole layout). Malformed ones are ignored.
    pub fn update_from_browser(&self, text: &str) {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let Some(tabs) = message.get("tabs").and_then(Value::as_array) else {
            return;
        };
        let layouts = message.get("layouts");
        let active_pane = message.get("activePane");
        let pane_titles = message.get("paneTitles");
        let mut views = Vec::new();
        for tab in tabs {
            let Some(id) = tab.get("id").and_then(Value::as_str) else {
                continue;
            };
            let mut panes = Vec::new();
            if let Some(root) = layouts.and_then(|l| l.get(id)) {
                collect_leaves(root, &mut panes);
            }
            for pane in &mut panes {
                pane.title = pane_titles
                    .and_then(|t| t.get(id))
                    .and_then(|t| t.get(&pane.id))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            views.push(TabView {
                id: id.to_owned(),
                title: tab.get("title").and_then(Value::as_str).map(str::to_owned),
                panes,
                active_pane: active_pane
                    .and_then(|a| a.get(id))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
        let mut state = self.state.lock();
        // A placed pane the browser now shows with that terminal is the
        // browser's from here on.
        let confirmed: Vec<String> = state
            .placed
            .iter()
            .filter(|(pane_id, placed)| {
                views.iter().flat_map(|t| &t.panes).any(|p| {
                    &p.id == *pane_id && p.terminal_id.as_deref() == Some(&placed.terminal_id)
                })
            })
            .map(|(pane_id, _)| pane_id.clone())
            .collect();
        for pane_id in confirmed {
            state.placed.remove(&pane_id);
            state.placed_order.retain(|p| *p != pane_id);
        }
        state.tabs = views;
        state.active_tab = message
            .get("activeTabId")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }

    /// ptyhub put `terminal_id` into pane `pane_id` of tab `tab_id`.
    pub fn place(
        &self,
        tab_id: &str,
        tab_title: Option<&str>,
        pane_id: &str,
        terminal_id: &str,
        mode: &str,
    ) {
        let mut state = self.state.lock();
        state.placed_order.retain(|p| p != pane_id);
        state.placed_order.push(pane_id.to_owned());
        state.placed.insert(
            pane_id.to_owned(),
            PlacedPane {
                tab_id: tab_id.to_owned(),
                tab_title: tab_title.map(str::to_owned),
                terminal_id: terminal_id.to_owned(),
                mode: mode.to_owned(),
            },
        );
    }

    /// The browser's layout with ptyhub's placements on top.
    fn merged(&self) -> (Vec<TabView>, Option<String>) {
        let state = self.state.lock();
        let mut tabs = state.tabs.clone();
        for pane_id in &state.placed_order {
            let placed = &state.placed[pane_id];
            let view = PaneView {
                id: pane_id.clone(),
                kind: "terminal".to_owned(),
                terminal_id: Some(placed.terminal_id.clone()),
                title: None,
            };
            let tab = match tabs.iter_mut().position(|t| t.id == placed.tab_id) {
                Some(index) => &mut tabs[index],
                None => {
                    tabs.push(TabView {
                        id: placed.tab_id.clone(),
                        title: placed.tab_title.clone(),
                        panes: Vec::new(),
                        active_pane: Some(pane_id.clone()),
                    });
                    tabs.last_mut().expect("just pushed")
                }
            };
            match tab.panes.iter_mut().find(|p| p.id == *pane_id) {
                Some(existing) => {
                    existing.kind = view.kind;
                    existing.terminal_id = view.terminal_id;
                }
                None => tab.panes.push(view),
            }
        }
        (tabs, state.active_tab.clone())
    }

    /// The pane (with its tab) a target names, as freshell resolves it: a
    /// pane id, a tab id or title (its active pane), `tab.index`
    /// (`session:tab.index`), an index in the active tab, a unique pane title.
    pub fn resolve(&self, target: &str) -> Resolved {
        let (tabs, active_tab) = self.merged();
        resolve_in(&tabs, active_tab.as_deref(), target.trim())
    }

    /// The pane with this id, if any layout knows it.
    pub fn pane(&self, pane_id: &str) -> Option<PaneView> {
        let (tabs, _) = self.merged();
        tabs.into_iter()
            .flat_map(|t| t.panes)
            .find(|p| p.id == pane_id)
    }

    /// The tabs ptyhub placed terminals in that no browser has shown yet,
    /// each with those panes, in the order they were placed.
    pub fn placed_tabs(&self) -> Vec<PlacedTab> {
        let state = self.state.lock();
        let mut tabs: Vec<PlacedTab> = Vec::new();
        for pane_id in &state.placed_order {
            let placed = &state.placed[pane_id];
            let pane = PaneView {
                id: pane_id.clone(),
                kind: "terminal".to_owned(),
                terminal_id: Some(placed.terminal_id.clone()),
                title: None,
            };
            match tabs.iter_mut().find(|t| t.id == placed.tab_id) {
                Some(tab) => tab.panes.push(pane),
                None => tabs.push(PlacedTab {
                    id: placed.tab_id.clone(),
                    title: placed.tab_title.clone(),
                    panes: vec![pane],
                }),
            }
        }
        tabs
    }

    /// The mode ptyhub launched in a pane it placed (for `attach`'s content).
    pub fn placed_mode(&self, pane_id: &str) -> Option<String> {
        self.state
            .lock()
            .placed
            .get(pane_id)
            .map(|p| p.mode.clone())
    }
}

fn collect_leaves(node: &Value, panes: &mut Vec<PaneView>) {
    match node.get("type").and_then(Value::as_str) {
        Some("leaf") => {
            let Some(id) = node.get("id").and_then(Value::as_str) else {
                return;
            };
            let content = node.get("content");
            panes.push(PaneView {
                id: id.to_owned(),
                kind: content
                    .and_then(|c| c.get("kind"))
                    .and_then(Value::as_str)
                    .unwrap_or("terminal")
                    .to_owned(),
                terminal_id: content
                    .and_then(|c| c.get("terminalId"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                title: None,
            });
        }
        Some("split") => {
            if let Some(children) = node.get("children").and_then(Value::as_array) {
                for child in children.iter().take(2) {
                    collect_leaves(child, panes);
                }
            }
        }
        _ => {}
    }
}

fn found(tab: &TabView, pane_id: Option<&str>, message: Option<&str>) -> Resolved {
    Resolved {
        tab_id: Some(tab.id.clone()),
        pane_id: pane_id.map(str::to_owned),
        message: message.map(str::to_owned),
    }
}

fn resolve_in(tabs: &[TabView], active_tab: Option<&str>, target: &str) -> Resolved {
    let not_resolved = Resolved {
        message: Some(NOT_RESOLVED.to_owned()),
        ..Resolved::default()
    };
    if target.is_empty() {
        return not_resolved;
    }
    if let Some(tab) = tabs.iter().find(|t| t.panes.iter().any(|p| p.id == target)) {
        return found(tab, Some(target), None);
    }
    if let Some(tab) = tabs
        .iter()
        .find(|t| t.id == target || t.title.as_deref() == Some(target))
    {
        return found(
            tab,
            tab.active_pane.as_deref(),
            Some("tab matched; active pane used"),
        );
    }
    if target.contains('.') {
        let without_session = match target.split_once(':') {
            Some((_, rest)) => rest,
            None => target,
        };
        let mut parts = without_session.split('.');
        let (tab_part, pane_part) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if let Ok(index) = pane_part.parse::<usize>() {
            if let Some(tab) = tabs
                .iter()
                .find(|t| t.id == tab_part || t.title.as_deref() == Some(tab_part))
            {
                let pane = tab.panes.get(index).map(|p| p.id.as_str());
                let message = pane.is_none().then_some("pane not found; active pane used");
                return found(tab, pane, message);
            }
        }
    }
    let active = active_tab
        .and_then(|id| tabs.iter().find(|t| t.id == id))
        .or_else(|| tabs.first());
    if let (Some(tab), Ok(index)) = (active, target.parse::<usize>()) {
        let pane = tab.panes.get(index).map(|p| p.id.as_str());
        return found(tab, pane, Some("active tab used"));
    }
    let mut by_title = None;
    for tab in tabs {
        for pane in &tab.panes {
            if pane.title.as_deref() != Some(target) {
                continue;
            }
            if by_title.is_some() {
                return Resolved {
                    message: Some(AMBIGUOUS.to_owned()),
                    ..Resolved::default()
                };
            }
            by_title = Some(found(tab, Some(&pane.id), None));
        }
    }
    by_title.unwrap_or(not_resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror() -> LayoutMirror {
        let mirror = LayoutMirror::default();
        mirror.update_from_browser(
            &serde_json::json!({
                "type": "ui.layout.sync",
                "tabs": [{"id": "t1", "title": "work"}, {"id": "t2", "title": "logs"}],
                "activeTabId": "t2",
                "layouts": {
                    "t1": {"type": "split", "id": "s1", "direction": "horizontal", "sizes": [50, 50],
                           "children": [
                               {"type": "leaf", "id": "p1", "content": {"kind": "terminal", "terminalId": "term-1"}},
                               {"type": "leaf", "id": "p2", "content": {"kind": "browser", "url": "x"}}
                           ]},
                    "t2": {"type": "leaf", "id": "p3", "content": {"kind": "terminal", "terminalId": "term-3"}}
                },
                "activePane": {"t1": "p2", "t2": "p3"},
                "paneTitles": {"t1": {"p1": "editor", "p2": "docs"}, "t2": {"p3": "docs"}},
                "timestamp": 1
            })
            .to_string(),
        );
        mirror
    }

    fn pane_of(resolved: Resolved) -> Option<String> {
        resolved.pane_id
    }

    #[test]
    fn targets_resolve_as_freshell_resolves_them() {
        let mirror = mirror();
        assert_eq!(pane_of(mirror.resolve("p2")).as_deref(), Some("p2"));
        assert_eq!(pane_of(mirror.resolve("work")).as_deref(), Some("p2"));
        assert_eq!(pane_of(mirror.resolve("t1.0")).as_deref(), Some("p1"));
        assert_eq!(pane_of(mirror.resolve("s:work.1")).as_deref(), Some("p2"));
        assert_eq!(pane_of(mirror.resolve("0")).as_deref(), Some("p3"));
        assert_eq!(pane_of(mirror.resolve("editor")).as_deref(), Some("p1"));
        assert_eq!(mirror.resolve("docs").message.as_deref(), Some(AMBIGUOUS));
        assert_eq!(
            mirror.resolve("nope").message.as_deref(),
            Some(NOT_RESOLVED)
        );
        let pane = mirror.pane("p2").expect("known");
        assert_eq!(pane.kind, "browser");
        assert_eq!(
            mirror.pane("p1").and_then(|p| p.terminal_id).as_deref(),
            Some("term-1")
        );
    }

    #[test]
    fn a_placed_pane_counts_until_a_browser_shows_it() {
        let mirror = mirror();
        mirror.place("t9", Some("new"), "p9", "term-9", "shell");
        mirror.place("t1", None, "p1", "term-respawned", "shell");
        assert_eq!(mirror.resolve("new").pane_id.as_deref(), Some("p9"));
        assert_eq!(
            mirror.pane("p1").and_then(|p| p.terminal_id).as_deref(),
            Some("term-respawned")
        );
        // A browser layout that does not show the respawn yet keeps it placed.
        let stale = r#"{"type":"ui.layout.sync","tabs":[{"id":"t1"}],"layouts":{"t1":{"type":"leaf","id":"p1","content":{"kind":"terminal","terminalId":"term-1"}}},"activePane":{},"timestamp":2}"#;
        mirror.update_from_browser(stale);
        assert_eq!(
            mirror.pane("p1").and_then(|p| p.terminal_id).as_deref(),
            Some("term-respawned")
        );
        let shown = stale.replace("term-1", "term-respawned");
        mirror.update_from_browser(&shown);
        assert!(mirror.placed_mode("p1").is_none());
        assert_eq!(mirror.placed_mode("p9").as_deref(), Some("shell"));
    }
}
