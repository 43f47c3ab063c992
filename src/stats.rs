//! LIBSOCK_STATS: per-call counts, errors and bytes, summed with atomics
//! (no lock on the call path) and reported once per process at exit — by
//! `exit` (atexit) or by `_exit`, which libsock also exports for this.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::config::Output;
use crate::names::CALLS;

/// Calls made on descriptors of every kind.
const DESCRIPTOR_CALLS: &[&str] = &["close", "dup2", "dup3", "close_range"];

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    /// Calls refused by the access rules (issue 11).
    denied: AtomicU64,
}

/// The counters of one process.
pub struct Stats {
    out: Output,
    counters: Vec<Counter>,
    reported: AtomicBool,
}

fn pid() -> i32 {
    // SAFETY: no pointers.
    unsafe { libc::getpid() }
}

/// In a fork child the counters start from zero: it reports its own calls.
/// (A vfork child, which shares the parent's memory, reports nothing: see
/// process.rs.)
extern "C" fn after_fork_in_child() {
    if let Some(stats) = crate::settings::active_unguarded().and_then(|s| s.stats.as_ref()) {
        for c in &stats.counters {
            for n in [&c.calls, &c.errors, &c.bytes_in, &c.bytes_out, &c.denied] {
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
            counters: CALLS.iter().map(|_| Counter::default()).collect(),
            reported: AtomicBool::new(false),
        }
    }

    /// Counts one call of `call`: failed or not, and the bytes it moved.
    pub fn count(&self, call: &str, failed: bool, dir: Dir, bytes: u64) {
        let Some(i) = CALLS.iter().position(|&c| c == call) else {
            return;
        };
        let c = &self.counters[i];
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

    /// Counts one call of `call` refused by the access rules (counted as a
    /// call and an error by [`Stats::count`] too).
    pub fn denied(&self, call: &str) {
        if let Some(i) = CALLS.iter().position(|&c| c == call) {
            self.counters[i].denied.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Arranges for [`Stats::report`] at exit, and for a forked child to
    /// count afresh.
    pub fn report_at_exit(&self) {
        extern "C" fn at_exit() {
            crate::boundary::own(report_now);
        }
        // SAFETY: registers plain functions; glibc runs at_exit at exit (or
        // at dlclose of libsock, through its __dso_handle) and the other in
        // every child of fork.
        unsafe {
            libc::atexit(at_exit);
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
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
        let socket_calls = CALLS.iter().zip(&self.counters).any(|(name, c)| {
            !DESCRIPTOR_CALLS.contains(name) && c.calls.load(Ordering::Relaxed) > 0
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
        for (name, c) in CALLS.iter().zip(&self.counters) {
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
        // Access rules (issue 11): only when something was refused, so the
        // table above keeps its shape.
        let denied: Vec<String> = CALLS
            .iter()
            .zip(&self.counters)
            .filter_map(|(name, c)| {
                let n = c.denied.load(Ordering::Relaxed);
                (n > 0).then(|| format!("{name} {n}"))
            })
            .collect();
        if !denied.is_empty() {
            let _ = writeln!(text, "  denied by access rules: {}", denied.join(", "));
        }
        write_all(&self.out, pid, text.as_bytes());
    }
}

fn report_now() {
    if let Some(s) = crate::settings::active_unguarded().and_then(|s| s.stats.as_ref()) {
        s.report();
    }
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
        s.count("send", false, Dir::Out, 10);
        s.count("send", true, Dir::None, 0);
        s.count("nope", false, Dir::None, 0);
        let i = CALLS.iter().position(|&c| c == "send").unwrap();
        assert_eq!(s.counters[i].calls.load(Ordering::Relaxed), 2);
        assert_eq!(s.counters[i].errors.load(Ordering::Relaxed), 1);
        assert_eq!(s.counters[i].bytes_out.load(Ordering::Relaxed), 10);
    }
}
