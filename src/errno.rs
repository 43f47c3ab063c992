//! The caller's errno: libsock's own work must never change what the caller
//! sees, so anything libsock does on its own runs under an [`ErrnoGuard`].

use libc::c_int;

/// The calling thread's errno.
pub fn get() -> c_int {
    // SAFETY: __errno_location always returns a valid pointer to this
    // thread's errno.
    unsafe { *libc::__errno_location() }
}

/// Sets the calling thread's errno.
pub fn set(value: c_int) {
    // SAFETY: as in `get`; the location is writable and thread-local.
    unsafe { *libc::__errno_location() = value }
}

/// Saves errno when created and restores it when dropped.
#[must_use = "errno is restored when the guard is dropped"]
pub struct ErrnoGuard(c_int);

impl ErrnoGuard {
    /// Remembers the current errno.
    pub fn save() -> Self {
        ErrnoGuard(get())
    }
}

impl Drop for ErrnoGuard {
    fn drop(&mut self) {
        set(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_restores_errno() {
        set(libc::EAGAIN);
        {
            let _saved = ErrnoGuard::save();
            set(libc::EBADF);
            assert_eq!(get(), libc::EBADF);
        }
        assert_eq!(get(), libc::EAGAIN);
    }
}
