//! The classic BPF socket filter compiled from a [`Policy`]: attached with
//! `SO_ATTACH_FILTER` and locked with `SO_LOCK_FILTER`, it makes the kernel
//! drop every packet from a refused peer before any receive call (or, on a
//! listener, `accept`: the SYN is dropped) can see it.
//!
//! What the filter sees (found with real sockets, see
//! `c-tests/access/offsets.c`): for TCP (listening or connected) and UDP
//! sockets, offset 0 is the transport header, so the source port is the
//! 16-bit word at 0; the IP header is reached with loads relative to
//! `SKF_NET_OFF`. The program reads the IP version first — an INET6 socket
//! that is not IPv6-only receives IPv4 packets too — then the source
//! address (IPv4 at net+12; IPv6 at net+8..24, an IPv4-mapped source
//! treated as IPv4), then, for rules with ports on a TCP or UDP socket, the
//! source port.
//!
//! Shape: a header dispatching on the version, then per family the deny
//! rules (`ret 0` on a match), the allow rules (accept on a match), and the
//! verdict for no match. Each rule is a short straight block whose jumps
//! stay inside it, so no conditional jump ever needs more than 8 bits.
//! Costs (pinned by the unit test `what_a_rule_costs`): 19 fixed
//! instructions; per network of a rule, IPv4 a single address 2, a network
//! up to 3; IPv6 2 per whole 32-bit word of the prefix, up to 3 for a
//! partial word, plus the return (/128: 9, /97-/127: up to 10); ports add
//! 3 (IPv4, single port) or 4 (range), 2 or 3 for IPv6. The kernel's limit
//! is [`BPF_MAXINSNS`] = 4096 instructions, so 1,359 IPv4 networks (or
//! 2,038 single IPv4 addresses) fit.
//! A list that does not fit is an error: the caller fails closed.

use std::fmt;

use super::{Net, Policy, Rule, mask32, mask128};

/// The kernel's limit on a classic BPF program (`BPF_MAXINSNS`).
pub const BPF_MAXINSNS: usize = 4096;

/// One instruction: `struct sock_filter`, laid out as the kernel reads it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

// Opcode parts (linux/bpf_common.h, linux/filter.h).
/// Load into A.
pub const BPF_LD: u16 = 0x00;
/// Load into X.
pub const BPF_LDX: u16 = 0x01;
/// Store A to scratch.
pub const BPF_ST: u16 = 0x02;
/// Store X to scratch.
pub const BPF_STX: u16 = 0x03;
/// Arithmetic on A.
pub const BPF_ALU: u16 = 0x04;
/// Jumps.
pub const BPF_JMP: u16 = 0x05;
/// Return.
pub const BPF_RET: u16 = 0x06;
/// TAX/TXA.
pub const BPF_MISC: u16 = 0x07;
/// 32-bit word.
pub const BPF_W: u16 = 0x00;
/// 16-bit half word.
pub const BPF_H: u16 = 0x08;
/// Byte.
pub const BPF_B: u16 = 0x10;
/// Immediate.
pub const BPF_IMM: u16 = 0x00;
/// Packet offset k.
pub const BPF_ABS: u16 = 0x20;
/// Packet offset X+k.
pub const BPF_IND: u16 = 0x40;
/// Scratch memory.
pub const BPF_MEM: u16 = 0x60;
/// Packet length.
pub const BPF_LEN: u16 = 0x80;
/// IP header length (ldx 4*([k]&0xf)).
pub const BPF_MSH: u16 = 0xa0;
/// Shift right.
pub const BPF_RSH: u16 = 0x70;
/// Bitwise and.
pub const BPF_AND: u16 = 0x50;
/// Unconditional jump.
pub const BPF_JA: u16 = 0x00;
/// Jump if A == operand.
pub const BPF_JEQ: u16 = 0x10;
/// Jump if A > operand.
pub const BPF_JGT: u16 = 0x20;
/// Jump if A >= operand.
pub const BPF_JGE: u16 = 0x30;
/// Jump if A & operand.
pub const BPF_JSET: u16 = 0x40;
/// Operand is k.
pub const BPF_K: u16 = 0x00;
/// Operand is X.
pub const BPF_X: u16 = 0x08;
/// Return A.
pub const BPF_A: u16 = 0x10;
/// Loads relative to the network header.
pub const SKF_NET_OFF: i32 = -0x100000;
/// Return value that keeps the whole packet.
pub const ACCEPT: u32 = 0xffff_ffff;
/// Return value that drops the packet.
pub const DROP: u32 = 0;

/// The program does not fit the kernel's limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    /// Instructions the rules need.
    pub needed: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected rules that fit the kernel's socket filter: these need {} BPF \
             instructions, over its limit of {BPF_MAXINSNS} (1,359 IPv4 networks or 2,038 single \
             IPv4 addresses, fewer with ports or IPv6)",
            self.needed
        )
    }
}

fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

fn net_word(offset: i32) -> SockFilter {
    stmt(BPF_LD | BPF_W | BPF_ABS, (SKF_NET_OFF + offset) as u32)
}

/// The filter that drops everything (fail closed).
pub fn drop_all() -> Vec<SockFilter> {
    vec![stmt(BPF_RET | BPF_K, DROP)]
}

/// A block of instructions whose conditional jumps name targets inside the
/// block, or its end.
struct Block {
    insns: Vec<SockFilter>,
    /// (index of a conditional jump, true target, false target), targets as
    /// indices into the block (`insns.len()` is its end).
    fix: Vec<(usize, usize, usize)>,
}

const END: usize = usize::MAX;

impl Block {
    fn new() -> Block {
        Block {
            insns: Vec::new(),
            fix: Vec::new(),
        }
    }

    fn push(&mut self, insn: SockFilter) {
        self.insns.push(insn);
    }

    /// A conditional jump; `None` falls through to the next instruction.
    fn cond(&mut self, op: u16, k: u32, on_true: Option<usize>, on_false: Option<usize>) {
        let here = self.insns.len();
        self.insns.push(jump(BPF_JMP | op | BPF_K, k, 0, 0));
        self.fix.push((
            here,
            on_true.unwrap_or(here + 1),
            on_false.unwrap_or(here + 1),
        ));
    }

    fn finish(mut self) -> Vec<SockFilter> {
        let n = self.insns.len();
        for (at, t, f) in self.fix {
            let off = |target: usize| {
                let target = if target == END { n } else { target };
                u8::try_from(target - at - 1).expect("jumps stay inside a rule's block")
            };
            self.insns[at].jt = off(t);
            self.insns[at].jf = off(f);
        }
        self.insns
    }
}

/// Checks that the 32-bit word in A is inside `lo..=hi`; mismatches go to
/// `miss`.
fn range32(b: &mut Block, lo: u32, hi: u32, miss: usize) {
    if lo == hi {
        b.cond(BPF_JEQ, lo, None, Some(miss));
        return;
    }
    if lo > 0 {
        b.cond(BPF_JGE, lo, None, Some(miss));
    }
    if hi < u32::MAX {
        b.cond(BPF_JGT, hi, Some(miss), None);
    }
}

/// Where the IPv4 source address is kept while rules run.
const M_ADDR: u32 = 0;

/// One rule's block for one network: if the packet's source is in `net`
/// (and on the rule's ports, when `ports` says they are known), return
/// `verdict`. IPv4 blocks expect the address in A and leave it there.
fn rule_block(net: Net, rule: &Rule, ports: bool, verdict: u32) -> Vec<SockFilter> {
    let mut b = Block::new();
    let check_ports = ports && rule.has_ports();
    match net {
        Net::V4 { net, len } => {
            if len > 0 {
                range32(&mut b, net, net | !mask32(len), END);
            }
            if check_ports {
                // Port mismatch: reload the address and go on.
                let reload_at = usize::MAX - 1;
                b.push(stmt(BPF_LD | BPF_H | BPF_ABS, 0));
                range32(&mut b, rule.ports.0.into(), rule.ports.1.into(), reload_at);
                b.push(stmt(BPF_RET | BPF_K, verdict));
                let reload = b.insns.len();
                b.push(stmt(BPF_LD | BPF_MEM, M_ADDR));
                for f in &mut b.fix {
                    for t in [&mut f.1, &mut f.2] {
                        if *t == reload_at {
                            *t = reload;
                        }
                    }
                }
            } else {
                b.push(stmt(BPF_RET | BPF_K, verdict));
            }
        }
        Net::V6 { net, len } => {
            let masked = net & mask128(len);
            for word in 0..4u8 {
                let bits = len.saturating_sub(word * 32).min(32);
                if bits == 0 {
                    break;
                }
                let w = (masked >> (96 - 32 * u32::from(word))) as u32;
                b.push(net_word(8 + 4 * i32::from(word)));
                range32(&mut b, w, w | !mask32(bits), END);
            }
            if check_ports {
                b.push(stmt(BPF_LD | BPF_H | BPF_ABS, 0));
                range32(&mut b, rule.ports.0.into(), rule.ports.1.into(), END);
            }
            b.push(stmt(BPF_RET | BPF_K, verdict));
        }
    }
    b.finish()
}

/// The rules of one family, in filter order: deny rules, then allow rules,
/// then the verdict when nothing matched.
fn family(policy: &Policy, v6: bool, ports: bool) -> Vec<SockFilter> {
    let mut out = Vec::new();
    let lists: [(&[Rule], u32); 2] = [
        (policy.deny_rules(), DROP),
        (policy.allow_rules().unwrap_or(&[]), ACCEPT),
    ];
    for (rules, verdict) in lists {
        let mut seen = std::collections::HashSet::new();
        for r in rules {
            // On a socket without ports (not TCP/UDP) a deny rule with ports
            // matches any port, an allow rule with ports none: fail closed.
            if !ports && r.has_ports() && verdict == ACCEPT {
                continue;
            }
            for &net in &r.nets {
                if matches!(net, Net::V6 { .. }) != v6 {
                    continue;
                }
                let key = (net, if ports { r.ports } else { (0, u16::MAX) });
                if seen.insert(key) {
                    out.extend(rule_block(net, r, ports, verdict));
                }
            }
        }
    }
    let otherwise = if policy.allow_rules().is_some() {
        DROP
    } else {
        ACCEPT
    };
    out.push(stmt(BPF_RET | BPF_K, otherwise));
    out
}

/// Compiles `policy` into a socket filter. `ports`: the socket is TCP or
/// UDP (the source port is at offset 0); otherwise rules with ports are
/// judged without them, failing closed. Err if it exceeds [`BPF_MAXINSNS`].
pub fn compile(policy: &Policy, ports: bool) -> Result<Vec<SockFilter>, TooLarge> {
    if policy.is_fail_closed() {
        return Ok(drop_all());
    }
    let v4 = family(policy, false, ports);
    let v6 = family(policy, true, ports);
    // Jumps go forward only, so IPv6 comes first: its IPv4-mapped sources
    // jump ahead into the IPv4 rules.
    //  0  ldb [net+0]; rsh #4          the IP version
    //  2  jeq #6 -> 4; ja V4
    //  4  ld [net+8..20]: ::ffff:0:0/96 ? ld [net+20]; st M[0]; ja BODY4
    // 13  BODY6 (ends in ret)
    // V4: jeq #4 else ret 0; ld [net+12]; st M[0]
    // BODY4 (ends in ret)
    let mut p = vec![
        stmt(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF as u32),
        stmt(BPF_ALU | BPF_RSH | BPF_K, 4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 6, 1, 0),
        stmt(BPF_JMP | BPF_JA, 0), // -> V4, patched below
        net_word(8),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7),
        net_word(12),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),
        net_word(16),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 0xffff, 0, 3),
        net_word(20),
        stmt(BPF_ST, M_ADDR),
        stmt(BPF_JMP | BPF_JA, 0), // -> BODY4, patched below
    ];
    debug_assert_eq!(p.len(), 13);
    p.extend(v6);
    let v4_at = p.len();
    p[3].k = (v4_at - 4) as u32;
    p.extend([
        jump(BPF_JMP | BPF_JEQ | BPF_K, 4, 1, 0),
        stmt(BPF_RET | BPF_K, DROP),
        net_word(12),
        stmt(BPF_ST, M_ADDR),
    ]);
    let body4 = p.len();
    p[12].k = (body4 - 13) as u32;
    p.extend(v4);
    if p.len() > BPF_MAXINSNS {
        return Err(TooLarge { needed: p.len() });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instructions `deny` adds to the filter for TCP/UDP sockets.
    fn cost(deny: &str) -> usize {
        let with = |d: Option<&str>| compile(&Policy::new(None, d).unwrap(), true).unwrap().len();
        with(Some(deny)) - with(None)
    }

    /// The numbers the module comment, TooLarge's message and the README
    /// state, from the compiler itself.
    #[test]
    fn what_a_rule_costs() {
        // Fixed: the header (13), the IPv4 entry (4), each family's verdict.
        assert_eq!(
            compile(&Policy::new(None, None).unwrap(), true)
                .unwrap()
                .len(),
            19
        );
        // IPv4: a single address 2, a network 3 (2 when it starts at 0 or
        // ends at 255.255.255.255), 0.0.0.0/0 1 (the return).
        assert_eq!(cost("192.0.2.7"), 2);
        assert_eq!(cost("10.0.0.0/8"), 3);
        assert_eq!(cost("0.0.0.0/1"), 2);
        assert_eq!(cost("240.0.0.0/4"), 2);
        assert_eq!(cost("0.0.0.0/0"), 1);
        // Ports on IPv4: a single port +3, a range +4 (0-HIGH +3).
        assert_eq!(cost("192.0.2.7:80"), 5);
        assert_eq!(cost("10.0.0.0/8:80"), 6);
        assert_eq!(cost("10.0.0.0/8:80-90"), 7);
        assert_eq!(cost("10.0.0.0/8:0-90"), 6);
        // IPv6: 2 per whole 32-bit word of the prefix, up to 3 for a
        // partial one (2 when its range starts at 0 or ends at all ones),
        // then the return: /128 costs 9, /97-/127 up to 10, /64 5, /32 3,
        // fe80::/10 4, ::/0 1.
        assert_eq!(cost("2001:db8::1"), 9);
        assert_eq!(cost("2001:db8::1000:0/100"), 10);
        assert_eq!(cost("2001:db8::2/127"), 10);
        assert_eq!(cost("2001:db8::/127"), 9);
        assert_eq!(cost("2001:db8::/64"), 5);
        assert_eq!(cost("2001:db8::/32"), 3);
        assert_eq!(cost("fe80::/10"), 4);
        assert_eq!(cost("::/0"), 1);
        // Ports on IPv6: a single port +2, a range +3.
        assert_eq!(cost("[2001:db8::1]:80"), 11);
        assert_eq!(cost("[2001:db8::1]:80-90"), 12);
        assert_eq!(cost("[2001:db8::1000:0]/100:80-90"), 13);
        // So the limits: (4096 - 19) / 3 networks, / 2 single addresses.
        let fits = |n: usize, f: &dyn Fn(usize) -> String| {
            let list: Vec<String> = (0..n).map(f).collect();
            Policy::new(None, Some(&list.join(","))).is_ok()
        };
        let net = |i: usize| format!("10.{}.{}.0/24", i / 250, i % 250);
        let host = |i: usize| format!("10.0.{}.{}", i / 250, i % 250 + 1);
        assert!(fits(1359, &net) && !fits(1360, &net));
        assert!(fits(2038, &host) && !fits(2039, &host));
    }
}
