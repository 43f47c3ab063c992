//! The stats table (`LIBSOCK_STATS`): one row per call made, a total, and a
//! line of denials when the access rules refused any. The library reports
//! its process's counters with it at exit; sockrun's kernel mode reports the
//! calls it answered, per process, in the same shape.

use std::fmt::Write;

use crate::calls::{Call, Kind};

/// One call's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed (denials included).
    pub errors: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Calls refused by the access rules.
    pub denied: u64,
}

/// The table headed `title` (e.g. `libsock stats for pid 42`), with the
/// counters `counts` gives for each call; None when no socket call was made
/// (close and dup* are counted for every descriptor: a process — a shell,
/// say — that made no other call made no socket call worth a report).
pub fn table(title: &str, counts: impl Fn(Call) -> Counts) -> Option<String> {
    let socket_calls =
        Call::counted().any(|call| call.kind() == Kind::Socket && counts(call).calls > 0);
    if !socket_calls {
        return None;
    }
    let mut text = String::new();
    let _ = writeln!(text, "{title}:");
    let _ = writeln!(
        text,
        "  {:<12} {:>10} {:>8} {:>14} {:>14}",
        "call", "calls", "errors", "bytes in", "bytes out"
    );
    let mut total = Counts::default();
    let mut denied = Vec::new();
    for call in Call::counted() {
        let c = counts(call);
        if c.calls == 0 {
            continue;
        }
        let name = call.name();
        let _ = writeln!(
            text,
            "  {name:<12} {:>10} {:>8} {:>14} {:>14}",
            c.calls, c.errors, c.bytes_in, c.bytes_out
        );
        total.calls += c.calls;
        total.errors += c.errors;
        total.bytes_in += c.bytes_in;
        total.bytes_out += c.bytes_out;
        if c.denied > 0 {
            denied.push(format!("{name} {}", c.denied));
        }
    }
    let _ = writeln!(
        text,
        "  {:<12} {:>10} {:>8} {:>14} {:>14}",
        "total", total.calls, total.errors, total.bytes_in, total.bytes_out
    );
    // Access rules: a line only when something was refused, so the table
    // above keeps its shape.
    if !denied.is_empty() {
        let _ = writeln!(text, "  denied by access rules: {}", denied.join(", "));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_total_and_denials() {
        let t = table("libsock stats for pid 7", |call| match call {
            Call::connect => Counts {
                calls: 3,
                errors: 1,
                denied: 1,
                ..Counts::default()
            },
            Call::sendto => Counts {
                calls: 2,
                bytes_out: 10,
                ..Counts::default()
            },
            _ => Counts::default(),
        })
        .unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "libsock stats for pid 7:");
        assert!(lines[1].starts_with("  call "));
        assert_eq!(lines.len(), 6, "{t}");
        assert!(
            lines[4]
                .split_whitespace()
                .eq(["total", "5", "1", "0", "10"])
        );
        assert_eq!(lines[5], "  denied by access rules: connect 1");
    }

    #[test]
    fn no_socket_call_no_table() {
        assert_eq!(table("x", |_| Counts::default()), None);
        let only_close = |call| match call {
            Call::close => Counts {
                calls: 4,
                ..Counts::default()
            },
            _ => Counts::default(),
        };
        assert_eq!(table("x", only_close), None);
    }
}
