//! libsock's own messages to the user: one line on stderr, written with a
//! single `write(2)` from a stack buffer, so it neither allocates (it may run
//! while the host's allocator or the dynamic linker is mid-call) nor
//! interleaves with other threads' or processes' lines.

use std::fmt::{self, Write};

use sock_core::line::LineBuf;

/// Writes `libsock: <message>` as one line on stderr. errno is preserved.
pub fn warn(message: fmt::Arguments<'_>) {
    let _errno = crate::errno::ErrnoGuard::save();
    let mut line = LineBuf::new();
    // LineBuf::write_str never fails; a Display impl that does just ends the text early.
    let _ = line.write_str("libsock: ");
    let _ = line.write_fmt(message);
    let bytes = line.finish_line();
    // A failed or short write to stderr is not the host program's problem.
    let _ = write_quietly(libc::STDERR_FILENO, bytes);
}

/// An errno's message (nix's table, glibc's English texts): formatting it
/// allocates nothing and reads no locale, unlike `std::io::Error`'s Display
/// or `strerror_r`.
pub struct Strerror(pub libc::c_int);

impl fmt::Display for Strerror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match nix::errno::Errno::from_raw(self.0) {
            nix::errno::Errno::UnknownErrno => write!(f, "errno {}", self.0),
            e => write!(f, "{} (errno {})", e.desc(), self.0),
        }
    }
}

/// `write(2)` to a descriptor that cannot raise SIGPIPE (a regular file);
/// errno is preserved, a failure's errno returned.
pub fn write_plain(fd: libc::c_int, bytes: &[u8]) -> Result<usize, libc::c_int> {
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: `bytes` is valid for its length.
    let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    usize::try_from(n).map_err(|_| crate::errno::get())
}

/// `write(2)` of libsock's own output (a message, a trace line, the stats)
/// that never raises SIGPIPE: a program whose stderr is a closed pipe must
/// not be killed by libsock's writing to it. SIGPIPE is blocked for the
/// write and, if the write raised it, taken back — unless the program had
/// one pending already. errno is preserved; a failure's errno is returned.
pub fn write_quietly(fd: libc::c_int, bytes: &[u8]) -> Result<usize, libc::c_int> {
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: signal-set operations on local, initialised sets; the write
    // reads `bytes` for its length only.
    unsafe {
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut old);
        libc::sigpending(&mut pending);
        let was_pending = libc::sigismember(&pending, libc::SIGPIPE) == 1;
        let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        let error = crate::errno::get();
        if n < 0 && error == libc::EPIPE && !was_pending {
            let now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&pipe, std::ptr::null_mut(), &now);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        usize::try_from(n).map_err(|_| error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_raises_no_sigpipe() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: closing the read end we own, through the table.
        unsafe { crate::real::close(fds[0]) };
        // A SIGPIPE would end the test process.
        assert_eq!(write_quietly(fds[1], b"x"), Err(libc::EPIPE));
        // SAFETY: as above.
        unsafe { crate::real::close(fds[1]) };
    }

    #[test]
    fn messages() {
        assert_eq!(
            Strerror(libc::EMFILE).to_string(),
            "Too many open files (errno 24)"
        );
        assert_eq!(Strerror(0).to_string(), "errno 0");
        assert_eq!(Strerror(100000).to_string(), "errno 100000");
    }

    #[test]
    fn short_line() {
        let mut line = LineBuf::new();
        write!(line, "bind {}", 3).unwrap();
        assert_eq!(line.finish_line(), b"bind 3\n");
    }
}
