//! The SocketSet as the C API hands it out: the bits (`sock_core::sockset`,
//! pure) with the wait state of a set used as the first set of
//! `sockset_select`, and the kernel's ceiling on descriptor numbers that
//! every set takes its members up to.

use std::num::NonZeroUsize;
use std::ops::{Deref, DerefMut};

use once_cell::race::OnceNonZeroUsize;

use crate::selector::Selector;

/// A set of descriptor numbers.
pub struct SocketSet {
    bits: sock_core::sockset::SocketSet,
    /// The wait state (epoll instance and what it holds) of a set used as the
    /// first set of `sockset_select`; created on first use.
    pub(crate) selector: Option<Box<Selector>>,
}

impl SocketSet {
    /// An empty set; allocates nothing until the first member.
    pub fn new() -> Self {
        SocketSet {
            bits: sock_core::sockset::SocketSet::new(nr_open()),
            selector: None,
        }
    }

    /// The number of members (here so `SocketSet::count` names a function).
    pub fn count(&self) -> usize {
        self.bits.count()
    }

    /// The highest member, or -1 if the set is empty.
    pub fn max(&self) -> libc::c_int {
        self.bits.max()
    }
}

impl Default for SocketSet {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for SocketSet {
    type Target = sock_core::sockset::SocketSet;
    fn deref(&self) -> &Self::Target {
        &self.bits
    }
}

impl DerefMut for SocketSet {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.bits
    }
}

/// The kernel's limit on descriptor numbers (`/proc/sys/fs/nr_open`), read
/// once. If it cannot be read, the kernel's default, 1,048,576.
#[inline]
pub fn nr_open() -> usize {
    static NR_OPEN: OnceNonZeroUsize = OnceNonZeroUsize::new();
    NR_OPEN
        .get_or_init(|| {
            read_nr_open()
                .and_then(NonZeroUsize::new)
                .unwrap_or(NonZeroUsize::new(1 << 20).expect("not zero"))
        })
        .get()
}

fn read_nr_open() -> Option<usize> {
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: a NUL-terminated path; the flags ask for nothing unusual.
    let fd = unsafe {
        libc::open(
            c"/proc/sys/fs/nr_open".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 32];
    // SAFETY: `buf` is writable for its length.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    // SAFETY: `fd` was opened above and is closed once, through the table.
    unsafe { crate::real::close(fd) };
    let text = std::str::from_utf8(buf.get(..usize::try_from(n).ok()?)?).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nr_open_is_the_kernels() {
        let proc = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20);
        assert_eq!(nr_open(), proc);
    }

    #[test]
    fn sets_take_members_up_to_nr_open() {
        let mut s = SocketSet::new();
        assert!(nr_open() >= 1024);
        assert_eq!(s.add(nr_open() as libc::c_int), Ok(()));
        assert_eq!(s.add(nr_open() as libc::c_int + 1), Err(libc::EINVAL));
        assert!(s.selector.is_none());
    }
}
