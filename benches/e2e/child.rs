//! The programs the benchmark runs on a PTY, under every system alike: this same binary,
//! started as `e2e --child <role> …`, so ptyhub, tmux, terminado and a bare PTY all host
//! exactly the same child.
//!
//! - `writer <plain|tui> <bytes> <go-file> <report>`: waits for the go file, writes the
//!   stream as fast as the terminal accepts (for at most 60 s), writes
//!   `{"bytes":N,"seconds":S}` to the report and exits. Its rate is the producer rate: a system that reads the PTY slowly blocks it.
//! - `history <lines> <report>`: writes that many plain lines, then a screen ending in the
//!   marker line `END-OF-HISTORY <lines>`, reports, and stays idle until hung up.
//! - `echo`: answers every input byte `b` with `#b;\r\n` (a TUI echoing a keystroke).
//!
//! Every role first puts its terminal in raw mode, as agent TUIs do: no `\n` → `\r\n`
//! translation and no kernel echo, so each system sees the bytes the child wrote.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::streams::{self, StreamKind};

/// Runs a child role; `args` are the arguments after `--child`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    make_raw(1);
    match args.first().map(String::as_str) {
        Some("writer") => {
            let kind = StreamKind::parse(&args[1]).ok_or_else(|| anyhow::anyhow!("stream?"))?;
            let total: u64 = args[2].parse()?;
            writer(kind, total, Path::new(&args[3]), Path::new(&args[4]))
        }
        Some("history") => history(args[1].parse()?, Path::new(&args[2])),
        Some("echo") => echo(),
        other => anyhow::bail!("unknown child role {other:?}"),
    }
}

/// cfmakeraw on `fd` when it is a terminal.
pub fn make_raw(fd: i32) {
    // SAFETY: termios calls on a descriptor we own; the struct is fully initialised by
    // tcgetattr before use.
    unsafe {
        let mut termios: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut termios) == 0 {
            libc::cfmakeraw(&mut termios);
            libc::tcsetattr(fd, libc::TCSANOW, &termios);
        }
    }
}

fn write_all(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

fn report(path: &Path, bytes: u64, seconds: f64) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!(r#"{{"bytes":{bytes},"seconds":{seconds}}}"#))?;
    std::fs::rename(tmp, path)?;
    Ok(())
}

/// A system that reads this slowly (tmux with 100 clients manages well under 1 MB/s) would
/// take hours over 100 MB; the writer stops after this long, and its rate is what it wrote.
const WRITER_TIME_LIMIT: Duration = Duration::from_secs(60);

fn writer(kind: StreamKind, total: u64, go: &Path, report_path: &Path) -> anyhow::Result<()> {
    let (prefix, block) = streams::block(kind);
    write_all(prefix.as_bytes())?;
    while !go.exists() {
        std::thread::sleep(Duration::from_micros(500));
    }
    let started = Instant::now();
    let mut written = 0u64;
    let mut out = std::io::stdout().lock();
    while written + block.len() as u64 <= total.max(block.len() as u64)
        && (written == 0 || started.elapsed() < WRITER_TIME_LIMIT)
    {
        out.write_all(&block)?;
        written += block.len() as u64;
    }
    out.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    drop(out);
    report(report_path, written, seconds)
}

/// The line that ends a history, at the bottom of the screen.
pub fn history_marker(lines: usize) -> String {
    format!("END-OF-HISTORY {lines}")
}

fn history(lines: usize, report_path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut written = 0u64;
    let chunk = 10_000;
    let mut first = 0;
    while first < lines {
        let count = chunk.min(lines - first);
        let text = streams::plain_lines(first, count);
        write_all(text.as_bytes())?;
        written += text.len() as u64;
        first += count;
    }
    let marker = history_marker(lines);
    write_all(marker.as_bytes())?;
    report(report_path, written, started.elapsed().as_secs_f64())?;
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn echo() -> anyhow::Result<()> {
    let mut buffer = [0u8; 256];
    loop {
        // SAFETY: read(2) into a buffer we own, within its length.
        let n = unsafe { libc::read(0, buffer.as_mut_ptr().cast(), buffer.len()) };
        if n <= 0 {
            return Ok(());
        }
        let mut reply = Vec::with_capacity(n as usize * 5);
        for &byte in &buffer[..n as usize] {
            reply.extend_from_slice(&[b'#', byte, b';', b'\r', b'\n']);
        }
        write_all(&reply)?;
    }
}
