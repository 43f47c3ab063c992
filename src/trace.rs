//! Tracing: one line per call, decoded, in text or JSON, written with one
//! `write(2)` so threads and processes never interleave mid-line.
//!
//! A [`Record`] is the call's name and its decoded arguments (in: printed
//! inside the parentheses; out: after the result, e.g. an accepted peer).
//! Payload bytes are never printed, only lengths.

use std::fmt::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use libc::c_int;

use crate::addr::SockAddr;
use crate::config::{Format, Output};
use crate::diag::LineBuf;
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
    call: &'static str,
    fields: [Option<Field>; FIELDS],
}

impl Record {
    /// A record for `call`.
    pub fn new(call: &'static str) -> Record {
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
    write!(out, "{}(", record.call)?;
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
        ts.0, ts.1, ids.0, ids.1, record.call
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

/// Where trace lines go: stderr, or a file opened on first use by each
/// process (its `%p` is that process's pid).
pub struct Sink {
    out: Output,
    format: Format,
    fd: AtomicI32,
    pid: AtomicI32,
    failed: AtomicBool,
    /// The file is a regular file, which cannot raise SIGPIPE: a plain
    /// `write` will do.
    regular: AtomicBool,
}

impl Sink {
    /// A sink writing `format` lines to `out`.
    pub fn new(out: Output, format: Format) -> Sink {
        Sink {
            out,
            format,
            fd: AtomicI32::new(-1),
            pid: AtomicI32::new(0),
            failed: AtomicBool::new(false),
            regular: AtomicBool::new(false),
        }
    }

    /// Formats and writes one line.
    pub fn emit(&self, record: &Record, outcome: &Outcome) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        // SAFETY: plain system calls without pointers.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        let ids = (pid as u32, tid as u32);
        let mut line = LineBuf::new();
        let written = match self.format {
            Format::Text => text(&mut line, ids, record, outcome),
            Format::Json => json(&mut line, ids, now(), record, outcome),
        };
        if written.is_err() {
            return;
        }
        let bytes = line.finish_line();
        let Some(fd) = self.fd_for(pid) else { return };
        let written = if fd != libc::STDERR_FILENO && self.regular.load(Ordering::Relaxed) {
            crate::diag::write_plain(fd, bytes)
        } else {
            crate::diag::write_quietly(fd, bytes)
        };
        if let Err(e) = written
            && !self.failed.swap(true, Ordering::Relaxed)
        {
            crate::diag::warn(format_args!(
                "cannot write the trace ({}): {}; tracing stops",
                self.describe(pid),
                crate::diag::Strerror(e)
            ));
        }
    }

    fn describe(&self, pid: i32) -> String {
        self.out
            .path_for(pid as u32)
            .unwrap_or_else(|| "stderr".into())
    }

    /// The descriptor to write to in process `pid`, opening it if needed.
    fn fd_for(&self, pid: i32) -> Option<c_int> {
        if self.out == Output::Stderr {
            return Some(libc::STDERR_FILENO);
        }
        let fd = self.fd.load(Ordering::Acquire);
        if fd >= 0 && self.pid.load(Ordering::Acquire) == pid {
            return Some(fd);
        }
        let path = self.out.path_for(pid as u32)?;
        let Ok(cpath) = std::ffi::CString::new(path) else {
            self.give_up(pid, libc::EINVAL);
            return None;
        };
        // SAFETY: a NUL-terminated path.
        let opened = unsafe {
            libc::open(
                cpath.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
                0o644,
            )
        };
        if opened < 0 {
            self.give_up(pid, crate::errno::get());
            return None;
        }
        let fresh = move_high(opened);
        self.regular.store(is_regular(fresh), Ordering::Relaxed);
        // Install it unless another thread of this process was quicker. A
        // forked child's inherited descriptor is replaced, not closed: it
        // is the parent's file too.
        match self
            .fd
            .compare_exchange(fd, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.pid.store(pid, Ordering::Release);
                Some(fresh)
            }
            Err(theirs) => {
                // SAFETY: our own descriptor, never shared.
                unsafe { crate::real::close(fresh) };
                (theirs >= 0).then_some(theirs)
            }
        }
    }

    /// The program closed, or `dup2`ed over, descriptor `fd`: if it was the
    /// trace file's, the next line reopens the file at a new number rather
    /// than write into whatever the program put there.
    pub fn forget(&self, fd: c_int) {
        let _ = self
            .fd
            .compare_exchange(fd, -1, Ordering::AcqRel, Ordering::Acquire);
    }

    /// As [`Sink::forget`], for every descriptor from `first` to `last`.
    pub fn forget_range(&self, first: u32, last: u32) {
        let fd = self.fd.load(Ordering::Acquire);
        if fd >= 0 && (first..=last).contains(&(fd as u32)) {
            self.forget(fd);
        }
    }

    fn give_up(&self, pid: i32, e: c_int) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            crate::diag::warn(format_args!(
                "cannot open the trace file {}: {}; tracing stops",
                self.describe(pid),
                crate::diag::Strerror(e)
            ));
        }
    }
}

/// Where libsock keeps its own descriptors: high, so that opening the trace
/// file does not shift the numbers the program gets, and out of the way of
/// programs that reuse low numbers.
const HIGH_FD: c_int = 900;

/// `fd` moved to a number at or above [`HIGH_FD`] (close-on-exec), or left
/// where it is if the limit on descriptors does not allow that.
fn move_high(fd: c_int) -> c_int {
    // SAFETY: plain descriptor operations on our own descriptor.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, HIGH_FD) };
    if high < 0 {
        return fd;
    }
    // SAFETY: our own descriptor, closed once, through the table.
    unsafe { crate::real::close(fd) };
    high
}

/// Whether `fd` is a regular file.
fn is_regular(fd: c_int) -> bool {
    // SAFETY: `st` is writable; all-zero is a valid stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFREG }
}

/// Wall-clock time as (seconds, microseconds).
fn now() -> (i64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec, ts.tv_nsec / 1000)
}

/// A monotonic clock in nanoseconds, for elapsed times.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn bind_record() -> Record {
        let a = SockAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080));
        Record::new("bind")
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
        let r = Record::new("accept4")
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
