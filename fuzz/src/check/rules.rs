//! The access rules' grammar (`sock_core::rules::parse`) and decision.
//!
//! Input: a rules value (UTF-8, invalid bytes become U+FFFD). What must
//! hold: parsing never panics; an accepted list re-parses rule by rule to
//! the same rules, with host bits clear, ports in order and no IPv4-mapped
//! IPv6 network left as IPv6; a refused list names a rule that is refused
//! on its own too; the matcher decides like a scan of every rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sock_core::rules::{self, Net, Policy};

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match rules::parse(&text) {
        Ok(list) => {
            let tokens: Vec<&str> = text.split(',').collect();
            assert_eq!(list.len(), tokens.len());
            for (rule, token) in list.iter().zip(&tokens) {
                assert_eq!(rule.text, token.trim());
                let again = rules::parse(&rule.text).expect("an accepted rule parses alone");
                assert_eq!(&again[0], rule);
                assert!(rule.ports.0 <= rule.ports.1);
                assert!(!rule.nets.is_empty());
                for n in &rule.nets {
                    match *n {
                        Net::V4 { net, len } => {
                            assert!(len <= 32 && net & !rules::mask32(len) == 0)
                        }
                        Net::V6 { net, len } => {
                            assert!(len <= 128 && net & !rules::mask128(len) == 0);
                            assert!(!(len >= 96 && net >> 32 == 0xffff), "mapped left as IPv6");
                        }
                    }
                }
            }
            let Ok(p) = Policy::new(None, Some(&text)) else {
                return; // too large for the filter: the caller fails closed
            };
            // Peers at the edges of every network, and their neighbours.
            for rule in &p.deny_rules()[..p.deny_rules().len().min(16)] {
                for n in &rule.nets {
                    let (lo, hi) = n.range();
                    for a in [lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)] {
                        let ip = match n {
                            Net::V4 { .. } => IpAddr::V4(Ipv4Addr::from(a as u32)),
                            Net::V6 { .. } => IpAddr::V6(Ipv6Addr::from(a)),
                        };
                        for port in [rule.ports.0, rule.ports.1, rule.ports.1.wrapping_add(1)] {
                            assert_eq!(p.decide(ip, port).is_ok(), p.decide_slowly(ip, port));
                            if let IpAddr::V4(v4) = ip {
                                let mapped = IpAddr::V6(v4.to_ipv6_mapped());
                                assert_eq!(p.decide(mapped, port), p.decide(ip, port));
                            }
                        }
                    }
                }
            }
        }
        Err(e) => {
            let tokens: Vec<&str> = text.split(',').collect();
            assert!(e.index >= 1 && e.index <= tokens.len());
            assert_eq!(e.rule, tokens[e.index - 1].trim());
            assert!(rules::parse(&e.rule).is_err(), "{e}");
            assert!(!e.expected.is_empty() && e.to_string().contains("expected"));
            // Every rule before it is fine.
            for t in &tokens[..e.index - 1] {
                assert!(rules::parse(t).is_ok());
            }
        }
    }
}
