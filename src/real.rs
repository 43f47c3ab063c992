//! The next definitions: the only road from libsock to the kernel.
//!
//! libsock exports `socket`, `close`, … under their standard names, so any
//! call to those names from inside the library — `libc::socket`, `std::net`,
//! an `OwnedFd` dropped — would land back in libsock. Every forwarded call
//! goes through this table instead: the definitions that come *after*
//! libsock in the lookup order (`dlsym(RTLD_NEXT, …)`, normally glibc's).
//!
//! Resolution happens once, from the ELF constructor when the library is
//! loaded (`crate::lifecycle`, so it is done before any `fork`; it uses
//! nothing from std but atomics and const thread-locals), with a lazy retry
//! on first use
//! for callers that arrive earlier. Nothing here may deadlock: `dlsym` can
//! call `malloc`, which an interposed allocator may route back into a hooked
//! call, and `Once`/`LazyLock` are not re-entrant. So the pointers live in
//! atomics, resolution takes no lock (racing threads store the same values),
//! and a call made on a thread while that thread is resolving takes the raw
//! system call. A name that cannot be resolved — absent, or resolving to
//! libsock itself — is served by the raw system call from then on, and
//! reported once on stderr unless the running glibc is older than the one
//! that introduced the call (the table of calls records it: `close_range`
//! is 2.34, so on Debian 11's 2.31 it is quietly the system call — a drop-in
//! library does not write into every program's stderr for that).

use std::cell::Cell;
use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use libc::{
    c_int, c_long, c_uint, mmsghdr, msghdr, size_t, sockaddr, socklen_t, ssize_t, timespec,
};

use once_cell::race::OnceNonZeroUsize;

use crate::errno::ErrnoGuard;

/// Table value for a name that has no usable next definition.
const MISSING: usize = 1;

thread_local! {
    // const-initialised, no destructor (see boundary.rs).
    static RESOLVING: Cell<bool> = const { Cell::new(false) };
}

/// Declares the table from the table of calls (`sock_core::for_each_call!`):
/// for each entry a slot, its C signature in [`sig`] (checked against the
/// libc crate's where it declares the function), a forwarding function of
/// the same name, and the raw system call used when the next definition is
/// unavailable. (The exports check their signatures against [`sig`].)
macro_rules! next_definitions {
    (@check libc $name:ident) => {
        #[allow(clippy::disallowed_methods)]
        const _: sig::$name = libc::$name;
    };
    (@check libc_diverging $name:ident) => {};
    (@check glibc $name:ident) => {};
    ($(
        $(#[$meta:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;
            counts $counts:ident; $kind:ident; $shape:ident; checked $by:ident since $since:literal
            => $fallback:expr;
    )*) => {
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum Sym { $($name),* }

        /// The names in the table, NUL-terminated, in table order.
        pub const NAMES: &[&str] = &[$(concat!(stringify!($name), "\0")),*];

        static TABLE: [AtomicPtr<c_void>; NAMES.len()] =
            [const { AtomicPtr::new(ptr::null_mut()) }; NAMES.len()];

        /// The C signatures of the forwarded calls, as glibc declares them.
        #[allow(non_camel_case_types, non_snake_case)]
        pub mod sig {
            use super::*;
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub type $name = unsafe extern "C" fn($($ty),*) -> $ret;
            )*
        }

        // The table's signatures are glibc's as the libc crate declares them.
        // (The fortified entry points and the exits are not, or not as
        // functions that return: theirs are copied from glibc's headers, and
        // the differential suite calls them from real programs.)
        $(next_definitions!(@check $by $name);)*

        $(
            $(#[$meta])*
            #[allow(non_snake_case)]
            ///
            /// # Safety
            /// The same as for the C function: pointers are the caller's and
            /// are handed to the next definition (or the kernel) unchanged.
            #[inline(always)]
            pub unsafe fn $name($($arg: $ty),*) -> $ret {
                match next(Sym::$name) {
                    // SAFETY: the pointer was returned by dlsym for this very
                    // name, whose C declaration is `sig::$name`.
                    Some(f) => unsafe {
                        std::mem::transmute::<*mut c_void, sig::$name>(f)($($arg),*)
                    },
                    // SAFETY: the caller's arguments go to the kernel
                    // unchanged, as the next definition would pass them.
                    None => unsafe { $fallback },
                }
            }
        )*
    };
}

sock_core::for_each_call!(next_definitions);

/// The next definition for `sym`, or `None` when the raw system call must
/// serve (unresolvable, or asked for while this thread is resolving).
#[inline(always)]
fn next(sym: Sym) -> Option<*mut c_void> {
    let f = TABLE[sym as usize].load(Ordering::Acquire);
    if f.addr() > MISSING {
        Some(f)
    } else {
        next_slow(sym)
    }
}

#[cold]
#[inline(never)]
fn next_slow(sym: Sym) -> Option<*mut c_void> {
    resolve_all();
    let f = TABLE[sym as usize].load(Ordering::Acquire);
    (f.addr() > MISSING).then_some(f)
}

/// Resolves every name still unresolved. Safe to call from any thread at any
/// time, including re-entrantly (it then returns at once). errno is kept.
pub fn resolve_all() {
    if RESOLVING.with(|r| r.replace(true)) {
        return;
    }
    let _errno = ErrnoGuard::save();
    for (i, slot) in TABLE.iter().enumerate() {
        if slot.load(Ordering::Acquire).is_null() {
            slot.store(lookup(i), Ordering::Release);
        }
    }
    RESOLVING.with(|r| r.set(false));
}

/// True once every name has a next definition (none missing).
#[cfg(test)]
fn all_resolved() -> bool {
    TABLE
        .iter()
        .all(|slot| slot.load(Ordering::Acquire).addr() > MISSING)
}

/// Looks up the `i`th name of the table past libsock; `MISSING` when there
/// is no usable definition, with one line on stderr unless the running glibc
/// predates the call.
fn lookup(i: usize) -> *mut c_void {
    let name = NAMES[i];
    // SAFETY: `name` is NUL-terminated (NAMES entries are built that way).
    let f = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast()) };
    let shown = name.trim_end_matches('\0');
    let problem = if f.is_null() {
        if sock_core::Call::ALL[i].missing_is_expected(running_glibc()) {
            return ptr::without_provenance_mut(MISSING);
        }
        "has no next definition (dlsym RTLD_NEXT found none)"
    } else if is_libsock(f) {
        "resolves to libsock itself"
    } else {
        return f;
    };
    crate::boundary::own(|| {
        crate::diag::warn(format_args!(
            "`{shown}` {problem}; calling the system call directly instead"
        ))
    });
    ptr::without_provenance_mut(MISSING)
}

/// The version of the glibc this process runs on (`gnu_get_libc_version`:
/// a static string, no allocation, no lock); None if it does not parse.
fn running_glibc() -> Option<sock_core::calls::GlibcVersion> {
    // SAFETY: gnu_get_libc_version takes no arguments and returns a pointer
    // to a static NUL-terminated string.
    let text = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    sock_core::calls::GlibcVersion::parse(text.to_str().ok()?)
}

/// Whether `addr` lies in libsock's own loaded object.
pub fn is_libsock(addr: *const c_void) -> bool {
    let (start, end) = own_range();
    (start..end).contains(&addr.addr())
}

/// The address range of libsock's loaded segments, found once with
/// `dl_iterate_phdr` (cheaper than a `dladdr` per address: that searches
/// every symbol table).
///
/// Called from the constructor and from dlsym's path, so nothing here may
/// allocate or lock: the range lives in two `OnceNonZeroUsize` (atomics).
/// The start is set before the end, so whoever sees the end sees the start.
fn own_range() -> (usize, usize) {
    static START: OnceNonZeroUsize = OnceNonZeroUsize::new();
    static END: OnceNonZeroUsize = OnceNonZeroUsize::new();
    if let (Some(start), Some(end)) = (START.get(), END.get()) {
        return (start.get(), end.get());
    }
    let mut range = ((resolve_all as *const c_void).addr(), 0usize);
    // SAFETY: the callback only reads the headers the loader hands it, and
    // `range` outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(find_own), (&raw mut range).cast()) };
    if let (Some(start), Some(end)) = (NonZeroUsize::new(range.0), NonZeroUsize::new(range.1)) {
        // Racing threads found the same object: whichever value is kept is it.
        let _ = START.set(start);
        let _ = END.set(end);
    }
    range
}

/// dl_iterate_phdr callback: `data` is (an address in libsock, 0) on entry,
/// and (start, end) of the object that holds that address when found.
unsafe extern "C" fn find_own(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: the loader passes a valid info; `data` is the tuple above.
    let (info, range) = unsafe { (&*info, &mut *data.cast::<(usize, usize)>()) };
    let base = info.dlpi_addr as usize;
    let (mut start, mut end) = (usize::MAX, 0);
    for i in 0..usize::from(info.dlpi_phnum) {
        // SAFETY: dlpi_phdr points to dlpi_phnum program headers.
        let ph = unsafe { info.dlpi_phdr.add(i).read_unaligned() };
        if ph.p_type == libc::PT_LOAD {
            start = start.min(base + ph.p_vaddr as usize);
            end = end.max(base + (ph.p_vaddr + ph.p_memsz) as usize);
        }
    }
    if (start..end).contains(&range.0) {
        *range = (start, end);
        return 1;
    }
    0
}

/// Forwarded calls the supervisor of sockrun's kernel mode should not
/// trace, count or rewrite again (sock_core::supervised): libsock did what
/// its settings ask for them, or made them for itself. Without a token
/// they are the plain forwarded calls; with one, raw system calls carrying
/// it in an argument the kernel does not read — those that block made
/// cancellation points as glibc's wrappers are ([`marked::cancellable`]).
pub mod marked {
    use super::*;
    use std::sync::atomic::AtomicU64;

    static TOKEN: AtomicU64 = AtomicU64::new(0);

    /// From now on, mark calls with `token` (set once, when the settings
    /// load, under sockrun's kernel mode).
    pub fn set_token(token: u64) {
        TOKEN.store(token, Ordering::Relaxed);
    }

    /// `PTHREAD_CANCEL_ASYNCHRONOUS` (pthread.h; not in the libc crate
    /// for Linux).
    const PTHREAD_CANCEL_ASYNCHRONOUS: c_int = 1;

    /// Runs the raw call `call` as a cancellation point, as glibc ran its
    /// own blocking calls before 2.34: with asynchronous cancellation
    /// around it, so that `pthread_cancel` of a thread blocked in it (or
    /// already pending: switching to asynchronous acts on it) cancels the
    /// thread there, unwinding as a cancelled glibc call does; a raw
    /// `syscall` alone is no cancellation point. errno is the call's.
    #[inline(always)]
    fn cancellable(call: impl FnOnce() -> c_long) -> c_long {
        // Declared here, not at module level, so cbindgen leaves it out
        // of sock.h.
        unsafe extern "C" {
            /// POSIX; in glibc's libc (a forwarder before 2.34) since 2.2.5.
            fn pthread_setcanceltype(ty: c_int, old: *mut c_int) -> c_int;
        }
        let mut old: c_int = 0;
        // SAFETY: `old` is writable; the type is a valid one.
        unsafe { pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &mut old) };
        let r = call();
        let errno = crate::errno::get();
        // SAFETY: restores the type read above.
        unsafe { pthread_setcanceltype(old, &mut old) };
        crate::errno::set(errno);
        r
    }

    #[inline(always)]
    fn token() -> Option<c_long> {
        match TOKEN.load(Ordering::Relaxed) {
            0 => None,
            t => Some(t as c_long),
        }
    }

    /// `socket`, marked.
    ///
    /// # Safety
    /// As for the C function.
    pub unsafe fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
        match token() {
            // SAFETY: integer arguments only.
            Some(t) => unsafe {
                raw(
                    libc::SYS_socket,
                    &[domain.arg(), ty.arg(), protocol.arg(), t],
                ) as c_int
            },
            // SAFETY: forwarded per this function's contract.
            None => unsafe { super::socket(domain, ty, protocol) },
        }
    }

    /// `bind`, marked.
    ///
    /// # Safety
    /// As for the C function.
    pub unsafe fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
        match token() {
            // SAFETY: the caller's arguments, as bind takes them.
            Some(t) => unsafe {
                raw(libc::SYS_bind, &[fd.arg(), addr.arg(), len.arg(), t]) as c_int
            },
            // SAFETY: forwarded per this function's contract.
            None => unsafe { super::bind(fd, addr, len) },
        }
    }

    /// `connect`, marked.
    ///
    /// # Safety
    /// As for the C function.
    pub unsafe fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
        match token() {
            // SAFETY: the caller's arguments, as connect takes them.
            Some(t) => cancellable(|| unsafe {
                raw(libc::SYS_connect, &[fd.arg(), addr.arg(), len.arg(), t])
            }) as c_int,
            // SAFETY: forwarded per this function's contract.
            None => unsafe { super::connect(fd, addr, len) },
        }
    }

    /// `MSG_CMSG_COMPAT` (linux/socket.h): a flag of the compat ABI.
    const MSG_CMSG_COMPAT: c_int = 0x8000_0000_u32 as c_int;

    /// `sendto`, marked: with an address it is sent as the `sendmsg` it is
    /// to the kernel (`__sys_sendto` builds that message), since sendto
    /// takes all six arguments — unless the lengths are ones the two calls
    /// answer differently (`MSG_CMSG_COMPAT`, which sendmsg refuses and
    /// sendto ignores; an empty name is EINVAL to UDP's sendto and no name
    /// to sendmsg; a name past a sockaddr_storage is EINVAL to sendto
    /// and cut short by sendmsg; a length past isize::MAX), which go as
    /// they are.
    ///
    /// # Safety
    /// As for the C function.
    pub unsafe fn sendto(
        fd: c_int,
        buf: *const c_void,
        len: size_t,
        flags: c_int,
        addr: *const sockaddr,
        addrlen: socklen_t,
    ) -> ssize_t {
        let plain = addr.is_null()
            || flags & MSG_CMSG_COMPAT != 0
            || addrlen == 0
            || addrlen as usize > size_of::<libc::sockaddr_storage>()
            || len > isize::MAX as usize;
        match token() {
            Some(t) if !plain => {
                let mut iov = libc::iovec {
                    iov_base: buf.cast_mut(),
                    iov_len: len,
                };
                // SAFETY: an all-zero msghdr is a valid empty one.
                let mut msg: msghdr = unsafe { std::mem::zeroed() };
                msg.msg_name = addr.cast_mut().cast();
                msg.msg_namelen = addrlen;
                msg.msg_iov = &raw mut iov;
                msg.msg_iovlen = 1;
                // SAFETY: `msg` names the caller's buffer and address as
                // sendto would hand them on; alive for the call.
                cancellable(|| unsafe {
                    raw(
                        libc::SYS_sendmsg,
                        &[fd.arg(), (&raw const msg).arg(), flags.arg(), t],
                    )
                }) as ssize_t
            }
            // SAFETY: forwarded per this function's contract.
            _ => unsafe { super::sendto(fd, buf, len, flags, addr, addrlen) },
        }
    }

    /// `sendmsg`, marked.
    ///
    /// # Safety
    /// As for the C function.
    pub unsafe fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
        match token() {
            // SAFETY: the caller's arguments, as sendmsg takes them.
            Some(t) => cancellable(|| unsafe {
                raw(libc::SYS_sendmsg, &[fd.arg(), msg.arg(), flags.arg(), t])
            }) as ssize_t,
            // SAFETY: forwarded per this function's contract.
            None => unsafe { super::sendmsg(fd, msg, flags) },
        }
    }

    /// `sendmmsg`, marked.
    ///
    /// # Safety
    /// As for the C function.
    pub unsafe fn sendmmsg(fd: c_int, msgs: *mut mmsghdr, vlen: c_uint, flags: c_int) -> c_int {
        match token() {
            // SAFETY: the caller's arguments, as sendmmsg takes them.
            Some(t) => cancellable(|| unsafe {
                raw(
                    libc::SYS_sendmmsg,
                    &[fd.arg(), msgs.arg(), vlen.arg(), flags.arg(), t],
                )
            }) as c_int,
            // SAFETY: forwarded per this function's contract.
            None => unsafe { super::sendmmsg(fd, msgs, vlen, flags) },
        }
    }
}

/// A system call argument as the kernel takes it.
trait Arg {
    fn arg(self) -> c_long;
}

impl Arg for c_int {
    fn arg(self) -> c_long {
        c_long::from(self)
    }
}

impl Arg for c_uint {
    fn arg(self) -> c_long {
        c_long::from(self)
    }
}

impl Arg for size_t {
    fn arg(self) -> c_long {
        self as c_long
    }
}

impl<T> Arg for *const T {
    fn arg(self) -> c_long {
        self.expose_provenance() as c_long
    }
}

impl<T> Arg for *mut T {
    fn arg(self) -> c_long {
        self.expose_provenance() as c_long
    }
}

/// The raw system call `nr` with up to six arguments; -1 and errno on error.
///
/// # Safety
/// Pointer arguments must be what the caller passed to the C function: the
/// kernel reads and writes through them as the C function would.
unsafe fn raw(nr: c_long, args: &[c_long]) -> c_long {
    let mut a = [0 as c_long; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: forwarded per this function's contract; libc::syscall sets
    // errno and returns -1 on failure, as the glibc wrappers do.
    unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) }
}

unsafe extern "C" {
    /// glibc's "buffer overflow detected" abort, shared by all `_chk` calls.
    fn __chk_fail() -> !;
}

/// The check a fortified receive makes before receiving.
fn fortified(len: size_t, buflen: size_t, receive: impl FnOnce() -> ssize_t) -> ssize_t {
    if len > buflen {
        // SAFETY: __chk_fail takes no arguments and does not return.
        unsafe { __chk_fail() }
    }
    receive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_its_own_addresses() {
        assert!(is_libsock(resolve_all as *const c_void));
        assert!(is_libsock((&raw const TABLE).cast()));
        // SAFETY: a NUL-terminated name.
        let glibc_close = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"close".as_ptr()) };
        assert!(!glibc_close.is_null() && !is_libsock(glibc_close));
    }

    #[test]
    fn every_name_resolves_past_libsock() {
        resolve_all();
        assert!(all_resolved());
        for slot in &TABLE {
            let f = slot.load(Ordering::Acquire);
            assert!(!is_libsock(f));
        }
    }

    #[test]
    fn the_table_of_calls_is_this_table() {
        for (name, call) in NAMES.iter().zip(sock_core::Call::ALL) {
            assert_eq!(name.trim_end_matches('\0'), call.name());
        }
        assert_eq!(NAMES.len(), sock_core::Call::COUNT);
    }

    /// Every x86_64 symbol version node of glibc up to 2.42, oldest first.
    const GLIBC_NODES: &[&str] = &[
        "2.2.5", "2.2.6", "2.3", "2.3.2", "2.3.3", "2.3.4", "2.4", "2.5", "2.6", "2.7", "2.8",
        "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16", "2.17", "2.18", "2.22",
        "2.23", "2.24", "2.25", "2.26", "2.27", "2.28", "2.29", "2.30", "2.31", "2.32", "2.33",
        "2.34", "2.35", "2.36", "2.37", "2.38", "2.39", "2.40", "2.41", "2.42",
    ];

    /// The table's "since" for each call is the oldest version node under
    /// which the running glibc defines it (or, on a glibc older than that
    /// version, the call is absent, as the table says it may be).
    #[test]
    fn introducing_versions_match_this_glibc() {
        let running = running_glibc().expect("gnu_get_libc_version parses");
        let mut seen = Vec::new();
        for call in sock_core::Call::ALL {
            let since = call.glibc_since();
            let name = std::ffi::CString::new(call.name()).unwrap();
            let first = GLIBC_NODES.iter().find(|node| {
                let node = std::ffi::CString::new(format!("GLIBC_{node}")).unwrap();
                // SAFETY: two NUL-terminated strings.
                !unsafe { libc::dlvsym(libc::RTLD_DEFAULT, name.as_ptr(), node.as_ptr()) }.is_null()
            });
            match first {
                Some(node) => assert_eq!(
                    sock_core::calls::GlibcVersion::parse(node),
                    Some(since),
                    "{}: glibc {running} defines it first as GLIBC_{node}",
                    call.name()
                ),
                None => assert!(
                    call.missing_is_expected(Some(running)),
                    "{}: glibc {running} lacks it, though it is said to be there since {since}",
                    call.name()
                ),
            }
            seen.push(call.name());
        }
        assert_eq!(seen.len(), sock_core::Call::COUNT);
    }

    #[test]
    fn forwarded_calls_reach_the_kernel() {
        let mut sv = [-1; 2];
        // SAFETY: `sv` has room for two descriptors.
        let r = unsafe { socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
        assert_eq!(r, 0);
        // SAFETY: valid buffers of the given lengths.
        unsafe {
            assert_eq!(send(sv[0], b"hi".as_ptr().cast(), 2, 0), 2);
            let mut buf = [0u8; 4];
            assert_eq!(recv(sv[1], buf.as_mut_ptr().cast(), 4, 0), 2);
            assert_eq!(&buf[..2], b"hi");
            assert_eq!(close(sv[0]), 0);
            assert_eq!(close(sv[1]), 0);
        }
    }

    #[test]
    fn raw_fallback_matches_errno() {
        // SAFETY: no pointers involved.
        let r = unsafe { raw(libc::SYS_close, &[(-1 as c_int).arg()]) };
        assert_eq!(r, -1);
        assert_eq!(crate::errno::get(), libc::EBADF);
        let mut sv = [-1; 2];
        // SAFETY: `sv` has room for two descriptors.
        let r = unsafe {
            raw(
                libc::SYS_socketpair,
                &[
                    libc::AF_UNIX.arg(),
                    libc::SOCK_DGRAM.arg(),
                    0,
                    sv.as_mut_ptr().arg(),
                ],
            )
        };
        assert_eq!(r, 0);
        // SAFETY: closing the descriptors just created.
        unsafe {
            assert_eq!(close(sv[0]), 0);
            assert_eq!(close(sv[1]), 0);
        }
    }

    #[test]
    fn fortified_receive_within_bounds_receives() {
        assert_eq!(fortified(4, 8, || 3), 3);
        assert_eq!(fortified(8, 8, || 8), 8);
    }
}
