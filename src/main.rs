use clap::Parser;
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The most a target may log, whatever `RUST_LOG` asks: tungstenite traces every frame and
/// message it reads or writes, and a `hello` carries the token.
fn log_ceilings() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("tungstenite", LevelFilter::DEBUG)
        .with_target("tokio_tungstenite", LevelFilter::DEBUG)
}

fn main() -> std::process::ExitCode {
    let asked = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(asked.and(log_ceilings())),
        )
        .init();
    match ptyhub::cli::run(ptyhub::cli::Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ptyhub: {}", ptyhub::cli::error_text(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
