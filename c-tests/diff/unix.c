/*
 * unix.c — Unix-domain sockets end to end: pathname and abstract stream
 * listeners (connect, accept with full and truncated addresses, peer
 * credentials), connecting to missing paths, non-socket files, sockets that
 * do not listen and sockets of the wrong type; datagram sockets (sender
 * addresses, unbound senders, connected peers, a full receive queue,
 * ECONNREFUSED / ENOTCONN after the peer goes); SOCK_SEQPACKET boundaries;
 * unnamed socketpairs; and the socket file left behind after close.
 */
#include "check.h"

static socklen_t path_addr(struct sockaddr_un *un, const char *path)
{
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *un, const char *tag)
{
    char name[80];
    int n = snprintf(name, sizeof name, "libsock-diff-%s-%s", tag, run_token());
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path + 1, name, (size_t)n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static void stream_server(const char *kind, struct sockaddr_un *un, socklen_t len)
{
    int l, c, a;
    struct sockaddr_un peer;
    socklen_t plen;
    char buf[16];

    SAY("== stream, %s address", kind);
    l = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(bind(l, (struct sockaddr *)un, len));
    CK(listen(l, 4));
    c = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(connect(c, (struct sockaddr *)un, len));
    memset(&peer, FILL, sizeof peer);
    plen = sizeof peer;
    a = (int)CK(accept(l, (struct sockaddr *)&peer, &plen));
    SAY("  peer: len %u %s", (unsigned)plen, addr_str(&peer, plen));
    plen = sizeof peer;
    CK(getpeername(c, (struct sockaddr *)&peer, &plen));
    SAY("  client's peer: len %u, same as bound: %s", (unsigned)plen,
        plen == len && memcmp(&peer, un, len) == 0 ? "yes" : "no");
    {
        struct ucred cr;
        socklen_t crl = sizeof cr;
        CK(getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &crl));
        SAY("  peer pid is mine: %s, uid %u", cr.pid == getpid() ? "yes" : "no",
            (unsigned)cr.uid);
    }
    CK(send(c, "hello", 5, 0));
    CK(recv(a, buf, sizeof buf, 0));
    CK(shutdown(c, SHUT_WR));
    CK(recv(a, buf, sizeof buf, 0));
    CK(send(a, "bye", 3, 0));
    CK(recv(c, buf, sizeof buf, 0));
    CK(close(a));
    CK(recv(c, buf, sizeof buf, 0));
    CK(close(c));

    /* Truncated client address from accept (an autobound client has a name). */
    c = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(bind(c, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX},
            sizeof(sa_family_t)));
    CK(connect(c, (struct sockaddr *)un, len));
    memset(&peer, FILL, sizeof peer);
    plen = 4;
    a = (int)CK(accept(l, (struct sockaddr *)&peer, &plen));
    SAY("  len now %u, bytes beyond 4 untouched: %s", (unsigned)plen,
        untouched(&peer, 4, sizeof peer) ? "yes" : "no");
    CK(close(a));
    CK(close(c));

    /* A datagram socket cannot connect to a stream listener; nor a seqpacket one. */
    c = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
    CK(connect(c, (struct sockaddr *)un, len));
    CK(close(c));
    c = (int)CK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    CK(connect(c, (struct sockaddr *)un, len));
    CK(close(c));
    /* A full backlog on a nonblocking connect: EAGAIN eventually. */
    CK(listen(l, 0));
    {
        int fds[8], n = 0;
        long r;
        do {
            fds[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
            r = connect(fds[n], (struct sockaddr *)un, len);
            n++;
        } while (r == 0 && n < 8);
        SAY("  connects before failing: %d, then %s", r == 0 ? n : n - 1,
            r == 0 ? "none failed" : errname(errno));
        for (int i = 0; i < n; i++)
            close(fds[i]);
    }
    CK(close(l));
    c = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(connect(c, (struct sockaddr *)un, len));           /* listener gone */
    CK(close(c));
}

static void connect_failures(void)
{
    struct sockaddr_un un;
    socklen_t len;
    int c, b;

    SAY("== connect failures");
    c = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    len = path_addr(&un, "missing.sock");
    CK(connect(c, (struct sockaddr *)&un, len));
    len = path_addr(&un, "missing-dir/x.sock");
    CK(connect(c, (struct sockaddr *)&un, len));
    {
        int f = open("plain-file", O_CREAT | O_WRONLY, 0600);
        close(f);
    }
    len = path_addr(&un, "plain-file");
    CK(connect(c, (struct sockaddr *)&un, len));
    len = path_addr(&un, ".");
    CK(connect(c, (struct sockaddr *)&un, len));
    len = abstract_addr(&un, "nobody-listens");
    CK(connect(c, (struct sockaddr *)&un, len));
    CK(connect(c, (struct sockaddr *)&un, sizeof(sa_family_t)));
    CK(connect(c, (struct sockaddr *)&un, 1));
    CK(connect(c, (struct sockaddr *)&un, sizeof un + 1));
    un.sun_family = AF_INET;
    CK(connect(c, (struct sockaddr *)&un, len));
    /* Bound but not listening. */
    b = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    len = path_addr(&un, "quiet.sock");
    CK(bind(b, (struct sockaddr *)&un, len));
    CK(connect(c, (struct sockaddr *)&un, len));
    CK(close(b));
    /* The file stays after close; binding it again needs an unlink. */
    b = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(bind(b, (struct sockaddr *)&un, len));
    CK(connect(c, (struct sockaddr *)&un, len));
    CK(unlink("quiet.sock"));
    CK(bind(b, (struct sockaddr *)&un, len));
    CK(close(b));
    CK(close(c));
    unlink("quiet.sock");
    unlink("plain-file");
}

static void datagrams(void)
{
    struct sockaddr_un ra, sa, from;
    socklen_t rlen, slen, flen;
    int r, s, n;
    char buf[32];

    SAY("== datagrams");
    rlen = path_addr(&ra, "dgram-r.sock");
    slen = path_addr(&sa, "dgram-s.sock");
    unlink(ra.sun_path);
    unlink(sa.sun_path);
    r = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
    CK(bind(r, (struct sockaddr *)&ra, rlen));
    s = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
    CK(sendto(s, "anon", 4, 0, (struct sockaddr *)&ra, rlen));   /* unbound sender */
    flen = sizeof from;
    memset(&from, FILL, sizeof from);
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    SAY("  from: len %u %s", (unsigned)flen, addr_str(&from, flen));
    CK(bind(s, (struct sockaddr *)&sa, slen));
    CK(sendto(s, "named", 5, 0, (struct sockaddr *)&ra, rlen));
    flen = sizeof from;
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    SAY("  from: len %u %s", (unsigned)flen, addr_str(&from, flen));
    CK(sendto(s, "named", 5, 0, (struct sockaddr *)&ra, rlen));
    flen = 5;
    memset(&from, FILL, sizeof from);
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    SAY("  truncated from: len %u, beyond 5 untouched: %s", (unsigned)flen,
        untouched(&from, 5, sizeof from) ? "yes" : "no");
    CK(send(s, "x", 1, 0));                                       /* not connected */
    CK(sendto(s, "x", 1, 0, (struct sockaddr *)&sa, slen));       /* to itself */
    CK(recv(s, buf, sizeof buf, 0));
    {
        struct sockaddr_un nowhere;
        socklen_t nlen = path_addr(&nowhere, "nowhere.sock");
        CK(sendto(s, "x", 1, 0, (struct sockaddr *)&nowhere, nlen));
        nlen = abstract_addr(&nowhere, "nowhere");
        CK(sendto(s, "x", 1, 0, (struct sockaddr *)&nowhere, nlen));
    }
    /* Connected: a full queue gives EAGAIN with MSG_DONTWAIT. */
    CK(connect(s, (struct sockaddr *)&ra, rlen));
    for (n = 0; n < 100; n++)
        if (send(s, "fill", 4, MSG_DONTWAIT) < 0)
            break;
    SAY("  sends before the queue was full: %d, then %s", n, errname(errno));
    flen = sizeof from;
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    SAY("  from: %s", addr_str(&from, flen));
    CK(send(s, "one more", 8, MSG_DONTWAIT));
    /* Once r is connected to s, a third socket may no longer send to r. */
    {
        int t = socket(AF_UNIX, SOCK_DGRAM, 0);
        CK(connect(r, (struct sockaddr *)&sa, slen));             /* now r only hears s */
        CK(sendto(t, "intruder", 8, MSG_DONTWAIT, (struct sockaddr *)&ra, rlen));
        close(t);
    }
    CK(close(r));
    CK(send(s, "x", 1, 0));                                        /* peer gone */
    CK(send(s, "x", 1, 0));
    CK(recv(s, buf, sizeof buf, MSG_DONTWAIT));
    CK(close(s));
    unlink(ra.sun_path);
    unlink(sa.sun_path);
}

static void seqpacket(void)
{
    struct sockaddr_un un;
    socklen_t len = abstract_addr(&un, "seqpacket");
    int l, c, a;
    char buf[8];

    SAY("== seqpacket");
    l = (int)CK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    CK(bind(l, (struct sockaddr *)&un, len));
    CK(listen(l, 2));
    c = (int)CK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    CK(connect(c, (struct sockaddr *)&un, len));
    a = (int)CK(accept4(l, NULL, NULL, SOCK_NONBLOCK));
    CK(send(c, "first record", 12, 0));
    CK(send(c, "2nd", 3, 0));
    CK(send(c, "", 0, 0));
    CK(recv(a, buf, sizeof buf, 0));                                /* truncated record */
    CK(recv(a, buf, sizeof buf, MSG_PEEK));
    CK(recv(a, buf, 1, MSG_TRUNC));
    CK(recv(a, buf, sizeof buf, 0));                                /* empty record */
    CK(recv(a, buf, sizeof buf, 0));
    CK(sendto(c, "x", 1, 0, (struct sockaddr *)&un, len));          /* address ignored? */
    CK(recv(a, buf, sizeof buf, 0));
    CK(close(c));
    CK(recv(a, buf, sizeof buf, 0));
    CK(send(a, "x", 1, MSG_NOSIGNAL));
    CK(close(a));
    CK(close(l));
}

static void pairs(void)
{
    int sv[2];
    struct sockaddr_un un;
    socklen_t len;
    char buf[8];

    SAY("== socketpair");
    CK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    len = sizeof un;
    memset(&un, FILL, sizeof un);
    CK(getsockname(sv[0], (struct sockaddr *)&un, &len));
    SAY("  %s, len %u", addr_str(&un, len), (unsigned)len);
    len = sizeof un;
    CK(getpeername(sv[1], (struct sockaddr *)&un, &len));
    SAY("  %s, len %u", addr_str(&un, len), (unsigned)len);
    CK(connect(sv[0], (struct sockaddr *)&un, len));               /* already connected */
    CK(bind(sv[0], (struct sockaddr *)&un, len));                   /* bind after the fact */
    len = abstract_addr(&un, "late-bind");
    CK(bind(sv[0], (struct sockaddr *)&un, len));
    CK(bind(sv[0], (struct sockaddr *)&un, len));                   /* twice */
    CK(send(sv[0], "ab", 2, 0));
    CK(recv(sv[1], buf, sizeof buf, 0));
    CK(close(sv[0]));
    CK(close(sv[1]));
    CK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CK(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&un, len));     /* connected: EISCONN? */
    CK(send(sv[0], "y", 1, 0));
    CK(recv(sv[1], buf, sizeof buf, 0));
    CK(shutdown(sv[0], SHUT_WR));
    CK(send(sv[0], "z", 1, MSG_NOSIGNAL));
    CK(close(sv[0]));
    CK(close(sv[1]));
}

int main(void)
{
    struct sockaddr_un un;
    socklen_t len;

    ck_init();
    len = path_addr(&un, "stream.sock");
    unlink(un.sun_path);
    stream_server("pathname", &un, len);
    unlink(un.sun_path);
    len = abstract_addr(&un, "stream");
    stream_server("abstract", &un, len);
    connect_failures();
    datagrams();
    seqpacket();
    pairs();
    return 0;
}
