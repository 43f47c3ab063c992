//! The SocketSet C API: `select()` without FD_SETSIZE.
//!
//! A `SocketSet` holds descriptor numbers as bits, so it grows with its
//! largest member and has no limit but the kernel's (`fs.nr_open`).
//! `sockset_select` has select(2)'s meaning and, in programs where libsock
//! sees `close` (linked or preloaded), costs one `epoll_wait` per round
//! however many idle members the sets hold.
//!
//! Thread safety: a set may be used by one thread at a time; different sets
//! may be used by different threads at once. Every function here is safe to
//! call with NULL where a set is expected (it then fails with EINVAL or does
//! nothing, as documented); errno is set only when a function fails.

use std::ffi::c_int;
use std::time::Duration;

use libc::{size_t, timeval};

use crate::boundary::api;
use crate::errno;
use crate::selector::Selector;
use crate::sockset::SocketSet;

/// Creates an empty set. It allocates nothing until its first member.
///
/// Returns NULL with errno ENOMEM if memory cannot be had. Free it with
/// `sockset_free`.
#[unsafe(no_mangle)]
pub extern "C" fn sockset_new() -> *mut SocketSet {
    api(std::ptr::null_mut(), || {
        crate::alloc::fallible(|| {
            let layout = std::alloc::Layout::new::<SocketSet>();
            // SAFETY: SocketSet is not zero-sized.
            let p = unsafe { std::alloc::alloc(layout) }.cast::<SocketSet>();
            if p.is_null() {
                errno::set(libc::ENOMEM);
            } else {
                // SAFETY: `p` is freshly allocated for a SocketSet; writing
                // initialises it without reading the old bytes. Box::from_raw in
                // sockset_free uses the same allocator and layout.
                unsafe { p.write(SocketSet::new()) };
            }
            p
        })
    })
}

/// Frees a set made by `sockset_new`, with everything it holds (including
/// its epoll instance, if it was used as a first set of `sockset_select`).
/// NULL is a no-op. The set must not be used afterwards.
///
/// # Safety
/// `set` is NULL or a pointer returned by `sockset_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_free(set: *mut SocketSet) {
    if set.is_null() {
        return;
    }
    api((), || {
        // SAFETY: per the contract, `set` came from sockset_new (Box layout).
        drop(unsafe { Box::from_raw(set) });
    })
}

/// Adds `fd` to the set.
///
/// Returns 0, or -1 with errno EINVAL (NULL set, `fd` negative or above
/// the kernel's `fs.nr_open`) or ENOMEM (the set cannot grow). A number
/// above the current RLIMIT_NOFILE is accepted: the program may raise it.
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_add(set: *mut SocketSet, fd: c_int) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live and not shared.
    let Some(set) = (unsafe { set.as_mut() }) else {
        return fail(libc::EINVAL);
    };
    // The loop's hot path (the word exists) cannot panic; growing can.
    if set.add_existing(fd) {
        return 0;
    }
    add_growing(set, fd)
}

#[inline(never)]
fn add_growing(set: &mut SocketSet, fd: c_int) -> c_int {
    api(-1, || crate::alloc::fallible(|| result(set.add(fd))))
}

/// Adds the `n` descriptors at `fds` — all of them, or none if one is
/// invalid. One call instead of `n`, for bindings where a call is costly.
///
/// Returns 0, or -1 with errno EINVAL (NULL set, `fds` NULL while `n` > 0,
/// a descriptor negative or above `fs.nr_open`) or ENOMEM; the set is then
/// unchanged.
///
/// # Safety
/// `set` is NULL or a live set; `fds` is NULL or points to `n` readable ints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_add_many(
    set: *mut SocketSet,
    fds: *const c_int,
    n: size_t,
) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live and not shared.
    let Some(set) = (unsafe { set.as_mut() }) else {
        return fail(libc::EINVAL);
    };
    if n == 0 {
        return 0;
    }
    if fds.is_null() || n > isize::MAX as usize / size_of::<c_int>() {
        return fail(libc::EINVAL);
    }
    // SAFETY: per the contract, `fds` points to `n` readable ints; ints have
    // no invalid bit patterns, and c_int's alignment is the caller's array's.
    let fds = unsafe { std::slice::from_raw_parts(fds, n) };
    api(-1, || crate::alloc::fallible(|| result(set.add_many(fds))))
}

/// Removes `fd` from the set. Returns 0 (also when `fd` was not a member),
/// or -1 with errno EINVAL for a NULL set.
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_remove(set: *mut SocketSet, fd: c_int) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live and not shared.
    let Some(set) = (unsafe { set.as_mut() }) else {
        return fail(libc::EINVAL);
    };
    set.remove(fd);
    0
}

/// 1 if `fd` is in the set, else 0 (also for a NULL set or a negative or
/// out-of-range `fd`). After `sockset_select`, whether `fd` is ready.
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_is_set(set: *const SocketSet, fd: c_int) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live.
    unsafe { set.as_ref() }.is_some_and(|s| s.contains(fd)) as c_int
}

/// Empties the set and keeps its memory, for the next round of a loop.
/// NULL is a no-op.
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_reset(set: *mut SocketSet) {
    // SAFETY: per the contract, `set` is NULL or live and not shared.
    if let Some(set) = unsafe { set.as_mut() } {
        set.reset();
    }
}

/// The number of members (0 for NULL).
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_count(set: *const SocketSet) -> size_t {
    // SAFETY: per the contract, `set` is NULL or live.
    unsafe { set.as_ref() }.map_or(0, SocketSet::count)
}

/// The highest member, or -1 if the set is empty or NULL.
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_max(set: *const SocketSet) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live.
    unsafe { set.as_ref() }.map_or(-1, SocketSet::max)
}

/// The smallest member greater than `after`, or -1 when there is none (or
/// the set is NULL). Walk a set with `for (fd = sockset_next(s, -1); fd >= 0;
/// fd = sockset_next(s, fd))`.
///
/// # Safety
/// `set` is NULL or a live set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_next(set: *const SocketSet, after: c_int) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live.
    unsafe { set.as_ref() }.map_or(-1, |s| s.next(after))
}

/// Copies the members, smallest first, to `out`, which has room for `cap`
/// ints: one call instead of one `sockset_next` per member, for bindings
/// where a call is costly. After `sockset_select` the members are the
/// ready descriptors.
///
/// Returns the number of members — when it exceeds `cap` only the first
/// `cap` were written (size `out` with `sockset_count`) — or -1 with errno
/// EINVAL: NULL set, `out` NULL while `cap` > 0, or `cap` larger than any
/// array can be.
///
/// # Safety
/// `set` is NULL or a live set; `out` is NULL or points to `cap` writable ints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_members(
    set: *const SocketSet,
    out: *mut c_int,
    cap: size_t,
) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live.
    let Some(set) = (unsafe { set.as_ref() }) else {
        return fail(libc::EINVAL);
    };
    if cap > 0 && (out.is_null() || cap > isize::MAX as usize / size_of::<c_int>()) {
        return fail(libc::EINVAL);
    }
    for (i, fd) in set.iter().take(cap).enumerate() {
        // SAFETY: i < cap, and `out` has room for `cap` ints.
        unsafe { out.add(i).write_unaligned(fd) };
    }
    // A set holds at most fs.nr_open + 1 members, which fits an int.
    set.count().min(c_int::MAX as usize) as c_int
}

/// Writes to `out`, in increasing order, each position `i` < `n` at which
/// `fds[i]` is a member of `set`, and returns how many it wrote. After
/// `sockset_select` these are the positions of the ready entries of the
/// array the set was filled from (duplicates included), so a binding builds
/// its answer from the ready entries alone. `out` may be `fds` itself: a
/// position is written only after the entry it overwrites was read.
///
/// Returns -1 with errno EINVAL for a NULL set, `fds` or `out` NULL while
/// `n` > 0, or `n` above INT_MAX (a position must fit an int).
///
/// # Safety
/// `set` is NULL or a live set; `fds` is NULL or points to `n` readable
/// ints; `out` is NULL or points to `n` writable ints (or is `fds`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_positions(
    set: *const SocketSet,
    fds: *const c_int,
    n: size_t,
    out: *mut c_int,
) -> c_int {
    // SAFETY: per the contract, `set` is NULL or live.
    let Some(set) = (unsafe { set.as_ref() }) else {
        return fail(libc::EINVAL);
    };
    if n > 0 && (fds.is_null() || out.is_null() || n > c_int::MAX as usize) {
        return fail(libc::EINVAL);
    }
    let mut found = 0;
    for i in 0..n {
        // SAFETY: i < n, and `fds` points to `n` readable ints. Raw reads and
        // writes, not slices, since `out` may alias `fds`.
        let fd = unsafe { fds.add(i).read_unaligned() };
        if set.contains(fd) {
            // SAFETY: found <= i < n, and `out` has room for `n` ints; when
            // `out` is `fds`, entry `found` was already read.
            unsafe { out.add(found).write_unaligned(i as c_int) };
            found += 1;
        }
    }
    found as c_int
}

/// select(2) over SocketSets: waits until a member of `readfds` is readable
/// (data, EOF, hangup, error or a pending connection), a member of
/// `writefds` writable (space or error) or a member of `exceptfds` has
/// urgent data, or until `timeout` passes.
///
/// Any set may be NULL. `timeout` NULL waits forever; `{0, 0}` polls; a
/// negative field is EINVAL. `timeout` is never
/// modified. On return each set holds only its ready members, and the result
/// is the number of (set, descriptor) pairs ready, or 0 on timeout (all sets
/// then empty). On failure -1 with errno — EBADF (a member is not an open
/// descriptor), EINTR (a signal arrived), EINVAL, ENOMEM — and the sets are
/// unchanged.
///
/// For descriptors below 1024 the answer is select(2)'s. Where libsock sees
/// the program's closes (linked or preloaded), a round whose members did not
/// change costs one `epoll_wait`: keep using the same first set. Loaded
/// through ctypes, where closes are unseen, the wait is a `ppoll` over the
/// members instead. A descriptor closed where libsock cannot see it (by
/// `fclose` on an `fdopen`ed socket, or a raw system call) should be removed
/// from the sets before its number is reused.
///
/// # Safety
/// Each set is NULL or a live set; `timeout` is NULL or points to a readable
/// `struct timeval`. The same set may be passed more than once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sockset_select(
    readfds: *mut SocketSet,
    writefds: *mut SocketSet,
    exceptfds: *mut SocketSet,
    timeout: *const timeval,
) -> c_int {
    let timeout = if timeout.is_null() {
        None
    } else {
        // SAFETY: per the contract, readable; read_unaligned makes no
        // assumption about the caller's alignment.
        let tv = unsafe { timeout.read_unaligned() };
        match to_duration(&tv) {
            Some(d) => Some(d),
            None => return fail(libc::EINVAL),
        }
    };
    let sets = [readfds, writefds, exceptfds];
    api(-1, || {
        // SAFETY: per the contract each pointer is NULL or a live set; only
        // one reference to a set exists at a time below, so passing the
        // same set twice is fine.
        unsafe { select(sets, timeout) }
    })
}

/// # Safety
/// As for `sockset_select`.
unsafe fn select(sets: [*mut SocketSet; 3], timeout: Option<Duration>) -> c_int {
    let Some(&anchor) = sets.iter().find(|s| !s.is_null()) else {
        // No set: select(2) with no descriptors just sleeps.
        return match Selector::new().wait(timeout) {
            Ok(n) => n as c_int,
            Err(e) => fail(e),
        };
    };
    // SAFETY: `anchor` is live; this is the only reference for now.
    let mut selector = unsafe { (*anchor).selector.take() }.unwrap_or_default();
    for (k, &set) in sets.iter().enumerate() {
        selector.request[k].clear();
        // SAFETY: `set` is NULL or live.
        if let Some(set) = unsafe { set.as_ref() } {
            selector.request[k].extend_from_slice(set.words());
        }
    }
    let outcome = selector.wait(timeout);
    if outcome.is_ok() {
        for (k, &set) in sets.iter().enumerate() {
            // SAFETY: `set` is NULL or live; no other reference is held.
            if let Some(set) = unsafe { set.as_mut() } {
                set.replace_with(&selector.answer[k]);
            }
        }
    }
    // SAFETY: `anchor` is live; this is the only reference for now.
    unsafe { (*anchor).selector = Some(selector) };
    match outcome {
        Ok(n) => n.min(c_int::MAX as usize) as c_int,
        Err(e) => fail(e),
    }
}

/// A timeval as a Duration, None if a field is negative. Like select(2),
/// a `tv_usec` of a second or more carries into the seconds.
fn to_duration(tv: &timeval) -> Option<Duration> {
    let secs = u64::try_from(tv.tv_sec).ok()?;
    let usecs = u64::try_from(tv.tv_usec).ok()?;
    Some(Duration::from_secs(secs).saturating_add(Duration::from_micros(usecs)))
}

fn result(r: Result<(), c_int>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => fail(e),
    }
}

/// -1 with errno `e`.
fn fail(e: c_int) -> c_int {
    errno::set(e);
    -1
}
