//! `sock_core::rules::parse` and the decision: the access rules' grammar.
#![no_main]
// fuzz_target! opens its debug file with std::fs::File; this binary is not interposed.
#![allow(clippy::disallowed_types)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_fuzz::check::rules::run(data));
