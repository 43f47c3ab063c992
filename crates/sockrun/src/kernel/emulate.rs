//! One function per supervised call: each copies what it needs out of the
//! program's memory (checking after every read that the call is still
//! pending, so what was read is the caller's), judges its copy with
//! sock-core's rules (`rules::dest::destination`: the kernel's reading of
//! the address) and, if allowed, performs the call itself on a duplicate of
//! the program's socket (`pidfd_getfd`) with that copy. The program's
//! pointers are never handed back to the kernel: no
//! `SECCOMP_USER_NOTIF_FLAG_CONTINUE` here.

use super::creds;
use super::report::Report;
use super::sys::{self, SeccompNotif};
use sock_core::Call;
use sock_core::addr::SockAddr;
use sock_core::config::{self, Config};
use sock_core::rules::bpf::SockFilter;
use sock_core::rules::dest::{self, Dest, Op, Socket, Source};
use sock_core::rules::{self, Policy, Why};
use sock_core::trace::{Record, Val};

use std::cell::RefCell;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;

/// `SO_LOCK_FILTER` (asm-generic/socket.h), not in the libc crate.
const SO_LOCK_FILTER: libc::c_int = 44;
/// A sockaddr_storage: the most a name can be (`move_addr_to_kernel`).
const MAX_NAME: usize = 128;
/// `UIO_MAXIOV`: the most iovecs (EMSGSIZE) and the most `sendmmsg`
/// messages (more are clamped) the kernel takes.
const UIO_MAXIOV: usize = 1024;
/// The most data one supervised send copies: a longer send is partial (a
/// stream socket's send may be; a datagram this long fails EMSGSIZE anyway).
const MAX_DATA: usize = 4 << 20;
/// The most control data copied (the kernel's own limit is
/// `net.core.optmem_max`, ENOBUFS).
const MAX_CONTROL: usize = 64 << 10;
/// `sizeof(struct mmsghdr)` and where its `msg_len` is.
const MMSGHDR: u64 = 64;
const MSG_LEN_AT: u64 = 56;

/// What the supervisor decides and does with.
pub struct Ctx {
    /// The seccomp listener.
    pub listener: RawFd,
    /// The access rules, when any are set (else every peer is allowed).
    pub policy: Option<&'static Policy>,
    /// The settings (socket options for the sockets created here).
    pub config: Config,
    /// The token of calls a preloaded libsock traced and counted already
    /// (`sock_core::supervised`).
    pub token: u64,
    /// The trace and the stats of the calls answered here.
    pub report: Report,
    /// Calls being handled (received, not yet shown): the stats are
    /// written once none is.
    pub in_flight: std::sync::atomic::AtomicUsize,
}

/// Why a call gets no ordinary answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Fail {
    /// The call fails with this errno.
    Errno(i32),
    /// The caller is gone (killed, or its call interrupted): no answer.
    Gone,
    /// Refused by the access rules (EPERM), and why.
    Denied(Why<'static>),
}

impl Fail {
    /// The errno the caller gets (None: no answer).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Fail::Errno(e) => Some(*e),
            Fail::Denied(_) => Some(libc::EPERM),
            Fail::Gone => None,
        }
    }
}

impl From<i32> for Fail {
    fn from(e: i32) -> Fail {
        Fail::Errno(e)
    }
}

/// How a call was answered.
pub enum Outcome {
    /// Its return value, to send.
    Value(i64),
    /// Answered already (`SECCOMP_ADDFD_FLAG_SEND`) with this descriptor.
    Answered(i32),
    /// To be let through as the caller made it
    /// (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`): only for a call of which
    /// nothing was read from the caller's memory.
    Continue,
}

type Result<T> = std::result::Result<T, Fail>;

/// The thread that made a supervised call.
struct Caller<'a> {
    ctx: &'a Ctx,
    n: &'a SeccompNotif,
    pidfd: Option<Rc<OwnedFd>>,
    /// The call's send failed with EPIPE and asked for no MSG_NOSIGNAL.
    sigpipe: bool,
    /// What the trace shows of the call beyond its arguments.
    seen: Seen,
}

/// What a call's emulation saw that its trace line shows.
#[derive(Default)]
pub struct Seen {
    /// The peer as the caller wrote it (connect, sendto, sendmsg), once read.
    pub addr: Option<SockAddr>,
    /// Bytes sent.
    pub bytes: u64,
    /// A sendmmsg cut before a message the rules refused.
    pub cut: bool,
    /// A bind's address as the caller asked for it, when it was rewritten.
    pub asked: Option<SockAddr>,
}

impl Caller<'_> {
    fn tid(&self) -> libc::pid_t {
        self.n.pid as libc::pid_t
    }

    fn arg(&self, i: usize) -> u64 {
        self.n.data.args[i]
    }

    /// `int` arguments are the low half of the register.
    fn int(&self, i: usize) -> i32 {
        self.arg(i) as u32 as i32
    }

    /// Whether the call is still pending.
    fn valid(&self) -> Result<()> {
        if sys::id_valid(self.ctx.listener, self.n.id) {
            Ok(())
        } else {
            Err(Fail::Gone)
        }
    }

    /// Copies `buf.len()` bytes at `addr` out of the caller: EFAULT where
    /// the caller's memory is bad, as the kernel would say.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let r = sys::read_mem(self.tid(), addr, buf);
        self.valid()?;
        match r {
            Ok(()) => Ok(()),
            Err(libc::EFAULT) => Err(Fail::Errno(libc::EFAULT)),
            Err(libc::ESRCH) => Err(Fail::Gone),
            // Memory sockrun may not read (EPERM: the program is no longer
            // dumpable): nothing can be judged, so nothing is sent.
            Err(_) => Err(Fail::Errno(libc::EPERM)),
        }
    }

    /// A duplicate of the caller's descriptor `fd` (the same open file
    /// description): EBADF if it has none.
    fn fd(&mut self, fd: i32) -> Result<OwnedFd> {
        let mut cached = false;
        if self.pidfd.is_none() {
            self.pidfd = Some(match cached_pidfd(self.tid()) {
                Some(pidfd) => {
                    cached = true;
                    pidfd
                }
                None => self.open_pidfd()?,
            });
        }
        let pidfd = self.pidfd.clone().ok_or(Fail::Gone)?;
        let r = match sys::pidfd_getfd(&pidfd, fd) {
            // A cached pidfd whose thread is gone: the caller is another
            // thread given its id since; open one for it. (Checked by the
            // reads of its memory that follow, each then ID_VALID, before
            // anything is done with the descriptor.)
            Err(libc::ESRCH) if cached => {
                forget_pidfd(self.tid());
                let pidfd = self.open_pidfd()?;
                self.pidfd = Some(Rc::clone(&pidfd));
                sys::pidfd_getfd(&pidfd, fd)
            }
            r => r,
        };
        r.map_err(|e| match e {
            libc::EBADF => Fail::Errno(libc::EBADF),
            libc::ESRCH => Fail::Gone,
            e => Fail::Errno(e),
        })
    }

    /// A new pidfd for the caller: for the thread itself (Linux 6.9), kept
    /// for its next calls ([`cached_pidfd`]), else for its process.
    fn open_pidfd(&self) -> Result<Rc<OwnedFd>> {
        // The descriptors are the table the caller uses.
        let gone = |e| match e {
            libc::ESRCH => Fail::Gone,
            e => Fail::Errno(e),
        };
        let (pidfd, thread) = match sys::pidfd_open(self.tid(), sys::PIDFD_THREAD) {
            Ok(p) => (p, true),
            Err(libc::EINVAL) => (
                sys::pidfd_open(tgid(self.tid()).ok_or(Fail::Gone)?, 0).map_err(gone)?,
                false,
            ),
            Err(e) => return Err(gone(e)),
        };
        // The thread id could have been reused: the call still pending
        // means it was not.
        self.valid()?;
        let pidfd = Rc::new(pidfd);
        if thread {
            keep_pidfd(self.tid(), &pidfd);
        }
        Ok(pidfd)
    }

    /// The caller's socket `fd` and what it is: ENOTSOCK if it is none.
    fn socket(&mut self, fd: i32) -> Result<(OwnedFd, Socket)> {
        let sock = self.fd(fd)?;
        let raw = sock.as_raw_fd();
        let domain = get_int(raw, libc::SO_DOMAIN).ok_or(Fail::Errno(libc::ENOTSOCK))?;
        let info = Socket {
            domain,
            ty: get_int(raw, libc::SO_TYPE).unwrap_or(0),
            protocol: get_int(raw, libc::SO_PROTOCOL).unwrap_or(0),
        };
        Ok((sock, info))
    }

    /// Keeps the name the caller wrote, for its trace line.
    fn see(&mut self, name: &[u8]) {
        if self.ctx.report.active() {
            self.seen.addr = Some(SockAddr::decode(name));
        }
    }

    /// Raises SIGPIPE in the caller, as the kernel would have for its
    /// send (the supervisor's own send used MSG_NOSIGNAL). The kernel
    /// raises it before the call returns, and so does this — unless the
    /// program catches SIGPIPE: its handler would interrupt the call still
    /// waiting for its answer, which would be restarted and sent again, so
    /// a caught SIGPIPE is raised just after the answer instead.
    fn sigpipe(&mut self, flags: i32, r: &std::result::Result<i64, i32>) {
        if flags & libc::MSG_NOSIGNAL != 0 || *r != Err(libc::EPIPE) {
            return;
        }
        if catches(self.tid(), libc::SIGPIPE) {
            self.sigpipe = true;
        } else {
            raise_sigpipe(self.tid());
        }
    }
}

/// Thread pidfds opened by this receiving thread, by thread id, newest
/// last. A pidfd stays the handle of the thread it was opened for: while
/// that thread lives no other has its id, so a call from that id is its
/// call; once it is gone, `pidfd_getfd` on the pidfd fails (ESRCH) and a
/// new one is opened. (A process pidfd, before Linux 6.9, would not fail
/// so for a dead thread, and is not kept.)
const PIDFDS: usize = 8;
thread_local! {
    static PIDFD_CACHE: RefCell<Vec<(libc::pid_t, Rc<OwnedFd>)>> = const { RefCell::new(Vec::new()) };
}

fn cached_pidfd(tid: libc::pid_t) -> Option<Rc<OwnedFd>> {
    PIDFD_CACHE.with_borrow(|c| c.iter().find(|(t, _)| *t == tid).map(|(_, p)| Rc::clone(p)))
}

fn keep_pidfd(tid: libc::pid_t, pidfd: &Rc<OwnedFd>) {
    PIDFD_CACHE.with_borrow_mut(|c| {
        c.retain(|(t, _)| *t != tid);
        if c.len() == PIDFDS {
            c.remove(0);
        }
        c.push((tid, Rc::clone(pidfd)));
    });
}

fn forget_pidfd(tid: libc::pid_t) {
    PIDFD_CACHE.with_borrow_mut(|c| c.retain(|(t, _)| *t != tid));
}

/// Whether thread `tid` has a handler for `sig` (`SigCgt:` in its status).
fn catches(tid: libc::pid_t, sig: i32) -> bool {
    super::signals::state(tid).is_some_and(|s| s.caught & (1 << (sig - 1)) != 0)
}

/// Raises SIGPIPE in thread `tid` (after its call was answered).
pub fn raise_sigpipe(tid: libc::pid_t) {
    if let Some(tgid) = tgid(tid) {
        // SAFETY: plain integer arguments.
        unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, libc::SIGPIPE) };
    }
}

/// The process a thread belongs to (`Tgid:` in /proc/TID/status).
pub fn tgid(tid: libc::pid_t) -> Option<libc::pid_t> {
    let status = fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// An `int` socket option at SOL_SOCKET.
fn get_int(fd: RawFd, name: libc::c_int) -> Option<i32> {
    get_opt(fd, libc::SOL_SOCKET, name)
}

/// An `int` socket option.
fn get_opt(fd: RawFd, level: libc::c_int, name: libc::c_int) -> Option<i32> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid for the kernel to write.
    let r = unsafe { libc::getsockopt(fd, level, name, (&raw mut v).cast(), &mut len) };
    (r == 0).then_some(v)
}

/// The socket's bound address, if any.
fn bound(fd: RawFd) -> Option<IpAddr> {
    let mut ss = [0u8; MAX_NAME];
    let mut len = MAX_NAME as libc::socklen_t;
    // SAFETY: `ss` has `len` writable bytes.
    let r = unsafe { libc::getsockname(fd, ss.as_mut_ptr().cast(), &mut len) };
    if r != 0 {
        return None;
    }
    let family = i32::from(u16::from_ne_bytes([ss[0], ss[1]]));
    match family {
        libc::AF_INET if len >= 16 => Some(IpAddr::V4(Ipv4Addr::new(ss[4], ss[5], ss[6], ss[7]))),
        libc::AF_INET6 if len >= 24 => {
            let a: [u8; 16] = ss[8..24].try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// A system call's result as a return value or errno.
fn result(r: isize) -> std::result::Result<i64, i32> {
    if r < 0 {
        Err(sys::errno())
    } else {
        Ok(r as i64)
    }
}

impl Ctx {
    /// Judges the destination in `name` (the caller's length `len`) of
    /// `op` on `sock` (our duplicate `fd`), rewriting it where the kernel
    /// would pick the address: EPERM if the rules refuse it.
    fn judge(
        &self,
        fd: RawFd,
        sock: Socket,
        op: Op,
        len: u32,
        name: &mut [u8],
        pktinfo: Option<Ipv4Addr>,
    ) -> Result<()> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        if sock.domain != libc::AF_INET && sock.domain != libc::AF_INET6 {
            return Ok(());
        }
        let source = || Source {
            bound: bound(fd),
            pktinfo,
        };
        match dest::destination(sock, op, len, name, source) {
            Dest::NoPeer | Dest::Rejected => Ok(()),
            Dest::Peer(ip, port) => policy.decide(ip, port).map_err(|r| Fail::Denied(r.why())),
            Dest::Unplaceable => Err(Fail::Denied(rules::UNPLACEABLE)),
        }
    }

    /// Attaches the rules' socket filter to a new INET/INET6 socket and
    /// locks it.
    fn filter(&self, fd: RawFd, ty: i32, protocol: i32) -> std::result::Result<(), i32> {
        match &self.policy {
            Some(policy) => attach_or_held(fd, policy.filter_for(ty, protocol)),
            None => Ok(()),
        }
    }
}

/// Attaches `prog` to `fd` (SO_ATTACH_FILTER) and locks it (SO_LOCK_FILTER).
fn attach(fd: RawFd, prog: &[SockFilter]) -> std::result::Result<(), i32> {
    let fprog = sys::SockFprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr(),
    };
    let one: libc::c_int = 1;
    // SAFETY: `fprog` points at `prog` and `one` is an int, both alive for
    // the calls; the kernel copies them.
    let r = unsafe {
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const fprog).cast(),
            size_of::<sys::SockFprog>() as libc::socklen_t,
        ) != 0
        {
            -1
        } else {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                SO_LOCK_FILTER,
                (&raw const one).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        }
    };
    if r == 0 { Ok(()) } else { Err(sys::errno()) }
}

/// Attaches `prog` to `fd` and locks it — or finds it there already,
/// locked: under an outer sockrun with the same rules (a sockrun started by
/// a command that runs under one), every socket is created by the outer
/// supervisor with this very filter.
fn attach_or_held(fd: RawFd, prog: &[SockFilter]) -> std::result::Result<(), i32> {
    match attach(fd, prog) {
        Err(libc::EPERM) if attached(fd).as_deref() == Some(prog) => Ok(()),
        r => r,
    }
}

/// Whether sockrun can attach the rules' filter to a TCP and a UDP socket
/// at all (an unprivileged user may not, on a kernel or LSM that restricts
/// BPF — seen: UDP allowed, TCP EPERM): Err(errno) if not — every such
/// supervised socket would then be refused.
pub fn can_filter(policy: &Policy) -> std::result::Result<(), i32> {
    for ty in [libc::SOCK_STREAM, libc::SOCK_DGRAM] {
        // SAFETY: plain integer arguments.
        let fd = unsafe { libc::socket(libc::AF_INET, ty | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(sys::errno());
        }
        // SAFETY: `fd` was just returned and nothing else owns it.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        attach_or_held(fd.as_raw_fd(), policy.filter_for(ty, 0)).map_err(|e| {
            // Locked with another filter: an outer sockrun (or a program)
            // with other rules holds every socket made here.
            if e == libc::EPERM && attached(fd.as_raw_fd()).is_some() {
                OTHER_RULES
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// [`can_filter`]'s answer when the sockets sockrun makes already carry
/// another locked filter (an outer sockrun with other rules).
pub const OTHER_RULES: i32 = -1;

/// Filters and locks every INET/INET6 socket the command will inherit
/// from sockrun (a descriptor without close-on-exec): the same socket, so
/// the command's copy is held before it runs. One that will not take the
/// rules' filter (another's locked filter, ENOMEM against
/// `net.core.optmem_max`) gets the one that drops everything, as in
/// libsock. A socket that already carries one of these filters, locked
/// (libsock's in a parent under the same rules), is left as it is. Returns
/// a warning for each socket that took neither.
pub fn filter_inherited(policy: &Policy) -> Vec<String> {
    let Ok(dir) = fs::read_dir("/proc/self/fd") else {
        return vec!["cannot list /proc/self/fd: inherited sockets are not filtered".into()];
    };
    let drop_all = sock_core::rules::bpf::drop_all();
    let ours = |fd: RawFd| {
        attached(fd).is_some_and(|f| {
            [policy.filter(true), policy.filter(false), &drop_all]
                .iter()
                .any(|p| **p == f[..])
        })
    };
    let mut warnings = Vec::new();
    let fds: Vec<RawFd> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds {
        // SAFETY: F_GETFD on a number; a closed one fails with EBADF.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags < 0 || flags & libc::FD_CLOEXEC != 0 {
            continue;
        }
        let Some(domain) = get_int(fd, libc::SO_DOMAIN) else {
            continue;
        };
        if domain != libc::AF_INET && domain != libc::AF_INET6 {
            continue;
        }
        let ty = get_int(fd, libc::SO_TYPE).unwrap_or(0);
        let protocol = get_int(fd, libc::SO_PROTOCOL).unwrap_or(0);
        if attach(fd, policy.filter_for(ty, protocol)).is_err()
            && !ours(fd)
            && attach(fd, &drop_all).is_err()
        {
            warnings.push(format!(
                "descriptor {fd}: an inherited socket keeps the filter locked on it (not one \
                 of these rules': another program's, or a parent's under other rules)"
            ));
        }
    }
    warnings
}

/// The filter attached to `fd` (`SO_GET_FILTER`), if any.
fn attached(fd: RawFd) -> Option<Vec<SockFilter>> {
    // With a length of 0 the kernel says how many instructions there are.
    let mut len: libc::socklen_t = 0;
    // SAFETY: a NULL buffer with a length of 0 is the size query.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            std::ptr::null_mut(),
            &mut len,
        )
    };
    if r != 0 || len == 0 {
        return None;
    }
    let mut prog = vec![
        SockFilter {
            code: 0,
            jt: 0,
            jf: 0,
            k: 0
        };
        len as usize
    ];
    // SAFETY: `prog` has room for `len` instructions (the unit of the
    // length SO_GET_FILTER takes).
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            prog.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (r == 0 && len as usize == prog.len()).then_some(prog)
}

/// Handles one notification: the value or errno to answer with, whether
/// the caller is owed SIGPIPE once answered, and what its trace shows.
pub fn handle(ctx: &Ctx, n: &SeccompNotif) -> (Result<Outcome>, bool, Seen) {
    let mut c = Caller {
        ctx,
        n,
        pidfd: None,
        sigpipe: false,
        seen: Seen::default(),
    };
    let r = match i64::from(n.data.nr) {
        libc::SYS_socket => return (socket(&c), false, c.seen),
        libc::SYS_bind => {
            let r = bind(&mut c);
            return (r, false, c.seen);
        }
        // Only the source-route options reach the supervisor, and only
        // with rules, to be refused and shown (nothing of the call is read).
        libc::SYS_setsockopt => {
            let r = match c.ctx.policy {
                Some(_) => Err(Fail::Denied(rules::SOURCE_ROUTE)),
                None => Ok(Outcome::Continue),
            };
            return (r, false, c.seen);
        }
        libc::SYS_connect => connect(&mut c),
        libc::SYS_sendto => sendto(&mut c),
        libc::SYS_sendmsg => sendmsg(&mut c),
        libc::SYS_sendmmsg => sendmmsg(&mut c),
        // The filter sends nothing else; refuse rather than guess.
        _ => Err(Fail::Errno(libc::ENOSYS)),
    };
    (r.map(Outcome::Value), c.sigpipe, c.seen)
}

/// Whether the call `n` carries the token of a preloaded libsock that
/// traced and counted it already.
pub fn marked(ctx: &Ctx, n: &SeccompNotif) -> bool {
    sock_core::supervised::token_arg(i64::from(n.data.nr))
        .is_some_and(|i| ctx.token != 0 && n.data.args[i] == ctx.token)
}

/// The trace record of the call `n` (its arguments as the library shows
/// them; `why`: the rule that refused it).
pub fn record(n: &SeccompNotif, seen: &Seen, why: Option<Why<'static>>) -> Option<Record> {
    let a = |i: usize| n.data.args[i];
    let int = |i: usize| a(i) as u32 as i32;
    let addr = || Val::Addr(seen.addr.clone());
    let rec = match i64::from(n.data.nr) {
        libc::SYS_socket => Record::new(Call::socket)
            .arg("domain", Val::Family(int(0)))
            .arg("type", Val::SockType(int(1)))
            .arg("protocol", Val::Int(int(2).into())),
        libc::SYS_connect => Record::new(Call::connect).fd(int(0)).arg("addr", addr()),
        libc::SYS_bind => {
            let rec = Record::new(Call::bind).fd(int(0)).arg("addr", addr());
            match &seen.asked {
                Some(asked) => rec.out("asked", Val::Addr(Some(asked.clone()))),
                None => rec,
            }
        }
        libc::SYS_sendto => Record::new(Call::sendto)
            .fd(int(0))
            .arg("size", Val::Int(a(2) as i64))
            .arg("flags", Val::MsgFlags(int(3)))
            .arg("addr", addr()),
        libc::SYS_sendmsg => {
            let rec = Record::new(Call::sendmsg)
                .fd(int(0))
                .arg("flags", Val::MsgFlags(int(2)));
            match &seen.addr {
                Some(_) => rec.arg("addr", addr()),
                None => rec,
            }
        }
        libc::SYS_setsockopt => Record::new(Call::setsockopt)
            .fd(int(0))
            .arg(
                "opt",
                Val::Opt {
                    level: int(1),
                    name: int(2),
                    value: None,
                },
            )
            .arg("len", Val::Int(int(4).into())),
        libc::SYS_sendmmsg => Record::new(Call::sendmmsg)
            .fd(int(0))
            .arg("vlen", Val::Int(i64::from(a(2) as u32)))
            .arg("flags", Val::MsgFlags(int(3))),
        _ => return None,
    };
    Some(match why {
        Some(why) => rec.out("denied_by", Val::Rule(why.0, why.1)),
        None => rec,
    })
}

/// `socket(domain, type, protocol)` for INET/INET6: created here (non-
/// blocking if asked), filtered and locked if rules are set, and installed
/// in the caller (close-on-exec if asked) as the call's answer.
fn socket(c: &Caller) -> Result<Outcome> {
    let (domain, ty, protocol) = (c.int(0), c.int(1), c.int(2));
    // With rules, an INET socket whose peers cannot be placed (SCTP names
    // several, and connects through a socket option) is refused, as the
    // library refuses it.
    let kind = Socket {
        domain,
        ty,
        protocol,
    };
    // Raw and packet sockets reach the supervisor only to be refused and
    // shown (the filter refuses them itself otherwise).
    if c.ctx.policy.is_some() && kind.raw_or_packet() {
        return Err(Fail::Denied(rules::UNFILTERABLE));
    }
    if c.ctx.policy.is_some() && !kind.placeable() {
        return Err(Fail::Denied(rules::UNPLACEABLE));
    }
    if c.ctx.policy.is_some() && !kind.filterable() {
        return Err(Fail::Denied(rules::NO_FILTER));
    }
    // Our copy is close-on-exec whatever the caller asked (it never
    // leaves sockrun); the caller's flag is newfd_flags.
    let fd = perform(
        c,
        Socket {
            domain,
            ty,
            protocol,
        },
        || {
            // SAFETY: plain integer arguments.
            let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) };
            if fd < 0 { Err(sys::errno()) } else { Ok(fd) }
        },
    )?
    .map_err(Fail::Errno)?;
    // SAFETY: `fd` was just returned and nothing else owns it.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    ctx_filter(c, fd.as_raw_fd(), ty, protocol)?;
    apply_options(&c.ctx.config, fd.as_raw_fd(), domain, ty, protocol);
    let cloexec = ty & libc::SOCK_CLOEXEC != 0;
    // Traced, the descriptor is installed first and the answer sent once
    // the call is shown (its line then comes before the caller's next
    // call's) — only where the caller waits killably for its answer, so
    // no signal can end its call between the two with the descriptor
    // installed and not returned.
    let r = if c.ctx.report.active() && super::signals::killable() {
        sys::addfd(c.ctx.listener, c.n.id, fd.as_raw_fd(), cloexec)
            .map(|fd| Outcome::Value(fd.into()))
    } else {
        sys::addfd_send(c.ctx.listener, c.n.id, fd.as_raw_fd(), cloexec).map(Outcome::Answered)
    };
    match r {
        Ok(outcome) => Ok(outcome),
        Err(libc::ENOENT) => Err(Fail::Gone),
        Err(e) => Err(Fail::Errno(e)),
    }
}

/// The socket options asked for (sockrun's options, LIBSOCK_*), set on a
/// new INET/INET6 socket before the caller sees it, as the library sets
/// them: at creation, and — since `bind` is not supervised — those the
/// library sets before an INET bind (SO_REUSEADDR, SO_REUSEPORT, the
/// FREEBIND options), which take effect the same way set earlier. A
/// refused option is left as the kernel has it.
fn apply_options(config: &Config, fd: RawFd, domain: i32, ty: i32, protocol: i32) {
    let set = |level, name, value: i32| {
        // SAFETY: `value` is an int alive for the call.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&raw const value).cast(),
                size_of::<i32>() as libc::socklen_t,
            )
        };
    };
    config.each_socket_option(domain, config::tcp_stream(ty, protocol), set);
    if domain == libc::AF_INET || domain == libc::AF_INET6 {
        config.each_bind_option(domain == libc::AF_INET6, set);
    }
}

/// The rules' filter on a new socket: one that will not take it (MPTCP:
/// EOPNOTSUPP) is refused, as the library refuses it.
fn ctx_filter(c: &Caller, fd: RawFd, ty: i32, protocol: i32) -> Result<()> {
    c.ctx
        .filter(fd, ty, protocol)
        .map_err(|_| Fail::Denied(rules::NO_FILTER))
}

/// Reads a name of `len` bytes at `addr` (connect, sendto): EINVAL past a
/// sockaddr_storage or negative, as `move_addr_to_kernel`.
fn read_name(c: &Caller, addr: u64, len: u32) -> Result<[u8; MAX_NAME]> {
    if len as i32 > MAX_NAME as i32 || (len as i32) < 0 {
        return Err(Fail::Errno(libc::EINVAL));
    }
    let mut name = [0u8; MAX_NAME];
    c.read(addr, &mut name[..len as usize])?;
    Ok(name)
}

/// Performs the call `f` as the caller would: with its credentials
/// ([`creds::as_caller`]) and, for a Unix socket (whose relative paths are
/// the caller's), in its working directory — the thread that runs `f`
/// stops sharing sockrun's (a receiving thread; it uses no relative path).
fn perform<T: Send>(c: &Caller, sock: Socket, f: impl FnOnce() -> T + Send) -> Result<T> {
    let tid = c.tid();
    creds::as_caller(tid, move || {
        if sock.domain == libc::AF_UNIX {
            // SAFETY: unshare(CLONE_FS) affects only this thread.
            if unsafe { libc::unshare(libc::CLONE_FS) } == 0 {
                // The thread may be reused: where the caller's directory
                // cannot be entered (a program that changed its
                // credentials is not dumpable), the root, never an
                // earlier caller's; absolute paths are unaffected.
                if std::env::set_current_dir(format!("/proc/{tid}/cwd")).is_err() {
                    let _ = std::env::set_current_dir("/");
                }
            }
        }
        f()
    })
    .map_err(Fail::Errno)
}

/// `bind(fd, addr, len)`, supervised only when an address rewrite is
/// asked for (a static program's binds; the library rewrites those of a
/// dynamic one): an INET/INET6 address is copied, rewritten as the library
/// rewrites it (`Config::rebind`) and bound by sockrun on the program's
/// socket with that copy. Let through unread: a bind libsock made (marked:
/// rewritten already), and a bind on a socket that is not INET/INET6 (told
/// by the socket, not by anything in the caller's memory).
fn bind(c: &mut Caller) -> Result<Outcome> {
    if marked(c.ctx, c.n) {
        return Ok(Outcome::Continue);
    }
    let (fd, addr, len) = (c.int(0), c.arg(1), c.int(2) as u32);
    let (sock, info) = c.socket(fd)?;
    if info.domain != libc::AF_INET && info.domain != libc::AF_INET6 {
        return Ok(Outcome::Continue);
    }
    let name = read_name(c, addr, len)?;
    let asked = SockAddr::decode(&name[..len as usize]);
    let raw = sock.as_raw_fd();
    let rebind = match asked {
        SockAddr::V4(_) | SockAddr::V6(_) => c.ctx.config.rebind(&asked, len as usize, || {
            get_opt(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).unwrap_or(0) != 0
        }),
        _ => None,
    };
    let (bytes, blen) = match rebind {
        Some((bytes, blen, now)) => {
            c.seen.addr = Some(now);
            c.seen.asked = Some(asked);
            (bytes.to_vec(), blen)
        }
        None => {
            c.seen.addr = Some(asked);
            (name[..len as usize].to_vec(), len)
        }
    };
    let r = perform(c, info, || {
        // SAFETY: `bytes` holds `blen` bytes.
        let r = unsafe { libc::bind(raw, bytes.as_ptr().cast(), blen) };
        result(r as isize)
    })?;
    r.map(Outcome::Value).map_err(Fail::Errno)
}

// --- signals: the blocking part of a call, watched (super::signals) --------
/// [`perform`]s the call `f` on our socket `fd`, interrupted when a signal
/// would natively have interrupted the caller: its result, or the errno the
/// kernel would have answered with (ERESTARTSYS included).
fn perform_blocking(
    c: &Caller,
    sock: Socket,
    fd: RawFd,
    f: impl FnMut() -> std::result::Result<i64, i32> + Send,
) -> Result<std::result::Result<i64, i32>> {
    let (listener, id, tid) = (c.ctx.listener, c.n.id, c.tid());
    perform(c, sock, move || {
        super::signals::watched(listener, id, tid, fd, f)
    })
}
// --- end signals -------------------------------------------------------------

/// `connect(fd, addr, len)`.
fn connect(c: &mut Caller) -> Result<i64> {
    let (fd, addr, len) = (c.int(0), c.arg(1), c.int(2) as u32);
    let (sock, info) = c.socket(fd)?;
    let mut name = read_name(c, addr, len)?;
    c.see(&name[..len as usize]);
    let raw = sock.as_raw_fd();
    c.ctx.judge(raw, info, Op::Connect, len, &mut name, None)?;
    // The result and its errno are read on the thread that made the call.
    let r = perform_blocking(c, info, raw, || {
        // SAFETY: `name` holds `len` (<= 128) bytes.
        let r = unsafe { libc::connect(raw, name.as_ptr().cast(), len) };
        result(r as isize)
    })?;
    r.map_err(Fail::Errno)
}

/// EMSGSIZE for a message of `len` bytes longer than [`MAX_DATA`] on a
/// socket whose messages cannot be cut (anything but a stream: a datagram
/// sent in part would arrive truncated); a stream's send may be partial.
fn too_long(sock: Socket, len: u64) -> Result<()> {
    let base = sock.ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    if base != libc::SOCK_STREAM && len > MAX_DATA as u64 {
        return Err(Fail::Errno(libc::EMSGSIZE));
    }
    Ok(())
}

/// Copies `len` bytes of data at `addr` (at most [`MAX_DATA`]).
fn read_data(c: &Caller, sock: Socket, addr: u64, len: usize) -> Result<Vec<u8>> {
    too_long(sock, len as u64)?;
    let mut data = vec![0u8; len.min(MAX_DATA)];
    c.read(addr, &mut data)?;
    Ok(data)
}

/// `sendto(fd, buf, len, flags, addr, addrlen)` with an address.
fn sendto(c: &mut Caller) -> Result<i64> {
    let (fd, buf, len, flags, addr, alen) = (
        c.int(0),
        c.arg(1),
        c.arg(2) as usize,
        c.int(3),
        c.arg(4),
        c.int(5) as u32,
    );
    // __sys_sendto's order: the descriptor, the name, then the data.
    let (sock, info) = c.socket(fd)?;
    let mut name = read_name(c, addr, alen)?;
    c.see(&name[..alen as usize]);
    let data = read_data(c, info, buf, len)?;
    let raw = sock.as_raw_fd();
    c.ctx
        .judge(raw, info, Op::SendTo { flags }, alen, &mut name, None)?;
    let r = perform_blocking(c, info, raw, || {
        // SAFETY: `data` and `name` are ours, of the lengths given.
        let r = unsafe {
            libc::sendto(
                raw,
                data.as_ptr().cast(),
                data.len(),
                flags | libc::MSG_NOSIGNAL,
                name.as_ptr().cast(),
                alen,
            )
        };
        result(r)
    })?;
    c.sigpipe(flags, &r);
    c.seen.bytes = *r.as_ref().unwrap_or(&0) as u64;
    r.map_err(Fail::Errno)
}

/// One message copied out of the caller, judged, ready to send.
struct Message {
    name: [u8; MAX_NAME],
    namelen: u32,
    has_name: bool,
    data: Vec<u8>,
    control: Vec<u8>,
    /// The descriptors an SCM_RIGHTS message passes, duplicated here.
    _fds: Vec<OwnedFd>,
}

/// `struct msghdr`'s bytes at `addr`.
fn read_msghdr(c: &Caller, addr: u64) -> Result<libc::msghdr> {
    let mut raw = [0u8; size_of::<libc::msghdr>()];
    c.read(addr, &mut raw)?;
    // SAFETY: `raw` holds a whole msghdr's bytes (any bit pattern is a
    // msghdr: pointers and integers); read_unaligned copies them out.
    Ok(unsafe { raw.as_ptr().cast::<libc::msghdr>().read_unaligned() })
}

/// Copies the message `hdr` out of the caller, judges it on `sock` (our
/// `fd`) for `flags`: what to send.
fn message(
    c: &mut Caller,
    hdr: &libc::msghdr,
    fd: RawFd,
    sock: Socket,
    flags: i32,
) -> Result<Message> {
    // __copy_msghdr: a negative name length is EINVAL; longer than a
    // sockaddr_storage is truncated; NULL or 0 names nothing.
    if (hdr.msg_namelen as i32) < 0 {
        return Err(Fail::Errno(libc::EINVAL));
    }
    let has_name = !hdr.msg_name.is_null() && hdr.msg_namelen > 0;
    let namelen = hdr.msg_namelen.min(MAX_NAME as u32);
    let mut name = [0u8; MAX_NAME];
    if has_name {
        c.read(hdr.msg_name as u64, &mut name[..namelen as usize])?;
        c.see(&name[..namelen as usize]);
    }
    // The data: every iovec, one after the other, up to MAX_DATA.
    if hdr.msg_iovlen > UIO_MAXIOV {
        return Err(Fail::Errno(libc::EMSGSIZE));
    }
    let mut iov_raw = vec![0u8; hdr.msg_iovlen * size_of::<libc::iovec>()];
    if !iov_raw.is_empty() {
        c.read(hdr.msg_iov as u64, &mut iov_raw)?;
    }
    let total = iov_raw
        .chunks_exact(size_of::<libc::iovec>())
        .map(|chunk| u64::from_ne_bytes(chunk[8..16].try_into().unwrap_or_default()))
        .fold(0u64, u64::saturating_add);
    too_long(sock, total)?;
    let mut data = Vec::new();
    for chunk in iov_raw.chunks_exact(size_of::<libc::iovec>()) {
        let base = u64::from_ne_bytes(chunk[..8].try_into().unwrap_or_default());
        let len = u64::from_ne_bytes(chunk[8..16].try_into().unwrap_or_default());
        if len > isize::MAX as u64 {
            return Err(Fail::Errno(libc::EINVAL));
        }
        let take = (len as usize).min(MAX_DATA - data.len());
        let at = data.len();
        data.resize(at + take, 0);
        c.read(base, &mut data[at..])?;
        if data.len() == MAX_DATA {
            break;
        }
    }
    // Control data: source routes refused, IP_PKTINFO noted, passed
    // descriptors duplicated from the caller.
    let mut control = Vec::new();
    let mut fds = Vec::new();
    let mut pktinfo = None;
    let clen = hdr.msg_controllen;
    if !hdr.msg_control.is_null() && clen > 0 {
        if clen > MAX_CONTROL {
            return Err(Fail::Errno(libc::ENOBUFS));
        }
        control = vec![0u8; clen];
        c.read(hdr.msg_control as u64, &mut control)?;
        if c.ctx.policy.is_some() && (sock.domain == libc::AF_INET || sock.domain == libc::AF_INET6)
        {
            let seen = dest::scan_control(&control, sock.domain == libc::AF_INET6);
            if seen.source_route {
                return Err(Fail::Denied(rules::SOURCE_ROUTE));
            }
            pktinfo = seen.pktinfo;
        }
        fds = pass_fds(c, &mut control)?;
    }
    if has_name {
        c.ctx.judge(
            fd,
            sock,
            Op::SendMsg { flags },
            hdr.msg_namelen,
            &mut name,
            pktinfo,
        )?;
    }
    Ok(Message {
        name,
        namelen,
        has_name,
        data,
        control,
        _fds: fds,
    })
}

/// Rewrites the descriptors of each SCM_RIGHTS message in `control` (the
/// caller's numbers) to duplicates in sockrun, walked as the kernel's
/// `for_each_cmsghdr`: EBADF if one is not open.
fn pass_fds(c: &mut Caller, control: &mut [u8]) -> Result<Vec<OwnedFd>> {
    const HDR: usize = 16;
    let mut fds = Vec::new();
    let mut at = 0usize;
    while let Some(h) = control.get(at..at + HDR) {
        let len = u64::from_ne_bytes(h[..8].try_into().unwrap_or_default());
        let level = i32::from_ne_bytes(h[8..12].try_into().unwrap_or_default());
        let ty = i32::from_ne_bytes(h[12..16].try_into().unwrap_or_default());
        if len < HDR as u64 || len > (control.len() - at) as u64 {
            break;
        }
        if level == libc::SOL_SOCKET && ty == libc::SCM_RIGHTS {
            for slot in control[at + HDR..at + len as usize].chunks_exact_mut(4) {
                let theirs = i32::from_ne_bytes(slot.try_into().unwrap_or_default());
                let ours = c.fd(theirs)?;
                slot.copy_from_slice(&ours.as_raw_fd().to_ne_bytes());
                fds.push(ours);
            }
        }
        at += (len as usize).div_ceil(8) * 8;
    }
    Ok(fds)
}

/// Sends `m` on our `fd`.
fn send_message(fd: RawFd, m: &mut Message, flags: i32) -> std::result::Result<i64, i32> {
    let mut iov = libc::iovec {
        iov_base: m.data.as_mut_ptr().cast(),
        iov_len: m.data.len(),
    };
    // SAFETY: an all-zero msghdr is a valid empty one.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    if m.has_name {
        hdr.msg_name = m.name.as_mut_ptr().cast();
        hdr.msg_namelen = m.namelen;
    }
    hdr.msg_iov = &raw mut iov;
    hdr.msg_iovlen = 1;
    if !m.control.is_empty() {
        hdr.msg_control = m.control.as_mut_ptr().cast();
        hdr.msg_controllen = m.control.len();
    }
    // SAFETY: `hdr` points at our own buffers, alive for the call.
    result(unsafe { libc::sendmsg(fd, &hdr, flags | libc::MSG_NOSIGNAL) })
}

/// `sendmsg(fd, msg, flags)`.
fn sendmsg(c: &mut Caller) -> Result<i64> {
    let (fd, msg, flags) = (c.int(0), c.arg(1), c.int(2));
    let (sock, info) = c.socket(fd)?;
    let hdr = read_msghdr(c, msg)?;
    let mut m = message(c, &hdr, sock.as_raw_fd(), info, flags)?;
    let raw = sock.as_raw_fd();
    let r = perform_blocking(c, info, raw, || send_message(raw, &mut m, flags))?;
    c.sigpipe(flags, &r);
    c.seen.bytes = *r.as_ref().unwrap_or(&0) as u64;
    r.map_err(Fail::Errno)
}

/// `sendmmsg(fd, msgvec, vlen, flags)`: the messages in order, up to the
/// first refused or failed one; the number sent, or the first one's error.
fn sendmmsg(c: &mut Caller) -> Result<i64> {
    let (fd, vec, vlen, flags) = (c.int(0), c.arg(1), c.int(2) as u32 as usize, c.int(3));
    let (sock, info) = c.socket(fd)?;
    let vlen = vlen.min(UIO_MAXIOV);
    let mut sent = 0usize;
    while sent < vlen {
        let at = vec + MMSGHDR * sent as u64;
        let step =
            read_msghdr(c, at).and_then(|hdr| message(c, &hdr, sock.as_raw_fd(), info, flags));
        let mut m = match step {
            Ok(m) => m,
            Err(e) if sent == 0 => return Err(e),
            Err(Fail::Gone) => return Err(Fail::Gone),
            Err(Fail::Denied(_)) => {
                // A batch cut before a refused message is a denial too.
                c.seen.cut = true;
                break;
            }
            Err(Fail::Errno(_)) => break,
        };
        let raw = sock.as_raw_fd();
        let r = match perform_blocking(c, info, raw, || send_message(raw, &mut m, flags)) {
            Ok(r) => r,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        };
        c.sigpipe(flags, &r);
        match r {
            Ok(n) => {
                // The kernel's put_user of msg_len: a message whose length
                // cannot be written back is not counted (EFAULT if first).
                if sys::write_mem(c.tid(), at + MSG_LEN_AT, &(n as u32).to_ne_bytes()).is_err() {
                    if sent == 0 {
                        return Err(Fail::Errno(libc::EFAULT));
                    }
                    break;
                }
                c.seen.bytes += n as u64;
                sent += 1;
            }
            Err(e) if sent == 0 => return Err(Fail::Errno(e)),
            Err(_) => break,
        }
    }
    Ok(sent as i64)
}
