//! Start-up, fork and exit: every hook libsock registers with the loader
//! and with libc, in one place.
//!
//! - Load: one ELF constructor notes the process that owns libsock's
//!   memory (`crate::process`), resolves every next definition
//!   (`crate::real`, so that is done before the program can `fork`), and
//!   registers the fork handler. It runs before std is set up and may be
//!   reached from inside the dynamic linker: atomics and const thread-locals
//!   only, no allocation, no lock.
//! - Fork: in a child of `fork` (not of `vfork`), the child owns its copy of
//!   libsock's memory and counts its own calls from zero.
//! - Exit: once settings with LIBSOCK_STATS are published, the summary is
//!   written at `exit` (atexit; at the first such call, so handlers the
//!   program registered earlier still have their calls counted). `_exit` and
//!   `_Exit`, which run no atexit handlers, report through their exports
//!   (`crate::ffi::bsd`).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::stats::{self, Stats};
use crate::{process, real};

extern "C" fn at_load() {
    process::at_load();
    real::resolve_all();
    // SAFETY: registers a plain function; glibc runs it in every child of
    // fork (not of vfork or posix_spawn).
    unsafe { libc::pthread_atfork(None, None, Some(in_fork_child)) };
}

#[used]
#[unsafe(link_section = ".init_array")]
static AT_LOAD: extern "C" fn() = at_load;

/// The fork handler, in the child: who owns the memory first, then the
/// counters (which ask).
extern "C" fn in_fork_child() {
    process::after_fork_in_child();
    stats::restart_in_fork_child();
}

/// Publishes `stats` as this process's counters and arranges for the
/// summary at exit. Called once, by the thread that published the settings.
pub fn count_until_exit(stats: &'static Stats) {
    stats::publish(stats);
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    if REGISTERED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: registers a plain function; glibc runs it at exit (or at
    // dlclose of libsock, through its __dso_handle).
    unsafe { libc::atexit(at_exit) };
}

extern "C" fn at_exit() {
    stats::report_at_exit();
}
