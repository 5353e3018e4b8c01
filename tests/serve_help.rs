//! `ptyhub serve --help` names every environment variable the daemon reads, so a setting that
//! is not a flag can still be found without the source.

use std::process::Command;

#[test]
fn serve_help_names_every_environment_variable_the_daemon_reads() {
    let output = Command::new(env!("CARGO_BIN_EXE_ptyhub"))
        .args(["serve", "--help"])
        .output()
        .expect("ptyhub runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for name in [
        "AUTH_TOKEN",
        "PTYHUB_VIEW_TOKEN",
        "PTYHUB_STATE_DIR",
        "XDG_STATE_HOME",
        "RUST_LOG",
        "NO_COLOR",
        "SHELL",
        "CLAUDE_CMD",
        "CODEX_CMD",
        "OPENCODE_CMD",
        "CODEX_HOME",
        "OPENCODE_CONFIG_CONTENT",
        "HOME",
        "LANG",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(name)),
            "`ptyhub serve --help` does not name {name}:\n{help}"
        );
    }
    assert!(help.contains("--log-format"), "{help}");
}
