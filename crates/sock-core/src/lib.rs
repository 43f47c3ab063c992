//! libsock's pure parts: no exports and no system calls, so the library,
//! `sockrun`, the fuzz targets and unit tests all depend on it like any
//! crate.
//!
//! - [`rules`]: the access rules (`LIBSOCK_ALLOW`/`LIBSOCK_DENY`): their
//!   grammar, the per-call matcher, and the classic BPF socket filter
//!   compiled from them (with a small interpreter to check it).

pub mod rules;
