//! What a test that drives Debian's chromium through the web client's playwright-core needs,
//! and a clear reason when something is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn web_client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web-client")
}

/// Why a browser run cannot happen here, if it cannot.
pub fn missing_prerequisite() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} is not installed (apt-get install chromium)"
        ));
    }
    if !web_client_dir()
        .join("node_modules/playwright-core")
        .exists()
    {
        return Some("web-client/node_modules is missing (npm ci in web-client/)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("node is not on PATH".into()),
    }
}
