//! The wait behind `sockset_select`: select(2)'s answers at epoll's cost.
//!
//! A select loop hands over the same descriptors round after round. The
//! selector keeps one epoll instance per first set and, each round, compares
//! the request with what that instance already holds, word by word: an
//! unchanged round makes no `epoll_ctl` call at all (each costs ~650 ns per
//! descriptor, more than `poll` spends), so the round costs one
//! `epoll_wait`.
//!
//! What select(2) means and epoll does not, and how it is bridged:
//! - A number closed and reused looks unchanged. libsock sees closes
//!   ([`crate::closes`]) and re-registers what was closed since. A dup that
//!   keeps the old file alive leaves a "ghost" registration: every event
//!   carries the close count it was registered under, and an event from an
//!   older count rebuilds the instance.
//! - EPOLLHUP/EPOLLERR cannot be masked. A member only of the write or except
//!   set is registered edge-triggered, so a hangup it cannot report fires once
//!   instead of waking every wait; when it is reported ready it is re-armed
//!   (EPOLL_CTL_MOD re-evaluates readiness), which keeps select's level
//!   semantics. Read-set members are level-triggered: every event is a
//!   readable one for them.
//! - epoll refuses regular files (EPERM) that select reports ready for
//!   reading and writing: those members are answered without epoll.
//! - A forked child shares the parent's instance: the child makes its own.
//! - The event buffer holds every registered member, so all ready ones are
//!   reported at once.
//! - The epoll instance is a descriptor in the program's table
//!   ([`crate::own`]): a member naming it (or any of libsock's own) is
//!   EBADF, and a program that closes it (a close loop, `close_range`,
//!   `dup2` over it) costs a new instance, never a wrong answer: a seen
//!   close moves the instance's token, an unseen one shows as EBADF or
//!   EINVAL from libsock's own `epoll_ctl`/`epoll_wait`.
//!
//! Where libsock cannot see closes — loaded through ctypes, where the
//! program's `close` is glibc's — the epoll shortcut is unsafe, and the wait
//! is a `ppoll` over the members instead: correct, with no FD_SETSIZE limit,
//! at poll's cost.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use libc::{c_int, epoll_event};
use once_cell::race::OnceBool;

use crate::closes;
use crate::own::{self, Held};
use sock_core::sockset::{Bits, Errno};

const READ: u32 = (libc::EPOLLIN | libc::EPOLLRDNORM | libc::EPOLLRDBAND) as u32;
const WRITE: u32 = (libc::EPOLLOUT | libc::EPOLLWRNORM | libc::EPOLLWRBAND) as u32;
const EXCEPT: u32 = libc::EPOLLPRI as u32;
/// What select(2) counts as readable, writable, exceptional (Linux's
/// POLLIN_SET, POLLOUT_SET, POLLEX_SET).
const READABLE: u32 = READ | (libc::EPOLLHUP | libc::EPOLLERR) as u32;
const WRITABLE: u32 = WRITE | libc::EPOLLERR as u32;
const EXCEPTIONAL: u32 = EXCEPT;

/// Which of the three sets: read, write, except.
const SETS: usize = 3;

/// How the selector waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A persistent epoll instance; needs closes to be seen.
    Epoll,
    /// `ppoll` over the members every round.
    Poll,
}

impl Backend {
    /// Epoll when libsock sees this process's closes (the program's `close`
    /// is libsock's: linked or preloaded), poll otherwise.
    pub fn for_process() -> Backend {
        static SEES_CLOSES: OnceBool = OnceBool::new();
        let seen = SEES_CLOSES.get_or_init(|| {
            // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the
            // program's global scope, as the program's own calls do.
            let close = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"close".as_ptr()) };
            !close.is_null() && crate::real::is_libsock(close)
        });
        if seen { Backend::Epoll } else { Backend::Poll }
    }
}

/// Why a wait failed.
enum Failure {
    /// Report this errno, sets unchanged.
    Errno(Errno),
    /// epoll cannot serve this request (e.g. the watch limit); poll can.
    UsePoll,
    /// The epoll instance is gone: the program closed its number (or put
    /// another file there). A new one serves the round.
    Lost,
}

/// How many times one wait replaces a lost epoll instance before it gives
/// the round to poll (a program closing libsock's numbers in a loop).
const LOST_RETRIES: u32 = 3;

/// The wait state of one first set.
pub struct Selector {
    backend: Backend,
    /// The epoll instance, once made.
    epoll: Option<Held>,
    fork_generation: u64,
    seen_closes: u64,
    /// What the epoll instance holds, per set.
    registered: [Vec<u64>; SETS],
    /// Members epoll refused (EPERM: regular files): always ready.
    refused: Vec<u64>,
    /// Close count of each registered descriptor when it was registered.
    close_count: Vec<u32>,
    /// Per group of 64 descriptors (a word of bits), the group's close count
    /// when its members were last checked against `close_count`.
    group_count: Vec<u32>,
    members: usize,
    /// Edge-triggered members reported ready last round: re-arm them.
    rearm: Vec<c_int>,
    events: Vec<epoll_event>,
    pollfds: Vec<libc::pollfd>,
    /// ppoll rounds left to wait without the non-blocking probe: after a
    /// probe that found nothing, the next few rounds skip it (see
    /// `wait_poll`).
    probe_skip: u8,
    /// This round's request and answer, per set.
    pub(crate) request: [Vec<u64>; SETS],
    pub(crate) answer: [Vec<u64>; SETS],
}

impl Selector {
    /// A selector for this process's backend.
    pub fn new() -> Selector {
        Selector::with_backend(Backend::for_process())
    }

    /// A selector with the given backend.
    pub fn with_backend(backend: Backend) -> Selector {
        if backend == Backend::Epoll {
            closes::start_tracking();
        }
        Selector {
            backend,
            epoll: None,
            fork_generation: crate::process::forks(),
            seen_closes: closes::total(),
            registered: Default::default(),
            refused: Vec::new(),
            close_count: Vec::new(),
            group_count: Vec::new(),
            members: 0,
            rearm: Vec::new(),
            events: Vec::new(),
            pollfds: Vec::new(),
            probe_skip: 0,
            request: Default::default(),
            answer: Default::default(),
        }
    }

    /// Waits for the members of `self.request` and fills `self.answer` with
    /// the ready ones; returns how many (set, descriptor) pairs are ready.
    /// `None` waits forever. errno is left as it was.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<usize, Errno> {
        let _errno = crate::errno::ErrnoGuard::save();
        let deadline = timeout.map(|t| Instant::now().checked_add(t));
        let deadline = match deadline {
            // Too far to represent: the same as forever.
            Some(None) => None,
            Some(Some(d)) => Some(d),
            None => None,
        };
        for k in 0..SETS {
            let len = self.request[k].len();
            self.answer[k].clear();
            self.answer[k].resize(len, 0);
        }
        if self.backend == Backend::Epoll {
            match self.wait_epoll(deadline) {
                Ok(n) => return Ok(n),
                Err(Failure::Errno(e)) => return Err(e),
                Err(Failure::UsePoll | Failure::Lost) => {}
            }
        }
        self.wait_poll(deadline)
    }

    fn wait_epoll(&mut self, deadline: Option<Instant>) -> Result<usize, Failure> {
        let mut lost = 0;
        loop {
            match self.sync() {
                Ok(()) => {}
                Err(Failure::Lost) => {
                    self.lose(&mut lost)?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let mut ready = self.refused_ready();
            let timeout = if ready > 0 {
                Some(Duration::ZERO)
            } else {
                remaining(deadline)
            };
            self.events
                .resize(self.members + 1, epoll_event { events: 0, u64: 0 });
            let n = match epoll_wait(self.epfd(), &mut self.events, timeout) {
                Ok(n) => n,
                // With a buffer and a valid timeout, these can only be about
                // the instance: closed, or its number now another file.
                Err(libc::EBADF | libc::EINVAL) => {
                    self.lose(&mut lost)?;
                    continue;
                }
                Err(e) => return Err(Failure::Errno(e)),
            };
            let mut ghost = false;
            for i in 0..n {
                let epoll_event { events, u64: data } = self.events[i];
                let fd = (data & 0xffff_ffff) as usize;
                if !self.is_registered(fd) || self.close_count[fd] != (data >> 32) as u32 {
                    ghost = true;
                    continue;
                }
                let hits = self.answer_event(fd, events);
                if hits > 0 && !bit(&self.registered[0], fd) {
                    self.rearm.push(fd as c_int);
                }
                ready += hits;
            }
            if ghost {
                // Registrations of files closed under another number: only a
                // new instance is rid of them.
                self.rebuild()?;
            }
            if ready > 0 || (n == 0 && !ghost) || expired(deadline) {
                return Ok(ready);
            }
            // Only events no set asked for (an edge-triggered hangup): wait on.
        }
    }

    fn epfd(&self) -> c_int {
        self.epoll.map_or(-1, |h| h.fd)
    }

    /// The epoll instance is gone: stop holding its number (without closing
    /// it: it may be the program's now) and forget what it held; the next
    /// `sync` makes a new one. After [`LOST_RETRIES`] in one wait, poll.
    fn lose(&mut self, lost: &mut u32) -> Result<(), Failure> {
        if let Some(held) = self.epoll.take() {
            held.give_up();
        }
        self.forget_all();
        *lost += 1;
        if *lost > LOST_RETRIES {
            return Err(Failure::UsePoll);
        }
        Ok(())
    }

    /// Whether the epoll instance is gone, as far as libsock can tell
    /// without waiting on it.
    fn epoll_gone(&self) -> bool {
        self.epoll
            .is_none_or(|h| !h.intact() || !own::is_epoll(h.fd))
    }

    /// What an `epoll_ctl` error means: EBADF and EINVAL may be about the
    /// instance rather than the member.
    fn ctl_failure(&self, e: Errno) -> Failure {
        if matches!(e, libc::EBADF | libc::EINVAL) && self.epoll_gone() {
            Failure::Lost
        } else {
            Failure::Errno(e)
        }
    }

    /// Brings the epoll instance in line with `self.request`.
    fn sync(&mut self) -> Result<(), Failure> {
        if self.epoll.is_none() || self.fork_generation != crate::process::forks() {
            self.rebuild()?;
        }
        let closes = closes::total();
        if closes != self.seen_closes {
            self.seen_closes = closes;
            if !self.epoll.is_some_and(|h| h.intact()) {
                // The program closed the instance's number, or dup2'ed over it.
                return Err(Failure::Lost);
            }
            self.forget_closed();
        }
        if own::member(&self.request).is_some() {
            return Err(Failure::Errno(libc::EBADF));
        }
        let words = self
            .request
            .iter()
            .chain(&self.registered)
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        for i in 0..words {
            let changed = (0..SETS).fold(0, |acc, k| {
                acc | (word(&self.request[k], i) ^ word(&self.registered[k], i))
            });
            for b in Bits(changed) {
                self.update(i * 64 + b)?;
            }
        }
        for fd in std::mem::take(&mut self.rearm) {
            let fd = fd as usize;
            if self.is_registered(fd) && !bit(&self.refused, fd) {
                let mask = interest(&self.registered, fd);
                self.ctl(libc::EPOLL_CTL_MOD, fd, mask)
                    .map_err(|e| self.ctl_failure(e))?;
            }
        }
        Ok(())
    }

    /// Registers, re-registers or removes `fd` to match the request.
    fn update(&mut self, fd: usize) -> Result<(), Failure> {
        let want = interest(&self.request, fd);
        let have = interest(&self.registered, fd);
        if want == 0 {
            if !bit(&self.refused, fd) {
                // Fails only if the descriptor is gone, which is fine.
                let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0);
            }
            self.set_registered(fd, false);
            return Ok(());
        }
        if have != 0 {
            if !bit(&self.refused, fd) {
                match self.ctl(libc::EPOLL_CTL_MOD, fd, want) {
                    Ok(()) => {}
                    // Closed where libsock could not see it: register afresh.
                    Err(libc::ENOENT) => return self.register(fd, want),
                    Err(e) => return Err(self.ctl_failure(e)),
                }
            }
            self.set_registered(fd, true);
            return Ok(());
        }
        self.register(fd, want)
    }

    fn register(&mut self, fd: usize, mask: u32) -> Result<(), Failure> {
        if !closes::ensure(fd) || grow(&mut self.close_count, fd + 1).is_err() {
            return Err(Failure::Errno(libc::ENOMEM));
        }
        self.close_count[fd] = closes::count(fd);
        let result = match self.ctl(libc::EPOLL_CTL_ADD, fd, mask) {
            Err(libc::EEXIST) => self.ctl(libc::EPOLL_CTL_MOD, fd, mask),
            other => other,
        };
        match result {
            Ok(()) => set_bit(&mut self.refused, fd, false),
            Err(libc::EPERM) => set_bit(&mut self.refused, fd, true),
            Err(e @ (libc::EBADF | libc::EINVAL)) if self.epoll_gone() => {
                return Err(self.ctl_failure(e));
            }
            Err(e @ (libc::EBADF | libc::ENOMEM)) => return Err(Failure::Errno(e)),
            Err(_) => return Err(Failure::UsePoll),
        }
        self.set_registered(fd, true);
        Ok(())
    }

    /// Marks `fd` registered as requested (or not at all), counting members.
    fn set_registered(&mut self, fd: usize, on: bool) {
        let was = self.is_registered(fd);
        for k in 0..SETS {
            let want = on && bit(&self.request[k], fd);
            set_bit(&mut self.registered[k], fd, want);
        }
        if !on {
            set_bit(&mut self.refused, fd, false);
        }
        match (was, on) {
            (false, true) => self.members += 1,
            (true, false) => self.members -= 1,
            _ => {}
        }
    }

    fn is_registered(&self, fd: usize) -> bool {
        self.registered.iter().any(|r| bit(r, fd))
    }

    /// Drops what was closed since it was registered: the kernel dropped the
    /// registration with the file (or kept a ghost, caught by its events).
    /// Only the groups of 64 where something was closed are looked at, so a
    /// close elsewhere in the program costs a word-sized scan, not one per
    /// member.
    fn forget_closed(&mut self) {
        let words = self.registered.iter().map(Vec::len).max().unwrap_or(0);
        if grow(&mut self.group_count, words).is_err() {
            // No memory for the shortcut: check every member instead.
            self.group_count.clear();
        }
        for i in 0..words {
            let any = (0..SETS).fold(0, |acc, k| acc | word(&self.registered[k], i));
            if any == 0 {
                continue;
            }
            if let Some(seen) = self.group_count.get_mut(i) {
                // The group's count before the members': a close racing with
                // this check moves the group again and is caught next round.
                let now = closes::group_count(i);
                if *seen == now {
                    continue;
                }
                *seen = now;
            }
            for b in Bits(any) {
                let fd = i * 64 + b;
                if closes::count(fd) != self.close_count[fd] {
                    for k in 0..SETS {
                        set_bit(&mut self.registered[k], fd, false);
                    }
                    set_bit(&mut self.refused, fd, false);
                    self.members -= 1;
                }
            }
        }
    }

    /// A fresh epoll instance holding nothing. The old one is closed only
    /// if its number is still libsock's.
    fn rebuild(&mut self) -> Result<(), Failure> {
        if let Some(held) = self.epoll.take() {
            held.close();
        }
        self.forget_all();
        self.fork_generation = crate::process::forks();
        let held = own::epoll().map_err(|e| match e {
            libc::ENOMEM => Failure::Errno(libc::ENOMEM),
            _ => Failure::UsePoll,
        })?;
        self.epoll = Some(held);
        Ok(())
    }

    /// Nothing registered: the state of a new (or lost) instance.
    fn forget_all(&mut self) {
        for r in &mut self.registered {
            r.clear();
        }
        self.refused.clear();
        self.members = 0;
        self.rearm.clear();
    }

    fn ctl(&self, op: c_int, fd: usize, mask: u32) -> Result<(), Errno> {
        let data = fd as u64 | (u64::from(self.close_count.get(fd).copied().unwrap_or(0)) << 32);
        let mut ev = epoll_event {
            events: mask,
            u64: data,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        match unsafe { libc::epoll_ctl(self.epfd(), op, fd as c_int, &mut ev) } {
            0 => Ok(()),
            _ => Err(crate::errno::get()),
        }
    }

    /// Members epoll refused are ready for reading and writing, as select(2)
    /// says of regular files.
    fn refused_ready(&mut self) -> usize {
        let mut ready = 0;
        for (i, &refused) in self.refused.iter().enumerate() {
            if refused == 0 {
                continue;
            }
            for k in 0..2 {
                let hit = refused & word(&self.request[k], i);
                if let Some(w) = self.answer[k].get_mut(i) {
                    *w |= hit;
                }
                ready += hit.count_ones() as usize;
            }
        }
        ready
    }

    /// Records what `events` on `fd` answer; returns how many sets it is ready in.
    fn answer_event(&mut self, fd: usize, events: u32) -> usize {
        let mut hits = 0;
        for (k, ready_bits) in [READABLE, WRITABLE, EXCEPTIONAL].into_iter().enumerate() {
            if events & ready_bits != 0 && bit(&self.request[k], fd) {
                set_bit(&mut self.answer[k], fd, true);
                hits += 1;
            }
        }
        hits
    }

    fn wait_poll(&mut self, deadline: Option<Instant>) -> Result<usize, Errno> {
        if own::member(&self.request).is_some() {
            return Err(libc::EBADF);
        }
        self.pollfds.clear();
        let words = self.request.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..words {
            let any = (0..SETS).fold(0, |acc, k| acc | word(&self.request[k], i));
            for b in Bits(any) {
                let fd = i * 64 + b;
                let events = interest(&self.request, fd) & !(libc::EPOLLET as u32);
                self.pollfds.push(libc::pollfd {
                    fd: fd as c_int,
                    events: events as i16,
                    revents: 0,
                });
            }
        }
        // First a pass that cannot block: a poll that may block registers a
        // wait on every descriptor it scans before the first ready one (half
        // the kernel's time at thousands of idle members), one that cannot
        // registers none. Only when nothing is ready does the wait block.
        // When the probe finds nothing it was a scan for nothing, so after a
        // miss the next PROBE_BACKOFF rounds go straight to the blocking
        // wait: an idle loop pays for one probe in PROBE_BACKOFF + 1 rounds.
        const PROBE_BACKOFF: u8 = 7;
        let mut probe = remaining(deadline) != Some(Duration::ZERO) && self.probe_skip == 0;
        self.probe_skip = self.probe_skip.saturating_sub(1);
        loop {
            let ts = if probe {
                Some(timespec(Duration::ZERO))
            } else {
                remaining(deadline).map(timespec)
            };
            let tsp = ts
                .as_ref()
                .map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: `pollfds` is a valid array of its length; `tsp` is null
            // or points to `ts`; no signal mask.
            let n = unsafe {
                libc::ppoll(
                    self.pollfds.as_mut_ptr(),
                    self.pollfds.len() as libc::nfds_t,
                    tsp,
                    std::ptr::null(),
                )
            };
            if n < 0 {
                return Err(crate::errno::get());
            }
            if std::mem::take(&mut probe) && n == 0 {
                self.probe_skip = PROBE_BACKOFF;
                continue;
            }
            let mut ready = 0;
            let mut unasked = false;
            for p in &mut self.pollfds {
                if p.fd < 0 || p.revents == 0 {
                    continue;
                }
                if p.revents & libc::POLLNVAL != 0 {
                    return Err(libc::EBADF);
                }
                let fd = p.fd as usize;
                let revents = p.revents as u16 as u32;
                let mut hits = 0;
                for (k, ready_bits) in [READABLE, WRITABLE, EXCEPTIONAL].into_iter().enumerate() {
                    if revents & ready_bits != 0 && bit(&self.request[k], fd) {
                        set_bit(&mut self.answer[k], fd, true);
                        hits += 1;
                    }
                }
                if hits == 0 {
                    // A hangup on a member select would not report: poll
                    // cannot mask it, so leave the member out of this wait.
                    p.fd = -1;
                    unasked = true;
                }
                ready += hits;
            }
            if ready > 0 || !unasked || expired(deadline) {
                return Ok(ready);
            }
        }
    }
}

impl Default for Selector {
    fn default() -> Self {
        Selector::new()
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        if let Some(held) = self.epoll.take() {
            held.close();
        }
    }
}

/// The epoll interest for `fd` given per-set bits: edge-triggered unless it
/// is in the read set (see the module comment).
fn interest(sets: &[Vec<u64>; SETS], fd: usize) -> u32 {
    let (r, w, e) = (bit(&sets[0], fd), bit(&sets[1], fd), bit(&sets[2], fd));
    let mut mask = 0;
    if r {
        mask |= READ;
    }
    if w {
        mask |= WRITE;
    }
    if e {
        mask |= EXCEPT;
    }
    if mask != 0 && !r {
        mask |= libc::EPOLLET as u32;
    }
    mask
}

fn word(bits: &[u64], i: usize) -> u64 {
    bits.get(i).copied().unwrap_or(0)
}

fn bit(bits: &[u64], fd: usize) -> bool {
    word(bits, fd / 64) & (1 << (fd % 64)) != 0
}

fn set_bit(bits: &mut Vec<u64>, fd: usize, on: bool) {
    let i = fd / 64;
    if on {
        if bits.len() <= i {
            bits.resize(i + 1, 0);
        }
        bits[i] |= 1 << (fd % 64);
    } else if let Some(w) = bits.get_mut(i) {
        *w &= !(1 << (fd % 64));
    }
}

fn grow<T: Default + Clone>(v: &mut Vec<T>, len: usize) -> Result<(), ()> {
    if v.len() < len {
        v.try_reserve(len - v.len()).map_err(|_| ())?;
        v.resize(len, T::default());
    }
    Ok(())
}

fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

/// `epoll_pwait2(2)` as glibc (2.35+) declares it.
type EpollPwait2 = unsafe extern "C" fn(
    c_int,
    *mut epoll_event,
    c_int,
    *const libc::timespec,
    *const libc::sigset_t,
) -> c_int;

/// glibc's `epoll_pwait2`, looked up at run time: libsock loads on glibc
/// 2.17+ (no versioned reference above GLIBC_2.17), and a link-time
/// reference to a 2.35 function would keep it from loading on older ones.
/// Resolved with the next definitions, from the constructor (so before the
/// program can `fork`: a `dlsym` in the child of a threaded parent could
/// find the loader's lock held), or on the first wait if that did not run:
/// `UNRESOLVED`, then the function's address or `ABSENT`.
static EPOLL_PWAIT2: AtomicUsize = AtomicUsize::new(UNRESOLVED);
const UNRESOLVED: usize = 0;
const ABSENT: usize = 1;

/// Looks `epoll_pwait2` up, once (see [`EPOLL_PWAIT2`]); called by
/// `crate::lifecycle` at load. Atomics only, like the rest of that path.
pub fn resolve_epoll_pwait2() -> usize {
    let mut addr = EPOLL_PWAIT2.load(Ordering::Acquire);
    if addr == UNRESOLVED {
        // SAFETY: a NUL-terminated name; RTLD_NEXT is the library after
        // libsock (glibc), which is where the real function lives.
        let f = unsafe { libc::dlsym(libc::RTLD_NEXT, c"epoll_pwait2".as_ptr()) };
        addr = if f.is_null() { ABSENT } else { f.addr() };
        EPOLL_PWAIT2.store(addr, Ordering::Release);
    }
    addr
}

/// The resolved `epoll_pwait2`, if glibc has it.
fn epoll_pwait2_fn() -> Option<EpollPwait2> {
    let addr = resolve_epoll_pwait2();
    if addr == ABSENT {
        return None;
    }
    // SAFETY: `addr` is what dlsym returned for epoll_pwait2, whose C type
    // is `EpollPwait2`; a function pointer and a usize have the same size.
    Some(unsafe { std::mem::transmute::<usize, EpollPwait2>(addr) })
}

/// `epoll_pwait2` (nanosecond timeout) where glibc and the kernel have it,
/// else `epoll_pwait` with the timeout rounded up to a millisecond.
fn epoll_wait(
    epfd: c_int,
    events: &mut [epoll_event],
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
    let max = events.len().min(c_int::MAX as usize) as c_int;
    if !NO_PWAIT2.load(Ordering::Relaxed) {
        match epoll_pwait2_fn() {
            Some(pwait2) => {
                let ts = timeout.map(timespec);
                let tsp = ts
                    .as_ref()
                    .map_or(std::ptr::null(), |t| t as *const libc::timespec);
                // SAFETY: `events` is writable for `max` entries; `tsp` is
                // null or valid; a null sigmask leaves the mask alone.
                let n = unsafe { pwait2(epfd, events.as_mut_ptr(), max, tsp, std::ptr::null()) };
                if n >= 0 {
                    return Ok(n as usize);
                }
                let e = crate::errno::get();
                if e != libc::ENOSYS {
                    return Err(e);
                }
                NO_PWAIT2.store(true, Ordering::Relaxed);
            }
            None => NO_PWAIT2.store(true, Ordering::Relaxed),
        }
    }
    epoll_wait_ms(epfd, events, timeout)
}

/// The timeout in whole milliseconds, rounded up: a wait may end late,
/// never early. `None` waits forever (-1).
fn timeout_ms(timeout: Option<Duration>) -> c_int {
    match timeout {
        None => -1,
        Some(t) => t.as_nanos().div_ceil(1_000_000).min(c_int::MAX as u128) as c_int,
    }
}

/// The fallback wait: `epoll_pwait` (glibc 2.6) with a millisecond timeout.
fn epoll_wait_ms(
    epfd: c_int,
    events: &mut [epoll_event],
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    let max = events.len().min(c_int::MAX as usize) as c_int;
    // SAFETY: `events` is writable for `max` entries; a null sigmask leaves
    // the mask alone.
    let n = unsafe {
        libc::epoll_pwait(
            epfd,
            events.as_mut_ptr(),
            max,
            timeout_ms(timeout),
            std::ptr::null(),
        )
    };
    if n < 0 {
        Err(crate::errno::get())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real;
    use sock_core::sockset::SocketSet;

    fn pair() -> [c_int; 2] {
        let mut sv = [-1; 2];
        // SAFETY: `sv` has room for two descriptors.
        let r = unsafe { real::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
        assert_eq!(r, 0);
        sv
    }

    fn write(fd: c_int) {
        // SAFETY: a valid one-byte buffer.
        assert_eq!(unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) }, 1);
    }

    fn close(fd: c_int) {
        // SAFETY: closing a descriptor the test owns; the test's own record of
        // the close stands in for the exported close (renamed under test).
        unsafe { real::close(fd) };
        closes::closed(fd);
    }

    fn ask(sel: &mut Selector, read: &SocketSet) {
        sel.request[0].clear();
        sel.request[0].extend_from_slice(read.words());
        sel.request[1].clear();
        sel.request[2].clear();
    }

    fn both_backends(test: impl Fn(Backend)) {
        test(Backend::Poll);
        test(Backend::Epoll);
    }

    #[test]
    fn readable_member_is_answered() {
        both_backends(|backend| {
            let sv = pair();
            let idle = pair();
            let mut sel = Selector::with_backend(backend);
            let mut set = SocketSet::new(1 << 20);
            set.add_many(&[sv[0], idle[0]]).unwrap();
            ask(&mut sel, &set);
            assert_eq!(sel.wait(Some(Duration::ZERO)), Ok(0), "{backend:?}");
            write(sv[1]);
            assert_eq!(sel.wait(Some(Duration::from_secs(2))), Ok(1), "{backend:?}");
            assert!(bit(&sel.answer[0], sv[0] as usize));
            assert!(!bit(&sel.answer[0], idle[0] as usize));
            for fd in sv.into_iter().chain(idle) {
                close(fd);
            }
        });
    }

    #[test]
    fn unchanged_rounds_make_no_registration() {
        let sv = pair();
        let mut sel = Selector::with_backend(Backend::Epoll);
        let mut set = SocketSet::new(1 << 20);
        set.add(sv[0]).unwrap();
        ask(&mut sel, &set);
        sel.wait(Some(Duration::ZERO)).unwrap();
        assert_eq!(sel.members, 1);
        let epfd = sel.epfd();
        for _ in 0..3 {
            ask(&mut sel, &set);
            sel.wait(Some(Duration::ZERO)).unwrap();
        }
        assert_eq!((sel.members, sel.epfd()), (1, epfd));
        set.reset();
        ask(&mut sel, &set);
        sel.wait(Some(Duration::ZERO)).unwrap();
        assert_eq!(sel.members, 0, "a member left out is unregistered");
        close(sv[0]);
        close(sv[1]);
    }

    /// A pair moved to numbers at or above `base`, which tests running in
    /// parallel (they get the lowest free numbers) will not reuse.
    fn high_pair(base: c_int) -> [c_int; 2] {
        pair().map(|fd| {
            // SAFETY: plain descriptor operations on the test's own descriptors.
            let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, base) };
            assert!(high >= base);
            // SAFETY: as above.
            unsafe { real::close(fd) };
            high
        })
    }

    #[test]
    fn closed_member_is_ebadf_on_both_backends() {
        both_backends(|backend| {
            let sv = high_pair(if backend == Backend::Poll { 5000 } else { 6000 });
            let mut sel = Selector::with_backend(backend);
            let mut set = SocketSet::new(1 << 20);
            set.add(sv[0]).unwrap();
            ask(&mut sel, &set);
            sel.wait(Some(Duration::ZERO)).unwrap();
            close(sv[0]);
            close(sv[1]);
            ask(&mut sel, &set);
            assert_eq!(
                sel.wait(Some(Duration::ZERO)),
                Err(libc::EBADF),
                "{backend:?}"
            );
        });
    }

    /// The program closes the instance's number, where libsock sees it or
    /// not: the next wait makes a new instance and answers right.
    #[test]
    fn a_closed_instance_is_replaced_not_reported() {
        for (seen, base) in [(true, 7000), (false, 7100)] {
            let sv = high_pair(base);
            let mut sel = Selector::with_backend(Backend::Epoll);
            let mut set = SocketSet::new(1 << 20);
            set.add(sv[0]).unwrap();
            ask(&mut sel, &set);
            assert_eq!(sel.wait(Some(Duration::ZERO)), Ok(0));
            let epfd = sel.epfd();
            // SAFETY: the selector's own number, closed behind its back as
            // a program would.
            unsafe { real::close(epfd) };
            if seen {
                closes::closed(epfd);
            }
            ask(&mut sel, &set);
            assert_eq!(sel.wait(Some(Duration::ZERO)), Ok(0), "seen: {seen}");
            write(sv[1]);
            ask(&mut sel, &set);
            assert_eq!(
                sel.wait(Some(Duration::from_secs(2))),
                Ok(1),
                "seen: {seen}"
            );
            close(sv[0]);
            close(sv[1]);
        }
    }

    #[test]
    fn timeout_rounds_up_to_the_millisecond() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::from_millis(7))), 7);
        assert_eq!(timeout_ms(Some(Duration::from_secs(u64::MAX))), c_int::MAX);
    }

    /// The wait used where glibc has no epoll_pwait2 (older than 2.35):
    /// the same readiness, and a timeout that never ends early.
    #[test]
    fn fallback_wait_answers_and_never_ends_early() {
        // SAFETY: a plain system call.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epfd >= 0);
        let sv = pair();
        let mut ev = epoll_event {
            events: libc::EPOLLIN as u32,
            u64: sv[0] as u64,
        };
        // SAFETY: `ev` is a valid event for a descriptor the test owns.
        let r = unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, sv[0], &mut ev) };
        assert_eq!(r, 0);
        let mut events = [epoll_event { events: 0, u64: 0 }; 4];
        for micros in [1, 300, 1500, 2999] {
            let want = Duration::from_micros(micros);
            let t0 = Instant::now();
            assert_eq!(epoll_wait_ms(epfd, &mut events, Some(want)), Ok(0));
            let took = t0.elapsed();
            assert!(took >= want, "{want:?} ended after {took:?}");
        }
        write(sv[1]);
        assert_eq!(epoll_wait_ms(epfd, &mut events, None), Ok(1));
        let token = events[0].u64;
        assert_eq!(token, sv[0] as u64);
        assert_eq!(epoll_wait(epfd, &mut events, Some(Duration::ZERO)), Ok(1));
        close(sv[0]);
        close(sv[1]);
        // SAFETY: the test's own epoll descriptor.
        unsafe { real::close(epfd) };
    }
}
