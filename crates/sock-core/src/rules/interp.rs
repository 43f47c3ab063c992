//! A classic BPF interpreter for socket filters, with the kernel's view of
//! a packet on a TCP or UDP socket: loads at offset `k >= 0` read the
//! transport header onwards, loads at `SKF_NET_OFF + k` read the IP header
//! onwards, and a load outside the packet ends the program with 0 (drop),
//! as the kernel does. Used to check the compiler against the matcher.
//!
//! The machine is the same for every classic BPF program; what a load
//! reads is the [`Input`]'s: a [`Packet`] here, a `seccomp_data` record
//! for sockrun's seccomp program ([`SeccompData`]).

use std::net::IpAddr;

use super::bpf::*;

/// A received packet as a socket filter sees it.
#[derive(Clone, Debug)]
pub struct Packet {
    /// From the IP header on.
    pub net: Vec<u8>,
    /// From the transport header on.
    pub transport: Vec<u8>,
}

impl Packet {
    /// A minimal IPv4 or IPv6 packet from `src` (an IPv6 `src` makes an
    /// IPv6 packet, even an IPv4-mapped one) with source port `port`.
    pub fn new(src: IpAddr, port: u16) -> Packet {
        let net = match src {
            IpAddr::V4(a) => {
                let mut h = vec![0u8; 20];
                h[0] = 0x45;
                h[9] = 17;
                h[12..16].copy_from_slice(&a.octets());
                h[16..20].copy_from_slice(&[127, 0, 0, 1]);
                h
            }
            IpAddr::V6(a) => {
                let mut h = vec![0u8; 40];
                h[0] = 0x60;
                h[6] = 17;
                h[8..24].copy_from_slice(&a.octets());
                h[39] = 1;
                h
            }
        };
        let mut transport = vec![0u8; 8];
        transport[..2].copy_from_slice(&port.to_be_bytes());
        transport[2..4].copy_from_slice(&9u16.to_be_bytes());
        Packet { net, transport }
    }
}

/// Why a program is not one the kernel would accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Empty or over [`BPF_MAXINSNS`].
    Length(usize),
    /// A jump leaves the program.
    Jump(usize),
    /// An opcode this interpreter (and the socket filter) does not know.
    Opcode(usize),
    /// The last instruction is not a return.
    NoReturn,
    /// A scratch slot out of 0..16.
    Scratch(usize),
}

/// Checks what the kernel's `bpf_check_classic` checks that matters here.
pub fn validate(prog: &[SockFilter]) -> Result<(), Invalid> {
    if prog.is_empty() || prog.len() > BPF_MAXINSNS {
        return Err(Invalid::Length(prog.len()));
    }
    for (pc, i) in prog.iter().enumerate() {
        let class = i.code & 0x07;
        if class == BPF_JMP {
            let left = prog.len() - pc - 1;
            let ok = if i.code & 0xf0 == BPF_JA {
                (i.k as usize) < left
            } else {
                (i.jt as usize) < left && (i.jf as usize) < left
            };
            if !ok {
                return Err(Invalid::Jump(pc));
            }
        }
        if (class == BPF_ST || class == BPF_STX || i.code == BPF_LD | BPF_MEM) && i.k >= 16 {
            return Err(Invalid::Scratch(pc));
        }
    }
    if prog[prog.len() - 1].code & 0x07 != BPF_RET {
        return Err(Invalid::NoReturn);
    }
    Ok(())
}

/// What a classic BPF program reads: its loads and its length.
pub trait Input {
    /// The value a load of `size` bytes (1, 2 or 4) at `k` reads, or None
    /// where the kernel would end the program.
    fn load(&self, k: i64, size: usize) -> Option<u32>;
    /// What `BPF_LEN` loads.
    fn bpf_len(&self) -> u32;
}

impl Input for Packet {
    fn load(&self, k: i64, size: usize) -> Option<u32> {
        load(self, k, size)
    }

    fn bpf_len(&self) -> u32 {
        self.transport.len() as u32
    }
}

/// A system call as a seccomp filter sees it: `struct seccomp_data`
/// (linux/seccomp.h), read in native byte order, 32-bit loads only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompData {
    /// The system call's number.
    pub nr: i32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// Where it was made.
    pub instruction_pointer: u64,
    /// Its six arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The record's 64 bytes, as the kernel lays them out.
    pub fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b
    }
}

impl Input for SeccompData {
    /// seccomp's checker allows only aligned 32-bit loads inside the
    /// record (`seccomp_check_filter`); anything else is refused here.
    fn load(&self, k: i64, size: usize) -> Option<u32> {
        let k = usize::try_from(k).ok()?;
        if size != 4 || k % 4 != 0 || k + 4 > 64 {
            return None;
        }
        let b = self.bytes();
        Some(u32::from_ne_bytes(b[k..k + 4].try_into().ok()?))
    }

    fn bpf_len(&self) -> u32 {
        64
    }
}

/// The bytes at `k` (`size` of them) in `p`, big-endian, or None outside.
fn load(p: &Packet, k: i64, size: usize) -> Option<u32> {
    let (bytes, off) = if k >= 0 {
        (&p.transport, k)
    } else if k >= i64::from(SKF_NET_OFF) && k < i64::from(SKF_NET_OFF) + 0x100000 {
        (&p.net, k - i64::from(SKF_NET_OFF))
    } else {
        return None;
    };
    let off = usize::try_from(off).ok()?;
    let slice = bytes.get(off..off.checked_add(size)?)?;
    Some(slice.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)))
}

/// Runs `prog` (validated) over `p`: the value it returns (0 drops).
pub fn run<I: Input + ?Sized>(prog: &[SockFilter], p: &I) -> Result<u32, Invalid> {
    validate(prog)?;
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let len = p.bpf_len();
    loop {
        let i = prog[pc];
        pc += 1;
        let size = match i.code & 0x18 {
            BPF_W => 4,
            BPF_H => 2,
            _ => 1,
        };
        match i.code & 0x07 {
            BPF_LD => {
                a = match i.code & 0xe0 {
                    BPF_IMM => i.k,
                    BPF_ABS => match p.load(i64::from(i.k as i32), size) {
                        Some(v) => v,
                        None => return Ok(0),
                    },
                    BPF_IND => match p.load(i64::from(x) + i64::from(i.k as i32), size) {
                        Some(v) => v,
                        None => return Ok(0),
                    },
                    BPF_MEM => mem[i.k as usize],
                    BPF_LEN => len,
                    _ => return Err(Invalid::Opcode(pc - 1)),
                }
            }
            BPF_LDX => {
                x = match i.code & 0xe0 {
                    BPF_IMM => i.k,
                    BPF_MEM => mem[i.k as usize],
                    BPF_LEN => len,
                    BPF_MSH => match p.load(i64::from(i.k as i32), 1) {
                        Some(v) => 4 * (v & 0xf),
                        None => return Ok(0),
                    },
                    _ => return Err(Invalid::Opcode(pc - 1)),
                }
            }
            BPF_ST => mem[i.k as usize] = a,
            BPF_STX => mem[i.k as usize] = x,
            BPF_ALU => {
                let v = if i.code & BPF_X != 0 { x } else { i.k };
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(v),
                    0x10 => a.wrapping_sub(v),
                    0x20 => a.wrapping_mul(v),
                    0x30 if v == 0 => return Ok(0),
                    0x30 => a / v,
                    0x40 => a | v,
                    BPF_AND => a & v,
                    0x60 => a.checked_shl(v).unwrap_or(0),
                    BPF_RSH => a.checked_shr(v).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 if v == 0 => return Ok(0),
                    0x90 => a % v,
                    0xa0 => a ^ v,
                    _ => return Err(Invalid::Opcode(pc - 1)),
                }
            }
            BPF_JMP => {
                if i.code & 0xf0 == BPF_JA {
                    pc += i.k as usize;
                    continue;
                }
                let v = if i.code & BPF_X != 0 { x } else { i.k };
                let taken = match i.code & 0xf0 {
                    BPF_JEQ => a == v,
                    BPF_JGT => a > v,
                    BPF_JGE => a >= v,
                    BPF_JSET => a & v != 0,
                    _ => return Err(Invalid::Opcode(pc - 1)),
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            BPF_RET => {
                return Ok(if i.code & 0x18 == BPF_A { a } else { i.k });
            }
            _ => {
                if i.code & 0xf8 == 0x80 {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::matcher::tests::{Rng, random_peer, random_rule};
    use super::super::{Policy, parse};
    use super::*;
    use std::net::Ipv4Addr;

    fn verdict(prog: &[SockFilter], ip: &str, port: u16) -> bool {
        run(prog, &Packet::new(ip.parse().unwrap(), port)).unwrap() != 0
    }

    #[test]
    fn compiled_filter_decides_like_the_matcher() {
        let p = Policy::new(
            Some("localhost,[2001:db8::]/32:443,10.0.0.0/8:1000-2000"),
            Some("127.0.0.2,10.9.0.0/16,[2001:db8::1]"),
        )
        .unwrap();
        let prog = compile(&p, true).unwrap();
        assert!(verdict(&prog, "127.0.0.1", 5));
        assert!(!verdict(&prog, "127.0.0.2", 5));
        assert!(!verdict(&prog, "::ffff:127.0.0.2", 5));
        assert!(verdict(&prog, "::ffff:127.0.0.3", 5));
        assert!(verdict(&prog, "2001:db8::2", 443));
        assert!(!verdict(&prog, "2001:db8::2", 444));
        assert!(!verdict(&prog, "2001:db8::1", 443));
        assert!(verdict(&prog, "10.1.1.1", 1500));
        assert!(!verdict(&prog, "10.9.1.1", 1500));
        assert!(!verdict(&prog, "10.1.1.1", 999));
        assert!(!verdict(&prog, "192.0.2.1", 1500));
        // Not IPv4 or IPv6: dropped. Too short: dropped.
        let mut odd = Packet::new("127.0.0.1".parse().unwrap(), 1);
        odd.net[0] = 0x50;
        assert_eq!(run(&prog, &odd), Ok(0));
        odd.net.truncate(1);
        assert_eq!(run(&prog, &odd), Ok(0));
        assert_eq!(
            run(&drop_all(), &Packet::new("::1".parse().unwrap(), 1)),
            Ok(0)
        );
    }

    #[test]
    fn without_ports_deny_rules_with_ports_hold_and_allow_rules_with_ports_do_not() {
        let p = Policy::new(Some("127.0.0.1:80,127.0.0.3"), Some("127.0.0.3:22")).unwrap();
        let prog = compile(&p, false).unwrap();
        assert!(!verdict(&prog, "127.0.0.1", 80));
        assert!(!verdict(&prog, "127.0.0.3", 80));
        let p = Policy::new(None, Some("127.0.0.3:22")).unwrap();
        let prog = compile(&p, false).unwrap();
        assert!(verdict(&prog, "127.0.0.4", 22));
        assert!(!verdict(&prog, "127.0.0.3", 80));
    }

    /// The differential test: random rule lists, random packets (IPv4,
    /// IPv6, IPv4-mapped sources, random ports), filter against matcher.
    #[test]
    fn differential_random_packets() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for round in 0..300 {
            let n = 1 + rng.next() % 30;
            let deny: Vec<String> = (0..n).map(|_| random_rule(&mut rng)).collect();
            let allow = (round % 3 != 0).then(|| {
                (0..1 + rng.next() % 6)
                    .map(|_| random_rule(&mut rng))
                    .collect::<Vec<_>>()
                    .join(",")
            });
            let p = Policy::new(allow.as_deref(), Some(&deny.join(","))).unwrap();
            let prog = compile(&p, true).unwrap();
            for _ in 0..400 {
                let (ip, port) = random_peer(&mut rng);
                let got = run(&prog, &Packet::new(ip, port)).unwrap() != 0;
                assert_eq!(
                    got,
                    p.decide(ip, port).is_ok(),
                    "{ip}:{port} {allow:?} {deny:?}"
                );
                // The same peer as an IPv4 packet when it is IPv4-mapped.
                if let Some(v4) = match ip {
                    IpAddr::V6(a) => a.to_ipv4_mapped(),
                    IpAddr::V4(_) => None,
                } {
                    let got = run(&prog, &Packet::new(IpAddr::V4(v4), port)).unwrap() != 0;
                    assert_eq!(got, p.decide(ip, port).is_ok());
                }
            }
        }
    }

    #[test]
    fn a_thousand_networks_fit_and_the_limit_is_stated() {
        let rules: Vec<String> = (0..1000u32)
            .map(|i| format!("{}/24", Ipv4Addr::from(0x0a00_0000 | i << 8)))
            .collect();
        let p = Policy::new(None, Some(&rules.join(","))).unwrap();
        let prog = compile(&p, true).unwrap();
        assert!(prog.len() <= BPF_MAXINSNS, "{}", prog.len());
        assert!(!verdict(&prog, "10.0.7.1", 1) && verdict(&prog, "10.4.0.1", 1));
        // The README's figure: how many IPv4 networks fit.
        let fits = |n: u32| {
            let rules: Vec<String> = (0..n)
                .map(|i| format!("{}/24", Ipv4Addr::from(0x0a00_0000 | i << 8)))
                .collect();
            Policy::new(None, Some(&rules.join(","))).is_ok()
        };
        assert!(fits(1359) && !fits(1360));
        let singles = |n: u32| {
            let rules: Vec<String> = (0..n)
                .map(|i| Ipv4Addr::from(0x0a00_0000 | i).to_string())
                .collect();
            Policy::new(None, Some(&rules.join(","))).is_ok()
        };
        assert!(singles(2038) && !singles(2039));
        let e = Policy::new(
            None,
            Some(
                &(0..1400u32)
                    .map(|i| format!("{}", Ipv4Addr::from(i * 7 + 5)))
                    .map(|a| a + "/30")
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        )
        .unwrap_err();
        assert!(e.message.contains("4096"), "{e}");
        // Too many parse-able rules is an error, never a silent cut.
        assert!(parse(&rules.join(",")).is_ok());
    }
}
