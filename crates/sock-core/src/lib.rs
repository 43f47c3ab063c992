//! libsock's pure logic, shared by the library (`libsock.so`), `sockrun`,
//! the fuzz targets and the unit tests.
//!
//! Pure means: no exported C symbols and no system calls. Everything here
//! is plain data in, data out, so any crate can depend on it — unlike the
//! cdylib, whose exported `socket`, `close`, … would interpose on the
//! depending program itself. (`libc` is used for constants and types.)
//!
//! - [`config`]: the `LIBSOCK_*` grammar, one table of variables;
//! - [`calls`]: the table of the calls libsock exports, and the [`Call`]
//!   enum derived from it;
//! - [`addr`]: socket addresses, decoded from bytes and encoded back;
//! - [`names`]: symbolic names of families, levels, options, flags, errno;
//! - [`trace`] and [`line`]: a call's trace line, formatted into a fixed
//!   buffer;
//! - [`sockset`]: the SocketSet's bits;
//! - [`stats`]: the stats table (`LIBSOCK_STATS`);
//! - [`supervised`]: libsock's token for sockrun's kernel mode;
//! - [`rules`]: the access rules (`LIBSOCK_ALLOW`/`LIBSOCK_DENY`): their
//!   grammar, the per-call matcher, and the classic BPF socket filter
//!   compiled from them (with a small interpreter to check it).
//!
//! No unsafe code (errno names come from nix's table, not from glibc's
//! `strerrorname_np`); only a unit test asks glibc, to compare.

#![deny(unsafe_code)]

pub mod addr;
pub mod calls;
pub mod config;
pub mod line;
pub mod names;
pub mod rules;
pub mod sockset;
pub mod stats;
pub mod supervised;
pub mod trace;

pub use calls::Call;
