//! The defaults freshell's settings page sets for each coding CLI — model,
//! permission mode, sandbox, under `settings.codingCli.providers.<mode>` —
//! which freshell applies to every launch that names none: each
//! `terminal.create` from its UI, and its agent API's launches under the
//! request's own values. In front of freshell those launches are ptyhub's,
//! so ptyhub asks freshell for its settings at each agent launch, as
//! freshell reads its config store at each create (no cache to go stale
//! when the user changes a setting).

use std::time::Duration;

use serde_json::Value;

use crate::daemon::Daemon;
use crate::providers::LaunchSettings;

/// How long a launch waits for freshell's settings before it goes without
/// them (freshell restarting must not hold a terminal back).
pub const SETTINGS_WAIT: Duration = Duration::from_secs(2);

/// freshell's defaults for `mode`: none for a shell, without a freshell in
/// front, or when freshell does not answer in time.
pub async fn freshell_defaults(daemon: &Daemon, mode: &str) -> LaunchSettings {
    let Some(upstream) = daemon.upstream.as_ref().filter(|_| mode != "shell") else {
        return LaunchSettings::default();
    };
    match upstream
        .proxy
        .get_json("/api/settings", daemon.token(), SETTINGS_WAIT)
        .await
    {
        Ok(settings) => defaults_in(&settings, mode),
        Err(why) => {
            tracing::warn!(%why, mode, "launching without freshell's default settings");
            LaunchSettings::default()
        }
    }
}

/// The defaults for `mode` in freshell's settings document.
fn defaults_in(settings: &Value, mode: &str) -> LaunchSettings {
    let provider = &settings["codingCli"]["providers"][mode];
    let text = |name: &str| {
        provider
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    LaunchSettings::lenient(text("model"), text("permissionMode"), text("sandbox"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_defaults_are_the_modes_own() {
        let settings = json!({"codingCli": {"providers": {
            "claude": {"permissionMode": "plan"},
            "codex": {"model": "o3", "sandbox": "read-only"},
        }}});
        assert_eq!(
            defaults_in(&settings, "claude").permission_mode.as_deref(),
            Some("plan")
        );
        let codex = defaults_in(&settings, "codex");
        assert_eq!(codex.model.as_deref(), Some("o3"));
        assert_eq!(codex.permission_mode, None);
        assert_eq!(defaults_in(&json!({}), "codex"), LaunchSettings::default());
    }
}
