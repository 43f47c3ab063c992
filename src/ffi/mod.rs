//! The `extern "C"` layer: thin, one decision and one action per export.
//!
//! [`exports`] exports the standard socket calls under glibc's names,
//! generated from the table of calls; [`bsd`] is what libsock does around
//! each of them when something is configured. Under `cfg(test)` those
//! exports are renamed `libsock_test_<name>`: the unit-test binary links the
//! crate, and with the real names every socket its std opens (or the test
//! harness's own `close`) would go through libsock instead of glibc. [`api`]
//! is libsock's own API, declared in `<sock.h>`.

pub mod api;
pub mod bsd;
pub mod exports;
pub mod sockset;
