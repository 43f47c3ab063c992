//! The descriptors libsock itself holds open in the program's table: one
//! epoll instance per SocketSet used as the first set of `sockset_select`
//! (linked or preloaded), and the trace file when tracing goes to a file.
//!
//! They live among the program's own numbers, which brings two dangers:
//! - A number the program closed and still names (a select on a closed
//!   descriptor must fail with EBADF) may be the one libsock opens next; the
//!   caller's member would then name libsock's file. So libsock's numbers
//!   are kept high, above [`floor`] (where programs rarely reuse numbers),
//!   and a member that is one of libsock's own is EBADF, as a closed number
//!   is to select(2).
//! - A program that closes what it does not know about (`close_range(3,
//!   ~0U, 0)`, a close loop, `os.closerange`, `dup2` over a number) closes
//!   libsock's too. Each own number is held with a token from
//!   [`crate::closes`]: the program's close, `close_range` or `dup2`/`dup3`
//!   over it moves the number's count, so the holder knows its file is gone,
//!   never closes the number again (it may be the program's now) and opens
//!   another. A close libsock cannot see (a raw `syscall(SYS_close)`, a
//!   close from ctypes when not preloaded) shows as the kernel's error on
//!   libsock's own use of the number (see `crate::selector`).

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use libc::c_int;
use sock_core::sockset::{Bits, Errno};

use crate::closes;

/// Where libsock's own numbers start when the limit on descriptors allows:
/// above the numbers programs reuse, below select(2)'s FD_SETSIZE is no
/// concern (libsock's numbers are never a program's members).
pub const FLOOR: c_int = 900;

/// The lowest number libsock asks for its own descriptors: [`FLOOR`], or
/// within the top eighth of a lower RLIMIT_NOFILE (a number at or above the
/// soft limit cannot be had).
pub fn floor() -> c_int {
    floor_for(soft_limit())
}

fn floor_for(limit: u64) -> c_int {
    let limit = limit.min(c_int::MAX as u64) as c_int;
    FLOOR.min(limit - limit / 8)
}

fn soft_limit() -> u64 {
    // SAFETY: `rl` is writable; all-zero is a valid rlimit.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return 1024;
    }
    rl.rlim_cur
}

/// `fd` (libsock's, just opened) moved to a number at or above [`floor`],
/// close-on-exec. When nothing is free up there (a low limit, a full
/// table) it tries half the limit, then stays where it is: a low number
/// still works, it is only likelier to be one a program names after
/// closing it, which the member check catches. errno is left as it was.
pub fn move_high(fd: c_int) -> c_int {
    let _errno = crate::errno::ErrnoGuard::save();
    let limit = soft_limit();
    for floor in [
        floor_for(limit),
        (limit / 2).min(c_int::MAX as u64) as c_int,
    ] {
        if floor <= fd {
            continue;
        }
        // SAFETY: plain descriptor operations on our own descriptor.
        let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) };
        if high >= 0 {
            // SAFETY: our own descriptor, closed once, through the table.
            unsafe { crate::real::close(fd) };
            return high;
        }
    }
    fd
}

/// A number libsock holds: the descriptor and the token that says it is
/// still libsock's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// The number.
    pub fd: c_int,
    token: Option<u32>,
}

impl Held {
    /// Whether nothing closed the number or took it over since libsock
    /// opened it, as far as libsock can see.
    pub fn intact(&self) -> bool {
        match self.token {
            Some(token) => closes::count(self.fd as usize) == token,
            // Untracked (no memory for a counter): trust it.
            None => true,
        }
    }

    /// Closes the number if it is still libsock's; otherwise leaves it to
    /// whoever has it now. errno is left as it was.
    pub fn close(self) {
        if self.give_up() {
            let _errno = crate::errno::ErrnoGuard::save();
            forget_identity(self.fd);
            // SAFETY: libsock's own descriptor, closed once: `give_up`
            // says nothing else closed or took the number.
            unsafe { crate::real::close(self.fd) };
        }
    }

    /// Stops holding the number without closing it (it was closed where
    /// libsock could not see it: the kernel says so). Returns whether it
    /// was still held by the books.
    pub fn give_up(self) -> bool {
        match self.token {
            Some(token) => closes::give_up_own(self.fd as usize, token),
            None => true,
        }
    }
}

/// Holds `fd`, just opened by libsock, as its own: moved high, marked, its
/// identity noted for the member check.
pub fn hold(fd: c_int) -> Held {
    let fd = move_high(fd);
    note_identity(fd);
    Held {
        fd,
        token: closes::take_own(fd as usize),
    }
}

/// A new epoll instance (close-on-exec) held as libsock's own.
pub fn epoll() -> Result<Held, Errno> {
    // SAFETY: no pointers.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return Err(crate::errno::get());
    }
    // The identity first, so `hold` knows this is no file of its own kind.
    if let Some(id) = identity(fd) {
        EPOLL_ID.store(id, Ordering::Release);
    }
    Ok(hold(fd))
}

/// Whether `fd` is (still) an epoll instance: all of them share one
/// anonymous inode, learned from the first libsock makes.
pub fn is_epoll(fd: c_int) -> bool {
    let id = EPOLL_ID.load(Ordering::Acquire);
    id != 0 && identity(fd) == Some(id)
}

/// The first member of `sets` (per set, words of bits) that is one of
/// libsock's own descriptors, checked with the kernel: such a member is
/// EBADF to the caller. A stale own bit (the number was closed where libsock
/// could not see it and now holds the caller's file) is dropped instead.
pub fn member(sets: &[Vec<u64>]) -> Option<c_int> {
    let mut hit = None;
    closes::own_members(sets, |i, bits| {
        for b in Bits(bits) {
            let fd = (i * 64 + b) as c_int;
            if still_own(fd) {
                hit = Some(fd);
                return true;
            }
            closes::drop_own_bit(fd as usize);
        }
        false
    });
    hit
}

/// Whether `fd`, marked as libsock's, still holds libsock's file: closed is
/// as good as libsock's (EBADF either way); an epoll instance, or the file
/// libsock opened under that number, is libsock's.
fn still_own(fd: c_int) -> bool {
    let _errno = crate::errno::ErrnoGuard::save();
    let Some(id) = identity(fd) else { return true };
    if id == EPOLL_ID.load(Ordering::Acquire) {
        return true;
    }
    FILES
        .iter()
        .any(|f| f.fd.load(Ordering::Acquire) == fd + 1 && f.id.load(Ordering::Acquire) == id)
}

/// The inode of the epoll instances, as [`identity`] packs it; 0 until the
/// first.
static EPOLL_ID: AtomicU64 = AtomicU64::new(0);

/// Own descriptors other than epoll instances (the trace file, one per
/// process): number + 1 (0: free) and identity.
struct File {
    fd: AtomicI32,
    id: AtomicU64,
}
static FILES: [File; 8] = [const {
    File {
        fd: AtomicI32::new(0),
        id: AtomicU64::new(0),
    }
}; 8];

fn note_identity(fd: c_int) {
    let Some(id) = identity(fd) else { return };
    if id == EPOLL_ID.load(Ordering::Acquire) {
        return;
    }
    for f in &FILES {
        if f.fd
            .compare_exchange(0, fd + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            f.id.store(id, Ordering::Release);
            return;
        }
    }
    // No slot: the member check then trusts the own bit alone.
}

fn forget_identity(fd: c_int) {
    for f in &FILES {
        let _ =
            f.fd.compare_exchange(fd + 1, 0, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// A file's device and inode folded into one word (never 0), or `None` if
/// the number is not open.
fn identity(fd: c_int) -> Option<u64> {
    // SAFETY: `st` is writable; all-zero is a valid stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return None;
    }
    Some((st.st_ino ^ (st.st_dev as u64).rotate_left(40)) | 1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_stays_within_the_limit() {
        assert_eq!(floor_for(1 << 20), FLOOR);
        assert_eq!(floor_for(1024), 896);
        assert_eq!(floor_for(256), 224);
        assert_eq!(floor_for(8), 7);
        assert_eq!(floor_for(u64::MAX), FLOOR);
    }

    #[test]
    fn held_numbers_go_high_and_are_members_until_closed() {
        let held = epoll().unwrap();
        assert!(held.fd >= floor().min(FLOOR), "{held:?}");
        assert!(is_epoll(held.fd));
        let mut set = vec![0u64; held.fd as usize / 64 + 1];
        set[held.fd as usize / 64] |= 1 << (held.fd % 64);
        assert_eq!(member(std::slice::from_ref(&set)), Some(held.fd));
        assert!(held.intact());
        held.close();
        assert_eq!(member(&[set]), None);
    }
}
