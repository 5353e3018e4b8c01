//! Wire protocols. Each is a thin adapter from a socket to the registry and
//! the session core; none of them holds session state of its own.

pub mod freshell;
