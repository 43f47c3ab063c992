//! Socket-option policy: what libsock does to a program's sockets when the
//! LIBSOCK_* variables ask, and when — at creation, before bind, on accepted
//! sockets. Options are set through the table of next definitions before
//! the program sees the descriptor, so a later `setsockopt` of its own still
//! wins and `getsockopt` reports the truth. A refused option (a kernel
//! without it, a limit) is left as the kernel has it.

use std::net::{SocketAddrV4, SocketAddrV6};

use libc::{c_int, c_void, sockaddr, socklen_t};

use crate::caller;
use crate::real;
use sock_core::addr::{self, SockAddr};
use sock_core::config::Config;

/// Sets an int socket option through the table: whether the kernel took it
/// (callers that leave a refused option as the kernel has it ignore this).
pub(crate) fn set_int(fd: c_int, level: c_int, name: c_int, value: c_int) -> bool {
    // SAFETY: `value` is a valid int for the duration of the call.
    let r = unsafe {
        real::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast::<c_void>(),
            size_of::<c_int>() as socklen_t,
        )
    };
    r == 0
}

/// An int socket option, asked of the kernel through the table.
pub(crate) fn get_int(fd: c_int, level: c_int, name: c_int) -> Option<c_int> {
    let mut value: c_int = 0;
    let mut len = size_of::<c_int>() as socklen_t;
    // SAFETY: `value` and `len` are valid and writable.
    let r = unsafe { real::getsockopt(fd, level, name, (&raw mut value).cast(), &mut len) };
    (r == 0).then_some(value)
}

/// Options for a new INET/INET6 socket (created or accepted).
fn apply(config: &Config, fd: c_int, domain: c_int, tcp: bool) {
    if domain != libc::AF_INET && domain != libc::AF_INET6 {
        return;
    }
    if tcp && config.nodelay {
        set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    }
    if let (true, Some(k)) = (tcp, config.keepalive) {
        set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
        for (name, value) in [
            (libc::TCP_KEEPIDLE, k.idle),
            (libc::TCP_KEEPINTVL, k.interval),
            (libc::TCP_KEEPCNT, k.count),
        ] {
            if let Some(v) = value {
                set_int(fd, libc::IPPROTO_TCP, name, v);
            }
        }
    }
    if let Some(tos) = config.tos {
        // An INET6 socket may carry IPv4 traffic (dual stack, v4-mapped
        // peers): it gets the IPv4 TOS as well as the IPv6 traffic class.
        set_int(fd, libc::IPPROTO_IP, libc::IP_TOS, tos.into());
        if domain == libc::AF_INET6 {
            set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, tos.into());
        }
    }
    if let Some(n) = config.rcvbuf {
        set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, n);
    }
    if let Some(n) = config.sndbuf {
        set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, n);
    }
}

/// A TCP socket: a stream socket of TCP (0 picks it for INET) or of
/// Multipath TCP, which takes the same options.
fn is_tcp(ty: c_int, protocol: c_int) -> bool {
    ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) == libc::SOCK_STREAM
        && matches!(protocol, 0 | libc::IPPROTO_TCP | libc::IPPROTO_MPTCP)
}

/// After `socket(domain, ty, protocol)` returned `fd`.
pub fn on_socket(config: &Config, fd: c_int, domain: c_int, ty: c_int, protocol: c_int) {
    apply(config, fd, domain, is_tcp(ty, protocol));
}

/// After `accept`/`accept4` returned `fd`: its family and type are the
/// listener's, asked of the kernel.
pub fn on_accept(config: &Config, fd: c_int) {
    let Some(domain) = get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN) else {
        return;
    };
    let ty = get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE).unwrap_or(0);
    let protocol = get_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).unwrap_or(0);
    apply(config, fd, domain, is_tcp(ty, protocol));
}

/// Whether an INET6 socket is IPv6-only (no IPv4 through it).
fn v6_only(fd: c_int) -> bool {
    get_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).unwrap_or(0) != 0
}

/// An address to bind instead of the program's.
pub struct Rebind {
    bytes: [u8; 28],
    len: socklen_t,
    /// What it now is, for the trace.
    pub addr: SockAddr,
}

impl Rebind {
    /// The address to hand to `bind`.
    pub fn as_ptr(&self) -> *const sockaddr {
        self.bytes.as_ptr().cast()
    }

    /// Its length.
    pub fn addr_len(&self) -> socklen_t {
        self.len
    }
}

/// Before `bind(fd, addr, len)` of an INET/INET6 address: sets the forced
/// options, and returns the rewritten address if LIBSOCK_BIND_ADDR or
/// LIBSOCK_PORT_MAP changes it. An address libsock cannot read is left for
/// the kernel to refuse.
pub fn before_bind(
    config: &Config,
    fd: c_int,
    addr: *const sockaddr,
    len: socklen_t,
) -> Option<Rebind> {
    let program = caller::read(addr, len)?;
    if !matches!(program, SockAddr::V4(_) | SockAddr::V6(_)) {
        return None;
    }
    if config.reuseaddr {
        set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    }
    if config.reuseport {
        set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1);
    }
    if config.freebind {
        match program {
            SockAddr::V4(_) => set_int(fd, libc::IPPROTO_IP, libc::IP_FREEBIND, 1),
            _ => set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_FREEBIND, 1),
        };
    }
    let port = program.port().map(|p| config.mapped_port(p).unwrap_or(p))?;
    match program {
        SockAddr::V4(a) if len as usize >= 16 => {
            let ip = config.bind_v4.unwrap_or(*a.ip());
            let new = SocketAddrV4::new(ip, port);
            (new != a).then(|| {
                let mut bytes = [0u8; 28];
                bytes[..16].copy_from_slice(&addr::encode_v4(new));
                Rebind {
                    bytes,
                    len: 16,
                    addr: SockAddr::V4(new),
                }
            })
        }
        SockAddr::V6(a) => {
            let ip = match (config.bind_v6, config.bind_v4) {
                (Some(v6), _) => v6,
                // A dual-stack wildcard also takes IPv4: confined to the
                // IPv4 address as its v4-mapped form (which drops IPv6).
                (None, Some(v4)) if a.ip().is_unspecified() && !v6_only(fd) => v4.to_ipv6_mapped(),
                (None, _) => *a.ip(),
            };
            let new = SocketAddrV6::new(ip, port, a.flowinfo(), a.scope_id());
            (new != a).then(|| Rebind {
                bytes: addr::encode_v6(new),
                len: (len as usize).min(28) as socklen_t,
                addr: SockAddr::V6(new),
            })
        }
        _ => None,
    }
}
