//! Socket-option policy: what libsock does to a program's sockets when the
//! LIBSOCK_* variables ask, and when — at creation, before bind, on accepted
//! sockets. Options are set through the table of next definitions before
//! the program sees the descriptor, so a later `setsockopt` of its own still
//! wins and `getsockopt` reports the truth. A refused option (a kernel
//! without it, a limit) is left as the kernel has it.

use libc::{c_int, c_void, sockaddr, socklen_t};

use crate::caller;
use crate::real;
use sock_core::addr::SockAddr;
use sock_core::config::{self, Config};

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
    config.each_socket_option(domain, tcp, |level, name, value| {
        set_int(fd, level, name, value);
    });
}

/// After `socket(domain, ty, protocol)` returned `fd`.
pub fn on_socket(config: &Config, fd: c_int, domain: c_int, ty: c_int, protocol: c_int) {
    apply(config, fd, domain, config::tcp_stream(ty, protocol));
}

/// After `accept`/`accept4` returned `fd`: its family and type are the
/// listener's, asked of the kernel.
pub fn on_accept(config: &Config, fd: c_int) {
    let Some(domain) = get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN) else {
        return;
    };
    let ty = get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE).unwrap_or(0);
    let protocol = get_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).unwrap_or(0);
    apply(config, fd, domain, config::tcp_stream(ty, protocol));
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
    config.each_bind_option(!matches!(program, SockAddr::V4(_)), |level, name, value| {
        set_int(fd, level, name, value);
    });
    let (bytes, len, addr) = config.rebind(&program, len as usize, || v6_only(fd))?;
    Some(Rebind { bytes, len, addr })
}
