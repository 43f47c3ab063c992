//! The configuration in force in this process: read once, at first use,
//! from the `LIBSOCK_*` variables (`secure_getenv`, so setuid and other
//! AT_SECURE processes ignore them), and reached from every export by one
//! predictable branch.
//!
//! No lock: the first callers race to build the settings and publish them
//! with a compare-and-swap; losers drop theirs. So a `fork` at any moment
//! leaves the child nothing half-taken.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};

use crate::config::{self, Config};
use crate::stats::{Dir, Stats};
use crate::trace::{Outcome, Record, Sink};

/// What libsock does in this process besides forwarding.
pub struct Settings {
    /// The parsed configuration.
    pub config: Config,
    /// Where trace lines go, if tracing.
    pub trace: Option<Sink>,
    /// Per-call counters, if LIBSOCK_STATS is set.
    pub stats: Option<Stats>,
    /// Access rules, if LIBSOCK_ALLOW or LIBSOCK_DENY is set.
    pub access: Option<crate::access::Access>,
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

    /// After a forwarded call `call` that returned `ret` (errno, if it
    /// failed, is still the call's): counts it and traces it. `bytes` moved
    /// `dir`; `record` describes the call and is built only when tracing.
    pub fn done(
        &self,
        call: &'static str,
        t0: u64,
        ret: i64,
        dir: Dir,
        bytes: u64,
        record: impl FnOnce() -> Record,
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
                    &record(),
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
static SETTINGS: AtomicPtr<Settings> = AtomicPtr::new(std::ptr::null_mut());

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
    let p = SETTINGS.load(Ordering::Acquire);
    // SAFETY: published once by `load` from a leaked Box, never freed.
    unsafe { p.as_ref() }
}

/// The settings if any were published, even while inside libsock's own
/// work (for the exit report, which runs inside the boundary). Not for a
/// process that does not own libsock's memory.
pub fn active_unguarded() -> Option<&'static Settings> {
    if !crate::process::owns_memory() {
        return None;
    }
    // SAFETY: published once by `load` from a leaked Box, never freed.
    unsafe { SETTINGS.load(Ordering::Acquire).as_ref() }
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
    let settings = Box::new(Settings {
        trace: config
            .trace
            .clone()
            .map(|out| Sink::new(out, config.format)),
        stats: config.stats.clone().map(Stats::new),
        // Access rules (issue 11): parsed and compiled once, here.
        access: (config.allow.is_some() || config.deny.is_some())
            .then(|| crate::access::Access::load(config.allow.as_deref(), config.deny.as_deref())),
        config,
    });
    let fresh = Box::into_raw(settings);
    match SETTINGS.compare_exchange(
        std::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => {
            // SAFETY: `fresh` is now published for the life of the process.
            if let Some(stats) = unsafe { &(*fresh).stats } {
                stats.report_at_exit();
            }
            // Access rules (issue 11): filter the inherited sockets, once.
            // SAFETY: as above.
            if let Some(access) = unsafe { &(*fresh).access } {
                access.filter_inherited();
            }
        }
        // SAFETY: another thread published first; `fresh` was never shared.
        Err(_) => drop(unsafe { Box::from_raw(fresh) }),
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
