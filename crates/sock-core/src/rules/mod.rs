//! Access rules: `LIBSOCK_ALLOW` and `LIBSOCK_DENY` (SPEC, "Access rules").
//!
//! A rule names the *remote end* of traffic: an address with an optional
//! prefix and an optional port or port range, or a keyword standing for a
//! few prefixes. Traffic with a peer is allowed when `LIBSOCK_ALLOW` is
//! unset or one of its rules matches, and no rule of `LIBSOCK_DENY` matches:
//! deny wins. An IPv4-mapped IPv6 peer (`::ffff:a.b.c.d`) is matched as the
//! IPv4 address `a.b.c.d`, and so is a rule written that way.
//!
//! - this module: the grammar ([`parse`]) and the decision ([`Policy`]);
//! - [`matcher`]: the per-call lookup (sorted tables, binary search — no
//!   linear scan of the rules);
//! - [`dest`]: the peer the kernel reaches, whatever the spelling of its
//!   address (read before any rule is matched);
//! - [`bpf`]: the classic BPF socket filter compiled from a policy, which
//!   the kernel runs on every packet a filtered socket receives;
//! - [`interp`]: a classic BPF interpreter, to check the compiler against
//!   the matcher (unit tests, fuzzing).

pub mod bpf;
pub mod dest;
pub mod interp;
pub mod matcher;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use matcher::Matcher;

/// The variable holding the allow list.
pub const ALLOW_VAR: &str = "LIBSOCK_ALLOW";
/// The variable holding the deny list.
pub const DENY_VAR: &str = "LIBSOCK_DENY";

/// What a rules value looks like (for messages, `--help` and the README).
pub const GRAMMAR: &str = "comma-separated rules, each an address with an optional prefix \
     (192.0.2.7, 10.0.0.0/8, ::1, 2001:db8::/32), optionally with :PORT or :LOW-HIGH \
     (127.0.0.1:6379, [::1]:8000-8100, [2001:db8::]/32:443), or any, localhost, link-local, \
     multicast, private (each optionally with :PORTS)";

/// A network: an address family, a prefix and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Net {
    /// IPv4 `net/len`, host bits zero.
    V4 {
        /// The network address.
        net: u32,
        /// The prefix length, 0-32.
        len: u8,
    },
    /// IPv6 `net/len`, host bits zero (never inside `::ffff:0:0/96`: such
    /// a rule is an IPv4 one).
    V6 {
        /// The network address.
        net: u128,
        /// The prefix length, 0-128.
        len: u8,
    },
}

const MAPPED_PREFIX: u128 = 0xffff;

impl Net {
    /// `addr/len`, host bits cleared, an IPv4-mapped IPv6 network made IPv4.
    pub fn new(addr: IpAddr, len: u8) -> Net {
        match addr {
            IpAddr::V4(a) => Net::V4 {
                net: u32::from(a) & mask32(len),
                len,
            },
            IpAddr::V6(a) => {
                let bits = u128::from(a) & mask128(len);
                if len >= 96 && bits >> 32 == MAPPED_PREFIX {
                    Net::V4 {
                        net: bits as u32,
                        len: len - 96,
                    }
                } else {
                    Net::V6 { net: bits, len }
                }
            }
        }
    }

    /// Whether `ip` (already normalised, see [`normalize`]) is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Net::V4 { net, len }, IpAddr::V4(a)) => u32::from(a) & mask32(len) == net,
            (Net::V6 { net, len }, IpAddr::V6(a)) => u128::from(a) & mask128(len) == net,
            _ => false,
        }
    }

    /// The lowest and highest address inside, as 128-bit numbers.
    pub fn range(&self) -> (u128, u128) {
        match *self {
            Net::V4 { net, len } => (net.into(), (net | !mask32(len)).into()),
            Net::V6 { net, len } => (net, net | !mask128(len)),
        }
    }
}

/// The mask of an IPv4 prefix of `len` bits.
pub fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    }
}

/// The mask of an IPv6 prefix of `len` bits.
pub fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len.min(128))
    }
}

/// A peer address as rules see it: `::ffff:a.b.c.d` is `a.b.c.d`.
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(a),
        },
        v4 => v4,
    }
}

/// One rule, as written and as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The rule's text (trimmed), for traces and messages.
    pub text: String,
    /// The networks it covers (a keyword covers several).
    pub nets: Vec<Net>,
    /// The ports it covers, inclusive (`0..=65535` for any port).
    pub ports: (u16, u16),
}

impl Rule {
    /// Whether the rule names ports (anything narrower than every port).
    pub fn has_ports(&self) -> bool {
        self.ports != (0, u16::MAX)
    }

    /// Whether the rule covers `ip` (normalised) on `port`.
    pub fn matches(&self, ip: IpAddr, port: u16) -> bool {
        (self.ports.0..=self.ports.1).contains(&port) && self.nets.iter().any(|n| n.contains(ip))
    }
}

/// A rule that does not parse: which one, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based position of the rule in the list.
    pub index: usize,
    /// The rule as written.
    pub rule: String,
    /// What was wrong, and what was expected instead.
    pub expected: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {} {:?}: expected {}",
            self.index, self.rule, self.expected
        )
    }
}

impl std::error::Error for RuleError {}

/// The keywords a rule may be (with optional `:PORTS`), in [`GRAMMAR`]'s
/// order: shell completions offer them (a unit test checks the list).
pub const KEYWORD_NAMES: &[&str] = &["any", "localhost", "link-local", "multicast", "private"];

/// Each keyword and the networks it stands for.
pub const KEYWORDS: &[(&str, &[&str])] = &[
    ("any", &["0.0.0.0/0", "::/0"]),
    ("localhost", &["127.0.0.0/8", "::1/128"]),
    ("link-local", &["169.254.0.0/16", "fe80::/10"]),
    ("multicast", &["224.0.0.0/4", "ff00::/8"]),
    (
        "private",
        &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
    ),
];

const EXPECT_ADDR: &str = "an IPv4 or IPv6 address with an optional /PREFIX (192.0.2.7, \
     10.0.0.0/8, ::1, 2001:db8::/32), IPv4[/PREFIX]:PORTS, [IPv6][/PREFIX]:PORTS, or one of \
     any, localhost, link-local, multicast, private (with optional :PORTS)";
const EXPECT_PORTS: &str = "PORTS as a port 0-65535 or a range LOW-HIGH with LOW <= HIGH";

/// Parses a rules value: comma-separated rules (spaces around them allowed).
/// Every rule must parse; an empty rule (`a,,b`, a trailing comma) is an
/// error, so a typo never turns a rule off silently.
pub fn parse(value: &str) -> Result<Vec<Rule>, RuleError> {
    value
        .split(',')
        .enumerate()
        .map(|(i, raw)| {
            let text = raw.trim();
            rule(text).map_err(|expected| RuleError {
                index: i + 1,
                rule: text.to_string(),
                expected,
            })
        })
        .collect()
}

fn rule(text: &str) -> Result<Rule, String> {
    if text.is_empty() {
        return Err("a rule (found an empty one: two commas, or a comma at an end)".into());
    }
    let all = (0, u16::MAX);
    // A keyword, optionally with :PORTS: a letter first and at most one ':'
    // (an IPv6 address has at least two, and may begin with a letter:
    // fe80::1, fe80:0:0:0:0:0:0:1).
    if text.starts_with(|c: char| c.is_ascii_alphabetic()) && text.matches(':').count() <= 1 {
        let (word, ports) = match text.split_once(':') {
            Some((w, p)) => (w, ports(p)?),
            None => (text, all),
        };
        let Some((_, nets)) = KEYWORDS.iter().find(|(k, _)| *k == word) else {
            return Err(format!(
                "{EXPECT_ADDR} ({word:?} is not a keyword or an address)"
            ));
        };
        let nets = nets
            .iter()
            .map(|n| {
                let (a, l) = n.split_once('/').expect("keyword nets have prefixes");
                Net::new(a.parse().expect("keyword address"), l.parse().expect("len"))
            })
            .collect();
        return Ok(Rule {
            text: text.into(),
            nets,
            ports,
        });
    }
    let (net, ports) = if let Some(rest) = text.strip_prefix('[') {
        // [v6], [v6]/len, [v6/len], each optionally followed by :PORTS.
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("a closing ']' after the IPv6 address ({EXPECT_ADDR})"))?;
        let (inside, len) = split_prefix(inside, 128)?;
        let (len, port_text) = match after.strip_prefix('/') {
            Some(_) if len.is_some() => {
                return Err(format!("one /PREFIX, not two ({EXPECT_ADDR})"));
            }
            Some(tail) => match tail.split_once(':') {
                Some((l, p)) => (Some(prefix(l, 128)?), Some(p)),
                None => (Some(prefix(tail, 128)?), None),
            },
            None if after.is_empty() => (len, None),
            None => match after.strip_prefix(':') {
                Some(p) => (len, Some(p)),
                None => return Err(format!(":PORTS after ']' ({EXPECT_ADDR})")),
            },
        };
        let ports = match port_text {
            Some(p) => ports(p)?,
            None => all,
        };
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("an IPv6 address inside [ ] ({EXPECT_ADDR})"))?;
        (Net::new(IpAddr::V6(ip), len.unwrap_or(128)), ports)
    } else if text.matches(':').count() >= 2 {
        // A bare IPv6 address: no port (a port needs brackets).
        let (addr, len) = split_prefix(text, 128)?;
        let ip: Ipv6Addr = addr.parse().map_err(|_| {
            format!("{EXPECT_ADDR} (an IPv6 address with a port needs brackets: [::1]:80)")
        })?;
        (Net::new(IpAddr::V6(ip), len.unwrap_or(128)), all)
    } else {
        let (addr, ports) = match text.split_once(':') {
            Some((a, p)) => (a, ports(p)?),
            None => (text, all),
        };
        let (addr, len) = split_prefix(addr, 32)?;
        let ip: Ipv4Addr = addr.parse().map_err(|_| EXPECT_ADDR.to_string())?;
        (Net::new(IpAddr::V4(ip), len.unwrap_or(32)), ports)
    };
    Ok(Rule {
        text: text.into(),
        nets: vec![net],
        ports,
    })
}

/// `addr/len` into the address text and the length (checked against `max`).
fn split_prefix(text: &str, max: u8) -> Result<(&str, Option<u8>), String> {
    match text.split_once('/') {
        Some((a, l)) => Ok((a, Some(prefix(l, max)?))),
        None => Ok((text, None)),
    }
}

fn prefix(text: &str, max: u8) -> Result<u8, String> {
    number(text)
        .filter(|&n| n <= u32::from(max))
        .map(|n| n as u8)
        .ok_or_else(|| format!("a prefix length 0-{max} after '/' (found {text:?})"))
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn ports(text: &str) -> Result<(u16, u16), String> {
    let port = |t: &str| number(t).and_then(|n| u16::try_from(n).ok());
    let parsed = match text.split_once('-') {
        Some((lo, hi)) => port(lo).zip(port(hi)).filter(|(lo, hi)| lo <= hi),
        None => port(text).map(|p| (p, p)),
    };
    parsed.ok_or_else(|| format!("{EXPECT_PORTS} (found {text:?})"))
}

/// Why traffic with a peer is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason<'a> {
    /// A rule of `LIBSOCK_DENY` matches.
    Denied(&'a Rule),
    /// `LIBSOCK_ALLOW` is set and none of its rules matches.
    NotAllowed,
    /// The rules did not parse or do not fit the kernel filter: everything
    /// is refused.
    FailClosed,
}

/// Why a call was refused, as a trace shows it (`denied_by`): the list, or
/// what else refused it, and the rule.
pub type Why<'a> = (&'static str, &'a str);

/// A raw INET/INET6 or AF_PACKET socket: no socket filter holds it.
pub const UNFILTERABLE: Why<'static> = ("access-rules", "raw-or-packet-socket");

/// A socket whose peers cannot be placed: SCTP, L2TP, DCCP, ...
pub const UNPLACEABLE: Why<'static> = ("access-rules", "protocol-not-judged");

/// A message or socket option that routes through another host first.
pub const SOURCE_ROUTE: Why<'static> = ("access-rules", "source-route");

/// A socket that will not take the rules' socket filter (fail closed).
pub const NO_FILTER: Why<'static> = ("fail-closed", "filter-not-attached");

impl<'a> Reason<'a> {
    /// The refusal as a trace shows it: `LIBSOCK_DENY` and the rule's text,
    /// `LIBSOCK_ALLOW` and `no-match`, or `fail-closed` and `invalid-rules`.
    pub fn why(self) -> Why<'a> {
        match self {
            Reason::Denied(r) => (DENY_VAR, &r.text),
            Reason::NotAllowed => (ALLOW_VAR, "no-match"),
            Reason::FailClosed => ("fail-closed", "invalid-rules"),
        }
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Denied(rule) => write!(f, "{DENY_VAR}:{}", rule.text),
            Reason::NotAllowed => write!(f, "{ALLOW_VAR}:no-match"),
            Reason::FailClosed => f.write_str("fail-closed"),
        }
    }
}

/// The rules in force, ready to decide.
#[derive(Debug)]
pub struct Policy {
    allow: Option<(Vec<Rule>, Matcher)>,
    deny: (Vec<Rule>, Matcher),
    fail_closed: bool,
    /// The socket filters compiled from the rules, once: for TCP and UDP
    /// sockets (with ports) and for other INET/INET6 sockets.
    filters: [Vec<bpf::SockFilter>; 2],
}

/// A rules value that cannot be used: which variable, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// The variable (`LIBSOCK_ALLOW` or `LIBSOCK_DENY`), or both when the
    /// lists together are too large.
    pub var: &'static str,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.message)
    }
}

impl Policy {
    /// The policy from the two values (None or empty: unset). Fails if a
    /// rule does not parse or the filter would not fit the kernel's limit.
    pub fn new(allow: Option<&str>, deny: Option<&str>) -> Result<Policy, PolicyError> {
        let list = |var: &'static str, v: Option<&str>| -> Result<Option<Vec<Rule>>, PolicyError> {
            match v.filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => parse(v).map(Some).map_err(|e| PolicyError {
                    var,
                    message: format!("{e}"),
                }),
            }
        };
        let allow = list(ALLOW_VAR, allow)?;
        let deny = list(DENY_VAR, deny)?.unwrap_or_default();
        let mut policy = Policy {
            allow: allow.map(|rules| {
                let m = Matcher::new(&rules);
                (rules, m)
            }),
            deny: {
                let m = Matcher::new(&deny);
                (deny, m)
            },
            fail_closed: false,
            filters: [Vec::new(), Vec::new()],
        };
        // Both filters (with and without ports) must fit; they are kept.
        match (bpf::compile(&policy, true), bpf::compile(&policy, false)) {
            (Ok(with_ports), Ok(without_ports)) => policy.filters = [with_ports, without_ports],
            (Err(e), _) | (_, Err(e)) => {
                let var = match (&policy.allow, policy.deny.0.is_empty()) {
                    (Some(_), false) => "LIBSOCK_ALLOW and LIBSOCK_DENY",
                    (Some(_), true) => ALLOW_VAR,
                    _ => DENY_VAR,
                };
                return Err(PolicyError {
                    var,
                    message: format!("{e}"),
                });
            }
        }
        Ok(policy)
    }

    /// The compiled socket filter: `ports` for TCP and UDP sockets (the
    /// source port at offset 0), else the one that judges rules with ports
    /// without them (see [`bpf::compile`]).
    pub fn filter(&self, ports: bool) -> &[bpf::SockFilter] {
        &self.filters[usize::from(!ports)]
    }

    /// The filter for an INET/INET6 socket of type `ty` (flags ignored)
    /// and `protocol`: the one with ports for TCP and UDP (and UDP-Lite),
    /// whose packets carry the source port at offset 0.
    pub fn filter_for(&self, ty: i32, protocol: i32) -> &[bpf::SockFilter] {
        let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        let ports = matches!(
            (base, protocol),
            (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP)
                | (
                    libc::SOCK_DGRAM,
                    0 | libc::IPPROTO_UDP | libc::IPPROTO_UDPLITE
                )
        );
        self.filter(ports)
    }

    /// The policy that refuses every INET/INET6 peer (after an error).
    pub fn fail_closed() -> Policy {
        Policy {
            allow: None,
            deny: (Vec::new(), Matcher::new(&[])),
            fail_closed: true,
            filters: [bpf::drop_all(), bpf::drop_all()],
        }
    }

    /// Whether this is the refuse-everything policy.
    pub fn is_fail_closed(&self) -> bool {
        self.fail_closed
    }

    /// The allow rules, if `LIBSOCK_ALLOW` is set.
    pub fn allow_rules(&self) -> Option<&[Rule]> {
        self.allow.as_ref().map(|(r, _)| r.as_slice())
    }

    /// The deny rules.
    pub fn deny_rules(&self) -> &[Rule] {
        &self.deny.0
    }

    /// The decision for a peer `ip` (any form: mapped addresses are
    /// normalised here) on `port`: Ok, or why it is refused.
    pub fn decide(&self, ip: IpAddr, port: u16) -> Result<(), Reason<'_>> {
        if self.fail_closed {
            return Err(Reason::FailClosed);
        }
        let ip = normalize(ip);
        if let Some(i) = self.deny.1.find(ip, port) {
            return Err(Reason::Denied(&self.deny.0[i]));
        }
        match &self.allow {
            Some((_, m)) if m.find(ip, port).is_none() => Err(Reason::NotAllowed),
            _ => Ok(()),
        }
    }

    /// The same decision by checking every rule in turn: the reference the
    /// matcher is tested against.
    pub fn decide_slowly(&self, ip: IpAddr, port: u16) -> bool {
        if self.fail_closed {
            return false;
        }
        let ip = normalize(ip);
        let any = |rules: &[Rule]| rules.iter().any(|r| r.matches(ip, port));
        !any(&self.deny.0) && self.allow.as_ref().is_none_or(|(r, _)| any(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn keyword_names_are_the_keywords() {
        let names: Vec<&str> = KEYWORDS.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, KEYWORD_NAMES);
        for k in KEYWORD_NAMES {
            assert!(GRAMMAR.contains(k) && parse(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn grammar_forms() {
        let r = parse("10.0.0.0/8, 192.0.2.7,2001:db8::/32,::1").unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(
            r[0].nets,
            vec![Net::V4 {
                net: 0x0a00_0000,
                len: 8
            }]
        );
        assert_eq!(
            r[1].nets,
            vec![Net::V4 {
                net: 0xc000_0207,
                len: 32
            }]
        );
        assert!(!r[2].has_ports() && r[3].nets == vec![Net::V6 { net: 1, len: 128 }]);
        let r =
            parse("127.0.0.1:6379,[::1]:8000-8100,[2001:db8::]/32:443,[fe80::/10]:1-2").unwrap();
        assert_eq!(r[0].ports, (6379, 6379));
        assert_eq!(r[1].ports, (8000, 8100));
        assert_eq!(r[2].ports, (443, 443));
        assert_eq!(r[2].nets, vec![Net::new(ip("2001:db8::"), 32)]);
        assert_eq!(r[3].ports, (1, 2));
        let r = parse("any,localhost:6379,link-local,multicast,private:53,any:0-1023").unwrap();
        assert_eq!(r[0].nets.len(), 2);
        assert_eq!(r[1].ports, (6379, 6379));
        assert_eq!(r[4].nets.len(), 4);
        assert_eq!(r[5].ports, (0, 1023));
        // fe80::1 starts with a letter but is an address.
        assert_eq!(
            parse("fe80::1").unwrap()[0].nets,
            vec![Net::new(ip("fe80::1"), 128)]
        );
        // Full-form IPv6 addresses may begin with a letter too.
        for (text, net, len, ports) in [
            ("fe80:0:0:0:0:0:0:1", "fe80::1", 128, (0, u16::MAX)),
            ("fe80:0:0:0:0:0:0:0/64", "fe80::", 64, (0, u16::MAX)),
            ("ff02:0:0:0:0:0:0:1/128", "ff02::1", 128, (0, u16::MAX)),
            (
                "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
                "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
                128,
                (0, u16::MAX),
            ),
            ("fe80::", "fe80::", 128, (0, u16::MAX)),
            ("[fe80:0:0:0:0:0:0:1]:80", "fe80::1", 128, (80, 80)),
            ("[fe80:0:0:0:0:0:0:0]/10:1-2", "fe80::", 10, (1, 2)),
        ] {
            let r = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(r[0].nets, vec![Net::new(ip(net), len)], "{text}");
            assert_eq!(r[0].ports, ports, "{text}");
        }
        // Host bits are cleared.
        assert_eq!(
            parse("10.1.2.3/8").unwrap()[0].nets,
            vec![Net::V4 {
                net: 0x0a00_0000,
                len: 8
            }]
        );
    }

    #[test]
    fn mapped_rules_are_ipv4() {
        let r = parse("::ffff:169.254.169.254,[::ffff:10.0.0.0]/104:80").unwrap();
        assert_eq!(
            r[0].nets,
            vec![Net::V4 {
                net: 0xa9fe_a9fe,
                len: 32
            }]
        );
        assert_eq!(
            r[1].nets,
            vec![Net::V4 {
                net: 0x0a00_0000,
                len: 8
            }]
        );
        assert_eq!(r[1].ports, (80, 80));
    }

    #[test]
    fn errors_say_what_was_expected() {
        for (bad, want) in [
            ("", "empty"),
            ("10.0.0.0/8,", "empty"),
            ("10.0.0.0/33", "prefix length 0-32"),
            ("::1/129", "prefix length 0-128"),
            ("10.0.0.1:70000", "port 0-65535"),
            ("10.0.0.1:90-80", "LOW <= HIGH"),
            ("10.0.0.1:", "PORTS"),
            ("localhost:x", "PORTS"),
            ("loclhost", "not a keyword"),
            ("loclhost:80", "not a keyword"),
            ("fe80:1", "not a keyword"),
            ("fe80:0:0:0:0:0:0:1:80", "needs brackets"),
            ("10.0.0", "IPv4 or IPv6 address"),
            ("[::1", "closing ']'"),
            ("[::1]80", ":PORTS after ']'"),
            ("[10.0.0.1]:80", "IPv6 address inside"),
            ("::1:80:zz", "needs brackets"),
            ("10.0.0.0/8/8", "prefix length"),
            ("[::1/64]/64", "one /PREFIX"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.expected.contains(want), "{bad:?}: {e}");
            assert!(e.to_string().contains("expected"), "{bad:?}");
        }
        let e = parse("10.0.0.0/8, 300.1.1.1").unwrap_err();
        assert_eq!((e.index, e.rule.as_str()), (2, "300.1.1.1"));
        assert!(parse("localhost:6379").is_ok() && parse("nope").is_err());
    }

    #[test]
    fn decision_deny_wins_and_allow_restricts() {
        let p = Policy::new(Some("localhost:6379,10.0.0.0/8"), Some("10.9.0.0/16")).unwrap();
        assert!(p.decide(ip("127.0.0.1"), 6379).is_ok());
        assert!(p.decide(ip("::ffff:127.0.0.2"), 6379).is_ok());
        assert_eq!(p.decide(ip("127.0.0.1"), 80), Err(Reason::NotAllowed));
        assert!(p.decide(ip("10.1.2.3"), 1).is_ok());
        let Err(Reason::Denied(r)) = p.decide(ip("10.9.1.1"), 1) else {
            panic!()
        };
        assert_eq!(r.text, "10.9.0.0/16");
        assert_eq!(Reason::Denied(r).to_string(), "LIBSOCK_DENY:10.9.0.0/16");
        let p = Policy::new(None, Some("169.254.169.254")).unwrap();
        assert!(p.decide(ip("::ffff:169.254.169.254"), 80).is_err());
        assert!(p.decide(ip("169.254.169.253"), 80).is_ok());
        assert!(
            Policy::new(Some(""), None)
                .unwrap()
                .decide(ip("1.1.1.1"), 1)
                .is_ok()
        );
        assert_eq!(
            Policy::fail_closed().decide(ip("::1"), 1),
            Err(Reason::FailClosed)
        );
        let e = Policy::new(Some("ok"), None).unwrap_err();
        assert_eq!(e.var, ALLOW_VAR);
    }
}
