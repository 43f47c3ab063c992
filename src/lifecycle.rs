//! Start-up, fork and exit: every hook libsock registers with the loader
//! and with libc, in one place.
//!
//! - Load: one ELF constructor notes the process that owns libsock's
//!   memory (`crate::process`), resolves every next definition
//!   (`crate::real`) and the newer functions looked up at run time
//!   (`epoll_pwait2`, `crate::selector`), so that is done before the program
//!   can `fork`, and registers the fork handler. It runs before std is set up and may be
//!   reached from inside the dynamic linker: atomics and const thread-locals
//!   only, no allocation, no lock.
//! - Fork: in a child of `fork` (not of `vfork`), the child owns its copy of
//!   libsock's memory and counts its own calls from zero.
//! - Exit: once settings with LIBSOCK_STATS are published, the summary is
//!   written at `exit` by an atexit handler registered then. atexit
//!   handlers run last-registered first, so the calls of handlers the
//!   program registers later are counted, and those of handlers it
//!   registered before its first socket call are not. `_exit` and `_Exit`,
//!   which run no atexit handlers, report through their exports
//!   (`crate::ffi::bsd`).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::stats::{self, Stats};
use crate::{process, real, selector};

extern "C" fn at_load() {
    process::at_load();
    real::resolve_all();
    selector::resolve_epoll_pwait2();
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
    REPORT_TAKEN.store(false, Ordering::Relaxed);
}

/// Publishes `stats` as this process's counters and arranges for the
/// summary at exit. Called once, by the thread that published the settings.
pub fn count_until_exit(stats: &'static Stats) {
    stats::publish(stats);
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    if REGISTERED.swap(true, Ordering::AcqRel) {
        return;
    }
    // The gate first, the report second: atexit handlers run last-registered
    // first, so the report runs, then the gate.
    // SAFETY: registers plain functions; glibc runs them at exit (or at
    // dlclose of libsock, through its __dso_handle).
    unsafe {
        libc::atexit(at_exit_gate);
        libc::atexit(at_exit);
    }
}

/// Set by the thread that glibc hands the report handler, first thing.
static REPORT_TAKEN: AtomicBool = AtomicBool::new(false);

extern "C" fn at_exit() {
    REPORT_TAKEN.store(true, Ordering::Release);
    if !stats::report_before_exit() {
        // Not reported (this thread was inside libsock's own work): there
        // is nothing for the gate to wait for.
        REPORT_TAKEN.store(false, Ordering::Release);
    }
}

/// Two threads can be in `exit` at once (main returning while another
/// thread calls `exit`): glibc hands each handler to one of them, and the
/// one that finishes first ends the process, perhaps while the other is
/// still writing the report. The thread that gets this handler, which runs
/// after the report's, waits (bounded) for that report first.
extern "C" fn at_exit_gate() {
    stats::wait_for_report(REPORT_TAKEN.load(Ordering::Acquire));
}
