//! Which build this is: the crate version and the git revision `build.rs`
//! recorded, for `ptyhub --version`, `ptyhub status`, the daemon's API and
//! metrics. Two builds of "0.1.0" differ by their revision, and after an
//! in-place upgrade the revision says which one the daemon runs.

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The short git revision of the tree built (`c07e26e`), `-dirty` appended
/// when it had uncommitted changes, `unknown` when built outside git.
pub const GIT_REVISION: &str = env!("PTYHUB_GIT_REVISION");

/// `0.1.0 (c07e26e)`: what `ptyhub --version` prints after the name.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PTYHUB_GIT_REVISION"),
    ")"
);

/// [`LONG_VERSION`], for callers that prefer a function.
pub fn long_version() -> &'static str {
    LONG_VERSION
}
