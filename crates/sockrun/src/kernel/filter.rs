//! The seccomp program the command runs under: which system calls go to
//! the supervisor (`SECCOMP_RET_USER_NOTIF`), which are refused in the
//! kernel, and which run natively — generated here, checked by running it
//! over `seccomp_data` records in sock-core's classic BPF interpreter.
//!
//! | call | verdict |
//! |---|---|
//! | any, `arch` not `AUDIT_ARCH_X86_64` (`int 0x80`, i386's `socketcall`) | `KILL_PROCESS` |
//! | any x32 call (`nr & __X32_SYSCALL_BIT`) | `ERRNO(ENOSYS)` |
//! | `io_uring_setup` | `ERRNO(ENOSYS)` |
//! | `socket(AF_INET/AF_INET6, SOCK_RAW or SOCK_PACKET)`, `socket(AF_PACKET)` | `ERRNO(EPERM)` with rules (notify, to be refused and shown, when traced or counted), else allowed |
//! | `setsockopt` of `IP_OPTIONS`, `IPV6_RTHDR`, `IPV6_2292RTHDR`, `IPV6_2292PKTOPTIONS` (source routes) | the same |
//! | `socket(AF_INET/AF_INET6, any other type)` | notify |
//! | `connect`, `sendmsg`, `sendmmsg`; `sendto` with a non-NULL address of 1 to 128 bytes | notify |
//! | `bind`, when an address rewrite is asked for | notify |
//! | `setuid`, `setresuid`, `setgroups`, `capset`, ... ([`CRED_CALLS`]) | notify (noted, then let through) |
//! | anything else (a connected socket's `send`, `recv`, `read`, ...) | allowed |
//!
//! Why `KILL_PROCESS` for another architecture: its system-call numbers
//! mean other calls (i386's `socketcall` multiplexes every socket call
//! behind one number the filter cannot see into), so none of them can be
//! judged; a 64-bit program that switches ABI is escaping the rules, and a
//! whole 32-bit program cannot run without its calls either way — dying
//! with SIGSYS says so at once, where ENOSYS on every call (`exit`
//! included) would leave it spinning. The x32 ABI shares the x86_64
//! `arch`, so its calls are told apart by number and get ENOSYS, what a
//! kernel built without x32 support answers.

use super::sys::{
    AUDIT_ARCH_X86_64, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_USER_NOTIF, X32_SYSCALL_BIT,
};
use sock_core::rules::bpf::{
    BPF_ABS, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
    SockFilter,
};

/// Offsets in `struct seccomp_data` (native byte order: the low half of an
/// argument is at its offset on little-endian x86_64).
const NR: u32 = 0;
const ARCH: u32 = 4;
const fn arg_lo(i: u32) -> u32 {
    16 + 8 * i
}
const fn arg_hi(i: u32) -> u32 {
    arg_lo(i) + 4
}

/// `SOCK_TYPE_MASK` (linux/net.h): the type without its flags.
const SOCK_TYPE_MASK: u32 = 0xf;
/// `SOCK_PACKET`: on AF_INET, an obsolete spelling of a packet socket.
const SOCK_PACKET: u32 = 10;

/// The calls that change a thread's credentials (under `no_new_privs`,
/// `execve` of a setuid or file-capability binary cannot): the supervisor
/// is told of each before it runs, so it can tell whether the program's
/// credentials may differ from its own without reading them per call
/// (`super::creds`). They are let through with
/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: nothing of the program's memory is
/// read or judged for them.
pub const CRED_CALLS: [libc::c_long; 10] = [
    libc::SYS_setuid,
    libc::SYS_setgid,
    libc::SYS_setreuid,
    libc::SYS_setregid,
    libc::SYS_setgroups,
    libc::SYS_setresuid,
    libc::SYS_setresgid,
    libc::SYS_setfsuid,
    libc::SYS_setfsgid,
    libc::SYS_capset,
];

/// A program being assembled with symbolic jump targets.
#[derive(Default)]
struct Asm {
    code: Vec<(SockFilter, Option<(Label, Label)>)>,
    labels: Vec<Option<usize>>,
}

#[derive(Clone, Copy)]
struct Label(usize);

impl Asm {
    fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    fn here(&mut self, l: Label) {
        self.labels[l.0] = Some(self.code.len());
    }

    fn op(&mut self, code: u16, k: u32) {
        self.code.push((
            SockFilter {
                code,
                jt: 0,
                jf: 0,
                k,
            },
            None,
        ));
    }

    /// `A = seccomp_data[off]` (32 bits).
    fn load(&mut self, off: u32) {
        self.op(BPF_LD | BPF_W | BPF_ABS, off);
    }

    fn ret(&mut self, v: u32) {
        self.op(BPF_RET | BPF_K, v);
    }

    /// Jump to `t` if `A <cmp> k`, else to `f`.
    fn jump(&mut self, cmp: u16, k: u32, t: Label, f: Label) {
        self.code.push((
            SockFilter {
                code: BPF_JMP | cmp | BPF_K,
                jt: 0,
                jf: 0,
                k,
            },
            Some((t, f)),
        ));
    }

    /// Jumps to the label of the first case `A` equals, else to
    /// `otherwise`: a chain of comparisons, each falling through to the
    /// next.
    fn cases(&mut self, cases: &[(u32, Label)], otherwise: Label) {
        for (i, &(k, target)) in cases.iter().enumerate() {
            if i + 1 == cases.len() {
                self.jump(BPF_JEQ, k, target, otherwise);
            } else {
                let next = self.label();
                self.jump(BPF_JEQ, k, target, next);
                self.here(next);
            }
        }
    }

    /// Resolves the labels: every jump goes forward, within 255.
    fn finish(self) -> Vec<SockFilter> {
        let at = |l: Label| self.labels[l.0].expect("label placed");
        self.code
            .iter()
            .enumerate()
            .map(|(pc, (ins, jumps))| {
                let mut ins = *ins;
                if let Some((t, f)) = jumps {
                    let off = |to: usize| u8::try_from(to - pc - 1).expect("a short forward jump");
                    ins.jt = off(at(*t));
                    ins.jf = off(at(*f));
                }
                ins
            })
            .collect()
    }
}

/// `sizeof(struct sockaddr_storage)`: the longest name `sendto` takes.
const MAX_NAME: u32 = 128;

/// `IPV6_2292PKTOPTIONS` (linux/in6.h): sticky options as a control buffer,
/// a routing header among them.
const IPV6_2292PKTOPTIONS: u32 = 6;

/// What the seccomp program is made for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Access rules are set: raw and packet sockets (which no socket
    /// filter can hold) and source routes set as socket options are
    /// refused.
    pub rules: bool,
    /// Those refusals are shown (traced, counted): they go to the
    /// supervisor, which refuses them with the reason, rather than EPERM
    /// here.
    pub show_refusals: bool,
    /// An address rewrite at bind is asked for (LIBSOCK_BIND_ADDR,
    /// LIBSOCK_PORT_MAP): `bind` goes to the supervisor too.
    pub bind: bool,
}

/// The seccomp program for `opts`.
pub fn program(opts: Options) -> Vec<SockFilter> {
    let Options {
        rules,
        show_refusals,
        bind,
    } = opts;
    let mut a = Asm::default();
    let [native_arch, kill, enosys, notify, allow, eperm_or_allow] = [(); 6].map(|()| a.label());
    let [
        not_x32,
        socket,
        sendto,
        inet,
        sendto_hi,
        sendto_len,
        sendto_long,
    ] = [(); 7].map(|()| a.label());
    let [setsockopt, level_ip, level_ip6] = [(); 3].map(|()| a.label());

    a.load(ARCH);
    a.jump(BPF_JEQ, AUDIT_ARCH_X86_64, native_arch, kill);
    a.here(native_arch);
    a.load(NR);
    a.jump(BPF_JGE, X32_SYSCALL_BIT, enosys, not_x32);
    a.here(not_x32);
    let nr = |n: libc::c_long| n as u32;
    let mut calls = vec![
        (nr(libc::SYS_io_uring_setup), enosys),
        (nr(libc::SYS_socket), socket),
        (nr(libc::SYS_connect), notify),
        (nr(libc::SYS_sendto), sendto),
        (nr(libc::SYS_sendmsg), notify),
        (nr(libc::SYS_sendmmsg), notify),
        (nr(libc::SYS_setsockopt), setsockopt),
        (nr(libc::SYS_bind), if bind { notify } else { allow }),
    ];
    // Calls that change credentials: told to the supervisor, which notes it
    // and lets them run (see CRED_CALLS).
    calls.extend(CRED_CALLS.iter().map(|&n| (nr(n), notify)));
    a.cases(&calls, allow);

    // socket(domain, type, protocol): `int` arguments, the low halves.
    a.here(socket);
    a.load(arg_lo(0));
    let packet = libc::AF_PACKET as u32;
    a.cases(
        &[
            (libc::AF_INET as u32, inet),
            (libc::AF_INET6 as u32, inet),
            (packet, eperm_or_allow),
        ],
        allow,
    );
    a.here(inet);
    a.load(arg_lo(1));
    a.op(BPF_ALU | BPF_AND | BPF_K, SOCK_TYPE_MASK);
    a.cases(
        &[
            (libc::SOCK_RAW as u32, eperm_or_allow),
            (SOCK_PACKET, eperm_or_allow),
        ],
        notify,
    );

    // setsockopt(fd, level, name, …): a source route (IP_OPTIONS) or an
    // IPv6 routing header (IPV6_RTHDR, and the RFC 2292 forms, which carry
    // one) would send every later packet of the socket to a first hop no
    // rule judged, and the supervisor's own send on its duplicate would
    // carry it too: refused with rules (`int` arguments: the low halves).
    a.here(setsockopt);
    a.load(arg_lo(1));
    a.cases(
        &[
            (libc::IPPROTO_IP as u32, level_ip),
            (libc::IPPROTO_IPV6 as u32, level_ip6),
        ],
        allow,
    );
    a.here(level_ip);
    a.load(arg_lo(2));
    a.cases(&[(libc::IP_OPTIONS as u32, eperm_or_allow)], allow);
    a.here(level_ip6);
    a.load(arg_lo(2));
    let rthdr = [
        libc::IPV6_RTHDR as u32,
        libc::IPV6_2292RTHDR as u32,
        IPV6_2292PKTOPTIONS,
    ];
    a.cases(&rthdr.map(|o| (o, eperm_or_allow)), allow);

    // sendto(fd, buf, len, flags, addr, addrlen): only with an address
    // (a pointer: both halves) of a length that can name a peer. An
    // `addrlen` (an int: the low half) of 0 names none (every protocol
    // ignores the empty name or answers EINVAL), and one past a
    // sockaddr_storage (128, a negative int included) is EINVAL before
    // anything is done (`move_addr_to_kernel`): both run natively.
    a.here(sendto);
    a.load(arg_lo(4));
    a.jump(BPF_JEQ, 0, sendto_hi, sendto_len);
    a.here(sendto_hi);
    a.load(arg_hi(4));
    a.jump(BPF_JEQ, 0, allow, sendto_len);
    a.here(sendto_len);
    a.load(arg_lo(5));
    a.jump(BPF_JEQ, 0, allow, sendto_long);
    a.here(sendto_long);
    a.jump(BPF_JGT, MAX_NAME, allow, notify);

    a.here(eperm_or_allow);
    if rules && show_refusals {
        a.ret(RET_USER_NOTIF);
    } else if rules {
        a.ret(RET_ERRNO | libc::EPERM as u32);
    } else {
        a.ret(RET_ALLOW);
    }
    a.here(kill);
    a.ret(RET_KILL_PROCESS);
    a.here(enosys);
    a.ret(RET_ERRNO | libc::ENOSYS as u32);
    a.here(notify);
    a.ret(RET_USER_NOTIF);
    a.here(allow);
    a.ret(RET_ALLOW);
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sock_core::rules::interp::{SeccompData, run};

    fn verdict(prog: &[SockFilter], arch: u32, nr: i64, args: [u64; 6]) -> u32 {
        let d = SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: 0x401000,
            args,
        };
        run(prog, &d).unwrap()
    }

    fn call(prog: &[SockFilter], nr: i64, args: [u64; 6]) -> u32 {
        verdict(prog, AUDIT_ARCH_X86_64, nr, args)
    }

    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;
    const ENOSYS: u32 = RET_ERRNO | libc::ENOSYS as u32;

    #[test]
    fn decides_each_call() {
        let p = program(Options {
            rules: true,
            ..Options::default()
        });
        let inet = |domain: i32, ty: i32| [domain as u64, ty as u64, 0, 0, 0, 0];
        // Another ABI: killed; x32: ENOSYS; io_uring: ENOSYS.
        assert_eq!(
            verdict(&p, 0x4000_0003, libc::SYS_socket, inet(2, 1)),
            RET_KILL_PROCESS
        );
        assert_eq!(verdict(&p, 0x4000_0003, 102, [0; 6]), RET_KILL_PROCESS);
        assert_eq!(call(&p, libc::SYS_socket | 0x4000_0000, inet(2, 1)), ENOSYS);
        assert_eq!(call(&p, libc::SYS_connect | 0x4000_0000, [0; 6]), ENOSYS);
        assert_eq!(
            call(&p, libc::SYS_io_uring_setup, [8, 0x1000, 0, 0, 0, 0]),
            ENOSYS
        );
        // socket: INET/INET6 to the supervisor, flags or not; raw and
        // packet refused; others native.
        for domain in [libc::AF_INET, libc::AF_INET6] {
            for ty in [
                libc::SOCK_STREAM,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
                libc::SOCK_SEQPACKET,
            ] {
                assert_eq!(call(&p, libc::SYS_socket, inet(domain, ty)), RET_USER_NOTIF);
            }
            assert_eq!(
                call(&p, libc::SYS_socket, inet(domain, libc::SOCK_RAW)),
                EPERM
            );
            assert_eq!(
                call(
                    &p,
                    libc::SYS_socket,
                    inet(domain, libc::SOCK_RAW | libc::SOCK_CLOEXEC)
                ),
                EPERM
            );
            assert_eq!(call(&p, libc::SYS_socket, inet(domain, 10)), EPERM);
        }
        assert_eq!(
            call(&p, libc::SYS_socket, inet(libc::AF_PACKET, libc::SOCK_RAW)),
            EPERM
        );
        assert_eq!(
            call(&p, libc::SYS_socket, inet(libc::AF_UNIX, libc::SOCK_STREAM)),
            RET_ALLOW
        );
        assert_eq!(
            call(&p, libc::SYS_socket, inet(libc::AF_NETLINK, libc::SOCK_RAW)),
            RET_ALLOW
        );
        // An int argument: the high half is not the domain.
        assert_eq!(
            call(&p, libc::SYS_socket, [(1 << 32) | 2, 1, 0, 0, 0, 0]),
            RET_USER_NOTIF
        );
        // Calls that may name a peer.
        for nr in [libc::SYS_connect, libc::SYS_sendmsg, libc::SYS_sendmmsg] {
            assert_eq!(call(&p, nr, [3, 0x1000, 16, 0, 0, 0]), RET_USER_NOTIF);
        }
        // sendto only with an address, either half non-zero.
        assert_eq!(
            call(&p, libc::SYS_sendto, [3, 0x1000, 5, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            call(&p, libc::SYS_sendto, [3, 0x1000, 5, 0, 0x7ffd_0000, 16]),
            RET_USER_NOTIF
        );
        assert_eq!(
            call(&p, libc::SYS_sendto, [3, 0x1000, 5, 0, 1 << 32, 16]),
            RET_USER_NOTIF
        );
        // ... of a length that can name a peer: 1 to 128 (an int: the low
        // half); 0 names none, longer (or negative) is EINVAL.
        for (len, verdict) in [
            (1, RET_USER_NOTIF),
            (128, RET_USER_NOTIF),
            ((7 << 32) | 16, RET_USER_NOTIF),
            (0, RET_ALLOW),
            (1 << 32, RET_ALLOW),
            (129, RET_ALLOW),
            (0xffff_ffff, RET_ALLOW),
        ] {
            assert_eq!(
                call(&p, libc::SYS_sendto, [3, 0x1000, 5, 0, 0x7ffd_0000, len]),
                verdict,
                "addrlen {len:#x}"
            );
        }
        // setsockopt: source routes refused, every other option native.
        for (level, name) in [(0, 4), (41, 57), (41, 5), (41, 6)] {
            assert_eq!(
                call(&p, libc::SYS_setsockopt, [3, level, name, 0x1000, 8, 0]),
                EPERM
            );
            assert_eq!(
                call(
                    &program(Options::default()),
                    libc::SYS_setsockopt,
                    [3, level, name, 0x1000, 8, 0]
                ),
                RET_ALLOW
            );
        }
        for (level, name) in [(0, 1), (1, 2), (6, 1), (41, 26), (1, 4)] {
            assert_eq!(
                call(&p, libc::SYS_setsockopt, [3, level, name, 0x1000, 8, 0]),
                RET_ALLOW,
                "{level} {name}"
            );
        }
        // An int argument: the kernel reads the low half only.
        assert_eq!(
            call(&p, libc::SYS_setsockopt, [3, 1 << 32, 4, 0x1000, 8, 0]),
            EPERM
        );
        // Credential changes: told, then let through.
        for nr in CRED_CALLS {
            assert_eq!(call(&p, nr, [65534, 0, 0, 0, 0, 0]), RET_USER_NOTIF, "{nr}");
        }
        // Everything else natively.
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_recvfrom,
            libc::SYS_recvmsg,
            libc::SYS_accept4,
            libc::SYS_bind,
            libc::SYS_exit_group,
            libc::SYS_io_uring_enter,
            libc::SYS_getuid,
            libc::SYS_setsid,
        ] {
            assert_eq!(call(&p, nr, [3, 0, 0, 0, 0, 0]), RET_ALLOW, "{nr}");
        }
    }

    #[test]
    fn without_rules_raw_sockets_are_the_kernels_to_refuse() {
        let p = program(Options::default());
        assert_eq!(call(&p, libc::SYS_socket, [2, 3, 1, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&p, libc::SYS_socket, [17, 3, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(
            call(&p, libc::SYS_socket, [2, 1, 0, 0, 0, 0]),
            RET_USER_NOTIF
        );
        assert_eq!(call(&p, libc::SYS_io_uring_setup, [0; 6]), ENOSYS);
    }

    #[test]
    fn shown_refusals_go_to_the_supervisor() {
        let p = program(Options {
            rules: true,
            show_refusals: true,
            ..Options::default()
        });
        assert_eq!(
            call(&p, libc::SYS_socket, [2, 3, 1, 0, 0, 0]),
            RET_USER_NOTIF
        );
        assert_eq!(
            call(&p, libc::SYS_socket, [17, 3, 0, 0, 0, 0]),
            RET_USER_NOTIF
        );
        assert_eq!(
            call(&p, libc::SYS_setsockopt, [3, 0, 4, 0x1000, 8, 0]),
            RET_USER_NOTIF
        );
        // The rest as without.
        assert_eq!(
            call(&p, libc::SYS_setsockopt, [3, 1, 2, 0x1000, 4, 0]),
            RET_ALLOW
        );
        assert_eq!(call(&p, libc::SYS_socket, [1, 1, 0, 0, 0, 0]), RET_ALLOW);
        // Without rules nothing is refused, shown or not.
        let p = program(Options {
            show_refusals: true,
            ..Options::default()
        });
        assert_eq!(call(&p, libc::SYS_socket, [2, 3, 1, 0, 0, 0]), RET_ALLOW);
    }

    #[test]
    fn bind_goes_to_the_supervisor_only_for_a_rewrite() {
        let args = [3, 0x1000, 16, 0, 0, 0];
        for rules in [false, true] {
            assert_eq!(
                call(
                    &program(Options {
                        rules,
                        ..Options::default()
                    }),
                    libc::SYS_bind,
                    args
                ),
                RET_ALLOW
            );
            let p = program(Options {
                rules,
                bind: true,
                ..Options::default()
            });
            assert_eq!(call(&p, libc::SYS_bind, args), RET_USER_NOTIF);
            // The rest decided as without.
            assert_eq!(call(&p, libc::SYS_listen, args), RET_ALLOW);
            assert_eq!(call(&p, libc::SYS_connect, args), RET_USER_NOTIF);
            assert_eq!(call(&p, libc::SYS_setuid, args), RET_USER_NOTIF);
        }
    }
}
