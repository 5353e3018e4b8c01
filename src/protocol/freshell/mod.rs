//! freshell's WebSocket protocol, version 7 (terminal subset), so freshell's
//! frontend can use ptyhub unchanged. See `../shared/spec` in the team's
//! notes and the README.
//!
//! - `inbound`: client messages and their validation;
//! - `outbound`: server messages (shapes from freshell's frozen contract);
//! - `output_encoding`: `terminal.output` encoded once, spliced per viewer;
//! - `activity_messages`: agent activity (busy/idle, turns) in freshell's shapes;
//! - `connection`: one socket's handshake and message dispatch;
//! - `socket_writer`: the socket's ordered writer and its attachments;
//! - `upstream_link`: with `--freshell-upstream`, the socket's companion
//!   socket to freshell for everything outside the terminal family.

mod activity_messages;
mod connection;
mod create_rate;
pub mod inbound;
mod outbound;
pub mod output_encoding;
mod replies;
mod socket_writer;
mod upstream_link;

pub use connection::serve_socket;
pub use output_encoding::frame_limit;
