/* libsock's own descriptors (the epoll instance behind a first set) live in
 * the program's table. This checks that they never answer for a member and
 * that the program's own descriptor hygiene cannot break a SocketSet:
 *  - a member closed before and after the first wait is EBADF, with a zero
 *    and with a NULL timeout (an alarm ends a wait that hangs);
 *  - a member naming libsock's own epoll instance is EBADF;
 *  - after every way of closing everything above 2 (a close loop,
 *    close_range with each flag, the raw system calls libsock cannot see,
 *    dup2/dup3 over its number), new sockets are answered right, idle and
 *    ready, through the set that had the lost instance and through a new one;
 *  - a vfork child's close_range (Python's subprocess) costs nothing;
 *  - a socket dup2'ed over every low number is answered under each of them.
 * Built linked, and run preloaded with the API looked up by dlopen; in both
 * libsock sees the program's close (the wait is epoll-backed). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "check.h"

static int limit_fds;

static void pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
}

/* sockset_select over `rd` alone; usec < 0 waits forever (under an alarm). */
static int wait_read(SocketSet *rd, long usec)
{
    struct timeval tv = {usec / 1000000, usec % 1000000};
    alarm(10);
    int r = sockset_select(rd, NULL, NULL, usec < 0 ? NULL : &tv);
    int e = errno;
    alarm(0);
    errno = e;
    return r;
}

/* The epoll instances libsock holds, from /proc/self/fd. */
static int own_epolls(int *out, int max)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        abort();
    int skip = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char path[64], target[64];
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == skip)
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = 0;
            if (strcmp(target, "anon_inode:[eventpoll]") == 0)
                out[n++] = fd;
        }
    }
    closedir(d);
    return n;
}

/* A number libsock holds right now (after a wait on `keep`). */
static int own_epoll(SocketSet *keep)
{
    int fds[8];
    sockset_reset(keep);
    CHECK(wait_read(keep, 0) == 0, "a wait on an empty set");
    int n = own_epolls(fds, 8);
    CHECK(n >= 1, "libsock holds an epoll instance");
    return n >= 1 ? fds[n - 1] : -1;
}

/* New sockets through `rd`: idle with no wait and with one, then one ready. */
static void idle_and_ready(const char *what, SocketSet *rd)
{
    int a[2], b[2];
    pair(a);
    pair(b);
    for (int round = 0; round < 3; round++) {
        sockset_reset(rd);
        sockset_add(rd, a[0]);
        sockset_add(rd, b[0]);
        int r = wait_read(rd, round == 0 ? 0 : 20000);
        CHECK(r == 0, "%s: idle round %d gives %d", what, round, r);
    }
    CHECK(write(b[1], "x", 1) == 1, "write");
    sockset_reset(rd);
    sockset_add(rd, a[0]);
    sockset_add(rd, b[0]);
    int r = wait_read(rd, -1);
    CHECK(r == 1 && sockset_is_set(rd, b[0]) && !sockset_is_set(rd, a[0]),
          "%s: one ready gives %d (b %d, a %d)", what, r, sockset_is_set(rd, b[0]),
          sockset_is_set(rd, a[0]));
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* After a way of closing: the set that held the lost instance, and a new one. */
static void survives(const char *what, SocketSet *keep)
{
    char label[128];
    snprintf(label, sizeof label, "%s (kept set)", what);
    idle_and_ready(label, keep);
    SocketSet *fresh = sockset_new();
    snprintf(label, sizeof label, "%s (new set)", what);
    idle_and_ready(label, fresh);
    sockset_free(fresh);
}

static void closed_member(const char *what, SocketSet *rd, int waited_before)
{
    int sv[2];
    pair(sv);
    if (waited_before) {
        sockset_reset(rd);
        sockset_add(rd, sv[0]);
        CHECK(wait_read(rd, 0) == 0, "%s: the first wait", what);
    }
    close(sv[0]);
    for (int forever = 0; forever < 2; forever++) {
        sockset_reset(rd);
        sockset_add(rd, sv[0]);
        errno = 0;
        int r = wait_read(rd, forever ? -1 : 0);
        CHECK(r == -1 && errno == EBADF, "%s, %s timeout: %d", what, forever ? "NULL" : "zero", r);
        CHECK(sockset_is_set(rd, sv[0]), "%s: the set is unchanged", what);
    }
    close(sv[1]);
}

static void close_loop(int raw)
{
    int top = limit_fds < 65536 ? limit_fds : 65536;
    for (int fd = 3; fd < top; fd++) {
        if (raw)
            syscall(SYS_close, fd);
        else
            close(fd);
    }
}

int main(void)
{
    api_open();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    limit_fds = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;

    /* Closed members, on new sets (the first wait makes the instance) and
     * after the first wait. */
    SocketSet *s1 = sockset_new(), *s2 = sockset_new();
    closed_member("closed before the first wait", s1, 0);
    closed_member("closed after the first wait", s2, 1);
    sockset_free(s1);
    sockset_free(s2);

    SocketSet *keep = sockset_new();
    int own = own_epoll(keep);
    CHECK(own >= 3 && own >= (limit_fds < 1024 ? limit_fds / 2 : 896),
          "libsock's number %d is kept high (limit %d)", own, limit_fds);

    /* A member naming libsock's own instance: EBADF, from its own set and
     * from another. */
    SocketSet *other = sockset_new();
    int sv[2];
    pair(sv);
    for (int k = 0; k < 2; k++) {
        SocketSet *rd = k ? other : keep;
        sockset_reset(rd);
        sockset_add(rd, sv[0]);
        sockset_add(rd, own);
        errno = 0;
        int r = wait_read(rd, 0);
        CHECK(r == -1 && errno == EBADF, "libsock's own %d as a member of %s set: %d", own,
              k ? "another" : "its own", r);
    }
    close(sv[0]);
    close(sv[1]);
    sockset_free(other);

    /* With LIBSOCK_TRACE naming a file (OWN_FDS_TRACE: the same path), the
     * trace file is libsock's too: high, and EBADF as a member. */
    const char *trace = getenv("OWN_FDS_TRACE");
    if (trace) {
        char want[4096], path[64], target[4096];
        CHECK(realpath(trace, want) != NULL, "realpath %s", trace);
        int tfd = -1;
        for (int fd = 3; fd < limit_fds && tfd < 0; fd++) {
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t len = readlink(path, target, sizeof target - 1);
            if (len > 0 && (target[len] = 0, strcmp(target, want) == 0))
                tfd = fd;
        }
        CHECK(tfd >= (limit_fds < 1024 ? limit_fds / 2 : 896), "the trace file at %d, kept high", tfd);
        pair(sv);
        sockset_reset(keep);
        sockset_add(keep, sv[0]);
        sockset_add(keep, tfd);
        errno = 0;
        int r = wait_read(keep, 0);
        CHECK(r == -1 && errno == EBADF, "the trace file %d as a member: %d", tfd, r);
        close(sv[0]);
        close(sv[1]);
    }
    survives("after the own-member checks", keep);

    /* Every way of closing everything above 2; each time libsock holds an
     * instance first (own_epoll makes sure). */
    own_epoll(keep);
    close_loop(0);
    survives("close(fd) for every fd above 2", keep);

    own_epoll(keep);
    CHECK(close_range(3, ~0U, 0) == 0, "close_range");
    survives("close_range(3, ~0U, 0)", keep);

    own_epoll(keep);
    CHECK(close_range(3, ~0U, CLOSE_RANGE_UNSHARE) == 0, "close_range UNSHARE");
    survives("close_range(3, ~0U, CLOSE_RANGE_UNSHARE)", keep);

    own = own_epoll(keep);
    CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0, "close_range CLOEXEC");
    survives("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)", keep);
    CHECK(own_epoll(keep) == own, "CLOSE_RANGE_CLOEXEC closes nothing: still %d", own);

    /* A vfork child closing everything above 2 before it execs (what
     * Python's subprocess does) closes its own table, not ours: libsock
     * keeps its instance, and leaks none. */
    own = own_epoll(keep);
    for (int i = 0; i < 3; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            close_range(3, ~0U, 0);
            _exit(0);
        }
        int status;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "vfork");
    }
    survives("a vfork child's close_range(3, ~0U, 0)", keep);
    {
        int fds[8];
        int n = own_epolls(fds, 8);
        CHECK(n == 1 && fds[0] == own, "after the vfork children: %d instances, the first %d, was %d",
              n, n ? fds[0] : -1, own);
    }

    own_epoll(keep);
    CHECK(syscall(__NR_close_range, 3, ~0U, 0) == 0, "raw close_range");
    survives("raw syscall(__NR_close_range) (unseen)", keep);

    own_epoll(keep);
    close_loop(1);
    survives("raw syscall(SYS_close) for every fd above 2 (unseen)", keep);

    /* Over libsock's number: dup2, dup3, and the raw dup3 libsock cannot see
     * (its epoll_wait then meets a socket: EINVAL). The number is the
     * program's socket now, and a good member. */
    const char *how[] = {"dup2", "dup3", "raw dup3 (unseen)"};
    for (int k = 0; k < 3; k++) {
        own = own_epoll(keep);
        pair(sv);
        int r = k == 0   ? dup2(sv[0], own)
                : k == 1 ? dup3(sv[0], own, O_CLOEXEC)
                         : (int)syscall(SYS_dup3, sv[0], own, O_CLOEXEC);
        CHECK(r == own, "%s over libsock's %d", how[k], own);
        char label[64];
        snprintf(label, sizeof label, "%s over libsock's number", how[k]);
        survives(label, keep);
        for (int idle = 1; idle >= 0; idle--) {
            if (!idle)
                CHECK(write(sv[1], "y", 1) == 1, "write");
            sockset_reset(keep);
            sockset_add(keep, own);
            errno = 0;
            int n = wait_read(keep, idle ? 0 : -1);
            CHECK(n == !idle && sockset_is_set(keep, own) == !idle,
                  "%s: the program's socket at %d, %s: %d", how[k], own, idle ? "idle" : "ready", n);
        }
        close(own);
        close(sv[0]);
        close(sv[1]);
    }

    /* A socket dup2'ed over every low number, libsock's among them; its
     * peer above them all. */
    int top = (limit_fds < 1032 ? limit_fds : 1032) - 8;
    own_epoll(keep);
    pair(sv);
    int peer = fcntl(sv[1], F_DUPFD_CLOEXEC, top + 4);
    int sock = fcntl(sv[0], F_DUPFD_CLOEXEC, top + 4);
    CHECK(peer > top && sock > top, "the pair moved above %d", top);
    close(sv[0]);
    close(sv[1]);
    for (int fd = 3; fd < top; fd++)
        CHECK(dup2(sock, fd) == fd, "dup2 over %d", fd);
    for (int ready = 0; ready < 2; ready++) {
        if (ready)
            CHECK(write(peer, "z", 1) == 1, "write");
        sockset_reset(keep);
        for (int fd = 3; fd < top; fd++)
            sockset_add(keep, fd);
        errno = 0;
        int n = wait_read(keep, ready ? -1 : 0);
        CHECK(n == (ready ? top - 3 : 0), "a socket under every number 3..%d, %s: %d", top - 1,
              ready ? "ready" : "idle", n);
    }
    for (int fd = 3; fd < top; fd++)
        close(fd);
    close(sock);
    close(peer);
    survives("after dup2 over every low number", keep);
    sockset_free(keep);
    return DONE("own-fds");
}
