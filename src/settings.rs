//! The configuration in force in this process: read once, at first use,
//! from the `LIBSOCK_*` variables (`secure_getenv`, so setuid and other
//! AT_SECURE processes ignore them), and reached from every export by one
//! predictable branch.
//!
//! No lock: the first callers race to build the settings and publish them
//! with a compare-and-swap (`once_cell::race::OnceBox`); losers drop theirs. So a `fork` at any moment
//! leaves the child nothing half-taken.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use once_cell::race::OnceBox;

use libc::c_int;

use crate::access;
use crate::stats::{Dir, Stats};
use crate::trace::Sink;
use sock_core::Call;
use sock_core::config::{self, Config};
use sock_core::trace::{Outcome, Record, Val};

/// What libsock does in this process besides forwarding.
pub struct Settings {
    /// The parsed configuration.
    pub config: Config,
    /// Where trace lines go, if tracing.
    pub trace: Option<Sink>,
    /// Per-call counters, if LIBSOCK_STATS is set.
    pub stats: Option<Stats>,
    /// Access rules, if LIBSOCK_ALLOW or LIBSOCK_DENY is set.
    pub access: Option<access::Access>,
}

impl Settings {
    /// When a forwarded call starts: a clock reading if tracing, else 0.
    #[inline]
    pub fn start(&self) -> u64 {
        if self.trace.is_some() {
            crate::trace::monotonic_ns()
        } else {
            0
        }
    }

    /// Runs `work` with the configuration, if any socket policy is set,
    /// inside libsock's boundary (errno kept, no re-entry, no panic out).
    pub fn policy<R>(&self, work: impl FnOnce(&Config) -> R) -> Option<R> {
        if !self.config.has_policy() {
            return None;
        }
        crate::boundary::own(|| work(&self.config))
    }

    /// The program closed descriptors `first..=last` (or `dup2`ed over one):
    /// libsock's own trace file must not be one of them any more.
    pub fn descriptor_gone(&self, first: u32, last: u32) {
        if let Some(sink) = &self.trace {
            sink.forget_range(first, last);
        }
    }

    /// Fails `call` with EPERM for the access rules: counts the denial and
    /// traces the call with the rule that denied it (`record` adds its
    /// arguments). Returns -1, for the export to return.
    pub fn refuse(
        &self,
        call: Call,
        t0: u64,
        why: access::Why<'static>,
        record: impl FnOnce(Record) -> Record,
    ) -> c_int {
        if let Some(stats) = &self.stats {
            crate::boundary::own(|| stats.denied(call));
        }
        crate::errno::set(libc::EPERM);
        self.done(call, t0, -1, Dir::None, 0, |rec| {
            record(rec).out("denied_by", Val::Rule(why.0, why.1))
        });
        crate::errno::set(libc::EPERM);
        -1
    }

    /// After a forwarded call `call` that returned `ret` (errno, if it
    /// failed, is still the call's): counts it and traces it. `bytes` moved
    /// `dir`; `record` adds the call's arguments and results to its trace
    /// record, and runs only when tracing.
    pub fn done(
        &self,
        call: Call,
        t0: u64,
        ret: i64,
        dir: Dir,
        bytes: u64,
        record: impl FnOnce(Record) -> Record,
    ) {
        let failed = ret < 0;
        let errno = crate::errno::get();
        crate::boundary::own(|| {
            if let Some(stats) = &self.stats {
                stats.count(call, failed, dir, bytes);
            }
            if let Some(sink) = &self.trace {
                let micros = crate::trace::monotonic_ns().saturating_sub(t0) / 1000;
                sink.emit(
                    &record(Record::new(call)),
                    &Outcome {
                        ret,
                        errno: failed.then_some(errno),
                        micros,
                    },
                );
            }
        });
    }
}

const UNKNOWN: u8 = 0;
const INACTIVE: u8 = 1;
const ACTIVE: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
static SETTINGS: OnceBox<Settings> = OnceBox::new();

/// The settings, or None when libsock only forwards: nothing configured, or
/// this thread is already inside libsock's own work (its own calls go
/// straight to the next definitions).
#[inline(always)]
pub fn active() -> Option<&'static Settings> {
    match STATE.load(Ordering::Acquire) {
        INACTIVE => None,
        _ => active_slow(),
    }
}

#[cold]
#[inline(never)]
fn active_slow() -> Option<&'static Settings> {
    // Inside libsock's own work its calls go straight through; a vfork child
    // shares this memory and must not touch it (see process.rs).
    if crate::boundary::inside() || !crate::process::owns_memory() {
        return None;
    }
    if STATE.load(Ordering::Acquire) == UNKNOWN {
        crate::boundary::own(load);
    }
    SETTINGS.get()
}

/// Reads the environment and publishes the settings (or INACTIVE).
fn load() {
    let (config, problems) = config::parse(env);
    // Threads racing to the first call may all parse; one of them speaks.
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !problems.is_empty() && !WARNED.swap(true, Ordering::AcqRel) {
        for problem in &problems {
            crate::diag::warn(format_args!("{problem}"));
        }
    }
    if !config.is_active() {
        STATE.store(INACTIVE, Ordering::Release);
        return;
    }
    let fresh = Box::new(Settings {
        trace: config
            .trace
            .clone()
            .map(|out| Sink::new(out, config.format)),
        stats: config.stats.clone().map(Stats::new),
        // Access rules: parsed and compiled once, here.
        access: (config.allow.is_some() || config.deny.is_some())
            .then(|| access::Access::load(config.allow.as_deref(), config.deny.as_deref())),
        config,
    });
    // Under sockrun's kernel mode, the supervised calls libsock makes carry
    // the supervisor's token: traced, counted and rewritten once.
    if let Some(token) =
        env(sock_core::supervised::VAR).and_then(|v| sock_core::supervised::parse(&v))
    {
        crate::real::marked::set_token(token);
    }
    // Another thread may have published first: then `fresh` is dropped.
    if SETTINGS.set(fresh).is_ok() {
        if let Some(stats) = SETTINGS.get().and_then(|s| s.stats.as_ref()) {
            crate::lifecycle::count_until_exit(stats);
        }
        // The sockets the process inherited get the access filter, once.
        if let Some(access) = SETTINGS.get().and_then(|s| s.access.as_ref()) {
            access.filter_inherited();
        }
    }
    STATE.store(ACTIVE, Ordering::Release);
}

/// A variable's value, as `secure_getenv` gives it (None under AT_SECURE).
fn env(name: &str) -> Option<String> {
    let mut cname = [0u8; 64];
    let bytes = name.as_bytes();
    if bytes.len() >= cname.len() {
        return None;
    }
    cname[..bytes.len()].copy_from_slice(bytes);
    unsafe extern "C" {
        /// getenv, but NULL in AT_SECURE (setuid, setgid, capability) processes.
        fn secure_getenv(name: *const std::ffi::c_char) -> *mut std::ffi::c_char;
    }
    // SAFETY: `cname` is NUL-terminated; the result, if not null, is a
    // NUL-terminated string owned by the environment, copied at once.
    let value = unsafe { secure_getenv(cname.as_ptr().cast()) };
    if value.is_null() {
        return None;
    }
    // SAFETY: as above.
    let value = unsafe { std::ffi::CStr::from_ptr(value) };
    Some(value.to_string_lossy().into_owned())
}
