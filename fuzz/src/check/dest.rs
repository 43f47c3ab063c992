//! The peer the kernel reaches (`sock_core::rules::dest`).
//!
//! Input: a socket kind (1 byte), a call and flags (1 byte), the caller's
//! length (2 bytes), the socket's source (1 byte), then up to 128 bytes of
//! address and the rest as `sendmsg` control data. What must hold: the
//! reading never panics; only an unspecified address is rewritten, and only
//! its address bytes; the rewritten copy (what the kernel is handed) reads
//! as the same peer again; a peer is never unspecified and never a
//! v4-mapped IPv6 address (rules match IPv4 as IPv4); a whole `AF_INET`
//! address on a TCP connect or a UDP send always names a peer; the
//! control-data walk never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sock_core::rules::dest::{self, Dest, MSG_FASTOPEN, Op, Socket, Source};

const KINDS: [(i32, i32, i32); 8] = [
    (libc::AF_INET, libc::SOCK_STREAM, 0),
    (libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_UDP),
    (libc::AF_INET6, libc::SOCK_STREAM, libc::IPPROTO_TCP),
    (libc::AF_INET6, libc::SOCK_DGRAM, 0),
    (libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_UDP),
    (libc::AF_INET6, libc::SOCK_RAW, 0),
    (libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_ICMP),
    (libc::AF_INET, libc::SOCK_SEQPACKET, 132),
];

const SOURCES: [Option<&str>; 5] = [
    None,
    Some("127.0.0.5"),
    Some("::"),
    Some("::ffff:127.0.0.6"),
    Some("0.0.0.0"),
];

pub fn run(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let (domain, ty, protocol) = KINDS[usize::from(data[0]) % KINDS.len()];
    let sock = Socket {
        domain,
        ty,
        protocol,
    };
    let flags = if data[1] & 4 != 0 { MSG_FASTOPEN } else { 0 };
    let op = match data[1] % 3 {
        0 => Op::Connect,
        1 => Op::SendTo { flags },
        _ => Op::SendMsg { flags },
    };
    let len = match u16::from_le_bytes([data[2], data[3]]) {
        0xffff => u32::MAX,
        n => u32::from(n),
    };
    let bound = SOURCES[usize::from(data[4]) % SOURCES.len()].map(|s| s.parse::<IpAddr>().unwrap());
    let pktinfo = (data[4] & 0x80 != 0).then_some(Ipv4Addr::new(127, 0, 0, 9));
    let source = Source { bound, pktinfo };
    let rest = &data[5..];
    let (addr, control) = rest.split_at(rest.len().min(128));
    let mut bytes = addr.to_vec();
    let reading = dest::destination(sock, op, len, &mut bytes, || source);

    // Only an unspecified address is rewritten, and only its address bytes.
    let changed: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != addr[i]).collect();
    if !changed.is_empty() {
        let v4_any = changed.iter().all(|&i| (4..8).contains(&i)) && addr[4..8] == [0; 4];
        let v6_any = changed.iter().all(|&i| (8..24).contains(&i))
            && (addr[8..24] == [0; 16]
                || addr[8..20] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
                    && addr[20..24] == [0; 4]);
        assert!(v4_any || v6_any, "rewrote {changed:?} of {addr:?}");
        assert!(matches!(reading, Dest::Peer(..)));
    }
    // The copy handed to the kernel reads as the same peer.
    let mut again = bytes.clone();
    assert_eq!(
        dest::destination(sock, op, len, &mut again, || source),
        reading
    );
    assert_eq!(again, bytes, "a rewritten copy is stable");

    if let Dest::Peer(ip, port) = reading {
        assert_eq!(port, u16::from_be_bytes([bytes[2], bytes[3]]));
        assert!(!ip.is_unspecified(), "{ip} is not where a packet goes");
        if let IpAddr::V6(v6) = ip {
            assert!(v6.to_ipv4_mapped().is_none(), "{ip}: mapped left as IPv6");
            assert_ne!(v6, Ipv6Addr::UNSPECIFIED);
        }
    }
    // A whole AF_INET address, where the kernel takes one, names a peer.
    let family = bytes
        .get(..2)
        .map(|b| i32::from(u16::from_ne_bytes([b[0], b[1]])));
    let sends = matches!(op, Op::SendTo { .. } | Op::SendMsg { .. });
    let takes = match (ty, op) {
        (libc::SOCK_STREAM, Op::Connect) => true,
        (libc::SOCK_STREAM, _) => flags != 0,
        (libc::SOCK_DGRAM, _) => true,
        _ => false,
    };
    if family == Some(libc::AF_INET) && bytes.len() >= 16 && (16..=128).contains(&len) && takes {
        assert!(
            matches!(reading, Dest::Peer(IpAddr::V4(_), _)),
            "{reading:?} for a whole AF_INET {op:?}"
        );
    }
    if sends
        && ty == libc::SOCK_DGRAM
        && domain == libc::AF_INET
        && family == Some(libc::AF_UNSPEC)
        && bytes.len() >= 16
        && (16..=128).contains(&len)
    {
        assert!(
            matches!(reading, Dest::Peer(IpAddr::V4(_), _)),
            "AF_UNSPEC is AF_INET to udp_sendmsg"
        );
    }
    let _ = dest::scan_control(control, domain == libc::AF_INET6);
}
