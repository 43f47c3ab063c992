//! libsock: the BSD sockets API as a drop-in shared library.
//!
//! The crate builds `libsock.so`, which exports the standard socket calls
//! under glibc's names and signatures plus libsock's own API (`<sock.h>`).
//! With nothing configured every exported call is forwarded unchanged to the
//! next definition in the link chain (normally glibc), so a program behaves
//! exactly as without libsock — linked, preloaded or loaded through ctypes.
//!
//! What is pure (the `LIBSOCK_*` grammar, the table of calls and the
//! `Call` enum, address decoding, names, trace-line formatting, the
//! SocketSet's bits) lives in the `sock-core` crate. This crate is the
//! interposer, one concern per module:
//! - [`ffi`]: the thin `extern "C"` layer: [`ffi::exports`], generated from
//!   the table of calls, and [`ffi::bsd`], what each call does when
//!   something is configured; `<sock.h>`'s own API;
//! - [`real`]: the table of next definitions, the only road to the kernel;
//! - [`lifecycle`]: start-up (the one constructor), fork and exit hooks, in
//!   one place;
//! - [`boundary`]: the re-entrancy guard and panic boundary around libsock's
//!   own logic; [`errno`]: reading, setting and preserving the caller's
//!   errno; [`diag`]: libsock's own one-line messages on stderr;
//! - [`caller`]: caller memory (addresses, lengths) read without trusting
//!   the pointer;
//! - [`settings`]: the configuration in force, read once; [`policy`]:
//!   socket options and bind rewrites; [`trace`]: the trace sink;
//!   [`stats`]: per-call counters, indexed by `Call`;
//! - [`sockset`]: the SocketSet as C holds it; [`selector`]: the wait behind
//!   `sockset_select`; [`closes`]: which descriptors were closed, so an
//!   epoll registration is never trusted past its file;
//! - [`own`]: the descriptors libsock itself holds open (epoll instances,
//!   the trace file): kept high, never a caller's member, and noticed when
//!   the program closes them;
//! - [`process`]: whether this process owns libsock's memory (not a vfork
//!   child) and how many forks it is from the loader;
//! - [`alloc`]: malloc with a reserve, so an allocation failure in
//!   libsock's own work never aborts the host program;
//! - [`access`]: the access rules (LIBSOCK_ALLOW/LIBSOCK_DENY) applied to
//!   calls and sockets; their grammar, matcher and filter compiler are in
//!   `sock_core::rules`; [`outbound`]: the destination of a call read as
//!   the kernel reads it, judged, and handed on as libsock's own copy.

pub mod access;
pub mod alloc;
pub mod boundary;
pub mod caller;
pub mod closes;
pub mod diag;
pub mod errno;
pub mod ffi;
pub mod lifecycle;
pub mod outbound;
pub mod own;
pub mod policy;
pub mod process;
pub mod real;
pub mod selector;
pub mod settings;
pub mod sockset;
pub mod stats;
pub mod trace;
