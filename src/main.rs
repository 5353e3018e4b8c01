use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = ptyhub::cli::Cli::parse();
    ptyhub::cli::init_logging(cli.log_format());
    match ptyhub::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ptyhub: {}", ptyhub::cli::error_text(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
