/* What the C tests use from a glibc newer than the oldest they run on.
 *
 * make distro-test builds c-tests/diff and c-tests/sockset on Debian 11
 * (glibc 2.31), whose glibc has neither strerrorname_np nor sigabbrev_np
 * (2.32). There they are these tables, with glibc's names (one name per
 * number: EAGAIN not EWOULDBLOCK, EOPNOTSUPP not ENOTSUP, EDEADLK not
 * EDEADLOCK; NULL for a number it does not know), so the programs print the
 * same lines as on a newer glibc. Nor has it close_range (2.34): see below.
 * Include after a system header (features.h). */
#ifndef LIBSOCK_GLIBC_COMPAT_H
#define LIBSOCK_GLIBC_COMPAT_H
#include <errno.h>
#include <stddef.h>

#if defined(__GLIBC__) && !__GLIBC_PREREQ(2, 32)
static inline const char *compat_strerrorname_np(int e)
{
    switch (e) {
#define N(x) case x: return #x;
    N(EPERM) N(ENOENT) N(ESRCH) N(EINTR) N(EIO) N(ENXIO) N(E2BIG) N(ENOEXEC) N(EBADF)
    N(ECHILD) N(EAGAIN) N(ENOMEM) N(EACCES) N(EFAULT) N(ENOTBLK) N(EBUSY) N(EEXIST)
    N(EXDEV) N(ENODEV) N(ENOTDIR) N(EISDIR) N(EINVAL) N(ENFILE) N(EMFILE) N(ENOTTY)
    N(ETXTBSY) N(EFBIG) N(ENOSPC) N(ESPIPE) N(EROFS) N(EMLINK) N(EPIPE) N(EDOM) N(ERANGE)
    N(EDEADLK) N(ENAMETOOLONG) N(ENOLCK) N(ENOSYS) N(ENOTEMPTY) N(ELOOP) N(ENOMSG)
    N(EIDRM) N(ECHRNG) N(EL2NSYNC) N(EL3HLT) N(EL3RST) N(ELNRNG) N(EUNATCH) N(ENOCSI)
    N(EL2HLT) N(EBADE) N(EBADR) N(EXFULL) N(ENOANO) N(EBADRQC) N(EBADSLT) N(EBFONT)
    N(ENOSTR) N(ENODATA) N(ETIME) N(ENOSR) N(ENONET) N(ENOPKG) N(EREMOTE) N(ENOLINK)
    N(EADV) N(ESRMNT) N(ECOMM) N(EPROTO) N(EMULTIHOP) N(EDOTDOT) N(EBADMSG) N(EOVERFLOW)
    N(ENOTUNIQ) N(EBADFD) N(EREMCHG) N(ELIBACC) N(ELIBBAD) N(ELIBSCN) N(ELIBMAX)
    N(ELIBEXEC) N(EILSEQ) N(ERESTART) N(ESTRPIPE) N(EUSERS) N(ENOTSOCK) N(EDESTADDRREQ)
    N(EMSGSIZE) N(EPROTOTYPE) N(ENOPROTOOPT) N(EPROTONOSUPPORT) N(ESOCKTNOSUPPORT)
    N(EOPNOTSUPP) N(EPFNOSUPPORT) N(EAFNOSUPPORT) N(EADDRINUSE) N(EADDRNOTAVAIL)
    N(ENETDOWN) N(ENETUNREACH) N(ENETRESET) N(ECONNABORTED) N(ECONNRESET) N(ENOBUFS)
    N(EISCONN) N(ENOTCONN) N(ESHUTDOWN) N(ETOOMANYREFS) N(ETIMEDOUT) N(ECONNREFUSED)
    N(EHOSTDOWN) N(EHOSTUNREACH) N(EALREADY) N(EINPROGRESS) N(ESTALE) N(EUCLEAN)
    N(ENOTNAM) N(ENAVAIL) N(EISNAM) N(EREMOTEIO) N(EDQUOT) N(ENOMEDIUM) N(EMEDIUMTYPE)
    N(ECANCELED) N(ENOKEY) N(EKEYEXPIRED) N(EKEYREVOKED) N(EKEYREJECTED) N(EOWNERDEAD)
    N(ENOTRECOVERABLE) N(ERFKILL) N(EHWPOISON)
#undef N
    default: return NULL;
    }
}
#define strerrorname_np compat_strerrorname_np

static inline const char *compat_sigabbrev_np(int sig)
{
    static const char *const names[] = {
        NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
        "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
        "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "POLL", "PWR", "SYS",
    };
    return sig > 0 && (size_t)sig < sizeof names / sizeof names[0] ? names[sig] : NULL;
}
#define sigabbrev_np compat_sigabbrev_np
#endif

/* glibc before 2.34 (Debian 11: 2.31) has no close_range. The program then
 * references it weakly: natively it is absent and the system call serves;
 * preloaded or linked, libsock's close_range binds to the reference, and on
 * such a glibc libsock serves it by the system call too, saying nothing. */
#if defined(__GLIBC__) && !__GLIBC_PREREQ(2, 34)
#include <asm/unistd.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
extern int close_range(unsigned int first, unsigned int last, int flags) __attribute__((weak));
static inline int close_range_or_syscall(unsigned int first, unsigned int last, int flags)
{
    if (close_range)
        return close_range(first, last, flags);
    return (int)syscall(__NR_close_range, first, last, flags);
}
#define close_range close_range_or_syscall
#endif

#endif
