//! sockrun's kernel-enforced mode (`--kernel`; SPEC, "Kernel-enforced mode"):
//! the command runs under a seccomp filter whose socket calls sockrun — the
//! parent, the supervisor — answers through seccomp user notification.
//!
//! - [`filter`]: the seccomp program (what is supervised, refused, native);
//! - [`probe`]: whether the kernel can do it;
//! - [`notify`]: the threads receiving calls and performing them;
//! - [`emulate`]: one function per supervised call: copy, judge, perform;
//! - [`creds`]: performing a call with the caller's credentials;
//! - [`signals`]: a signal to the program while sockrun performs its call;
//! - [`sys`]: the kernel's structures, ioctl numbers and system calls.
//!
//! Start-up: the child (after fork, before exec) sets `PR_SET_NO_NEW_PRIVS`,
//! installs the filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER` (and
//! `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` where the kernel takes it:
//! [`signals`]), writes its pid, the listener's number and whether the
//! wait is killable to a pipe and waits. The parent takes the
//! listener with `pidfd_getfd` and lets the child exec. (The listener is
//! not sent over a socket with SCM_RIGHTS: once the filter is in place the
//! child's `sendmsg` is itself supervised, with no supervisor listening
//! yet.) sockrun then waits for the child and exits with its status.

pub mod creds;
pub mod emulate;
pub mod filter;
pub mod notify;
pub mod probe;
pub mod signals;
pub mod sys;

use emulate::Ctx;
use sock_core::rules::Policy;

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;

/// The child signals are forwarded to (0: none yet).
static CHILD: AtomicI32 = AtomicI32::new(0);

/// The signals a `kill` to sockrun passes on to the command.
const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Forwards a signal sent to sockrun with kill(2) to the child. A signal
/// from the terminal (SI_KERNEL: ^C, ^\) already reached the whole
/// foreground process group, the child too: not sent twice.
extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = unsafe { (*info).si_code };
    let child = CHILD.load(Ordering::Relaxed);
    if child > 0 && code != libc::SI_KERNEL {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, sig) };
    }
}

fn forward_signals() {
    for sig in FORWARDED {
        // SAFETY: an all-zero sigaction is valid; the handler only calls
        // kill and reads an atomic (async-signal-safe).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = forward as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// A pipe, both ends close-on-exec: (read, write).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both were just returned and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Writes all of `buf` (async-signal-safe).
fn write_all(fd: RawFd, buf: &[u8]) -> bool {
    // SAFETY: `buf` is readable for its length.
    unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) == buf.len() as isize }
}

/// Reads exactly `buf.len()` bytes, retrying EINTR: false at EOF or error.
fn read_exact(fd: RawFd, buf: &mut [u8]) -> bool {
    let mut at = 0;
    while at < buf.len() {
        // SAFETY: `buf[at..]` is writable for its length.
        let r = unsafe { libc::read(fd, buf[at..].as_mut_ptr().cast(), buf.len() - at) };
        match r {
            n if n > 0 => at += n as usize,
            -1 if sys::errno() == libc::EINTR => {}
            _ => return false,
        }
    }
    true
}

/// How the start-up went wrong.
pub enum StartError {
    /// The command could not be executed (for the caller's message and
    /// status).
    Exec(io::Error),
    /// The filter could not be put in place: what failed.
    Setup(String),
}

/// The parent's half of the handshake: the child's pid, listener number
/// and killable flag (or its errno), the listener taken, the child let go.
fn take_listener(report: OwnedFd, ack: OwnedFd) -> Result<OwnedFd, String> {
    let mut msg = [0u8; 12];
    if !read_exact(report.as_raw_fd(), &mut msg) {
        return Err("the child ended before installing the filter".into());
    }
    let pid = i32::from_ne_bytes(msg[..4].try_into().unwrap_or_default());
    let fd = i32::from_ne_bytes(msg[4..8].try_into().unwrap_or_default());
    signals::set_killable(msg[8] != 0);
    if pid < 0 {
        let e = io::Error::from_raw_os_error(-pid);
        return Err(format!(
            "seccomp filter not installed: {}",
            crate::exec::describe(&e)
        ));
    }
    let listener = sys::pidfd_open(pid, 0)
        .and_then(|pidfd| sys::pidfd_getfd(&pidfd, fd))
        .map_err(|e| {
            let e = io::Error::from_raw_os_error(e);
            format!(
                "cannot take the listener from the child (pidfd_getfd): {}",
                crate::exec::describe(&e)
            )
        });
    // Let the child go either way (without a listener its supervised calls
    // fail with ENOSYS; the caller kills it).
    write_all(ack.as_raw_fd(), &[1]);
    listener
}

/// Runs `command` under the filter, supervised with `policy` (None: no
/// rules): the exit status sockrun should have.
pub fn run(mut command: Command, policy: Option<Policy>) -> Result<i32, StartError> {
    if let Some(policy) = &policy {
        for warning in emulate::filter_inherited(policy) {
            eprintln!("sockrun: warning: --kernel: {warning}");
        }
    }
    let prog = filter::program(policy.is_some());
    let setup = |e: io::Error| StartError::Setup(crate::exec::describe(&e));
    // The command runs as sockrun's user, which would let it act on sockrun
    // as on any process of its own (ptrace, pidfd_getfd, /proc/PID/mem):
    // take the listener and answer its own calls. Not dumpable, sockrun is
    // out of reach of a program without CAP_SYS_PTRACE; the child is made
    // dumpable again (for sockrun to take its listener), and exec resets it
    // for the command as usual.
    // SAFETY: plain integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(setup(io::Error::last_os_error()));
    }
    let (report_r, report_w) = pipe().map_err(setup)?;
    let (ack_r, ack_w) = pipe().map_err(setup)?;
    let (report_wfd, ack_rfd) = (report_w.as_raw_fd(), ack_r.as_raw_fd());
    let try_killable = probe::wait_killable();
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe system calls (prctl, seccomp, getpid, write,
    // read, close) on memory allocated before the fork.
    unsafe {
        command.pre_exec(move || {
            let mut msg = [0u8; 12];
            if libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            {
                msg[..4].copy_from_slice(&(-sys::errno()).to_ne_bytes());
                write_all(report_wfd, &msg);
                return Err(io::Error::from_raw_os_error(libc::EPERM));
            }
            match signals::install_filter(&prog, try_killable) {
                Ok((listener, killable)) => {
                    msg[..4].copy_from_slice(&libc::getpid().to_ne_bytes());
                    msg[4..8].copy_from_slice(&listener.to_ne_bytes());
                    msg[8] = u8::from(killable);
                    write_all(report_wfd, &msg);
                    let mut go = [0u8; 1];
                    let ok = read_exact(ack_rfd, &mut go);
                    libc::close(listener);
                    if ok {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(libc::ECANCELED))
                    }
                }
                Err(e) => {
                    msg[..4].copy_from_slice(&(-e).to_ne_bytes());
                    write_all(report_wfd, &msg);
                    Err(io::Error::from_raw_os_error(e))
                }
            }
        });
    }
    // The handshake runs beside spawn(), which returns only once the child
    // has exec'd (or failed to).
    let handshake = thread::spawn(move || take_listener(report_r, ack_w));
    let spawned = command.spawn();
    drop(report_w);
    drop(ack_r);
    let listener = handshake
        .join()
        .unwrap_or_else(|_| Err("the handshake failed".into()));
    let mut child = match (spawned, listener) {
        (Ok(child), Ok(listener)) => (child, listener),
        (Ok(mut child), Err(why)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError::Setup(why));
        }
        // The child never installed its filter: that is the story.
        (Err(_), Err(why)) => return Err(StartError::Setup(why)),
        (Err(e), Ok(_)) => return Err(StartError::Exec(e)),
    };
    CHILD.store(child.0.id() as i32, Ordering::Relaxed);
    forward_signals();
    let ctx = Arc::new(Ctx {
        listener: child.1.into_raw_fd(),
        policy,
    });
    thread::Builder::new()
        .name("sockrun-notify".into())
        .spawn(move || notify::serve(ctx))
        .map_err(|e| StartError::Setup(crate::exec::describe(&e)))?;
    let status = loop {
        match child.0.wait() {
            Ok(status) => break status,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StartError::Setup(crate::exec::describe(&e))),
        }
    };
    Ok(exit_status(status))
}

/// The status a shell gives a command that ended with `status`: its exit
/// code, or 128+N for signal N — after dying of N itself, without a core
/// dump, so sockrun's own parent sees what the command's would have.
fn exit_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return code;
    }
    let sig = status.signal().unwrap_or(0);
    if sig > 0 {
        // SAFETY: plain system calls on this process, at its end.
        unsafe {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
        }
    }
    // A signal that does not kill (or none): the shell's number.
    128 + sig
}
