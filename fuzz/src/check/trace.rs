//! Trace records with arbitrary values, formatted as text and as JSON, and
//! the names the tracer prints (options, flags, families, errno).
//!
//! Two kinds of record: the shapes libsock's calls really build (bsd.rs),
//! with arbitrary values — these must always fit one line; and free-form
//! ones (any fields, any number) — these must never panic, and whatever fits
//! the line must still be valid JSON.

use std::fmt::Write;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use serde_json::Value;

use sock_core::Call;
use sock_core::addr::{MAX_LEN, SockAddr};
use sock_core::line::LineBuf;
use sock_core::names;
use sock_core::trace::{self, Outcome, Record, Val};

/// How many bytes a `LineBuf` holds (measured).
fn line_max() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        let mut line = LineBuf::new();
        let _ = line.write_str(&"x".repeat(1 << 16));
        line.as_bytes().len()
    })
}

const KEYS: &[&str] = &[
    "fd", "domain", "type", "protocol", "fds", "addr", "asked", "backlog", "flags", "peer", "size",
    "vlen", "from", "opt", "len", "how", "newfd", "first", "last",
];

const LEVELS: &[libc::c_int] = &[
    libc::SOL_SOCKET,
    libc::IPPROTO_IP,
    libc::IPPROTO_TCP,
    libc::IPPROTO_UDP,
    libc::IPPROTO_IPV6,
];

pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = one(&mut u);
}

fn one(u: &mut Unstructured) -> Result<()> {
    names_read_back(u.arbitrary()?, u.arbitrary()?, u.arbitrary()?);
    // Values as the kernel and settings.rs make them: ids up to the pid
    // limit (2^22), seconds and microseconds from clock_gettime, errno only
    // on failure (ret < 0; the calls return -1).
    let pid = u.int_in_range(1..=4_194_304)?;
    let ids: (u32, u32) = if u.arbitrary()? {
        (pid, pid)
    } else {
        (pid, u.int_in_range(1..=4_194_304)?)
    };
    let ts = (
        u.int_in_range(0..=1i64 << 33)?,
        u.int_in_range(0..=999_999)?,
    );
    let failed: bool = u.arbitrary()?;
    let outcome = Outcome {
        ret: if failed {
            -1
        } else {
            u.int_in_range(0..=i64::MAX)?
        },
        errno: if failed { Some(errno(u)?) } else { None },
        micros: u.arbitrary()?,
    };
    let shaped = u.arbitrary::<bool>()?;
    let (call, record, fields) = if shaped {
        real_shape(u)?
    } else {
        free_form(u)?
    };
    check(call, &record, &fields, ids, ts, &outcome, shaped);
    Ok(())
}

/// `SOCK_FUZZ_SHOW=1`: print each line formatted (to see what an input is).
fn show() -> bool {
    static SHOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("SOCK_FUZZ_SHOW").is_some())
}

/// A field as built, kept to check the output against.
pub enum Kept {
    Int(&'static str, i64),
    Addr(&'static str, Option<SockAddr>),
    Other,
}

fn errno(u: &mut Unstructured) -> Result<libc::c_int> {
    Ok(if u.arbitrary()? {
        u.int_in_range(1..=140)?
    } else {
        u.arbitrary()?
    })
}

fn addr(u: &mut Unstructured) -> Result<Option<SockAddr>> {
    if u.ratio(1, 8)? {
        return Ok(None);
    }
    let len = u.int_in_range(0..=MAX_LEN)?;
    let fam: u8 = u.int_in_range(0..=3)?;
    let mut bytes = u.bytes(len.min(u.len()))?.to_vec();
    // Mostly families that decode to something, so paths get long.
    if bytes.len() >= 2 && fam > 0 {
        let f = [libc::AF_UNIX, libc::AF_INET, libc::AF_INET6][fam as usize - 1] as u16;
        bytes[..2].copy_from_slice(&f.to_ne_bytes());
    }
    Ok(Some(SockAddr::decode(&bytes)))
}

fn inet(u: &mut Unstructured) -> Result<SockAddr> {
    let mut b = [0u8; 28];
    u.fill_buffer(&mut b)?;
    let f = if u.arbitrary()? {
        libc::AF_INET
    } else {
        libc::AF_INET6
    } as u16;
    b[..2].copy_from_slice(&f.to_ne_bytes());
    Ok(SockAddr::decode(&b))
}

fn opt(u: &mut Unstructured) -> Result<Val> {
    let level = if u.ratio(7, 8)? {
        *u.choose(LEVELS)?
    } else {
        u.arbitrary()?
    };
    let name = if u.ratio(7, 8)? {
        u.int_in_range(0..=80)?
    } else {
        u.arbitrary()?
    };
    let value = if u.arbitrary()? {
        Some(i64::from(u.arbitrary::<i32>()?))
    } else {
        None
    };
    Ok(Val::Opt { level, name, value })
}

fn int(key: &'static str, v: i64, rec: Record, kept: &mut Vec<Kept>) -> Record {
    kept.push(Kept::Int(key, v));
    rec.arg(key, Val::Int(v))
}

fn with_addr(
    rec: Record,
    key: &'static str,
    a: Option<SockAddr>,
    out: bool,
    kept: &mut Vec<Kept>,
) -> Record {
    kept.push(Kept::Addr(key, a.clone()));
    if out {
        rec.out(key, Val::Addr(a))
    } else {
        rec.arg(key, Val::Addr(a))
    }
}

/// The calls libsock traces under their own names.
fn traced() -> Vec<Call> {
    Call::counted().collect()
}

/// A record as one of libsock's calls builds it.
fn real_shape(u: &mut Unstructured) -> Result<(&'static str, Record, Vec<Kept>)> {
    let call = *u.choose(&traced())?;
    let mut k = Vec::new();
    let mut r = Record::new(call);
    let call = call.name();
    let fd = i64::from(u.arbitrary::<i32>()?);
    match call {
        "socket" | "socketpair" => {
            r = r
                .arg("domain", Val::Family(u.arbitrary()?))
                .arg("type", Val::SockType(u.arbitrary()?));
            r = int("protocol", u.arbitrary::<i32>()?.into(), r, &mut k);
            if call == "socketpair" && u.arbitrary()? {
                r = r.out("fds", Val::Fds(u.arbitrary()?));
            }
        }
        _ if call == "close_range" => {
            r = int("first", u.arbitrary::<u32>()?.into(), r, &mut k);
            r = int("last", u.arbitrary::<u32>()?.into(), r, &mut k);
            r = int("flags", u.arbitrary::<i32>()?.into(), r, &mut k);
        }
        _ => {
            k.push(Kept::Int("fd", fd));
            r = r.fd(fd as i32);
            match call {
                "bind" => {
                    if u.arbitrary()? {
                        let rewritten = Some(inet(u)?);
                        r = with_addr(r, "addr", rewritten, false, &mut k);
                        r = with_addr(r, "asked", addr(u)?, true, &mut k);
                    } else {
                        r = with_addr(r, "addr", addr(u)?, false, &mut k);
                    }
                }
                "listen" => r = int("backlog", u.arbitrary::<i32>()?.into(), r, &mut k),
                "accept" | "accept4" => {
                    if call == "accept4" {
                        r = r.arg("flags", Val::SockFlags(u.arbitrary()?));
                    }
                    if u.arbitrary()? {
                        r = with_addr(r, "peer", addr(u)?, true, &mut k);
                    }
                }
                "connect" => r = with_addr(r, "addr", addr(u)?, false, &mut k),
                "send" | "sendto" | "recv" | "recvfrom" => {
                    r = int("size", u.arbitrary::<u64>()? as i64, r, &mut k);
                    r = r.arg("flags", Val::MsgFlags(u.arbitrary()?));
                    if u.arbitrary()? {
                        match call {
                            "sendto" => r = with_addr(r, "addr", addr(u)?, false, &mut k),
                            "recvfrom" => r = with_addr(r, "from", addr(u)?, true, &mut k),
                            _ => {}
                        }
                    }
                }
                "sendmsg" | "recvmsg" => {
                    r = r.arg("flags", Val::MsgFlags(u.arbitrary()?));
                    if u.arbitrary()? {
                        let a = Some(addr(u)?.unwrap_or(SockAddr::Unnamed));
                        r = if call == "sendmsg" {
                            with_addr(r, "addr", a, false, &mut k)
                        } else {
                            with_addr(r, "from", a, true, &mut k)
                        };
                    }
                }
                "sendmmsg" | "recvmmsg" => {
                    r = int("vlen", u.arbitrary::<u32>()?.into(), r, &mut k);
                    r = r.arg("flags", Val::MsgFlags(u.arbitrary()?));
                }
                "setsockopt" => {
                    r = r.arg("opt", opt(u)?);
                    r = int("len", u.arbitrary::<u32>()?.into(), r, &mut k);
                }
                "getsockopt" => r = r.arg("opt", opt(u)?),
                "getsockname" | "getpeername" => {
                    if u.arbitrary()? {
                        r = with_addr(r, "addr", addr(u)?, true, &mut k);
                    }
                }
                "shutdown" => r = r.arg("how", Val::How(u.arbitrary()?)),
                "close" => {}
                "dup2" | "dup3" => {
                    r = int("newfd", u.arbitrary::<i32>()?.into(), r, &mut k);
                    if call == "dup3" {
                        r = r.arg("flags", Val::SockFlags(u.arbitrary()?));
                    }
                }
                other => unreachable!("{other}"),
            }
        }
    }
    Ok((call, r, k))
}

/// Any fields, any values, any number of them.
fn free_form(u: &mut Unstructured) -> Result<(&'static str, Record, Vec<Kept>)> {
    let call = *u.choose(&traced())?;
    let mut r = Record::new(call);
    let call = call.name();
    let n = u.int_in_range(0..=12)?;
    for _ in 0..n {
        let key = *u.choose(KEYS)?;
        let val = match u.int_in_range(0..=8)? {
            0 => Val::Int(u.arbitrary()?),
            1 => Val::Addr(addr(u)?),
            2 => Val::Fds(u.arbitrary()?),
            3 => Val::Family(u.arbitrary()?),
            4 => Val::SockType(u.arbitrary()?),
            5 => Val::MsgFlags(u.arbitrary()?),
            6 => Val::SockFlags(u.arbitrary()?),
            7 => opt(u)?,
            _ => Val::How(u.arbitrary()?),
        };
        r = if u.arbitrary()? {
            r.out(key, val)
        } else {
            r.arg(key, val)
        };
    }
    Ok((call, r, Vec::new()))
}

fn check(
    call: &str,
    record: &Record,
    kept: &[Kept],
    ids: (u32, u32),
    ts: (i64, i64),
    outcome: &Outcome,
    shaped: bool,
) {
    // Text.
    let mut line = LineBuf::new();
    trace::text(&mut line, ids, record, outcome).expect("text() failed");
    let bytes = line.as_bytes();
    if show() {
        eprintln!("text: {}", String::from_utf8_lossy(bytes).escape_debug());
    }
    assert!(bytes.len() <= line_max());
    let fits = bytes.len() < line_max();
    if shaped {
        assert!(
            fits,
            "a real call's text line was cut: {}",
            String::from_utf8_lossy(bytes)
        );
    }
    if fits {
        let text = std::str::from_utf8(bytes).expect("text line is not UTF-8");
        let head = if ids.0 == ids.1 {
            format!("[{}] {call}(", ids.0)
        } else {
            format!("[{}/{}] {call}(", ids.0, ids.1)
        };
        assert!(text.starts_with(&head), "{text:?}");
        let tail = format!(" <{}us>", outcome.micros);
        assert!(text.ends_with(&tail), "{text:?}");
        assert!(text.contains(&format!(") = {}", outcome.ret)), "{text:?}");
        if let Some(bad) = text.bytes().find(|&b| b < 0x20 || b == 0x7f) {
            panic!("control byte {bad:#04x} in a text trace line (one line per call): {text:?}");
        }
    }
    let mut again = LineBuf::new();
    let _ = trace::text(&mut again, ids, record, outcome);
    let n = again.as_bytes().len();
    let finished = again.finish_line();
    assert!(finished.len() <= line_max() && finished.ends_with(b"\n"));
    assert!(finished.len() == n + 1 || n == line_max());

    // JSON.
    let mut line = LineBuf::new();
    trace::json(&mut line, ids, ts, record, outcome).expect("json() failed");
    let bytes = line.as_bytes();
    if show() {
        eprintln!("json: {}", String::from_utf8_lossy(bytes));
    }
    assert!(bytes.len() <= line_max());
    let fits = bytes.len() < line_max();
    if shaped {
        assert!(
            fits,
            "a real call's JSON line was cut: {}",
            String::from_utf8_lossy(bytes)
        );
    }
    if !fits {
        return;
    }
    assert!(!bytes.contains(&b'\n'), "newline in a JSON line");
    let v: Value = serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(bytes)));
    let o = v.as_object().expect("a JSON trace line is an object");
    assert_eq!(o["call"], call);
    assert_eq!(o["pid"], ids.0);
    assert_eq!(o["tid"], ids.1);
    assert_eq!(o["ret"], outcome.ret);
    assert_eq!(o["us"], outcome.micros);
    assert!(o["ts"].is_number());
    let ts_text = format!("{}.{:06}", ts.0, ts.1);
    assert!(
        std::str::from_utf8(bytes)
            .unwrap()
            .starts_with(&format!("{{\"ts\":{ts_text},"))
    );
    match outcome.errno {
        Some(e) => assert_eq!(o["errno"], names::errno(e).to_string()),
        None => assert!(!o.contains_key("errno")),
    }
    for k in kept {
        match k {
            Kept::Int(key, n) => assert_eq!(o[*key], *n, "{key}"),
            Kept::Addr(key, None) => assert!(o[*key].is_null(), "{key}"),
            Kept::Addr(key, Some(a)) => {
                assert_eq!(
                    o[*key],
                    a.to_string(),
                    "{key}: the address as text, exactly"
                )
            }
            Kept::Other => {}
        }
    }
}

/// The names read back to the numbers they stand for.
fn names_read_back(a: i32, b: i32, c: i32) {
    for v in [a, b, c] {
        read_flags(names::MSG_FLAGS, v);
        read_flags(names::SOCK_FLAGS, v);
        read_socktype(v);
        for named in [
            names::family(v).to_string(),
            names::level(v).to_string(),
            names::how(v).to_string(),
            names::errno(v).to_string(),
        ] {
            read_named(&named, v.into());
        }
    }
    for level in LEVELS.iter().copied().chain([a, b]) {
        read_named(&names::option(level, c).to_string(), c.into());
        read_named(
            &names::option(level, c & 0xff).to_string(),
            (c & 0xff).into(),
        );
    }
    read_named(&names::option(a, b).to_string(), b.into());
}

fn read_named(text: &str, v: i64) {
    if text.parse::<i64>().ok() == Some(v) {
        return;
    }
    assert!(
        !text.is_empty()
            && text.starts_with(|c: char| c.is_ascii_uppercase())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
        "{v} named {text:?}"
    );
}

/// `Flags` text: names from the table in order, then leftover bits in hex.
fn read_flags(table: &'static [(libc::c_int, &'static str)], v: i32) -> i32 {
    let text = names::Flags(table, v).to_string();
    if v == 0 {
        assert_eq!(text, "0");
        return 0;
    }
    let mut got = 0i32;
    let parts: Vec<&str> = text.split('|').collect();
    for (i, part) in parts.iter().enumerate() {
        if let Some(hex) = part.strip_prefix("0x") {
            assert_eq!(i, parts.len() - 1, "hex before names: {text}");
            let bits =
                u32::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{text}: {e}")) as i32;
            assert!(
                table.iter().all(|&(b, _)| b & bits != b),
                "{text}: a named bit left in hex"
            );
            assert_eq!(got & bits, 0, "{text}");
            got |= bits;
        } else {
            let &(bit, _) = table
                .iter()
                .find(|(_, n)| n == part)
                .unwrap_or_else(|| panic!("{text}: {part} is no flag"));
            assert_eq!(got & bit, 0, "{text}: {part} twice");
            got |= bit;
        }
    }
    assert_eq!(got, v, "{text}");
    v
}

fn read_socktype(v: i32) {
    let text = names::SockType(v).to_string();
    let fl = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let (base, flags) = match text.split_once('|') {
        Some((b, f)) => (b, f),
        None => (text.as_str(), ""),
    };
    let base_v = match base {
        "SOCK_STREAM" => libc::SOCK_STREAM,
        "SOCK_DGRAM" => libc::SOCK_DGRAM,
        "SOCK_RAW" => libc::SOCK_RAW,
        "SOCK_SEQPACKET" => libc::SOCK_SEQPACKET,
        "SOCK_RDM" => libc::SOCK_RDM,
        n => n.parse().unwrap_or_else(|e| panic!("{text}: {e}")),
    };
    assert_eq!(base_v, v & !fl, "{text}");
    let mut flags_v = 0;
    for f in flags.split('|').filter(|f| !f.is_empty()) {
        flags_v |= match f {
            "SOCK_NONBLOCK" => libc::SOCK_NONBLOCK,
            "SOCK_CLOEXEC" => libc::SOCK_CLOEXEC,
            other => panic!("{text}: {other}"),
        };
    }
    assert_eq!(flags_v, v & fl, "{text}");
}
