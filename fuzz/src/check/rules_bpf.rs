//! The socket filter compiled from access rules, run in sock-core's
//! classic BPF interpreter, against the matcher: the differential check.
//!
//! Input: `ALLOW\nDENY\0PACKETS`. ALLOW may be empty (unset). PACKETS:
//! records of 19 bytes: a kind byte (even: IPv4 from the first 4 address
//! bytes; odd: IPv6 from all 16, with kind & 2 making it IPv4-mapped),
//! 16 address bytes, a 2-byte port. What must hold: a policy that builds
//! compiles, with and without ports, to a program the kernel would take
//! (at most 4096 instructions, forward jumps inside it, ending in ret);
//! with ports, the filter keeps exactly the packets the matcher allows;
//! without ports, never one that the matcher refuses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sock_core::rules::Policy;
use sock_core::rules::bpf::{BPF_MAXINSNS, compile};
use sock_core::rules::interp::{Packet, run as interp, validate};

pub fn run(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let text = String::from_utf8_lossy(&data[..split]);
    let (allow, deny) = text.split_once('\n').unwrap_or(("", &text));
    let Ok(p) = Policy::new(Some(allow), Some(deny)) else {
        return;
    };
    let with = compile(&p, true).expect("Policy::new checked the size");
    let without = compile(&p, false).expect("Policy::new checked the size");
    // The programs Policy::new kept are these.
    assert!(p.filter(true) == &with[..] && p.filter(false) == &without[..]);
    for prog in [&with, &without] {
        assert!(prog.len() <= BPF_MAXINSNS);
        validate(prog).expect("a program the kernel takes");
    }
    let packets = data.get(split + 1..).unwrap_or(&[]);
    for rec in packets.chunks_exact(19).take(64) {
        let a: [u8; 16] = rec[1..17].try_into().unwrap();
        let port = u16::from_be_bytes([rec[17], rec[18]]);
        let ip = if rec[0] & 1 == 0 {
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        } else if rec[0] & 2 != 0 {
            IpAddr::V6(Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_ipv6_mapped())
        } else {
            IpAddr::V6(Ipv6Addr::from(a))
        };
        let packet = Packet::new(ip, port);
        let allowed = p.decide(ip, port).is_ok();
        let kept = interp(&with, &packet).unwrap() != 0;
        assert_eq!(kept, allowed, "{ip}:{port} allow={allow:?} deny={deny:?}");
        assert_eq!(allowed, p.decide_slowly(ip, port));
        let kept_without = interp(&without, &packet).unwrap() != 0;
        // Without ports a deny rule with ports holds on every port and an
        // allow rule with ports on none: what is kept is allowed.
        assert!(!kept_without || allowed, "{ip}:{port} kept without ports");
    }
}
