//! The peer the kernel reaches: a destination read as Linux reads it.
#![no_main]
// fuzz_target! opens its debug file with std::fs::File; this binary is not interposed.
#![allow(clippy::disallowed_types)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_fuzz::check::dest::run(data));
