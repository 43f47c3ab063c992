//! The checks the fuzz targets run, over libsock's pure logic in the
//! `sock-core` crate (a dependency like any other: the library itself is a
//! cdylib, whose exported `socket`, `close`, … would interpose on this
//! binary).

pub mod check;
