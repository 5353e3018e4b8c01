//! `ptyhub ls`: the daemon's terminals, like `tmux ls`.
//!
//! The table is for people: a name, what runs, whether it can be resumed,
//! and what it costs (processes and resident memory of its tree, as of the
//! daemon's last accounting). `--json` prints the records of
//! `GET /ptyhub/api/sessions` exactly as the daemon sent them, for scripts.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::server::api::SessionRecord;

use super::api_client::ApiClient;
use super::endpoint::DaemonArgs;

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Print the session records as JSON (the shape of `GET /ptyhub/api/sessions`).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

const HEADER: [&str; 11] = [
    "ID", "NAME", "MODE", "SESSION", "STATUS", "VIEWERS", "PID", "PROCS", "RSS", "AGE", "CWD",
];

/// Names longer than this are cut in the table (`--json` has them whole).
const MAX_NAME_CHARS: usize = 24;

pub fn run(args: LsArgs) -> anyhow::Result<()> {
    let api = ApiClient::new(&args.daemon.locate()?);
    if args.json {
        println!("{}", api.sessions_json()?.trim_end());
        return Ok(());
    }
    let records = api.sessions()?;
    if records.is_empty() {
        eprintln!("no terminals: `ptyhub new` starts one");
        return Ok(());
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let home = std::env::var("HOME").ok();
    let rows: Vec<[String; 11]> = records
        .iter()
        .map(|record| row(record, now_ms, home.as_deref()))
        .collect();
    print!("{}", table(&HEADER.map(str::to_owned), &rows));
    Ok(())
}

fn row(record: &SessionRecord, now_ms: u64, home: Option<&str>) -> [String; 11] {
    let session = match &record.session_ref {
        Some(r) if r.provider == record.mode => r.session_id.clone(),
        Some(r) => format!("{}:{}", r.provider, r.session_id),
        None => "-".to_owned(),
    };
    let status = match (record.status.as_str(), record.exit_code) {
        // `ptyhub attach` or `send` resumes it.
        ("exited", _) if record.resumable => "resumable".to_owned(),
        ("exited", Some(code)) => format!("exited({code})"),
        (status, _) => status.to_owned(),
    };
    let dash = || "-".to_owned();
    let cwd = match (record.cwd.as_deref(), home) {
        (Some(cwd), Some(home)) if !home.is_empty() && cwd.starts_with(home) => {
            match &cwd[home.len()..] {
                "" => "~".to_owned(),
                rest if rest.starts_with('/') => format!("~{rest}"),
                _ => cwd.to_owned(),
            }
        }
        (Some(cwd), _) => cwd.to_owned(),
        (None, _) => "-".to_owned(),
    };
    let running = record.is_running();
    [
        record.terminal_id.clone(),
        shortened(&record.title, MAX_NAME_CHARS),
        record.mode.clone(),
        session,
        status,
        record.viewers.to_string(),
        // An exited child's pid may be another process's by now.
        record
            .pid
            .filter(|_| running)
            .map_or_else(dash, |pid| pid.to_string()),
        record
            .processes
            .filter(|_| running)
            .map_or_else(dash, |n| n.to_string()),
        record
            .rss_bytes
            .filter(|_| running)
            .map_or_else(dash, memory),
        age(now_ms.saturating_sub(record.created_at)),
        cwd,
    ]
}

/// `text`, cut to `max_chars` characters with an ellipsis.
fn shortened(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars - 1).collect();
    short.push('…');
    short
}

/// `812K`, `23.4M`, `1.2G`: bytes in binary units, as `ps` and `top` show them.
fn memory(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let bytes = bytes as f64;
    if bytes < KIB * KIB {
        format!("{:.0}K", bytes / KIB)
    } else if bytes < KIB * KIB * KIB {
        format!("{:.1}M", bytes / (KIB * KIB))
    } else {
        format!("{:.1}G", bytes / (KIB * KIB * KIB))
    }
}

/// `42s`, `5m`, `3h`, `2d`: the largest whole unit.
fn age(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Left-aligned columns two spaces apart; the last column is not padded.
fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for cells in std::iter::once(header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for cells in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (column, cell) in cells.iter().enumerate() {
            if column + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = widths[column] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionRef;

    #[test]
    fn rows_are_aligned_and_readable() {
        let record = SessionRecord {
            terminal_id: "abc".to_owned(),
            mode: "claude".to_owned(),
            title: "Claude CLI".to_owned(),
            status: "exited".to_owned(),
            exit_code: Some(3),
            session_ref: Some(SessionRef {
                provider: "claude".to_owned(),
                session_id: "s-1".to_owned(),
            }),
            viewers: 2,
            pid: None,
            created_at: 1_000,
            last_activity_at: 1_000,
            cwd: Some("/home/u/src".to_owned()),
            ..SessionRecord::default()
        };
        let cells = row(&record, 1_000 + 125_000, Some("/home/u"));
        assert_eq!(
            cells,
            [
                "abc",
                "Claude CLI",
                "claude",
                "s-1",
                "exited(3)",
                "2",
                "-",
                "-",
                "-",
                "2m",
                "~/src"
            ]
            .map(str::to_owned)
        );
        let running = SessionRecord {
            terminal_id: "def".to_owned(),
            mode: "shell".to_owned(),
            title: "a name much longer than the column allows".to_owned(),
            status: "running".to_owned(),
            pid: Some(42),
            processes: Some(3),
            rss_bytes: Some(25 * 1024 * 1024 + 300 * 1024),
            created_at: 1_000,
            ..SessionRecord::default()
        };
        let text = table(
            &HEADER.map(str::to_owned),
            &[cells, row(&running, 1_000 + 5_000, None)],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ID   NAME                      MODE    SESSION  STATUS     VIEWERS  PID  PROCS  RSS    AGE  CWD"
        );
        assert_eq!(
            lines[1],
            "abc  Claude CLI                claude  s-1      exited(3)  2        -    -      -      2m   ~/src"
        );
        assert_eq!(
            lines[2],
            "def  a name much longer than…  shell   -        running    0        42   3      25.3M  5s   -"
        );
    }

    #[test]
    fn resumable_sessions_say_so_and_show_no_dead_pid() {
        let record = SessionRecord {
            terminal_id: "abc".to_owned(),
            mode: "claude".to_owned(),
            status: "exited".to_owned(),
            exit_code: Some(0),
            pid: Some(4242),
            resumable: true,
            ..SessionRecord::default()
        };
        let cells = row(&record, 0, None);
        assert_eq!(cells[4], "resumable");
        assert_eq!(cells[6], "-");
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        assert_eq!(age(59_999), "59s");
        assert_eq!(age(3_600_000), "1h");
        assert_eq!(age(3 * 86_400_000), "3d");
    }
}
