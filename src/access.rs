//! Access rules in the interposer (SPEC, "Access rules"): LIBSOCK_ALLOW and
//! LIBSOCK_DENY, parsed and compiled by `sock_core::rules`, applied here.
//!
//! - Outbound: `connect`, `sendto` (MSG_FASTOPEN too), `sendmsg` and each
//!   message of `sendmmsg` naming a refused INET/INET6 peer fail with EPERM
//!   before anything reaches the kernel ([`check`]).
//! - Inbound: every INET/INET6 socket libsock creates or accepts, and every
//!   one the process inherited (scanned once, when the settings load), gets
//!   the compiled socket filter, locked: the kernel drops a refused peer's
//!   packets (a listener drops its SYN) before any receive path sees them,
//!   and the program cannot detach or replace the filter (EPERM).
//! - Refused while rules are set: raw INET/INET6 and AF_PACKET sockets,
//!   which no socket filter on a TCP/UDP socket would hold.
//! - Fail closed: rules that do not parse or do not fit the kernel filter
//!   print one line and then refuse every INET/INET6 peer.
//!
//! Nothing here runs unless the rules are set: the exports reach it only
//! through `Settings::access`, behind `settings::active()`.

use std::net::IpAddr;

use libc::{c_int, c_void, socklen_t};
use sock_core::rules::bpf::{self, SockFilter};
use sock_core::rules::{Policy, Reason};

use sock_core::addr::{self, SockAddr};

use crate::policy::{get_int, set_int};
use crate::real;

/// `SO_LOCK_FILTER` (asm-generic/socket.h), not in the libc crate.
const SO_LOCK_FILTER: c_int = 44;

/// The rules in force, with the filters `Policy::new` compiled from them.
pub struct Access {
    policy: Policy,
}

impl Access {
    /// The rules from the two values (None: unset). A value that does not
    /// parse or fit prints one line on stderr and gives the policy that
    /// refuses every INET/INET6 peer.
    pub fn load(allow: Option<&str>, deny: Option<&str>) -> Access {
        let policy = Policy::new(allow, deny).unwrap_or_else(|e| {
            let value = if e.var == sock_core::rules::ALLOW_VAR {
                allow
            } else {
                deny
            };
            match value.filter(|v| v.len() <= 200 && e.var.len() < 14) {
                Some(v) => crate::diag::warn(format_args!(
                    "{}={v:?}: {}; all INET/INET6 traffic is denied (fail closed)",
                    e.var, e.message
                )),
                None => crate::diag::warn(format_args!(
                    "{e}; all INET/INET6 traffic is denied (fail closed)"
                )),
            }
            Policy::fail_closed()
        });
        Access { policy }
    }

    /// The decision for the peer `ip`:`port` (as the kernel reaches it:
    /// see `crate::outbound`): Err(why) if the rules refuse it.
    pub fn decide(&self, ip: IpAddr, port: u16) -> Result<(), Why<'_>> {
        self.policy.decide(ip, port).map_err(Reason::why)
    }

    /// After `socket` made `fd` (domain, type, protocol): the filter,
    /// locked. Some(why) if an INET/INET6 socket could not be filtered:
    /// the caller closes it and fails (fail closed).
    pub fn on_socket(&self, fd: c_int, kind: (c_int, c_int, c_int)) -> Option<Why<'_>> {
        crate::boundary::own(|| self.filter(fd, Some(kind)).err().map(|_| NO_FILTER))
            .unwrap_or(Some(INTERNAL))
    }

    /// After `accept` made `fd`: the filter (normally inherited from the
    /// listener), and a last check of the peer, for connections that were
    /// already queued before the listener was filtered. Some(why): the
    /// caller closes it and fails with ECONNABORTED.
    pub fn on_accept(&self, fd: c_int) -> Option<Why<'_>> {
        crate::boundary::own(|| {
            if self.filter(fd, None).is_err() {
                return Some(NO_FILTER);
            }
            let mut buf = [0u8; addr::MAX_LEN];
            let mut len = addr::MAX_LEN as socklen_t;
            // SAFETY: `buf` and `len` are valid and writable.
            let r = unsafe { real::getpeername(fd, buf.as_mut_ptr().cast(), &mut len) };
            if r != 0 {
                return None;
            }
            let peer = SockAddr::decode(&buf[..(len as usize).min(buf.len())]);
            let why = self.judge(&peer)?;
            Some(why.why())
        })
        .unwrap_or(Some(INTERNAL))
    }

    /// The decision for a decoded peer address: None if allowed or not
    /// INET/INET6.
    fn judge(&self, peer: &SockAddr) -> Option<Reason<'_>> {
        let (ip, port) = match peer {
            SockAddr::V4(a) => (IpAddr::V4(*a.ip()), a.port()),
            SockAddr::V6(a) => (IpAddr::V6(*a.ip()), a.port()),
            _ => return None,
        };
        self.policy.decide(ip, port).err()
    }

    /// Attaches and locks the filter on `fd` if it is an INET/INET6
    /// socket. `kind`: (domain, type, protocol) when known, else asked of
    /// the kernel. Ok also when libsock's own filter is already there and
    /// locked (an accepted socket inherits its listener's, an inherited
    /// socket may have had it from libsock in the parent); Err(errno) if
    /// an INET/INET6 socket could not be filtered.
    pub fn filter(&self, fd: c_int, kind: Option<(c_int, c_int, c_int)>) -> Result<(), c_int> {
        let (domain, ty, protocol) = match kind {
            Some(k) => k,
            None => match get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN) {
                Some(d) => (
                    d,
                    get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE).unwrap_or(0),
                    get_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).unwrap_or(0),
                ),
                None => return Ok(()),
            },
        };
        if domain != libc::AF_INET && domain != libc::AF_INET6 {
            return Ok(());
        }
        let prog = self.policy.filter_for(ty, protocol);
        match attach(fd, prog) {
            Ok(()) => Ok(()),
            // A locked filter: fine if it is one of libsock's (the same
            // instructions); another's cannot be replaced.
            Err(libc::EPERM) if self.is_ours(fd) => Ok(()),
            Err(e) => {
                cannot_attach(prog.len(), e);
                Err(e)
            }
        }
    }

    /// Whether `fd` carries a locked filter that is one of libsock's: the
    /// same instructions as a filter compiled from these rules, or the
    /// drop-everything fallback (`SO_GET_FILTER` gives the program back).
    fn is_ours(&self, fd: c_int) -> bool {
        if get_int(fd, libc::SOL_SOCKET, SO_LOCK_FILTER) != Some(1) {
            return false;
        }
        let Some(attached) = attached_filter(fd) else {
            return false;
        };
        let fallback = bpf::drop_all();
        [
            self.policy.filter(true),
            self.policy.filter(false),
            &fallback,
        ]
        .iter()
        .any(|p| **p == attached[..])
    }

    /// Filters every INET/INET6 socket this process inherited (once, when
    /// the settings load). libsock cannot refuse an inherited socket: one
    /// that will not take the filter (ENOMEM against net.core.optmem_max)
    /// gets the one-instruction filter that drops everything, locked.
    pub fn filter_inherited(&self) {
        let inherited = |fd: c_int| {
            if self.filter(fd, None).is_err() && attach(fd, &bpf::drop_all()).is_err() {
                crate::diag::warn(format_args!(
                    "descriptor {fd}: an inherited socket keeps the filter locked on it (not \
                     one of these rules': another program's, or a parent's under other rules)"
                ));
            }
        };
        let mut fds = [0 as c_int; 256];
        match open_fds(&mut fds) {
            Some(n) if n < fds.len() => fds[..n].iter().copied().for_each(inherited),
            // No /proc, or more than fit the array: every number up to
            // the limit.
            _ => (0..max_fd()).for_each(inherited),
        }
    }
}

/// Attaches `prog` to `fd` and locks it: Err(errno) if either fails.
fn attach(fd: c_int, prog: &[SockFilter]) -> Result<(), c_int> {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        // The kernel copies the program and never writes through this.
        filter: prog.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    // SAFETY: `fprog` points at `prog`, a live array of `len` sock_filter
    // (SockFilter is #[repr(C)] with sock_filter's layout).
    let r = unsafe {
        real::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const fprog).cast::<c_void>(),
            size_of::<libc::sock_fprog>() as socklen_t,
        )
    };
    if r != 0 || !set_int(fd, libc::SOL_SOCKET, SO_LOCK_FILTER, 1) {
        return Err(crate::errno::get());
    }
    Ok(())
}

/// The classic filter attached to `fd`, as `SO_GET_FILTER` returns it
/// (the number of instructions first, then the instructions); None if
/// there is none or it cannot be read back.
fn attached_filter(fd: c_int) -> Option<Vec<SockFilter>> {
    // SO_GET_FILTER counts in instructions, not bytes.
    let mut n: socklen_t = 0;
    // SAFETY: with a length of 0 the kernel only writes the count to `n`.
    let r = unsafe {
        real::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            std::ptr::null_mut(),
            &mut n,
        )
    };
    if r != 0 || n == 0 || n as usize > bpf::BPF_MAXINSNS {
        return None;
    }
    let mut prog = vec![bpf::drop_all()[0]; n as usize];
    let mut len = n;
    // SAFETY: `prog` has room for `n` instructions, the length passed.
    let r = unsafe {
        real::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            prog.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (r == 0 && len == n).then_some(prog)
}

/// Says once per process why sockets are refused: the kernel would not
/// take the filter (ENOMEM: it is charged to net.core.optmem_max).
fn cannot_attach(insns: usize, e: c_int) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SAID: AtomicBool = AtomicBool::new(false);
    if SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    let hint = if e == libc::ENOMEM {
        "; the kernel charges it to net.core.optmem_max: raise that, or use fewer rules"
    } else {
        ""
    };
    crate::diag::warn(format_args!(
        "cannot attach the access-rules socket filter ({insns} instructions): {}{hint}; \
         such sockets are refused, inherited ones drop everything (fail closed)",
        crate::diag::Strerror(e)
    ));
}

/// A socket that no filter can hold: raw INET/INET6, or any AF_PACKET
/// (and the obsolete SOCK_PACKET).
pub fn unfilterable(domain: c_int, ty: c_int) -> bool {
    sock_core::rules::dest::Socket {
        domain,
        ty,
        protocol: 0,
    }
    .raw_or_packet()
}

/// Whether libsock can place the peers of such a socket (every socket
/// that is not INET/INET6 is simply not judged): SCTP, L2TP, DCCP and the
/// like name peers in ways no rule check sees (SCTP's `connectx` is a
/// socket option), so they are refused while rules are set.
pub fn placeable(domain: c_int, ty: c_int, protocol: c_int) -> bool {
    if domain != libc::AF_INET && domain != libc::AF_INET6 {
        return true;
    }
    sock_core::rules::dest::Socket {
        domain,
        ty,
        protocol,
    }
    .placeable()
}

pub use sock_core::rules::{UNFILTERABLE, Why};

/// The refusal of a peer libsock cannot read (process_vm_readv fails with
/// ENOSYS, EPERM under seccomp, ...): it cannot be judged, so it is not
/// allowed.
pub const PEER_UNREADABLE: Why<'static> = ("fail-closed", "peer-unreadable");

pub use sock_core::rules::NO_FILTER;

/// The refusal when libsock's check could not run (a panic).
pub const INTERNAL: Why<'static> = ("fail-closed", "internal-error");

/// Closes a descriptor libsock refused (through the table).
pub fn discard(fd: c_int) {
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: a descriptor the program has not seen yet.
    unsafe { real::close(fd) };
    crate::closes::closed(fd);
}

/// The open descriptors, from /proc/self/fd, into `out`: how many (None
/// without /proc).
fn open_fds(out: &mut [c_int]) -> Option<usize> {
    // SAFETY: a NUL-terminated path; the stream is closed below.
    let dir = unsafe { libc::opendir(c"/proc/self/fd".as_ptr()) };
    if dir.is_null() {
        return None;
    }
    let mut n = 0;
    loop {
        // SAFETY: `dir` is an open stream.
        let entry = unsafe { libc::readdir(dir) };
        if entry.is_null() {
            break;
        }
        // SAFETY: readdir's entry is valid until the next call; d_name is
        // NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) };
        let Some(fd) = name.to_str().ok().and_then(|s| s.parse::<c_int>().ok()) else {
            continue;
        };
        if n == out.len() {
            break;
        }
        out[n] = fd;
        n += 1;
    }
    // SAFETY: `dir` is open and closed once (its descriptor, too, is not
    // among the sockets filtered above: it is closed by now).
    unsafe { libc::closedir(dir) };
    Some(n)
}

/// The descriptor limit, capped (for the scan without /proc).
fn max_fd() -> c_int {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is writable.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return 1024;
    }
    rl.rlim_cur.min(65536) as c_int
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn raw_and_packet_sockets_are_unfilterable() {
        assert!(unfilterable(libc::AF_INET, libc::SOCK_RAW));
        assert!(unfilterable(
            libc::AF_INET6,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC
        ));
        assert!(unfilterable(libc::AF_PACKET, libc::SOCK_DGRAM));
        assert!(!unfilterable(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK
        ));
        assert!(!unfilterable(libc::AF_UNIX, libc::SOCK_RAW));
    }

    #[test]
    fn invalid_rules_fail_closed_with_a_drop_all_filter() {
        let a = Access::load(Some("loclhost"), None);
        assert!(a.policy.is_fail_closed());
        assert_eq!(
            (a.policy.filter(true), a.policy.filter(false)),
            (&bpf::drop_all()[..], &bpf::drop_all()[..])
        );
        let peer = SockAddr::V4("127.0.0.1:80".parse().unwrap());
        assert_eq!(a.judge(&peer), Some(Reason::FailClosed));
        assert_eq!(a.judge(&SockAddr::Unnamed), None);
        let a = Access::load(None, Some("127.0.0.2"));
        assert!(a.judge(&peer).is_none());
        let mapped = SockAddr::V6("[::ffff:127.0.0.2]:1".parse().unwrap());
        assert!(matches!(a.judge(&mapped), Some(Reason::Denied(_))));
    }

    /// A socket through the table, closed on drop.
    pub(crate) struct Sock(pub(crate) c_int);

    impl Sock {
        pub(crate) fn new(domain: c_int, ty: c_int) -> Sock {
            // SAFETY: plain arguments.
            let fd = unsafe { real::socket(domain, ty, 0) };
            assert!(fd >= 0);
            Sock(fd)
        }
    }

    impl Drop for Sock {
        fn drop(&mut self) {
            // SAFETY: our own descriptor, closed once.
            unsafe { real::close(self.0) };
        }
    }

    #[test]
    fn only_libsocks_own_locked_filter_counts_as_filtered() {
        let a = Access::load(None, Some("127.0.0.2"));
        let b = Access::load(None, Some("127.0.0.9"));
        let mine = Sock::new(libc::AF_INET, libc::SOCK_DGRAM);
        assert_eq!(a.filter(mine.0, None), Ok(()));
        assert!(a.is_ours(mine.0));
        // Already locked with libsock's filter: fine.
        assert_eq!(a.filter(mine.0, None), Ok(()));
        // Another program's locked filter (here: other rules') is not.
        assert!(!b.is_ours(mine.0));
        assert_eq!(b.filter(mine.0, None), Err(libc::EPERM));
        // The fallback is recognised too.
        let fallback = Sock::new(libc::AF_INET6, libc::SOCK_STREAM);
        assert_eq!(attach(fallback.0, &bpf::drop_all()), Ok(()));
        assert!(a.is_ours(fallback.0) && b.is_ours(fallback.0));
        let plain = Sock::new(libc::AF_INET, libc::SOCK_DGRAM);
        assert!(!a.is_ours(plain.0));
    }
}
