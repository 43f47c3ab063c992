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

use libc::{c_int, c_void, sockaddr, socklen_t};
use sock_core::rules::bpf::{self, SockFilter};
use sock_core::rules::{Policy, Reason};

use sock_core::addr::{self, SockAddr};

use crate::caller;
use crate::real;

/// `SO_LOCK_FILTER` (asm-generic/socket.h), not in the libc crate.
const SO_LOCK_FILTER: c_int = 44;
/// `SOCK_PACKET`, the obsolete packet socket type (deprecated in libc).
const SOCK_PACKET: c_int = 10;

/// The rules in force and the filters compiled from them.
pub struct Access {
    policy: Policy,
    /// For TCP and UDP sockets (source port at offset 0).
    with_ports: Vec<SockFilter>,
    /// For other INET/INET6 sockets (rules with ports judged without them).
    without_ports: Vec<SockFilter>,
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
        // Policy::new checked that both fit.
        let with_ports = bpf::compile(&policy, true).unwrap_or_else(|_| bpf::drop_all());
        let without_ports = bpf::compile(&policy, false).unwrap_or_else(|_| bpf::drop_all());
        Access {
            policy,
            with_ports,
            without_ports,
        }
    }

    /// Whether the rules refuse the peer `peer()` reads for the socket `fd`:
    /// Some(why) only for a refused INET/INET6 address on an INET/INET6
    /// socket.
    pub fn check(&self, fd: c_int, peer: impl FnOnce() -> Option<SockAddr>) -> Option<Why<'_>> {
        crate::boundary::own(|| {
            let why = self.judge(&peer()?)?;
            let why = (list(why), rule(why));
            // Only INET/INET6 sockets are held: anything else keeps the
            // kernel's answer to an INET address.
            let domain = get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN)?;
            (domain == libc::AF_INET || domain == libc::AF_INET6).then_some(why)
        })
        .flatten()
    }

    /// After `socket` made `fd` (domain, type, protocol): the filter,
    /// locked. False if an INET/INET6 socket could not be filtered: the
    /// caller closes it and fails (fail closed).
    pub fn on_socket(&self, fd: c_int, kind: (c_int, c_int, c_int)) -> bool {
        crate::boundary::own(|| self.filter(fd, Some(kind))).unwrap_or(false)
    }

    /// After `accept` made `fd`: the filter (normally inherited from the
    /// listener), and a last check of the peer, for connections that were
    /// already queued before the listener was filtered. False: the caller
    /// closes it and fails with ECONNABORTED.
    pub fn on_accept(&self, fd: c_int) -> bool {
        crate::boundary::own(|| {
            if !self.filter(fd, None) {
                return false;
            }
            let mut buf = [0u8; addr::MAX_LEN];
            let mut len = addr::MAX_LEN as socklen_t;
            // SAFETY: `buf` and `len` are valid and writable.
            let r = unsafe { real::getpeername(fd, buf.as_mut_ptr().cast(), &mut len) };
            if r != 0 {
                return true;
            }
            let peer = SockAddr::decode(&buf[..(len as usize).min(buf.len())]);
            self.judge(&peer).is_none()
        })
        .unwrap_or(false)
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
    /// the kernel. Returns false if an INET/INET6 socket could not be
    /// filtered (and was not already locked by libsock's filter).
    pub fn filter(&self, fd: c_int, kind: Option<(c_int, c_int, c_int)>) -> bool {
        let (domain, ty, protocol) = match kind {
            Some(k) => k,
            None => match get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN) {
                Some(d) => (
                    d,
                    get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE).unwrap_or(0),
                    get_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).unwrap_or(0),
                ),
                None => return true,
            },
        };
        if domain != libc::AF_INET && domain != libc::AF_INET6 {
            return true;
        }
        let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        let ports = matches!(
            (base, protocol),
            (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP)
                | (
                    libc::SOCK_DGRAM,
                    0 | libc::IPPROTO_UDP | libc::IPPROTO_UDPLITE
                )
        );
        let prog = if ports {
            &self.with_ports
        } else {
            &self.without_ports
        };
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
        if r != 0 {
            // Already locked: an accepted socket inherits its listener's
            // filter and lock; an inherited socket was filtered by libsock
            // in the parent.
            let e = crate::errno::get();
            if e == libc::EPERM && get_int(fd, libc::SOL_SOCKET, SO_LOCK_FILTER) == Some(1) {
                return true;
            }
            cannot_attach(prog.len(), e);
            return false;
        }
        let one: c_int = 1;
        // SAFETY: `one` is a valid int for the duration of the call.
        let r = unsafe {
            real::setsockopt(
                fd,
                libc::SOL_SOCKET,
                SO_LOCK_FILTER,
                (&raw const one).cast::<c_void>(),
                size_of::<c_int>() as socklen_t,
            )
        };
        r == 0
    }

    /// Filters every INET/INET6 socket this process inherited (once, when
    /// the settings load).
    pub fn filter_inherited(&self) {
        let mut fds = [0 as c_int; 256];
        match open_fds(&mut fds) {
            Some(n) if n < fds.len() => {
                for &fd in &fds[..n] {
                    self.filter(fd, None);
                }
            }
            // No /proc, or more than fit the array: every number up to
            // the limit.
            _ => {
                for fd in 0..max_fd() {
                    self.filter(fd, None);
                }
            }
        }
    }
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
         such sockets are refused (fail closed)",
        crate::diag::Strerror(e)
    ));
}

/// A socket that no filter can hold: raw INET/INET6, or any AF_PACKET
/// (and the obsolete SOCK_PACKET).
pub fn unfilterable(domain: c_int, ty: c_int) -> bool {
    let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    domain == libc::AF_PACKET
        || ((domain == libc::AF_INET || domain == libc::AF_INET6)
            && (base == libc::SOCK_RAW || base == SOCK_PACKET))
}

/// Why a call was refused, for the trace: the list (or what refused it)
/// and the rule.
pub type Why<'a> = (&'static str, &'a str);

/// The refusal of a raw INET/INET6 or AF_PACKET socket.
pub const UNFILTERABLE: Why<'static> = ("access-rules", "raw-or-packet-socket");

/// The peer `addr` as the rules see it (read without trusting it).
pub fn peer(addr: *const sockaddr, len: socklen_t) -> Option<SockAddr> {
    if addr.is_null() {
        return None;
    }
    caller::read(addr, len)
}

fn list(why: Reason<'_>) -> &'static str {
    match why {
        Reason::Denied(_) => sock_core::rules::DENY_VAR,
        Reason::NotAllowed => sock_core::rules::ALLOW_VAR,
        Reason::FailClosed => "fail-closed",
    }
}

fn rule<'a>(why: Reason<'a>) -> &'a str {
    match why {
        Reason::Denied(r) => &r.text,
        Reason::NotAllowed => "no-match",
        Reason::FailClosed => "invalid-rules",
    }
}

/// Closes a descriptor libsock refused (through the table).
pub fn discard(fd: c_int) {
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: a descriptor the program has not seen yet.
    unsafe { real::close(fd) };
    crate::closes::closed(fd);
}

fn get_int(fd: c_int, level: c_int, name: c_int) -> Option<c_int> {
    let mut value: c_int = 0;
    let mut len = size_of::<c_int>() as socklen_t;
    // SAFETY: `value` and `len` are valid and writable.
    let r = unsafe { real::getsockopt(fd, level, name, (&raw mut value).cast(), &mut len) };
    (r == 0).then_some(value)
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
mod tests {
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
        assert_eq!((a.with_ports.len(), a.without_ports.len()), (1, 1));
        let peer = SockAddr::V4("127.0.0.1:80".parse().unwrap());
        assert_eq!(a.judge(&peer), Some(Reason::FailClosed));
        assert_eq!(a.judge(&SockAddr::Unnamed), None);
        let a = Access::load(None, Some("127.0.0.2"));
        assert!(a.judge(&peer).is_none());
        let mapped = SockAddr::V6("[::ffff:127.0.0.2]:1".parse().unwrap());
        assert!(matches!(a.judge(&mapped), Some(Reason::Denied(_))));
    }
}
