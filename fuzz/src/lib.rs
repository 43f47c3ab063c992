//! The pure parts of libsock, compiled as they are (`#[path]` into ../src)
//! under the same module names as in the library, so every `crate::…` path
//! inside them resolves here; plus the checks the fuzz targets run.
//!
//! libsock itself is a cdylib only (an rlib would carry its exported
//! `socket`, `close`, … into any Rust binary linking it), so it cannot be a
//! dependency. This crate is not interposed: the stand-ins below call libc.

#![allow(dead_code)]

#[path = "../../src/addr.rs"]
pub mod addr;
pub use sock_core::config;
#[path = "../../src/diag.rs"]
pub mod diag;
#[path = "../../src/errno.rs"]
pub mod errno;
#[path = "../../src/names.rs"]
pub mod names;
#[path = "../../src/sockset.rs"]
pub mod sockset;
#[path = "../../src/trace.rs"]
pub mod trace;

/// Stand-in for the library's `selector`: sockset.rs names the type only.
pub mod selector {
    /// The wait state; never created here.
    pub struct Selector;
}

/// Stand-in for the library's table of next definitions: this binary is not
/// interposed, so libc's own `close` is the next definition.
pub mod real {
    /// `close(2)`.
    ///
    /// # Safety
    /// As `close(2)`: `fd` must be the caller's to close.
    #[allow(clippy::disallowed_methods)] // the stand-in for the table is libc itself
    pub unsafe fn close(fd: libc::c_int) -> libc::c_int {
        // SAFETY: forwarded as is; the caller owns `fd`.
        unsafe { libc::close(fd) }
    }
}

pub mod check;
