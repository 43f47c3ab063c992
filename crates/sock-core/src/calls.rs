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
//! fn NAME(ARGS) -> RET; counts AS; KIND; SHAPE; checked BY => FALLBACK;
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
//! - `FALLBACK`: the raw system call, in the library's terms (tokens only:
//!   this crate makes no system call).

/// Calls `$callback! { ...the table... }`.
#[macro_export]
macro_rules! for_each_call {
    ($callback:ident) => {
        $callback! {
            /// `socket(2)`
            fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
                counts socket; socket; configured; checked libc
                => raw(libc::SYS_socket, &[domain.arg(), ty.arg(), protocol.arg()]) as c_int;
            /// `socketpair(2)`
            fn socketpair(domain: c_int, ty: c_int, protocol: c_int, sv: *mut c_int) -> c_int;
                counts socketpair; socket; configured; checked libc
                => raw(libc::SYS_socketpair, &[domain.arg(), ty.arg(), protocol.arg(), sv.arg()]) as c_int;
            /// `bind(2)`
            fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
                counts bind; socket; configured; checked libc
                => raw(libc::SYS_bind, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `listen(2)`
            fn listen(fd: c_int, backlog: c_int) -> c_int;
                counts listen; socket; configured; checked libc
                => raw(libc::SYS_listen, &[fd.arg(), backlog.arg()]) as c_int;
            /// `accept(2)`
            fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
                counts accept; socket; configured; checked libc
                => raw(libc::SYS_accept, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `accept4(2)`
            fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int;
                counts accept4; socket; configured; checked libc
                => raw(libc::SYS_accept4, &[fd.arg(), addr.arg(), len.arg(), flags.arg()]) as c_int;
            /// `connect(2)`
            fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
                counts connect; socket; configured; checked libc
                => raw(libc::SYS_connect, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `send(2)`
            fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
                counts send; socket; configured; checked libc
                => raw(libc::SYS_sendto, &[fd.arg(), buf.arg(), len.arg(), flags.arg(), 0, 0]) as ssize_t;
            /// `sendto(2)`
            fn sendto(
                fd: c_int, buf: *const c_void, len: size_t, flags: c_int,
                addr: *const sockaddr, addrlen: socklen_t,
            ) -> ssize_t;
                counts sendto; socket; configured; checked libc
                => raw(libc::SYS_sendto, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), addr.arg(), addrlen.arg(),
                ]) as ssize_t;
            /// `sendmsg(2)`
            fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t;
                counts sendmsg; socket; configured; checked libc
                => raw(libc::SYS_sendmsg, &[fd.arg(), msg.arg(), flags.arg()]) as ssize_t;
            /// `sendmmsg(2)`
            fn sendmmsg(fd: c_int, msgs: *mut mmsghdr, vlen: c_uint, flags: c_int) -> c_int;
                counts sendmmsg; socket; configured; checked libc
                => raw(libc::SYS_sendmmsg, &[fd.arg(), msgs.arg(), vlen.arg(), flags.arg()]) as c_int;
            /// `recv(2)`
            fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
                counts recv; socket; configured; checked libc
                => raw(libc::SYS_recvfrom, &[fd.arg(), buf.arg(), len.arg(), flags.arg(), 0, 0]) as ssize_t;
            /// `recvfrom(2)`
            fn recvfrom(
                fd: c_int, buf: *mut c_void, len: size_t, flags: c_int,
                addr: *mut sockaddr, addrlen: *mut socklen_t,
            ) -> ssize_t;
                counts recvfrom; socket; configured; checked libc
                => raw(libc::SYS_recvfrom, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), addr.arg(), addrlen.arg(),
                ]) as ssize_t;
            /// `recvmsg(2)`
            fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t;
                counts recvmsg; socket; configured; checked libc
                => raw(libc::SYS_recvmsg, &[fd.arg(), msg.arg(), flags.arg()]) as ssize_t;
            /// `recvmmsg(2)`
            fn recvmmsg(
                fd: c_int, msgs: *mut mmsghdr, vlen: c_uint, flags: c_int, timeout: *mut timespec,
            ) -> c_int;
                counts recvmmsg; socket; configured; checked libc
                => raw(libc::SYS_recvmmsg, &[
                    fd.arg(), msgs.arg(), vlen.arg(), flags.arg(), timeout.arg(),
                ]) as c_int;
            /// `__recv_chk`: what `recv` becomes under `_FORTIFY_SOURCE`.
            fn __recv_chk(
                fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int,
            ) -> ssize_t;
                counts recv; socket; configured; checked glibc
                => fortified(len, buflen, || raw(libc::SYS_recvfrom, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), 0, 0,
                ]) as ssize_t);
            /// `__recvfrom_chk`: what `recvfrom` becomes under `_FORTIFY_SOURCE`.
            fn __recvfrom_chk(
                fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int,
                addr: *mut sockaddr, addrlen: *mut socklen_t,
            ) -> ssize_t;
                counts recvfrom; socket; configured; checked glibc
                => fortified(len, buflen, || raw(libc::SYS_recvfrom, &[
                    fd.arg(), buf.arg(), len.arg(), flags.arg(), addr.arg(), addrlen.arg(),
                ]) as ssize_t);
            /// `setsockopt(2)`
            fn setsockopt(
                fd: c_int, level: c_int, name: c_int, value: *const c_void, len: socklen_t,
            ) -> c_int;
                counts setsockopt; socket; configured; checked libc
                => raw(libc::SYS_setsockopt, &[
                    fd.arg(), level.arg(), name.arg(), value.arg(), len.arg(),
                ]) as c_int;
            /// `getsockopt(2)`
            fn getsockopt(
                fd: c_int, level: c_int, name: c_int, value: *mut c_void, len: *mut socklen_t,
            ) -> c_int;
                counts getsockopt; socket; configured; checked libc
                => raw(libc::SYS_getsockopt, &[
                    fd.arg(), level.arg(), name.arg(), value.arg(), len.arg(),
                ]) as c_int;
            /// `getsockname(2)`
            fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
                counts getsockname; socket; configured; checked libc
                => raw(libc::SYS_getsockname, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `getpeername(2)`
            fn getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
                counts getpeername; socket; configured; checked libc
                => raw(libc::SYS_getpeername, &[fd.arg(), addr.arg(), len.arg()]) as c_int;
            /// `shutdown(2)`
            fn shutdown(fd: c_int, how: c_int) -> c_int;
                counts shutdown; socket; configured; checked libc
                => raw(libc::SYS_shutdown, &[fd.arg(), how.arg()]) as c_int;
            /// `close(2)`
            fn close(fd: c_int) -> c_int;
                counts close; descriptor; always; checked libc
                => raw(libc::SYS_close, &[fd.arg()]) as c_int;
            /// `dup2(2)`: closes `newfd` first if it is open.
            fn dup2(oldfd: c_int, newfd: c_int) -> c_int;
                counts dup2; descriptor; always; checked libc
                => raw(libc::SYS_dup2, &[oldfd.arg(), newfd.arg()]) as c_int;
            /// `dup3(2)`: closes `newfd` first if it is open.
            fn dup3(oldfd: c_int, newfd: c_int, flags: c_int) -> c_int;
                counts dup3; descriptor; always; checked libc
                => raw(libc::SYS_dup3, &[oldfd.arg(), newfd.arg(), flags.arg()]) as c_int;
            /// `close_range(2)`
            fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int;
                counts close_range; descriptor; always; checked libc
                => raw(libc::SYS_close_range, &[first.arg(), last.arg(), flags.arg()]) as c_int;
            /// `_exit(2)`: ends the process (declared `-> ()`; it never returns).
            fn _exit(status: c_int) -> ();
                counts none; exit; own; checked libc_diverging
                => { raw(libc::SYS_exit_group, &[status.arg()]); };
            /// `_Exit`: the C99 name of `_exit`.
            fn _Exit(status: c_int) -> ();
                counts none; exit; own; checked glibc
                => { raw(libc::SYS_exit_group, &[status.arg()]); };
        }
    };
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
            counts $counts:ident; $kind:ident; $shape:ident; checked $by:ident
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
}
