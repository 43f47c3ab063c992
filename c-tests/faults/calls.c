/* calls.c — a deterministic tour of the socket calls for the fault tests:
 * every call libsock exports, good inputs and bad (bad descriptors, a pipe,
 * bad pointers, bad families and types), TCP, UDP and unix sockets on
 * loopback, the batch calls, dup2/dup3/close_range, and — where libsock's
 * API is present (looked up with dlsym, so the same binary runs natively)
 * — sockset_select against select(2).
 *
 * Each line is "L<line> <call> = <result> errno=<NAME>", with descriptors
 * printed as "fd" (their numbers shift when libsock holds a trace file
 * open), so a run under any fault must print exactly what the native run
 * prints. The sockset lines print select(2)'s answer natively and
 * sockset_select's where libsock is loaded; if a sockset call fails with
 * ENOMEM (under libfailmalloc) that is noted on stderr ("calls: sockset
 * ... ENOMEM") and select(2)'s answer is printed instead, after checking
 * that the failed call left the sets unchanged.
 *
 * Environment: CALLS_REPEAT (rounds, default 1), CALLS_EXIT (exit, _exit:
 * how the program ends; default: return from main). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static const char *errname(int e)
{
    static char buf[16];
    if (e == 0)
        return "0";
    const char *n = strerrorname_np(e);
    if (n)
        return n;
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

static long show(int line, const char *what, long ret, int err, int is_fd)
{
    if (is_fd && ret >= 0)
        printf("L%d %s = fd errno=%s\n", line, what, errname(err));
    else
        printf("L%d %s = %ld errno=%s\n", line, what, ret, errname(err));
    errno = err;
    return ret;
}

/* A checked call: errno cleared first; the result and errno printed. */
#define CALL(expr, text, is_fd)                                                \
    __extension__({                                                            \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        int e_ = errno;                                                        \
        show(__LINE__, text, r_, e_, is_fd);                                   \
    })
#define CK(expr) CALL(expr, #expr, 0)
/* The same for a call that returns a descriptor. */
#define FD(expr) CALL(expr, #expr, 1)

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return a;
}

#define SA(p) ((struct sockaddr *)(p))

static void create(void)
{
    int a = FD(socket(AF_INET, SOCK_STREAM, 0));
    int b = FD(socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    int c = FD(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    FD(socket(-1, SOCK_STREAM, 0));
    FD(socket(AF_INET, 999, 0));
    FD(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    CK(close(a));
    CK(close(b));
    CK(close(c));
    CK(close(a));
    int sv[2];
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CK(close(sv[0]));
    CK(close(sv[1]));
    CK(socketpair(AF_INET, SOCK_STREAM, 0, sv));
    CK(socketpair(AF_UNIX, SOCK_DGRAM, 0, NULL));
}

static void tcp(void)
{
    struct sockaddr_in a = loopback(0), peer;
    socklen_t len = sizeof a, plen = sizeof peer;
    int l = FD(socket(AF_INET, SOCK_STREAM, 0));
    CK(bind(l, SA(&a), sizeof a));
    CK(listen(l, 4));
    CK(getsockname(l, SA(&a), &len));
    int c = FD(socket(AF_INET, SOCK_STREAM, 0));
    CK(connect(c, SA(&a), sizeof a));
    int s = FD(accept4(l, SA(&peer), &plen, SOCK_CLOEXEC));
    CK(plen);
    plen = sizeof peer;
    CK(getpeername(c, SA(&peer), &plen));
    int v = 1, got = 0;
    socklen_t vl = sizeof got;
    CK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    CK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &got, &vl));
    CK(got != 0);
    vl = sizeof got;
    CK(getsockopt(s, SOL_SOCKET, SO_TYPE, &got, &vl));
    CK(got);
    char buf[64] = { 0 };
    CK(send(c, "hello", 5, 0));
    CK(recv(s, buf, sizeof buf, 0));
    CK(memcmp(buf, "hello", 5));
    struct iovec iov[2] = { { "abc", 3 }, { "defg", 4 } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
    CK(sendmsg(s, &m, 0));
    struct iovec riov = { buf, sizeof buf };
    struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1 };
    CK(recvmsg(c, &rm, MSG_WAITALL & 0));
    CK(memcmp(buf, "abcdefg", 7));
    CK(sendto(c, "xy", 2, 0, NULL, 0));
    CK(recvfrom(s, buf, sizeof buf, 0, NULL, NULL));
    CK(shutdown(c, SHUT_WR));
    CK(recv(s, buf, sizeof buf, 0));
    CK(shutdown(s, 99));
    CK(accept(c, NULL, NULL));
    CK(listen(c, 1));
    CK(close(s));
    CK(close(c));
    CK(close(l));
    /* A refused connection: the port was just released by the listener. */
    c = FD(socket(AF_INET, SOCK_STREAM, 0));
    CK(connect(c, SA(&a), sizeof a));
    CK(close(c));
}

static void udp(void)
{
    struct sockaddr_in a = loopback(0), from;
    socklen_t len = sizeof a, flen = sizeof from;
    int u = FD(socket(AF_INET, SOCK_DGRAM, 0));
    int r = FD(socket(AF_INET, SOCK_DGRAM, 0));
    CK(bind(r, SA(&a), sizeof a));
    CK(getsockname(r, SA(&a), &len));
    char buf[64];
    CK(sendto(u, "datagram", 8, 0, SA(&a), sizeof a));
    CK(recvfrom(r, buf, 4, MSG_TRUNC, SA(&from), &flen));
    CK(flen);
    CK(connect(u, SA(&a), sizeof a));
    struct mmsghdr mm[3];
    struct iovec iov[3];
    char data[3][8] = { "one", "two", "three" };
    for (int i = 0; i < 3; i++) {
        iov[i] = (struct iovec){ data[i], strlen(data[i]) };
        mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    CK(sendmmsg(u, mm, 3, 0));
    char in[3][16];
    for (int i = 0; i < 3; i++) {
        iov[i] = (struct iovec){ in[i], sizeof in[i] };
        mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    CK(recvmmsg(r, mm, 3, MSG_DONTWAIT, NULL));
    CK(mm[2].msg_len);
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(close(u));
    CK(close(r));
}

static void bad(void)
{
    struct sockaddr_in a = loopback(9);
    socklen_t len = sizeof a;
    char buf[8];
    int v = 1;
    CK(bind(-1, SA(&a), sizeof a));
    CK(connect(99999, SA(&a), sizeof a));
    CK(send(-1, "x", 1, 0));
    CK(recv(-1, buf, 1, 0));
    CK(setsockopt(-1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    CK(getsockname(-1, SA(&a), &len));
    CK(shutdown(-1, SHUT_RDWR));
    CK(close(-1));
    int p[2];
    if (pipe(p) != 0)
        abort();
    CK(bind(p[0], SA(&a), sizeof a));
    CK(listen(p[0], 1));
    CK(accept(p[0], NULL, NULL));
    CK(getsockopt(p[1], SOL_SOCKET, SO_TYPE, &v, &len));
    CK(send(p[1], "x", 1, 0));
    CK(close(p[0]));
    CK(close(p[1]));
    int s = FD(socket(AF_INET, SOCK_STREAM, 0));
    CK(bind(s, NULL, sizeof a));
    CK(connect(s, (struct sockaddr *)1, sizeof a));
    CK(getsockname(s, NULL, NULL));
    CK(bind(s, SA(&a), 3));
    CK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, NULL, 4));
    CK(setsockopt(s, 12345, 678, &v, sizeof v));
    /* Descriptor numbers chosen by the program. */
    CK(dup2(s, 200));
    CK(dup3(s, 201, O_CLOEXEC));
    CK(dup3(s, s, 0));
    CK(close_range(200, 201, 0));
    CK(close(200));
    CK(dup2(-1, 202));
    CK(close(s));
}

/* The sockset API, where libsock provides it. */
typedef struct SocketSet SocketSet;
static SocketSet *(*p_new)(void);
static void (*p_free)(SocketSet *);
static int (*p_add)(SocketSet *, int);
static int (*p_is_set)(const SocketSet *, int);
static size_t (*p_count)(const SocketSet *);
static int (*p_select)(SocketSet *, SocketSet *, SocketSet *, const struct timeval *);

static void api(void)
{
    *(void **)&p_new = dlsym(RTLD_DEFAULT, "sockset_new");
    *(void **)&p_free = dlsym(RTLD_DEFAULT, "sockset_free");
    *(void **)&p_add = dlsym(RTLD_DEFAULT, "sockset_add");
    *(void **)&p_is_set = dlsym(RTLD_DEFAULT, "sockset_is_set");
    *(void **)&p_count = dlsym(RTLD_DEFAULT, "sockset_count");
    *(void **)&p_select = dlsym(RTLD_DEFAULT, "sockset_select");
    if (!p_free || !p_add || !p_is_set || !p_count || !p_select)
        p_new = NULL;
}

static void enomem(const char *what)
{
    fprintf(stderr, "calls: sockset %s: ENOMEM (select(2)'s answer printed)\n", what);
}

static void sockset(void)
{
    enum { N = 6 };
    int fds[N], sv[2], sv2[2];
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);    /* sv[0] readable */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv2);   /* sv2[0] idle */
    send(sv[1], "r", 1, 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);    /* listener with a pending connection */
    bind(l, SA(&a), sizeof a);
    listen(l, 1);
    getsockname(l, SA(&a), &len);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, SA(&a), sizeof a);
    fds[0] = sv[0], fds[1] = sv[1], fds[2] = sv2[0], fds[3] = l, fds[4] = c, fds[5] = sv2[1];
    int in_r[N] = { 1, 1, 1, 1, 0, 0 }, in_w[N] = { 1, 0, 1, 0, 1, 1 };

    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    int maxfd = -1;
    for (int i = 0; i < N; i++) {
        if (in_r[i])
            FD_SET(fds[i], &r);
        if (in_w[i])
            FD_SET(fds[i], &w);
        maxfd = fds[i] > maxfd ? fds[i] : maxfd;
    }
    struct timeval tv = { 0, 0 };
    int want = select(maxfd + 1, &r, &w, NULL, &tv);
    int n = want, ready_r[N], ready_w[N];
    for (int i = 0; i < N; i++) {
        ready_r[i] = FD_ISSET(fds[i], &r) != 0;
        ready_w[i] = FD_ISSET(fds[i], &w) != 0;
    }

    if (p_new) {
        SocketSet *rs = NULL, *ws = NULL;
        errno = 0;
        if (!(rs = p_new()) || !(ws = p_new())) {
            if (errno == ENOMEM)
                enomem("sockset_new");
            else
                printf("MISMATCH sockset_new = NULL errno=%s\n", errname(errno));
        } else {
            int added = 1;
            for (int i = 0; i < N && added; i++) {
                if ((in_r[i] && p_add(rs, fds[i]) != 0) || (in_w[i] && p_add(ws, fds[i]) != 0)) {
                    added = 0;
                    if (errno == ENOMEM)
                        enomem("sockset_add");
                    else
                        printf("MISMATCH sockset_add = -1 errno=%s\n", errname(errno));
                }
            }
            if (added) {
                size_t rc = p_count(rs), wc = p_count(ws);
                struct timeval tv2 = { 0, 0 };
                errno = 0;
                int got = p_select(rs, ws, NULL, &tv2);
                if (got < 0 && errno == ENOMEM) {
                    enomem("sockset_select");
                    if (p_count(rs) != rc || p_count(ws) != wc)
                        printf("MISMATCH sockset_select failed and changed the sets\n");
                } else {
                    n = got;
                    for (int i = 0; i < N; i++) {
                        ready_r[i] = p_is_set(rs, fds[i]);
                        ready_w[i] = p_is_set(ws, fds[i]);
                    }
                }
            }
        }
        p_free(rs); /* NULL is a no-op */
        p_free(ws);
    }
    printf("L%d select = %d read:", __LINE__, n);
    for (int i = 0; i < N; i++)
        if (ready_r[i])
            printf(" %d", i);
    printf(" write:");
    for (int i = 0; i < N; i++)
        if (ready_w[i])
            printf(" %d", i);
    printf("\n");
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

int main(void)
{
    const char *rep = getenv("CALLS_REPEAT");
    int repeat = rep ? atoi(rep) : 1;
    api();
    for (int i = 0; i < repeat; i++) {
        create();
        tcp();
        udp();
        bad();
        sockset();
    }
    const char *how = getenv("CALLS_EXIT");
    if (how && strcmp(how, "_exit") == 0) {
        fflush(stdout);
        _exit(0);
    }
    if (how && strcmp(how, "exit") == 0)
        exit(0);
    return 0;
}
