//! Signals during a supervised call that blocks (SPEC, "Kernel-enforced
//! mode", "Semantics kept": a signal interrupting a blocked call gives
//! EINTR, or a restart under `SA_RESTART`).
//!
//! The supervisor performs the program's call itself, so natively the
//! signal would interrupt a wait the program is no longer in. Two halves:
//!
//! - **The program's wait.** The filter is installed with
//!   `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (Linux 5.19) where the kernel
//!   takes it ([`install_filter`]): once a receiver has read the call, the
//!   program waits killably — only a fatal signal ends the wait — so the
//!   answer sockrun sends is what the program sees. Without the flag
//!   (older kernels, or `SOCKRUN_TEST_FAIL_PROBE=wait-killable`), any
//!   signal ends the program's wait at once (the kernel returns
//!   -ERESTARTSYS for it: EINTR, or a restart under `SA_RESTART`, whatever
//!   the socket's `SO_SNDTIMEO`), and the call sockrun is performing is
//!   then stopped as below, a tick later.
//! - **The supervisor's wait** ([`watched`]). While a thread of sockrun is
//!   blocked performing a call (a connect waiting for the SYN-ACK, a send
//!   on a full buffer), a watcher thread looks, every [`TICK`], at the calls
//!   older than [`AGE`]: if the calling thread has a caught signal it can
//!   take ([`deliverable`]), or its call is no longer pending (killed, or
//!   interrupted without the flag), it interrupts the performing thread's
//!   system call with a private real-time signal whose handler has no
//!   `SA_RESTART` — again every tick until the call returns, as the first
//!   may land before the thread blocks. The call's EINTR is then answered
//!   as the kernel would ([`after_interrupt`]): -ERESTARTSYS when the
//!   socket's send timeout is infinite (`sock_intr_errno`), which the
//!   kernel turns into EINTR or a restart on the way back to the program
//!   (a restarted connect finds its socket connecting and waits again, the
//!   `EALREADY` path of `__inet_stream_connect`), EINTR when it is finite;
//!   a partial send keeps its count. -ERESTARTSYS is only answered with the
//!   signal pending for the caller (else it would reach the program as 512):
//!   with nothing pending the call is performed again, as the kernel would
//!   have gone on waiting.
//!
//! A process-directed signal is taken as the caller's only when its process
//! has one thread: with more, any other thread may take it (and the caller
//! waits on, as the kernel would let it if another thread took it).
//!
//! No cost while nothing blocks: a call registers and unregisters itself
//! (an uncontended lock each); the watcher sleeps until a call is
//! registered after it has seen none for [`PARK_AFTER`].

use super::sys;

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, Once};
use std::time::{Duration, Instant};

/// How old a call must be before the watcher looks at its caller.
pub const AGE: Duration = Duration::from_millis(2);
/// How often the watcher looks, and re-sends its interruption.
pub const TICK: Duration = Duration::from_millis(3);
/// The watcher sleeps after this long without a registered call.
pub const PARK_AFTER: Duration = Duration::from_millis(100);
/// `ERESTARTSYS` (include/linux/errno.h): never seen by a program — the
/// kernel restarts the call or makes it EINTR before returning.
pub const ERESTARTSYS: i32 = 512;
/// The most times one call is performed again after an interruption whose
/// signal was gone (a signal that keeps appearing and vanishing): then
/// EINTR.
const RETRIES: u32 = 100;

/// Whether the filter was installed with WAIT_KILLABLE_RECV.
static KILLABLE: AtomicBool = AtomicBool::new(false);

/// Notes how the filter was installed (the parent, after the handshake).
pub fn set_killable(killable: bool) {
    KILLABLE.store(killable, Ordering::Relaxed);
}

/// Whether the program waits killably for sockrun's answers.
pub fn killable() -> bool {
    KILLABLE.load(Ordering::Relaxed)
}

/// Installs `prog` with a listener, with `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`
/// if `try_killable` and the kernel takes it (EINVAL before Linux 5.19: then
/// without): the listener's number and whether the flag was taken.
/// Async-signal-safe (called between fork and exec).
pub fn install_filter(
    prog: &[sock_core::rules::bpf::SockFilter],
    try_killable: bool,
) -> Result<(RawFd, bool), i32> {
    let flags = sys::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if try_killable {
        match sys::install_filter(prog, flags | sys::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
            Ok(fd) => return Ok((fd, true)),
            Err(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    sys::install_filter(prog, flags).map(|fd| (fd, false))
}

/// The signal lines of a thread's `/proc/.../status`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SigState {
    /// `SigPnd`: pending for this thread.
    pub thread: u64,
    /// `ShdPnd`: pending for its process.
    pub shared: u64,
    /// `SigBlk`: its blocked mask.
    pub blocked: u64,
    /// `SigCgt`: signals with a handler.
    pub caught: u64,
    /// `Threads`: how many threads its process has.
    pub threads: u32,
}

/// Reads the signal lines of a status file: None if one is missing.
pub fn parse_status(status: &str) -> Option<SigState> {
    let mut s = SigState::default();
    let mut seen = 0u8;
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let hex = || u64::from_str_radix(value.trim(), 16).ok();
        match key {
            "SigPnd" => (s.thread, seen) = (hex()?, seen | 1),
            "ShdPnd" => (s.shared, seen) = (hex()?, seen | 2),
            "SigBlk" => (s.blocked, seen) = (hex()?, seen | 4),
            "SigCgt" => (s.caught, seen) = (hex()?, seen | 8),
            "Threads" => (s.threads, seen) = (value.trim().parse().ok()?, seen | 16),
            _ => {}
        }
    }
    (seen == 31).then_some(s)
}

/// The signals that would interrupt the thread's blocked call natively and
/// that it will certainly take when its call returns: pending for it (the
/// process's own only when it is the process's one thread), not blocked,
/// and caught — an ignored or default signal never interrupts a call (a
/// fatal one kills, which ends the call anyway).
pub fn deliverable(s: &SigState) -> u64 {
    let shared = if s.threads == 1 { s.shared } else { 0 };
    (s.thread | shared) & !s.blocked & s.caught
}

/// Thread `tid`'s signal lines (None if its status cannot be read: it is
/// gone).
pub fn state(tid: libc::pid_t) -> Option<SigState> {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| parse_status(&s))
}

/// Whether thread `tid` has a [`deliverable`] signal.
fn pending_for(tid: libc::pid_t) -> bool {
    state(tid).is_some_and(|s| deliverable(&s) != 0)
}

/// What to do with a call that returned EINTR because sockrun interrupted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer with this errno.
    Fail(i32),
    /// Perform it again: nothing interrupts it natively.
    Again,
}

/// The answer to a call sockrun interrupted (its own call returned EINTR):
/// `valid` whether the program's call is still pending, `pending` whether
/// a [`deliverable`] signal is pending for the caller, `infinite` whether
/// the socket's send timeout is infinite (`sock_intr_errno`).
pub fn after_interrupt(valid: bool, pending: bool, infinite: bool) -> Verdict {
    match (valid, pending, infinite) {
        // Nobody waits for the answer (it will not be delivered).
        (false, _, _) => Verdict::Fail(libc::EINTR),
        (true, true, true) => Verdict::Fail(ERESTARTSYS),
        (true, true, false) => Verdict::Fail(libc::EINTR),
        (true, false, _) => Verdict::Again,
    }
}

/// Whether socket `fd`'s `SO_SNDTIMEO` is infinite (zero), as the kernel's
/// blocking waits read it (true if it cannot be read).
fn infinite_timeout(fd: RawFd) -> bool {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: `tv` and `len` are valid for the kernel to write.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&raw mut tv).cast(),
            &mut len,
        )
    };
    r != 0 || (tv.tv_sec == 0 && tv.tv_usec == 0)
}

/// A call being performed.
struct Entry {
    key: u64,
    listener: RawFd,
    id: u64,
    /// The program's thread.
    caller: libc::pid_t,
    /// sockrun's thread blocked in the call.
    worker: libc::pid_t,
    since: Instant,
    /// Interrupted (and to be again each tick until it returns).
    kick: bool,
}

struct Registry {
    entries: Vec<Entry>,
    next: u64,
    /// The watcher sleeps until a call is registered.
    parked: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    entries: Vec::new(),
    next: 0,
    parked: false,
});
static WAKE: Condvar = Condvar::new();
static START: Once = Once::new();

/// The private signal that interrupts a performing thread.
fn interrupt_signal() -> libc::c_int {
    libc::SIGRTMIN() + 6
}

extern "C" fn interrupted(_: libc::c_int) {}

/// Installs the interrupting signal's handler (without `SA_RESTART`: the
/// interrupted call returns EINTR) and starts the watcher.
fn start() {
    // SAFETY: an all-zero sigaction is valid; the handler does nothing.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = interrupted as *const () as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(interrupt_signal(), &sa, std::ptr::null_mut());
    }
    let _ = std::thread::Builder::new()
        .name("sockrun-signals".into())
        .spawn(watch);
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn register(listener: RawFd, id: u64, caller: libc::pid_t) -> u64 {
    START.call_once(start);
    // By its system call: glibc's wrapper is 2.30, above sockrun's floor.
    // SAFETY: gettid cannot fail.
    let worker = unsafe { libc::syscall(libc::SYS_gettid) } as libc::pid_t;
    let mut r = lock();
    r.next += 1;
    let key = r.next;
    r.entries.push(Entry {
        key,
        listener,
        id,
        caller,
        worker,
        since: Instant::now(),
        kick: false,
    });
    if r.parked {
        r.parked = false;
        WAKE.notify_one();
    }
    key
}

/// Removes the call `key`: whether it was interrupted. No interruption is
/// sent to its thread after this.
fn unregister(key: u64) -> bool {
    let mut r = lock();
    match r.entries.iter().position(|e| e.key == key) {
        Some(at) => r.entries.swap_remove(at).kick,
        None => false,
    }
}

/// The watcher: see the module's documentation.
fn watch() {
    let mut idle = Instant::now();
    loop {
        let due: Vec<(u64, RawFd, u64, libc::pid_t)> = {
            let mut r = lock();
            if r.entries.is_empty() && idle.elapsed() >= PARK_AFTER {
                r.parked = true;
                r = WAKE
                    .wait_while(r, |r| r.parked)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if !r.entries.is_empty() {
                idle = Instant::now();
            }
            r.entries
                .iter()
                .filter(|e| !e.kick && e.since.elapsed() >= AGE)
                .map(|e| (e.key, e.listener, e.id, e.caller))
                .collect()
        };
        // Read outside the lock: the calls' own registrations never wait
        // for /proc.
        let decided: Vec<u64> = due
            .into_iter()
            // Without a killable wait a signal ends the caller's wait
            // itself: its call is then no longer pending.
            .filter(|&(_, listener, id, caller)| {
                !sys::id_valid(listener, id) || (killable() && pending_for(caller))
            })
            .map(|(key, ..)| key)
            .collect();
        {
            let mut r = lock();
            // SAFETY: getpid cannot fail.
            let pid = unsafe { libc::getpid() };
            for e in r.entries.iter_mut() {
                e.kick |= decided.contains(&e.key);
                if e.kick {
                    // SAFETY: plain integer arguments; the thread is
                    // sockrun's, blocked in the call (it unregisters under
                    // this lock before anything else).
                    unsafe { libc::syscall(libc::SYS_tgkill, pid, e.worker, interrupt_signal()) };
                }
            }
        }
        std::thread::sleep(TICK);
    }
}

/// Performs `f` — the blocking part of the program's call `id` (thread
/// `caller`) on our socket `fd` — on this thread, interrupted when the
/// caller would natively have been (see the module's documentation): its
/// result, or the errno to answer with.
pub fn watched(
    listener: RawFd,
    id: u64,
    caller: libc::pid_t,
    fd: RawFd,
    mut f: impl FnMut() -> Result<i64, i32>,
) -> Result<i64, i32> {
    for _ in 0..RETRIES {
        let key = register(listener, id, caller);
        let r = f();
        let kicked = unregister(key);
        if !kicked || r != Err(libc::EINTR) {
            // Done, or partly (a send's count), before or despite it.
            return r;
        }
        let valid = sys::id_valid(listener, id);
        let verdict = after_interrupt(valid, valid && pending_for(caller), infinite_timeout(fd));
        match verdict {
            Verdict::Fail(e) => return Err(e),
            Verdict::Again => {}
        }
    }
    Err(libc::EINTR)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tprog\nTgid:\t100\nPid:\t100\nThreads:\t1\n\
        SigQ:\t1/63419\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000002000\n\
        SigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\n\
        SigCgt:\t0000000000002000\nCapInh:\t0000000000000000\n";

    #[test]
    fn reads_the_signal_lines() {
        let s = parse_status(STATUS).unwrap();
        assert_eq!(
            s,
            SigState {
                thread: 0,
                shared: 1 << 13,
                blocked: 0,
                caught: 1 << 13,
                threads: 1,
            }
        );
        assert_eq!(parse_status("SigPnd:\t0\nShdPnd:\t0\n"), None);
        assert_eq!(
            parse_status(&STATUS.replace("SigCgt:\t0000", "SigCgt:\tzz")),
            None
        );
        // Our own status reads.
        let own = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        assert!(parse_status(&own).is_some());
    }

    #[test]
    fn deliverable_signals() {
        let alrm = 1u64 << (libc::SIGALRM - 1);
        let usr1 = 1u64 << (libc::SIGUSR1 - 1);
        let one = SigState {
            shared: alrm,
            caught: alrm,
            threads: 1,
            ..SigState::default()
        };
        // SIGALRM to the process, caught, one thread: the caller's.
        assert_eq!(deliverable(&one), alrm);
        // With two threads another may take it.
        assert_eq!(deliverable(&SigState { threads: 2, ..one }), 0);
        // Directed at the thread: its own whatever the threads.
        let directed = SigState {
            thread: alrm,
            shared: 0,
            threads: 4,
            ..one
        };
        assert_eq!(deliverable(&directed), alrm);
        // Blocked: not now.
        assert_eq!(
            deliverable(&SigState {
                blocked: alrm,
                ..one
            }),
            0
        );
        // Not caught (ignored, or default: ignored or fatal): never
        // interrupts a call.
        assert_eq!(
            deliverable(&SigState {
                caught: usr1,
                ..one
            }),
            0
        );
        // Nothing pending.
        assert_eq!(deliverable(&SigState { shared: 0, ..one }), 0);
    }

    #[test]
    fn answers_to_an_interrupted_call() {
        // The kernel's sock_intr_errno: -ERESTARTSYS with an infinite
        // SO_SNDTIMEO, else -EINTR.
        assert_eq!(
            after_interrupt(true, true, true),
            Verdict::Fail(ERESTARTSYS)
        );
        assert_eq!(
            after_interrupt(true, true, false),
            Verdict::Fail(libc::EINTR)
        );
        // No signal pending: never ERESTARTSYS (it would reach the
        // program as 512); the call goes on.
        assert_eq!(after_interrupt(true, false, true), Verdict::Again);
        assert_eq!(after_interrupt(true, false, false), Verdict::Again);
        // The caller is gone or was interrupted already: no answer lands.
        assert_eq!(
            after_interrupt(false, true, true),
            Verdict::Fail(libc::EINTR)
        );
        assert_eq!(
            after_interrupt(false, false, true),
            Verdict::Fail(libc::EINTR)
        );
    }

    #[test]
    fn an_interruption_ends_a_blocked_call() {
        // A thread of ours blocked reading a pipe, registered as a call
        // whose caller is gone (a listener of -1: ID_VALID fails): the
        // watcher interrupts it within a few ticks, and the answer is EINTR.
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let t0 = Instant::now();
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        let r = watched(-1, 1, me, fds[0], || {
            let mut b = [0u8; 1];
            // SAFETY: `b` is writable for one byte.
            let n = unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), 1) };
            if n < 0 {
                Err(sys::errno())
            } else {
                Ok(n as i64)
            }
        });
        assert_eq!(r, Err(libc::EINTR));
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
        // SAFETY: both were just opened here.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
