//! What the kernel-enforced mode needs from the kernel that the libc crate
//! may lack, in one place: the seccomp user-notification structures and
//! ioctl numbers (linux/seccomp.h), the filter's return values and flags,
//! and thin wrappers of the system calls (`seccomp`, `pidfd_open`,
//! `pidfd_getfd`, the notification ioctls, `process_vm_readv`/`writev`).
//! Every wrapper returns the errno on failure.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

// linux/seccomp.h: seccomp(2) operations and flags.
/// `SECCOMP_SET_MODE_FILTER`.
pub const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
/// `SECCOMP_GET_NOTIF_SIZES`.
pub const SECCOMP_GET_NOTIF_SIZES: libc::c_uint = 3;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: seccomp returns a listener fd.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: libc::c_ulong = 1 << 3;
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (Linux 5.19): once its call is
/// received, the caller waits killably (see `super::signals`).
pub const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: libc::c_ulong = 1 << 5;

// linux/seccomp.h: what a filter returns.
/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_ERRNO` (the errno in the low 16 bits).
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`.
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;

// linux/seccomp.h: SECCOMP_IOCTL_NOTIF_ADDFD flags.
/// `SECCOMP_ADDFD_FLAG_SEND`: add the fd and answer the call with its
/// number, atomically (Linux 5.14).
pub const SECCOMP_ADDFD_FLAG_SEND: u32 = 1 << 1;

// linux/audit.h, asm/unistd.h.
/// `AUDIT_ARCH_X86_64`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `__X32_SYSCALL_BIT`: set in the numbers of the x32 ABI's calls.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// `SYS_pidfd_open` (x86_64 and the generic table).
pub const SYS_PIDFD_OPEN: libc::c_long = 434;
/// `SYS_pidfd_getfd`.
pub const SYS_PIDFD_GETFD: libc::c_long = 438;
/// `PIDFD_THREAD` (Linux 6.9): a pidfd for a thread, not only a leader.
pub const PIDFD_THREAD: libc::c_uint = libc::O_EXCL as libc::c_uint;

/// `struct seccomp_data`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompData {
    pub nr: libc::c_int,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

/// `struct seccomp_notif`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompNotif {
    pub id: u64,
    pub pid: u32,
    pub flags: u32,
    pub data: SeccompData,
}

/// `struct seccomp_notif_resp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompNotifResp {
    pub id: u64,
    pub val: i64,
    pub error: i32,
    pub flags: u32,
}

/// `struct seccomp_notif_addfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompNotifAddfd {
    pub id: u64,
    pub flags: u32,
    pub srcfd: u32,
    pub newfd: u32,
    pub newfd_flags: u32,
}

/// `struct seccomp_notif_sizes`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompNotifSizes {
    pub seccomp_notif: u16,
    pub seccomp_notif_resp: u16,
    pub seccomp_data: u16,
}

/// `struct sock_fprog`.
#[repr(C)]
pub struct SockFprog {
    pub len: libc::c_ushort,
    pub filter: *const sock_core::rules::bpf::SockFilter,
}

// asm-generic/ioctl.h: _IOC(dir, type, nr, size).
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}
/// `SECCOMP_IOC_MAGIC`.
const MAGIC: u8 = b'!';
/// `SECCOMP_IOCTL_NOTIF_RECV`: `_IOWR('!', 0, struct seccomp_notif)`.
pub const NOTIF_RECV: u32 = ioc(IOC_READ | IOC_WRITE, MAGIC, 0, size_of::<SeccompNotif>());
/// `SECCOMP_IOCTL_NOTIF_SEND`: `_IOWR('!', 1, struct seccomp_notif_resp)`.
pub const NOTIF_SEND: u32 = ioc(
    IOC_READ | IOC_WRITE,
    MAGIC,
    1,
    size_of::<SeccompNotifResp>(),
);
/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: `_IOW('!', 2, __u64)`.
pub const NOTIF_ID_VALID: u32 = ioc(IOC_WRITE, MAGIC, 2, size_of::<u64>());
/// `SECCOMP_IOCTL_NOTIF_ADDFD`: `_IOW('!', 3, struct seccomp_notif_addfd)`.
pub const NOTIF_ADDFD: u32 = ioc(IOC_WRITE, MAGIC, 3, size_of::<SeccompNotifAddfd>());

/// `SECCOMP_IOCTL_NOTIF_SET_FLAGS`: `_IOW('!', 4, __u64)` (Linux 6.6).
pub const NOTIF_SET_FLAGS: u32 = ioc(IOC_WRITE, MAGIC, 4, size_of::<u64>());
/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`: the caller's wake-up of a
/// receiver is synchronous (the receiver runs on the caller's CPU).
const USER_NOTIF_FD_SYNC_WAKE_UP: libc::c_ulong = 1;

/// The calling thread's errno.
pub fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// A system call's result: Err(errno) when it is -1.
fn check(r: libc::c_long) -> Result<libc::c_long, i32> {
    if r < 0 { Err(errno()) } else { Ok(r) }
}

/// Takes ownership of a descriptor a call just returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`: the listener's number.
/// Async-signal-safe (called between fork and exec).
pub fn install_filter(
    prog: &[sock_core::rules::bpf::SockFilter],
    flags: libc::c_ulong,
) -> Result<RawFd, i32> {
    let fprog = SockFprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr(),
    };
    // SAFETY: `fprog` points at `prog`, alive for the call; the kernel copies it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            &raw const fprog,
        )
    };
    check(r).map(|fd| fd as RawFd)
}

/// `seccomp(SECCOMP_GET_NOTIF_SIZES)`.
pub fn notif_sizes() -> Result<SeccompNotifSizes, i32> {
    let mut sizes = SeccompNotifSizes::default();
    // SAFETY: the kernel writes one seccomp_notif_sizes into `sizes`.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_NOTIF_SIZES,
            0,
            &raw mut sizes,
        )
    };
    check(r).map(|_| sizes)
}

/// `pidfd_open(pid, flags)`.
pub fn pidfd_open(pid: libc::pid_t, flags: libc::c_uint) -> Result<OwnedFd, i32> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::syscall(SYS_PIDFD_OPEN, pid, flags) };
    check(r).map(owned)
}

/// `pidfd_getfd(pidfd, fd, 0)`: a duplicate of the process's `fd` (the
/// same open file description).
pub fn pidfd_getfd(pidfd: &OwnedFd, fd: RawFd) -> Result<OwnedFd, i32> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::syscall(SYS_PIDFD_GETFD, pidfd.as_raw_fd(), fd, 0) };
    check(r).map(owned)
}

/// `ioctl(listener, request, arg)`.
fn notif_ioctl<T>(listener: RawFd, request: u32, arg: *mut T) -> Result<libc::c_long, i32> {
    // SAFETY: each caller passes the structure `request` is defined with.
    let r = unsafe { libc::ioctl(listener, request as libc::c_ulong, arg) };
    check(libc::c_long::from(r))
}

/// Asks for synchronous wake-ups on `listener`
/// ([`USER_NOTIF_FD_SYNC_WAKE_UP`]): Err(EINVAL) before Linux 6.6.
pub fn set_sync_wake_up(listener: RawFd) -> Result<(), i32> {
    // SAFETY: the flags are passed by value, not through a pointer.
    let r = unsafe {
        libc::ioctl(
            listener,
            NOTIF_SET_FLAGS as libc::c_ulong,
            USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    check(libc::c_long::from(r)).map(|_| ())
}

/// Receives the next notification (blocks): Err(errno) — EINTR, ENOENT
/// (the caller died before it was read) — is for the caller to judge.
pub fn recv(listener: RawFd) -> Result<SeccompNotif, i32> {
    // The kernel wants it zeroed.
    let mut n = SeccompNotif::default();
    notif_ioctl(listener, NOTIF_RECV, &raw mut n).map(|_| n)
}

/// Answers `id`: the call returns `val`, or fails with `errno` if nonzero.
pub fn send(listener: RawFd, id: u64, val: i64, errno: i32) -> Result<(), i32> {
    let mut resp = SeccompNotifResp {
        id,
        val,
        error: if errno == 0 { 0 } else { -errno },
        flags: 0,
    };
    // EINTR: the kernel's mutex_lock_interruptible met a signal (a late
    // interruption of this thread, `super::signals`); nothing was sent.
    loop {
        match notif_ioctl(listener, NOTIF_SEND, &raw mut resp) {
            Err(libc::EINTR) => {}
            r => return r.map(|_| ()),
        }
    }
}

/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: the call runs as the program made
/// it. Only for calls whose memory is neither read nor judged.
const USER_NOTIF_FLAG_CONTINUE: u32 = 1;

/// Lets `id` run as it was made (see [`USER_NOTIF_FLAG_CONTINUE`]).
pub fn send_continue(listener: RawFd, id: u64) -> Result<(), i32> {
    let mut resp = SeccompNotifResp {
        id,
        val: 0,
        error: 0,
        flags: USER_NOTIF_FLAG_CONTINUE,
    };
    notif_ioctl(listener, NOTIF_SEND, &raw mut resp).map(|_| ())
}

/// Whether `id` is still pending (its caller alive and waiting): checked
/// after every read of its memory, so what was read is the caller's.
pub fn id_valid(listener: RawFd, id: u64) -> bool {
    let mut id = id;
    // EINTR (as for `send`) says nothing of the call: asked again.
    loop {
        match notif_ioctl(listener, NOTIF_ID_VALID, &raw mut id) {
            Err(libc::EINTR) => {}
            r => return r.is_ok(),
        }
    }
}

/// Installs `fd` in the caller of `id` and answers the call with its
/// number (`SECCOMP_ADDFD_FLAG_SEND`), `O_CLOEXEC` if `cloexec`.
pub fn addfd_send(listener: RawFd, id: u64, fd: RawFd, cloexec: bool) -> Result<i32, i32> {
    addfd_flags(listener, id, fd, cloexec, SECCOMP_ADDFD_FLAG_SEND)
}

/// Installs `fd` in the caller of `id` (its number: the answer to send).
pub fn addfd(listener: RawFd, id: u64, fd: RawFd, cloexec: bool) -> Result<i32, i32> {
    addfd_flags(listener, id, fd, cloexec, 0)
}

fn addfd_flags(listener: RawFd, id: u64, fd: RawFd, cloexec: bool, flags: u32) -> Result<i32, i32> {
    let mut add = SeccompNotifAddfd {
        id,
        flags,
        srcfd: fd as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    notif_ioctl(listener, NOTIF_ADDFD, &raw mut add).map(|n| n as i32)
}

/// Reads `buf.len()` bytes at `addr` in process `pid`: Err(EFAULT) if any
/// of it cannot be read.
pub fn read_mem(pid: libc::pid_t, addr: u64, buf: &mut [u8]) -> Result<(), i32> {
    if buf.is_empty() {
        return Ok(());
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` is `buf`, writable for its length; `remote` is only
    // an address in the other process, checked by the kernel.
    let r = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    match r {
        n if n == buf.len() as isize => Ok(()),
        n if n >= 0 => Err(libc::EFAULT),
        _ => Err(errno()),
    }
}

/// Writes `buf` at `addr` in process `pid`.
pub fn write_mem(pid: libc::pid_t, addr: u64, buf: &[u8]) -> Result<(), i32> {
    let local = libc::iovec {
        iov_base: buf.as_ptr().cast_mut().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` is `buf`, readable for its length (the kernel only
    // reads it); `remote` is checked by the kernel.
    let r = unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) };
    match r {
        n if n == buf.len() as isize => Ok(()),
        n if n >= 0 => Err(libc::EFAULT),
        _ => Err(errno()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_are_the_kernels() {
        assert_eq!(size_of::<SeccompData>(), 64);
        assert_eq!(size_of::<SeccompNotif>(), 80);
        assert_eq!(size_of::<SeccompNotifResp>(), 24);
        assert_eq!(size_of::<SeccompNotifAddfd>(), 24);
        assert_eq!(NOTIF_RECV, 0xc050_2100);
        assert_eq!(NOTIF_SEND, 0xc018_2101);
        assert_eq!(NOTIF_ID_VALID, 0x4008_2102);
        assert_eq!(NOTIF_ADDFD, 0x4018_2103);
    }
}
