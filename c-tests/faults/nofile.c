/* nofile.c — socket calls with RLIMIT_NOFILE exhausted.
 *
 * RLIMIT_NOFILE is lowered to 64 and every free descriptor is then taken
 * (dup, which libsock does not see); socket, socketpair, accept and accept4
 * must fail with EMFILE exactly as natively, and a listener's pending
 * connection must still be there afterwards. Where libsock's API is present
 * (dlsym, so the same binary runs natively), sockset_new/add/select must
 * work with no descriptor to spare (no epoll instance can be made: the wait
 * falls back to poll) and answer as select(2) does. Then descriptors are
 * freed one at a time and each call succeeds as natively.
 *
 *   nofile early|late
 *     early: a socket call before the exhaustion, so a trace file libsock
 *            opens is already open (and the fill simply gets one less);
 *     late:  the first socket call is made with no descriptor left: libsock
 *            cannot open its trace file and must say so once on stderr.
 *   NOFILE_EXIT_FULL=1: exit with the descriptors still exhausted (libsock
 *            cannot open its stats file at exit: one line on stderr).
 *
 * Output lines are "L<line> <call> = <result> errno=<NAME>", descriptors
 * shown as "fd": byte-identical natively, preloaded and linked. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *errname(int e)
{
    return e == 0 ? "0" : strerrorname_np(e) ? strerrorname_np(e) : "E?";
}

static long show(int line, const char *what, long ret, int err, int is_fd)
{
    if (is_fd && ret >= 0)
        printf("L%d %s = fd errno=%s\n", line, what, errname(err));
    else
        printf("L%d %s = %ld errno=%s\n", line, what, ret, errname(err));
    fflush(stdout);
    errno = err;
    return ret;
}

#define CALL(expr, text, is_fd)                                                \
    __extension__({                                                            \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        int e_ = errno;                                                        \
        show(__LINE__, text, r_, e_, is_fd);                                   \
    })
#define CK(expr) CALL(expr, #expr, 0)
#define FD(expr) CALL(expr, #expr, 1)

typedef struct SocketSet SocketSet;

static int spare[64], nspare;

/* Takes every free descriptor. */
static void exhaust(void)
{
    int fd;
    while ((fd = dup(0)) >= 0) {
        if (nspare < (int)(sizeof spare / sizeof spare[0]))
            spare[nspare++] = fd;
        else
            abort();
    }
    printf("exhausted: dup = -1 errno=%s\n", errname(errno));
}

/* Gives one back. */
static void release(void)
{
    if (nspare > 0)
        close(spare[--nspare]);
}

int main(int argc, char **argv)
{
    int early = argc > 1 && strcmp(argv[1], "early") == 0;
    SocketSet *(*s_new)(void) = (SocketSet * (*)(void)) dlsym(RTLD_DEFAULT, "sockset_new");
    int (*s_add)(SocketSet *, int) = (int (*)(SocketSet *, int))dlsym(RTLD_DEFAULT, "sockset_add");
    int (*s_is_set)(const SocketSet *, int) =
        (int (*)(const SocketSet *, int))dlsym(RTLD_DEFAULT, "sockset_is_set");
    void (*s_free)(SocketSet *) = (void (*)(SocketSet *))dlsym(RTLD_DEFAULT, "sockset_free");
    int (*s_select)(SocketSet *, SocketSet *, SocketSet *, const struct timeval *) =
        (int (*)(SocketSet *, SocketSet *, SocketSet *, const struct timeval *))dlsym(
            RTLD_DEFAULT, "sockset_select");

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("setrlimit");
        return 2;
    }

    /* A listener with a connection waiting, made with raw descriptors in
     * the late case too: the first socket call must come after the fill. */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int l, c;
    if (early) {
        l = FD(socket(AF_INET, SOCK_STREAM, 0));
        CK(bind(l, (struct sockaddr *)&a, sizeof a));
        CK(listen(l, 4));
        CK(getsockname(l, (struct sockaddr *)&a, &len));
        c = FD(socket(AF_INET, SOCK_STREAM, 0));
        CK(connect(c, (struct sockaddr *)&a, sizeof a));
    } else {
        /* Through the system calls themselves, so libsock sees nothing yet. */
        l = syscall(41 /* SYS_socket */, AF_INET, SOCK_STREAM, 0);
        syscall(49 /* SYS_bind */, l, &a, sizeof a);
        syscall(50 /* SYS_listen */, l, 4);
        syscall(51 /* SYS_getsockname */, l, &a, &len);
        c = syscall(41, AF_INET, SOCK_STREAM, 0);
        if (l < 0 || c < 0 || syscall(42 /* SYS_connect */, c, &a, sizeof a) != 0) {
            perror("raw set-up");
            return 2;
        }
        printf("set-up: listener with a pending connection\n");
    }

    exhaust();
    int sv[2] = { -1, -1 };
    FD(socket(AF_INET, SOCK_STREAM, 0));
    FD(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    FD(accept(l, NULL, NULL));
    FD(accept4(l, NULL, NULL, SOCK_NONBLOCK));
    CK(close(-1));

    /* select(2) and, where present, sockset_select with no descriptor free. */
    fd_set r;
    FD_ZERO(&r);
    FD_SET(l, &r);
    FD_SET(c, &r);
    struct timeval tv = { 0, 0 };
    int want = select((l > c ? l : c) + 1, &r, NULL, NULL, &tv);
    int got = want, got_l = FD_ISSET(l, &r) != 0, got_c = FD_ISSET(c, &r) != 0;
    if (s_new && s_add && s_is_set && s_free && s_select) {
        SocketSet *set = s_new();
        if (!set) {
            printf("MISMATCH sockset_new = NULL errno=%s\n", errname(errno));
        } else {
            if (s_add(set, l) != 0 || s_add(set, c) != 0)
                printf("MISMATCH sockset_add = -1 errno=%s\n", errname(errno));
            struct timeval tv2 = { 0, 0 };
            got = s_select(set, NULL, NULL, &tv2);
            if (got < 0)
                printf("MISMATCH sockset_select = -1 errno=%s\n", errname(errno));
            got_l = s_is_set(set, l);
            got_c = s_is_set(set, c);
            s_free(set);
        }
    }
    printf("select: %d ready; listener %d, client %d\n", got, got_l, got_c);

    /* One descriptor back: each call in turn succeeds, then gives it back. */
    release();
    int s = FD(socket(AF_INET, SOCK_STREAM, 0));
    CK(close(s));
    int acc = FD(accept4(l, NULL, NULL, SOCK_CLOEXEC));
    CK(send(c, "ping", 4, 0));
    char buf[8];
    CK(recv(acc, buf, sizeof buf, 0));
    CK(close(acc));
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    release();
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CK(close(sv[0]));
    CK(close(sv[1]));
    CK(close(c));
    CK(close(l));

    if (getenv("NOFILE_EXIT_FULL")) {
        exhaust();
        return 0;
    }
    while (nspare > 0)
        release();
    return 0;
}
