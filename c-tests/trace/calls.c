/*
 * calls.c — every BSD call libsock traces, made once each (a few twice, to
 * fail), with arguments the program knows; for each call it prints on stdout
 * the trace record libsock must write for it, as one JSON object with the
 * keys of LIBSOCK_TRACE_FORMAT=json in record order (less ts, pid, tid, us).
 * c-tests/trace/run.sh compares this list with the trace of the same run, in
 * order, one to one, in both formats, and with strace's view of the run.
 *
 *     calls DIR        (DIR: where to put a unix socket; loopback only)
 *
 * Built with -D_FORTIFY_SOURCE=2 so that the recv and recvfrom with a
 * runtime length below reach libsock as __recv_chk and __recvfrom_chk
 * (traced as recv and recvfrom).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char line[2048];
static size_t used;

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    used += (size_t)vsnprintf(line + used, sizeof line - used, fmt, ap);
    va_end(ap);
}

/* One expected record: begin, keys in record order, then end. */
static void begin(const char *call) { used = 0; add("{\"call\":\"%s\"", call); }
static void kint(const char *key, long v) { add(",\"%s\":%ld", key, v); }
static void kstr(const char *key, const char *v) { add(",\"%s\":\"%s\"", key, v); }
static void end(long ret, int err)
{
    add(",\"ret\":%ld", ret);
    if (ret < 0)
        add(",\"errno\":\"%s\"", strerrorname_np(err));
    add("}");
    puts(line);
}

/* An address as libsock prints it. */
static const char *astr(const void *sa, socklen_t len)
{
    static char out[256];
    const struct sockaddr *s = sa;
    char ip[INET6_ADDRSTRLEN];
    if (s->sa_family == AF_INET) {
        const struct sockaddr_in *in = sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, sizeof out, "%s:%u", ip, ntohs(in->sin_port));
    } else if (s->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, sizeof out, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else if (s->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = sa;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (n == 0)
            snprintf(out, sizeof out, "unnamed");
        else if (un->sun_path[0] == '\0')
            snprintf(out, sizeof out, "@%.*s", (int)(n - 1), un->sun_path + 1);
        else
            snprintf(out, sizeof out, "%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
    } else {
        snprintf(out, sizeof out, "family %d", s->sa_family);
    }
    return out;
}

static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static void die(const char *what)
{
    fprintf(stderr, "calls: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A length the compiler cannot see through (for the _chk variants). */
static volatile size_t runtime_len = 100;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: calls DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int one = 1, r, e;
    ssize_t n;
    char buf[4096];
    memset(buf, 'x', sizeof buf);

    /* --- TCP: a listener, a client, an accepted connection --------------- */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_INET"); kstr("type", "SOCK_STREAM|SOCK_CLOEXEC");
    kint("protocol", 0); end(l, e);
    if (l < 0) die("socket");

    r = setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    e = errno;
    begin("setsockopt"); kint("fd", l); kstr("level", "SOL_SOCKET"); kstr("opt", "SO_REUSEADDR");
    kint("value", 1); kint("len", 4); end(r, e);

    struct linger lg = {.l_onoff = 0, .l_linger = 0};
    r = setsockopt(l, SOL_SOCKET, SO_LINGER, &lg, sizeof lg); /* not an int: no value */
    e = errno;
    begin("setsockopt"); kint("fd", l); kstr("level", "SOL_SOCKET"); kstr("opt", "SO_LINGER");
    kint("len", (long)sizeof lg); end(r, e);

    struct sockaddr_in any = v4("127.0.0.1", 0);
    r = bind(l, (struct sockaddr *)&any, sizeof any);
    e = errno;
    begin("bind"); kint("fd", l); kstr("addr", "127.0.0.1:0"); end(r, e);
    if (r) die("bind");

    r = listen(l, 7);
    e = errno;
    begin("listen"); kint("fd", l); kint("backlog", 7); end(r, e);

    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    r = getsockname(l, (struct sockaddr *)&ss, &sl);
    e = errno;
    begin("getsockname"); kint("fd", l); kstr("addr", astr(&ss, sl)); end(r, e);
    unsigned port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    char lname[64];
    snprintf(lname, sizeof lname, "127.0.0.1:%u", port);

    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    e = errno;
    begin("socket"); kstr("domain", "AF_INET"); kstr("type", "SOCK_STREAM");
    kint("protocol", IPPROTO_TCP); end(c, e);

    struct sockaddr_in to = v4("127.0.0.1", port);
    r = connect(c, (struct sockaddr *)&to, sizeof to);
    e = errno;
    begin("connect"); kint("fd", c); kstr("addr", lname); end(r, e);
    if (r) die("connect");

    sl = sizeof ss;
    r = getsockname(c, (struct sockaddr *)&ss, &sl);
    e = errno;
    char cname[64];
    snprintf(cname, sizeof cname, "%s", astr(&ss, sl));
    begin("getsockname"); kint("fd", c); kstr("addr", cname); end(r, e);

    sl = sizeof ss;
    int a = accept4(l, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    e = errno;
    begin("accept4"); kint("fd", l); kstr("flags", "SOCK_CLOEXEC"); kstr("peer", cname); end(a, e);
    if (a < 0) die("accept4");

    sl = sizeof ss;
    r = getpeername(a, (struct sockaddr *)&ss, &sl);
    e = errno;
    begin("getpeername"); kint("fd", a); kstr("addr", astr(&ss, sl)); end(r, e);

    r = setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    e = errno;
    begin("setsockopt"); kint("fd", c); kstr("level", "IPPROTO_TCP"); kstr("opt", "TCP_NODELAY");
    kint("value", 1); kint("len", 4); end(r, e);

    n = send(c, buf, 100, MSG_NOSIGNAL);
    e = errno;
    begin("send"); kint("fd", c); kint("size", 100); kstr("flags", "MSG_NOSIGNAL"); end(n, e);

    n = recv(a, buf, runtime_len, MSG_WAITALL); /* __recv_chk */
    e = errno;
    begin("recv"); kint("fd", a); kint("size", 100); kstr("flags", "MSG_WAITALL"); end(n, e);

    n = sendto(a, buf, 50, 0, NULL, 0);
    e = errno;
    begin("sendto"); kint("fd", a); kint("size", 50); kstr("flags", "0"); end(n, e);

    runtime_len = 50;
    n = recvfrom(c, buf, runtime_len, MSG_WAITALL, NULL, NULL); /* __recvfrom_chk */
    e = errno;
    begin("recvfrom"); kint("fd", c); kint("size", 50); kstr("flags", "MSG_WAITALL"); end(n, e);

    r = shutdown(c, SHUT_WR);
    e = errno;
    begin("shutdown"); kint("fd", c); kstr("how", "SHUT_WR"); end(r, e);

    n = recv(a, buf, 10, 0); /* end of stream */
    e = errno;
    begin("recv"); kint("fd", a); kint("size", 10); kstr("flags", "0"); end(n, e);

    int ty = 0;
    socklen_t tl = sizeof ty;
    r = getsockopt(a, SOL_SOCKET, SO_TYPE, &ty, &tl);
    e = errno;
    begin("getsockopt"); kint("fd", a); kstr("level", "SOL_SOCKET"); kstr("opt", "SO_TYPE");
    kint("value", ty); end(r, e);

    fcntl(l, F_SETFL, O_NONBLOCK); /* not a traced call */
    r = accept(l, NULL, NULL);
    e = errno;
    begin("accept"); kint("fd", l); end(r, e);

    r = close(c);
    e = errno;
    begin("close"); kint("fd", c); end(r, e);
    r = close(a);
    e = errno;
    begin("close"); kint("fd", a); end(r, e);

    /* bind to a port in use, then connect to it once it is closed */
    int b2 = socket(AF_INET, SOCK_STREAM, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_INET"); kstr("type", "SOCK_STREAM"); kint("protocol", 0);
    end(b2, e);
    r = bind(b2, (struct sockaddr *)&to, sizeof to);
    e = errno;
    begin("bind"); kint("fd", b2); kstr("addr", lname); end(r, e);
    r = close(l);
    e = errno;
    begin("close"); kint("fd", l); end(r, e);
    r = connect(b2, (struct sockaddr *)&to, sizeof to);
    e = errno;
    begin("connect"); kint("fd", b2); kstr("addr", lname); end(r, e);
    r = getpeername(b2, (struct sockaddr *)&ss, &sl);
    e = errno;
    begin("getpeername"); kint("fd", b2); end(r, e);
    r = close(b2);
    e = errno;
    begin("close"); kint("fd", b2); end(r, e);

    /* --- UDP ---------------------------------------------------------- */
    int d1 = socket(AF_INET, SOCK_DGRAM, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_INET"); kstr("type", "SOCK_DGRAM"); kint("protocol", 0);
    end(d1, e);
    r = bind(d1, (struct sockaddr *)&any, sizeof any);
    e = errno;
    begin("bind"); kint("fd", d1); kstr("addr", "127.0.0.1:0"); end(r, e);
    sl = sizeof ss;
    r = getsockname(d1, (struct sockaddr *)&ss, &sl);
    e = errno;
    char d1name[64];
    snprintf(d1name, sizeof d1name, "%s", astr(&ss, sl));
    begin("getsockname"); kint("fd", d1); kstr("addr", d1name); end(r, e);
    struct sockaddr_in d1addr = *(struct sockaddr_in *)&ss;

    int d2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_INET"); kstr("type", "SOCK_DGRAM|SOCK_NONBLOCK");
    kint("protocol", 0); end(d2, e);

    n = sendto(d2, buf, 10, 0, (struct sockaddr *)&d1addr, sizeof d1addr);
    e = errno;
    begin("sendto"); kint("fd", d2); kint("size", 10); kstr("flags", "0"); kstr("addr", d1name);
    end(n, e);

    sl = sizeof ss;
    r = getsockname(d2, (struct sockaddr *)&ss, &sl);
    e = errno;
    char d2name[64];
    snprintf(d2name, sizeof d2name, "%s", astr(&ss, sl));
    begin("getsockname"); kint("fd", d2); kstr("addr", d2name); end(r, e);
    /* d2 is bound to the wildcard; datagrams from it arrive from 127.0.0.1 */
    char d2from[64];
    snprintf(d2from, sizeof d2from, "127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));

    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    n = recvfrom(d1, buf, 64, 0, (struct sockaddr *)&from, &fl);
    e = errno;
    begin("recvfrom"); kint("fd", d1); kint("size", 64); kstr("flags", "0"); kstr("from", d2from);
    end(n, e);

    struct iovec iov[2] = {{buf, 5}, {buf + 5, 7}};
    struct msghdr mh = {.msg_name = &d1addr, .msg_namelen = sizeof d1addr, .msg_iov = iov,
                        .msg_iovlen = 2};
    n = sendmsg(d2, &mh, MSG_DONTWAIT);
    e = errno;
    begin("sendmsg"); kint("fd", d2); kstr("flags", "MSG_DONTWAIT"); kstr("addr", d1name); end(n, e);

    struct sockaddr_in mfrom;
    struct iovec riov = {buf, 64};
    struct msghdr rh = {.msg_name = &mfrom, .msg_namelen = sizeof mfrom, .msg_iov = &riov,
                        .msg_iovlen = 1};
    n = recvmsg(d1, &rh, 0);
    e = errno;
    begin("recvmsg"); kint("fd", d1); kstr("flags", "0"); kstr("from", d2from); end(n, e);

    struct mmsghdr mm[2];
    struct iovec miov[2] = {{buf, 3}, {buf, 4}};
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 2; i++) {
        mm[i].msg_hdr.msg_name = &d1addr;
        mm[i].msg_hdr.msg_namelen = sizeof d1addr;
        mm[i].msg_hdr.msg_iov = &miov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    r = sendmmsg(d2, mm, 2, 0);
    e = errno;
    begin("sendmmsg"); kint("fd", d2); kint("vlen", 2); kstr("flags", "0"); end(r, e);

    struct mmsghdr rm[2];
    struct iovec rmiov[2] = {{buf, 64}, {buf + 64, 64}};
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 2; i++) {
        rm[i].msg_hdr.msg_iov = &rmiov[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    r = recvmmsg(d1, rm, 2, MSG_WAITFORONE, NULL);
    e = errno;
    begin("recvmmsg"); kint("fd", d1); kint("vlen", 2); kstr("flags", "MSG_WAITFORONE"); end(r, e);

    n = recv(d2, buf, 8, 0); /* nothing there, non-blocking */
    e = errno;
    begin("recv"); kint("fd", d2); kint("size", 8); kstr("flags", "0"); end(n, e);

    /* --- IPv6 loopback (if the machine has it, else the failure is traced) */
    int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_INET6"); kstr("type", "SOCK_DGRAM"); kint("protocol", 0);
    end(v6, e);
    if (v6 >= 0) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        r = bind(v6, (struct sockaddr *)&a6, sizeof a6);
        e = errno;
        begin("bind"); kint("fd", v6); kstr("addr", "[::1]:0"); end(r, e);
        if (r == 0) {
            sl = sizeof ss;
            r = getsockname(v6, (struct sockaddr *)&ss, &sl);
            e = errno;
            begin("getsockname"); kint("fd", v6); kstr("addr", astr(&ss, sl)); end(r, e);
        }
        r = close(v6);
        e = errno;
        begin("close"); kint("fd", v6); end(r, e);
    }

    /* --- unix: a pair, a path, an abstract name ------------------------- */
    int sv[2];
    r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    e = errno;
    begin("socketpair"); kstr("domain", "AF_UNIX"); kstr("type", "SOCK_STREAM");
    kint("protocol", 0);
    if (r == 0)
        add(",\"fds\":[%d,%d]", sv[0], sv[1]);
    end(r, e);

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/calls.sock", argv[1]);
    unlink(un.sun_path);
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_UNIX"); kstr("type", "SOCK_STREAM"); kint("protocol", 0);
    end(u, e);
    r = bind(u, (struct sockaddr *)&un, sizeof un);
    e = errno;
    begin("bind"); kint("fd", u); kstr("addr", un.sun_path); end(r, e);
    r = listen(u, 1);
    e = errno;
    begin("listen"); kint("fd", u); kint("backlog", 1); end(r, e);
    int uc = socket(AF_UNIX, SOCK_STREAM, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_UNIX"); kstr("type", "SOCK_STREAM"); kint("protocol", 0);
    end(uc, e);
    socklen_t unlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
    r = connect(uc, (struct sockaddr *)&un, unlen);
    e = errno;
    begin("connect"); kint("fd", uc); kstr("addr", un.sun_path); end(r, e);
    sl = sizeof ss;
    int ua = accept(u, (struct sockaddr *)&ss, &sl);
    e = errno;
    begin("accept"); kint("fd", u); kstr("peer", "unnamed"); end(ua, e);
    sl = sizeof ss;
    r = getpeername(uc, (struct sockaddr *)&ss, &sl);
    e = errno;
    begin("getpeername"); kint("fd", uc); kstr("addr", un.sun_path); end(r, e);

    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    char abname[64];
    snprintf(abname, sizeof abname, "libsock-trace-%d", (int)getpid());
    memcpy(ab.sun_path + 1, abname, strlen(abname));
    socklen_t ablen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abname));
    int ux = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    e = errno;
    begin("socket"); kstr("domain", "AF_UNIX"); kstr("type", "SOCK_DGRAM|SOCK_CLOEXEC");
    kint("protocol", 0); end(ux, e);
    r = bind(ux, (struct sockaddr *)&ab, ablen);
    e = errno;
    char abshow[80];
    snprintf(abshow, sizeof abshow, "@%s", abname);
    begin("bind"); kint("fd", ux); kstr("addr", abshow); end(r, e);
    sl = sizeof ss;
    r = getsockname(ux, (struct sockaddr *)&ss, &sl);
    e = errno;
    begin("getsockname"); kint("fd", ux); kstr("addr", abshow); end(r, e);

    /* --- descriptors ------------------------------------------------------ */
    r = dup2(sv[0], 50);
    e = errno;
    begin("dup2"); kint("fd", sv[0]); kint("newfd", 50); end(r, e);
    r = dup3(sv[0], 51, O_CLOEXEC);
    e = errno;
    begin("dup3"); kint("fd", sv[0]); kint("newfd", 51); kstr("flags", "SOCK_CLOEXEC"); end(r, e);
    r = close_range(50, 51, 0);
    e = errno;
    begin("close_range"); kint("first", 50); kint("last", 51); kint("flags", 0); end(r, e);
    r = close(50);
    e = errno;
    begin("close"); kint("fd", 50); end(r, e);

    int fds[] = {sv[0], sv[1], u, uc, ua, ux, d1, d2};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        r = close(fds[i]);
        e = errno;
        begin("close"); kint("fd", fds[i]); end(r, e);
    }
    unlink(un.sun_path);
    return 0;
}
