//! `ptyhub service install|uninstall|status`: the systemd user unit as a user's machine gets
//! it. Each test gives the binary a home of its own (`HOME` and `XDG_CONFIG_HOME` in a temp
//! dir) and a `PATH` with no systemctl, as in a container, so no test touches the real user's
//! systemd. `systemd-analyze verify` (Debian's `systemd` package) checks the unit offline.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const PTYHUB: &str = env!("CARGO_BIN_EXE_ptyhub");

/// A user's home for one test, and the ptyhub binary run in it.
struct Home {
    dir: TempDir,
    /// What `PATH` holds for ptyhub: an empty directory, unless a test puts a tool in it.
    bin: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).expect("bin dir");
        Home { dir, bin }
    }

    fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn unit_path(&self) -> PathBuf {
        self.config_home().join("systemd/user/ptyhub.service")
    }

    fn ptyhub(&self, args: &[&str]) -> Output {
        Command::new(PTYHUB)
            .args(args)
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("PATH", &self.bin)
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("PTYHUB_STATE_DIR")
            .env_remove("PTYHUB_URL")
            .env_remove("AUTH_TOKEN")
            .output()
            .expect("run the ptyhub binary")
    }

    fn ptyhub_ok(&self, args: &[&str]) -> String {
        let output = self.ptyhub(args);
        assert!(
            output.status.success(),
            "`ptyhub {}` failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    fn ptyhub_refused(&self, args: &[&str]) -> String {
        let output = self.ptyhub(args);
        assert!(
            !output.status.success(),
            "`ptyhub {}` succeeded:\n{}",
            args.join(" "),
            text(&output.stdout)
        );
        text(&output.stderr)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn unit_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .expect("the unit is written")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `systemd-analyze`, which the test must have: it is how the unit is known to be one
/// systemd accepts.
fn systemd_analyze() -> PathBuf {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("systemd-analyze"))
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "systemd-analyze is needed to check the unit: install Debian's systemd package \
             (apt-get install -y systemd); no running systemd is needed"
        )
    })
}

#[test]
fn install_writes_a_unit_that_runs_this_binary_and_reloads_by_upgrading() {
    let home = Home::new();
    let state_dir = home.dir.path().join("state");
    let stdout = home.ptyhub_ok(&[
        "service",
        "install",
        "--state-dir",
        state_dir.to_str().unwrap(),
    ]);
    let unit = home.unit_path();
    let lines = unit_lines(&unit);
    let has = |line: &str| lines.iter().any(|l| l == line);
    assert!(
        has(&format!(
            "ExecStart={PTYHUB} serve --state-dir {}",
            state_dir.display()
        )),
        "{lines:#?}"
    );
    assert!(has("ExecReload=/bin/kill -USR2 $MAINPID"), "{lines:#?}");
    assert!(has("Restart=on-failure"), "{lines:#?}");
    assert!(has("KillMode=mixed"), "{lines:#?}");
    assert!(has("WantedBy=default.target"), "{lines:#?}");
    let mode = fs::metadata(&unit).unwrap().permissions().mode();
    assert_eq!(mode & 0o022, 0, "the unit is writable by others: {mode:o}");

    // Without systemctl (PATH has none) the next steps are printed, daemon-reload included.
    for next in [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now ptyhub",
        "loginctl enable-linger $USER",
    ] {
        assert!(stdout.contains(next), "{next:?} not printed:\n{stdout}");
    }

    // Installing the same unit again changes nothing and succeeds.
    let again = home.ptyhub_ok(&[
        "service",
        "install",
        "--state-dir",
        state_dir.to_str().unwrap(),
    ]);
    assert!(again.contains("already this unit"), "{again}");
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let analyze = systemd_analyze();
    let home = Home::new();
    home.ptyhub_ok(&["service", "install"]);
    let unit = home.unit_path();
    // Offline: no manager runs. `--user` wants a runtime dir to set itself up in, a
    // private one here; complaints name the unit, and some only warn (exit 0).
    let runtime_dir = home.dir.path().join("runtime");
    fs::create_dir(&runtime_dir).unwrap();
    fs::set_permissions(&runtime_dir, fs::Permissions::from_mode(0o700)).unwrap();
    let output = Command::new(&analyze)
        .args(["verify", "--user"])
        .arg(&unit)
        .env("HOME", home.dir.path())
        .env("XDG_CONFIG_HOME", home.config_home())
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("run systemd-analyze");
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    let complaints: Vec<&str> = said
        .lines()
        .filter(|line| line.contains("ptyhub.service"))
        .collect();
    assert!(
        output.status.success() && complaints.is_empty(),
        "systemd-analyze verify {} ({}):\n{said}\nthe unit:\n{}",
        unit.display(),
        output.status,
        fs::read_to_string(&unit).unwrap()
    );
}

#[test]
fn a_symlink_at_the_unit_path_is_not_followed() {
    let home = Home::new();
    let unit = home.unit_path();
    fs::create_dir_all(unit.parent().unwrap()).unwrap();
    let elsewhere = home.dir.path().join("elsewhere");
    fs::write(&elsewhere, "someone else's file\n").unwrap();
    symlink(&elsewhere, &unit).unwrap();

    let stderr = home.ptyhub_refused(&["service", "install"]);
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_eq!(
        fs::read_to_string(&elsewhere).unwrap(),
        "someone else's file\n"
    );
    assert!(fs::symlink_metadata(&unit).unwrap().is_symlink());

    // --force replaces the link itself; its target is still untouched.
    home.ptyhub_ok(&["service", "install", "--force"]);
    assert_eq!(
        fs::read_to_string(&elsewhere).unwrap(),
        "someone else's file\n"
    );
    assert!(!fs::symlink_metadata(&unit).unwrap().is_symlink());
}

#[test]
fn install_keeps_a_different_unit_unless_forced() {
    let home = Home::new();
    let unit = home.unit_path();
    fs::create_dir_all(unit.parent().unwrap()).unwrap();
    let handwritten = "[Service]\nExecStart=/usr/local/bin/ptyhub serve\n";
    fs::write(&unit, handwritten).unwrap();

    let stderr = home.ptyhub_refused(&["service", "install"]);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(fs::read_to_string(&unit).unwrap(), handwritten);

    home.ptyhub_ok(&["service", "install", "--force"]);
    assert!(unit_lines(&unit).contains(&format!("ExecStart={PTYHUB} serve")));
}

#[test]
fn uninstall_removes_the_unit_install_wrote() {
    let home = Home::new();
    home.ptyhub_ok(&["service", "install"]);
    assert!(home.unit_path().exists());
    let stdout = home.ptyhub_ok(&["service", "uninstall"]);
    assert!(!home.unit_path().exists(), "{stdout}");
    assert!(
        stdout.contains("systemctl --user disable --now ptyhub"),
        "{stdout}"
    );
    let again = home.ptyhub_ok(&["service", "uninstall"]);
    assert!(again.contains("nothing to remove"), "{again}");
}

#[test]
fn uninstall_refuses_a_unit_ptyhub_did_not_write() {
    let home = Home::new();
    let unit = home.unit_path();
    fs::create_dir_all(unit.parent().unwrap()).unwrap();
    let handwritten = "[Service]\nExecStart=/usr/local/bin/ptyhub serve\n";
    fs::write(&unit, handwritten).unwrap();
    let stderr = home.ptyhub_refused(&["service", "uninstall"]);
    assert!(stderr.contains("not written by ptyhub"), "{stderr}");
    assert_eq!(fs::read_to_string(&unit).unwrap(), handwritten);
}

#[test]
fn uninstall_of_an_enabled_unit_asks_for_disable_first() {
    let home = Home::new();
    home.ptyhub_ok(&["service", "install"]);
    let unit = home.unit_path();
    // What `systemctl --user enable ptyhub` makes.
    let wants = unit.parent().unwrap().join("default.target.wants");
    fs::create_dir(&wants).unwrap();
    symlink(&unit, wants.join("ptyhub.service")).unwrap();

    let stderr = home.ptyhub_refused(&["service", "uninstall"]);
    assert!(
        stderr.contains("systemctl --user disable --now ptyhub"),
        "{stderr}"
    );
    assert!(unit.exists());
}

#[test]
fn a_failing_systemctl_does_not_fail_install() {
    let home = Home::new();
    // A systemctl that finds no user manager, as in a container.
    let fake = home.bin.join("systemctl");
    fs::write(
        &fake,
        "#!/bin/sh\necho \"$@\" >> \"$0.calls\"\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();

    let stdout = home.ptyhub_ok(&["service", "install"]);
    assert!(home.unit_path().exists());
    let calls = fs::read_to_string(home.bin.join("systemctl.calls")).unwrap_or_default();
    assert_eq!(calls, "--user daemon-reload\n");
    assert!(
        stdout.contains("systemctl --user daemon-reload"),
        "{stdout}"
    );
}

#[test]
fn service_status_says_where_the_unit_is_and_that_no_daemon_runs() {
    let home = Home::new();
    let state_dir = home.dir.path().join("state");
    let state = state_dir.to_str().unwrap();
    let output = home.ptyhub(&["service", "status", "--state-dir", state]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("unit: not installed"), "{stdout}");
    assert!(stdout.contains("ptyhub is not running"), "{stdout}");

    home.ptyhub_ok(&["service", "install"]);
    let output = home.ptyhub(&["service", "status", "--state-dir", state]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "unit: installed at {}",
            home.unit_path().display()
        )),
        "{stdout}"
    );
}
