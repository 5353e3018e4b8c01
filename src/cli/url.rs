//! `ptyhub url [--read-only]`: a new link to open the web client with.
//!
//! The links `ptyhub serve` prints work once and expire (`crate::login_codes`), so that a
//! browser's history never holds a way in; this asks the running daemon for another one,
//! with the token its record holds (the full token: only its holder may mint links).

use clap::Args;

use super::api_client::ApiClient;
use super::endpoint::DaemonArgs;
use crate::server::login::NewLoginLink;

#[derive(Debug, Args)]
pub struct UrlArgs {
    /// A link that can watch every terminal but never type, resize, create or kill.
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: UrlArgs) -> anyhow::Result<()> {
    let api = ApiClient::new(&args.daemon.locate()?);
    let asked = NewLoginLink {
        access: Some(if args.read_only { "read-only" } else { "full" }.to_owned()),
    };
    let link = api.login_link(&asked)?;
    println!("{}", link.url);
    eprintln!(
        "(works once, within {} minutes)",
        link.expires_in_seconds.div_ceil(60)
    );
    Ok(())
}
