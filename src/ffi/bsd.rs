//! The standard socket calls, exported under glibc's names.
//!
//! With nothing configured each export is the next definition itself: the
//! arguments go through untouched, the kernel decides, and the result and
//! errno come back as glibc's. Signatures are checked at compile time against
//! the table in `crate::real`, whose signatures are checked against the libc
//! crate's.
//!
//! # Safety
//! Every export has the contract of the C function of the same name: pointer
//! arguments are the caller's, and libsock never dereferences them here — the
//! next definition (and the kernel, which answers EFAULT for bad ones) does.

use std::ffi::c_void;

use libc::{c_int, c_uint, mmsghdr, msghdr, size_t, sockaddr, socklen_t, ssize_t, timespec};

use crate::{closes, real};

/// `socket`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "socket"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_socket"))]
pub unsafe extern "C" fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::socket(domain, ty, protocol) }
}

/// `socketpair`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "socketpair"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_socketpair"))]
pub unsafe extern "C" fn socketpair(
    domain: c_int,
    ty: c_int,
    protocol: c_int,
    sv: *mut c_int,
) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::socketpair(domain, ty, protocol, sv) }
}

/// `bind`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "bind"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_bind"))]
pub unsafe extern "C" fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::bind(fd, addr, len) }
}

/// `listen`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "listen"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_listen"))]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::listen(fd, backlog) }
}

/// `accept`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "accept"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_accept"))]
pub unsafe extern "C" fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::accept(fd, addr, len) }
}

/// `accept4`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "accept4"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_accept4"))]
pub unsafe extern "C" fn accept4(
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::accept4(fd, addr, len, flags) }
}

/// `connect`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "connect"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_connect"))]
pub unsafe extern "C" fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::connect(fd, addr, len) }
}

/// `send`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "send"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_send"))]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::send(fd, buf, len, flags) }
}

/// `sendto`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "sendto"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_sendto"))]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    addr: *const sockaddr,
    addrlen: socklen_t,
) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::sendto(fd, buf, len, flags, addr, addrlen) }
}

/// `sendmsg`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "sendmsg"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_sendmsg"))]
pub unsafe extern "C" fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::sendmsg(fd, msg, flags) }
}

/// `sendmmsg`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "sendmmsg"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_sendmmsg"))]
pub unsafe extern "C" fn sendmmsg(
    fd: c_int,
    msgs: *mut mmsghdr,
    vlen: c_uint,
    flags: c_int,
) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::sendmmsg(fd, msgs, vlen, flags) }
}

/// `recv`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "recv"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_recv"))]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::recv(fd, buf, len, flags) }
}

/// `recvfrom`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "recvfrom"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_recvfrom"))]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    addrlen: *mut socklen_t,
) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::recvfrom(fd, buf, len, flags, addr, addrlen) }
}

/// `recvmsg`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "recvmsg"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_recvmsg"))]
pub unsafe extern "C" fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::recvmsg(fd, msg, flags) }
}

/// `recvmmsg`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "recvmmsg"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_recvmmsg"))]
pub unsafe extern "C" fn recvmmsg(
    fd: c_int,
    msgs: *mut mmsghdr,
    vlen: c_uint,
    flags: c_int,
    timeout: *mut timespec,
) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::recvmmsg(fd, msgs, vlen, flags, timeout) }
}

/// `__recv_chk`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "__recv_chk"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test___recv_chk"))]
pub unsafe extern "C" fn __recv_chk(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buflen: size_t,
    flags: c_int,
) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::__recv_chk(fd, buf, len, buflen, flags) }
}

/// `__recvfrom_chk`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "__recvfrom_chk"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test___recvfrom_chk"))]
pub unsafe extern "C" fn __recvfrom_chk(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buflen: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    addrlen: *mut socklen_t,
) -> ssize_t {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::__recvfrom_chk(fd, buf, len, buflen, flags, addr, addrlen) }
}

/// `setsockopt`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "setsockopt"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_setsockopt"))]
pub unsafe extern "C" fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *const c_void,
    len: socklen_t,
) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::setsockopt(fd, level, name, value, len) }
}

/// `getsockopt`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "getsockopt"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_getsockopt"))]
pub unsafe extern "C" fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::getsockopt(fd, level, name, value, len) }
}

/// `getsockname`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "getsockname"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_getsockname"))]
pub unsafe extern "C" fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::getsockname(fd, addr, len) }
}

/// `getpeername`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "getpeername"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_getpeername"))]
pub unsafe extern "C" fn getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::getpeername(fd, addr, len) }
}

/// `shutdown`, forwarded to the next definition.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "shutdown"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_shutdown"))]
pub unsafe extern "C" fn shutdown(fd: c_int, how: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    unsafe { real::shutdown(fd, how) }
}

/// `close`, forwarded; the close is recorded for SocketSet's epoll
/// registrations (see `crate::closes`).
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "close"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_close"))]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    let r = unsafe { real::close(fd) };
    closes::closed(fd);
    r
}

/// `dup2`, forwarded; `newfd`, closed by it if open, is recorded as closed.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "dup2"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_dup2"))]
pub unsafe extern "C" fn dup2(oldfd: c_int, newfd: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    let r = unsafe { real::dup2(oldfd, newfd) };
    if r >= 0 && oldfd != newfd {
        closes::closed(newfd);
    }
    r
}

/// `dup3`, forwarded; `newfd`, closed by it if open, is recorded as closed.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "dup3"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_dup3"))]
pub unsafe extern "C" fn dup3(oldfd: c_int, newfd: c_int, flags: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    let r = unsafe { real::dup3(oldfd, newfd, flags) };
    if r >= 0 {
        closes::closed(newfd);
    }
    r
}

/// `close_range`, forwarded; the range is recorded as closed unless the
/// call only set close-on-exec.
///
/// # Safety
/// As for the C function.
#[cfg_attr(not(test), unsafe(export_name = "close_range"))]
#[cfg_attr(test, unsafe(export_name = "libsock_test_close_range"))]
pub unsafe extern "C" fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    // SAFETY: forwarded unchanged; the caller's contract is the C function's.
    let r = unsafe { real::close_range(first, last, flags) };
    if r == 0 && flags as c_uint & libc::CLOSE_RANGE_CLOEXEC == 0 {
        closes::closed_range(first, last);
    }
    r
}
