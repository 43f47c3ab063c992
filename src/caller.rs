//! Caller memory, read without trusting the pointer.
//!
//! A pointer a program passes to `bind` may be NULL or point nowhere; the
//! kernel answers EFAULT, and libsock must not crash first. [`copy_in`]
//! reads caller memory with `process_vm_readv` on this very process, which
//! fails cleanly where a plain read would fault. Decoding what was read is
//! pure and lives in `sock_core::addr`.

use libc::{c_int, c_void, msghdr, sockaddr, socklen_t};
use sock_core::addr::{MAX_LEN, SockAddr};

/// Copies up to `len` (at most [`MAX_LEN`]) bytes from the caller's `ptr`
/// into `buf`; the bytes copied, or None if the memory is not readable.
pub fn copy_in(ptr: *const c_void, len: usize, buf: &mut [u8; MAX_LEN]) -> Option<usize> {
    try_copy_in(ptr, len, buf).ok()
}

/// [`copy_in`], saying why it could not read: Err(EFAULT) when the memory
/// is not the caller's to read (NULL, unmapped, or only partly readable:
/// the kernel would answer EFAULT too), Err(e) with `process_vm_readv`'s
/// own errno when it cannot run at all (ENOSYS without
/// CONFIG_CROSS_MEMORY_ATTACH, EPERM under a seccomp filter, ...).
pub fn try_copy_in(
    ptr: *const c_void,
    len: usize,
    buf: &mut [u8; MAX_LEN],
) -> Result<usize, c_int> {
    let len = len.min(MAX_LEN);
    try_read(ptr, &mut buf[..len]).map(|()| len)
}

/// Copies the caller's `buf.len()` bytes at `ptr` into `buf`, as
/// [`try_copy_in`] does (any length: a `sendmsg` control buffer).
pub fn try_read(ptr: *const c_void, buf: &mut [u8]) -> Result<(), c_int> {
    if buf.is_empty() {
        return Ok(());
    }
    if ptr.is_null() {
        return Err(libc::EFAULT);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: ptr.cast_mut(),
        iov_len: buf.len(),
    };
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: `local` is our buffer of `buf.len()` bytes; the kernel checks
    // `remote` and fails with EFAULT instead of faulting.
    let n =
        unsafe { libc::process_vm_readv(nix::unistd::getpid().as_raw(), &local, 1, &remote, 1, 0) };
    match n {
        n if n == buf.len() as isize => Ok(()),
        n if n >= 0 => Err(libc::EFAULT),
        _ => Err(crate::errno::get()),
    }
}

/// Writes `bytes` to the caller's `ptr` without trusting it: false if the
/// memory is not the caller's to write (the kernel's `put_user` would
/// fail there too).
pub fn try_write(ptr: *mut c_void, bytes: &[u8]) -> bool {
    let local = libc::iovec {
        iov_base: bytes.as_ptr().cast_mut().cast(),
        iov_len: bytes.len(),
    };
    let remote = libc::iovec {
        iov_base: ptr,
        iov_len: bytes.len(),
    };
    let _errno = crate::errno::ErrnoGuard::save();
    // SAFETY: `local` is `bytes`, only read; the kernel checks `remote` and
    // fails with EFAULT instead of faulting.
    let n = unsafe {
        libc::process_vm_writev(nix::unistd::getpid().as_raw(), &local, 1, &remote, 1, 0)
    };
    n == bytes.len() as isize
}

/// The peer a call names at `ptr` (`len` bytes), for the access rules:
/// Ok(None) when it names none (NULL or length 0) or its memory is bad
/// (the kernel then fails the call with EFAULT and sends nothing: libsock
/// forwards it); Err(errno) when libsock cannot read the caller's memory at
/// all, so the peer cannot be judged (the caller fails closed).
pub fn peer(ptr: *const sockaddr, len: socklen_t) -> Result<Option<SockAddr>, c_int> {
    if ptr.is_null() || len == 0 {
        return Ok(None);
    }
    let mut buf = [0u8; MAX_LEN];
    match try_copy_in(ptr.cast(), len as usize, &mut buf) {
        Ok(n) => Ok(Some(SockAddr::decode(&buf[..n]))),
        Err(libc::EFAULT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The name (peer address) of the caller's msghdr at `msg`, as [`peer`]
/// reads it: the one reading of a msghdr's name, for the access rules and
/// for the trace (which shows `.ok().flatten()`).
pub fn msg_name(msg: *const msghdr) -> Result<Option<SockAddr>, c_int> {
    let mut buf = [0u8; MAX_LEN];
    match try_copy_in(msg.cast(), size_of::<msghdr>(), &mut buf) {
        Ok(_) => {}
        Err(libc::EFAULT) => return Ok(None),
        Err(e) => return Err(e),
    }
    // SAFETY: `buf` holds a full msghdr's bytes; read_unaligned copies it.
    let m: msghdr = unsafe { buf.as_ptr().cast::<msghdr>().read_unaligned() };
    peer(m.msg_name.cast(), m.msg_namelen)
}

/// Writes `bytes` to the caller's `ptr`, which the kernel has just written
/// (an accepted peer's address and its length): nothing if `ptr` is NULL.
///
/// # Safety
/// `ptr` must be NULL or valid for writing `bytes.len()` bytes.
pub unsafe fn restore(ptr: *mut c_void, bytes: &[u8]) {
    if !ptr.is_null() {
        // SAFETY: the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.cast::<u8>(), bytes.len()) };
    }
}

/// Reads the caller's address at `ptr` of length `len`.
pub fn read(ptr: *const sockaddr, len: socklen_t) -> Option<SockAddr> {
    let mut buf = [0u8; MAX_LEN];
    let n = copy_in(ptr.cast(), len as usize, &mut buf)?;
    Some(SockAddr::decode(&buf[..n]))
}

/// The caller's `*lenp`, if readable.
pub fn read_len(lenp: *const socklen_t) -> Option<socklen_t> {
    let mut lbuf = [0u8; MAX_LEN];
    copy_in(lenp.cast(), size_of::<socklen_t>(), &mut lbuf)?;
    Some(socklen_t::from_ne_bytes([
        lbuf[0], lbuf[1], lbuf[2], lbuf[3],
    ]))
}

/// Reads an address the kernel wrote back to `ptr`. The kernel sets
/// `*lenp` to the address's full length, which may exceed the caller's
/// buffer (`room`, the `*lenp` before the call): only what it wrote is read.
/// None when there is nothing to show.
pub fn read_out(
    ptr: *const sockaddr,
    lenp: *const socklen_t,
    room: Option<socklen_t>,
) -> Option<SockAddr> {
    let len = read_len(lenp)?.min(room?);
    if len == 0 {
        return None;
    }
    read(ptr, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_in_refuses_bad_memory() {
        let mut buf = [0u8; MAX_LEN];
        assert_eq!(copy_in(std::ptr::null(), 16, &mut buf), None);
        assert_eq!(copy_in(8 as *const c_void, 16, &mut buf), None);
        let src = [7u8; 200];
        assert_eq!(copy_in(src.as_ptr().cast(), 200, &mut buf), Some(MAX_LEN));
        assert_eq!(buf[127], 7);
        assert_eq!(copy_in(std::ptr::null(), 0, &mut buf), Some(0));
    }

    #[test]
    fn try_copy_in_says_why() {
        let mut buf = [0u8; MAX_LEN];
        assert_eq!(
            try_copy_in(std::ptr::null(), 16, &mut buf),
            Err(libc::EFAULT)
        );
        assert_eq!(
            try_copy_in(8 as *const c_void, 16, &mut buf),
            Err(libc::EFAULT)
        );
        // A read running off the end of the mapping: short, so EFAULT.
        let page = 4096;
        // SAFETY: a fresh anonymous mapping of two pages, the second made
        // inaccessible, unmapped below.
        let map = unsafe {
            let m = libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(m, libc::MAP_FAILED);
            assert_eq!(
                libc::mprotect(m.cast::<u8>().add(page).cast(), page, libc::PROT_NONE),
                0
            );
            m.cast::<u8>()
        };
        let tail = map.wrapping_add(page - 8).cast::<c_void>();
        assert_eq!(try_copy_in(tail, 8, &mut buf), Ok(8));
        assert_eq!(try_copy_in(tail, 16, &mut buf), Err(libc::EFAULT));
        // Bad memory names no peer: the kernel answers EFAULT.
        assert_eq!(peer(tail.cast(), 16), Ok(None));
        assert_eq!(peer(8 as *const sockaddr, 16), Ok(None));
        assert_eq!(peer(std::ptr::null(), 16), Ok(None));
        assert_eq!(msg_name(16 as *const msghdr), Ok(None));
        // SAFETY: the mapping made above.
        unsafe { libc::munmap(map.cast(), 2 * page) };
        let a = sock_core::addr::encode_v4("127.0.0.2:80".parse().unwrap());
        assert_eq!(
            peer(a.as_ptr().cast(), 16),
            Ok(Some(SockAddr::V4("127.0.0.2:80".parse().unwrap())))
        );
        assert_eq!(peer(a.as_ptr().cast(), 0), Ok(None));
        // SAFETY: msghdr is plain data: all zeroes is a valid (empty) one.
        let mut m: msghdr = unsafe { std::mem::zeroed() };
        assert_eq!(msg_name(&m), Ok(None));
        m.msg_name = a.as_ptr().cast_mut().cast();
        m.msg_namelen = 16;
        assert_eq!(
            msg_name(&m),
            Ok(Some(SockAddr::V4("127.0.0.2:80".parse().unwrap())))
        );
    }

    /// The property the addr fuzz target checked: `copy_in` reads at most MAX_LEN bytes of readable memory, and refuses
    /// memory that is not readable instead of faulting.
    fn reads_like_memory(data: &[u8]) {
        let mut buf = [0u8; MAX_LEN];
        let got = copy_in(data.as_ptr().cast(), data.len(), &mut buf);
        let want = data.len().min(MAX_LEN);
        assert_eq!(got, Some(want));
        assert_eq!(buf[..want], data[..want]);
        let len = libc::socklen_t::try_from(data.len()).unwrap_or(libc::socklen_t::MAX);
        assert_eq!(
            read(data.as_ptr().cast(), len),
            Some(SockAddr::decode(&data[..want]))
        );
        if !data.is_empty() {
            assert_eq!(read(std::ptr::null(), len), None);
            assert_eq!(read(8 as *const libc::sockaddr, len), None);
        }
        // read_out: the length the kernel wrote back (*lenp), capped by the room
        // the caller gave (the *lenp before the call); nothing when either is 0,
        // the room is unknown, or *lenp is unreadable.
        let lenp = len;
        let room = data.first().map_or(len, |&b| libc::socklen_t::from(b));
        let shown = (len.min(room) as usize).min(MAX_LEN);
        assert_eq!(
            read_out(data.as_ptr().cast(), &lenp, Some(room)),
            (shown > 0).then(|| SockAddr::decode(&data[..shown]))
        );
        assert_eq!(read_out(data.as_ptr().cast(), &lenp, None), None);
        assert_eq!(
            read_out(data.as_ptr().cast(), std::ptr::null(), Some(room)),
            None
        );
        assert_eq!(read_len(&lenp), Some(lenp));
        assert_eq!(read_len(std::ptr::null()), None);
    }

    /// Every input of the addr fuzz target's corpus (and a few edges).
    #[test]
    fn reads_the_fuzz_corpus_like_memory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/addr");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("fuzz/corpus/addr") {
            let path = entry.expect("a corpus entry").path();
            reads_like_memory(&std::fs::read(&path).expect("a corpus file"));
            n += 1;
        }
        assert!(n > 0, "no corpus in {dir}");
        for data in [&[][..], &[1], &[7; 127], &[7; 128], &[7; 129], &[0; 300]] {
            reads_like_memory(data);
        }
    }
}
