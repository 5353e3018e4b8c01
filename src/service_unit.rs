//! The systemd user unit that runs `ptyhub serve`: its text, where it lives,
//! and writing or removing it without being redirected.
//!
//! Why each line is there:
//! - `ExecReload` sends SIGUSR2, which the daemon takes as an in-place
//!   upgrade (`crate::handover`): `systemctl --user reload ptyhub` after an
//!   update keeps every agent. The pid stays, so `$MAINPID` stays right.
//! - `KillMode=mixed`: on stop systemd sends SIGTERM to the daemon alone, and
//!   the daemon hangs up each session's process group in order, waits for the
//!   children, escalates per session, and saves `sessions.json` so agents are
//!   resumable afterwards. Only what still runs once the daemon has exited is
//!   SIGKILLed by systemd, so nothing outlives the unit. The default,
//!   `control-group`, would SIGTERM every process of every agent tree at the
//!   same instant as the daemon — tools and language servers included — racing
//!   its ordered hang-up and its save; `process` would leave stragglers running
//!   outside any unit after a stop.
//! - `Restart=on-failure`: a crash (which kills the agents: their PTY masters
//!   close) brings the daemon back so remembered sessions can be resumed; a
//!   clean stop stays stopped.
//!
//! The unit carries [`MARKER`] so `uninstall` removes only a file ptyhub wrote.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::state_dir::{read_private, write_atomically_with_mode};

/// The unit's name, as `systemctl --user … ptyhub` finds it.
pub const UNIT_NAME: &str = "ptyhub.service";

/// The comment line that says ptyhub wrote the file.
pub const MARKER: &str =
    "# Written by `ptyhub service install`; `ptyhub service uninstall` removes it.";

/// Unit files are read by the user's own systemd; nothing in them is secret.
const UNIT_MODE: u32 = 0o644;

#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("cannot find the systemd user unit directory: neither $XDG_CONFIG_HOME nor $HOME is set to an absolute path")]
    NoConfigHome,
    #[error("{path} is a symlink; ptyhub never writes through one (remove it, or run with --force to replace the link itself)")]
    Symlink { path: PathBuf },
    #[error("{path} exists and differs from the unit ptyhub would write; run `ptyhub service install --force` to replace it, or `ptyhub service uninstall` first")]
    Differs { path: PathBuf },
    #[error(
        "{path} was not written by ptyhub (no marker line); remove it yourself if you mean to"
    )]
    NotOurs { path: PathBuf },
    #[error("{path} is still enabled ({wants} exists): run `systemctl --user disable --now ptyhub` first (it stops the daemon and ends its sessions), then `ptyhub service uninstall`")]
    StillEnabled { path: PathBuf, wants: PathBuf },
    #[error("cannot write a unit line holding a control character: {arg:?}")]
    ControlCharacter { arg: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `install` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    Written,
    /// The same unit was there already.
    Unchanged,
}

/// `$XDG_CONFIG_HOME/systemd/user/ptyhub.service`, else under `~/.config`,
/// where `systemctl --user` looks for a user's own units. A relative
/// `$XDG_CONFIG_HOME` is invalid by the XDG spec and ignored, as systemd does.
pub fn unit_path() -> Result<PathBuf, UnitError> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let config_home = absolute("XDG_CONFIG_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".config")))
        .ok_or(UnitError::NoConfigHome)?;
    Ok(config_home.join("systemd").join("user").join(UNIT_NAME))
}

/// The unit that runs `<exe> <serve_args…>`.
pub fn unit_text(exe: &Path, serve_args: &[String]) -> Result<String, UnitError> {
    let mut exec_start = exec_word(&exe.to_string_lossy())?;
    for arg in serve_args {
        exec_start.push(' ');
        exec_start.push_str(&exec_word(arg)?);
    }
    Ok(format!(
        "{MARKER}
# Reload is the in-place upgrade: `systemctl --user reload ptyhub` keeps every agent.
[Unit]
Description=ptyhub, one PTY per agent session

[Service]
ExecStart={exec_start}
ExecReload=/bin/kill -USR2 $MAINPID
# Stop: SIGTERM to the daemon alone, which hangs its sessions up in order and saves them;
# systemd SIGKILLs only what is left after the daemon has exited.
KillMode=mixed
Restart=on-failure

[Install]
WantedBy=default.target
"
    ))
}

/// One word of an `ExecStart=` line: quoted when it holds anything but plain
/// path characters, with `%` and `$` doubled so systemd expands neither
/// specifiers nor variables in a path or argument.
fn exec_word(arg: &str) -> Result<String, UnitError> {
    if arg.chars().any(char::is_control) {
        return Err(UnitError::ControlCharacter {
            arg: arg.to_owned(),
        });
    }
    let escaped = arg.replace('%', "%%").replace('$', "$$");
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_alphanumeric() || "/._+-:=@,%$".contains(c));
    if plain {
        return Ok(escaped);
    }
    Ok(format!(
        "\"{}\"",
        escaped.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// Writes `text` at `path` unless a different file (or any symlink) is there
/// and `force` is not given. The write is atomic (a new temp file renamed over
/// the path), and a symlink at the path is never followed: with `force` the
/// link itself is replaced.
pub fn install(path: &Path, text: &str, force: bool) -> Result<Installed, UnitError> {
    let io = |source| UnitError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_symlink() && !force => {
            return Err(UnitError::Symlink {
                path: path.to_owned(),
            })
        }
        Ok(meta) if meta.is_symlink() => {}
        Ok(_) => {
            if read_private(path).map_err(io)? == text {
                return Ok(Installed::Unchanged);
            }
            if !force {
                return Err(UnitError::Differs {
                    path: path.to_owned(),
                });
            }
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(io(err)),
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io)?;
    }
    write_atomically_with_mode(path, text.as_bytes(), UNIT_MODE).map_err(io)?;
    Ok(Installed::Written)
}

/// Removes the unit at `path` if ptyhub wrote it and it is not enabled; `Ok(false)`
/// when there is none.
pub fn uninstall(path: &Path) -> Result<bool, UnitError> {
    let io = |source| UnitError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::symlink_metadata(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(io(err)),
        Ok(meta) if meta.is_symlink() => {
            return Err(UnitError::NotOurs {
                path: path.to_owned(),
            })
        }
        Ok(_) => {}
    }
    let text = read_private(path).map_err(io)?;
    if !text.lines().any(|line| line == MARKER) {
        return Err(UnitError::NotOurs {
            path: path.to_owned(),
        });
    }
    // `systemctl disable` needs the unit file to find its links: removed first,
    // the unit would stay enabled with a dangling link.
    let wants = enabled_link(path);
    if fs::symlink_metadata(&wants).is_ok() {
        return Err(UnitError::StillEnabled {
            path: path.to_owned(),
            wants,
        });
    }
    fs::remove_file(path).map_err(io)?;
    Ok(true)
}

/// Whether the unit is installed at `path` (a file or a link there).
pub fn is_installed(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Whether `systemctl --user enable` has linked it into `default.target`.
pub fn is_enabled(path: &Path) -> bool {
    fs::symlink_metadata(enabled_link(path)).is_ok()
}

/// `…/systemd/user/default.target.wants/ptyhub.service`, the link `enable` makes.
fn enabled_link(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    dir.join("default.target.wants").join(UNIT_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_words_are_quoted_and_escaped_for_systemd() {
        assert_eq!(exec_word("/usr/bin/ptyhub").unwrap(), "/usr/bin/ptyhub");
        assert_eq!(
            exec_word("/home/a b/ptyhub").unwrap(),
            "\"/home/a b/ptyhub\""
        );
        assert_eq!(exec_word("/x/50%$HOME").unwrap(), "/x/50%%$$HOME");
        assert_eq!(exec_word("a\"b\\c").unwrap(), "\"a\\\"b\\\\c\"");
        assert!(exec_word("a\nExecStartPre=/bin/evil").is_err());
    }

    #[test]
    fn the_unit_runs_serve_with_the_given_arguments() {
        let text = unit_text(
            Path::new("/opt/ptyhub/bin/ptyhub"),
            &["serve".into(), "--state-dir".into(), "/srv/state".into()],
        )
        .unwrap();
        assert!(text.starts_with(MARKER));
        assert!(text.contains("\nExecStart=/opt/ptyhub/bin/ptyhub serve --state-dir /srv/state\n"));
        assert!(text.contains("\nKillMode=mixed\n"));
    }
}
