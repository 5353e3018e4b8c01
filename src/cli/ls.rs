//! `ptyhub ls`: the daemon's terminals, like `tmux ls`.
//!
//! The table is for people; `--json` prints the records of
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

const HEADER: [&str; 8] = [
    "ID", "MODE", "SESSION", "STATUS", "VIEWERS", "PID", "AGE", "CWD",
];

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
    let rows: Vec<[String; 8]> = records
        .iter()
        .map(|record| row(record, now_ms, home.as_deref()))
        .collect();
    print!("{}", table(&HEADER.map(str::to_owned), &rows));
    Ok(())
}

fn row(record: &SessionRecord, now_ms: u64, home: Option<&str>) -> [String; 8] {
    let session = match &record.session_ref {
        Some(r) if r.provider == record.mode => r.session_id.clone(),
        Some(r) => format!("{}:{}", r.provider, r.session_id),
        None => "-".to_owned(),
    };
    let status = match (record.status.as_str(), record.exit_code) {
        ("exited", Some(code)) => format!("exited({code})"),
        (status, _) => status.to_owned(),
    };
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
    [
        record.terminal_id.clone(),
        record.mode.clone(),
        session,
        status,
        record.viewers.to_string(),
        record
            .pid
            .map_or_else(|| "-".to_owned(), |pid| pid.to_string()),
        age(now_ms.saturating_sub(record.created_at)),
        cwd,
    ]
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
            ["abc", "claude", "s-1", "exited(3)", "2", "-", "2m", "~/src"].map(str::to_owned)
        );
        let text = table(&HEADER.map(str::to_owned), &[cells]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ID   MODE    SESSION  STATUS     VIEWERS  PID  AGE  CWD"
        );
        assert_eq!(
            lines[1],
            "abc  claude  s-1      exited(3)  2        -    2m   ~/src"
        );
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        assert_eq!(age(59_999), "59s");
        assert_eq!(age(3_600_000), "1h");
        assert_eq!(age(3 * 86_400_000), "3d");
    }
}
