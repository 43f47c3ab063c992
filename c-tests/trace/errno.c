/*
 * errno.c — calls that fail, and calls that succeed with errno already set:
 * for each, one line "CALL RET ERRNO" where ERRNO is the name of errno just
 * after the call. errno is set to EDOM before every call, so a successful
 * call prints EDOM unless something (libsock's tracing, say) changed it.
 *
 * A returned descriptor prints as "fd" (see show()).
 *
 * The output must be identical with and without libsock and whatever
 * tracing or stats are switched on; and the trace's own lines, as
 * "CALL RET ERRNO" (EDOM for a success), must be exactly these lines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A descriptor a call returns prints as "fd": with tracing to a file,
 * libsock's own descriptor for it takes a number (see run.sh). */
static void show(const char *call, long ret, int is_fd)
{
    int e = errno;
    if (is_fd && ret >= 0)
        printf("%s fd %s\n", call, strerrorname_np(e));
    else
        printf("%s %ld %s\n", call, ret, strerrorname_np(e));
}

#define CALL(name, expr)                                                                   \
    do {                                                                                   \
        errno = EDOM;                                                                      \
        long r_ = (long)(expr);                                                            \
        show(name, r_, 0);                                                                 \
    } while (0)

int main(void)
{
    char buf[64] = "x";
    int one = 1;
    void *bad = (void *)1;
    int p[2];
    if (pipe(p) != 0)
        return 1;
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    CALL("socket", socket(12345, SOCK_STREAM, 0));
    CALL("socket", socket(AF_INET, 999, 0));
    int q[2]; /* the kernel writes the pair out before the protocol refuses */
    CALL("socketpair", socketpair(AF_INET, SOCK_STREAM, 0, q));
    errno = EDOM;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    show("socket", s, 1);
    errno = EDOM;
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    show("socket", u, 1);
    CALL("bind", bind(s, NULL, sizeof lo));
    CALL("bind", bind(s, bad, sizeof lo));
    CALL("bind", bind(s, (struct sockaddr *)&lo, 3));
    /* a port nothing listens on: bound, never listening */
    CALL("bind", bind(u, (struct sockaddr *)&lo, sizeof lo));
    socklen_t sl = sizeof lo;
    CALL("getsockname", getsockname(u, (struct sockaddr *)&lo, &sl));
    CALL("connect", connect(s, (struct sockaddr *)&lo, sizeof lo));
    CALL("connect", connect(s, bad, sizeof lo));
    CALL("listen", listen(p[0], 1));
    CALL("accept", accept(s, NULL, NULL));
    CALL("accept4", accept4(s, NULL, NULL, 12345));
    CALL("send", send(s, buf, 1, MSG_NOSIGNAL));
    CALL("recv", recv(s, buf, sizeof buf, MSG_DONTWAIT));
    CALL("sendto", sendto(u, buf, 1, 0, NULL, 0));
    CALL("sendto", sendto(u, buf, 1, 0, bad, sizeof lo));
    CALL("recvfrom", recvfrom(u, buf, sizeof buf, 0, NULL, NULL));
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    CALL("sendmsg", sendmsg(-1, &mh, 0));
    CALL("recvmsg", recvmsg(u, &mh, MSG_DONTWAIT));
    CALL("recvmsg", recvmsg(u, bad, 0));
    struct mmsghdr mm = {.msg_hdr = mh};
    CALL("sendmmsg", sendmmsg(999, &mm, 1, 0));
    CALL("recvmmsg", recvmmsg(u, &mm, 1, MSG_DONTWAIT, NULL));
    CALL("setsockopt", setsockopt(s, SOL_SOCKET, 99999, &one, sizeof one));
    CALL("setsockopt", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &one, 1));
    CALL("setsockopt", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, bad, sizeof one));
    CALL("setsockopt", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    int ty;
    socklen_t tl = sizeof ty;
    CALL("getsockopt", getsockopt(-1, SOL_SOCKET, SO_TYPE, &ty, &tl));
    CALL("getsockopt", getsockopt(s, SOL_SOCKET, SO_TYPE, NULL, &tl));
    CALL("getsockopt", getsockopt(s, SOL_SOCKET, SO_TYPE, &ty, bad));
    tl = sizeof ty;
    CALL("getsockopt", getsockopt(s, SOL_SOCKET, SO_TYPE, &ty, &tl));
    sl = sizeof lo;
    CALL("getsockname", getsockname(p[0], (struct sockaddr *)&lo, &sl));
    CALL("getsockname", getsockname(s, bad, &sl));
    CALL("getsockname", getsockname(s, (struct sockaddr *)&lo, bad));
    CALL("getpeername", getpeername(s, (struct sockaddr *)&lo, &sl));
    CALL("shutdown", shutdown(s, 99));
    CALL("shutdown", shutdown(s, SHUT_RD));
    CALL("close", close(-1));
    CALL("close", close(999));
    CALL("dup2", dup2(-1, 50));
    errno = EDOM;
    show("dup2", dup2(s, s), 1);
    CALL("dup3", dup3(s, s, 0));
    CALL("close_range", close_range(10, 5, 0));
    CALL("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, p));
    CALL("send", send(p[0], buf, 1, 0));
    CALL("recv", recv(p[1], bad, 1, 0));
    CALL("recv", recv(p[1], buf, sizeof buf, MSG_DONTWAIT));
    CALL("close", close(p[0]));
    CALL("close", close(p[1]));
    CALL("close", close(u));
    CALL("close", close(s));
    return 0;
}
