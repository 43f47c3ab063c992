//! `config::parse` on arbitrary values of every `LIBSOCK_*` variable.
//!
//! Input: lines `NAME=VALUE`, NAME with or without the `LIBSOCK_` prefix
//! (later lines win); lines naming no variable are ignored. Values are UTF-8
//! (invalid bytes become U+FFFD), as the environment reader hands them over.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sock_core::config::{self, Config, Format, Keepalive, Output, Problem, VARIABLES};

/// The environment the input describes.
pub fn env_of(data: &[u8]) -> BTreeMap<&'static str, String> {
    let text = String::from_utf8_lossy(data);
    let mut env = BTreeMap::new();
    for line in text.split('\n') {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if let Some(var) = VARIABLES
            .iter()
            .find(|v| v.name == key || v.name.strip_prefix("LIBSOCK_") == Some(key))
        {
            env.insert(var.name, value.to_string());
        }
    }
    env
}

fn parse(env: &BTreeMap<&'static str, String>) -> (Config, Vec<Problem>) {
    config::parse(|k| env.get(k).cloned())
}

pub fn run(data: &[u8]) {
    let env = env_of(data);
    let (c, problems) = parse(&env);

    // Problems: only for variables that are set and non-empty, at most one
    // each, quoting the value as given.
    let mut seen = Vec::new();
    for p in &problems {
        assert!(!seen.contains(&p.var), "two problems for {}", p.var);
        seen.push(p.var);
        let given = env
            .get(p.var)
            .unwrap_or_else(|| panic!("problem for unset {}", p.var));
        assert!(!given.is_empty(), "problem for empty {}", p.var);
        assert_eq!(&p.value, given);
        assert!(!p.expected.is_empty());
        let line = p.to_string();
        assert!(
            line.starts_with(p.var) && line.contains("expected"),
            "{line}"
        );
        assert!(!line.contains('\n'), "a problem is one line: {line:?}");
    }

    // Each variable is parsed on its own: the whole is the sum of the parts,
    // a bad or unset variable leaves its setting off, and so does an empty one.
    let mut merged = Config::default();
    for var in VARIABLES.iter().map(|v| v.name) {
        let alone: BTreeMap<_, _> = env.get(var).map(|v| (var, v.clone())).into_iter().collect();
        let (one, p) = parse(&alone);
        let bad = problems.iter().any(|p| p.var == var);
        assert_eq!(
            p.len(),
            usize::from(bad),
            "{var}: problems depend on other variables"
        );
        if bad || env.get(var).is_none_or(|v| v.is_empty()) {
            assert_eq!(
                one,
                Config::default(),
                "{var}={:?} not left off",
                env.get(var)
            );
        }
        merge(&mut merged, &one, var);
    }
    assert_eq!(merged, c, "the whole differs from its parts");

    // What was accepted is in range and means what the value says.
    invariants(&c, &env);

    // The canonical form of what was accepted parses back to the same thing.
    let canon = canonical(&c);
    let (again, p) = parse(&canon);
    assert!(p.is_empty(), "canonical form refused: {canon:?} -> {p:?}");
    assert_eq!(again, c, "canonical form {canon:?}");

    assert_eq!(c.is_active(), c != Config::default());
    assert_eq!(
        c.has_policy(),
        // Socket policy: neither tracing nor stats, nor the access rules
        // (applied by their own module, see src/access.rs).
        Config {
            trace: None,
            format: Format::Text,
            stats: None,
            allow: None,
            deny: None,
            ..c.clone()
        } != Config::default()
    );
}

fn merge(into: &mut Config, one: &Config, var: &str) {
    match var {
        "LIBSOCK_TRACE" => into.trace = one.trace.clone(),
        "LIBSOCK_TRACE_FORMAT" => into.format = one.format,
        "LIBSOCK_STATS" => into.stats = one.stats.clone(),
        "LIBSOCK_REUSEADDR" => into.reuseaddr = one.reuseaddr,
        "LIBSOCK_REUSEPORT" => into.reuseport = one.reuseport,
        "LIBSOCK_FREEBIND" => into.freebind = one.freebind,
        "LIBSOCK_NODELAY" => into.nodelay = one.nodelay,
        "LIBSOCK_KEEPALIVE" => into.keepalive = one.keepalive,
        "LIBSOCK_TOS" => into.tos = one.tos,
        "LIBSOCK_RCVBUF" => into.rcvbuf = one.rcvbuf,
        "LIBSOCK_SNDBUF" => into.sndbuf = one.sndbuf,
        "LIBSOCK_BIND_ADDR" => (into.bind_v4, into.bind_v6) = (one.bind_v4, one.bind_v6),
        "LIBSOCK_PORT_MAP" => into.port_map = one.port_map.clone(),
        "LIBSOCK_ALLOW" => into.allow = one.allow.clone(),
        "LIBSOCK_DENY" => into.deny = one.deny.clone(),
        other => panic!("VARIABLES has {other}, which this target does not know"),
    }
    // Nothing else moved.
    let mut rest = one.clone();
    let mut blank = Config::default();
    merge_none(&mut rest, var);
    merge_none(&mut blank, var);
    assert_eq!(rest, blank, "{var} set another variable's setting");
}

/// Resets the setting of `var` to its default.
fn merge_none(c: &mut Config, var: &str) {
    let d = Config::default();
    match var {
        "LIBSOCK_TRACE" => c.trace = d.trace,
        "LIBSOCK_TRACE_FORMAT" => c.format = d.format,
        "LIBSOCK_STATS" => c.stats = d.stats,
        "LIBSOCK_REUSEADDR" => c.reuseaddr = d.reuseaddr,
        "LIBSOCK_REUSEPORT" => c.reuseport = d.reuseport,
        "LIBSOCK_FREEBIND" => c.freebind = d.freebind,
        "LIBSOCK_NODELAY" => c.nodelay = d.nodelay,
        "LIBSOCK_KEEPALIVE" => c.keepalive = d.keepalive,
        "LIBSOCK_TOS" => c.tos = d.tos,
        "LIBSOCK_RCVBUF" => c.rcvbuf = d.rcvbuf,
        "LIBSOCK_SNDBUF" => c.sndbuf = d.sndbuf,
        "LIBSOCK_BIND_ADDR" => (c.bind_v4, c.bind_v6) = (d.bind_v4, d.bind_v6),
        "LIBSOCK_PORT_MAP" => c.port_map = d.port_map,
        "LIBSOCK_ALLOW" => c.allow = d.allow,
        "LIBSOCK_DENY" => c.deny = d.deny,
        _ => {}
    }
}

/// A decimal number as the grammar allows it: digits only.
fn digits(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn invariants(c: &Config, env: &BTreeMap<&'static str, String>) {
    let get = |var: &str| env.get(var).map(String::as_str).unwrap_or("");
    for (out, var) in [(&c.trace, "LIBSOCK_TRACE"), (&c.stats, "LIBSOCK_STATS")] {
        let v = get(var);
        match out {
            None => assert!(v.is_empty() || v == "0", "{var}={v:?} off"),
            Some(Output::Stderr) => assert!(v == "1" || v == "stderr"),
            Some(Output::File(path)) => {
                assert_eq!(path, v);
                assert_eq!(
                    out.as_ref().unwrap().path_for(42).unwrap(),
                    path.replace("%p", "42")
                );
            }
        }
        assert_eq!(
            out.as_ref().and_then(|o| o.path_for(1)).is_none(),
            !matches!(out, Some(Output::File(_)))
        );
    }
    assert_eq!(
        c.format == Format::Json,
        get("LIBSOCK_TRACE_FORMAT") == "json"
    );
    for (on, var) in [
        (c.reuseaddr, "LIBSOCK_REUSEADDR"),
        (c.reuseport, "LIBSOCK_REUSEPORT"),
        (c.freebind, "LIBSOCK_FREEBIND"),
        (c.nodelay, "LIBSOCK_NODELAY"),
    ] {
        assert_eq!(on, get(var) == "1", "{var}");
    }
    if let Some(k) = c.keepalive {
        let v = get("LIBSOCK_KEEPALIVE");
        if v == "1" {
            assert_eq!(k, Keepalive::default());
        } else {
            let parts: Vec<_> = v.split(',').collect();
            assert!((1..=3).contains(&parts.len()), "{v:?}");
            let fields = [k.idle, k.interval, k.count];
            let limits = [32767, 32767, 127];
            for (i, f) in fields.iter().enumerate() {
                match (f, parts.get(i)) {
                    (Some(n), Some(p)) => {
                        assert!((1..=limits[i]).contains(n), "{v:?}");
                        assert_eq!(digits(p), Some(*n as u64), "{v:?}");
                    }
                    (None, None) => {}
                    _ => panic!("keepalive {v:?} -> {k:?}"),
                }
            }
        }
    }
    if let Some(t) = c.tos {
        let v = get("LIBSOCK_TOS");
        let named = [
            ("low-delay", 0x10),
            ("lowdelay", 0x10),
            ("throughput", 0x08),
            ("reliability", 0x04),
            ("low-cost", 0x02),
            ("mincost", 0x02),
        ];
        let want = match named.iter().find(|(n, _)| *n == v) {
            Some(&(_, t)) => t,
            None => match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                Some(h) => {
                    assert!(
                        (1..=2).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()),
                        "LIBSOCK_TOS={v:?} accepted as {t}: a hex TOS is 0x and 1-2 hex digits"
                    );
                    u8::from_str_radix(h, 16).unwrap()
                }
                None => u8::try_from(digits(v).unwrap_or_else(|| panic!("TOS {v:?}"))).unwrap(),
            },
        };
        assert_eq!(t, want, "TOS {v:?}");
    }
    for (n, var) in [(c.rcvbuf, "LIBSOCK_RCVBUF"), (c.sndbuf, "LIBSOCK_SNDBUF")] {
        if let Some(n) = n {
            assert!(n >= 1, "{var}");
            assert_eq!(digits(get(var)), Some(n as u64), "{var}");
        }
    }
    if c.bind_v4.is_some() || c.bind_v6.is_some() {
        let v = get("LIBSOCK_BIND_ADDR");
        let addrs: Vec<IpAddr> = v.split(',').map(|p| p.trim().parse().unwrap()).collect();
        assert!(addrs.len() <= 2, "{v:?}");
        let v4: Vec<Ipv4Addr> = addrs
            .iter()
            .filter_map(|a| match a {
                IpAddr::V4(a) => Some(*a),
                _ => None,
            })
            .collect();
        let v6: Vec<Ipv6Addr> = addrs
            .iter()
            .filter_map(|a| match a {
                IpAddr::V6(a) => Some(*a),
                _ => None,
            })
            .collect();
        assert_eq!(c.bind_v4, v4.first().copied());
        assert_eq!(c.bind_v6, v6.first().copied());
        assert!(v4.len() <= 1 && v6.len() <= 1);
    }
    if !c.port_map.is_empty() {
        let v = get("LIBSOCK_PORT_MAP");
        let pairs: Vec<_> = v.split(',').collect();
        assert_eq!(pairs.len(), c.port_map.len(), "{v:?}");
        for (i, &(from, to)) in c.port_map.iter().enumerate() {
            let (f, t) = pairs[i].trim().split_once(':').unwrap();
            assert_eq!(
                (digits(f), digits(t)),
                (Some(from.into()), Some(to.into())),
                "{v:?}"
            );
            assert!(
                c.port_map[..i].iter().all(|(f, _)| *f != from),
                "{from} mapped twice"
            );
            assert_eq!(c.mapped_port(from), Some(to));
        }
    }
    if c.port_map.is_empty() {
        assert_eq!(c.mapped_port(80), None);
    }
}

/// The canonical environment for `c`.
fn canonical(c: &Config) -> BTreeMap<&'static str, String> {
    let mut env = BTreeMap::new();
    let out = |o: &Option<Output>| match o {
        None => "0".to_string(),
        Some(Output::Stderr) => "stderr".to_string(),
        Some(Output::File(p)) => p.clone(),
    };
    env.insert("LIBSOCK_TRACE", out(&c.trace));
    env.insert("LIBSOCK_STATS", out(&c.stats));
    env.insert(
        "LIBSOCK_TRACE_FORMAT",
        if c.format == Format::Json {
            "json"
        } else {
            "text"
        }
        .to_string(),
    );
    for (on, var) in [
        (c.reuseaddr, "LIBSOCK_REUSEADDR"),
        (c.reuseport, "LIBSOCK_REUSEPORT"),
        (c.freebind, "LIBSOCK_FREEBIND"),
        (c.nodelay, "LIBSOCK_NODELAY"),
    ] {
        env.insert(var, if on { "1" } else { "0" }.to_string());
    }
    env.insert(
        "LIBSOCK_KEEPALIVE",
        match c.keepalive {
            None => "0".to_string(),
            Some(k) if k == Keepalive::default() => "1".to_string(),
            // "1" alone means "on, system timings"; an IDLE of 1 needs a zero.
            Some(Keepalive {
                idle: Some(1),
                interval: None,
                ..
            }) => "01".to_string(),
            Some(k) => [k.idle, k.interval, k.count]
                .iter()
                .map_while(|f| f.map(|n| n.to_string()))
                .collect::<Vec<_>>()
                .join(","),
        },
    );
    if let Some(t) = c.tos {
        env.insert("LIBSOCK_TOS", format!("{t:#x}"));
    }
    if let Some(n) = c.rcvbuf {
        env.insert("LIBSOCK_RCVBUF", n.to_string());
    }
    if let Some(n) = c.sndbuf {
        env.insert("LIBSOCK_SNDBUF", n.to_string());
    }
    let addrs: Vec<String> = c
        .bind_v6
        .map(|a| a.to_string())
        .into_iter()
        .chain(c.bind_v4.map(|a| a.to_string()))
        .collect();
    env.insert("LIBSOCK_BIND_ADDR", addrs.join(" , "));
    env.insert(
        "LIBSOCK_PORT_MAP",
        c.port_map
            .iter()
            .map(|(f, t)| format!("{f}:{t}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    // Access rules are kept as written (judged where they are built).
    for (rules, var) in [(&c.allow, "LIBSOCK_ALLOW"), (&c.deny, "LIBSOCK_DENY")] {
        if let Some(v) = rules {
            env.insert(var, v.clone());
        }
    }
    env
}
