//! The end-to-end benchmark: a real `ptyhub serve` with real PTY children and real
//! WebSocket viewers on loopback, side by side with tmux and terminado running the very same
//! children, and a bare PTY as the floor.
//!
//!     cargo bench --bench e2e -- --full     # the figures in BENCHMARKS.md (about 40 minutes)
//!     cargo bench --bench e2e -- --smoke    # seconds; CI runs it so this cannot rot
//!     cargo bench --bench e2e -- --full --only flood   # issue 16's flood target, ptyhub alone
//!
//! Options: `--only throughput,reattach,echo,memory,flood`, `--systems ptyhub,tmux,terminado,bare`,
//! `--viewers 1,8,100` (throughput), `--repeats N`, `--bytes N` (stream size), `--out FILE`
//! (default `target/bench/e2e-<mode>.md`). `PTYHUB_BIN` runs another ptyhub binary (a
//! prototype) against the same clients; `PTYHUB_BENCH_CONFIG` merges TOML over the daemon's
//! config; `PTYHUB_BENCH_THREADS=1` prints where the daemon's CPU went in each run. Without
//! `--full` or `--smoke` it prints the usage and exits, so a plain `cargo bench` runs only
//! the criterion benches.
//!
//! The binary is also the child every system runs (`--child writer|history|echo`, see
//! `child.rs`), and the flood's attackers (`--attacker idle|slow|silent`, see
//! `flood_attacker.rs`). Each measure lives in its own module and prints its own tables; `stats.rs`
//! makes the medians, ranges and ratios.

mod child;
mod echo;
mod flood;
mod flood_attacker;
mod memory;
mod procfs;
mod pty;
mod ptyhub;
mod reattach;
mod stats;
mod streams;
mod terminado;
mod throughput;
mod tmux;
mod wire;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use stats::Table;
use streams::StreamKind;

/// A system under test (terminado with its NamedTermManager unless said otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum System {
    Ptyhub,
    Tmux,
    Terminado,
    /// The child on a PTY this benchmark reads directly: no multiplexer at all.
    Bare,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Ptyhub => "ptyhub",
            System::Tmux => "tmux",
            System::Terminado => "terminado",
            System::Bare => "bare PTY",
        }
    }
}

/// What one invocation measures, and how much.
pub struct Plan {
    pub mode: &'static str,
    pub repeats: usize,
    pub stream_bytes: u64,
    pub streams: Vec<StreamKind>,
    pub viewers: Vec<usize>,
    pub run_deadline: Duration,
    pub history_lines: Vec<usize>,
    pub reattach_samples: usize,
    pub echo_samples: usize,
    pub echo_viewers: Vec<usize>,
    /// Idle sessions beyond the first, in rising steps.
    pub idle_sessions: Vec<usize>,
    pub idle_viewers: Vec<usize>,
    /// How long memory is left to settle before it is read.
    pub settle: Duration,
    pub measures: Vec<String>,
    /// The flood measure's attackers and samples.
    pub flood: flood::FloodSize,
    /// Systems to run (all when empty), by `System::name`'s first word.
    pub systems: Vec<String>,
    /// This binary: the child every system runs.
    pub exe: PathBuf,
    /// The terminado virtualenv's python, or why there is none.
    pub terminado: Result<PathBuf, String>,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            mode: "full",
            repeats: 5,
            stream_bytes: 100_000_000,
            streams: vec![StreamKind::Plain, StreamKind::Tui],
            viewers: vec![1, 8, 100],
            run_deadline: Duration::from_secs(150),
            history_lines: vec![1_000, 100_000, 1_000_000],
            reattach_samples: 15,
            echo_samples: 300,
            echo_viewers: vec![1, 20],
            idle_sessions: vec![0, 100, 500],
            idle_viewers: vec![0, 100, 1000],
            settle: Duration::from_millis(1500),
            flood: flood::FloodSize {
                idle: 20_000,
                idle_per_process: 5_000,
                slow: 3_000,
                silent: 50,
                samples: 300,
                ramp_up: Duration::from_secs(60),
            },
            measures: Vec::new(),
            systems: Vec::new(),
            exe: PathBuf::new(),
            terminado: Err(String::new()),
        }
    }

    fn smoke() -> Plan {
        Plan {
            mode: "smoke",
            repeats: 1,
            stream_bytes: 2_000_000,
            viewers: vec![1, 8],
            run_deadline: Duration::from_secs(30),
            history_lines: vec![1_000, 20_000],
            reattach_samples: 3,
            echo_samples: 30,
            echo_viewers: vec![1, 4],
            idle_sessions: vec![0, 4],
            idle_viewers: vec![0, 8],
            settle: Duration::from_millis(200),
            flood: flood::FloodSize {
                idle: 300,
                idle_per_process: 300,
                slow: 30,
                silent: 5,
                samples: 10,
                ramp_up: Duration::from_secs(10),
            },
            ..Plan::full()
        }
        .named("smoke")
    }

    fn named(mut self, mode: &'static str) -> Plan {
        self.mode = mode;
        self
    }

    fn wants(&self, measure: &str) -> bool {
        self.measures.is_empty() || self.measures.iter().any(|m| m == measure)
    }

    /// Whether `name` (a system's name; its first word counts) is to be run.
    pub fn runs(&self, name: &str) -> bool {
        let first = name.split_whitespace().next().unwrap_or(name);
        self.systems.is_empty() || self.systems.iter().any(|s| s == first)
    }
}

const USAGE: &str = "usage: cargo bench --bench e2e -- --full|--smoke [--only throughput,reattach,echo,memory,flood] [--systems ptyhub,tmux,terminado,bare] [--viewers 1,8,100] [--repeats N] [--bytes N] [--out FILE]";

fn parse_args(args: &[String]) -> anyhow::Result<Option<(Plan, PathBuf)>> {
    let mut plan = None;
    let mut out = None;
    let mut overrides: Vec<(&str, &str)> = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--full" => plan = Some(Plan::full()),
            "--smoke" => plan = Some(Plan::smoke()),
            "--only" | "--systems" | "--viewers" | "--repeats" | "--bytes" | "--out" => {
                let value = iter
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("{arg} needs a value\n{USAGE}"))?;
                overrides.push((arg.as_str(), value.as_str()));
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let Some(mut plan) = plan else {
        return Ok(None);
    };
    for (key, value) in overrides {
        match key {
            "--only" => plan.measures = value.split(',').map(str::to_owned).collect(),
            "--systems" => plan.systems = value.split(',').map(str::to_owned).collect(),
            "--viewers" => {
                plan.viewers = value.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            "--repeats" => plan.repeats = value.parse()?,
            "--bytes" => plan.stream_bytes = value.parse()?,
            _ => out = Some(PathBuf::from(value)),
        }
    }
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let out = out.unwrap_or_else(|| target.join(format!("e2e-{}.md", plan.mode)));
    plan.exe = std::env::current_exe()?;
    plan.terminado = terminado::setup(&target.join("terminado-venv"));
    Ok(Some((plan, out)))
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench` to every bench target.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child::run(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("--attacker") {
        return flood_attacker::run(&args[1..]);
    }
    let Some((plan, out)) = parse_args(&args)? else {
        println!("{USAGE}\n(nothing run: the end-to-end benchmark needs --full or --smoke)");
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut report = header(&plan);
    let mut failures = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    runtime.block_on(async {
        if plan.wants("throughput") {
            tables.extend(throughput_tables(&plan, &mut failures).await);
        }
        if plan.wants("reattach") {
            tables.extend(reattach::tables(&plan, &mut failures).await);
        }
        if plan.wants("echo") {
            tables.extend(echo::tables(&plan, &mut failures).await);
        }
        if plan.wants("memory") {
            tables.extend(memory::tables(&plan, &mut failures).await);
        }
        if plan.wants("flood") && plan.runs("ptyhub") {
            tables.extend(flood::tables(&plan, &mut failures).await);
        }
    });
    for table in &tables {
        report.push_str(&table.markdown());
    }
    if !failures.is_empty() {
        report.push_str("### Runs that failed\n\n");
        for failure in &failures {
            report.push_str(&format!("- {failure}\n"));
        }
        report.push('\n');
    }
    report.push_str(&format!(
        "Wall time of this invocation: {:.0} s.\n",
        started.elapsed().as_secs_f64()
    ));
    println!("{report}");
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, &report)?;
    eprintln!("written to {}", out.display());
    // Runtime tasks still reading closed sockets are dropped here.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if plan.mode == "smoke" && !failures.is_empty() {
        anyhow::bail!("{} smoke run(s) failed", failures.len());
    }
    Ok(())
}

async fn throughput_tables(plan: &Plan, failures: &mut Vec<String>) -> Vec<Table> {
    throughput::tables(plan, failures).await
}

/// The machine, the versions and the command, above the tables.
fn header(plan: &Plan) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_owned))
        .unwrap_or_default();
    let run = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let terminado = match &plan.terminado {
        Ok(python) => run(
            &python.to_string_lossy(),
            &["-c", "import terminado, tornado; print('terminado', terminado.__version__, '/ tornado', tornado.version)"],
        ),
        Err(why) => format!("not available: {why}"),
    };
    format!(
        "## End-to-end run ({mode})\n\n- Machine: {cpu}, {cores} cores, {memory}, Linux {kernel}\n- Load average at start: {load}\n- ptyhub {rev}; {tmux}; {terminado}; ttyd: not installable here (neither Debian nor PyPI carries it); terminado's UniqueTermManager stands for its one-process-per-socket design\n- Command: `cargo bench --bench e2e -- --{mode}`; repeats: {repeats}; stream: {bytes} bytes; screen {cols}×{rows}\n\n",
        mode = plan.mode,
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory = memory.split_whitespace().skip(1).collect::<Vec<_>>().join(" "),
        kernel = run("uname", &["-r"]),
        load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        rev = run("git", &["-C", env!("CARGO_MANIFEST_DIR"), "describe", "--always", "--dirty"]),
        tmux = run("tmux", &["-V"]),
        repeats = plan.repeats,
        bytes = plan.stream_bytes,
        cols = streams::COLS,
        rows = streams::ROWS,
    )
}
