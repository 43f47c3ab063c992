//! sockaddr decoding and encoding: every family, every length.
#![no_main]
// fuzz_target! opens its debug file with std::fs::File; this binary is not interposed.
#![allow(clippy::disallowed_types)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_fuzz::check::addr::run(data));
