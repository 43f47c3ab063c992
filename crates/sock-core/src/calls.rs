//! The table of the calls: every standard call libsock exports, in one
//! place — its C signature, the raw system call that serves it when there is
//! no next definition, which call it counts and traces as, and what kind of
//! call it is.
//!
//! [`for_each_call!`] hands the table to a macro of the caller's choosing.
//! This crate derives the [`Call`] enum from it; the library derives its
//! table of next definitions (`src/real.rs`), the signature checks against
//! the libc crate, and the export skeletons (`src/ffi/exports.rs`). Every other
//! list of calls (the header's exclusions, the lint bans, the export list,
//! the Python prototypes, the trace checker's call list) is checked against
//! [`Call::ALL`] by `crates/sock-core/tests/call_lists.rs`, so none can drift.
//!
//! An entry reads:
//!
//! ```text
//! fn NAME(ARGS) -> RET; counts AS; KIND; SHAPE; checked BY since "VERSION" => FALLBACK;
//! ```
//!
//! - `counts AS`: the call it is counted and traced as (`none`: neither);
//! - `KIND`: `socket` (a socket call), `descriptor` (made on descriptors of
//!   every kind: close, dup…), or `exit`;
//! - `SHAPE`: the export skeleton: `configured` (libsock's work only when
//!   something is configured), `always` (its hook runs on every call) or
//!   `own` (the hook alone: the exits);
//! - `checked BY`: `libc` when the libc crate declares the function (its
//!   signature is checked against the table's, and the lints ban calling
//!   `libc::NAME` in the library), `libc_diverging` when it declares it as
//!   never returning (banned, not comparable), `glibc` when only glibc's
//!   headers declare it;
//! - `since "VERSION"`: the glibc version that introduced it on x86_64 —
//!   the version node of its symbol in `libc.so.6` (`objdump -T`; 2.2.5 is
//!   x86_64's first). A call newer than the floor the artifacts are built
//!   for ([`GlibcVersion::FLOOR`], 2.17) may legitimately have no next
//!   definition: on a glibc older than this version libsock serves it with
//!   its system call and says nothing (see [`Call::missing_is_expected`]);
//!   the library's unit tests check each version against the running glibc
//!   with `dlvsym`;
//! - `FALLBACK`: the raw system call, in the library's terms (tokens only:
//!   this crate makes no system call).

/// Calls `$callback! { ...the table... }`.
#[macro_export]
macro_rules! for_each_call {
    ($callback:ident) => {
        $callback! {
            /// `socket(2)`
            fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
                counts socket; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_socket, &[domain.arg(), ty.arg(), protocol.arg()]) as c_int;
            /// `socketpair(2)`
            fn socketpair(domain: c_int, ty: c_int, protocol: c_int, sv: *mut c_int) -> c_int;
                counts socketpair; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_socketpair, &[domain.arg(), ty.arg(), protocol.arg(), sv.arg()]) as c_int;
            /// `bind(2)`
            fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
                counts bind; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_bind, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `listen(2)`
            fn listen(fd: c_int, backlog: c_int) -> c_int;
                counts listen; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_listen, &[fd.arg(), backlog.arg()]) as c_int;
            /// `accept(2)`
            fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
                counts accept; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_accept, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `accept4(2)`
            fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int;
                counts accept4; socket; configured; checked libc since "2.10"
                => raw(libc::SYS_accept4, &[fd.arg(), addr.arg(), len.arg(), flags.arg()]) as c_int;
            /// `connect(2)`
            fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
                counts connect; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_connect, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `send(2)`
            fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
                counts send; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_sendto, &[fd.arg(), buf.arg(), len.arg(), flags.arg(), 0, 0]) as ssize_t;
            /// `sendto(2)`
            fn sendto(
                fd: c_int, buf: *const c_void, len: size_t, flags: c_int,
                addr: *const sockaddr, addrlen: socklen_t,
            ) -> ssize_t;
                counts sendto; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_sendto, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), addr.arg(), addrlen.arg(),
                ]) as ssize_t;
            /// `sendmsg(2)`
            fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t;
                counts sendmsg; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_sendmsg, &[fd.arg(), msg.arg(), flags.arg()]) as ssize_t;
            /// `sendmmsg(2)`
            fn sendmmsg(fd: c_int, msgs: *mut mmsghdr, vlen: c_uint, flags: c_int) -> c_int;
                counts sendmmsg; socket; configured; checked libc since "2.14"
                => raw(libc::SYS_sendmmsg, &[fd.arg(), msgs.arg(), vlen.arg(), flags.arg()]) as c_int;
            /// `recv(2)`
            fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
                counts recv; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_recvfrom, &[fd.arg(), buf.arg(), len.arg(), flags.arg(), 0, 0]) as ssize_t;
            /// `recvfrom(2)`
            fn recvfrom(
                fd: c_int, buf: *mut c_void, len: size_t, flags: c_int,
                addr: *mut sockaddr, addrlen: *mut socklen_t,
            ) -> ssize_t;
                counts recvfrom; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_recvfrom, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), addr.arg(), addrlen.arg(),
                ]) as ssize_t;
            /// `recvmsg(2)`
            fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t;
                counts recvmsg; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_recvmsg, &[fd.arg(), msg.arg(), flags.arg()]) as ssize_t;
            /// `recvmmsg(2)`
            fn recvmmsg(
                fd: c_int, msgs: *mut mmsghdr, vlen: c_uint, flags: c_int, timeout: *mut timespec,
            ) -> c_int;
                counts recvmmsg; socket; configured; checked libc since "2.12"
                => raw(libc::SYS_recvmmsg, &[
                    fd.arg(), msgs.arg(), vlen.arg(), flags.arg(), timeout.arg(),
                ]) as c_int;
            /// `__recv_chk`: what `recv` becomes under `_FORTIFY_SOURCE`.
            fn __recv_chk(
                fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int,
            ) -> ssize_t;
                counts recv; socket; configured; checked glibc since "2.4"
                => fortified(len, buflen, || raw(libc::SYS_recvfrom, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), 0, 0,
                ]) as ssize_t);
            /// `__recvfrom_chk`: what `recvfrom` becomes under `_FORTIFY_SOURCE`.
            fn __recvfrom_chk(
                fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int,
                addr: *mut sockaddr, addrlen: *mut socklen_t,
            ) -> ssize_t;
                counts recvfrom; socket; configured; checked glibc since "2.4"
                => fortified(len, buflen, || raw(libc::SYS_recvfrom, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), addr.arg(), addrlen.arg(),
                ]) as ssize_t);
            /// `setsockopt(2)`
            fn setsockopt(
                fd: c_int, level: c_int, name: c_int, value: *const c_void, len: socklen_t,
            ) -> c_int;
                counts setsockopt; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_setsockopt, &[
                    fd.arg(), level.arg(), name.arg(), value.arg(), len.arg(),
                ]) as c_int;
            /// `getsockopt(2)`
            fn getsockopt(
                fd: c_int, level: c_int, name: c_int, value: *mut c_void, len: *mut socklen_t,
            ) -> c_int;
                counts getsockopt; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_getsockopt, &[
                    fd.arg(), level.arg(), name.arg(), value.arg(), len.arg(),
                ]) as c_int;
            /// `getsockname(2)`
            fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
                counts getsockname; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_getsockname, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `getpeername(2)`
            fn getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
                counts getpeername; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_getpeername, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `shutdown(2)`
            fn shutdown(fd: c_int, how: c_int) -> c_int;
                counts shutdown; socket; configured; checked libc since "2.2.5"
                => raw(libc::SYS_shutdown, &[fd.arg(), how.arg()]) as c_int;
            /// `close(2)`
            fn close(fd: c_int) -> c_int;
                counts close; descriptor; always; checked libc since "2.2.5"
                => raw(libc::SYS_close, &[fd.arg()]) as c_int;
            /// `dup2(2)`: closes `newfd` first if it is open.
            fn dup2(oldfd: c_int, newfd: c_int) -> c_int;
                counts dup2; descriptor; always; checked libc since "2.2.5"
                => raw(libc::SYS_dup2, &[oldfd.arg(), newfd.arg()]) as c_int;
            /// `dup3(2)`: closes `newfd` first if it is open.
            fn dup3(oldfd: c_int, newfd: c_int, flags: c_int) -> c_int;
                counts dup3; descriptor; always; checked libc since "2.9"
                => raw(libc::SYS_dup3, &[oldfd.arg(), newfd.arg(), flags.arg()]) as c_int;
            /// `close_range(2)`
            fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int;
                counts close_range; descriptor; always; checked libc since "2.34"
                => raw(libc::SYS_close_range, &[first.arg(), last.arg(), flags.arg()]) as c_int;
            /// `_exit(2)`: ends the process (declared `-> ()`; it never returns).
            fn _exit(status: c_int) -> ();
                counts none; exit; own; checked libc_diverging since "2.2.5"
                => { raw(libc::SYS_exit_group, &[status.arg()]); };
            /// `_Exit`: the C99 name of `_exit`.
            fn _Exit(status: c_int) -> ();
                counts none; exit; own; checked glibc since "2.2.5"
                => { raw(libc::SYS_exit_group, &[status.arg()]); };
        }
    };
}

/// A glibc version: `2.31` from `gnu_get_libc_version()`, `2.2.5` from a
/// symbol version node (`GLIBC_2.2.5`). Ordered as glibc numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion(pub u16, pub u16, pub u16);

impl GlibcVersion {
    /// The oldest glibc the artifacts load on (manylinux2014).
    pub const FLOOR: GlibcVersion = GlibcVersion(2, 17, 0);

    /// Parses `MAJOR.MINOR[.PATCH]`, optionally prefixed `GLIBC_`; what
    /// follows the numbers after a non-digit (`2.35.9000-dev`) is ignored.
    /// None when there is no `MAJOR.MINOR`.
    pub const fn parse(text: &str) -> Option<GlibcVersion> {
        let b = text.as_bytes();
        let mut i = 0;
        if b.len() >= 6
            && b[0] == b'G'
            && b[1] == b'L'
            && b[2] == b'I'
            && b[3] == b'B'
            && b[4] == b'C'
            && b[5] == b'_'
        {
            i = 6;
        }
        let mut parts = [0u16; 3];
        let mut n = 0;
        while n < 3 {
            let start = i;
            let mut v: u32 = 0;
            while i < b.len() && b[i].is_ascii_digit() && v <= u16::MAX as u32 {
                v = v * 10 + (b[i] - b'0') as u32;
                i += 1;
            }
            if i == start || v > u16::MAX as u32 {
                break;
            }
            parts[n] = v as u16;
            n += 1;
            if i < b.len() && b[i] == b'.' {
                i += 1;
            } else {
                break;
            }
        }
        if n < 2 {
            return None;
        }
        Some(GlibcVersion(parts[0], parts[1], parts[2]))
    }
}

impl core::fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.2 {
            0 => write!(f, "{}.{}", self.0, self.1),
            p => write!(f, "{}.{}.{}", self.0, self.1, p),
        }
    }
}

/// `GlibcVersion::parse` for the table's literals: a malformed one fails the
/// build (it is evaluated in a const block).
const fn version(text: &str) -> GlibcVersion {
    match GlibcVersion::parse(text) {
        Some(v) => v,
        None => panic!("a glibc version in the table of calls does not parse"),
    }
}

/// What kind of call an export is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A socket call.
    Socket,
    /// A call made on descriptors of every kind (close, dup…), not only
    /// sockets.
    Descriptor,
    /// A call that ends the process.
    Exit,
}

macro_rules! call_enum {
    (@counts none) => { None };
    (@counts $as:ident) => { Some(Call::$as) };
    (@kind socket) => { Kind::Socket };
    (@kind descriptor) => { Kind::Descriptor };
    (@kind exit) => { Kind::Exit };
    (@libc libc) => { true };
    (@libc libc_diverging) => { true };
    (@libc glibc) => { false };
    ($(
        $(#[$meta:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;
            counts $counts:ident; $kind:ident; $shape:ident; checked $by:ident since $since:literal
            => $fallback:expr;
    )*) => {
        /// A call libsock exports under its standard name, in table order.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Call {
            $($(#[$meta])* $name),*
        }

        impl Call {
            /// Every call, in table order.
            pub const ALL: &'static [Call] = &[$(Call::$name),*];

            /// The exported name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Call::$name => stringify!($name)),*
                }
            }

            /// The call this one is counted and traced as (the fortified
            /// receives as `recv`/`recvfrom`); None for the exits.
            pub const fn counts_as(self) -> Option<Call> {
                match self {
                    $(Call::$name => call_enum!(@counts $counts)),*
                }
            }

            /// What kind of call it is.
            pub const fn kind(self) -> Kind {
                match self {
                    $(Call::$name => call_enum!(@kind $kind)),*
                }
            }

            /// Whether the libc crate declares it (and so whether a lint can
            /// ban `libc::<name>` inside the library).
            pub const fn in_libc_crate(self) -> bool {
                match self {
                    $(Call::$name => call_enum!(@libc $by)),*
                }
            }

            /// The glibc version that introduced it (x86_64's symbol
            /// version of it in `libc.so.6`).
            pub const fn glibc_since(self) -> GlibcVersion {
                match self {
                    $(Call::$name => const { version($since) }),*
                }
            }

            /// The C parameter types in Rust syntax, as `stringify!` spells them.
            pub const fn params(self) -> &'static [&'static str] {
                match self {
                    $(Call::$name => &[$(stringify!($ty)),*]),*
                }
            }

            /// The C return type, as the table writes it.
            pub const fn returns(self) -> &'static str {
                match self {
                    $(Call::$name => stringify!($ret)),*
                }
            }
        }
    };
}

for_each_call!(call_enum);

impl Call {
    /// The number of calls in the table.
    pub const COUNT: usize = Call::ALL.len();

    /// The calls that are counted and traced under their own name, in
    /// report order.
    pub fn counted() -> impl Iterator<Item = Call> {
        Call::ALL
            .iter()
            .copied()
            .filter(|&c| c.counts_as() == Some(c))
    }

    /// Whether a glibc may lack it although libsock supports that glibc:
    /// introduced after [`GlibcVersion::FLOOR`].
    pub const fn newer_than_floor(self) -> bool {
        let v = self.glibc_since();
        let f = GlibcVersion::FLOOR;
        v.0 > f.0 || (v.0 == f.0 && (v.1 > f.1 || (v.1 == f.1 && v.2 > f.2)))
    }

    /// Whether a missing next definition is what the running glibc
    /// (`running`, from `gnu_get_libc_version()`) should give: it is older
    /// than the version that introduced the call. Then libsock serves the
    /// call with its system call and says nothing; otherwise (a glibc that
    /// should have it, or an unknown one) a missing definition is reported.
    pub fn missing_is_expected(self, running: Option<GlibcVersion>) -> bool {
        matches!(running, Some(r) if r < self.glibc_since())
    }

    /// Its position in [`Call::ALL`] (an index for per-call tables).
    pub const fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_order_and_named() {
        for (i, c) in Call::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            // Names are unique: the first call with this name is this one.
            assert_eq!(Call::ALL.iter().position(|d| d.name() == c.name()), Some(i));
        }
        assert_eq!(Call::COUNT, 28);
        assert_eq!(Call::__recv_chk.counts_as(), Some(Call::recv));
        assert_eq!(Call::_exit.counts_as(), None);
        assert_eq!(Call::counted().count(), 24);
        assert_eq!(Call::dup2.kind(), Kind::Descriptor);
        assert_eq!(
            Call::bind.params(),
            ["c_int", "* const sockaddr", "socklen_t"]
        );
    }

    #[test]
    fn glibc_versions_parse_and_order() {
        assert_eq!(GlibcVersion::parse("2.31"), Some(GlibcVersion(2, 31, 0)));
        assert_eq!(GlibcVersion::parse("2.2.5"), Some(GlibcVersion(2, 2, 5)));
        assert_eq!(
            GlibcVersion::parse("GLIBC_2.34"),
            Some(GlibcVersion(2, 34, 0))
        );
        assert_eq!(
            GlibcVersion::parse("2.35.9000"),
            Some(GlibcVersion(2, 35, 9000))
        );
        assert_eq!(
            GlibcVersion::parse("2.39-dev"),
            Some(GlibcVersion(2, 39, 0))
        );
        for bad in ["", "2", "2.", "x.1", ".31", "GLIBC_", "99999999.1"] {
            assert_eq!(GlibcVersion::parse(bad), None, "{bad:?}");
        }
        assert!(GlibcVersion(2, 2, 5) < GlibcVersion(2, 4, 0));
        assert!(GlibcVersion(2, 9, 0) < GlibcVersion(2, 10, 0));
        assert!(GlibcVersion(2, 31, 0) < GlibcVersion(2, 34, 0));
        assert_eq!(GlibcVersion(2, 2, 5).to_string(), "2.2.5");
        assert_eq!(GlibcVersion::FLOOR.to_string(), "2.17");
    }

    #[test]
    fn introducing_versions_are_recorded() {
        // As `objdump -T libc.so.6` shows them on x86_64 (the library's unit
        // test checks every entry against the running glibc with dlvsym).
        let v = |c: Call| c.glibc_since().to_string();
        assert_eq!(v(Call::socket), "2.2.5");
        assert_eq!(v(Call::__recv_chk), "2.4");
        assert_eq!(v(Call::dup3), "2.9");
        assert_eq!(v(Call::accept4), "2.10");
        assert_eq!(v(Call::recvmmsg), "2.12");
        assert_eq!(v(Call::sendmmsg), "2.14");
        assert_eq!(v(Call::close_range), "2.34");
        // Only close_range is newer than the 2.17 floor.
        let newer: Vec<_> = Call::ALL
            .iter()
            .filter(|c| c.newer_than_floor())
            .map(|c| c.name())
            .collect();
        assert_eq!(newer, ["close_range"]);
    }

    #[test]
    fn only_an_older_glibc_may_lack_a_call_quietly() {
        let glibc = |s| GlibcVersion::parse(s);
        // Debian 11: no close_range, and that is expected.
        assert!(Call::close_range.missing_is_expected(glibc("2.31")));
        assert!(Call::close_range.missing_is_expected(glibc("2.17")));
        // A glibc that has it, or one we cannot tell: reported.
        assert!(!Call::close_range.missing_is_expected(glibc("2.34")));
        assert!(!Call::close_range.missing_is_expected(glibc("2.36")));
        assert!(!Call::close_range.missing_is_expected(None));
        // Every call at or below the floor is reported on every supported glibc.
        for &c in Call::ALL.iter().filter(|c| !c.newer_than_floor()) {
            for running in ["2.17", "2.28", "2.31", "2.36"] {
                assert!(!c.missing_is_expected(glibc(running)), "{c:?} {running}");
            }
        }
    }
}
