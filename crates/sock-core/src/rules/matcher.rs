//! The per-call lookup: which rule of a list matches a peer and port.
//!
//! No linear scan of the rules: networks are grouped by prefix length, each
//! group a table sorted by network address, and each network carries its
//! ports as sorted, disjoint spans. A lookup masks the address once per
//! prefix length present (at most 33 for IPv4, 129 for IPv6; a list usually
//! has a handful), binary-searches that table, then the spans: O(L log n)
//! for L lengths and n rules. Longer prefixes are tried first, so the rule
//! reported is the most specific one that matches (for the trace).

use std::net::IpAddr;

use super::{Net, Rule, mask32, mask128};

/// A run of ports `lo..=hi` decided by rule `rule` (its index in the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    lo: u16,
    hi: u16,
    rule: u32,
}

/// All networks of one family with one prefix length.
#[derive(Debug, Default)]
struct Group {
    len: u8,
    /// Sorted by network; each with its port spans.
    nets: Vec<(u128, Vec<Span>)>,
}

/// The lookup table of one family.
#[derive(Debug, Default)]
struct Table {
    /// Longest prefix first.
    groups: Vec<Group>,
}

/// The lookup structure of one rule list.
#[derive(Debug, Default)]
pub struct Matcher {
    v4: Table,
    v6: Table,
}

impl Matcher {
    /// The matcher of `rules`.
    pub fn new(rules: &[Rule]) -> Matcher {
        // (family is v6, len, net) -> [(lo, hi, rule)]
        let mut entries: Vec<(bool, u8, u128, u16, u16, u32)> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for n in &r.nets {
                let (v6, len, net) = match *n {
                    Net::V4 { net, len } => (false, len, u128::from(net)),
                    Net::V6 { net, len } => (true, len, net),
                };
                entries.push((v6, len, net, r.ports.0, r.ports.1, i as u32));
            }
        }
        // Longest prefix first, then by network.
        entries.sort_by(|a, b| (a.0, b.1, a.2, a.5).cmp(&(b.0, a.1, b.2, b.5)));
        let mut m = Matcher::default();
        let mut i = 0;
        while i < entries.len() {
            let (v6, len, net, ..) = entries[i];
            let mut j = i;
            while j < entries.len() && (entries[j].0, entries[j].1, entries[j].2) == (v6, len, net)
            {
                j += 1;
            }
            let spans = spans(entries[i..j].iter().map(|e| (e.3, e.4, e.5)));
            let table = if v6 { &mut m.v6 } else { &mut m.v4 };
            if table.groups.last().is_none_or(|g| g.len != len) {
                table.groups.push(Group {
                    len,
                    nets: Vec::new(),
                });
            }
            let group = table.groups.last_mut().expect("just pushed");
            group.nets.push((net, spans));
            i = j;
        }
        m
    }

    /// The index of a rule matching `ip` (normalised: see
    /// [`super::normalize`]) on `port`, the most specific one.
    pub fn find(&self, ip: IpAddr, port: u16) -> Option<usize> {
        let (table, addr, v6) = match ip {
            IpAddr::V4(a) => (&self.v4, u128::from(u32::from(a)), false),
            IpAddr::V6(a) => (&self.v6, u128::from(a), true),
        };
        for g in &table.groups {
            let key = if v6 {
                addr & mask128(g.len)
            } else {
                u128::from(addr as u32 & mask32(g.len))
            };
            let Ok(k) = g.nets.binary_search_by(|(n, _)| n.cmp(&key)) else {
                continue;
            };
            let spans = &g.nets[k].1;
            let at = spans.partition_point(|s| s.lo <= port);
            if let Some(s) = at.checked_sub(1).map(|a| spans[a])
                && port <= s.hi
            {
                return Some(s.rule as usize);
            }
        }
        None
    }
}

/// Port ranges (possibly overlapping) into sorted disjoint spans, each
/// decided by the first rule (lowest index) covering it.
fn spans(ranges: impl Iterator<Item = (u16, u16, u32)>) -> Vec<Span> {
    let ranges: Vec<(u16, u16, u32)> = ranges.collect();
    let mut cuts: Vec<u32> = ranges
        .iter()
        .flat_map(|&(lo, hi, _)| [u32::from(lo), u32::from(hi) + 1])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<Span> = Vec::new();
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0], w[1] - 1);
        let rule = ranges
            .iter()
            .filter(|&&(a, b, _)| u32::from(a) <= lo && hi <= u32::from(b))
            .map(|r| r.2)
            .min();
        let Some(rule) = rule else { continue };
        let (lo, hi) = (lo as u16, hi as u16);
        match out.last_mut() {
            Some(last) if last.rule == rule && u32::from(last.hi) + 1 == u32::from(lo) => {
                last.hi = hi
            }
            _ => out.push(Span { lo, hi, rule }),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{Policy, parse};
    use super::*;

    /// A small deterministic generator (no dependency).
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn most_specific_rule_and_ports() {
        let rules = parse("10.0.0.0/8,10.1.0.0/16:80-90,10.1.0.0/16:85-100,::1,any:53").unwrap();
        let m = Matcher::new(&rules);
        let f = |s: &str, p| m.find(s.parse().unwrap(), p);
        assert_eq!(f("10.1.2.3", 80), Some(1));
        assert_eq!(f("10.1.2.3", 95), Some(2));
        assert_eq!(f("10.1.2.3", 101), Some(0));
        assert_eq!(f("11.0.0.1", 80), None);
        assert_eq!(f("11.0.0.1", 53), Some(4));
        assert_eq!(f("::1", 1), Some(3));
        assert_eq!(f("::2", 53), Some(4));
        assert_eq!(f("::2", 54), None);
    }

    /// The matcher against checking every rule, over random rules and peers.
    #[test]
    fn agrees_with_a_linear_scan() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..200 {
            let mut text = Vec::new();
            for _ in 0..(1 + rng.next() % 40) {
                text.push(random_rule(&mut rng));
            }
            let deny = text.join(",");
            let allow = (round % 2 == 0).then(|| {
                (0..1 + rng.next() % 5)
                    .map(|_| random_rule(&mut rng))
                    .collect::<Vec<_>>()
                    .join(",")
            });
            let p = Policy::new(allow.as_deref(), Some(&deny)).unwrap();
            for _ in 0..500 {
                let (ip, port) = random_peer(&mut rng);
                assert_eq!(
                    p.decide(ip, port).is_ok(),
                    p.decide_slowly(ip, port),
                    "{ip} {port} allow={allow:?} deny={deny}"
                );
            }
        }
    }

    /// A random rule near a few addresses, so peers hit them.
    pub(crate) fn random_rule(rng: &mut Rng) -> String {
        let ports = match rng.next() % 4 {
            0 => format!(":{}", 1000 + rng.next() % 8),
            1 => {
                let lo = 1000 + rng.next() % 8;
                format!(":{lo}-{}", lo + rng.next() % 4)
            }
            _ => String::new(),
        };
        match rng.next() % 5 {
            0 => {
                let len = 8 + rng.next() % 25;
                format!("10.0.{}.{}/{len}{ports}", rng.next() % 4, rng.next() % 8)
            }
            1 => format!("127.0.0.{}{ports}", rng.next() % 8),
            2 => {
                let len = 100 + rng.next() % 29;
                format!("[2001:db8::{:x}]/{len}{ports}", rng.next() % 16)
            }
            3 => format!("[::ffff:10.0.0.{}]{ports}", rng.next() % 8),
            _ => {
                ["localhost", "private", "link-local", "multicast"][rng.next() as usize % 4]
                    .to_string()
                    + &ports
            }
        }
    }

    pub(crate) fn random_peer(rng: &mut Rng) -> (IpAddr, u16) {
        let port = 1000 + (rng.next() % 10) as u16;
        let ip: IpAddr = match rng.next() % 6 {
            0 => format!("10.0.{}.{}", rng.next() % 4, rng.next() % 8)
                .parse()
                .unwrap(),
            1 => format!("127.0.0.{}", rng.next() % 8).parse().unwrap(),
            2 => format!("2001:db8::{:x}", rng.next() % 16).parse().unwrap(),
            3 => format!("::ffff:10.0.0.{}", rng.next() % 8).parse().unwrap(),
            4 => format!("::ffff:127.0.0.{}", rng.next() % 3)
                .parse()
                .unwrap(),
            _ => IpAddr::V6(std::net::Ipv6Addr::from(
                (rng.next() as u128) << 64 | rng.next() as u128,
            )),
        };
        (ip, port)
    }
}
