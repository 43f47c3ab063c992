//! libsock under sockrun's kernel mode: how the library tells the
//! supervisor that a supervised call is one it has already traced, counted
//! and rewritten, so that a dynamic program's call makes one trace line and
//! one count, not two, and a bind is rewritten once (SPEC, "Kernel-enforced
//! mode": visible).
//!
//! sockrun puts a random token in [`VAR`] for the processes it supervises.
//! libsock, whatever its settings, makes those calls as raw system calls
//! carrying the token in an argument the kernel does not read ([`token_arg`]:
//! `connect` takes three, the fourth register is ignored); the supervisor
//! sees the token in the notification's arguments and answers the call
//! without a trace line or a count of its own (a marked bind it lets
//! through as libsock rewrote it). It judges every call all the same: the
//! token spares a line and a bind's rewrite (a convenience, not a rule),
//! never a check — a program that copies it hides calls from the trace, not
//! from the rules, and a call carrying it that the rules refuse is traced
//! by the supervisor anyway.

/// The variable sockrun sets: the token, as 16 hexadecimal digits.
pub const VAR: &str = "LIBSOCK_SUPERVISOR";

/// The token in `value` (16 hexadecimal digits, not all zero).
pub fn parse(value: &str) -> Option<u64> {
    if value.len() != 16 {
        return None;
    }
    u64::from_str_radix(value, 16).ok().filter(|&t| t != 0)
}

/// The token as [`VAR`] holds it.
pub fn format(token: u64) -> String {
    format!("{token:016x}")
}

/// The argument of system call `nr` (x86-64 numbers) that carries the
/// token: the first one the call does not take. `sendto` takes all six:
/// libsock sends a judged `sendto` as the `sendmsg` it is to the kernel.
pub fn token_arg(nr: i64) -> Option<usize> {
    match nr {
        libc::SYS_socket | libc::SYS_bind | libc::SYS_connect | libc::SYS_sendmsg => Some(3),
        libc::SYS_sendmmsg => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_bad_values_are_none() {
        let t = 0x0123_4567_89ab_cdef;
        assert_eq!(parse(&format(t)), Some(t));
        assert_eq!(format(1), "0000000000000001");
        for bad in [
            "",
            "0",
            "0000000000000000",
            "0123456789abcdeg",
            "0123456789abcdef0",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_token_goes_where_the_kernel_does_not_look() {
        assert_eq!(token_arg(libc::SYS_connect), Some(3));
        assert_eq!(token_arg(libc::SYS_sendmmsg), Some(4));
        assert_eq!(token_arg(libc::SYS_sendto), None);
        assert_eq!(token_arg(libc::SYS_recvfrom), None);
    }
}
