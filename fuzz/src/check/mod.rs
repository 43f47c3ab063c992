//! What each fuzz target checks. Every function takes the raw fuzz input and
//! panics (a libFuzzer crash) when libsock's logic breaks a rule.

pub mod addr;
pub mod config;
pub mod dest;
pub mod rules;
pub mod rules_bpf;
pub mod sockset;
pub mod trace;
