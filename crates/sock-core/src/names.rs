//! Symbolic names for what the tracer prints: families, socket types,
//! message flags, option levels and names, errno values. Pure; unknown
//! values print as numbers, never as errors.

use std::fmt::{self, Write};

use libc::c_int;

/// A name, or the number if there is none.
pub struct Named(pub Option<&'static str>, pub i64);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.1),
        }
    }
}

/// `AF_INET`, `AF_INET6`, …
pub fn family(v: c_int) -> Named {
    let name = match v {
        libc::AF_UNSPEC => Some("AF_UNSPEC"),
        libc::AF_UNIX => Some("AF_UNIX"),
        libc::AF_INET => Some("AF_INET"),
        libc::AF_INET6 => Some("AF_INET6"),
        libc::AF_NETLINK => Some("AF_NETLINK"),
        libc::AF_PACKET => Some("AF_PACKET"),
        libc::AF_VSOCK => Some("AF_VSOCK"),
        _ => None,
    };
    Named(name, v.into())
}

/// `SOL_SOCKET`, `IPPROTO_TCP`, …
pub fn level(v: c_int) -> Named {
    let name = match v {
        libc::SOL_SOCKET => Some("SOL_SOCKET"),
        libc::IPPROTO_IP => Some("IPPROTO_IP"),
        libc::IPPROTO_TCP => Some("IPPROTO_TCP"),
        libc::IPPROTO_UDP => Some("IPPROTO_UDP"),
        libc::IPPROTO_IPV6 => Some("IPPROTO_IPV6"),
        _ => None,
    };
    Named(name, v.into())
}

/// The option `name` at `level`: `SO_REUSEADDR`, `TCP_NODELAY`, …
pub fn option(level: c_int, name: c_int) -> Named {
    let known = match level {
        libc::SOL_SOCKET => match name {
            libc::SO_DEBUG => Some("SO_DEBUG"),
            libc::SO_REUSEADDR => Some("SO_REUSEADDR"),
            libc::SO_TYPE => Some("SO_TYPE"),
            libc::SO_ERROR => Some("SO_ERROR"),
            libc::SO_DONTROUTE => Some("SO_DONTROUTE"),
            libc::SO_BROADCAST => Some("SO_BROADCAST"),
            libc::SO_SNDBUF => Some("SO_SNDBUF"),
            libc::SO_RCVBUF => Some("SO_RCVBUF"),
            libc::SO_KEEPALIVE => Some("SO_KEEPALIVE"),
            libc::SO_OOBINLINE => Some("SO_OOBINLINE"),
            libc::SO_LINGER => Some("SO_LINGER"),
            libc::SO_REUSEPORT => Some("SO_REUSEPORT"),
            libc::SO_PASSCRED => Some("SO_PASSCRED"),
            libc::SO_PEERCRED => Some("SO_PEERCRED"),
            libc::SO_RCVLOWAT => Some("SO_RCVLOWAT"),
            libc::SO_SNDLOWAT => Some("SO_SNDLOWAT"),
            libc::SO_RCVTIMEO => Some("SO_RCVTIMEO"),
            libc::SO_SNDTIMEO => Some("SO_SNDTIMEO"),
            libc::SO_BINDTODEVICE => Some("SO_BINDTODEVICE"),
            libc::SO_TIMESTAMP => Some("SO_TIMESTAMP"),
            libc::SO_ACCEPTCONN => Some("SO_ACCEPTCONN"),
            libc::SO_PEERSEC => Some("SO_PEERSEC"),
            libc::SO_SNDBUFFORCE => Some("SO_SNDBUFFORCE"),
            libc::SO_RCVBUFFORCE => Some("SO_RCVBUFFORCE"),
            libc::SO_PROTOCOL => Some("SO_PROTOCOL"),
            libc::SO_DOMAIN => Some("SO_DOMAIN"),
            libc::SO_MARK => Some("SO_MARK"),
            libc::SO_PRIORITY => Some("SO_PRIORITY"),
            libc::SO_BUSY_POLL => Some("SO_BUSY_POLL"),
            libc::SO_INCOMING_CPU => Some("SO_INCOMING_CPU"),
            libc::SO_ZEROCOPY => Some("SO_ZEROCOPY"),
            _ => None,
        },
        libc::IPPROTO_TCP => match name {
            libc::TCP_NODELAY => Some("TCP_NODELAY"),
            libc::TCP_MAXSEG => Some("TCP_MAXSEG"),
            libc::TCP_CORK => Some("TCP_CORK"),
            libc::TCP_KEEPIDLE => Some("TCP_KEEPIDLE"),
            libc::TCP_KEEPINTVL => Some("TCP_KEEPINTVL"),
            libc::TCP_KEEPCNT => Some("TCP_KEEPCNT"),
            libc::TCP_SYNCNT => Some("TCP_SYNCNT"),
            libc::TCP_LINGER2 => Some("TCP_LINGER2"),
            libc::TCP_DEFER_ACCEPT => Some("TCP_DEFER_ACCEPT"),
            libc::TCP_WINDOW_CLAMP => Some("TCP_WINDOW_CLAMP"),
            libc::TCP_INFO => Some("TCP_INFO"),
            libc::TCP_QUICKACK => Some("TCP_QUICKACK"),
            libc::TCP_CONGESTION => Some("TCP_CONGESTION"),
            libc::TCP_USER_TIMEOUT => Some("TCP_USER_TIMEOUT"),
            libc::TCP_FASTOPEN => Some("TCP_FASTOPEN"),
            libc::TCP_NOTSENT_LOWAT => Some("TCP_NOTSENT_LOWAT"),
            _ => None,
        },
        libc::IPPROTO_IP => match name {
            libc::IP_TOS => Some("IP_TOS"),
            libc::IP_TTL => Some("IP_TTL"),
            libc::IP_HDRINCL => Some("IP_HDRINCL"),
            libc::IP_OPTIONS => Some("IP_OPTIONS"),
            libc::IP_PKTINFO => Some("IP_PKTINFO"),
            libc::IP_RECVERR => Some("IP_RECVERR"),
            libc::IP_RECVTOS => Some("IP_RECVTOS"),
            libc::IP_MTU_DISCOVER => Some("IP_MTU_DISCOVER"),
            libc::IP_FREEBIND => Some("IP_FREEBIND"),
            libc::IP_TRANSPARENT => Some("IP_TRANSPARENT"),
            libc::IP_MULTICAST_IF => Some("IP_MULTICAST_IF"),
            libc::IP_MULTICAST_TTL => Some("IP_MULTICAST_TTL"),
            libc::IP_MULTICAST_LOOP => Some("IP_MULTICAST_LOOP"),
            libc::IP_ADD_MEMBERSHIP => Some("IP_ADD_MEMBERSHIP"),
            libc::IP_DROP_MEMBERSHIP => Some("IP_DROP_MEMBERSHIP"),
            libc::IP_ADD_SOURCE_MEMBERSHIP => Some("IP_ADD_SOURCE_MEMBERSHIP"),
            libc::IP_DROP_SOURCE_MEMBERSHIP => Some("IP_DROP_SOURCE_MEMBERSHIP"),
            libc::IP_BLOCK_SOURCE => Some("IP_BLOCK_SOURCE"),
            libc::IP_UNBLOCK_SOURCE => Some("IP_UNBLOCK_SOURCE"),
            libc::MCAST_JOIN_GROUP => Some("MCAST_JOIN_GROUP"),
            libc::MCAST_LEAVE_GROUP => Some("MCAST_LEAVE_GROUP"),
            libc::MCAST_JOIN_SOURCE_GROUP => Some("MCAST_JOIN_SOURCE_GROUP"),
            libc::MCAST_LEAVE_SOURCE_GROUP => Some("MCAST_LEAVE_SOURCE_GROUP"),
            _ => None,
        },
        libc::IPPROTO_IPV6 => match name {
            libc::IPV6_V6ONLY => Some("IPV6_V6ONLY"),
            libc::IPV6_TCLASS => Some("IPV6_TCLASS"),
            libc::IPV6_UNICAST_HOPS => Some("IPV6_UNICAST_HOPS"),
            libc::IPV6_MULTICAST_IF => Some("IPV6_MULTICAST_IF"),
            libc::IPV6_MULTICAST_HOPS => Some("IPV6_MULTICAST_HOPS"),
            libc::IPV6_MULTICAST_LOOP => Some("IPV6_MULTICAST_LOOP"),
            libc::IPV6_ADD_MEMBERSHIP => Some("IPV6_JOIN_GROUP"),
            libc::IPV6_DROP_MEMBERSHIP => Some("IPV6_LEAVE_GROUP"),
            libc::IPV6_RECVPKTINFO => Some("IPV6_RECVPKTINFO"),
            libc::IPV6_PKTINFO => Some("IPV6_PKTINFO"),
            _ => None,
        },
        _ => None,
    };
    Named(known, name.into())
}

/// Flag names joined with `|`; leftover bits as hex; `0` for none.
pub struct Flags(pub &'static [(c_int, &'static str)], pub c_int);

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.1;
        if rest == 0 {
            return f.write_char('0');
        }
        let mut first = true;
        for &(bit, name) in self.0 {
            if bit != 0 && rest & bit == bit {
                if !first {
                    f.write_char('|')?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !bit;
            }
        }
        if rest != 0 {
            if !first {
                f.write_char('|')?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

/// `MSG_*` flags of send and receive calls.
pub const MSG_FLAGS: &[(c_int, &str)] = &[
    (libc::MSG_OOB, "MSG_OOB"),
    (libc::MSG_PEEK, "MSG_PEEK"),
    (libc::MSG_DONTROUTE, "MSG_DONTROUTE"),
    (libc::MSG_CTRUNC, "MSG_CTRUNC"),
    (libc::MSG_TRUNC, "MSG_TRUNC"),
    (libc::MSG_DONTWAIT, "MSG_DONTWAIT"),
    (libc::MSG_EOR, "MSG_EOR"),
    (libc::MSG_WAITALL, "MSG_WAITALL"),
    (libc::MSG_CONFIRM, "MSG_CONFIRM"),
    (libc::MSG_ERRQUEUE, "MSG_ERRQUEUE"),
    (libc::MSG_NOSIGNAL, "MSG_NOSIGNAL"),
    (libc::MSG_MORE, "MSG_MORE"),
    (libc::MSG_WAITFORONE, "MSG_WAITFORONE"),
    (libc::MSG_FASTOPEN, "MSG_FASTOPEN"),
    (libc::MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC"),
];

/// `SOCK_NONBLOCK` and `SOCK_CLOEXEC` (accept4, dup3's O_CLOEXEC is the same bit).
pub const SOCK_FLAGS: &[(c_int, &str)] = &[
    (libc::SOCK_NONBLOCK, "SOCK_NONBLOCK"),
    (libc::SOCK_CLOEXEC, "SOCK_CLOEXEC"),
];

/// A socket type with its flags: `SOCK_STREAM|SOCK_CLOEXEC`.
pub struct SockType(pub c_int);

impl fmt::Display for SockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = self.0 & (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        let base = self.0 & !flags;
        let name = match base {
            libc::SOCK_STREAM => Some("SOCK_STREAM"),
            libc::SOCK_DGRAM => Some("SOCK_DGRAM"),
            libc::SOCK_RAW => Some("SOCK_RAW"),
            libc::SOCK_SEQPACKET => Some("SOCK_SEQPACKET"),
            libc::SOCK_RDM => Some("SOCK_RDM"),
            _ => None,
        };
        write!(f, "{}", Named(name, base.into()))?;
        if flags != 0 {
            write!(f, "|{}", Flags(SOCK_FLAGS, flags))?;
        }
        Ok(())
    }
}

/// `SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`.
pub fn how(v: c_int) -> Named {
    let name = match v {
        libc::SHUT_RD => Some("SHUT_RD"),
        libc::SHUT_WR => Some("SHUT_WR"),
        libc::SHUT_RDWR => Some("SHUT_RDWR"),
        _ => None,
    };
    Named(name, v.into())
}

/// `EADDRINUSE`, …: an errno's macro name (nix's table of every Linux
/// errno), or the number when it has none. glibc's own `strerrorname_np` is
/// 2.32+, above libsock's glibc floor (2.17).
pub fn errno(v: c_int) -> ErrnoName {
    ErrnoName(v)
}

/// See [`errno`]. Formats without allocating.
pub struct ErrnoName(pub c_int);

impl fmt::Display for ErrnoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match nix::errno::Errno::from_raw(self.0) {
            nix::errno::Errno::UnknownErrno => write!(f, "{}", self.0),
            // The enum's variant names are the C macro names.
            e => write!(f, "{e:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(family(libc::AF_INET6).to_string(), "AF_INET6");
        assert_eq!(family(12345).to_string(), "12345");
        assert_eq!(
            option(libc::SOL_SOCKET, libc::SO_REUSEADDR).to_string(),
            "SO_REUSEADDR"
        );
        assert_eq!(
            option(libc::IPPROTO_TCP, libc::TCP_NODELAY).to_string(),
            "TCP_NODELAY"
        );
        assert_eq!(option(999, 1).to_string(), "1");
        assert_eq!(level(libc::IPPROTO_IPV6).to_string(), "IPPROTO_IPV6");
        assert_eq!(errno(libc::EADDRINUSE).to_string(), "EADDRINUSE");
        assert_eq!(errno(100000).to_string(), "100000");
        assert_eq!(errno(0).to_string(), "0");
        assert_eq!(errno(-1).to_string(), "-1");
    }

    /// Every name is the one glibc gives (where this glibc has
    /// strerrorname_np, 2.32+: looked up at run time, as libsock must not
    /// reference it).
    #[test]
    #[allow(unsafe_code)] // asks glibc itself, to compare
    fn errno_names_are_glibcs() {
        type Name = unsafe extern "C" fn(c_int) -> *const std::ffi::c_char;
        // SAFETY: a NUL-terminated name.
        let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"strerrorname_np".as_ptr()) };
        if f.is_null() {
            eprintln!("no strerrorname_np in this glibc: names not compared");
            return;
        }
        // SAFETY: strerrorname_np has this C type.
        let glibc = unsafe { std::mem::transmute::<*mut std::ffi::c_void, Name>(f) };
        let mut compared = 0;
        for v in 1..512 {
            // SAFETY: returns a static string or NULL.
            let p = unsafe { glibc(v) };
            let want = if p.is_null() {
                v.to_string()
            } else {
                // SAFETY: a static NUL-terminated string from glibc.
                let s = unsafe { std::ffi::CStr::from_ptr(p) };
                compared += 1;
                s.to_str().unwrap().to_owned()
            };
            assert_eq!(errno(v).to_string(), want, "errno {v}");
        }
        assert!(compared > 100, "glibc named only {compared} errnos");
        assert_eq!(how(7).to_string(), "7");
    }

    #[test]
    fn flags() {
        assert_eq!(Flags(MSG_FLAGS, 0).to_string(), "0");
        assert_eq!(
            Flags(MSG_FLAGS, libc::MSG_PEEK | libc::MSG_NOSIGNAL).to_string(),
            "MSG_PEEK|MSG_NOSIGNAL"
        );
        assert_eq!(
            Flags(MSG_FLAGS, libc::MSG_PEEK | 0x10000000).to_string(),
            "MSG_PEEK|0x10000000"
        );
        assert_eq!(Flags(SOCK_FLAGS, 0x4).to_string(), "0x4");
        assert_eq!(
            SockType(libc::SOCK_STREAM | libc::SOCK_CLOEXEC).to_string(),
            "SOCK_STREAM|SOCK_CLOEXEC"
        );
        assert_eq!(SockType(99).to_string(), "99");
    }
}
