//! LIBSOCK_STATS: per-call counts, errors and bytes, summed with atomics
//! (no lock on the call path) and reported once per process at exit — by
//! `exit` (atexit, registered by `crate::lifecycle`) or by `_exit`, which
//! libsock also exports for this.
//!
//! Exit paths race: one thread in `exit` may be writing the table while
//! another calls `_exit`. The first to arrive writes; every other one waits
//! for it (on a futex, at most [`EXIT_WRITE_LIMIT`] and a little) before
//! its exit goes on, so the process never ends under the writer. The writer
//! itself gives up after [`EXIT_WRITE_LIMIT`] when its output does not take
//! the table (a full pipe nobody reads): an exit is delayed by the write at
//! most, never hung.

use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::process::getpid;

use sock_core::calls::Call;
use sock_core::config::Output;
use sock_core::stats::Counts;

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    /// Calls refused by the access rules (issue 11).
    denied: AtomicU64,
}

/// How long writing the table at exit may take before it is given up, and
/// so the most any exit waits for it.
pub const EXIT_WRITE_LIMIT: Duration = Duration::from_secs(2);

/// [`Stats::state`]: nobody has started the report.
const IDLE: u32 = 0;
/// A thread is writing the report.
const WRITING: u32 = 1;
/// The report is written (or given up).
const DONE: u32 = 2;

/// The counters of one process.
pub struct Stats {
    out: Output,
    counters: Vec<Counter>,
    /// IDLE, WRITING or DONE: who reports, and when it is over.
    state: AtomicU32,
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
            for n in [&c.calls, &c.errors, &c.bytes_in, &c.bytes_out, &c.denied] {
                n.store(0, Ordering::Relaxed);
            }
        }
        // Only this thread survives a fork: nobody can be writing here.
        stats.state.store(IDLE, Ordering::Relaxed);
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
            state: AtomicU32::new(IDLE),
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

    /// Counts one call of `call` refused by the access rules (counted as a
    /// call and an error by [`Stats::count`] too).
    pub fn denied(&self, call: Call) {
        self.counters[call.index()]
            .denied
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The summary, once per process: written by the first thread that
    /// gets here; every later one returns only when it is written (or
    /// after a bounded wait), so its exit cannot cut the writer short.
    pub fn report(&self) {
        if !crate::process::owns_memory() {
            return;
        }
        match self
            .state
            .compare_exchange(IDLE, WRITING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                let deadline = Instant::now() + EXIT_WRITE_LIMIT;
                if let Some(text) = self.table() {
                    write_all(&self.out, getpid(), text.as_bytes(), deadline);
                }
                self.state.store(DONE, Ordering::Release);
                futex::wake_all(&self.state);
            }
            Err(WRITING) => self.wait_for_writer(false),
            Err(_) => {}
        }
    }

    /// Waits until the report is written, at most [`EXIT_WRITE_LIMIT`] and
    /// a margin (the writer's own deadline, its last write and wake-up).
    /// With `claimed`, another thread has taken the report but may not have
    /// started it yet, so a report not yet begun is waited for too.
    fn wait_for_writer(&self, claimed: bool) {
        let deadline = Instant::now() + EXIT_WRITE_LIMIT + Duration::from_millis(100);
        loop {
            let state = self.state.load(Ordering::Acquire);
            if state == DONE || (state == IDLE && !claimed) {
                return;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            futex::wait(&self.state, state, left);
        }
    }

    /// The table, or None when the process made no socket call.
    fn table(&self) -> Option<String> {
        let title = format!("libsock stats for pid {}", getpid());
        sock_core::stats::table(&title, |call| {
            let c = &self.counters[call.index()];
            Counts {
                calls: c.calls.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
                bytes_in: c.bytes_in.load(Ordering::Relaxed),
                bytes_out: c.bytes_out.load(Ordering::Relaxed),
                denied: c.denied.load(Ordering::Relaxed),
            }
        })
    }
}

fn report_now() {
    if let Some(s) = published() {
        s.report();
    }
}

/// Reports now, if stats are on: the atexit handler (`crate::lifecycle`)
/// and the `_exit`/`_Exit` exports. False when it could not run (this
/// thread is inside libsock's own work).
pub fn report_before_exit() -> bool {
    crate::boundary::own(report_now).is_some()
}

/// The second of two threads in `exit`: waits (bounded) for the report the
/// other one has taken (`claimed`) or is writing, so that this thread's
/// exit, once its handlers are done, does not end the process under the
/// writer (see `crate::lifecycle`).
pub fn wait_for_report(claimed: bool) {
    crate::boundary::own(|| {
        if let Some(s) = published() {
            s.wait_for_writer(claimed);
        }
    });
}

/// Writes the summary to stderr or the file — in one `write(2)` when it
/// fits in PIPE_BUF, as it always does in practice, so it cannot interleave
/// with other output — giving up at `deadline`.
fn write_all(out: &Output, pid: i32, bytes: &[u8], deadline: Instant) {
    let path = out.path_for(pid as u32);
    let result = match &path {
        None => write_until(libc::STDERR_FILENO, bytes, deadline),
        Some(path) => match open_until(path, deadline) {
            Ok(fd) => {
                let r = write_until(fd, bytes, deadline);
                // SAFETY: our own descriptor, closed once, through the table.
                unsafe { crate::real::close(fd) };
                r
            }
            Err(e) => Err(e),
        },
    };
    match (result, &path) {
        (Ok(()), _) => {}
        // Telling a stuck stderr that it is stuck would block again.
        (Err(libc::ETIMEDOUT), None) => {}
        (Err(e), _) => crate::diag::warn(format_args!(
            "cannot write the stats to {}: {}",
            path.as_deref().unwrap_or("stderr"),
            crate::diag::Strerror(e)
        )),
    }
}

/// Opens the stats file for appending without ever blocking: a FIFO with
/// no reader yet is retried until `deadline` (a blocking open would wait
/// for a reader forever).
fn open_until(path: &str, deadline: Instant) -> Result<libc::c_int, libc::c_int> {
    let cpath = std::ffi::CString::new(path).map_err(|_| libc::EINVAL)?;
    loop {
        // SAFETY: a NUL-terminated path.
        let fd = unsafe {
            libc::open(
                cpath.as_ptr(),
                libc::O_WRONLY
                    | libc::O_CREAT
                    | libc::O_APPEND
                    | libc::O_CLOEXEC
                    | libc::O_NONBLOCK,
                0o644,
            )
        };
        if fd >= 0 {
            return Ok(fd);
        }
        match crate::errno::get() {
            libc::EINTR => {}
            libc::ENXIO if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            libc::ENXIO => return Err(libc::ETIMEDOUT),
            e => return Err(e),
        }
    }
}

/// Writes all of `bytes` to `fd`, each write at most PIPE_BUF bytes and
/// only once `poll` says there is room, so no write blocks for long (a
/// pipe that polls writable takes PIPE_BUF bytes at once); ETIMEDOUT once
/// `deadline` passes first.
fn write_until(fd: libc::c_int, mut bytes: &[u8], deadline: Instant) -> Result<(), libc::c_int> {
    while !bytes.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // Round up: a wait of 0 ms would spin through the last millisecond.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut p, 1, ms) } {
            0 => return Err(libc::ETIMEDOUT),
            n if n < 0 && crate::errno::get() == libc::EINTR => continue,
            n if n < 0 => return Err(crate::errno::get()),
            // Writable, or an error or hang-up the write itself will name.
            _ => {}
        }
        let chunk = &bytes[..bytes.len().min(libc::PIPE_BUF)];
        match crate::diag::write_quietly(fd, chunk) {
            Ok(n) => bytes = &bytes[n..],
            Err(libc::EINTR | libc::EAGAIN) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The two futex operations the exit report needs (process-private: a fork
/// child has its own copy of the word).
mod futex {
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    /// Sleeps while `word` holds `expected`, at most `timeout` (or until
    /// woken, or a signal); the caller re-checks the word.
    pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos().into(),
        };
        // SAFETY: FUTEX_WAIT reads the aligned word and the timespec, both
        // valid for the call; it returns at once if the word has changed.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                &raw const ts,
            )
        };
    }

    /// Wakes every thread waiting on `word`.
    pub fn wake_all(word: &AtomicU32) {
        // SAFETY: FUTEX_WAKE only uses the word's address.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                i32::MAX,
            )
        };
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

    #[test]
    fn a_later_reporter_waits_for_the_writer() {
        let s = Stats::new(Output::Stderr);
        s.state.store(WRITING, Ordering::Release);
        let t0 = Instant::now();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                s.state.store(DONE, Ordering::Release);
                futex::wake_all(&s.state);
            });
            s.report();
        });
        let waited = t0.elapsed();
        assert_eq!(s.state.load(Ordering::Acquire), DONE);
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
    }

    #[test]
    fn a_reporter_after_the_report_returns_at_once() {
        let s = Stats::new(Output::Stderr);
        s.state.store(DONE, Ordering::Release);
        s.report();
        assert_eq!(s.state.load(Ordering::Acquire), DONE);
    }

    #[test]
    fn no_table_without_socket_calls() {
        let s = Stats::new(Output::Stderr);
        s.count(Call::close, false, Dir::None, 0);
        assert!(s.table().is_none());
        s.count(Call::recv, false, Dir::In, 7);
        let text = s.table().unwrap();
        assert!(text.contains("recv") && text.lines().last().unwrap().contains("total"));
    }

    #[test]
    fn a_full_pipe_times_out_instead_of_blocking() {
        let mut fds = [-1; 2];
        // SAFETY: room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // Fill it without blocking, then make it blocking again, as a
        // program's stderr would be.
        // SAFETY: fcntl on our own descriptor.
        unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK) };
        let block = [0u8; 4096];
        while crate::diag::write_quietly(fds[1], &block).is_ok() {}
        // SAFETY: as above.
        unsafe { libc::fcntl(fds[1], libc::F_SETFL, 0) };
        let t0 = Instant::now();
        let r = write_until(fds[1], b"table", t0 + Duration::from_millis(100));
        assert_eq!(r, Err(libc::ETIMEDOUT));
        assert!(t0.elapsed() >= Duration::from_millis(100));
        // Drained a little, it takes the table.
        let mut sink = [0u8; 8192];
        // SAFETY: `sink` is writable for its length.
        assert!(unsafe { libc::read(fds[0], sink.as_mut_ptr().cast(), sink.len()) } > 0);
        assert_eq!(
            write_until(fds[1], b"table", Instant::now() + EXIT_WRITE_LIMIT),
            Ok(())
        );
        // SAFETY: our descriptors, closed once.
        unsafe {
            crate::real::close(fds[0]);
            crate::real::close(fds[1]);
        }
    }
}
