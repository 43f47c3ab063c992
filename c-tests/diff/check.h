/*
 * check.h — helpers shared by the differential C programs in c-tests/diff/.
 *
 * Every program is run three ways (plain glibc, LD_PRELOAD=libsock.so, and
 * linked against libsock) and the outputs must be byte-identical. So every
 * line printed here must be a deterministic function of the program: the
 * call as written, the return value, the symbolic errno. Never print
 * ephemeral ports, pids, pointers or times.
 *
 * Output line format (one per check):
 *     L<line> <call as written> = <return value> errno=<NAME>
 * errno is cleared before each call, so "errno=0" means the call left it
 * untouched.
 *
 * Helpers: CK / CKF (a checked call), SAY (a free line), EXPECT; ck_init()
 * (call first in main); settle() (wait for loopback delivery); bad_ptr() and
 * rw_then_none() / fixed_rw_then_none() (PROT_NONE memory for EFAULT);
 * untouched() (bytes past a truncated result); addr_str() (an address without
 * its port); bad_fds(); tcp_pair(), udp_bound(); in_child() (run something
 * that may abort in a forked child). Descriptors 800 (settle's socket) and
 * 900 (the "closed" descriptor of bad_fds) are reserved.
 *
 * Include this header first: it selects _GNU_SOURCE (the runner also passes
 * -D_GNU_SOURCE).
 */
#ifndef DIFF_CHECK_H
#define DIFF_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/time.h>
#include <unistd.h>

#include "../glibc-compat.h"

/* Fill byte for buffers whose untouched tail is checked. */
#define FILL 0xA5

/* Symbolic errno name ("0" for none, "E<n>" for one glibc does not know). */
static inline const char *errname(int e)
{
    static char buf[32];
    const char *n;

    if (e == 0)
        return "0";
    n = strerrorname_np(e);
    if (n != NULL)
        return n;
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

/* One result line; errno is preserved for the caller. */
static inline void ck_print(int line, const char *what, long ret, int err)
{
    printf("L%d %s = %ld errno=%s\n", line, what, ret, errname(err));
    errno = err;
}

/*
 * CK(call): clear errno, evaluate the call, print it as written with its
 * result and errno; the value of the macro is the result (as long) and errno
 * is left as the call set it.
 */
#define CK(expr)                                                   \
    ({                                                             \
        errno = 0;                                                 \
        long ck_r_ = (long)(expr);                                 \
        int ck_e_ = errno;                                         \
        ck_print(__LINE__, #expr, ck_r_, ck_e_);                   \
        ck_r_;                                                     \
    })

/* CKF(call, fmt, ...): the same, described by a format (for loops). */
#define CKF(expr, ...)                                             \
    ({                                                             \
        errno = 0;                                                 \
        long ck_r_ = (long)(expr);                                 \
        int ck_e_ = errno;                                         \
        char ck_d_[512];                                           \
        snprintf(ck_d_, sizeof ck_d_, __VA_ARGS__);                \
        ck_print(__LINE__, ck_d_, ck_r_, ck_e_);                   \
        ck_r_;                                                     \
    })

/* SAY(fmt, ...): a free-form deterministic line. */
#define SAY(...)                                                   \
    do {                                                           \
        int say_e_ = errno;                                        \
        printf("L%d ", __LINE__);                                  \
        printf(__VA_ARGS__);                                       \
        putchar('\n');                                             \
        errno = say_e_;                                            \
    } while (0)

/*
 * EXPECT(cond): states what glibc is expected to do. It only prints "ok" or
 * "UNEXPECTED" (the same in every mode unless libsock differs): the suite is
 * differential, so the runner compares rather than trusting these.
 */
#define EXPECT(cond)                                               \
    do {                                                           \
        int ex_e_ = errno;                                         \
        printf("L%d expect %s: %s\n", __LINE__, #cond,             \
               (cond) ? "ok" : "UNEXPECTED");                      \
        errno = ex_e_;                                             \
    } while (0)

/*
 * settle(): wait until every packet this process has sent over loopback so
 * far has been delivered to its receiving socket.
 *
 * Loopback delivery normally completes inside the sending call, but the
 * kernel may defer it to ksoftirqd under load, so a nonblocking receive
 * right after a send could find nothing. ck_init pins the process to one
 * CPU, so everything it sends goes through that CPU's backlog queue in
 * order; settle() sends a marker datagram to its own socket (descriptor
 * 800, out of the programs' way) and waits for it: once it has arrived,
 * everything sent before it has too.
 */
#define SETTLE_FD 800

static inline void settle(void)
{
    char c;
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    if (getsockname(SETTLE_FD, (struct sockaddr *)&me, &len) != 0 ||
        sendto(SETTLE_FD, "s", 1, 0, (struct sockaddr *)&me, len) != 1 ||
        recv(SETTLE_FD, &c, 1, 0) != 1) {
        printf("settle failed: %s\n", strerrorname_np(errno));
        exit(2);
    }
}

/* Signals seen by the default handlers that ck_init installs. */
static volatile sig_atomic_t sigpipe_count;

static inline void on_sigpipe(int sig)
{
    (void)sig;
    sigpipe_count++;
}

/*
 * ck_init: line-buffered stdout (no duplicated buffers across fork), a
 * SIGPIPE counter instead of death, an alarm so a hang ends the program
 * deterministically, and the scratch directory the runner gives (for
 * pathname Unix sockets) as the working directory.
 */
static inline void ck_init(void)
{
    struct sigaction sa;
    const char *dir = getenv("DIFF_TMPDIR");
    int cpu = sched_getcpu();

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    {
        /* The settle() socket, with a receive timeout as a guard. */
        struct sockaddr_in lo;
        struct timeval tv = {5, 0};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        memset(&lo, 0, sizeof lo);
        lo.sin_family = AF_INET;
        lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || bind(fd, (struct sockaddr *)&lo, sizeof lo) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
            dup3(fd, SETTLE_FD, O_CLOEXEC) != SETTLE_FD || close(fd) != 0) {
            printf("settle socket setup failed\n");
            exit(2);
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPIPE, &sa, NULL);
    alarm(15);
    if (dir == NULL || *dir == '\0') {
        static char tmpl[] = "/tmp/libsock-diff-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    if (dir == NULL || chdir(dir) != 0) {
        printf("cannot enter scratch directory\n");
        exit(2);
    }
}

/*
 * A token that keeps concurrent suite runs apart (abstract names); never
 * printed. The runner makes it 12 characters, so lengths stay the same.
 */
static inline const char *run_token(void)
{
    const char *t = getenv("DIFF_TOKEN");
    return t != NULL && *t != '\0' ? t : "manual000000";
}

/*
 * bad_ptr: the start of a PROT_NONE page, so the kernel answers EFAULT
 * without the process touching anything. rw_then_none: a read-write page
 * followed by a PROT_NONE page (returns the start of the read-write page).
 */
static inline void *bad_ptr(void)
{
    static void *page;
    if (page == NULL) {
        page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) {
            printf("mmap failed\n");
            exit(2);
        }
    }
    return page;
}

static inline char *rw_then_none(void)
{
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE) != 0) {
        printf("mmap failed\n");
        exit(2);
    }
    return p;
}

/*
 * The same at a fixed, low address (4 GiB), for huge lengths: the kernel
 * checks that buf + min(len, MAX_RW_COUNT) stays in user space, which for a
 * randomised address near the top would depend on ASLR.
 */
static inline char *fixed_rw_then_none(void)
{
    static char *p;
    if (p != NULL)
        return p;
    p = mmap((void *)0x100000000UL, 8192, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (char *)0x100000000UL ||
        mprotect(p + 4096, 4096, PROT_NONE) != 0) {
        printf("fixed mmap failed\n");
        exit(2);
    }
    return p;
}

/* 1 if buf[from, to) all still hold FILL. */
static inline int untouched(const void *buf, size_t from, size_t to)
{
    const unsigned char *p = buf;
    for (size_t i = from; i < to; i++)
        if (p[i] != FILL)
            return 0;
    return 1;
}

/* Describe a socket address without its varying parts (ephemeral ports). */
static inline const char *addr_str(const void *sa_, socklen_t len)
{
    static char out[256];
    const struct sockaddr *sa = sa_;
    char host[INET6_ADDRSTRLEN];

    if (len < sizeof(sa_family_t)) {
        snprintf(out, sizeof out, "<len %u, no family>", (unsigned)len);
        return out;
    }
    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = sa_;
        if (len < sizeof *in) {
            snprintf(out, sizeof out, "AF_INET<len %u>", (unsigned)len);
            break;
        }
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, sizeof out, "AF_INET %s %s", host,
                 in->sin_port ? "port>0" : "port=0");
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = sa_;
        if (len < sizeof *in6) {
            snprintf(out, sizeof out, "AF_INET6<len %u>", (unsigned)len);
            break;
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, sizeof out, "AF_INET6 [%s] %s scope=%u", host,
                 in6->sin6_port ? "port>0" : "port=0",
                 (unsigned)in6->sin6_scope_id);
        break;
    }
    case AF_UNIX: {
        const struct sockaddr_un *un = sa_;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (n == 0)
            snprintf(out, sizeof out, "AF_UNIX unnamed");
        else if (un->sun_path[0] == '\0')
            snprintf(out, sizeof out, "AF_UNIX abstract, %zu name bytes", n - 1);
        else
            snprintf(out, sizeof out, "AF_UNIX path \"%.*s\"",
                     (int)strnlen(un->sun_path, n), un->sun_path);
        break;
    }
    default:
        snprintf(out, sizeof out, "family %d", sa->sa_family);
    }
    return out;
}

/* Loopback addresses; port 0 unless given. */
static inline struct sockaddr_in v4(const char *ip, unsigned short port_be)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = port_be;
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static inline struct sockaddr_in6 v6(const char *ip, unsigned short port_be)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = port_be;
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

/* The port (network order) a socket is bound to, or 0. Not printed. */
static inline unsigned short bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ((struct sockaddr_in *)&ss)->sin_port;
    if (ss.ss_family == AF_INET6)
        return ((struct sockaddr_in6 *)&ss)->sin6_port;
    return 0;
}

/* Flags of a descriptor, symbolically. */
static inline const char *fd_flags(int fd)
{
    static char out[64];
    int fl = fcntl(fd, F_GETFL);
    int fdf = fcntl(fd, F_GETFD);
    if (fl < 0 || fdf < 0) {
        snprintf(out, sizeof out, "fcntl failed %s", errname(errno));
        return out;
    }
    snprintf(out, sizeof out, "%s %s",
             (fl & O_NONBLOCK) ? "O_NONBLOCK" : "blocking",
             (fdf & FD_CLOEXEC) ? "FD_CLOEXEC" : "no-cloexec");
    return out;
}

/* 1 if fd is open. */
static inline int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* Descriptors commonly used as bad arguments. */
struct badfd {
    const char *name;
    int fd;
};

/*
 * Fills fds[] with: -1, 99999, INT_MIN, a closed descriptor, a pipe's read
 * end, /dev/null. Returns how many. Opened descriptors stay open.
 */
static inline int bad_fds(struct badfd fds[6])
{
    int p[2];
    /* A closed number that the lowest-first allocation will not hand out again. */
    int closed = fcntl(0, F_DUPFD, 900);
    close(closed);
    if (pipe(p) != 0) {
        printf("pipe failed\n");
        exit(2);
    }
    fds[0] = (struct badfd){"-1", -1};
    fds[1] = (struct badfd){"99999", 99999};
    fds[2] = (struct badfd){"INT_MIN", INT_MIN};
    fds[3] = (struct badfd){"closed-fd", closed};
    fds[4] = (struct badfd){"pipe", p[0]};
    fds[5] = (struct badfd){"/dev/null", open("/dev/null", O_RDWR)};
    return 6;
}

/*
 * A connected TCP pair over loopback (family AF_INET or AF_INET6): *cli and
 * *srv (the accepted end). Returns 0, or -1 after printing why.
 */
static inline int tcp_pair(int family, int *cli, int *srv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int l = socket(family, SOCK_STREAM, 0);

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        *(struct sockaddr_in *)&ss = v4("127.0.0.1", 0);
        len = sizeof(struct sockaddr_in);
    } else {
        *(struct sockaddr_in6 *)&ss = v6("::1", 0);
        len = sizeof(struct sockaddr_in6);
    }
    if (l < 0 || bind(l, (struct sockaddr *)&ss, len) != 0 || listen(l, 8) != 0 ||
        getsockname(l, (struct sockaddr *)&ss, &len) != 0) {
        printf("tcp_pair: listener setup failed: %s\n", errname(errno));
        return -1;
    }
    *cli = socket(family, SOCK_STREAM, 0);
    if (*cli < 0 || connect(*cli, (struct sockaddr *)&ss, len) != 0) {
        printf("tcp_pair: connect failed: %s\n", errname(errno));
        return -1;
    }
    *srv = accept(l, NULL, NULL);
    if (*srv < 0) {
        printf("tcp_pair: accept failed: %s\n", errname(errno));
        return -1;
    }
    close(l);
    {
        /* No Nagle delays: every send leaves at once (see settle()). */
        int one = 1;
        setsockopt(*cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return 0;
}

/*
 * A UDP socket bound to an ephemeral port on loopback, with its address in
 * *addr / *len.
 */
static inline int udp_bound(int family, struct sockaddr_storage *addr, socklen_t *len)
{
    int s = socket(family, SOCK_DGRAM, 0);
    memset(addr, 0, sizeof *addr);
    if (family == AF_INET) {
        *(struct sockaddr_in *)addr = v4("127.0.0.1", 0);
        *len = sizeof(struct sockaddr_in);
    } else {
        *(struct sockaddr_in6 *)addr = v6("::1", 0);
        *len = sizeof(struct sockaddr_in6);
    }
    if (s < 0 || bind(s, (struct sockaddr *)addr, *len) != 0 ||
        getsockname(s, (struct sockaddr *)addr, len) != 0) {
        printf("udp_bound: setup failed: %s\n", errname(errno));
        exit(2);
    }
    return s;
}

/*
 * Run fn(arg) in a forked child with stderr silenced and no core dump, and
 * describe how the child ended ("exit 0", "signal SIGABRT").
 */
static inline const char *in_child(void (*fn)(void *), void *arg)
{
    static char out[64];
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return "fork failed";
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        int dn = open("/dev/null", O_WRONLY);
        setrlimit(RLIMIT_CORE, &no_core);
        if (dn >= 0)
            dup2(dn, 2);
        fn(arg);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) != pid)
        return "waitpid failed";
    if (WIFEXITED(status))
        snprintf(out, sizeof out, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, sizeof out, "signal SIG%s", sigabbrev_np(WTERMSIG(status)));
    else
        snprintf(out, sizeof out, "status %d", status);
    return out;
}

#endif /* DIFF_CHECK_H */
