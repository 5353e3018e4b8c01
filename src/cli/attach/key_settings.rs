//! Where the detach key comes from: `--detach-key`, else
//! `$PTYHUB_DETACH_KEY`, else `detach_key` under `[attach]` in the config
//! file, else `C-\ d`.
//!
//! The config file is `$PTYHUB_CONFIG`, else
//! `$XDG_CONFIG_HOME/ptyhub/config.toml` (`~/.config/ptyhub/config.toml`);
//! it has the format of `ptyhub serve --config`, so one file can serve both.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::DetachKey;
use crate::config::Config;

/// Attach options shared with `ptyhub new --attach`.
#[derive(Debug, Clone, Args)]
pub struct AttachKeys {
    /// The detach key: a prefix, then optionally the key after it ("C-a" means C-a d)
    /// [default: `detach_key` under [attach] in $PTYHUB_CONFIG or
    /// ~/.config/ptyhub/config.toml, else "C-\ d"].
    #[arg(long, value_name = "KEYS", env = "PTYHUB_DETACH_KEY")]
    pub detach_key: Option<DetachKey>,
}

impl AttachKeys {
    /// The detach key to use, from the flag, the environment, the config file or the default.
    pub fn resolve(&self) -> anyhow::Result<DetachKey> {
        if let Some(key) = &self.detach_key {
            return Ok(key.clone());
        }
        let Some(path) = config_file().filter(|path| path.exists()) else {
            return Ok(DetachKey::default());
        };
        let config = Config::load(&path)?;
        match config.attach.detach_key {
            Some(text) => text.parse().with_context(|| {
                format!("invalid `detach_key` under [attach] in {}", path.display())
            }),
            None => Ok(DetachKey::default()),
        }
    }
}

/// The CLI's config file, whether or not it exists.
fn config_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PTYHUB_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config_home.join("ptyhub").join("config.toml"))
}
