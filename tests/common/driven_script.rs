//! A node script of the web client's (`web-client/e2e/queries.mjs`,
//! `web-client/scripts/headless-viewers.mjs`) driven line by line: the test writes a command
//! on the script's stdin, the script answers with one line on stdout once it is done, so the
//! test can act on the daemon and the child between the script's steps. The script's log
//! (stderr) goes to the test's.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use super::chromium::web_client_dir;

/// How long one step of a script may take (its own steps time out after 15 s).
const STEP_DEADLINE: Duration = Duration::from_secs(120);

pub struct DrivenScript {
    name: String,
    child: Child,
    commands: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl DrivenScript {
    /// Runs `node <node_args> <script>` in web-client/ with `env`.
    pub fn start(script: &str, node_args: &[&str], env: &[(&str, String)]) -> DrivenScript {
        let mut child = Command::new("node")
            .args(node_args)
            .arg(script)
            .current_dir(web_client_dir())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node ({e}): install Node.js 20 or later"));
        let commands = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (said, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if said.send(line).is_err() {
                    return;
                }
            }
        });
        DrivenScript {
            name: script.to_owned(),
            child,
            commands,
            lines,
        }
    }

    /// Writes one command line.
    pub fn send(&mut self, command: &str) {
        let commands = self.commands.as_mut().expect("the script's stdin is open");
        writeln!(commands, "{command}")
            .unwrap_or_else(|e| panic!("{} stopped reading commands: {e}", self.name));
    }

    /// The script's next line, which must start with `word`.
    pub fn expect(&self, word: &str) -> String {
        let line = self
            .lines
            .recv_timeout(STEP_DEADLINE)
            .unwrap_or_else(|_| panic!("{} never said {word}", self.name));
        assert!(
            line.starts_with(word),
            "{} said {line:?} where it should have said {word}",
            self.name
        );
        line
    }

    /// Sends `command` and returns the answer, which must start with `word`.
    pub fn step(&mut self, command: &str, word: &str) -> String {
        self.send(command);
        self.expect(word)
    }

    /// Sends `close` and waits for the script to end.
    pub fn close(mut self) {
        self.send("close");
        drop(self.commands.take());
        let _ = self.child.wait();
    }
}

impl Drop for DrivenScript {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
