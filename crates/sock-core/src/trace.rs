//! Trace lines: one line per call, decoded, in text or JSON, formatted into
//! the caller's fixed buffer ([`LineBuf`]) so formatting never allocates.
//! Writing the line is the library's job (its trace sink).
//!
//! A [`Record`] is the call's name and its decoded arguments (in: printed
//! inside the parentheses; out: after the result, e.g. an accepted peer).
//! Payload bytes are never printed, only lengths.

use std::fmt::{self, Write};

use libc::c_int;

use crate::Call;
use crate::addr::SockAddr;
pub use crate::line::LineBuf;
use crate::names;

/// A decoded argument or result.
pub enum Val {
    /// A plain number (a length, a count, a backlog).
    Int(i64),
    /// An address, or None if its memory could not be read.
    Addr(Option<SockAddr>),
    /// Two descriptors (socketpair).
    Fds([c_int; 2]),
    /// An address family.
    Family(c_int),
    /// A socket type with its flags.
    SockType(c_int),
    /// `MSG_*` flags.
    MsgFlags(c_int),
    /// `SOCK_NONBLOCK|SOCK_CLOEXEC` flags.
    SockFlags(c_int),
    /// An option level and name, with its int value where there is one.
    Opt {
        /// The level.
        level: c_int,
        /// The option.
        name: c_int,
        /// The value, when it is an int (never other option bytes).
        value: Option<i64>,
    },
    /// `SHUT_*`.
    How(c_int),
    /// The access rule that refused a call: its list and its text.
    Rule(&'static str, &'static str),
}

struct Field {
    key: &'static str,
    val: Val,
    out: bool,
}

/// The most fields a record has (sendto: fd, size, flags, addr).
const FIELDS: usize = 8;

/// One call, as traced. Built on the stack: tracing a call allocates
/// nothing but the bytes of a Unix path.
pub struct Record {
    call: Call,
    fields: [Option<Field>; FIELDS],
}

impl Record {
    /// A record for `call`.
    pub fn new(call: Call) -> Record {
        Record {
            call,
            fields: [const { None }; FIELDS],
        }
    }

    fn push(mut self, field: Field) -> Record {
        if let Some(slot) = self.fields.iter_mut().find(|f| f.is_none()) {
            *slot = Some(field);
        }
        self
    }

    /// An argument.
    pub fn arg(self, key: &'static str, val: Val) -> Record {
        self.push(Field {
            key,
            val,
            out: false,
        })
    }

    /// A value the call gave back (shown after the result).
    pub fn out(self, key: &'static str, val: Val) -> Record {
        self.push(Field {
            key,
            val,
            out: true,
        })
    }

    fn iter(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().flatten()
    }

    /// The call.
    pub fn call(&self) -> Call {
        self.call
    }

    /// The descriptor argument, as `fd`.
    pub fn fd(self, fd: c_int) -> Record {
        self.arg("fd", Val::Int(fd.into()))
    }
}

/// What happened: the result, errno if it failed, how long it took.
pub struct Outcome {
    /// The return value.
    pub ret: i64,
    /// errno, when the call failed.
    pub errno: Option<c_int>,
    /// Elapsed time in microseconds.
    pub micros: u64,
}

fn text_val(out: &mut LineBuf, val: &Val) -> fmt::Result {
    match val {
        Val::Int(v) => write!(out, "{v}"),
        Val::Addr(Some(a)) => write!(out, "{a}"),
        Val::Addr(None) => out.write_str("?"),
        Val::Fds([a, b]) => write!(out, "[{a}, {b}]"),
        Val::Family(v) => write!(out, "{}", names::family(*v)),
        Val::SockType(v) => write!(out, "{}", names::SockType(*v)),
        Val::MsgFlags(v) => write!(out, "{}", names::Flags(names::MSG_FLAGS, *v)),
        Val::SockFlags(v) => write!(out, "{}", names::Flags(names::SOCK_FLAGS, *v)),
        Val::Opt { level, name, value } => {
            write!(
                out,
                "{}/{}",
                names::level(*level),
                names::option(*level, *name)
            )?;
            match value {
                Some(v) => write!(out, "={v}"),
                None => Ok(()),
            }
        }
        Val::How(v) => write!(out, "{}", names::how(*v)),
        Val::Rule(list, rule) => write!(out, "{list}:{rule}"),
    }
}

/// Formats `record` as a text line: `[pid] bind(3, 0.0.0.0:8080) = -1 EADDRINUSE <12us>`.
pub fn text(out: &mut LineBuf, ids: (u32, u32), record: &Record, outcome: &Outcome) -> fmt::Result {
    let (pid, tid) = ids;
    if pid == tid {
        write!(out, "[{pid}] ")?;
    } else {
        write!(out, "[{pid}/{tid}] ")?;
    }
    write!(out, "{}(", record.call.name())?;
    let mut first = true;
    for f in record.iter().filter(|f| !f.out) {
        if !first {
            out.write_str(", ")?;
        }
        first = false;
        text_val(out, &f.val)?;
    }
    write!(out, ") = {}", outcome.ret)?;
    if let Some(e) = outcome.errno {
        write!(out, " {}", names::errno(e))?;
    }
    for f in record.iter().filter(|f| f.out) {
        write!(out, " {}=", f.key)?;
        text_val(out, &f.val)?;
    }
    write!(out, " <{}us>", outcome.micros)
}

/// A JSON string.
struct Json<'a>(&'a str);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// A value's text form as a JSON string (the text form is ASCII: names,
/// numbers, and addresses whose odd bytes are already escaped).
fn json_str(out: &mut LineBuf, val: &Val) -> fmt::Result {
    let mut tmp = LineBuf::new();
    text_val(&mut tmp, val)?;
    match std::str::from_utf8(tmp.as_bytes()) {
        Ok(text) => write!(out, "{}", Json(text)),
        Err(_) => out.write_str("null"),
    }
}

/// Formats `record` as one JSON object.
pub fn json(
    out: &mut LineBuf,
    ids: (u32, u32),
    ts: (i64, i64),
    record: &Record,
    outcome: &Outcome,
) -> fmt::Result {
    write!(
        out,
        "{{\"ts\":{}.{:06},\"pid\":{},\"tid\":{},\"call\":\"{}\"",
        ts.0,
        ts.1,
        ids.0,
        ids.1,
        record.call.name()
    )?;
    for f in record.iter() {
        match &f.val {
            Val::Int(v) => write!(out, ",\"{}\":{v}", f.key)?,
            Val::Addr(None) => write!(out, ",\"{}\":null", f.key)?,
            Val::Fds([a, b]) => write!(out, ",\"{}\":[{a},{b}]", f.key)?,
            Val::Opt { level, name, value } => {
                write!(
                    out,
                    ",\"level\":\"{}\",\"opt\":\"{}\"",
                    names::level(*level),
                    names::option(*level, *name)
                )?;
                if let Some(v) = value {
                    write!(out, ",\"value\":{v}")?;
                }
            }
            other => {
                write!(out, ",\"{}\":", f.key)?;
                json_str(out, other)?;
            }
        }
    }
    write!(out, ",\"ret\":{}", outcome.ret)?;
    if let Some(e) = outcome.errno {
        write!(out, ",\"errno\":\"{}\"", names::errno(e))?;
    }
    write!(out, ",\"us\":{}}}", outcome.micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn bind_record() -> Record {
        let a = SockAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080));
        Record::new(Call::bind)
            .fd(3)
            .arg("addr", Val::Addr(Some(a)))
            .arg("len", Val::Int(16))
    }

    #[test]
    fn text_line() {
        let mut line = LineBuf::new();
        let o = Outcome {
            ret: -1,
            errno: Some(libc::EADDRINUSE),
            micros: 12,
        };
        text(&mut line, (7, 7), &bind_record(), &o).unwrap();
        assert_eq!(
            line.as_bytes(),
            b"[7] bind(3, 0.0.0.0:8080, 16) = -1 EADDRINUSE <12us>"
        );
    }

    #[test]
    fn json_line_parses_as_written() {
        let mut line = LineBuf::new();
        let o = Outcome {
            ret: 5,
            errno: None,
            micros: 3,
        };
        let r = Record::new(Call::accept4)
            .fd(3)
            .arg("flags", Val::SockFlags(libc::SOCK_CLOEXEC))
            .out(
                "peer",
                Val::Addr(Some(SockAddr::Path(b"/tmp/\"q\"\n".to_vec()))),
            )
            .arg(
                "opt",
                Val::Opt {
                    level: libc::SOL_SOCKET,
                    name: libc::SO_REUSEADDR,
                    value: Some(1),
                },
            );
        json(&mut line, (7, 8), (100, 42), &r, &o).unwrap();
        let s = std::str::from_utf8(line.as_bytes()).unwrap();
        assert_eq!(
            s,
            "{\"ts\":100.000042,\"pid\":7,\"tid\":8,\"call\":\"accept4\",\"fd\":3,\"flags\":\"SOCK_CLOEXEC\",\
             \"peer\":\"/tmp/\\\"q\\\"\\\\x0a\",\"level\":\"SOL_SOCKET\",\"opt\":\"SO_REUSEADDR\",\"value\":1,\"ret\":5,\"us\":3}"
        );
    }
}
