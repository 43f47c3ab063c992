//! Outbound access rules with the same bytes (SPEC, "Access rules": "The
//! peer is the one the kernel will use" and "The same bytes").
//!
//! For `connect`, `sendto`, `sendmsg` and each message of `sendmmsg` on an
//! INET/INET6 socket, libsock copies what names the destination out of the
//! caller's memory — the address; for a message, its header, its name and
//! its control data — reads the copy as the kernel will
//! (`sock_core::rules::dest`), judges the peer the kernel reaches, and then
//! hands the kernel *its copy*, never the caller's pointer again: another
//! thread rewriting the caller's sockaddr between the check and the call
//! changes nothing that is sent.
//!
//! Memory libsock cannot read is not the caller's to give the kernel
//! either: in its place the kernel gets [`UNREADABLE`], a pointer no
//! process maps, so the call fails with EFAULT at the point glibc's would,
//! having read (and sent) nothing.
//!
//! Sockets of other families are not judged; the caller's pointers go to
//! the kernel unchanged.

use std::net::IpAddr;

use libc::{c_int, c_void, mmsghdr, msghdr, sockaddr, socklen_t};
use sock_core::addr::{MAX_LEN, SockAddr};
use sock_core::rules::dest::{self, Dest, Op, Socket, Source};

use crate::access::{self, Access, Why};
use crate::caller;
use crate::policy::get_int;
use crate::real;

/// A pointer above the x86-64 user address space: the kernel's
/// `copy_from_user` fails on it with EFAULT, whatever the length.
pub const UNREADABLE: usize = 0x8000_0000_0000_0000;

/// `IPV6_2292PKTOPTIONS` (linux/in6.h): sticky options as control messages.
const IPV6_2292PKTOPTIONS: c_int = 6;

/// The most control data libsock copies for a message (the kernel's own
/// limit, net.core.optmem_max, is 20-128 KiB by default): a message with
/// more is refused while rules are set.
const MAX_CONTROL: usize = 1 << 20;

/// Control data up to this size is copied on the stack.
const INLINE_CONTROL: usize = 512;

/// The `sendmmsg` messages judged and sent per system call (each holds a
/// header, a name and inline control data on the stack).
const BATCH: usize = 8;

/// What a call names, as libsock hands it to the kernel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    /// The caller's pointer, unchanged (no rules, nothing named, or not an
    /// INET/INET6 socket).
    Caller,
    /// libsock's copy, judged.
    Copy,
    /// Memory libsock could not read: [`UNREADABLE`].
    Unreadable,
}

/// The socket a judged call is made on: a duplicate of the caller's
/// descriptor, taken before the socket is looked at and closed after the
/// call. Another thread cannot `dup2` a different socket onto the number
/// between the judgement and the call (a UDP socket onto the number of a
/// TCP one, whose send names no peer): the duplicate is the same open
/// file, whatever the number comes to name. Duplicates go above
/// `own::FLOOR` so they never take a number the program is about to get.
pub struct Pinned {
    fd: c_int,
    dup: bool,
}

impl Pinned {
    /// `fd` pinned; where no duplicate can be had (a bad descriptor, a full
    /// table), `fd` itself, for the kernel to answer.
    pub fn new(fd: c_int) -> Pinned {
        let _errno = crate::errno::ErrnoGuard::save();
        for floor in [crate::own::FLOOR, 0] {
            // SAFETY: F_DUPFD_CLOEXEC takes an int and makes a new number.
            let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) };
            if dup >= 0 {
                return Pinned { fd: dup, dup: true };
            }
            if crate::errno::get() == libc::EBADF {
                break;
            }
        }
        Pinned { fd, dup: false }
    }

    /// The number to judge and to call on.
    pub fn fd(&self) -> c_int {
        self.fd
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if self.dup {
            let _errno = crate::errno::ErrnoGuard::save();
            // SAFETY: libsock's own duplicate, closed once; the program
            // never saw its number.
            unsafe { real::close(self.fd) };
        }
    }
}

/// The destination address handed to the kernel for a judged call.
pub struct Name {
    buf: [u8; MAX_LEN],
    held: Held,
}

impl Default for Name {
    fn default() -> Name {
        Name::new()
    }
}

impl Name {
    /// Nothing copied yet: the caller's pointer.
    pub const fn new() -> Name {
        Name {
            buf: [0; MAX_LEN],
            held: Held::Caller,
        }
    }

    /// The pointer to give the kernel in place of the caller's `addr`.
    pub fn ptr(&self, addr: *const sockaddr) -> *const sockaddr {
        match self.held {
            Held::Caller => addr,
            Held::Copy => self.buf.as_ptr().cast(),
            Held::Unreadable => UNREADABLE as *const sockaddr,
        }
    }
}

/// A message's control data, copied: on the stack, or past
/// [`INLINE_CONTROL`] in pages of its own. Not malloc: `sendmsg` is
/// async-signal-safe, and a signal handler's `sendmsg` may interrupt a
/// `malloc` holding its lock; `mmap` is a system call.
struct Control {
    inline: [u8; INLINE_CONTROL],
    map: *mut u8,
    map_len: usize,
}

impl Control {
    const fn new() -> Control {
        Control {
            inline: [0; INLINE_CONTROL],
            map: std::ptr::null_mut(),
            map_len: 0,
        }
    }

    /// Room for `len` bytes (at most [`MAX_CONTROL`]); None if no memory
    /// could be had.
    fn room(&mut self, len: usize) -> Option<&mut [u8]> {
        if len <= INLINE_CONTROL {
            return Some(&mut self.inline[..len]);
        }
        if self.map_len < len {
            self.unmap();
            // SAFETY: a fresh private anonymous mapping; no pointer aliases it.
            let m = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if m == libc::MAP_FAILED {
                return None;
            }
            (self.map, self.map_len) = (m.cast(), len);
        }
        // SAFETY: `map` is a live mapping of `map_len` >= `len` bytes, owned
        // by this Control and borrowed mutably through it.
        Some(unsafe { std::slice::from_raw_parts_mut(self.map, len) })
    }

    fn unmap(&mut self) {
        if !self.map.is_null() {
            // SAFETY: the mapping made in `room`, unmapped once.
            unsafe { libc::munmap(self.map.cast(), self.map_len) };
            (self.map, self.map_len) = (std::ptr::null_mut(), 0);
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _errno = crate::errno::ErrnoGuard::save();
        self.unmap();
    }
}

/// One message as libsock hands it to the kernel: its header (pointing at
/// the copies below once judged), its name and its control data.
pub struct Message {
    hdr: msghdr,
    name: Name,
    control: Control,
}

impl Default for Message {
    fn default() -> Message {
        Message::new()
    }
}

impl Message {
    /// An empty message, to be filled by a judgement.
    pub const fn new() -> Message {
        Message {
            hdr: EMPTY_MSGHDR,
            name: Name::new(),
            control: Control::new(),
        }
    }
}

const EMPTY_MSGHDR: msghdr = msghdr {
    msg_name: std::ptr::null_mut(),
    msg_namelen: 0,
    msg_iov: std::ptr::null_mut(),
    msg_iovlen: 0,
    msg_control: std::ptr::null_mut(),
    msg_controllen: 0,
    msg_flags: 0,
};

/// The socket options that can give a socket a source route (judged by
/// [`Access::judge_option`]; every other option is forwarded untouched).
pub fn watched_option(level: c_int, name: c_int) -> bool {
    matches!(
        (level, name),
        (libc::IPPROTO_IP, libc::IP_OPTIONS)
            | (
                libc::IPPROTO_IPV6,
                libc::IPV6_RTHDR | libc::IPV6_2292RTHDR | IPV6_2292PKTOPTIONS
            )
    )
}

pub use sock_core::rules::{SOURCE_ROUTE, UNPLACEABLE};

/// Control data too large to copy.
pub const CONTROL_TOO_LARGE: Why<'static> = ("fail-closed", "control-too-large");

/// The socket `fd` as the kernel reads its destinations: None if it is not
/// an INET/INET6 socket (or not a socket: the kernel will say so).
fn socket(fd: c_int) -> Option<Socket> {
    let domain = get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN)?;
    if domain != libc::AF_INET && domain != libc::AF_INET6 {
        return None;
    }
    Some(Socket {
        domain,
        ty: get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE).unwrap_or(0),
        protocol: get_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).unwrap_or(0),
    })
}

/// The socket's bound address, for an unspecified destination.
fn bound(fd: c_int) -> Option<IpAddr> {
    let mut buf = [0u8; MAX_LEN];
    let mut len = MAX_LEN as socklen_t;
    // SAFETY: `buf` and `len` are valid and writable.
    let r = unsafe { real::getsockname(fd, buf.as_mut_ptr().cast(), &mut len) };
    if r != 0 {
        return None;
    }
    match SockAddr::decode(&buf[..(len as usize).min(MAX_LEN)]) {
        SockAddr::V4(a) => Some(IpAddr::V4(*a.ip())),
        SockAddr::V6(a) => Some(IpAddr::V6(*a.ip())),
        _ => None,
    }
}

/// Copies the caller's name (`len` bytes at `addr`) into `name`: Err if
/// it cannot be read at all (the peer cannot be judged: fail closed);
/// Ok(false) if the memory is bad (the kernel gets [`UNREADABLE`]).
fn copy_name(addr: *const c_void, len: socklen_t, name: &mut Name) -> Result<bool, Why<'static>> {
    match caller::try_copy_in(addr, len as usize, &mut name.buf) {
        Ok(_) => {
            name.held = Held::Copy;
            Ok(true)
        }
        Err(libc::EFAULT) => {
            name.held = Held::Unreadable;
            Ok(false)
        }
        Err(_) => Err(access::PEER_UNREADABLE),
    }
}

impl Access {
    /// The destination of `op` on `sock` in `buf` (the caller's `len`),
    /// read as the kernel will (rewritten where the kernel would pick the
    /// address) and judged.
    fn judge_dest(
        &self,
        fd: c_int,
        sock: Socket,
        op: Op,
        len: socklen_t,
        buf: &mut [u8],
        pktinfo: Option<std::net::Ipv4Addr>,
    ) -> Result<(), Why<'_>> {
        let source = || Source {
            bound: bound(fd),
            pktinfo,
        };
        match dest::destination(sock, op, len, buf, source) {
            Dest::NoPeer | Dest::Rejected => Ok(()),
            Dest::Peer(ip, port) => self.decide(ip, port),
            Dest::Unplaceable => Err(UNPLACEABLE),
        }
    }

    /// `connect` or `sendto`: judges the destination `addr`/`len` of `op` on
    /// `fd`, leaving in `name` what to hand the kernel (`name.ptr(addr)`).
    /// Err(why) if the call is refused.
    pub fn judge_name(
        &self,
        fd: c_int,
        op: Op,
        addr: *const sockaddr,
        len: socklen_t,
        name: &mut Name,
    ) -> Result<(), Why<'_>> {
        crate::boundary::own(|| {
            if addr.is_null() {
                return Ok(());
            }
            let Some(sock) = socket(fd) else {
                return Ok(());
            };
            if !copy_name(addr.cast(), len, name)? {
                return Ok(());
            }
            self.judge_dest(fd, sock, op, len, &mut name.buf, None)
        })
        .unwrap_or(Err(access::INTERNAL))
    }

    /// `sendmsg`: judges the message at `msg` and returns the header to
    /// hand the kernel (the caller's, or `copy`'s judged one).
    pub fn judge_msg(
        &self,
        fd: c_int,
        flags: c_int,
        msg: *const msghdr,
        copy: &mut Message,
    ) -> Result<*const msghdr, Why<'_>> {
        crate::boundary::own(|| {
            let Some(sock) = socket(fd) else {
                return Ok(msg);
            };
            let mut raw = [0u8; MAX_LEN];
            match caller::try_copy_in(msg.cast(), size_of::<msghdr>(), &mut raw) {
                Ok(_) => {}
                Err(libc::EFAULT) => return Ok(UNREADABLE as *const msghdr),
                Err(_) => return Err(access::PEER_UNREADABLE),
            }
            // SAFETY: `raw` holds a whole msghdr's bytes; read_unaligned
            // copies them out.
            copy.hdr = unsafe { raw.as_ptr().cast::<msghdr>().read_unaligned() };
            self.judge_hdr(fd, sock, flags, copy)?;
            Ok(&raw const copy.hdr)
        })
        .unwrap_or(Err(access::INTERNAL))
    }

    /// Judges the caller's header already copied into `m.hdr`: copies its
    /// control data and its name into `m` and points the header at them.
    fn judge_hdr(
        &self,
        fd: c_int,
        sock: Socket,
        flags: c_int,
        m: &mut Message,
    ) -> Result<(), Why<'_>> {
        let hdr = &mut m.hdr;
        // Control data first: a source route refuses the message whatever
        // it names, and IP_PKTINFO is the source of a 0.0.0.0 destination.
        let mut pktinfo = None;
        let clen = hdr.msg_controllen;
        if !hdr.msg_control.is_null() && clen > 0 && clen <= i32::MAX as usize {
            if clen > MAX_CONTROL {
                return Err(CONTROL_TOO_LARGE);
            }
            let Some(room) = m.control.room(clen) else {
                return Err(CONTROL_TOO_LARGE);
            };
            match caller::try_read(hdr.msg_control, room) {
                Ok(()) => {
                    let seen = dest::scan_control(room, sock.domain == libc::AF_INET6);
                    if seen.source_route {
                        return Err(SOURCE_ROUTE);
                    }
                    pktinfo = seen.pktinfo;
                    hdr.msg_control = room.as_mut_ptr().cast();
                }
                Err(libc::EFAULT) => hdr.msg_control = UNREADABLE as *mut c_void,
                Err(_) => return Err(access::PEER_UNREADABLE),
            }
        }
        // __copy_msghdr: a NULL name or a length of 0 names nothing.
        if hdr.msg_name.is_null() || hdr.msg_namelen == 0 {
            return Ok(());
        }
        let len = hdr.msg_namelen;
        if copy_name(hdr.msg_name, len, &mut m.name)? {
            self.judge_dest(
                fd,
                sock,
                Op::SendMsg { flags },
                len,
                &mut m.name.buf,
                pktinfo,
            )?;
        }
        hdr.msg_name = m.name.ptr(hdr.msg_name.cast()).cast_mut().cast();
        Ok(())
    }

    /// `setsockopt`: Err if it would give an INET/INET6 socket a source
    /// route; else the value pointer to hand the kernel (libsock's copy
    /// of an `IP_OPTIONS` value it read).
    pub fn judge_option(
        &self,
        fd: c_int,
        level: c_int,
        name: c_int,
        value: *const c_void,
        len: socklen_t,
        copy: &mut [u8; MAX_LEN],
    ) -> Result<*const c_void, Why<'_>> {
        crate::boundary::own(|| {
            if !watched_option(level, name) || len == 0 || socket(fd).is_none() {
                return Ok(value);
            }
            // IP_OPTIONS takes at most 40 bytes (EINVAL past that, nothing
            // set); a routing header of any length is refused; sticky
            // control messages longer than libsock copies cannot be judged.
            match caller::try_copy_in(value, len as usize, copy) {
                Ok(n) if dest::routes(level, name, &copy[..n]) => Err(SOURCE_ROUTE),
                Ok(_) if len as usize <= MAX_LEN => Ok(copy.as_ptr().cast()),
                Ok(_) if name == IPV6_2292PKTOPTIONS => Err(SOURCE_ROUTE),
                Ok(_) => Ok(value),
                Err(libc::EFAULT) => Ok(UNREADABLE as *const c_void),
                Err(_) => Err(access::PEER_UNREADABLE),
            }
        })
        .unwrap_or(Err(access::INTERNAL))
    }
}

/// `sendmmsg` under access rules: the messages before the first refused
/// one are sent, each judged and handed on as libsock's copy, [`BATCH`] at
/// a time; the lengths the kernel wrote to the copies are written back to
/// the caller's array. Returns what the call returns and, if a message was
/// refused, why; `-1` with errno set on failure.
///
/// # Safety
/// As for the C function: `msgs` is the caller's, read and written only
/// through `crate::caller` (and handed to the kernel unchanged for a
/// socket that is not INET/INET6).
pub unsafe fn sendmmsg<'a>(
    access: &'a Access,
    pin: &Pinned,
    msgs: *mut mmsghdr,
    vlen: u32,
    flags: c_int,
) -> (c_int, Option<Why<'a>>) {
    // The kernel sends at most UIO_MAXIOV (1024) messages per call.
    let fd = pin.fd();
    let vlen = vlen.min(1024) as usize;
    let sock = match crate::boundary::own(|| socket(fd)) {
        Some(Some(sock)) => sock,
        Some(None) => {
            // SAFETY: not an INET/INET6 socket: forwarded unchanged.
            let r = unsafe { real::marked::sendmmsg(fd, msgs, vlen as u32, flags) };
            return (r, None);
        }
        // The check could not run: refused, as every judgement that fails.
        None => return (-1, Some(access::INTERNAL)),
    };
    let mut sent = 0usize;
    let mut batch: [Message; BATCH] = [const { Message::new() }; BATCH];
    let mut kernel: [mmsghdr; BATCH] = [const {
        mmsghdr {
            msg_hdr: EMPTY_MSGHDR,
            msg_len: 0,
        }
    }; BATCH];
    while sent < vlen {
        let want = (vlen - sent).min(BATCH);
        let mut n = 0;
        let mut refused = None;
        let mut unreadable = false;
        for (i, m) in batch.iter_mut().enumerate().take(want) {
            let entry = msgs
                .cast::<u8>()
                .wrapping_add((sent + i) * size_of::<mmsghdr>());
            let judged = crate::boundary::own(|| {
                let mut raw = [0u8; MAX_LEN];
                match caller::try_copy_in(entry.cast(), size_of::<msghdr>(), &mut raw) {
                    Ok(_) => {}
                    Err(libc::EFAULT) => return Ok(false),
                    Err(_) => return Err(access::PEER_UNREADABLE),
                }
                // SAFETY: `raw` holds a whole msghdr's bytes.
                m.hdr = unsafe { raw.as_ptr().cast::<msghdr>().read_unaligned() };
                access.judge_hdr(fd, sock, flags, m).map(|()| true)
            })
            .unwrap_or(Err(access::INTERNAL));
            match judged {
                Ok(true) => n += 1,
                Ok(false) => {
                    unreadable = true;
                    break;
                }
                Err(why) => {
                    refused = Some(why);
                    break;
                }
            }
        }
        if n == 0 {
            if let Some(why) = refused {
                return if sent == 0 {
                    (-1, Some(why))
                } else {
                    (sent as c_int, Some(why))
                };
            }
            // The first message left is unreadable: the kernel answers
            // EFAULT for it (and the call returns what was sent before).
            debug_assert!(unreadable);
            // SAFETY: a pointer the kernel refuses to read.
            let r = unsafe { real::marked::sendmmsg(fd, UNREADABLE as *mut mmsghdr, 1, flags) };
            return (if sent == 0 { r } else { sent as c_int }, None);
        }
        for (k, m) in kernel.iter_mut().zip(&batch).take(n) {
            k.msg_hdr = m.hdr;
            k.msg_len = 0;
        }
        // SAFETY: `kernel` holds `n` judged headers pointing at `batch`'s
        // copies (and the caller's iovecs, which name no peer).
        let r = unsafe { real::marked::sendmmsg(fd, kernel.as_mut_ptr(), n as u32, flags) };
        if r < 0 {
            return (if sent == 0 { r } else { sent as c_int }, None);
        }
        // The lengths, into the caller's array, as the kernel's put_user
        // would: a message whose length cannot be written is not counted.
        for (i, k) in kernel.iter().enumerate().take(r as usize) {
            let field = msgs.cast::<u8>().wrapping_add(
                (sent + i) * size_of::<mmsghdr>() + std::mem::offset_of!(mmsghdr, msg_len),
            );
            if !caller::try_write(field.cast(), &k.msg_len.to_ne_bytes()) {
                return if sent + i == 0 {
                    crate::errno::set(libc::EFAULT);
                    (-1, None)
                } else {
                    ((sent + i) as c_int, None)
                };
            }
        }
        sent += r as usize;
        if (r as usize) < n || refused.is_some() || unreadable {
            return (sent as c_int, refused);
        }
    }
    (sent as c_int, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::tests::Sock;
    use sock_core::addr::encode_v4;

    #[test]
    fn the_kernel_gets_the_judged_copy() {
        let a = Access::load(None, Some("127.0.0.2"));
        let udp = Sock::new(libc::AF_INET, libc::SOCK_DGRAM);
        let unix = Sock::new(libc::AF_UNIX, libc::SOCK_DGRAM);
        let send = Op::SendTo { flags: 0 };
        let denied = encode_v4("127.0.0.2:9".parse().unwrap());
        let allowed = encode_v4("127.0.0.3:9".parse().unwrap());
        let mut name = Name::new();
        assert_eq!(
            a.judge_name(udp.0, send, denied.as_ptr().cast(), 16, &mut name),
            Err((sock_core::rules::DENY_VAR, "127.0.0.2"))
        );
        // AF_UNSPEC on an IPv4 datagram socket is AF_INET.
        let mut unspec = denied;
        unspec[..2].copy_from_slice(&0u16.to_ne_bytes());
        let mut name = Name::new();
        assert!(
            a.judge_name(udp.0, send, unspec.as_ptr().cast(), 16, &mut name)
                .is_err()
        );
        // Allowed: the pointer handed on is libsock's copy.
        let mut name = Name::new();
        let p = allowed.as_ptr().cast();
        assert_eq!(a.judge_name(udp.0, send, p, 16, &mut name), Ok(()));
        assert_ne!(name.ptr(p), p);
        assert_eq!(name.buf[..16], allowed[..]);
        // Nothing named, or not an INET socket: the caller's pointer.
        let mut name = Name::new();
        assert_eq!(
            a.judge_name(udp.0, send, std::ptr::null(), 16, &mut name),
            Ok(())
        );
        assert!(name.ptr(std::ptr::null()).is_null());
        let mut name = Name::new();
        let d = denied.as_ptr().cast();
        assert_eq!(a.judge_name(unix.0, send, d, 16, &mut name), Ok(()));
        assert_eq!(name.ptr(d), d);
        // Unreadable: the kernel gets a pointer it cannot read either.
        let mut name = Name::new();
        let bad = 8 as *const sockaddr;
        assert_eq!(a.judge_name(udp.0, send, bad, 16, &mut name), Ok(()));
        assert_eq!(name.ptr(bad) as usize, UNREADABLE);
    }

    #[test]
    fn an_unspecified_destination_is_handed_on_as_the_one_judged() {
        let a = Access::load(None, Some("127.0.0.5"));
        let udp = Sock::new(libc::AF_INET, libc::SOCK_DGRAM);
        let any = encode_v4("0.0.0.0:9".parse().unwrap());
        let mut name = Name::new();
        let p = any.as_ptr().cast();
        assert_eq!(a.judge_name(udp.0, Op::Connect, p, 16, &mut name), Ok(()));
        assert_eq!(name.buf[4..8], [127, 0, 0, 1]);
        // Bound to 127.0.0.5, 0.0.0.0 is 127.0.0.5: refused.
        let here = encode_v4("127.0.0.5:0".parse().unwrap());
        // SAFETY: a valid sockaddr_in of 16 bytes.
        assert_eq!(unsafe { real::bind(udp.0, here.as_ptr().cast(), 16) }, 0);
        let mut name = Name::new();
        assert!(a.judge_name(udp.0, Op::Connect, p, 16, &mut name).is_err());
    }

    /// A control message of `data` at (level, type), padded as CMSG_SPACE.
    fn cmsg(level: c_int, ty: c_int, data: &[u8]) -> Vec<u8> {
        let mut b = ((16 + data.len()) as u64).to_ne_bytes().to_vec();
        b.extend_from_slice(&level.to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(data);
        b.resize(b.len().div_ceil(8) * 8, 0);
        b
    }

    #[test]
    fn large_control_data_is_copied_and_scanned_whole() {
        let a = Access::load(None, Some("127.0.0.2"));
        let udp = Sock::new(libc::AF_INET, libc::SOCK_DGRAM);
        let tos = cmsg(libc::IPPROTO_IP, libc::IP_TOS, &[0x10, 0, 0, 0]);
        let mut control: Vec<u8> = std::iter::repeat_n(tos, 60).flatten().collect();
        assert!(control.len() > INLINE_CONTROL);
        let name = encode_v4("127.0.0.3:9".parse().unwrap());
        // SAFETY: msghdr is plain data: all zeroes is an empty one.
        let mut m: msghdr = unsafe { std::mem::zeroed() };
        m.msg_name = name.as_ptr().cast_mut().cast();
        m.msg_namelen = 16;
        m.msg_control = control.as_mut_ptr().cast();
        m.msg_controllen = control.len();
        let mut copy = Message::new();
        let judged = a.judge_msg(udp.0, 0, &m, &mut copy).expect("allowed");
        // SAFETY: the header judge_msg returned: `copy.hdr`, alive here.
        let hdr = unsafe { &*judged };
        assert_ne!(hdr.msg_control, m.msg_control);
        // SAFETY: the copy holds msg_controllen bytes.
        let copied =
            unsafe { std::slice::from_raw_parts(hdr.msg_control.cast::<u8>(), hdr.msg_controllen) };
        assert_eq!(copied, &control[..]);
        // A source route at the end of it is found.
        control.extend(cmsg(libc::IPPROTO_IP, 7, &[0x83, 7, 4, 127, 0, 0, 2, 0]));
        m.msg_control = control.as_mut_ptr().cast();
        m.msg_controllen = control.len();
        let mut copy = Message::new();
        assert_eq!(
            a.judge_msg(udp.0, 0, &m, &mut copy).err(),
            Some(SOURCE_ROUTE)
        );
    }

    #[test]
    fn source_routes_are_refused() {
        let a = Access::load(None, Some("127.0.0.2"));
        let udp = Sock::new(libc::AF_INET, libc::SOCK_DGRAM);
        let lsrr = [0x83u8, 7, 4, 127, 0, 0, 3, 0];
        let mut copy = [0u8; MAX_LEN];
        let opt = |v: &[u8], copy: &mut [u8; MAX_LEN]| {
            a.judge_option(
                udp.0,
                libc::IPPROTO_IP,
                libc::IP_OPTIONS,
                v.as_ptr().cast(),
                v.len() as socklen_t,
                copy,
            )
        };
        assert_eq!(opt(&lsrr, &mut copy), Err(SOURCE_ROUTE));
        let nop = [1u8, 1, 1, 0];
        assert_eq!(opt(&nop, &mut copy), Ok(copy.as_ptr().cast()));
    }
}
