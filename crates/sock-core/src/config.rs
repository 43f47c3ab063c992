//! The `LIBSOCK_*` configuration: parsed once from the environment, as data.
//!
//! Pure: no system calls, so it is unit-tested and fuzzed on its own, and
//! `sockrun` validates its options with the very code the library will use.
//! Every bad value becomes a [`Problem`] naming
//! the variable, the value and what was expected; the setting is then left
//! off and everything else still applies.

use std::fmt;

use crate::addr::SockAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

/// Where trace lines or the stats summary go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Standard error.
    Stderr,
    /// A file to append to; `%p` in the path stands for the process id.
    File(String),
}

impl Output {
    /// The path with `%p` replaced by `pid` (None for stderr).
    pub fn path_for(&self, pid: u32) -> Option<String> {
        match self {
            Output::Stderr => None,
            Output::File(template) => Some(template.replace("%p", &pid.to_string())),
        }
    }
}

/// Trace line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// strace-like text.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// TCP keepalive: SO_KEEPALIVE, and the timings given (seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keepalive {
    /// TCP_KEEPIDLE
    pub idle: Option<i32>,
    /// TCP_KEEPINTVL
    pub interval: Option<i32>,
    /// TCP_KEEPCNT
    pub count: Option<i32>,
}

/// Everything libsock was asked to do. `Config::default()` is pure
/// pass-through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// LIBSOCK_TRACE
    pub trace: Option<Output>,
    /// LIBSOCK_TRACE_FORMAT
    pub format: Format,
    /// LIBSOCK_STATS
    pub stats: Option<Output>,
    /// LIBSOCK_REUSEADDR
    pub reuseaddr: bool,
    /// LIBSOCK_REUSEPORT
    pub reuseport: bool,
    /// LIBSOCK_FREEBIND
    pub freebind: bool,
    /// LIBSOCK_NODELAY
    pub nodelay: bool,
    /// LIBSOCK_KEEPALIVE
    pub keepalive: Option<Keepalive>,
    /// LIBSOCK_TOS (IP_TOS, or IPV6_TCLASS for IPv6)
    pub tos: Option<u8>,
    /// LIBSOCK_RCVBUF
    pub rcvbuf: Option<i32>,
    /// LIBSOCK_SNDBUF
    pub sndbuf: Option<i32>,
    /// LIBSOCK_BIND_ADDR for IPv4 sockets
    pub bind_v4: Option<Ipv4Addr>,
    /// LIBSOCK_BIND_ADDR for IPv6 sockets
    pub bind_v6: Option<Ipv6Addr>,
    /// LIBSOCK_PORT_MAP: (from, to) pairs
    pub port_map: Vec<(u16, u16)>,
    /// LIBSOCK_ALLOW, as written (access rules: parsed, and failed closed
    /// if invalid, by `sock_core::rules::Policy` when the settings load).
    pub allow: Option<String>,
    /// LIBSOCK_DENY, as written (see `allow`).
    pub deny: Option<String>,
}

/// Whether a socket of type `ty` (flags allowed) and `protocol` is a TCP
/// (or MPTCP) stream: the sockets TCP options are set on.
pub fn tcp_stream(ty: i32, protocol: i32) -> bool {
    ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) == libc::SOCK_STREAM
        && matches!(protocol, 0 | libc::IPPROTO_TCP | libc::IPPROTO_MPTCP)
}

impl Config {
    /// Whether anything at all is asked for (else libsock only forwards).
    pub fn is_active(&self) -> bool {
        *self != Config::default()
    }

    /// Whether any socket option or address rewrite is asked for.
    pub fn has_policy(&self) -> bool {
        self.reuseaddr
            || self.reuseport
            || self.freebind
            || self.nodelay
            || self.keepalive.is_some()
            || self.tos.is_some()
            || self.rcvbuf.is_some()
            || self.sndbuf.is_some()
            || self.bind_v4.is_some()
            || self.bind_v6.is_some()
            || !self.port_map.is_empty()
    }

    /// The options set on a new INET/INET6 socket (`tcp`: a TCP or MPTCP
    /// stream), each as `set(level, name, value)`: the library sets them
    /// at `socket` and `accept`, sockrun's kernel mode on the sockets it
    /// creates. Nothing for other families.
    pub fn each_socket_option(&self, domain: i32, tcp: bool, mut set: impl FnMut(i32, i32, i32)) {
        if domain != libc::AF_INET && domain != libc::AF_INET6 {
            return;
        }
        if tcp && self.nodelay {
            set(libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        }
        if let (true, Some(k)) = (tcp, self.keepalive) {
            set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
            for (name, value) in [
                (libc::TCP_KEEPIDLE, k.idle),
                (libc::TCP_KEEPINTVL, k.interval),
                (libc::TCP_KEEPCNT, k.count),
            ] {
                if let Some(v) = value {
                    set(libc::IPPROTO_TCP, name, v);
                }
            }
        }
        if let Some(tos) = self.tos {
            // An INET6 socket may carry IPv4 traffic (dual stack, v4-mapped
            // peers): it gets the IPv4 TOS as well as the IPv6 traffic class.
            set(libc::IPPROTO_IP, libc::IP_TOS, tos.into());
            if domain == libc::AF_INET6 {
                set(libc::IPPROTO_IPV6, libc::IPV6_TCLASS, tos.into());
            }
        }
        if let Some(n) = self.rcvbuf {
            set(libc::SOL_SOCKET, libc::SO_RCVBUF, n);
        }
        if let Some(n) = self.sndbuf {
            set(libc::SOL_SOCKET, libc::SO_SNDBUF, n);
        }
    }

    /// The options set before an INET (`v6`: INET6) address is bound, each
    /// as `set(level, name, value)`.
    pub fn each_bind_option(&self, v6: bool, mut set: impl FnMut(i32, i32, i32)) {
        if self.reuseaddr {
            set(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
        }
        if self.reuseport {
            set(libc::SOL_SOCKET, libc::SO_REUSEPORT, 1);
        }
        if self.freebind {
            match v6 {
                false => set(libc::IPPROTO_IP, libc::IP_FREEBIND, 1),
                true => set(libc::IPPROTO_IPV6, libc::IPV6_FREEBIND, 1),
            }
        }
    }

    /// Whether an address rewrite at `bind` is asked for (LIBSOCK_BIND_ADDR,
    /// LIBSOCK_PORT_MAP).
    pub fn rewrites_bind(&self) -> bool {
        self.bind_v4.is_some() || self.bind_v6.is_some() || !self.port_map.is_empty()
    }

    /// The address an INET/INET6 `bind` of `program` (`len` bytes as the
    /// caller gave them) is rewritten to by LIBSOCK_BIND_ADDR and
    /// LIBSOCK_PORT_MAP: its bytes, their length and what it is; None when
    /// nothing changes. `v6_only` says whether an INET6 socket is IPv6-only
    /// (asked only for a dual-stack wildcard with an IPv4 bind address).
    pub fn rebind(
        &self,
        program: &SockAddr,
        len: usize,
        v6_only: impl FnOnce() -> bool,
    ) -> Option<([u8; 28], u32, SockAddr)> {
        let port = program.port().map(|p| self.mapped_port(p).unwrap_or(p))?;
        match program {
            SockAddr::V4(a) if len >= 16 => {
                let ip = self.bind_v4.unwrap_or(*a.ip());
                let new = SocketAddrV4::new(ip, port);
                (new != *a).then(|| {
                    let mut bytes = [0u8; 28];
                    bytes[..16].copy_from_slice(&crate::addr::encode_v4(new));
                    (bytes, 16, SockAddr::V4(new))
                })
            }
            SockAddr::V6(a) => {
                let ip = match (self.bind_v6, self.bind_v4) {
                    (Some(v6), _) => v6,
                    // A dual-stack wildcard also takes IPv4: confined to the
                    // IPv4 address as its v4-mapped form (which drops IPv6).
                    (None, Some(v4)) if a.ip().is_unspecified() && !v6_only() => {
                        v4.to_ipv6_mapped()
                    }
                    (None, _) => *a.ip(),
                };
                let new = SocketAddrV6::new(ip, port, a.flowinfo(), a.scope_id());
                (new != *a).then(|| {
                    (
                        crate::addr::encode_v6(new),
                        len.min(28) as u32,
                        SockAddr::V6(new),
                    )
                })
            }
            _ => None,
        }
    }

    /// The port `port` is rewritten to by LIBSOCK_PORT_MAP, if any.
    pub fn mapped_port(&self, port: u16) -> Option<u16> {
        self.port_map
            .iter()
            .find(|(from, _)| *from == port)
            .map(|&(_, to)| to)
    }
}

/// A variable with a value libsock cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The variable's name.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// What it should look like.
    pub expected: &'static str,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} ignored: expected {}",
            self.var, self.value, self.expected
        )
    }
}

/// How a `sockrun` option gives its variable a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagArg {
    /// `--nodelay`: no value; the variable gets this one.
    Fixed(&'static str),
    /// `--trace[=FILE]`: an optional `=VALUE`, else this default.
    Optional(&'static str),
    /// `--tos=TOS` or `--tos TOS`.
    Required,
}

/// One `LIBSOCK_*` variable: its name, the grammar of its value, how it
/// changes the [`Config`], and the `sockrun` option that sets it. The
/// library's parser, sockrun's options and help, and the fuzz targets all
/// walk [`VARIABLES`], so a variable exists everywhere or nowhere.
pub struct Variable {
    /// The environment variable, e.g. `LIBSOCK_TOS`.
    pub name: &'static str,
    /// What a value must look like (messages, `sockrun --help`, README).
    pub expected: &'static str,
    /// Applies a non-empty value; false when it does not parse.
    apply: fn(&mut Config, &str) -> bool,
    /// The `sockrun` option, without its dashes.
    pub flag: &'static str,
    /// How that option takes its value.
    pub arg: FlagArg,
    /// The value's name in sockrun's help (empty for [`FlagArg::Fixed`]).
    pub metavar: &'static str,
    /// The value names an output file: sockrun makes a relative path
    /// absolute, so a command that changes directory writes where asked.
    pub file: bool,
    /// What the option does, for sockrun's help.
    pub help: &'static str,
    /// A value, as an example in sockrun's man page (empty for
    /// [`FlagArg::Fixed`]).
    pub example: &'static str,
    /// The words a value may be, where they are a closed set (the rules'
    /// keywords, TOS names): offered by the shell completions.
    pub values: &'static [&'static str],
}

impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Variable {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Variable {}

/// The variable called `name`, if libsock reads it.
pub fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

const OUTPUT: &str = "1 or stderr, or a file path (%p: the pid)";
const BOOL: &str = "1 (on) or 0 (off)";
const KEEPALIVE: &str = "1, or IDLE[,INTVL[,CNT]] in seconds (IDLE and INTVL 1-32767, CNT 1-127)";
const TOS: &str = "low-delay, throughput, reliability, low-cost, or a number 0-255";
/// The names `LIBSOCK_TOS` takes (as [`TOS`] lists them; a unit test
/// checks each parses).
pub const TOS_NAMES: &[&str] = &["low-delay", "throughput", "reliability", "low-cost"];
const BYTES: &str = "a number of bytes, 1-2147483647";
const BIND_ADDR: &str =
    "an IPv4 and/or an IPv6 address, comma-separated (e.g. 127.0.0.1 or 127.0.0.1,::1)";
const PORT_MAP: &str = "FROM:TO[,FROM:TO...] with ports 0-65535 (e.g. 80:8080,443:8443)";

/// Every variable libsock reads, in the order of `sockrun --help`.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "LIBSOCK_TRACE",
        expected: OUTPUT,
        apply: |c, v| {
            c.trace = output(v);
            true
        },
        flag: "trace",
        arg: FlagArg::Optional("stderr"),
        metavar: "FILE",
        file: true,
        help: "One line per socket call, strace-like, to stderr or appended to FILE \
               (a relative FILE is made absolute).",
        example: "/tmp/trace.%p",
        values: &["stderr"],
    },
    Variable {
        name: "LIBSOCK_TRACE_FORMAT",
        expected: "text or json",
        apply: |c, v| match v {
            "text" => {
                c.format = Format::Text;
                true
            }
            "json" => {
                c.format = Format::Json;
                true
            }
            _ => false,
        },
        flag: "json",
        arg: FlagArg::Fixed("json"),
        metavar: "",
        file: false,
        help: "Trace lines as JSON objects (ts, pid, tid, call, fd, addresses, ret, errno, us).",
        example: "",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_STATS",
        expected: OUTPUT,
        apply: |c, v| {
            c.stats = output(v);
            true
        },
        flag: "stats",
        arg: FlagArg::Optional("1"),
        metavar: "FILE",
        file: true,
        help: "At exit, per-call counts, errors and bytes in/out, to stderr or FILE \
               (a relative FILE is made absolute).",
        example: "stats.log",
        values: &["stderr"],
    },
    Variable {
        name: "LIBSOCK_REUSEADDR",
        expected: BOOL,
        apply: |c, v| set_bool(v, &mut c.reuseaddr),
        flag: "reuseaddr",
        arg: FlagArg::Fixed("1"),
        metavar: "",
        file: false,
        help: "SO_REUSEADDR before every INET/INET6 bind.",
        example: "",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_REUSEPORT",
        expected: BOOL,
        apply: |c, v| set_bool(v, &mut c.reuseport),
        flag: "reuseport",
        arg: FlagArg::Fixed("1"),
        metavar: "",
        file: false,
        help: "SO_REUSEPORT before every INET/INET6 bind.",
        example: "",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_FREEBIND",
        expected: BOOL,
        apply: |c, v| set_bool(v, &mut c.freebind),
        flag: "freebind",
        arg: FlagArg::Fixed("1"),
        metavar: "",
        file: false,
        help: "IP_FREEBIND before every INET/INET6 bind.",
        example: "",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_NODELAY",
        expected: BOOL,
        apply: |c, v| set_bool(v, &mut c.nodelay),
        flag: "nodelay",
        arg: FlagArg::Fixed("1"),
        metavar: "",
        file: false,
        help: "TCP_NODELAY on every TCP socket, accepted ones too.",
        example: "",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_KEEPALIVE",
        expected: KEEPALIVE,
        apply: |c, v| match keepalive(v) {
            Some(k) => {
                c.keepalive = k;
                true
            }
            None => false,
        },
        flag: "keepalive",
        arg: FlagArg::Optional("1"),
        metavar: "SPEC",
        file: false,
        help: "SO_KEEPALIVE on TCP sockets; SPEC also sets TCP_KEEPIDLE, TCP_KEEPINTVL \
               and TCP_KEEPCNT.",
        example: "60,10,5",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_TOS",
        expected: TOS,
        apply: |c, v| set(tos(v), &mut c.tos),
        flag: "tos",
        arg: FlagArg::Required,
        metavar: "TOS",
        file: false,
        help: "IP_TOS on INET sockets (IPV6_TCLASS on INET6 ones).",
        example: "low-delay",
        values: TOS_NAMES,
    },
    Variable {
        name: "LIBSOCK_RCVBUF",
        expected: BYTES,
        apply: |c, v| set(bytes(v), &mut c.rcvbuf),
        flag: "rcvbuf",
        arg: FlagArg::Required,
        metavar: "BYTES",
        file: false,
        help: "SO_RCVBUF: the receive buffer size.",
        example: "262144",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_SNDBUF",
        expected: BYTES,
        apply: |c, v| set(bytes(v), &mut c.sndbuf),
        flag: "sndbuf",
        arg: FlagArg::Required,
        metavar: "BYTES",
        file: false,
        help: "SO_SNDBUF: the send buffer size.",
        example: "262144",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_BIND_ADDR",
        expected: BIND_ADDR,
        apply: |c, v| match bind_addr(v) {
            Some((v4, v6)) => {
                (c.bind_v4, c.bind_v6) = (v4, v6);
                true
            }
            None => false,
        },
        flag: "bind-addr",
        arg: FlagArg::Required,
        metavar: "ADDR",
        file: false,
        help: "The address INET/INET6 sockets of that family are bound to, whatever \
               the program asks (e.g. confine a server to 127.0.0.1).",
        example: "127.0.0.1,::1",
        values: &[],
    },
    Variable {
        name: "LIBSOCK_PORT_MAP",
        expected: PORT_MAP,
        apply: |c, v| match port_map(v) {
            Some(map) => {
                c.port_map = map;
                true
            }
            None => false,
        },
        flag: "port-map",
        arg: FlagArg::Required,
        metavar: "MAP",
        file: false,
        help: "Bind-port rewrites.",
        example: "80:8080,443:8443",
        values: &[],
    },
    // Access rules: kept as written. A bad value is not "ignored" like an
    // option's but fails closed, so it is judged where the rules are built
    // (`crate::rules::Policy`: the library's access module, and sockrun).
    Variable {
        name: crate::rules::ALLOW_VAR,
        expected: crate::rules::GRAMMAR,
        apply: |c, v| {
            c.allow = Some(v.to_string());
            true
        },
        flag: "allow",
        arg: FlagArg::Required,
        metavar: "RULES",
        file: false,
        help: "Access rules: only peers these rules match are reached or heard from \
               (connect, sendto, sendmsg, sendmmsg refused with EPERM; a locked kernel \
               socket filter drops everything else on receive). Raw and packet sockets \
               are refused. A bad rule denies all INET/INET6 traffic (fail closed). \
               Under sockrun the rules also hold in the kernel, for static binaries, raw \
               system calls and glibc's resolver (its kernel-enforced mode, on with any rule).",
        example: "localhost:6379,10.0.0.0/8",
        values: crate::rules::KEYWORD_NAMES,
    },
    Variable {
        name: crate::rules::DENY_VAR,
        expected: crate::rules::GRAMMAR,
        apply: |c, v| {
            c.deny = Some(v.to_string());
            true
        },
        flag: "deny",
        arg: FlagArg::Required,
        metavar: "RULES",
        file: false,
        help: "Access rules: peers these rules match are never reached nor heard from; \
               deny wins over --allow. Same enforcement and fail-closed rule as --allow.",
        example: "169.254.169.254,private",
        values: crate::rules::KEYWORD_NAMES,
    },
];

/// Parses the configuration from `get` (the environment, or sockrun's
/// options). Unset and empty variables are off; a value that does not parse
/// leaves its setting off and becomes a [`Problem`].
pub fn parse(get: impl Fn(&str) -> Option<String>) -> (Config, Vec<Problem>) {
    let mut config = Config::default();
    let mut problems = Vec::new();
    for var in VARIABLES {
        if let Some(value) = get(var.name).filter(|v| !v.is_empty()) {
            if !(var.apply)(&mut config, &value) {
                problems.push(Problem {
                    var: var.name,
                    value,
                    expected: var.expected,
                });
            }
        }
    }
    (config, problems)
}

fn set<T>(parsed: Option<T>, slot: &mut Option<T>) -> bool {
    let ok = parsed.is_some();
    *slot = parsed;
    ok
}

fn set_bool(v: &str, slot: &mut bool) -> bool {
    match v {
        "1" => *slot = true,
        "0" => *slot = false,
        _ => return false,
    }
    true
}

/// `1`/`stderr` is stderr, `0` is off, anything else a file path.
fn output(v: &str) -> Option<Output> {
    match v {
        "1" | "stderr" => Some(Output::Stderr),
        "0" => None,
        path => Some(Output::File(path.to_string())),
    }
}

/// A decimal number, without sign or spaces.
fn number(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn in_range(v: &str, lo: u64, hi: u64) -> Option<i32> {
    number(v)
        .filter(|n| (lo..=hi).contains(n))
        .map(|n| n as i32)
}

/// `1` (on, system timings), `0` (off) or `IDLE[,INTVL[,CNT]]`.
fn keepalive(v: &str) -> Option<Option<Keepalive>> {
    match v {
        "1" => return Some(Some(Keepalive::default())),
        "0" => return Some(None),
        _ => {}
    }
    let mut parts = v.split(',');
    let idle = Some(in_range(parts.next()?, 1, 32767)?);
    let interval = match parts.next() {
        Some(p) => Some(in_range(p, 1, 32767)?),
        None => None,
    };
    let count = match parts.next() {
        Some(p) => Some(in_range(p, 1, 127)?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Some(Keepalive {
        idle,
        interval,
        count,
    }))
}

/// The RFC 1349 names, or a number 0-255 (decimal or 0x hex).
fn tos(v: &str) -> Option<u8> {
    match v {
        "low-delay" | "lowdelay" => Some(0x10),
        "throughput" => Some(0x08),
        "reliability" => Some(0x04),
        "low-cost" | "mincost" => Some(0x02),
        _ => match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(hex)
                if (1..=2).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                u8::from_str_radix(hex, 16).ok()
            }
            Some(_) => None,
            None => number(v).and_then(|n| u8::try_from(n).ok()),
        },
    }
}

fn bytes(v: &str) -> Option<i32> {
    in_range(v, 1, i32::MAX as u64)
}

/// At most one IPv4 and one IPv6 address, comma-separated.
fn bind_addr(v: &str) -> Option<(Option<Ipv4Addr>, Option<Ipv6Addr>)> {
    let (mut v4, mut v6) = (None, None);
    for part in v.split(',') {
        match part.trim().parse::<IpAddr>().ok()? {
            IpAddr::V4(a) if v4.is_none() => v4 = Some(a),
            IpAddr::V6(a) if v6.is_none() => v6 = Some(a),
            _ => return None,
        }
    }
    Some((v4, v6))
}

/// `FROM:TO` pairs, comma-separated; a port mapped twice is an error.
fn port_map(v: &str) -> Option<Vec<(u16, u16)>> {
    let mut map: Vec<(u16, u16)> = Vec::new();
    for pair in v.split(',') {
        let (from, to) = pair.trim().split_once(':')?;
        let from = u16::try_from(number(from)?).ok()?;
        let to = u16::try_from(number(to)?).ok()?;
        if map.iter().any(|(f, _)| *f == from) {
            return None;
        }
        map.push((from, to));
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse_env(pairs: &[(&str, &str)]) -> (Config, Vec<Problem>) {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(|k| env.get(k).cloned())
    }

    #[test]
    fn nothing_set_is_pass_through() {
        let (c, p) = parse_env(&[]);
        assert!(!c.is_active() && !c.has_policy() && p.is_empty());
        let (c, p) = parse_env(&[("LIBSOCK_TRACE", ""), ("LIBSOCK_NODELAY", "0")]);
        assert!(!c.is_active() && p.is_empty());
    }

    #[test]
    fn every_variable() {
        let (c, p) = parse_env(&[
            ("LIBSOCK_TRACE", "/tmp/t.%p"),
            ("LIBSOCK_TRACE_FORMAT", "json"),
            ("LIBSOCK_STATS", "1"),
            ("LIBSOCK_REUSEADDR", "1"),
            ("LIBSOCK_REUSEPORT", "1"),
            ("LIBSOCK_FREEBIND", "1"),
            ("LIBSOCK_NODELAY", "1"),
            ("LIBSOCK_KEEPALIVE", "30,5,3"),
            ("LIBSOCK_TOS", "low-delay"),
            ("LIBSOCK_RCVBUF", "65536"),
            ("LIBSOCK_SNDBUF", "131072"),
            ("LIBSOCK_BIND_ADDR", "127.0.0.1,::1"),
            ("LIBSOCK_PORT_MAP", "80:8080, 443:8443"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(c.trace.as_ref().unwrap().path_for(42).unwrap(), "/tmp/t.42");
        assert_eq!(c.format, Format::Json);
        assert_eq!(c.stats, Some(Output::Stderr));
        assert!(c.reuseaddr && c.reuseport && c.freebind && c.nodelay);
        assert_eq!(
            c.keepalive,
            Some(Keepalive {
                idle: Some(30),
                interval: Some(5),
                count: Some(3)
            })
        );
        assert_eq!(
            (c.tos, c.rcvbuf, c.sndbuf),
            (Some(0x10), Some(65536), Some(131072))
        );
        assert_eq!(c.bind_v4, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(c.bind_v6, Some(Ipv6Addr::LOCALHOST));
        assert_eq!(c.mapped_port(443), Some(8443));
        assert_eq!(c.mapped_port(22), None);
    }

    #[test]
    fn bad_values_are_problems_and_stay_off() {
        for (var, value) in [
            ("LIBSOCK_TRACE_FORMAT", "xml"),
            ("LIBSOCK_REUSEADDR", "yes"),
            ("LIBSOCK_NODELAY", "2"),
            ("LIBSOCK_KEEPALIVE", "0,5"),
            ("LIBSOCK_KEEPALIVE", "30,5,3,1"),
            ("LIBSOCK_KEEPALIVE", "30,5,128"),
            ("LIBSOCK_KEEPALIVE", "-1"),
            ("LIBSOCK_TOS", "256"),
            ("LIBSOCK_TOS", "fast"),
            ("LIBSOCK_TOS", "0x100"),
            ("LIBSOCK_TOS", "0x+f"),
            ("LIBSOCK_RCVBUF", "0"),
            ("LIBSOCK_RCVBUF", "64k"),
            ("LIBSOCK_SNDBUF", "2147483648"),
            ("LIBSOCK_BIND_ADDR", "localhost"),
            ("LIBSOCK_BIND_ADDR", "1.2.3.4,5.6.7.8"),
            ("LIBSOCK_PORT_MAP", "80"),
            ("LIBSOCK_PORT_MAP", "80:70000"),
            ("LIBSOCK_PORT_MAP", "80:1,80:2"),
            ("LIBSOCK_PORT_MAP", "80:8080,"),
        ] {
            let (c, p) = parse_env(&[(var, value)]);
            assert_eq!(p.len(), 1, "{var}={value}");
            assert_eq!((p[0].var, p[0].value.as_str()), (var, value));
            assert!(
                !c.has_policy() && c.format == Format::Text,
                "{var}={value} left on"
            );
            assert!(p[0].to_string().contains("expected"));
        }
    }

    #[test]
    fn closed_sets_and_examples_parse() {
        for name in TOS_NAMES {
            assert!(tos(name).is_some() && TOS.contains(name), "{name}");
        }
        for var in VARIABLES {
            // A value takes an example, and the example is a good value.
            assert_eq!(
                var.example.is_empty(),
                matches!(var.arg, FlagArg::Fixed(_)),
                "{var:?}"
            );
            if !var.example.is_empty() {
                let (_, problems) = parse(|n| (n == var.name).then(|| var.example.to_string()));
                assert!(problems.is_empty(), "{var:?}: {problems:?}");
                if var.name.starts_with("LIBSOCK_ALLOW") || var.name.starts_with("LIBSOCK_DENY") {
                    assert!(crate::rules::parse(var.example).is_ok(), "{var:?}");
                }
            }
            for word in var.values {
                let (_, problems) = parse(|n| (n == var.name).then(|| word.to_string()));
                assert!(problems.is_empty(), "{var:?}: {word}");
                assert!(var.expected.contains(word), "{var:?}: {word}");
            }
        }
    }

    #[test]
    fn tos_names_and_numbers() {
        for (v, want) in [
            ("throughput", 8),
            ("reliability", 4),
            ("low-cost", 2),
            ("0", 0),
            ("184", 184),
            ("0xb8", 184),
        ] {
            assert_eq!(tos(v), Some(want), "{v}");
        }
    }

    #[test]
    fn keepalive_forms() {
        assert_eq!(keepalive("1"), Some(Some(Keepalive::default())));
        assert_eq!(keepalive("0"), Some(None));
        assert_eq!(
            keepalive("60"),
            Some(Some(Keepalive {
                idle: Some(60),
                ..Default::default()
            }))
        );
    }
}
