//! The caller's credentials, taken on by a thread that performs its call.
//! sockrun performs supervised calls itself, so without this a
//! program that changed its credentials after start (a root program that
//! dropped to a user, or dropped capabilities) would connect to Unix
//! socket paths with sockrun's permission checks, show sockrun's uid to
//! `SO_PEERCRED`, own sockets as sockrun's uid (`-m owner`), and create
//! `ping` sockets outside `net.ipv4.ping_group_range`. The raw system calls
//! used here change only the calling thread's credentials (glibc's
//! wrappers would change every thread's): a scoped thread that ends after
//! the one call, so the receiving thread keeps sockrun's. When the caller's
//! credentials are sockrun's — always, unless the program changed its own
//! (`CHANGED`) — nothing is changed and no thread is started.

use std::fs;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// The credential lines of a task's `/proc/.../status`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Creds {
    uid: [u32; 4],
    gid: [u32; 4],
    groups: Vec<u32>,
    cap_eff: u64,
    cap_prm: u64,
}

fn parse(status: &str) -> Option<Creds> {
    let mut c = Creds::default();
    let ids = |v: &str| -> Option<[u32; 4]> {
        let v: Vec<u32> = v
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        v.try_into().ok()
    };
    let (mut uid, mut gid, mut eff, mut prm) = (false, false, false, false);
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "Uid" => (c.uid, uid) = (ids(value)?, true),
            "Gid" => (c.gid, gid) = (ids(value)?, true),
            "Groups" => {
                c.groups = value
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            }
            "CapEff" => (c.cap_eff, eff) = (u64::from_str_radix(value.trim(), 16).ok()?, true),
            "CapPrm" => (c.cap_prm, prm) = (u64::from_str_radix(value.trim(), 16).ok()?, true),
            _ => {}
        }
    }
    (uid && gid && eff && prm).then_some(c)
}

fn of(path: &str) -> Option<Creds> {
    parse(&fs::read_to_string(path).ok()?)
}

/// Set once the program has made a call that changes credentials
/// (`super::filter::CRED_CALLS`, told by the seccomp filter): until then
/// its credentials are sockrun's and are not read per call.
pub static CHANGED: AtomicBool = AtomicBool::new(false);

/// Runs `f` with the credentials of thread `tid`: on this thread when they
/// are this thread's own (nothing to change), else on a thread of its own
/// that takes them on first — so the caller keeps sockrun's, which it needs
/// to read and write the program's memory afterwards (a program that
/// changed its credentials is no longer dumpable). Err(errno) if they
/// cannot be read or taken on: the call is not made.
pub fn as_caller<T: Send>(tid: libc::pid_t, f: impl FnOnce() -> T + Send) -> Result<T, i32> {
    // sockrun's own never change (only the threads below take on others'),
    // so they are read once.
    static OURS: OnceLock<Option<Creds>> = OnceLock::new();
    if !CHANGED.load(Ordering::Acquire) {
        return Ok(f());
    }
    let theirs = of(&format!("/proc/{tid}/status")).ok_or(libc::EPERM)?;
    let ours = OURS
        .get_or_init(|| of("/proc/self/status"))
        .as_ref()
        .ok_or(libc::EPERM)?;
    if theirs == *ours {
        return Ok(f());
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                take_on(&theirs)?;
                Ok(f())
            })
            .join()
            .unwrap_or(Err(libc::EPERM))
    })
}

/// Makes this thread's credentials `theirs`.
fn take_on(theirs: &Creds) -> Result<(), i32> {
    let check = |r: libc::c_long| {
        if r == 0 {
            Ok(())
        } else {
            Err(super::sys::errno())
        }
    };
    // SAFETY: the raw system calls take plain integers and a pointer to
    // `theirs.groups`, alive for the call; each changes only this thread.
    unsafe {
        check(libc::syscall(
            libc::SYS_setgroups,
            theirs.groups.len(),
            theirs.groups.as_ptr(),
        ))?;
        check(libc::syscall(
            libc::SYS_setresgid,
            theirs.gid[0],
            theirs.gid[1],
            theirs.gid[2],
        ))?;
        check(libc::syscall(
            libc::SYS_setresuid,
            theirs.uid[0],
            theirs.uid[1],
            theirs.uid[2],
        ))?;
        // setfsuid and setfsgid return the previous id, never an error.
        libc::syscall(libc::SYS_setfsuid, theirs.uid[3]);
        libc::syscall(libc::SYS_setfsgid, theirs.gid[3]);
    }
    // Capabilities last (a uid change may have cleared them already).
    let now = of("/proc/thread-self/status").ok_or(libc::EPERM)?;
    if (now.cap_eff, now.cap_prm) != (theirs.cap_eff, theirs.cap_prm) {
        #[repr(C)]
        struct Header {
            version: u32,
            pid: i32,
        }
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        let header = Header {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        let data = [
            Data {
                effective: theirs.cap_eff as u32,
                permitted: theirs.cap_prm as u32,
                inheritable: 0,
            },
            Data {
                effective: (theirs.cap_eff >> 32) as u32,
                permitted: (theirs.cap_prm >> 32) as u32,
                inheritable: 0,
            },
        ];
        // SAFETY: a v3 header and its two data words, alive for the call;
        // capset changes only this thread.
        check(unsafe { libc::syscall(libc::SYS_capset, &raw const header, data.as_ptr()) })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_credential_lines() {
        let status = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t101\n\
                      Groups:\t4 24 27 \nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n\
                      CapEff:\t000001ffffffffff\n";
        let c = parse(status).unwrap();
        assert_eq!(c.uid, [1000; 4]);
        assert_eq!(c.gid, [100, 100, 100, 101]);
        assert_eq!(c.groups, [4, 24, 27]);
        assert_eq!((c.cap_eff, c.cap_prm), (0x1ff_ffff_ffff, 0));
        assert_eq!(parse("Uid:\t1\t2\n"), None);
        // Our own thread reads.
        assert!(of("/proc/thread-self/status").is_some());
    }
}
