//! The boundary around libsock's own logic.
//!
//! Forwarded calls never pass through here (a side effect must not run
//! twice); what does is the work libsock adds on top: resolving symbols,
//! reporting problems, and later tracing and policy. [`own`] runs such work
//! with three promises: it is not re-entered on the same thread (a call that
//! comes back into libsock from inside it is told so and forwards directly),
//! it leaves errno as it found it, and a panic stops at the boundary.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::errno::ErrnoGuard;

thread_local! {
    // const-initialised, no destructor: no lazy TLS registration, which could
    // allocate and so re-enter an interposed allocator.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// True while this thread is running libsock's own logic.
pub fn inside() -> bool {
    INSIDE.with(Cell::get)
}

struct Inside;

impl Inside {
    fn enter() -> Option<Inside> {
        INSIDE.with(|flag| (!flag.replace(true)).then_some(Inside))
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.with(|flag| flag.set(false));
    }
}

/// Runs libsock's own `work`, or returns `None` without running it when this
/// thread is already inside libsock's own logic or when `work` panicked.
/// errno is the same afterwards as before.
pub fn own<R>(work: impl FnOnce() -> R) -> Option<R> {
    let _errno = ErrnoGuard::save();
    let _inside = Inside::enter()?;
    catch_unwind(AssertUnwindSafe(work)).ok()
}

/// Runs an entry point of libsock's own C API: a panic stops here, is
/// reported once on stderr, and the call returns `on_panic` with errno
/// ENOTRECOVERABLE. Not a re-entrancy guard: a signal handler may call the
/// API while the thread is inside it.
pub fn api<R>(on_panic: R, work: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(r) => r,
        Err(_) => {
            crate::diag::warn(format_args!(
                "internal error (a panic) in libsock's API; the call fails"
            ));
            crate::errno::set(libc::ENOTRECOVERABLE);
            on_panic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno;

    #[test]
    fn runs_work_and_keeps_errno() {
        errno::set(libc::ENOTSOCK);
        let r = own(|| {
            errno::set(libc::EINVAL);
            7
        });
        assert_eq!(r, Some(7));
        assert_eq!(errno::get(), libc::ENOTSOCK);
        assert!(!inside());
    }

    #[test]
    fn refuses_reentry() {
        let outer = own(|| {
            assert!(inside());
            own(|| 1)
        });
        assert_eq!(outer, Some(None));
    }

    #[test]
    fn api_turns_a_panic_into_the_failure_value() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = api(-1, || -> i32 { panic!("boom") });
        std::panic::set_hook(hook);
        assert_eq!(r, -1);
        assert_eq!(errno::get(), libc::ENOTRECOVERABLE);
        assert_eq!(api(-1, || 5), 5);
    }

    #[test]
    fn stops_a_panic() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = own(|| -> i32 { panic!("boom") });
        std::panic::set_hook(hook);
        assert_eq!(r, None);
        assert!(!inside(), "the flag is cleared after a panic");
    }
}
