//! `ptyhub service install|uninstall|status`: the daemon as a systemd user
//! service, so it starts at login (or boot, with lingering) and a reload is
//! the in-place upgrade. The unit's text and the file handling are
//! `crate::service_unit`; this file is the commands and what they print.
//!
//! systemd is optional: `install` runs `systemctl --user daemon-reload` when
//! it can and only mentions it when it cannot (a container has no user
//! manager), and prints every next step instead of running it — enabling
//! starts a daemon, and disabling ends every agent.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;

use super::endpoint::DaemonArgs;
use super::status::{self, Probe};
use crate::service_unit::{self, Installed};

#[derive(Debug, Args)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub action: ServiceAction,
}

#[derive(Debug, Subcommand)]
pub enum ServiceAction {
    /// Write the systemd user unit (~/.config/systemd/user/ptyhub.service) that runs
    /// this binary's `serve`, and print the commands that enable it.
    Install(InstallArgs),
    /// Remove the unit `install` wrote (never one it did not write).
    Uninstall,
    /// Whether the unit is installed, and the daemon's status.
    Status(ServiceStatusArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The state dir the service's daemon uses (`serve --state-dir`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The config file the service's daemon reads (`serve --config`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Replace a different unit (or a symlink) already at the unit's path.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ServiceStatusArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// Print one JSON object: `unit` (path, installed, enabled) and `daemon` (as `status --json`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ServiceArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        ServiceAction::Install(args) => install(args).map(|()| ExitCode::SUCCESS),
        ServiceAction::Uninstall => uninstall().map(|()| ExitCode::SUCCESS),
        ServiceAction::Status(args) => service_status(args),
    }
}

fn install(args: InstallArgs) -> anyhow::Result<()> {
    let path = service_unit::unit_path()?;
    // The binary running now is the one the service runs; a reload later
    // executes whatever is at this path then (a rebuild, an update).
    let exe = std::env::current_exe().context("cannot tell where this ptyhub binary is")?;
    if exe.to_string_lossy().ends_with(" (deleted)") {
        anyhow::bail!(
            "this ptyhub binary ({}) was deleted or replaced since it started; run the installed one",
            exe.display()
        );
    }
    let mut serve_args = vec!["serve".to_owned()];
    // systemd starts the daemon in the home directory: relative paths would mean
    // something else there.
    for (flag, value) in [("--state-dir", &args.state_dir), ("--config", &args.config)] {
        if let Some(value) = value {
            let absolute = std::path::absolute(value)
                .with_context(|| format!("cannot make {} absolute", value.display()))?;
            serve_args.push(flag.to_owned());
            serve_args.push(absolute.to_string_lossy().into_owned());
        }
    }
    let text = service_unit::unit_text(&exe, &serve_args)?;
    match service_unit::install(&path, &text, args.force)? {
        Installed::Written => println!("wrote {}", path.display()),
        Installed::Unchanged => println!("{} is already this unit", path.display()),
    }
    if let Some(exec_start) = text.lines().find(|line| line.starts_with("ExecStart=")) {
        println!("  {exec_start}");
    }
    let reloaded = systemctl_user(&["daemon-reload"]);
    println!();
    println!("Next:");
    if !reloaded {
        println!("  systemctl --user daemon-reload");
    }
    println!("  systemctl --user enable --now ptyhub   # start it now and at every login");
    println!("  loginctl enable-linger $USER           # keep it, and every session, running after you log out");
    println!();
    println!("`systemctl --user reload ptyhub` upgrades in place and keeps every agent;");
    println!("stop and restart end them (they are resumable afterwards).");
    let daemon = DaemonArgs {
        state_dir: args.state_dir,
        url: None,
        token: None,
    };
    if let Ok(Probe::Up { status, .. }) = status::probe(&daemon) {
        println!();
        println!(
            "A daemon (pid {}) already serves this state dir: the service cannot start until it stops.",
            status.pid
        );
    }
    Ok(())
}

fn uninstall() -> anyhow::Result<()> {
    let path = service_unit::unit_path()?;
    if !service_unit::uninstall(&path)? {
        println!("no unit at {}: nothing to remove", path.display());
        return Ok(());
    }
    println!("removed {}", path.display());
    let reloaded = systemctl_user(&["daemon-reload"]);
    println!();
    println!("If the service still runs, it runs until stopped:");
    println!("  systemctl --user disable --now ptyhub   # ends every session's process");
    if !reloaded {
        println!("  systemctl --user daemon-reload");
    }
    Ok(())
}

fn service_status(args: ServiceStatusArgs) -> anyhow::Result<ExitCode> {
    let path = service_unit::unit_path()?;
    let installed = service_unit::is_installed(&path);
    let enabled = installed && service_unit::is_enabled(&path);
    let probe = status::probe(&args.daemon)?;
    if args.json {
        let report = json!({
            "unit": { "path": path, "installed": installed, "enabled": enabled },
            "daemon": status::as_json(&probe),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", unit_line(&path, installed, enabled));
        print!("{}", status::describe(&probe));
    }
    Ok(match probe {
        Probe::Up { .. } => ExitCode::SUCCESS,
        Probe::Down { .. } => ExitCode::FAILURE,
    })
}

fn unit_line(path: &Path, installed: bool, enabled: bool) -> String {
    match (installed, enabled) {
        (false, _) => format!(
            "unit: not installed (would be {}; `ptyhub service install` writes it)",
            path.display()
        ),
        (true, true) => format!("unit: installed at {}, enabled", path.display()),
        (true, false) => format!(
            "unit: installed at {}, not enabled (`systemctl --user enable --now ptyhub`)",
            path.display()
        ),
    }
}

/// Runs `systemctl --user <args>` when there is a systemctl; whether it
/// succeeded. Never an error: without systemd (a container) the user runs the
/// printed commands wherever systemd is.
fn systemctl_user(args: &[&str]) -> bool {
    let ran = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .stdin(Stdio::null())
        .output();
    match ran {
        Ok(output) if output.status.success() => {
            println!("ran `systemctl --user {}`", args.join(" "));
            true
        }
        Ok(output) => {
            let said = String::from_utf8_lossy(&output.stderr);
            println!(
                "`systemctl --user {}` did not succeed ({}); no user systemd here?",
                args.join(" "),
                said.trim()
            );
            false
        }
        // No systemctl on PATH: nothing to tell systemd.
        Err(_) => false,
    }
}
