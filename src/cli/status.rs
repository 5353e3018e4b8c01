//! `ptyhub status`: is the daemon up, which build, since when, and what it
//! holds. Exit 0 when it answers, 1 when none runs — as `systemctl status`
//! and tmux's `has-session` answer scripts — with a line saying why.

use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};

use super::api_client::{ApiClient, ApiError};
use super::endpoint::{DaemonArgs, LocateError};
use crate::server::daemon_api::DaemonStatus;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// Print one JSON object (`running`, and the daemon's status when it runs).
    #[arg(long)]
    pub json: bool,
}

/// Why no daemon serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Silence {
    /// No record, or the recorded process is gone.
    NotRunning,
    /// Nothing answers at the address (it may also be starting, or stuck).
    NotAnswering,
}

/// What asking for the daemon found.
pub enum Probe {
    Up {
        url: String,
        status: Box<DaemonStatus>,
    },
    /// No daemon serves there; the reason says what was looked at and what to do.
    Down { silence: Silence, reason: String },
}

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let probe = probe(&args.daemon)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&as_json(&probe))?);
    } else {
        print!("{}", describe(&probe));
    }
    Ok(match probe {
        Probe::Up { .. } => ExitCode::SUCCESS,
        Probe::Down { .. } => ExitCode::FAILURE,
    })
}

/// Asks the daemon the flags and the state dir point at. Not running is an
/// answer; a refused token or an unsafe state dir are errors (something is
/// there, but we may not ask it).
pub fn probe(daemon: &DaemonArgs) -> anyhow::Result<Probe> {
    let endpoint = match daemon.locate() {
        Ok(endpoint) => endpoint,
        Err(err @ (LocateError::NoRecord { .. } | LocateError::StaleRecord { .. })) => {
            return Ok(Probe::Down {
                silence: Silence::NotRunning,
                reason: err.to_string(),
            })
        }
        Err(err) => return Err(err.into()),
    };
    match ApiClient::new(&endpoint).daemon_status() {
        Ok(status) => Ok(Probe::Up {
            url: endpoint.http_base,
            status: Box::new(status),
        }),
        Err(ApiError::Unreachable(reason)) => Ok(Probe::Down {
            silence: Silence::NotAnswering,
            reason,
        }),
        Err(err) => Err(err.into()),
    }
}

/// The human report: one line saying up or not, then one fact per line.
pub fn describe(probe: &Probe) -> String {
    let (url, status) = match probe {
        Probe::Down {
            silence: Silence::NotRunning,
            reason,
        } => return format!("ptyhub is not running: {reason}\n"),
        Probe::Down {
            silence: Silence::NotAnswering,
            reason,
        } => return format!("ptyhub is not answering: {reason}\n"),
        Probe::Up { url, status } => (url, status),
    };
    let unknown = || "unknown".to_owned();
    let version = match &status.revision {
        Some(revision) => format!("{} ({revision})", status.version),
        None => status.version.clone(),
    };
    let uptime = status.uptime_seconds.map_or_else(unknown, duration_text);
    let upgrades = match status.handovers {
        0 => String::new(),
        1 => " (1 upgrade in place)".to_owned(),
        n => format!(" ({n} upgrades in place)"),
    };
    let viewers = status.viewers.map_or_else(unknown, |n| n.to_string());
    let daemon_memory = status.memory_bytes.map_or_else(unknown, bytes_text);
    let sessions_memory = status
        .sessions_memory_bytes
        .map_or_else(|| "not measured yet".to_owned(), bytes_text);
    format!(
        "ptyhub is running at {url}\n\
         \x20 version:  {version}\n\
         \x20 pid:      {pid}\n\
         \x20 uptime:   {uptime}{upgrades}\n\
         \x20 sessions: {sessions} running\n\
         \x20 viewers:  {viewers}\n\
         \x20 memory:   daemon {daemon_memory}, sessions {sessions_memory}\n",
        pid = status.pid,
        sessions = status.running_sessions,
    )
}

/// `{"running": false, "reason": …}`, or `running: true`, the URL and the
/// daemon's own status fields (as `GET /ptyhub/api/daemon` names them).
pub fn as_json(probe: &Probe) -> Value {
    match probe {
        Probe::Down { reason, .. } => json!({ "running": false, "reason": reason }),
        Probe::Up { url, status } => {
            let mut value = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
            if let Some(fields) = value.as_object_mut() {
                fields.insert("running".into(), json!(true));
                fields.insert("url".into(), json!(url));
            }
            value
        }
    }
}

/// `3d 4h`, `2h 5m`, `7m 3s`, `12s`: the two largest units.
fn duration_text(seconds: u64) -> String {
    let (days, hours, minutes, secs) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match () {
        () if days > 0 => format!("{days}d {hours}h"),
        () if hours > 0 => format!("{hours}h {minutes}m"),
        () if minutes > 0 => format!("{minutes}m {secs}s"),
        () => format!("{secs}s"),
    }
}

/// `812.4 MiB`: binary units, as `ps` and `free -h` count.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    if value < 1024.0 {
        return format!("{bytes} B");
    }
    let mut unit = "B";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_show_their_two_largest_units() {
        assert_eq!(duration_text(12), "12s");
        assert_eq!(duration_text(7 * 60 + 3), "7m 3s");
        assert_eq!(duration_text(2 * 3600 + 5 * 60 + 9), "2h 5m");
        assert_eq!(duration_text(3 * 86_400 + 4 * 3600), "3d 4h");
    }

    #[test]
    fn sizes_are_in_binary_units() {
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(14 * 1024 * 1024 + 200 * 1024), "14.2 MiB");
    }
}
