//! The SocketSet: a set of descriptors kept as bits, with no FD_SETSIZE.
//!
//! One bit per descriptor number, in 64-bit words that grow with the largest
//! member and are never shrunk by `reset` (a select loop resets and refills
//! the same set every round; it should not reallocate). Descriptor 1,000,000
//! costs 125 KiB of bits. The wait itself is in [`crate::selector`].

use std::sync::atomic::{AtomicUsize, Ordering};

use libc::c_int;

use crate::selector::Selector;

/// Bits per word.
const BITS: usize = 64;

/// A set of descriptor numbers.
#[derive(Default)]
pub struct SocketSet {
    words: Vec<u64>,
    count: usize,
    /// The wait state (epoll instance and what it holds) of a set used as the
    /// first set of `sockset_select`; created on first use.
    pub(crate) selector: Option<Box<Selector>>,
}

/// Why an operation on a set failed, as the errno the C API reports.
pub type Errno = c_int;

impl SocketSet {
    /// An empty set; allocates nothing until the first member.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `fd` if its word already exists — the common case in a loop that
    /// resets and refills a set. Returns false (and does nothing) otherwise;
    /// [`SocketSet::add`] then does the rest. Cannot panic or allocate.
    #[inline]
    pub fn add_existing(&mut self, fd: c_int) -> bool {
        let Ok(fd) = usize::try_from(fd) else {
            return false;
        };
        if fd > nr_open() {
            return false;
        }
        match self.words.get_mut(fd / BITS) {
            Some(word) => {
                let bit = 1u64 << (fd % BITS);
                self.count += usize::from(*word & bit == 0);
                *word |= bit;
                true
            }
            None => false,
        }
    }

    /// Adds `fd`. EINVAL for a negative descriptor or one above the kernel's
    /// ceiling `fs.nr_open`; ENOMEM if the bits cannot grow.
    pub fn add(&mut self, fd: c_int) -> Result<(), Errno> {
        let fd = checked_fd(fd)?;
        self.grow_to(fd / BITS + 1)?;
        self.insert_unchecked(fd);
        Ok(())
    }

    /// Adds every descriptor of `fds`, or none of them if one is invalid
    /// (EINVAL) or the bits cannot grow (ENOMEM).
    pub fn add_many(&mut self, fds: &[c_int]) -> Result<(), Errno> {
        let mut top = 0;
        for &fd in fds {
            top = top.max(checked_fd(fd)?);
        }
        if !fds.is_empty() {
            self.grow_to(top / BITS + 1)?;
        }
        for &fd in fds {
            self.insert_unchecked(fd as usize);
        }
        Ok(())
    }

    /// Removes `fd`; absent (or negative) is fine.
    pub fn remove(&mut self, fd: c_int) {
        let Ok(fd) = usize::try_from(fd) else { return };
        if let Some(word) = self.words.get_mut(fd / BITS) {
            let bit = 1u64 << (fd % BITS);
            if *word & bit != 0 {
                *word &= !bit;
                self.count -= 1;
            }
        }
    }

    /// Whether `fd` is a member; false for negative or out-of-range numbers.
    pub fn contains(&self, fd: c_int) -> bool {
        usize::try_from(fd).is_ok_and(|fd| {
            self.words
                .get(fd / BITS)
                .is_some_and(|w| w & (1u64 << (fd % BITS)) != 0)
        })
    }

    /// Empties the set and keeps its memory.
    pub fn reset(&mut self) {
        self.words.fill(0);
        self.count = 0;
    }

    /// The number of members.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The highest member, or -1 if the set is empty.
    pub fn max(&self) -> c_int {
        match self.words.iter().rposition(|&w| w != 0) {
            Some(i) => (i * BITS + (BITS - 1 - self.words[i].leading_zeros() as usize)) as c_int,
            None => -1,
        }
    }

    /// The smallest member greater than `after`, or -1 when there is none.
    /// `after` may be negative (start from the beginning).
    pub fn next(&self, after: c_int) -> c_int {
        let start = if after < 0 { 0 } else { after as usize + 1 };
        let mut i = start / BITS;
        let Some(&first) = self.words.get(i) else {
            return -1;
        };
        let mut word = first & (!0u64 << (start % BITS));
        loop {
            if word != 0 {
                return (i * BITS + word.trailing_zeros() as usize) as c_int;
            }
            i += 1;
            match self.words.get(i) {
                Some(&w) => word = w,
                None => return -1,
            }
        }
    }

    /// Iterates over the members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = c_int> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(i, &w)| Bits(w).map(move |b| (i * BITS + b) as c_int))
    }

    /// The words of bits (member `fd` is bit `fd % 64` of word `fd / 64`).
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// Replaces the members with `bits`, a wait's answer for this set. The
    /// answer has no member beyond the set's words, so they never grow.
    pub(crate) fn replace_with(&mut self, bits: &[u64]) {
        let mut count = 0;
        for (i, word) in self.words.iter_mut().enumerate() {
            *word = bits.get(i).copied().unwrap_or(0);
            count += word.count_ones() as usize;
        }
        self.count = count;
    }

    fn grow_to(&mut self, words: usize) -> Result<(), Errno> {
        if words > self.words.len() {
            self.words
                .try_reserve(words - self.words.len())
                .map_err(|_| libc::ENOMEM)?;
            self.words.resize(words, 0);
        }
        Ok(())
    }

    fn insert_unchecked(&mut self, fd: usize) {
        let word = &mut self.words[fd / BITS];
        let bit = 1u64 << (fd % BITS);
        if *word & bit == 0 {
            *word |= bit;
            self.count += 1;
        }
    }
}

/// The bit positions set in a word, lowest first.
pub(crate) struct Bits(pub u64);

impl Iterator for Bits {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let b = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(b)
    }
}

/// `fd` as an index, or EINVAL if it is negative or above `fs.nr_open`.
fn checked_fd(fd: c_int) -> Result<usize, Errno> {
    match usize::try_from(fd) {
        Ok(fd) if fd <= nr_open() => Ok(fd),
        _ => Err(libc::EINVAL),
    }
}

/// The kernel's limit on descriptor numbers (`/proc/sys/fs/nr_open`), read
/// once. If it cannot be read, the kernel's default, 1,048,576.
#[inline]
pub fn nr_open() -> usize {
    match NR_OPEN.load(Ordering::Relaxed) {
        0 => nr_open_first(),
        value => value,
    }
}

static NR_OPEN: AtomicUsize = AtomicUsize::new(0);

#[cold]
#[inline(never)]
fn nr_open_first() -> usize {
    let value = read_nr_open().unwrap_or(1 << 20);
    NR_OPEN.store(value, Ordering::Relaxed);
    value
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
    fn add_remove_contains_count() {
        let mut s = SocketSet::new();
        assert_eq!((s.count(), s.max(), s.next(-1)), (0, -1, -1));
        s.add(3).unwrap();
        s.add(3).unwrap();
        s.add(130).unwrap();
        assert_eq!(s.count(), 2);
        assert!(s.contains(3) && s.contains(130) && !s.contains(4) && !s.contains(-1));
        assert_eq!(s.max(), 130);
        s.remove(3);
        s.remove(3);
        s.remove(-5);
        s.remove(1 << 20);
        assert_eq!((s.count(), s.max()), (1, 130));
    }

    #[test]
    fn add_existing_only_within_the_words() {
        let mut s = SocketSet::new();
        assert!(!s.add_existing(3), "no words yet");
        s.add(100).unwrap();
        assert!(s.add_existing(3) && s.add_existing(3) && s.add_existing(127));
        assert!(!s.add_existing(128) && !s.add_existing(-1));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 100, 127]);
        assert_eq!(s.count(), 3);
    }

    #[test]
    fn walking_members() {
        let mut s = SocketSet::new();
        for fd in [0, 1, 63, 64, 65, 1000, 5000] {
            s.add(fd).unwrap();
        }
        let mut walked = vec![];
        let mut fd = -1;
        loop {
            fd = s.next(fd);
            if fd < 0 {
                break;
            }
            walked.push(fd);
        }
        assert_eq!(walked, vec![0, 1, 63, 64, 65, 1000, 5000]);
        assert_eq!(s.iter().collect::<Vec<_>>(), walked);
        assert_eq!(s.next(5000), -1);
        assert_eq!(s.next(i32::MAX - 1), -1);
        assert_eq!(s.next(-100), 0);
    }

    #[test]
    fn bad_descriptors_are_einval() {
        let mut s = SocketSet::new();
        assert_eq!(s.add(-1), Err(libc::EINVAL));
        assert_eq!(s.add(nr_open() as c_int + 1), Err(libc::EINVAL));
        assert_eq!(s.add_many(&[1, 2, -3]), Err(libc::EINVAL));
        assert_eq!(s.count(), 0, "add_many adds none when one is bad");
        s.add_many(&[5, 2, 5]).unwrap();
        assert_eq!(s.count(), 2);
    }

    #[test]
    fn reset_keeps_memory_and_a_million_costs_bits() {
        let mut s = SocketSet::new();
        s.add(1_000_000).unwrap();
        let bytes = s.words().len() * 8;
        assert!(bytes <= 125 * 1024 + 8, "{bytes} bytes");
        s.reset();
        assert_eq!((s.count(), s.max()), (0, -1));
        assert_eq!(s.words().len() * 8, bytes);
    }

    #[test]
    fn replace_with_recounts() {
        let mut s = SocketSet::new();
        s.add_many(&[1, 2, 3, 200]).unwrap();
        s.replace_with(&[0b1010]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(s.count(), 2);
    }
}
