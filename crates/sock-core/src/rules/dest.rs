//! The peer the kernel reaches (SPEC, "Access rules": "The peer is the one
//! the kernel will use"): a destination read the way Linux reads it, not
//! the way its family field spells it.
//!
//! Access rules judge the peer of `connect`, `sendto`, `sendmsg` and each
//! message of `sendmmsg`. A naive check decodes the caller's `sockaddr` by
//! its `sa_family` and matches the address it holds; the kernel does not:
//!
//! | kernel rule (function) | what the bytes mean |
//! |---|---|
//! | `udp_sendmsg`, `raw_sendmsg` | on an IPv4 socket an `AF_UNSPEC` name is read as `AF_INET` |
//! | `udpv6_sendmsg` | on an IPv6 socket an `AF_UNSPEC` name means no name (the connected peer) |
//! | `udpv6_sendmsg` → `udp_sendmsg` | an `AF_INET` name on an IPv6 datagram socket is sent as IPv4 |
//! | `udpv6_sendmsg`, `__ip6_datagram_connect`, `tcp_v6_connect` | `::ffff:a.b.c.d` is IPv4 `a.b.c.d` |
//! | `ip_route_output_key_hash_rcu` | IPv4 `0.0.0.0` goes to the source address (bound — not to a multicast or broadcast address, `inet_bind` — or `IP_PKTINFO`'s), else `127.0.0.1` |
//! | `udpv6_sendmsg`, `__ip6_datagram_connect`, `tcp_v6_connect` | `::` is `::1` (`::ffff:127.0.0.1` on a socket bound to a v4-mapped address) |
//! | `inet_dgram_connect`, `__inet_stream_connect` | `connect` to `AF_UNSPEC` disconnects: no peer |
//! | `tcp_sendmsg_locked` | a TCP (or MPTCP) send names a peer only with `MSG_FASTOPEN`; otherwise the name is ignored |
//! | `tcp_sendmsg_fastopen` | `MSG_FASTOPEN` to `AF_UNSPEC` fails (EOPNOTSUPP) |
//! | `move_addr_to_kernel`, `__copy_msghdr` | `connect`/`sendto` fail on a name over 128 bytes; `sendmsg` truncates it to 128; a `sendmsg` name of length 0 is no name |
//! | `ip_options_get`, `fl6_update_dst` | an IPv4 source route (`IP_OPTIONS`/`IP_RETOPTS`) or an IPv6 routing header (`IPV6_RTHDR`) sends the packet to another first hop: libsock refuses them while rules are set ([`scan_control`], [`routes`]) |
//!
//! Anything the kernel rejects on its own (a short name, an unknown
//! family) is [`Dest::Rejected`]: the caller hands the kernel the same
//! bytes and the kernel fails the call with nothing sent. Where a reading
//! is unsure this module errs on the side of judging: judging bytes the
//! kernel would reject costs at most an EPERM in place of the kernel's
//! errno, under a rule that names the peer.
//!
//! An unspecified destination is rewritten, in the caller's copy, to the
//! address the kernel would pick — what is judged is then what is sent,
//! even if another thread binds the socket in between — and the kernel's
//! routing gives the same packet either way.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `MSG_FASTOPEN` (linux/socket.h).
pub const MSG_FASTOPEN: i32 = 0x2000_0000;

const IPPROTO_MPTCP: i32 = 262;
/// `IP_RETOPTS` and `IP_OPTIONS` (linux/in.h).
const IP_OPTIONS: i32 = 4;
const IP_RETOPTS: i32 = 7;
const IP_PKTINFO: i32 = 8;
/// `IPV6_2292RTHDR`, `IPV6_RTHDR`, `IPV6_PKTINFO` (linux/in6.h).
const IPV6_2292RTHDR: i32 = 5;
const IPV6_RTHDR: i32 = 57;
const IPV6_PKTINFO: i32 = 50;
const IPV6_2292PKTOPTIONS: i32 = 6;
/// IPv4 options that route a packet through other hosts first (RFC 791).
const IPOPT_LSRR: u8 = 0x83;
const IPOPT_SSRR: u8 = 0x89;

/// A socket as the kernel's reading of a destination depends on it: its
/// `SO_DOMAIN`, `SO_TYPE` and `SO_PROTOCOL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socket {
    /// `AF_INET` or `AF_INET6` (anything else names no peer libsock judges).
    pub domain: i32,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, ... (flags are ignored).
    pub ty: i32,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, ...
    pub protocol: i32,
}

/// The kinds of INET socket whose destinations libsock can place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// TCP and MPTCP: the peer is named by `connect` or `MSG_FASTOPEN`.
    Stream,
    /// UDP, UDP-Lite, ICMP echo ("ping") and raw sockets.
    Datagram,
    /// Anything else (SCTP, L2TP, DCCP, ...): peers libsock cannot place
    /// (SCTP names several, and through `setsockopt` too).
    Other,
}

impl Socket {
    fn v6(self) -> bool {
        self.domain == libc::AF_INET6
    }

    fn base_type(self) -> i32 {
        self.ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    }

    fn raw(self) -> bool {
        self.base_type() == libc::SOCK_RAW
    }

    fn kind(self) -> Kind {
        match (self.base_type(), self.protocol) {
            (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP | IPPROTO_MPTCP) => Kind::Stream,
            (
                libc::SOCK_DGRAM,
                0
                | libc::IPPROTO_UDP
                | libc::IPPROTO_UDPLITE
                | libc::IPPROTO_ICMP
                | libc::IPPROTO_ICMPV6,
            )
            | (libc::SOCK_RAW, _) => Kind::Datagram,
            _ => Kind::Other,
        }
    }

    /// Whether libsock can place the destinations of such a socket: the
    /// others are refused while rules are set.
    pub fn placeable(self) -> bool {
        self.kind() != Kind::Other
    }

    /// Whether no socket filter can hold such a socket at all, so the
    /// rules refuse it: a raw INET/INET6 socket (or the obsolete
    /// `SOCK_PACKET`), or any `AF_PACKET` one — they see traffic before
    /// any filter would.
    pub fn raw_or_packet(self) -> bool {
        /// `SOCK_PACKET` (linux/net.h).
        const SOCK_PACKET: i32 = 10;
        let base = self.ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        self.domain == libc::AF_PACKET
            || ((self.domain == libc::AF_INET || self.domain == libc::AF_INET6)
                && (base == libc::SOCK_RAW || base == SOCK_PACKET))
    }

    /// Whether the kernel takes a socket filter on such an INET/INET6
    /// socket: not on MPTCP's (`mptcp_setsockopt` answers
    /// `SO_ATTACH_FILTER` with EOPNOTSUPP), which the rules therefore
    /// refuse before one is created.
    pub fn filterable(self) -> bool {
        let inet = self.domain == libc::AF_INET || self.domain == libc::AF_INET6;
        !(inet && self.protocol == libc::IPPROTO_MPTCP)
    }
}

/// The call that names the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `connect(fd, addr, len)`.
    Connect,
    /// `sendto(fd, …, flags, addr, len)` with a non-NULL `addr`.
    SendTo {
        /// The call's flags (`MSG_FASTOPEN` matters).
        flags: i32,
    },
    /// `sendmsg`/`sendmmsg` with a non-NULL `msg_name`.
    SendMsg {
        /// The call's flags.
        flags: i32,
    },
}

/// What the kernel would take as the source of a datagram, for a
/// destination of `0.0.0.0` (asked only then).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// The socket's bound address (`getsockname`), if it has one.
    pub bound: Option<IpAddr>,
    /// The IPv4 source an `IP_PKTINFO` (or v4-mapped `IPV6_PKTINFO`)
    /// control message sets for this one send: it replaces the bound one,
    /// `0.0.0.0` included.
    pub pktinfo: Option<Ipv4Addr>,
}

/// The kernel's reading of a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// No new peer: the name is absent or ignored (a TCP send), or it
    /// disconnects (`connect` to `AF_UNSPEC`). The connected peer, if
    /// any, was judged when it was connected.
    NoPeer,
    /// The kernel fails the call on these bytes, sending nothing.
    Rejected,
    /// The peer the kernel reaches.
    Peer(IpAddr, u16),
    /// A socket whose peers libsock cannot place: refuse.
    Unplaceable,
}

/// Reads the destination `bytes` (the caller's name, copied: at most 128
/// bytes; `len` is the length the caller passed) as the kernel would for
/// `op` on `sock`. An unspecified address is rewritten in `bytes` to the
/// one the kernel reaches. `source` is asked only for an IPv4 `0.0.0.0`
/// or an IPv6 `::`.
pub fn destination(
    sock: Socket,
    op: Op,
    len: u32,
    bytes: &mut [u8],
    source: impl FnOnce() -> Source,
) -> Dest {
    // move_addr_to_kernel: connect and sendto refuse more than a
    // sockaddr_storage; __copy_msghdr truncates a sendmsg name to it, and
    // a name of length 0 is no name. Lengths past INT_MAX are negative to
    // the kernel: EINVAL.
    let len = match op {
        _ if len > i32::MAX as u32 => return Dest::Rejected,
        Op::SendMsg { .. } if len == 0 => return Dest::NoPeer,
        Op::SendMsg { .. } => (len as usize).min(128),
        _ if len > 128 => return Dest::Rejected,
        _ => len as usize,
    };
    let have = bytes.len();
    let bytes = &mut bytes[..len.min(have)];
    let kind = sock.kind();
    let fastopen = match op {
        Op::Connect => false,
        Op::SendTo { flags } | Op::SendMsg { flags } => flags & MSG_FASTOPEN != 0,
    };
    match kind {
        Kind::Other => return Dest::Unplaceable,
        // tcp_sendmsg_locked: without MSG_FASTOPEN the name is ignored.
        Kind::Stream if op != Op::Connect && !fastopen => return Dest::NoPeer,
        _ => {}
    }
    // inet_dgram_connect, __inet_stream_connect, udpv6_sendmsg: fewer
    // bytes than a family: EINVAL.
    let Some(family) = bytes
        .get(..2)
        .map(|b| i32::from(u16::from_ne_bytes([b[0], b[1]])))
    else {
        return Dest::Rejected;
    };
    let family = match (family, op, kind) {
        // inet_dgram_connect, __inet_stream_connect: a disconnect.
        (libc::AF_UNSPEC, Op::Connect, _) => return Dest::NoPeer,
        // tcp_sendmsg_fastopen: EOPNOTSUPP.
        (libc::AF_UNSPEC, _, Kind::Stream) => return Dest::Rejected,
        // udp_sendmsg, raw_sendmsg: AF_UNSPEC is AF_INET on IPv4.
        (libc::AF_UNSPEC, _, _) if !sock.v6() => libc::AF_INET,
        // rawv6_sendmsg reads an AF_UNSPEC name as AF_INET6;
        // udpv6_sendmsg drops it (the connected peer); ping sockets
        // refuse it. Judging it as IPv6 covers all three.
        (libc::AF_UNSPEC, _, _) if sock.raw() => libc::AF_INET6,
        (libc::AF_UNSPEC, _, _) => return Dest::NoPeer,
        (f, _, _) => f,
    };
    match family {
        // Every IPv4 reading needs a whole sockaddr_in (EINVAL).
        libc::AF_INET if bytes.len() >= 16 => {
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let ip = v4(bytes, 4, source);
            Dest::Peer(IpAddr::V4(ip), port)
        }
        // Every IPv6 reading needs SIN6_LEN_RFC2133 (24) bytes (EINVAL).
        libc::AF_INET6 if bytes.len() >= 24 => {
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&bytes[8..24]);
            let ip = Ipv6Addr::from(a);
            if ip.to_ipv4_mapped().is_some() {
                return Dest::Peer(IpAddr::V4(v4(bytes, 20, source)), port);
            }
            if ip.is_unspecified() {
                // `::` is loopback; on a socket bound to a v4-mapped
                // address, IPv4 loopback.
                let mapped =
                    matches!(source().bound, Some(IpAddr::V6(b)) if b.to_ipv4_mapped().is_some());
                let (reached, peer) = if mapped {
                    (
                        Ipv4Addr::LOCALHOST.to_ipv6_mapped(),
                        IpAddr::V4(Ipv4Addr::LOCALHOST),
                    )
                } else {
                    (Ipv6Addr::LOCALHOST, IpAddr::V6(Ipv6Addr::LOCALHOST))
                };
                bytes[8..24].copy_from_slice(&reached.octets());
                return Dest::Peer(peer, port);
            }
            Dest::Peer(IpAddr::V6(ip), port)
        }
        // Too short for its family, or a family no INET socket takes
        // (EAFNOSUPPORT, EINVAL).
        _ => Dest::Rejected,
    }
}

/// The IPv4 address at `bytes[at..at + 4]`, `0.0.0.0` replaced (there, in
/// `bytes`) by the address the kernel's routing picks for it: the source
/// (IP_PKTINFO's for this send, else the bound one), or 127.0.0.1.
fn v4(bytes: &mut [u8], at: usize, source: impl FnOnce() -> Source) -> Ipv4Addr {
    let ip = Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
    if !ip.is_unspecified() {
        return ip;
    }
    let s = source();
    let bound = match s.bound {
        Some(IpAddr::V4(b)) => b,
        Some(IpAddr::V6(b)) => b.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
        None => Ipv4Addr::UNSPECIFIED,
    };
    // inet_bind: a socket bound to a multicast or broadcast address has no
    // source address of its own (inet_saddr 0), whatever getsockname says.
    let bound = if bound.is_multicast() || bound.is_broadcast() {
        Ipv4Addr::UNSPECIFIED
    } else {
        bound
    };
    let src = s.pktinfo.unwrap_or(bound);
    let reached = if src.is_unspecified() {
        Ipv4Addr::LOCALHOST
    } else {
        src
    };
    bytes[at..at + 4].copy_from_slice(&reached.octets());
    reached
}

/// What a `sendmsg` control buffer says about the destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// An IPv4 source route (`IP_RETOPTS` with LSRR/SSRR) or an IPv6
    /// routing header (`IPV6_RTHDR`, `IPV6_2292RTHDR`): the packet's first
    /// hop is not its destination.
    pub source_route: bool,
    /// The IPv4 source `IP_PKTINFO` sets (on an IPv6 socket, a v4-mapped
    /// `IPV6_PKTINFO` too: `ip_cmsg_send` with `allow_ipv6`).
    pub pktinfo: Option<Ipv4Addr>,
}

/// Walks the control messages in `buf` as the kernel's `for_each_cmsghdr`
/// does (a malformed header ends the walk: the kernel fails the call).
pub fn scan_control(buf: &[u8], v6_socket: bool) -> Control {
    const HDR: usize = 16; // struct cmsghdr: size_t len; int level, type
    let mut out = Control::default();
    let mut at = 0usize;
    while let Some(h) = buf.get(at..at + HDR) {
        let len = u64::from_ne_bytes(h[..8].try_into().unwrap_or([0; 8]));
        let level = i32::from_ne_bytes(h[8..12].try_into().unwrap_or([0; 4]));
        let ty = i32::from_ne_bytes(h[12..16].try_into().unwrap_or([0; 4]));
        // CMSG_OK: at least a header, and inside the buffer.
        if len < HDR as u64 || len > (buf.len() - at) as u64 {
            break;
        }
        let data = &buf[at + HDR..at + len as usize];
        match (level, ty) {
            (libc::IPPROTO_IP, IP_RETOPTS) => out.source_route |= ip_options_route(data),
            (libc::IPPROTO_IPV6, IPV6_RTHDR | IPV6_2292RTHDR) => out.source_route = true,
            // CMSG_LEN(sizeof(struct in_pktinfo)): ifindex, spec_dst, addr.
            (libc::IPPROTO_IP, IP_PKTINFO) if data.len() == 12 => {
                out.pktinfo = Some(Ipv4Addr::new(data[4], data[5], data[6], data[7]));
            }
            (libc::IPPROTO_IPV6, IPV6_PKTINFO) if v6_socket && data.len() >= 20 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&data[..16]);
                if let Some(v4) = Ipv6Addr::from(a).to_ipv4_mapped() {
                    out.pktinfo = Some(v4);
                }
            }
            _ => {}
        }
        // CMSG_NXTHDR: the next header at the aligned end of this one.
        at += (len as usize).div_ceil(8) * 8;
    }
    out
}

/// Whether an IPv4 options block routes the packet (LSRR or SSRR), walked
/// as `ip_options_compile` does: END stops, NOP is one byte, anything else
/// a type and a length.
fn ip_options_route(opts: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&t) = opts.get(i) {
        match t {
            0 => return false,
            1 => i += 1,
            IPOPT_LSRR | IPOPT_SSRR => return true,
            _ => match opts.get(i + 1) {
                Some(&l) if l >= 2 => i += usize::from(l),
                _ => return false,
            },
        }
    }
    false
}

/// Whether `setsockopt(level, name, value)` gives the socket a source
/// route: `IP_OPTIONS` with LSRR/SSRR, or an IPv6 routing header (alone,
/// or among `IPV6_2292PKTOPTIONS`' control messages). While
/// rules are set libsock refuses it (EPERM): every later send would go to
/// a first hop no rule judged.
pub fn routes(level: i32, name: i32, value: &[u8]) -> bool {
    match (level, name) {
        (libc::IPPROTO_IP, IP_OPTIONS) => ip_options_route(value),
        (libc::IPPROTO_IPV6, IPV6_RTHDR | IPV6_2292RTHDR) => !value.is_empty(),
        // Sticky options given as a control buffer (RFC 2292).
        (libc::IPPROTO_IPV6, IPV6_2292PKTOPTIONS) => scan_control(value, true).source_route,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP4: Socket = Socket {
        domain: libc::AF_INET,
        ty: libc::SOCK_STREAM,
        protocol: 0,
    };
    const UDP4: Socket = Socket {
        domain: libc::AF_INET,
        ty: libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
        protocol: libc::IPPROTO_UDP,
    };
    const TCP6: Socket = Socket {
        domain: libc::AF_INET6,
        ty: libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
        protocol: libc::IPPROTO_TCP,
    };
    const UDP6: Socket = Socket {
        domain: libc::AF_INET6,
        ty: libc::SOCK_DGRAM,
        protocol: 0,
    };
    const RAW6: Socket = Socket {
        domain: libc::AF_INET6,
        ty: libc::SOCK_RAW,
        protocol: libc::IPPROTO_UDP,
    };
    const SCTP4: Socket = Socket {
        domain: libc::AF_INET,
        ty: libc::SOCK_SEQPACKET,
        protocol: 132,
    };

    fn sin(family: i32, ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut b = vec![0u8; 16];
        b[..2].copy_from_slice(&(family as u16).to_ne_bytes());
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b[4..8].copy_from_slice(&ip);
        b
    }

    fn sin6(ip: &str, port: u16) -> Vec<u8> {
        let mut b = vec![0u8; 28];
        b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b[8..24].copy_from_slice(&ip.parse::<Ipv6Addr>().unwrap().octets());
        b
    }

    const SEND: Op = Op::SendTo { flags: 0 };
    const MSG: Op = Op::SendMsg { flags: 0 };
    const FASTOPEN: Op = Op::SendTo {
        flags: MSG_FASTOPEN,
    };

    fn peer(s: &str) -> Dest {
        let a: std::net::SocketAddr = s.parse().unwrap();
        Dest::Peer(a.ip(), a.port())
    }

    /// A kernel rule, the socket, the call, the bytes, the source, what it
    /// reaches and the bytes handed on (None: unchanged).
    type Row = (
        &'static str,
        Socket,
        Op,
        Vec<u8>,
        Source,
        Dest,
        Option<Vec<u8>>,
    );

    /// The table: each row a kernel rule, the socket, the call, the bytes,
    /// the source the kernel would use, what it reaches, and the bytes
    /// libsock hands the kernel afterwards (None: unchanged).
    #[test]
    fn each_kernel_rule() {
        let unbound = Source::default();
        let bound5 = Source {
            bound: Some("127.0.0.5".parse().unwrap()),
            pktinfo: None,
        };
        let mapped_bound = Source {
            bound: Some("::ffff:127.0.0.6".parse().unwrap()),
            pktinfo: None,
        };
        let v6_bound = Source {
            bound: Some("::".parse().unwrap()),
            pktinfo: None,
        };
        let pktinfo = Source {
            bound: Some("127.0.0.5".parse().unwrap()),
            pktinfo: Some("127.0.0.9".parse().unwrap()),
        };
        let pktinfo_zero = Source {
            bound: Some("127.0.0.5".parse().unwrap()),
            pktinfo: Some(Ipv4Addr::UNSPECIFIED),
        };
        let lo = [127, 0, 0, 1];
        let any = [0, 0, 0, 0];
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            ("plain AF_INET", UDP4, SEND, sin(libc::AF_INET, lo, 9), unbound, peer("127.0.0.1:9"), None),
            ("udp_sendmsg: AF_UNSPEC is AF_INET", UDP4, SEND, sin(libc::AF_UNSPEC, [127, 0, 0, 2], 9), unbound, peer("127.0.0.2:9"), None),
            ("udp_sendmsg via sendmsg: AF_UNSPEC is AF_INET", UDP4, MSG, sin(libc::AF_UNSPEC, [127, 0, 0, 2], 9), unbound, peer("127.0.0.2:9"), None),
            ("udp_sendmsg: AF_UNSPEC shorter than sockaddr_in: EINVAL", UDP4, SEND, sin(libc::AF_UNSPEC, lo, 9)[..8].to_vec(), unbound, Dest::Rejected, None),
            ("ip_route_output_key_hash_rcu: 0.0.0.0 unbound is 127.0.0.1", UDP4, SEND, sin(libc::AF_INET, any, 9), unbound, peer("127.0.0.1:9"), Some(sin(libc::AF_INET, lo, 9))),
            ("ip_route_output_key_hash_rcu: 0.0.0.0 is the bound source", UDP4, SEND, sin(libc::AF_INET, any, 9), bound5, peer("127.0.0.5:9"), Some(sin(libc::AF_INET, [127, 0, 0, 5], 9))),
            ("inet_bind: bound to a multicast group, no source: 127.0.0.1", UDP4, SEND, sin(libc::AF_INET, any, 9), Source { bound: Some("239.1.2.3".parse().unwrap()), pktinfo: None }, peer("127.0.0.1:9"), Some(sin(libc::AF_INET, lo, 9))),
            ("ip_cmsg_send: IP_PKTINFO's source replaces the bound one", UDP4, MSG, sin(libc::AF_INET, any, 9), pktinfo, peer("127.0.0.9:9"), Some(sin(libc::AF_INET, [127, 0, 0, 9], 9))),
            ("ip_cmsg_send: IP_PKTINFO's 0.0.0.0 too", UDP4, MSG, sin(libc::AF_INET, any, 9), pktinfo_zero, peer("127.0.0.1:9"), Some(sin(libc::AF_INET, lo, 9))),
            ("AF_UNSPEC 0.0.0.0: both rules", UDP4, SEND, sin(libc::AF_UNSPEC, any, 9), unbound, peer("127.0.0.1:9"), Some(sin(libc::AF_UNSPEC, lo, 9))),
            ("tcp_v4_connect routes 0.0.0.0 the same way", TCP4, Op::Connect, sin(libc::AF_INET, any, 80), unbound, peer("127.0.0.1:80"), Some(sin(libc::AF_INET, lo, 80))),
            ("__inet_stream_connect: AF_UNSPEC disconnects", TCP4, Op::Connect, sin(libc::AF_UNSPEC, lo, 80), unbound, Dest::NoPeer, None),
            ("inet_dgram_connect: AF_UNSPEC disconnects", UDP4, Op::Connect, sin(libc::AF_UNSPEC, lo, 80), unbound, Dest::NoPeer, None),
            ("inet_dgram_connect: less than a family: EINVAL", UDP4, Op::Connect, vec![2], unbound, Dest::Rejected, None),
            ("ip4_datagram_connect: short sockaddr_in: EINVAL", UDP4, Op::Connect, sin(libc::AF_INET, lo, 9)[..15].to_vec(), unbound, Dest::Rejected, None),
            ("tcp_sendmsg_locked: a name without MSG_FASTOPEN is ignored", TCP4, SEND, sin(libc::AF_INET, lo, 80), unbound, Dest::NoPeer, None),
            ("tcp_sendmsg_fastopen: the name is the peer", TCP4, FASTOPEN, sin(libc::AF_INET, any, 80), unbound, peer("127.0.0.1:80"), Some(sin(libc::AF_INET, lo, 80))),
            ("tcp_sendmsg_fastopen: AF_UNSPEC is EOPNOTSUPP", TCP4, FASTOPEN, sin(libc::AF_UNSPEC, lo, 80), unbound, Dest::Rejected, None),
            ("udp_sendmsg: other families: EAFNOSUPPORT", UDP4, SEND, sin(libc::AF_UNIX, lo, 9), unbound, Dest::Rejected, None),
            ("udpv6_sendmsg: AF_INET is sent as IPv4", UDP6, SEND, sin(libc::AF_INET, [127, 0, 0, 2], 9), v6_bound, peer("127.0.0.2:9"), None),
            ("udpv6_sendmsg: AF_INET 0.0.0.0 routed as IPv4", UDP6, SEND, sin(libc::AF_INET, any, 9), v6_bound, peer("127.0.0.1:9"), Some(sin(libc::AF_INET, lo, 9))),
            ("udpv6_sendmsg: AF_UNSPEC is no name", UDP6, SEND, sin(libc::AF_UNSPEC, lo, 9), unbound, Dest::NoPeer, None),
            ("rawv6_sendmsg: AF_UNSPEC is read as AF_INET6", RAW6, SEND, { let mut b = sin6("::1", 9); b[..2].copy_from_slice(&0u16.to_ne_bytes()); b }, unbound, peer("[::1]:9"), None),
            ("udpv6_sendmsg: :: is ::1", UDP6, SEND, sin6("::", 9), v6_bound, peer("[::1]:9"), Some(sin6("::1", 9))),
            ("udpv6_sendmsg: :: on a v4-mapped socket is 127.0.0.1", UDP6, SEND, sin6("::", 9), mapped_bound, peer("127.0.0.1:9"), Some(sin6("::ffff:127.0.0.1", 9))),
            ("tcp_v6_connect: :: is ::1", TCP6, Op::Connect, sin6("::", 80), unbound, peer("[::1]:80"), Some(sin6("::1", 80))),
            ("v4-mapped is IPv4", UDP6, SEND, sin6("::ffff:127.0.0.2", 9), unbound, peer("127.0.0.2:9"), None),
            ("::ffff:0.0.0.0 is IPv4 0.0.0.0: the v4 source", UDP6, SEND, sin6("::ffff:0.0.0.0", 9), mapped_bound, peer("127.0.0.6:9"), Some(sin6("::ffff:127.0.0.6", 9))),
            ("::ffff:0.0.0.0 unbound: 127.0.0.1", TCP6, Op::Connect, sin6("::ffff:0.0.0.0", 9), unbound, peer("127.0.0.1:9"), Some(sin6("::ffff:127.0.0.1", 9))),
            ("SIN6_LEN_RFC2133: 23 bytes is EINVAL", UDP6, SEND, sin6("::1", 9)[..23].to_vec(), unbound, Dest::Rejected, None),
            ("24 bytes (no scope id) is enough", UDP6, SEND, sin6("::2", 9)[..24].to_vec(), unbound, peer("[::2]:9"), None),
            ("plain IPv6", TCP6, Op::Connect, sin6("2001:db8::1", 443), unbound, peer("[2001:db8::1]:443"), None),
            ("move_addr_to_kernel: connect over 128 bytes: EINVAL", UDP4, Op::Connect, sin(libc::AF_INET, lo, 9), unbound, Dest::Rejected, None),
            ("__copy_msghdr: a sendmsg name of length 0 is none", UDP4, MSG, vec![], unbound, Dest::NoPeer, None),
            ("SCTP and the like cannot be placed", SCTP4, Op::Connect, sin(libc::AF_INET, lo, 9), unbound, Dest::Unplaceable, None),
        ];
        for (rule, sock, op, bytes, source, want, rewritten) in table {
            let mut b = bytes.clone();
            let len = match rule {
                r if r.contains("over 128") => 129,
                _ => bytes.len() as u32,
            };
            let got = destination(sock, op, len, &mut b, || source);
            assert_eq!(got, want, "{rule}");
            assert_eq!(b, rewritten.unwrap_or(bytes), "{rule}: the bytes handed on");
        }
    }

    #[test]
    fn sendmsg_names_are_truncated_not_refused() {
        let mut b = sin(libc::AF_INET, [127, 0, 0, 2], 9);
        b.resize(128, 0);
        assert_eq!(
            destination(UDP4, MSG, 4000, &mut b, Source::default),
            peer("127.0.0.2:9")
        );
        assert_eq!(
            destination(UDP4, MSG, 1 << 31, &mut b, Source::default),
            Dest::Rejected
        );
    }

    #[test]
    fn only_mptcp_among_inet_sockets_takes_no_filter() {
        let sock = |domain, protocol| Socket {
            domain,
            ty: libc::SOCK_STREAM,
            protocol,
        };
        assert!(!sock(libc::AF_INET, libc::IPPROTO_MPTCP).filterable());
        assert!(!sock(libc::AF_INET6, libc::IPPROTO_MPTCP).filterable());
        assert!(sock(libc::AF_INET, libc::IPPROTO_TCP).filterable());
        assert!(sock(libc::AF_INET6, 0).filterable());
        assert!(sock(libc::AF_UNIX, libc::IPPROTO_MPTCP).filterable());
    }

    #[test]
    fn the_source_is_asked_only_for_an_unspecified_address() {
        let mut b = sin(libc::AF_INET, [127, 0, 0, 2], 9);
        let r = destination(UDP4, SEND, 16, &mut b, || panic!("asked"));
        assert_eq!(r, peer("127.0.0.2:9"));
    }

    fn cmsg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((16 + data.len()) as u64).to_ne_bytes());
        b.extend_from_slice(&level.to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(data);
        b.resize(b.len().div_ceil(8) * 8, 0);
        b
    }

    #[test]
    fn control_messages() {
        let mut pkt = vec![0u8; 12];
        pkt[4..8].copy_from_slice(&[127, 0, 0, 9]);
        let mut buf = cmsg(libc::IPPROTO_IP, libc::IP_TOS, &[0, 0, 0, 0]);
        buf.extend(cmsg(libc::IPPROTO_IP, IP_PKTINFO, &pkt));
        assert_eq!(
            scan_control(&buf, false),
            Control {
                source_route: false,
                pktinfo: Some(Ipv4Addr::new(127, 0, 0, 9))
            }
        );
        // A source route among NOPs; a timestamp option is not one.
        let lsrr = [1, 1, IPOPT_LSRR, 7, 4, 127, 0, 0, 2, 0];
        assert!(scan_control(&cmsg(libc::IPPROTO_IP, IP_RETOPTS, &lsrr), false).source_route);
        let ts = [0x44, 4, 5, 0];
        assert!(!scan_control(&cmsg(libc::IPPROTO_IP, IP_RETOPTS, &ts), false).source_route);
        assert!(scan_control(&cmsg(libc::IPPROTO_IPV6, IPV6_RTHDR, &[0; 8]), true).source_route);
        // A v4-mapped IPV6_PKTINFO on a dual-stack socket.
        let mut p6 = vec![0u8; 20];
        p6[..16].copy_from_slice(&"::ffff:127.0.0.7".parse::<Ipv6Addr>().unwrap().octets());
        let c = scan_control(&cmsg(libc::IPPROTO_IPV6, IPV6_PKTINFO, &p6), true);
        assert_eq!(c.pktinfo, Some(Ipv4Addr::new(127, 0, 0, 7)));
        // A header that runs past the buffer ends the walk.
        let mut bad = cmsg(libc::IPPROTO_IPV6, IPV6_RTHDR, &[0; 8]);
        bad[0] = 200;
        assert!(!scan_control(&bad, true).source_route);
        assert_eq!(scan_control(&[1, 2, 3], false), Control::default());
    }

    #[test]
    fn setsockopt_source_routes() {
        assert!(routes(
            libc::IPPROTO_IP,
            IP_OPTIONS,
            &[IPOPT_SSRR, 7, 4, 1, 2, 3, 4]
        ));
        assert!(!routes(libc::IPPROTO_IP, IP_OPTIONS, &[]));
        assert!(!routes(libc::IPPROTO_IP, IP_OPTIONS, &[0x44, 4, 5, 0]));
        assert!(routes(libc::IPPROTO_IPV6, IPV6_RTHDR, &[0; 8]));
        assert!(!routes(libc::IPPROTO_IPV6, IPV6_RTHDR, &[]));
        assert!(!routes(libc::SOL_SOCKET, IP_OPTIONS, &[IPOPT_LSRR]));
        let rthdr = cmsg(libc::IPPROTO_IPV6, IPV6_RTHDR, &[0; 8]);
        assert!(routes(libc::IPPROTO_IPV6, IPV6_2292PKTOPTIONS, &rthdr));
        let tclass = cmsg(libc::IPPROTO_IPV6, libc::IPV6_TCLASS, &[0; 4]);
        assert!(!routes(libc::IPPROTO_IPV6, IPV6_2292PKTOPTIONS, &tclass));
    }

    /// Whatever the bytes, the reading never panics, and a rewrite only
    /// ever writes a loopback or source address where an unspecified one
    /// was (the fuzz target's property, on a few edges).
    #[test]
    fn arbitrary_bytes() {
        for sock in [TCP4, UDP4, TCP6, UDP6, RAW6, SCTP4] {
            for op in [Op::Connect, SEND, MSG, FASTOPEN] {
                for len in [0u32, 1, 2, 15, 16, 23, 24, 28, 128, 129, u32::MAX] {
                    let mut b = vec![0u8; 128];
                    let _ = destination(sock, op, len, &mut b, Source::default);
                }
            }
        }
    }
}
