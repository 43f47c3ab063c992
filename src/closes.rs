//! Which descriptors have been closed: the knowledge that makes an
//! epoll-backed `sockset_select` safe.
//!
//! A SocketSet round is "reset, add every socket, select". When descriptor 7
//! is closed and a new socket gets number 7, the round looks the same as
//! before, but the epoll registration belonged to the old socket. libsock
//! sees the program's `close`, `dup2`, `dup3` and `close_range` (it exports
//! them), and counts here, per descriptor, how often each was closed. A
//! selector remembers the count at registration and re-registers what moved.
//!
//! The close path must stay cheap and signal-safe: no lock, no allocation.
//! Counters live in chunks of [`CHUNK`] descriptors that only the select
//! path allocates (a descriptor whose chunk does not exist was never
//! registered anywhere, so its close needs no record); a close only bumps
//! atomics. Nothing is recorded until the first selector exists.
//!
//! The same counters number the files libsock itself holds under a
//! descriptor (its epoll instances, the trace file; see `crate::own`): taking
//! a number bumps its count, and the count at that moment is the holder's
//! token. A count that moved since means the program closed the number (or
//! `dup2`ed over it): it is no longer libsock's to use or to close. Those
//! numbers also carry an "own" bit, cleared by the program's close, so a
//! set's members can be checked against them a word at a time.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use once_cell::race::OnceBox;

/// Descriptors per chunk of counters.
pub(crate) const CHUNK: usize = 4096;
/// The kernel's ceiling for descriptor numbers (fs.nr_open cannot exceed it).
const FD_CEILING: usize = 1 << 30;
const CHUNKS: usize = FD_CEILING / CHUNK;

/// Descriptors per group: a group is one 64-bit word of a set's bits.
pub(crate) const GROUP: usize = 64;

/// Close counters for [`CHUNK`] consecutive descriptors, and per group of
/// [`GROUP`], so a selector can skip the groups where nothing was closed.
pub struct Chunk {
    closes: [AtomicU32; CHUNK],
    groups: [AtomicU32; CHUNK / GROUP],
    /// libsock's own descriptors, one bit each, per group.
    own: [AtomicU64; CHUNK / GROUP],
    /// Which groups ever held one of libsock's own descriptors (never
    /// cleared: own numbers are few and reused, so the set stays small).
    own_groups: AtomicU64,
}

// Zero-initialised: untouched pages of this table cost no memory. Each
// chunk is installed once, lock-free (racing threads: one wins, the others
// free theirs), and never freed.
static TABLE: [OnceBox<Chunk>; CHUNKS] = [const { OnceBox::new() }; CHUNKS];
static TRACKING: AtomicBool = AtomicBool::new(false);
/// Closes recorded in total: a selector that saw the same value last round
/// knows nothing it registered was closed since.
static TOTAL: AtomicU64 = AtomicU64::new(0);

/// Starts recording closes (called when the first selector is made).
pub fn start_tracking() {
    TRACKING.store(true, Ordering::Release);
}

/// Records that `fd` was (or may have been) closed. Lock-free, no allocation.
#[inline]
pub fn closed(fd: libc::c_int) {
    if !TRACKING.load(Ordering::Relaxed) {
        return;
    }
    closed_slow(fd);
}

#[cold]
fn closed_slow(fd: libc::c_int) {
    let Ok(fd) = usize::try_from(fd) else { return };
    if let Some(chunk) = chunk(fd) {
        if is_own(chunk, fd) && !crate::process::owns_memory() {
            // A vfork child (Python's subprocess) closing its copy of the
            // table: the parent's number is still open, and still libsock's.
            return;
        }
        // The descriptor's count first: whoever sees the group's or the
        // total's change then finds the descriptor's too.
        chunk.closes[fd % CHUNK].fetch_add(1, Ordering::AcqRel);
        chunk.groups[fd % CHUNK / GROUP].fetch_add(1, Ordering::AcqRel);
        TOTAL.fetch_add(1, Ordering::AcqRel);
        clear_own(chunk, fd % CHUNK / GROUP, 1 << (fd % GROUP));
    }
}

fn is_own(chunk: &Chunk, fd: usize) -> bool {
    chunk.own[fd % CHUNK / GROUP].load(Ordering::Acquire) & 1 << (fd % GROUP) != 0
}

/// Clears the own bits `mask` of group `group` of `chunk` (a load first:
/// most closes are of numbers that are not libsock's).
fn clear_own(chunk: &Chunk, group: usize, mask: u64) {
    let own = &chunk.own[group];
    if own.load(Ordering::Acquire) & mask != 0 {
        own.fetch_and(!mask, Ordering::AcqRel);
    }
}

/// Records the closes of `close_range(first, last, 0)`: every descriptor in
/// the range whose chunk exists.
pub fn closed_range(first: u32, last: u32) {
    if !TRACKING.load(Ordering::Relaxed) || first > last {
        return;
    }
    if !crate::process::owns_memory() {
        // A vfork child (Python's subprocess closes everything above 2 this
        // way before exec) closes its copy of the table, not the parent's.
        return;
    }
    let (first, last) = (first as usize, (last as usize).min(FD_CEILING - 1));
    let mut fd = first;
    while fd <= last {
        let end = ((fd / CHUNK + 1) * CHUNK - 1).min(last);
        if let Some(chunk) = chunk(fd) {
            for slot in &chunk.closes[fd % CHUNK..=end % CHUNK] {
                slot.fetch_add(1, Ordering::AcqRel);
            }
            for group in &chunk.groups[fd % CHUNK / GROUP..=end % CHUNK / GROUP] {
                group.fetch_add(1, Ordering::AcqRel);
            }
            TOTAL.fetch_add(1, Ordering::AcqRel);
            for g in fd % CHUNK / GROUP..=end % CHUNK / GROUP {
                let lo = (g * GROUP).max(fd % CHUNK) % GROUP;
                let hi = ((g + 1) * GROUP - 1).min(end % CHUNK) % GROUP;
                let mask = (u64::MAX >> (GROUP - 1 - hi)) & (u64::MAX << lo);
                clear_own(chunk, g, mask);
            }
        }
        fd = end + 1;
    }
}

/// Takes `fd` as one of libsock's own descriptors (it was just opened by
/// libsock): its count moves, as for a new file under an old number, and
/// its own bit is set. Returns the holder's token, or `None` if there is no
/// memory for its counter (the descriptor is then simply not tracked).
pub fn take_own(fd: usize) -> Option<u32> {
    if !ensure(fd) {
        return None;
    }
    start_tracking();
    let chunk = chunk(fd)?;
    let token = chunk.closes[fd % CHUNK].fetch_add(1, Ordering::AcqRel) + 1;
    chunk.groups[fd % CHUNK / GROUP].fetch_add(1, Ordering::AcqRel);
    TOTAL.fetch_add(1, Ordering::AcqRel);
    let g = fd % CHUNK / GROUP;
    chunk.own[g].fetch_or(1 << (fd % GROUP), Ordering::AcqRel);
    chunk.own_groups.fetch_or(1 << g, Ordering::AcqRel);
    Some(token)
}

/// Gives `fd` up as libsock's own, if `token` still holds it (nothing
/// closed or took the number since): its count moves and its own bit is
/// cleared. Returns whether it was still held, i.e. whether the number is
/// libsock's to close.
pub fn give_up_own(fd: usize, token: u32) -> bool {
    let Some(chunk) = chunk(fd) else { return false };
    if chunk.closes[fd % CHUNK]
        .compare_exchange(
            token,
            token.wrapping_add(1),
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_err()
    {
        return false;
    }
    chunk.groups[fd % CHUNK / GROUP].fetch_add(1, Ordering::AcqRel);
    TOTAL.fetch_add(1, Ordering::AcqRel);
    clear_own(chunk, fd % CHUNK / GROUP, 1 << (fd % GROUP));
    true
}

/// Forgets an own bit found stale (the number holds someone else's file
/// now, closed where libsock could not see it); the holder finds out by its
/// token.
pub fn drop_own_bit(fd: usize) {
    if let Some(chunk) = chunk(fd) {
        chunk.closes[fd % CHUNK].fetch_add(1, Ordering::AcqRel);
        chunk.groups[fd % CHUNK / GROUP].fetch_add(1, Ordering::AcqRel);
        TOTAL.fetch_add(1, Ordering::AcqRel);
        clear_own(chunk, fd % CHUNK / GROUP, 1 << (fd % GROUP));
    }
}

/// The own bits of `words` (per set), word by word: for each word index
/// `i` where a set has a member that is one of libsock's own descriptors,
/// `found(i, bits)` with those members. Costs a load per chunk of
/// [`CHUNK`] descriptors, and one per group that ever held an own one.
pub fn own_members(sets: &[Vec<u64>], mut found: impl FnMut(usize, u64) -> bool) -> bool {
    let words = sets.iter().map(Vec::len).max().unwrap_or(0);
    let per_chunk = CHUNK / GROUP;
    for c in 0..words.div_ceil(per_chunk) {
        let Some(chunk) = TABLE.get(c).and_then(OnceBox::get) else {
            continue;
        };
        let mut groups = chunk.own_groups.load(Ordering::Acquire);
        while groups != 0 {
            let g = groups.trailing_zeros() as usize;
            groups &= groups - 1;
            let i = c * per_chunk + g;
            let asked = sets
                .iter()
                .fold(0, |acc, s| acc | s.get(i).copied().unwrap_or(0));
            let hit = asked & chunk.own[g].load(Ordering::Acquire);
            if hit != 0 && found(i, hit) {
                return true;
            }
        }
    }
    false
}

/// How many closes were recorded in total.
pub fn total() -> u64 {
    TOTAL.load(Ordering::Acquire)
}

/// How often `fd` was closed since its counter was created; 0 for a
/// descriptor with no counter yet (see [`ensure`]).
pub fn count(fd: usize) -> u32 {
    chunk(fd).map_or(0, |c| c.closes[fd % CHUNK].load(Ordering::Acquire))
}

/// How many closes were recorded among descriptors `group * GROUP` to
/// `group * GROUP + GROUP - 1`; 0 where there are no counters.
pub fn group_count(group: usize) -> u32 {
    chunk(group * GROUP).map_or(0, |c| {
        c.groups[group % (CHUNK / GROUP)].load(Ordering::Acquire)
    })
}

/// Makes sure `fd` has a counter, so its closes are recorded from now on.
/// Returns false if memory for it cannot be had.
pub fn ensure(fd: usize) -> bool {
    if fd >= FD_CEILING {
        return false;
    }
    TABLE[fd / CHUNK]
        .get_or_try_init(|| {
            let layout = std::alloc::Layout::new::<Chunk>();
            // SAFETY: the layout is non-zero-sized; all-zero bytes are valid
            // AtomicU32s. (Zeroed in place: a Chunk is too big for the stack.)
            let fresh = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Chunk>();
            if fresh.is_null() {
                return Err(());
            }
            // SAFETY: allocated above with the global allocator and Chunk's
            // layout, initialised (all zero), owned by nobody else.
            Ok(unsafe { Box::from_raw(fresh) })
        })
        .is_ok()
}

fn chunk(fd: usize) -> Option<&'static Chunk> {
    TABLE.get(fd / CHUNK)?.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_tracked_descriptors_with_counters() {
        start_tracking();
        let fd = 3 * CHUNK + 5;
        assert_eq!(count(fd), 0);
        closed(fd as i32); // no counter yet: nothing to record
        assert_eq!(count(fd), 0);
        assert!(ensure(fd));
        let before = total();
        closed(fd as i32);
        closed(fd as i32);
        assert_eq!(count(fd), 2);
        assert_eq!(group_count(fd / GROUP), 2);
        assert_eq!(group_count(fd / GROUP + 1), 0);
        assert!(total() >= before + 2);
        closed(-1); // ignored
    }

    #[test]
    fn range_crosses_chunks() {
        start_tracking();
        let a = 10 * CHUNK - 2;
        let b = 10 * CHUNK + 1;
        assert!(ensure(a) && ensure(b));
        let (ca, cb, cmid) = (count(a), count(b), count(10 * CHUNK));
        closed_range(a as u32, b as u32);
        assert_eq!(count(a), ca + 1);
        assert_eq!(count(b), cb + 1);
        assert_eq!(count(10 * CHUNK), cmid + 1);
        closed_range(5, 4); // empty
        closed_range(0, u32::MAX); // huge: visits only existing chunks
    }

    fn own_hit(fd: usize) -> bool {
        let mut set = vec![0u64; fd / 64 + 1];
        set[fd / 64] |= 1 << (fd % 64);
        own_members(&[set], |_, _| true)
    }

    #[test]
    fn own_numbers_are_let_go_by_any_close_of_them() {
        let fd = 12 * CHUNK + 70;
        let token = take_own(fd).unwrap();
        assert!(own_hit(fd) && !own_hit(fd + 1));
        closed(fd as i32);
        assert!(!own_hit(fd), "the program's close lets it go");
        assert!(!give_up_own(fd, token), "and the holder finds out");
        let token = take_own(fd).unwrap();
        closed_range((fd - 5) as u32, (fd + 5) as u32);
        assert!(!own_hit(fd));
        assert_eq!(count(fd), token + 1);
        let token = take_own(fd).unwrap();
        closed_range((fd + 1) as u32, (fd + 100) as u32);
        assert!(own_hit(fd), "a range beside it leaves it alone");
        assert!(give_up_own(fd, token) && !own_hit(fd));
    }

    #[test]
    fn beyond_the_ceiling() {
        assert!(!ensure(FD_CEILING));
        assert_eq!(count(FD_CEILING + 1), 0);
    }
}
