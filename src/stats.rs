//! LIBSOCK_STATS: per-call counts, errors and bytes, summed with atomics
//! (no lock on the call path) and reported once per process at exit — by
//! `exit` (atexit, registered by `crate::lifecycle`) or by `_exit`, which
//! libsock also exports for this.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use sock_core::calls::{Call, Kind};
use sock_core::config::Output;

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

/// The counters of one process.
pub struct Stats {
    out: Output,
    counters: Vec<Counter>,
    reported: AtomicBool,
}

fn pid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// The counters of this process, once settings with LIBSOCK_STATS are
/// published (they live as long as the process).
static PUBLISHED: AtomicPtr<Stats> = AtomicPtr::new(std::ptr::null_mut());

/// Makes `stats` the counters reported at exit (see `crate::lifecycle`).
pub fn publish(stats: &'static Stats) {
    PUBLISHED.store(std::ptr::from_ref(stats).cast_mut(), Ordering::Release);
}

/// The published counters; None before, and in a process that does not
/// own libsock's memory (a vfork child).
fn published() -> Option<&'static Stats> {
    if !crate::process::owns_memory() {
        return None;
    }
    // SAFETY: published from a `&'static Stats`, never freed.
    unsafe { PUBLISHED.load(Ordering::Acquire).as_ref() }
}

/// In a fork child the counters start from zero: it reports its own calls.
/// (A vfork child, which shares the parent's memory, reports nothing: see
/// process.rs.) Called by the fork handler in `crate::lifecycle`.
pub fn restart_in_fork_child() {
    if let Some(stats) = published() {
        for c in &stats.counters {
            for n in [&c.calls, &c.errors, &c.bytes_in, &c.bytes_out] {
                n.store(0, Ordering::Relaxed);
            }
        }
        stats.reported.store(false, Ordering::Relaxed);
    }
}

/// Which way a call's bytes went.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Received.
    In,
    /// Sent.
    Out,
    /// Not a data call.
    None,
}

impl Stats {
    /// Counters reporting to `out`.
    pub fn new(out: Output) -> Stats {
        Stats {
            out,
            counters: Call::ALL.iter().map(|_| Counter::default()).collect(),
            reported: AtomicBool::new(false),
        }
    }

    /// Counts one call of `call`: failed or not, and the bytes it moved.
    pub fn count(&self, call: Call, failed: bool, dir: Dir, bytes: u64) {
        let c = &self.counters[call.index()];
        c.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            c.errors.fetch_add(1, Ordering::Relaxed);
        }
        match dir {
            Dir::In => c.bytes_in.fetch_add(bytes, Ordering::Relaxed),
            Dir::Out => c.bytes_out.fetch_add(bytes, Ordering::Relaxed),
            Dir::None => 0,
        };
    }

    /// The summary, once per process.
    pub fn report(&self) {
        let pid = pid();
        if !crate::process::owns_memory() || self.reported.swap(true, Ordering::AcqRel) {
            return;
        }
        // close and dup* are exported for every descriptor, not only
        // sockets: a process (a shell, say) that made no other call made no
        // socket call worth a report.
        let socket_calls = Call::counted().any(|call| {
            call.kind() == Kind::Socket
                && self.counters[call.index()].calls.load(Ordering::Relaxed) > 0
        });
        if !socket_calls {
            return;
        }
        let mut text = String::new();
        let _ = writeln!(text, "libsock stats for pid {pid}:");
        let _ = writeln!(
            text,
            "  {:<12} {:>10} {:>8} {:>14} {:>14}",
            "call", "calls", "errors", "bytes in", "bytes out"
        );
        let (mut calls, mut errors, mut bin, mut bout) = (0, 0, 0, 0);
        for call in Call::counted() {
            let (name, c) = (call.name(), &self.counters[call.index()]);
            let n = c.calls.load(Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let (e, i, o) = (
                c.errors.load(Ordering::Relaxed),
                c.bytes_in.load(Ordering::Relaxed),
                c.bytes_out.load(Ordering::Relaxed),
            );
            let _ = writeln!(text, "  {name:<12} {n:>10} {e:>8} {i:>14} {o:>14}");
            (calls, errors, bin, bout) = (calls + n, errors + e, bin + i, bout + o);
        }
        let _ = writeln!(
            text,
            "  {:<12} {calls:>10} {errors:>8} {bin:>14} {bout:>14}",
            "total"
        );
        write_all(&self.out, pid, text.as_bytes());
    }
}

fn report_now() {
    if let Some(s) = published() {
        s.report();
    }
}

/// Reports now, if stats are on (the atexit hook, see `crate::lifecycle`).
pub fn report_at_exit() {
    crate::boundary::own(report_now);
}

/// Reports now, if stats are on (the `_exit` hook).
pub fn report_before_exit() {
    crate::boundary::own(report_now);
}

/// Writes the summary in one `write(2)` to stderr or the file.
fn write_all(out: &Output, pid: i32, bytes: &[u8]) {
    let fd = match out.path_for(pid as u32) {
        None => libc::STDERR_FILENO,
        Some(path) => {
            let Ok(cpath) = std::ffi::CString::new(path.clone()) else {
                return;
            };
            // SAFETY: a NUL-terminated path.
            let fd = unsafe {
                libc::open(
                    cpath.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
                    0o644,
                )
            };
            if fd < 0 {
                crate::diag::warn(format_args!(
                    "cannot write the stats to {path}: {}",
                    crate::diag::Strerror(crate::errno::get())
                ));
                return;
            }
            fd
        }
    };
    if let Err(e) = crate::diag::write_quietly(fd, bytes) {
        let path = out.path_for(pid as u32);
        crate::diag::warn(format_args!(
            "cannot write the stats to {}: {}",
            path.as_deref().unwrap_or("stderr"),
            crate::diag::Strerror(e)
        ));
    }
    if fd != libc::STDERR_FILENO {
        // SAFETY: our own descriptor, closed once, through the table.
        unsafe { crate::real::close(fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let s = Stats::new(Output::Stderr);
        s.count(Call::send, false, Dir::Out, 10);
        s.count(Call::send, true, Dir::None, 0);
        s.count(Call::recv, false, Dir::None, 0);
        let i = Call::send.index();
        assert_eq!(s.counters[i].calls.load(Ordering::Relaxed), 2);
        assert_eq!(s.counters[i].errors.load(Ordering::Relaxed), 1);
        assert_eq!(s.counters[i].bytes_out.load(Ordering::Relaxed), 10);
    }
}
