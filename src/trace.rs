//! The trace sink: one line per call, written with one `write(2)` so
//! threads and processes never interleave mid-line. What a line says and how
//! it is formatted is pure and lives in `sock_core::trace`.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use libc::c_int;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

use sock_core::config::{Format, Output};
use sock_core::trace::{self, LineBuf, Outcome, Record};

/// Where trace lines go: stderr, or a file opened on first use by each
/// process (its `%p` is that process's pid).
pub struct Sink {
    out: Output,
    format: Format,
    fd: AtomicI32,
    pid: AtomicI32,
    failed: AtomicBool,
    /// The file is a regular file, which cannot raise SIGPIPE: a plain
    /// `write` will do.
    regular: AtomicBool,
}

impl Sink {
    /// A sink writing `format` lines to `out`.
    pub fn new(out: Output, format: Format) -> Sink {
        Sink {
            out,
            format,
            fd: AtomicI32::new(-1),
            pid: AtomicI32::new(0),
            failed: AtomicBool::new(false),
            regular: AtomicBool::new(false),
        }
    }

    /// Formats and writes one line.
    pub fn emit(&self, record: &Record, outcome: &Outcome) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        // SAFETY: plain system calls without pointers. gettid(2) by its
        // system call: glibc's wrapper is 2.30+, libsock's floor is 2.17.
        let (pid, tid) = unsafe { (libc::getpid(), libc::syscall(libc::SYS_gettid)) };
        let ids = (pid as u32, tid as u32);
        let mut line = LineBuf::new();
        let written = match self.format {
            Format::Text => trace::text(&mut line, ids, record, outcome),
            Format::Json => trace::json(&mut line, ids, now(), record, outcome),
        };
        if written.is_err() {
            return;
        }
        let bytes = line.finish_line();
        let Some(fd) = self.fd_for(pid) else { return };
        let written = if fd != libc::STDERR_FILENO && self.regular.load(Ordering::Relaxed) {
            crate::diag::write_plain(fd, bytes)
        } else {
            crate::diag::write_quietly(fd, bytes)
        };
        if let Err(e) = written
            && !self.failed.swap(true, Ordering::Relaxed)
        {
            crate::diag::warn(format_args!(
                "cannot write the trace ({}): {}; tracing stops",
                self.describe(pid),
                crate::diag::Strerror(e)
            ));
        }
    }

    fn describe(&self, pid: i32) -> String {
        self.out
            .path_for(pid as u32)
            .unwrap_or_else(|| "stderr".into())
    }

    /// The descriptor to write to in process `pid`, opening it if needed.
    fn fd_for(&self, pid: i32) -> Option<c_int> {
        if self.out == Output::Stderr {
            return Some(libc::STDERR_FILENO);
        }
        let fd = self.fd.load(Ordering::Acquire);
        if fd >= 0 && self.pid.load(Ordering::Acquire) == pid {
            return Some(fd);
        }
        let path = self.out.path_for(pid as u32)?;
        let Ok(cpath) = std::ffi::CString::new(path) else {
            self.give_up(pid, libc::EINVAL);
            return None;
        };
        // SAFETY: a NUL-terminated path.
        let opened = unsafe {
            libc::open(
                cpath.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
                0o644,
            )
        };
        if opened < 0 {
            self.give_up(pid, crate::errno::get());
            return None;
        }
        // Held high, as libsock's own: a set naming this number is EBADF,
        // and the program's close of it is noticed (`forget`).
        let held = crate::own::hold(opened);
        let fresh = held.fd;
        self.regular.store(is_regular(fresh), Ordering::Relaxed);
        // Install it unless another thread of this process was quicker. A
        // forked child's inherited descriptor is replaced, not closed: it
        // is the parent's file too.
        match self
            .fd
            .compare_exchange(fd, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.pid.store(pid, Ordering::Release);
                Some(fresh)
            }
            Err(theirs) => {
                held.close();
                (theirs >= 0).then_some(theirs)
            }
        }
    }

    /// The program closed, or `dup2`ed over, descriptor `fd`: if it was the
    /// trace file's, the next line reopens the file at a new number rather
    /// than write into whatever the program put there.
    pub fn forget(&self, fd: c_int) {
        let _ = self
            .fd
            .compare_exchange(fd, -1, Ordering::AcqRel, Ordering::Acquire);
    }

    /// As [`Sink::forget`], for every descriptor from `first` to `last`.
    pub fn forget_range(&self, first: u32, last: u32) {
        let fd = self.fd.load(Ordering::Acquire);
        if fd >= 0 && (first..=last).contains(&(fd as u32)) {
            self.forget(fd);
        }
    }

    fn give_up(&self, pid: i32, e: c_int) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            crate::diag::warn(format_args!(
                "cannot open the trace file {}: {}; tracing stops",
                self.describe(pid),
                crate::diag::Strerror(e)
            ));
        }
    }
}

/// Whether `fd` is a regular file.
fn is_regular(fd: c_int) -> bool {
    // SAFETY: `st` is writable; all-zero is a valid stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFREG }
}

/// Wall-clock time as (seconds, microseconds).
fn now() -> (i64, i64) {
    let ts = clock(ClockId::CLOCK_REALTIME);
    (ts.tv_sec(), ts.tv_nsec() / 1000)
}

/// A monotonic clock in nanoseconds, for elapsed times.
pub fn monotonic_ns() -> u64 {
    let ts = clock(ClockId::CLOCK_MONOTONIC);
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

/// `clock_gettime`, or zero if the clock cannot be read (these clocks
/// always can).
fn clock(id: ClockId) -> TimeSpec {
    clock_gettime(id).unwrap_or(TimeSpec::new(0, 0))
}
