//! The settings a launch may carry for the agent it starts — model,
//! permission mode, sandbox — as freshell's agent API takes them
//! (`POST /api/tabs`, `/api/run`, `/api/panes/:id/split` with `model`,
//! `permissionMode`, `sandbox`), and the flags each provider reads them
//! from, as freshell passes them: claude `--permission-mode` (not for
//! `default`); codex `--model` and `--sandbox`; opencode `--model`, on a
//! fresh start only (a resumed opencode keeps the model it had). Other
//! providers take none. Values are client strings: each is one argv
//! element, never a shell word, and one that starts with `-` is refused so
//! it cannot become a flag of its own.

/// Sandboxes codex knows (freshell's enum).
const SANDBOXES: &[&str] = &["read-only", "workspace-write", "danger-full-access"];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaunchSettings {
    pub model: Option<String>,
    pub permission_mode: Option<String>,
    pub sandbox: Option<String>,
}

impl LaunchSettings {
    /// Checked settings from a request's fields (blank ones are absent).
    pub fn new(
        model: Option<String>,
        permission_mode: Option<String>,
        sandbox: Option<String>,
    ) -> Result<LaunchSettings, String> {
        let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let settings = LaunchSettings {
            model: present(model),
            permission_mode: present(permission_mode),
            sandbox: present(sandbox),
        };
        for (name, value) in [
            ("model", &settings.model),
            ("permissionMode", &settings.permission_mode),
            ("sandbox", &settings.sandbox),
        ] {
            if let Some(value) = value.as_deref().filter(|v| v.starts_with('-')) {
                return Err(format!("{name} may not start with '-': {value:?}"));
            }
        }
        if let Some(sandbox) = settings
            .sandbox
            .as_deref()
            .filter(|s| !SANDBOXES.contains(s))
        {
            return Err(format!(
                "sandbox must be one of {}, not {sandbox:?}",
                SANDBOXES.join(", ")
            ));
        }
        Ok(settings)
    }

    /// These settings, with `defaults` where they name none (a request's
    /// own values win over freshell's settings page, as in freshell).
    pub fn or(self, defaults: LaunchSettings) -> LaunchSettings {
        LaunchSettings {
            model: self.model.or(defaults.model),
            permission_mode: self.permission_mode.or(defaults.permission_mode),
            sandbox: self.sandbox.or(defaults.sandbox),
        }
    }

    /// Settings a user chose once for every launch (freshell's settings
    /// page), field by field: a value that would be refused in a request
    /// is left out, with a warning, instead of failing every launch.
    pub fn lenient(
        model: Option<String>,
        permission_mode: Option<String>,
        sandbox: Option<String>,
    ) -> LaunchSettings {
        let checked = |settings: Result<LaunchSettings, String>| {
            settings
                .inspect_err(|why| tracing::warn!(%why, "a default launch setting is left out"))
                .unwrap_or_default()
        };
        LaunchSettings {
            model: checked(LaunchSettings::new(model, None, None)).model,
            permission_mode: checked(LaunchSettings::new(None, permission_mode, None))
                .permission_mode,
            sandbox: checked(LaunchSettings::new(None, None, sandbox)).sandbox,
        }
    }

    /// The flags provider `mode` reads these settings from.
    pub fn args(&self, mode: &str, resuming: bool) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                args.push(name.to_owned());
                args.push(value.clone());
            }
        };
        match mode {
            "claude" => flag(
                "--permission-mode",
                &self.permission_mode.clone().filter(|m| m != "default"),
            ),
            "codex" => {
                flag("--model", &self.model);
                flag("--sandbox", &self.sandbox);
            }
            "opencode" if !resuming => flag("--model", &self.model),
            _ => {}
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(model: &str, permission: &str, sandbox: &str) -> LaunchSettings {
        let some = |v: &str| Some(v.to_owned());
        LaunchSettings::new(some(model), some(permission), some(sandbox)).unwrap()
    }

    #[test]
    fn each_provider_gets_the_flags_freshell_gives_it() {
        let all = settings("o3", "plan", "read-only");
        assert_eq!(all.args("claude", false), ["--permission-mode", "plan"]);
        assert_eq!(
            all.args("codex", true),
            ["--model", "o3", "--sandbox", "read-only"]
        );
        assert_eq!(all.args("opencode", false), ["--model", "o3"]);
        assert!(all.args("opencode", true).is_empty());
        assert!(all.args("shell", false).is_empty());
        assert!(settings("", "default", "").args("claude", false).is_empty());
    }

    #[test]
    fn a_requests_own_values_win_over_defaults_and_bad_defaults_are_left_out() {
        let some = |v: &str| Some(v.to_owned());
        let defaults = LaunchSettings::lenient(some("o3"), some("-x"), some("read-only"));
        assert_eq!(defaults.permission_mode, None);
        let chosen = LaunchSettings::new(some("gpt-5"), some("plan"), None).unwrap();
        assert_eq!(chosen.or(defaults), settings("gpt-5", "plan", "read-only"));
    }

    #[test]
    fn a_value_that_would_be_a_flag_or_an_unknown_sandbox_is_refused() {
        let refused =
            LaunchSettings::new(None, Some("--dangerously-skip-permissions".into()), None);
        assert!(refused
            .unwrap_err()
            .contains("permissionMode may not start with '-'"));
        let refused = LaunchSettings::new(None, None, Some("everything".into()));
        assert!(refused.unwrap_err().contains("sandbox must be one of"));
    }
}
