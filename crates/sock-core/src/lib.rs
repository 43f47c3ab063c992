//! libsock's pure logic, shared by the library (`libsock.so`), `sockrun`,
//! the fuzz targets and the unit tests.
//!
//! Pure means: no exported C symbols and no system calls. Everything here
//! is plain data in, data out, so any crate can depend on it — unlike the
//! cdylib, whose exported `socket`, `close`, … would interpose on the
//! depending program itself.

pub mod config;
