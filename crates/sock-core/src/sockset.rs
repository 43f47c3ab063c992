//! The SocketSet: a set of descriptors kept as bits, with no FD_SETSIZE.
//!
//! One bit per descriptor number, in 64-bit words that grow with the largest
//! member and are never shrunk by `reset` (a select loop resets and refills
//! the same set every round; it should not reallocate). Descriptor 1,000,000
//! costs 125 KiB of bits. The largest descriptor number a set takes (the
//! kernel's `fs.nr_open`) is given by whoever creates it; the wait on a set
//! is the library's (`src/selector.rs`).

use libc::c_int;

/// Bits per word.
const BITS: usize = 64;

/// A set of descriptor numbers.
pub struct SocketSet {
    words: Vec<u64>,
    count: usize,
    /// The largest descriptor number accepted.
    ceiling: usize,
}

/// Why an operation on a set failed, as the errno the C API reports.
pub type Errno = c_int;

impl SocketSet {
    /// An empty set taking descriptors up to `ceiling`; allocates nothing
    /// until the first member.
    pub fn new(ceiling: usize) -> Self {
        SocketSet {
            words: Vec::new(),
            count: 0,
            ceiling,
        }
    }

    /// Adds `fd` if its word already exists — the common case in a loop that
    /// resets and refills a set. Returns false (and does nothing) otherwise;
    /// [`SocketSet::add`] then does the rest. Cannot panic or allocate.
    #[inline]
    pub fn add_existing(&mut self, fd: c_int) -> bool {
        let Ok(fd) = usize::try_from(fd) else {
            return false;
        };
        if fd > self.ceiling {
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

    /// Adds `fd`. EINVAL for a negative descriptor or one above the set's
    /// ceiling; ENOMEM if the bits cannot grow.
    pub fn add(&mut self, fd: c_int) -> Result<(), Errno> {
        let fd = checked_fd(fd, self.ceiling)?;
        self.grow_to(fd / BITS + 1)?;
        self.insert_unchecked(fd);
        Ok(())
    }

    /// Adds every descriptor of `fds`, or none of them if one is invalid
    /// (EINVAL) or the bits cannot grow (ENOMEM).
    pub fn add_many(&mut self, fds: &[c_int]) -> Result<(), Errno> {
        let mut top = 0;
        for &fd in fds {
            top = top.max(checked_fd(fd, self.ceiling)?);
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
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Replaces the members with `bits`, a wait's answer for this set. The
    /// answer has no member beyond the set's words, so they never grow.
    pub fn replace_with(&mut self, bits: &[u64]) {
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
pub struct Bits(pub u64);

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

/// `fd` as an index, or EINVAL if it is negative or above `ceiling`.
fn checked_fd(fd: c_int, ceiling: usize) -> Result<usize, Errno> {
    match usize::try_from(fd) {
        Ok(fd) if fd <= ceiling => Ok(fd),
        _ => Err(libc::EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's default `fs.nr_open`.
    const CEILING: usize = 1 << 20;

    #[test]
    fn add_remove_contains_count() {
        let mut s = SocketSet::new(CEILING);
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
        let mut s = SocketSet::new(CEILING);
        assert!(!s.add_existing(3), "no words yet");
        s.add(100).unwrap();
        assert!(s.add_existing(3) && s.add_existing(3) && s.add_existing(127));
        assert!(!s.add_existing(128) && !s.add_existing(-1));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 100, 127]);
        assert_eq!(s.count(), 3);
    }

    #[test]
    fn walking_members() {
        let mut s = SocketSet::new(CEILING);
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
        let mut s = SocketSet::new(CEILING);
        assert_eq!(s.add(-1), Err(libc::EINVAL));
        assert_eq!(s.add(CEILING as c_int + 1), Err(libc::EINVAL));
        assert_eq!(s.add_many(&[1, 2, -3]), Err(libc::EINVAL));
        assert_eq!(s.count(), 0, "add_many adds none when one is bad");
        s.add_many(&[5, 2, 5]).unwrap();
        assert_eq!(s.count(), 2);
    }

    #[test]
    fn reset_keeps_memory_and_a_million_costs_bits() {
        let mut s = SocketSet::new(CEILING);
        s.add(1_000_000).unwrap();
        let bytes = s.words().len() * 8;
        assert!(bytes <= 125 * 1024 + 8, "{bytes} bytes");
        s.reset();
        assert_eq!((s.count(), s.max()), (0, -1));
        assert_eq!(s.words().len() * 8, bytes);
    }

    #[test]
    fn replace_with_recounts() {
        let mut s = SocketSet::new(CEILING);
        s.add_many(&[1, 2, 3, 200]).unwrap();
        s.replace_with(&[0b1010]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(s.count(), 2);
    }
}
