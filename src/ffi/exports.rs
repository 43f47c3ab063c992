//! The standard socket calls, exported under glibc's names: generated, one
//! skeleton per entry of the table of calls (`sock_core::for_each_call!`).
//!
//! Each export makes one decision — is anything configured? — and with
//! nothing configured it is the next definition itself: the arguments go
//! through untouched, the kernel decides, and the result and errno are
//! glibc's. With configuration the call goes to its function in
//! [`super::bsd`], which forwards it exactly once and around it applies
//! policy and counts and traces it, inside libsock's boundary with errno
//! preserved. The table's `SHAPE` picks the skeleton:
//!
//! - `configured`: the next definition, or `bsd::NAME(settings, args…)`;
//! - `always`: `bsd::NAME(settings or None, args…)` on every call (close
//!   and dup*, whose closes are recorded even with nothing configured);
//! - `own`: `bsd::NAME(args…)` (the exits, which report the stats first).
//!
//! Under `cfg(test)` every export is renamed `libsock_test_NAME` (see
//! [`super`]). Each export's signature is checked at compile time against
//! the table of next definitions, whose signatures are checked against the
//! libc crate's.
//!
//! # Safety
//! Every export has the contract of the C function of the same name: pointer
//! arguments are the caller's and are handed on unchanged.

use libc::{
    c_int, c_uint, c_void, mmsghdr, msghdr, size_t, sockaddr, socklen_t, ssize_t, timespec,
};

use super::bsd;
use crate::{real, settings};

macro_rules! exports {
    ($(
        $(#[$meta:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;
            counts $counts:ident; $kind:ident; $shape:ident; checked $by:ident since $since:literal
            => $fallback:expr;
    )*) => {
        $(
            exports!(@export $shape; $(#[$meta])* $name($($arg: $ty),*) -> $ret);
            // Each export has exactly the signature of the definition it forwards to.
            const _: real::sig::$name = $name;
        )*
    };
    (@export $shape:ident; $(#[$meta:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        $(#[$meta])*
        ///
        /// # Safety
        /// As for the C function.
        #[cfg_attr(not(test), unsafe(export_name = stringify!($name)))]
        #[cfg_attr(test, unsafe(export_name = concat!("libsock_test_", stringify!($name))))]
        #[allow(non_snake_case)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            exports!(@body $shape; $name($($arg),*))
        }
    };
    (@body configured; $name:ident($($arg:ident),*)) => {
        match settings::active() {
            // SAFETY: forwarded unchanged; the caller's contract is the C function's.
            None => unsafe { real::$name($($arg),*) },
            // SAFETY: the same contract; `bsd` forwards the call exactly once.
            Some(s) => unsafe { bsd::$name(s, $($arg),*) },
        }
    };
    (@body always; $name:ident($($arg:ident),*)) => {
        // SAFETY: the caller's contract is the C function's; `bsd` forwards
        // the call exactly once.
        unsafe { bsd::$name(settings::active(), $($arg),*) }
    };
    (@body own; $name:ident($($arg:ident),*)) => {
        // SAFETY: the caller's contract is the C function's; `bsd` forwards
        // the call exactly once.
        unsafe { bsd::$name($($arg),*) }
    };
}

sock_core::for_each_call!(exports);
