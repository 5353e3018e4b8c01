//! ptyhub: one PTY per provider session, fanned out to any number of viewers.
//!
//! Data flows one way: child → PTY reader → session (screen + replay ring) →
//! each viewer's cursor → a protocol adapter → a socket. See the README for
//! the map of modules.

pub mod auth_failures;
pub mod build_info;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod handover;
pub mod login_codes;
pub mod metrics;
pub mod panic_injection;
pub mod protocol;
pub mod providers;
pub mod registry;
pub mod server;
pub mod service_unit;
pub mod session;
pub mod state_dir;
pub mod test_delays;
pub mod token_strength;
pub mod upstream;
