//! libsock: the BSD sockets API as a drop-in shared library.
//!
//! The crate builds `libsock.so`, which exports the standard socket calls
//! under glibc's names and signatures plus libsock's own API (`<sock.h>`).
//! With nothing configured every exported call is forwarded unchanged to the
//! next definition in the link chain (normally glibc), so a program behaves
//! exactly as without libsock — linked, preloaded or loaded through ctypes.
//!
//! Layout, one concern per module:
//! - [`real`]: the table of next definitions, the only road to the kernel;
//! - [`diag`]: libsock's own one-line messages on stderr;
//! - [`errno`]: reading, setting and preserving the caller's errno;
//! - [`boundary`]: the re-entrancy guard and panic boundary around libsock's
//!   own logic;
//! - [`sockset`]: the SocketSet's bits; [`selector`]: the wait behind
//!   `sockset_select`; [`closes`]: which descriptors were closed, so an
//!   epoll registration is never trusted past its file;
//! - [`config`]: the `LIBSOCK_*` grammar (pure); [`settings`]: the
//!   configuration in force, read once; [`policy`]: socket options and bind
//!   rewrites; [`trace`] and [`names`]: one decoded line per call;
//!   [`stats`]: per-call counters; [`addr`]: socket addresses, decoded and
//!   read from caller memory without trusting it;
//! - [`process`]: whether this process owns libsock's memory (not a vfork
//!   child) and how many forks it is from the loader;
//! - [`alloc`]: malloc with a reserve, so an allocation failure in
//!   libsock's own work never aborts the host program;
//! - [`access`]: the access rules (LIBSOCK_ALLOW/LIBSOCK_DENY) applied to
//!   calls and sockets; their grammar, matcher and filter compiler are in
//!   the `sock-core` crate;
//! - [`ffi`]: the thin `extern "C"` layer (standard names and `<sock.h>`).

pub mod access;
pub mod addr;
pub mod alloc;
pub mod boundary;
pub mod closes;
pub mod config;
pub mod diag;
pub mod errno;
pub mod ffi;
pub mod names;
pub mod policy;
pub mod process;
pub mod real;
pub mod selector;
pub mod settings;
pub mod sockset;
pub mod stats;
pub mod trace;
