//! What libsock does around each standard socket call when something is
//! configured: one function per call, named after it, called by its export
//! (`super::exports`, generated from the table of calls) with the settings
//! in force. Each forwards the call exactly once through `crate::real`;
//! around it libsock applies policy (`crate::policy`) and counts and traces
//! it (`Settings::done`), all inside its boundary with errno preserved.
//!
//! # Safety
//! Every function has the contract of the C function of the same name:
//! pointer arguments are the caller's and are handed on unchanged. libsock
//! reads them (to trace, to judge a peer, or to rewrite a bind address)
//! only through `crate::caller`, which cannot fault; the one write is
//! putting back, after a refused accept, what the kernel had just written.

use std::ffi::c_void;

use libc::{c_int, c_uint, mmsghdr, msghdr, size_t, sockaddr, socklen_t, ssize_t, timespec};

use crate::caller;
use crate::outbound::{self, Message, Name, Pinned};
use crate::settings::Settings;
use crate::stats::{self, Dir};
use crate::{access, closes, policy, real};
use sock_core::Call;
use sock_core::addr::{self, SockAddr};
use sock_core::rules::dest::Op;
use sock_core::trace::{Record, Val};

/// The bytes a data call moved: its non-negative result.
fn moved(ret: i64) -> u64 {
    ret.max(0) as u64
}

/// An int option value at `value` when `len` says it is an int.
fn int_option(value: *const c_void, len: socklen_t) -> Option<i64> {
    if len as usize != size_of::<c_int>() {
        return None;
    }
    let mut buf = [0u8; addr::MAX_LEN];
    caller::copy_in(value, 4, &mut buf)?;
    Some(i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]).into())
}

/// The name (address) of a msghdr, for the trace.
fn msg_name(msg: *const msghdr) -> Option<SockAddr> {
    caller::msg_name(msg).ok().flatten()
}

/// The room the caller gave for an address (`*len` before the call), read
/// only when it will be traced.
fn room(s: &Settings, len: *const socklen_t) -> Option<socklen_t> {
    s.trace.as_ref().and_then(|_| caller::read_len(len))
}

/// The bytes moved by the first `n` messages of an mmsghdr array.
fn mmsg_bytes(msgs: *const mmsghdr, n: c_int) -> u64 {
    let mut total = 0u64;
    let mut buf = [0u8; addr::MAX_LEN];
    for i in 0..n.max(0) as usize {
        let offset = i * size_of::<mmsghdr>() + std::mem::offset_of!(mmsghdr, msg_len);
        let field = msgs.cast::<u8>().wrapping_add(offset).cast::<c_void>();
        if caller::copy_in(field, 4, &mut buf).is_none() {
            break;
        }
        total += u64::from(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]));
    }
    total
}

/// `socket`
///
/// # Safety
/// As for the C function.
pub unsafe fn socket(s: &'static Settings, domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    let t0 = s.start();
    let record = |rec: Record| {
        rec.arg("domain", Val::Family(domain))
            .arg("type", Val::SockType(ty))
            .arg("protocol", Val::Int(protocol.into()))
    };
    // Access rules: a socket no filter holds, or whose peers libsock
    // cannot place, is refused.
    if s.access.is_some() {
        if access::unfilterable(domain, ty) {
            return s.refuse(Call::socket, t0, access::UNFILTERABLE, record);
        }
        if !access::placeable(domain, ty, protocol) {
            return s.refuse(Call::socket, t0, outbound::UNPLACEABLE, record);
        }
        let kind = sock_core::rules::dest::Socket {
            domain,
            ty,
            protocol,
        };
        if !kind.filterable() {
            return s.refuse(Call::socket, t0, access::NO_FILTER, record);
        }
    }
    // SAFETY: the caller's contract is the C function's.
    let fd = unsafe { real::marked::socket(domain, ty, protocol) };
    // Access rules: the filter, locked, before the program sees the socket.
    let kind = (domain, ty, protocol);
    if fd >= 0 {
        if let Some(why) = s.access.as_ref().and_then(|a| a.on_socket(fd, kind)) {
            access::discard(fd);
            return s.refuse(Call::socket, t0, why, record);
        }
    }
    if fd >= 0 {
        s.policy(|c| policy::on_socket(c, fd, domain, ty, protocol));
    }
    s.done(Call::socket, t0, fd.into(), Dir::None, 0, record);
    fd
}

/// `socketpair`
///
/// # Safety
/// As for the C function.
pub unsafe fn socketpair(
    s: &Settings,
    domain: c_int,
    ty: c_int,
    protocol: c_int,
    sv: *mut c_int,
) -> c_int {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::socketpair(domain, ty, protocol, sv) };
    s.done(Call::socketpair, t0, r.into(), Dir::None, 0, |rec| {
        let rec = rec
            .arg("domain", Val::Family(domain))
            .arg("type", Val::SockType(ty))
            .arg("protocol", Val::Int(protocol.into()));
        let mut buf = [0u8; addr::MAX_LEN];
        match (r, caller::copy_in(sv.cast(), 8, &mut buf)) {
            (0, Some(_)) => rec.out(
                "fds",
                Val::Fds([
                    i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]),
                    i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]),
                ]),
            ),
            _ => rec,
        }
    });
    r
}

/// `bind`; with LIBSOCK_BIND_ADDR or LIBSOCK_PORT_MAP the address may be
/// rewritten, and forced options are set first.
///
/// # Safety
/// As for the C function.
pub unsafe fn bind(s: &Settings, fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    let rebind = s
        .policy(|c| policy::before_bind(c, fd, addr, len))
        .flatten();
    let (a, l) = rebind
        .as_ref()
        .map_or((addr, len), |r| (r.as_ptr(), r.addr_len()));
    let t0 = s.start();
    // SAFETY: the caller's address, or libsock's rewrite of it (valid for `l` bytes).
    let r = unsafe { real::marked::bind(fd, a, l) };
    s.done(Call::bind, t0, r.into(), Dir::None, 0, |rec| {
        let rec = rec.fd(fd);
        match &rebind {
            Some(rb) => rec
                .arg("addr", Val::Addr(Some(rb.addr.clone())))
                .out("asked", Val::Addr(caller::read(addr, len))),
            None => rec.arg("addr", Val::Addr(caller::read(addr, len))),
        }
    });
    r
}

/// `listen`
///
/// # Safety
/// As for the C function.
pub unsafe fn listen(s: &Settings, fd: c_int, backlog: c_int) -> c_int {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::listen(fd, backlog) };
    s.done(Call::listen, t0, r.into(), Dir::None, 0, |rec| {
        rec.fd(fd).arg("backlog", Val::Int(backlog.into()))
    });
    r
}

/// The shared body of accept and accept4.
///
/// # Safety
/// As for accept4.
unsafe fn accepted(
    s: &'static Settings,
    call: Call,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: Option<c_int>,
) -> c_int {
    let room = room(s, len);
    // Access rules: what the caller's buffers hold, for a refused
    // connection to leave them as a failed accept does (untouched).
    let before = s
        .access
        .as_ref()
        .map(|_| AcceptBufs::save(addr, len))
        .unwrap_or_default();
    let t0 = s.start();
    let new = match flags {
        // SAFETY: forwarded unchanged.
        Some(f) => unsafe { real::accept4(fd, addr, len, f) },
        // SAFETY: forwarded unchanged.
        None => unsafe { real::accept(fd, addr, len) },
    };
    // Access rules: the filter (inherited from the listener, normally),
    // and no connection from a refused peer queued before it was filtered.
    if new >= 0 {
        if let Some(why) = s.access.as_ref().and_then(|a| a.on_accept(new)) {
            access::discard(new);
            // SAFETY: accept succeeded, so the kernel has just written the
            // caller's `addr` (if not NULL) and `*len`.
            unsafe { before.restore(addr, len) };
            if let Some(stats) = &s.stats {
                crate::boundary::own(|| stats.denied(call));
            }
            crate::errno::set(libc::ECONNABORTED);
            s.done(call, t0, -1, Dir::None, 0, |rec| {
                let mut rec = rec.fd(fd);
                if let Some(f) = flags {
                    rec = rec.arg("flags", Val::SockFlags(f));
                }
                rec.out("denied_by", Val::Rule(why.0, why.1))
            });
            crate::errno::set(libc::ECONNABORTED);
            return -1;
        }
    }
    if new >= 0 {
        s.policy(|c| policy::on_accept(c, new));
    }
    s.done(call, t0, new.into(), Dir::None, 0, |rec| {
        let mut rec = rec.fd(fd);
        if let Some(f) = flags {
            rec = rec.arg("flags", Val::SockFlags(f));
        }
        if new >= 0 && !addr.is_null() {
            if let Some(peer) = caller::read_out(addr, len, room) {
                rec = rec.out("peer", Val::Addr(Some(peer)));
            }
        }
        rec
    });
    new
}

/// The caller's accept buffers as they were before the call: `*len` and
/// the bytes of `addr` the kernel may write (None where unreadable).
#[derive(Default)]
struct AcceptBufs {
    room: Option<socklen_t>,
    addr: Option<[u8; addr::MAX_LEN]>,
}

impl AcceptBufs {
    fn save(addr: *const sockaddr, len: *const socklen_t) -> AcceptBufs {
        if addr.is_null() {
            return AcceptBufs::default();
        }
        let room = caller::read_len(len);
        let mut buf = [0u8; addr::MAX_LEN];
        let saved = room.and_then(|r| caller::copy_in(addr.cast(), r as usize, &mut buf));
        AcceptBufs {
            room,
            addr: saved.map(|_| buf),
        }
    }

    /// Puts back what the kernel overwrote: the saved bytes and length, or,
    /// where they could not be read, zeroes over the peer's address.
    ///
    /// # Safety
    /// Only after a successful accept: `addr`, if not NULL, and `len` are
    /// valid and hold what the kernel wrote.
    unsafe fn restore(&self, addr: *mut sockaddr, len: *mut socklen_t) {
        if addr.is_null() {
            return;
        }
        // SAFETY: the kernel has just written `*len` (the contract).
        let full = unsafe { len.read_unaligned() };
        let wrote = (full as usize)
            .min(self.room.map_or(usize::MAX, |r| r as usize))
            .min(addr::MAX_LEN);
        let zeroes = [0u8; addr::MAX_LEN];
        let bytes = self.addr.as_ref().unwrap_or(&zeroes);
        // SAFETY: the kernel wrote `wrote` bytes at `addr` (the contract).
        unsafe { caller::restore(addr.cast(), &bytes[..wrote]) };
        if let Some(room) = self.room {
            // SAFETY: as above, `len` is the caller's valid socklen_t.
            unsafe { caller::restore(len.cast(), &room.to_ne_bytes()) };
        }
    }
}

/// `accept`; accepted sockets get the configured options.
///
/// # Safety
/// As for the C function.
pub unsafe fn accept(
    s: &'static Settings,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    // SAFETY: as for accept.
    unsafe { accepted(s, Call::accept, fd, addr, len, None) }
}

/// `accept4`; accepted sockets get the configured options.
///
/// # Safety
/// As for the C function.
pub unsafe fn accept4(
    s: &'static Settings,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
) -> c_int {
    // SAFETY: as for accept4.
    unsafe { accepted(s, Call::accept4, fd, addr, len, Some(flags)) }
}

/// `connect`
///
/// # Safety
/// As for the C function.
pub unsafe fn connect(
    s: &'static Settings,
    fd: c_int,
    addr: *const sockaddr,
    len: socklen_t,
) -> c_int {
    let t0 = s.start();
    let record = |rec: Record| rec.fd(fd).arg("addr", Val::Addr(caller::read(addr, len)));
    // Access rules: a refused peer is never reached; the kernel gets the
    // address that was judged.
    let mut name = Name::new();
    let pin = s.access.as_ref().map(|_| Pinned::new(fd));
    if let (Some(access), Some(pin)) = (&s.access, &pin) {
        if let Err(why) = access.judge_name(pin.fd(), Op::Connect, addr, len, &mut name) {
            return s.refuse(Call::connect, t0, why, record);
        }
    }
    let on = pin.as_ref().map_or(fd, Pinned::fd);
    // SAFETY: forwarded, on the socket and with the address judged (the
    // caller's without rules).
    let r = unsafe { real::marked::connect(on, name.ptr(addr), len) };
    drop(pin);
    s.done(Call::connect, t0, r.into(), Dir::None, 0, record);
    r
}

/// `send`
///
/// # Safety
/// As for the C function.
pub unsafe fn send(
    s: &Settings,
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
) -> ssize_t {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::send(fd, buf, len, flags) };
    s.done(Call::send, t0, r as i64, Dir::Out, moved(r as i64), |rec| {
        rec.fd(fd)
            .arg("size", Val::Int(len as i64))
            .arg("flags", Val::MsgFlags(flags))
    });
    r
}

/// `sendto`
///
/// # Safety
/// As for the C function.
pub unsafe fn sendto(
    s: &'static Settings,
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    addr: *const sockaddr,
    addrlen: socklen_t,
) -> ssize_t {
    let t0 = s.start();
    let record = |rec: Record| {
        let rec = rec
            .fd(fd)
            .arg("size", Val::Int(len as i64))
            .arg("flags", Val::MsgFlags(flags));
        if addr.is_null() {
            rec
        } else {
            rec.arg("addr", Val::Addr(caller::read(addr, addrlen)))
        }
    };
    // Access rules (MSG_FASTOPEN included): nothing sent to a refused peer;
    // the kernel gets the address that was judged.
    let mut name = Name::new();
    let pin = s.access.as_ref().map(|_| Pinned::new(fd));
    if let (Some(access), Some(pin)) = (&s.access, &pin) {
        let op = Op::SendTo { flags };
        if let Err(why) = access.judge_name(pin.fd(), op, addr, addrlen, &mut name) {
            return s.refuse(Call::sendto, t0, why, record) as ssize_t;
        }
    }
    let on = pin.as_ref().map_or(fd, Pinned::fd);
    // SAFETY: forwarded, on the socket and with the address judged (the
    // caller's without rules).
    let r = unsafe { real::marked::sendto(on, buf, len, flags, name.ptr(addr), addrlen) };
    drop(pin);
    s.done(
        Call::sendto,
        t0,
        r as i64,
        Dir::Out,
        moved(r as i64),
        record,
    );
    r
}

/// `sendmsg`
///
/// # Safety
/// As for the C function.
pub unsafe fn sendmsg(
    s: &'static Settings,
    fd: c_int,
    msg: *const msghdr,
    flags: c_int,
) -> ssize_t {
    let t0 = s.start();
    let record = |rec: Record| {
        let rec = rec.fd(fd).arg("flags", Val::MsgFlags(flags));
        match msg_name(msg) {
            Some(a) => rec.arg("addr", Val::Addr(Some(a))),
            None => rec,
        }
    };
    // Access rules: nothing sent to a refused peer; the kernel gets a copy
    // of the header with the name and control data that were judged.
    // Only with rules: a Message is most of a kilobyte to clear, and
    // tracing alone forwards the caller's header.
    let mut copy = s.access.as_ref().map(|_| Message::new());
    let mut kernel_msg = msg;
    let pin = s.access.as_ref().map(|_| Pinned::new(fd));
    if let (Some(access), Some(pin), Some(copy)) = (&s.access, &pin, &mut copy) {
        match access.judge_msg(pin.fd(), flags, msg, copy) {
            Ok(m) => kernel_msg = m,
            Err(why) => return s.refuse(Call::sendmsg, t0, why, record) as ssize_t,
        }
    }
    let on = pin.as_ref().map_or(fd, Pinned::fd);
    // SAFETY: forwarded, on the socket and with the header judged (the
    // caller's without rules).
    let r = unsafe { real::marked::sendmsg(on, kernel_msg, flags) };
    drop(pin);
    s.done(
        Call::sendmsg,
        t0,
        r as i64,
        Dir::Out,
        moved(r as i64),
        record,
    );
    r
}

/// `sendmmsg`
///
/// # Safety
/// As for the C function.
pub unsafe fn sendmmsg(
    s: &'static Settings,
    fd: c_int,
    msgs: *mut mmsghdr,
    vlen: c_uint,
    flags: c_int,
) -> c_int {
    let t0 = s.start();
    let record = |rec: Record| {
        rec.fd(fd)
            .arg("vlen", Val::Int(vlen.into()))
            .arg("flags", Val::MsgFlags(flags))
    };
    // Access rules: only the messages before the first one to a refused
    // peer are sent, each as libsock's judged copy; if that is the first,
    // nothing is and the call fails.
    let (r, cut) = match &s.access {
        Some(access) => {
            let pin = Pinned::new(fd);
            // SAFETY: the caller's contract is the C function's.
            match unsafe { outbound::sendmmsg(access, &pin, msgs, vlen, flags) } {
                (-1, Some(why)) => return s.refuse(Call::sendmmsg, t0, why, record),
                judged => judged,
            }
        }
        // SAFETY: forwarded unchanged.
        None => (
            unsafe { real::marked::sendmmsg(fd, msgs, vlen, flags) },
            None,
        ),
    };
    let bytes = if s.stats.is_some() {
        mmsg_bytes(msgs, r)
    } else {
        0
    };
    // A batch cut before a refused message is a denial too.
    if let (Some(_), Some(stats)) = (cut, &s.stats) {
        crate::boundary::own(|| stats.denied(Call::sendmmsg));
    }
    s.done(
        Call::sendmmsg,
        t0,
        r.into(),
        Dir::Out,
        bytes,
        |rec| match cut {
            Some(why) => record(rec).out("denied_by", Val::Rule(why.0, why.1)),
            None => record(rec),
        },
    );
    r
}

/// `recv`
///
/// # Safety
/// As for the C function.
pub unsafe fn recv(
    s: &Settings,
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
) -> ssize_t {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::recv(fd, buf, len, flags) };
    traced_recv(s, t0, r, fd, len, flags);
    r
}

fn traced_recv(s: &Settings, t0: u64, r: ssize_t, fd: c_int, len: size_t, flags: c_int) {
    s.done(Call::recv, t0, r as i64, Dir::In, moved(r as i64), |rec| {
        rec.fd(fd)
            .arg("size", Val::Int(len as i64))
            .arg("flags", Val::MsgFlags(flags))
    });
}

/// `recvfrom`
///
/// # Safety
/// As for the C function.
pub unsafe fn recvfrom(
    s: &Settings,
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    addrlen: *mut socklen_t,
) -> ssize_t {
    let room = room(s, addrlen);
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::recvfrom(fd, buf, len, flags, addr, addrlen) };
    traced_recvfrom(s, t0, r, (fd, len, flags), addr, addrlen, room);
    r
}

fn traced_recvfrom(
    s: &Settings,
    t0: u64,
    r: ssize_t,
    (fd, len, flags): (c_int, size_t, c_int),
    addr: *mut sockaddr,
    addrlen: *mut socklen_t,
    room: Option<socklen_t>,
) {
    s.done(
        Call::recvfrom,
        t0,
        r as i64,
        Dir::In,
        moved(r as i64),
        |rec| {
            let rec = rec
                .fd(fd)
                .arg("size", Val::Int(len as i64))
                .arg("flags", Val::MsgFlags(flags));
            match (r >= 0 && !addr.is_null())
                .then(|| caller::read_out(addr, addrlen, room))
                .flatten()
            {
                Some(from) => rec.out("from", Val::Addr(Some(from))),
                None => rec,
            }
        },
    );
}

/// `recvmsg`
///
/// # Safety
/// As for the C function.
pub unsafe fn recvmsg(s: &Settings, fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::recvmsg(fd, msg, flags) };
    s.done(
        Call::recvmsg,
        t0,
        r as i64,
        Dir::In,
        moved(r as i64),
        |rec| {
            let rec = rec.fd(fd).arg("flags", Val::MsgFlags(flags));
            match (r >= 0).then(|| msg_name(msg)).flatten() {
                Some(a) => rec.out("from", Val::Addr(Some(a))),
                None => rec,
            }
        },
    );
    r
}

/// `recvmmsg`
///
/// # Safety
/// As for the C function.
pub unsafe fn recvmmsg(
    s: &Settings,
    fd: c_int,
    msgs: *mut mmsghdr,
    vlen: c_uint,
    flags: c_int,
    timeout: *mut timespec,
) -> c_int {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::recvmmsg(fd, msgs, vlen, flags, timeout) };
    let bytes = if s.stats.is_some() {
        mmsg_bytes(msgs, r)
    } else {
        0
    };
    s.done(Call::recvmmsg, t0, r.into(), Dir::In, bytes, |rec| {
        rec.fd(fd)
            .arg("vlen", Val::Int(vlen.into()))
            .arg("flags", Val::MsgFlags(flags))
    });
    r
}

/// `__recv_chk`, `recv` under `_FORTIFY_SOURCE` (traced as `recv`).
///
/// # Safety
/// As for the C function.
pub unsafe fn __recv_chk(
    s: &Settings,
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buflen: size_t,
    flags: c_int,
) -> ssize_t {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::__recv_chk(fd, buf, len, buflen, flags) };
    traced_recv(s, t0, r, fd, len, flags);
    r
}

/// `__recvfrom_chk`, `recvfrom` under `_FORTIFY_SOURCE` (traced as `recvfrom`).
///
/// # Safety
/// As for the C function.
#[allow(clippy::too_many_arguments)] // the C call has seven, and the settings
pub unsafe fn __recvfrom_chk(
    s: &Settings,
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buflen: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    addrlen: *mut socklen_t,
) -> ssize_t {
    let room = room(s, addrlen);
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::__recvfrom_chk(fd, buf, len, buflen, flags, addr, addrlen) };
    traced_recvfrom(s, t0, r, (fd, len, flags), addr, addrlen, room);
    r
}

/// `setsockopt`
///
/// # Safety
/// As for the C function.
pub unsafe fn setsockopt(
    s: &'static Settings,
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *const c_void,
    len: socklen_t,
) -> c_int {
    let t0 = s.start();
    let record = |rec: Record| {
        rec.fd(fd)
            .arg(
                "opt",
                Val::Opt {
                    level,
                    name,
                    value: int_option(value, len),
                },
            )
            .arg("len", Val::Int(len.into()))
    };
    // Access rules: no source route (the packets' first hop would be a
    // peer no rule judged); the kernel gets the option value judged.
    let mut copy = [0u8; addr::MAX_LEN];
    let mut kernel_value = value;
    let watched = outbound::watched_option(level, name);
    let pin = s
        .access
        .as_ref()
        .filter(|_| watched)
        .map(|_| Pinned::new(fd));
    if let (Some(access), Some(pin)) = (&s.access, &pin) {
        match access.judge_option(pin.fd(), level, name, value, len, &mut copy) {
            Ok(v) => kernel_value = v,
            Err(why) => return s.refuse(Call::setsockopt, t0, why, record),
        }
    }
    let on = pin.as_ref().map_or(fd, Pinned::fd);
    // SAFETY: forwarded, on the socket and with the value judged (the
    // caller's without rules).
    let r = unsafe { real::setsockopt(on, level, name, kernel_value, len) };
    drop(pin);
    s.done(Call::setsockopt, t0, r.into(), Dir::None, 0, record);
    r
}

/// `getsockopt`
///
/// # Safety
/// As for the C function.
pub unsafe fn getsockopt(
    s: &Settings,
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::getsockopt(fd, level, name, value, len) };
    s.done(Call::getsockopt, t0, r.into(), Dir::None, 0, |rec| {
        let got = (r == 0)
            .then(|| {
                let mut buf = [0u8; addr::MAX_LEN];
                caller::copy_in(len.cast(), 4, &mut buf)?;
                int_option(
                    value,
                    socklen_t::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]),
                )
            })
            .flatten();
        rec.fd(fd).arg(
            "opt",
            Val::Opt {
                level,
                name,
                value: got,
            },
        )
    });
    r
}

/// The shared body of getsockname and getpeername: `call` is the next
/// definition.
///
/// # Safety
/// As for getsockname.
unsafe fn named(
    s: &Settings,
    name: Call,
    call: unsafe fn(c_int, *mut sockaddr, *mut socklen_t) -> c_int,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    let room = room(s, len);
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { call(fd, addr, len) };
    s.done(name, t0, r.into(), Dir::None, 0, |rec| {
        let rec = rec.fd(fd);
        match (r == 0)
            .then(|| caller::read_out(addr, len, room))
            .flatten()
        {
            Some(a) => rec.out("addr", Val::Addr(Some(a))),
            None => rec,
        }
    });
    r
}

/// `getsockname`
///
/// # Safety
/// As for the C function.
pub unsafe fn getsockname(
    s: &Settings,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    // SAFETY: as for getsockname.
    unsafe { named(s, Call::getsockname, real::getsockname, fd, addr, len) }
}

/// `getpeername`
///
/// # Safety
/// As for the C function.
pub unsafe fn getpeername(
    s: &Settings,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> c_int {
    // SAFETY: as for getpeername.
    unsafe { named(s, Call::getpeername, real::getpeername, fd, addr, len) }
}

/// `shutdown`
///
/// # Safety
/// As for the C function.
pub unsafe fn shutdown(s: &Settings, fd: c_int, how: c_int) -> c_int {
    let t0 = s.start();
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::shutdown(fd, how) };
    s.done(Call::shutdown, t0, r.into(), Dir::None, 0, |rec| {
        rec.fd(fd).arg("how", Val::How(how))
    });
    r
}

/// `close`, forwarded; the close is recorded for SocketSet's epoll
/// registrations (see `crate::closes`).
///
/// # Safety
/// As for the C function.
pub unsafe fn close(s: Option<&Settings>, fd: c_int) -> c_int {
    let t0 = s.map_or(0, Settings::start);
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::close(fd) };
    closes::closed(fd);
    if let Some(s) = s {
        // Linux closes the descriptor even when close fails, unless it was not open.
        if fd >= 0 && !(r < 0 && crate::errno::get() == libc::EBADF) {
            s.descriptor_gone(fd as c_uint, fd as c_uint);
        }
        s.done(Call::close, t0, r.into(), Dir::None, 0, |rec| rec.fd(fd));
    }
    r
}

/// `dup2`, forwarded; `newfd`, closed by it if open, is recorded as closed.
///
/// # Safety
/// As for the C function.
pub unsafe fn dup2(s: Option<&Settings>, oldfd: c_int, newfd: c_int) -> c_int {
    let t0 = s.map_or(0, Settings::start);
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::dup2(oldfd, newfd) };
    if r >= 0 && oldfd != newfd {
        closes::closed(newfd);
    }
    if let Some(s) = s {
        if r >= 0 && oldfd != newfd {
            s.descriptor_gone(newfd as c_uint, newfd as c_uint);
        }
        s.done(Call::dup2, t0, r.into(), Dir::None, 0, |rec| {
            rec.fd(oldfd).arg("newfd", Val::Int(newfd.into()))
        });
    }
    r
}

/// `dup3`, forwarded; `newfd`, closed by it if open, is recorded as closed.
///
/// # Safety
/// As for the C function.
pub unsafe fn dup3(s: Option<&Settings>, oldfd: c_int, newfd: c_int, flags: c_int) -> c_int {
    let t0 = s.map_or(0, Settings::start);
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::dup3(oldfd, newfd, flags) };
    if r >= 0 {
        closes::closed(newfd);
    }
    if let Some(s) = s {
        if r >= 0 {
            s.descriptor_gone(newfd as c_uint, newfd as c_uint);
        }
        s.done(Call::dup3, t0, r.into(), Dir::None, 0, |rec| {
            rec.fd(oldfd)
                .arg("newfd", Val::Int(newfd.into()))
                .arg("flags", Val::SockFlags(flags))
        });
    }
    r
}

/// `close_range`, forwarded; the range is recorded as closed unless the
/// call only set close-on-exec.
///
/// # Safety
/// As for the C function.
pub unsafe fn close_range(
    s: Option<&Settings>,
    first: c_uint,
    last: c_uint,
    flags: c_int,
) -> c_int {
    let t0 = s.map_or(0, Settings::start);
    // SAFETY: forwarded unchanged.
    let r = unsafe { real::close_range(first, last, flags) };
    let closed = r == 0 && flags as c_uint & libc::CLOSE_RANGE_CLOEXEC == 0;
    if closed {
        closes::closed_range(first, last);
    }
    if let Some(s) = s {
        if closed {
            s.descriptor_gone(first, last);
        }
        s.done(Call::close_range, t0, r.into(), Dir::None, 0, |rec| {
            rec.arg("first", Val::Int(first.into()))
                .arg("last", Val::Int(last.into()))
                .arg("flags", Val::Int(flags.into()))
        });
    }
    r
}

/// `_exit`: the stats summary first (a process that ends this way runs no
/// atexit handlers), then the next definition.
///
/// # Safety
/// As for the C function.
pub unsafe fn _exit(status: c_int) {
    stats::report_before_exit();
    // SAFETY: forwarded unchanged; it does not return.
    unsafe { real::_exit(status) }
}

/// `_Exit`, the C99 name of `_exit`.
///
/// # Safety
/// As for the C function.
#[allow(non_snake_case)]
pub unsafe fn _Exit(status: c_int) {
    stats::report_before_exit();
    // SAFETY: forwarded unchanged; it does not return.
    unsafe { real::_Exit(status) }
}
