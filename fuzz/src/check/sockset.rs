//! Sequences of SocketSet operations, each checked against a model: a
//! `BTreeSet<i32>` of members plus the number of 64-bit words the set has
//! grown to (which `reset` keeps and `add_existing`/`replace_with` respect).

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::OnceLock;

use libc::c_int;
use libfuzzer_sys::arbitrary::{Result, Unstructured};

use sock_core::sockset::{Bits, SocketSet};

const BITS: usize = 64;

struct Model {
    members: BTreeSet<c_int>,
    words: usize,
}

impl Model {
    fn valid(fd: c_int) -> bool {
        usize::try_from(fd).is_ok_and(|fd| fd <= nr_open())
    }
    fn grow_for(&mut self, fd: c_int) {
        self.words = self.words.max(fd as usize / BITS + 1);
    }
}

/// The kernel's ceiling, which the library gives every set (its own reading
/// of it is unit-tested there).
fn nr_open() -> usize {
    static V: OnceLock<usize> = OnceLock::new();
    *V.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20)
    })
}

/// A descriptor number: mostly small, often at word edges and around the
/// ceiling, sometimes anything at all.
fn fd(u: &mut Unstructured) -> Result<c_int> {
    let top = nr_open() as i64;
    let v: i64 = match u.int_in_range(0..=31u8)? {
        0..=17 => i64::from(u.int_in_range(-8..=200i32)?),
        18..=25 => {
            i64::from(u.int_in_range(0..=40u32)?) * 64 + i64::from(u.int_in_range(-1..=1i32)?)
        }
        // Near the ceiling: rarer, as the set then grows to nr_open / 64 words.
        26 => top + i64::from(u.int_in_range(-2..=2i32)?),
        27 => (top / 64) * 64 + i64::from(u.int_in_range(-65..=65i32)?),
        28 | 29 => *u.choose(&[
            i64::from(c_int::MIN),
            -1,
            i64::from(c_int::MAX),
            i64::from(c_int::MAX) - 1,
        ])?,
        _ => i64::from(u.arbitrary::<i32>()?),
    };
    Ok(v.clamp(c_int::MIN.into(), c_int::MAX.into()) as c_int)
}

pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut set = SocketSet::new(nr_open());
    let mut m = Model {
        members: BTreeSet::new(),
        words: 0,
    };
    check(&set, &m);
    let mut steps = 0;
    while !u.is_empty() && steps < 200 {
        steps += 1;
        if step(&mut u, &mut set, &mut m).is_err() {
            break;
        }
        // The whole walk costs the set's size: every step while the set is
        // small, at the end once it has grown towards nr_open.
        if m.words <= 64 {
            check(&set, &m);
        } else {
            quick_check(&set, &m);
        }
    }
    check(&set, &m);
}

fn quick_check(set: &SocketSet, m: &Model) {
    assert_eq!(set.count(), m.members.len(), "count");
    assert_eq!(set.max(), m.members.last().copied().unwrap_or(-1), "max");
    assert_eq!(set.words().len(), m.words, "words");
}

fn step(u: &mut Unstructured, set: &mut SocketSet, m: &mut Model) -> Result<()> {
    match u.int_in_range(0..=9u8)? {
        0 | 1 => {
            let fd = fd(u)?;
            let r = set.add(fd);
            say(format_args!("add({fd}) = {r:?}"));
            if Model::valid(fd) {
                assert_eq!(r, Ok(()), "add({fd})");
                m.members.insert(fd);
                m.grow_for(fd);
            } else {
                assert_eq!(r, Err(libc::EINVAL), "add({fd})");
            }
        }
        2 => {
            let n = u.int_in_range(0..=12usize)?;
            let mut fds = Vec::with_capacity(n);
            for _ in 0..n {
                fds.push(fd(u)?);
            }
            let before = (m.members.clone(), m.words);
            let r = set.add_many(&fds);
            say(format_args!("add_many({fds:?}) = {r:?}"));
            if fds.iter().all(|&fd| Model::valid(fd)) {
                assert_eq!(r, Ok(()), "add_many({fds:?})");
                for &fd in &fds {
                    m.members.insert(fd);
                    m.grow_for(fd);
                }
            } else {
                assert_eq!(r, Err(libc::EINVAL), "add_many({fds:?})");
                assert_eq!((m.members.clone(), m.words), before);
            }
        }
        3 => {
            let fd = fd(u)?;
            let fits = Model::valid(fd) && (fd as usize / BITS) < m.words;
            let r = set.add_existing(fd);
            say(format_args!("add_existing({fd}) = {r}"));
            assert_eq!(r, fits, "add_existing({fd})");
            if fits {
                m.members.insert(fd);
            }
        }
        4 | 5 => {
            let fd = if u.arbitrary()? {
                fd(u)?
            } else {
                // A member, if there is one.
                let v: Vec<_> = m.members.iter().copied().collect();
                if v.is_empty() { fd(u)? } else { *u.choose(&v)? }
            };
            set.remove(fd);
            say(format_args!("remove({fd})"));
            m.members.remove(&fd);
        }
        6 => {
            set.reset();
            say(format_args!("reset()"));
            m.members.clear();
        }
        7 => {
            // A wait's answer: any bits, as many words as it likes; only the
            // set's own words are taken.
            let n = u.int_in_range(0..=m.words + 2)?;
            let mut bits = Vec::with_capacity(n);
            for _ in 0..n {
                bits.push(match u.int_in_range(0..=3u8)? {
                    0 => 0,
                    1 => !0,
                    _ => u.arbitrary()?,
                });
            }
            set.replace_with(&bits);
            say(format_args!("replace_with({bits:#x?})"));
            m.members.clear();
            for (i, &w) in bits.iter().take(m.words).enumerate() {
                for b in Bits(w) {
                    m.members.insert((i * BITS + b) as c_int);
                }
            }
        }
        _ => {
            let after = fd(u)?;
            let want = m
                .members
                .range((Bound::Excluded(after), Bound::Unbounded))
                .next()
                .copied()
                .unwrap_or(-1);
            let got = set.next(after);
            let probe = fd(u)?;
            say(format_args!(
                "next({after}) = {got}; contains({probe}) = {}",
                set.contains(probe)
            ));
            assert_eq!(got, want, "next({after})");
            assert_eq!(
                set.contains(probe),
                m.members.contains(&probe),
                "contains({probe})"
            );
        }
    }
    Ok(())
}

/// `SOCK_FUZZ_SHOW=1`: print each operation (to see what an input does).
fn say(op: std::fmt::Arguments) {
    static SHOW: OnceLock<bool> = OnceLock::new();
    if *SHOW.get_or_init(|| std::env::var_os("SOCK_FUZZ_SHOW").is_some()) {
        eprintln!("{op}");
    }
}

fn check(set: &SocketSet, m: &Model) {
    assert_eq!(set.count(), m.members.len(), "count");
    assert_eq!(set.max(), m.members.last().copied().unwrap_or(-1), "max");
    assert_eq!(
        set.words().len(),
        m.words,
        "words (reset keeps them, nothing else grows them)"
    );
    assert!(set.iter().eq(m.members.iter().copied()), "iter");
    // Walking with next() from -1 visits exactly the members, in order.
    let mut walked = Vec::new();
    let mut at = -1;
    loop {
        at = set.next(at);
        if at < 0 {
            break;
        }
        walked.push(at);
        assert!(walked.len() <= m.members.len(), "next() does not end");
    }
    assert!(walked.iter().eq(m.members.iter()), "next() walk");
    for &fd in m.members.iter().take(64) {
        assert!(set.contains(fd), "contains({fd})");
        assert!(!set.contains(fd.wrapping_add(1)) || m.members.contains(&(fd + 1)));
        assert_eq!(set.next(fd - 1), fd, "next({})", fd - 1);
    }
    assert_eq!(set.next(c_int::MAX), -1);
    assert!(!set.contains(-1) && !set.contains(c_int::MIN));
    assert_eq!(
        set.next(c_int::MIN),
        m.members.first().copied().unwrap_or(-1)
    );
}
