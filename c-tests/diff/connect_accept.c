/*
 * connect_accept.c — connect(), accept(), accept4() and shutdown() over IPv4
 * and IPv6 loopback: bad addresses and lengths, ECONNREFUSED, nonblocking
 * connect (EINPROGRESS, SO_ERROR, EISCONN), truncated peer addresses from
 * accept (returned length, bytes beyond untouched), the bad-*addrlen trap
 * (the kernel dequeues the connection before failing), accept4 flags good
 * and bad, and shutdown's `how`.
 */
#include "check.h"

/* A listening TCP socket on loopback; its address in *addr / *len. */
static int listener(int family, struct sockaddr_storage *addr, socklen_t *len, int nonblock)
{
    int l = socket(family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    memset(addr, 0, sizeof *addr);
    if (family == AF_INET) {
        *(struct sockaddr_in *)addr = v4("127.0.0.1", 0);
        *len = sizeof(struct sockaddr_in);
    } else {
        *(struct sockaddr_in6 *)addr = v6("::1", 0);
        *len = sizeof(struct sockaddr_in6);
    }
    if (l < 0 || bind(l, (struct sockaddr *)addr, *len) != 0 || listen(l, 16) != 0 ||
        getsockname(l, (struct sockaddr *)addr, len) != 0) {
        SAY("listener setup failed: %s", errname(errno));
        exit(2);
    }
    return l;
}

/* A client connected to addr (blocking connect), or -1. */
static int client(const struct sockaddr_storage *addr, socklen_t len)
{
    int c = socket(addr->ss_family, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (const struct sockaddr *)addr, len) != 0) {
        SAY("client connect failed: %s", errname(errno));
        return -1;
    }
    return c;
}

/* Wait (bounded) until fd is writable; report the poll result symbolically. */
static void wait_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n = poll(&p, 1, 5000);
    SAY("  poll(POLLOUT) = %d revents:%s%s%s", n, (p.revents & POLLOUT) ? " POLLOUT" : "",
        (p.revents & POLLERR) ? " POLLERR" : "", (p.revents & POLLHUP) ? " POLLHUP" : "");
}

static void so_error(int fd)
{
    int err = -1;
    socklen_t len = sizeof err;
    CK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
    SAY("  SO_ERROR=%s", errname(err));
}

/* After the connection was consumed by a failed accept: the client sees EOF. */
static void client_sees(int c)
{
    char b[8];
    CK(recv(c, b, sizeof b, 0));
}

static void connect_bad_args(int family, const char *fname)
{
    struct sockaddr_storage ss;
    int s = socket(family, SOCK_STREAM, 0);
    socklen_t good = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    static const socklen_t lens[] = {0, 1, 2, 7, 15, 23, 27, 128, 129, 0x80000000u, 0xffffffffu};

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET)
        *(struct sockaddr_in *)&ss = v4("127.0.0.1", htons(9));
    else
        *(struct sockaddr_in6 *)&ss = v6("::1", htons(9));
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        CKF(connect(s, (struct sockaddr *)&ss, lens[i]), "connect(%s, addr, %u)", fname,
            (unsigned)lens[i]);
    CKF(connect(s, NULL, good), "connect(%s, NULL, sizeof)", fname);
    CKF(connect(s, NULL, 0), "connect(%s, NULL, 0)", fname);
    CKF(connect(s, (struct sockaddr *)bad_ptr(), good), "connect(%s, PROT_NONE, sizeof)", fname);
    ss.ss_family = 12345;
    CKF(connect(s, (struct sockaddr *)&ss, good), "connect(%s, family 12345, sizeof)", fname);
    ss.ss_family = family == AF_INET ? AF_INET6 : AF_INET;
    CKF(connect(s, (struct sockaddr *)&ss, sizeof ss), "connect(%s, other family, sizeof ss)",
        fname);
    close(s);
}

static void refused(int family, const char *fname)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int c;
    /* A bound socket that does not listen: connecting to its port is refused. */
    int b = socket(family, SOCK_STREAM, 0);

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        *(struct sockaddr_in *)&ss = v4("127.0.0.1", 0);
        len = sizeof(struct sockaddr_in);
    } else {
        *(struct sockaddr_in6 *)&ss = v6("::1", 0);
        len = sizeof(struct sockaddr_in6);
    }
    bind(b, (struct sockaddr *)&ss, len);
    getsockname(b, (struct sockaddr *)&ss, &len);

    c = socket(family, SOCK_STREAM, 0);
    CKF(connect(c, (struct sockaddr *)&ss, len), "connect(%s, closed port)", fname);
    so_error(c);
    CKF(connect(c, (struct sockaddr *)&ss, len), "connect(%s, closed port) again", fname);
    close(c);

    c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (CKF(connect(c, (struct sockaddr *)&ss, len), "connect(%s nonblocking, closed port)",
            fname) < 0 && errno == EINPROGRESS) {
        wait_writable(c);
        so_error(c);
        so_error(c);
    }
    close(c);
    close(b);
}

static void nonblocking_connect(int family, const char *fname)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int l = listener(family, &ss, &len, 0);
    int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int a;

    if (CKF(connect(c, (struct sockaddr *)&ss, len), "connect(%s nonblocking, listener)",
            fname) < 0 && errno == EINPROGRESS)
        wait_writable(c);
    so_error(c);
    CKF(connect(c, (struct sockaddr *)&ss, len), "connect(%s, listener) again", fname);
    a = (int)CK(accept(l, NULL, NULL));
    SAY("  accepted: %s", fd_flags(a));
    CK(close(a));
    CK(close(c));
    CK(close(l));
}

static void accept_addresses(int family, const char *fname)
{
    struct sockaddr_storage ss, peer;
    socklen_t len, plen;
    socklen_t full = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int l = listener(family, &ss, &len, 0);
    int c, a;
    static const socklen_t lens[] = {0, 1, 2, 4, 8, 15, 16, 23, 27, 28, 64, sizeof peer};

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        c = client(&ss, len);
        memset(&peer, FILL, sizeof peer);
        plen = lens[i];
        a = (int)CKF(accept(l, (struct sockaddr *)&peer, &plen), "accept(%s, &peer, &(len=%u))",
                     fname, (unsigned)lens[i]);
        SAY("  len now %u, %s, bytes beyond min(len in, len out) untouched: %s", (unsigned)plen,
            plen >= full && lens[i] >= full ? addr_str(&peer, plen) : "(truncated)",
            untouched(&peer, lens[i] < plen ? lens[i] : plen, sizeof peer) ? "yes" : "no");
        if (lens[i] >= 2 && lens[i] < full)
            SAY("  family in the truncated bytes: %s",
                peer.ss_family == family ? "ok" : "wrong");
        close(a);
        close(c);
    }

    /* NULL addr: addrlen ignored, even if it is garbage. */
    c = client(&ss, len);
    plen = 0xdeadbeef;
    a = (int)CKF(accept(l, NULL, &plen), "accept(%s, NULL, &(len=0xdeadbeef))", fname);
    SAY("  len untouched: %s", plen == 0xdeadbeef ? "yes" : "no");
    close(a);
    close(c);
    c = client(&ss, len);
    a = (int)CKF(accept(l, NULL, (socklen_t *)bad_ptr()), "accept(%s, NULL, PROT_NONE)", fname);
    close(a);
    close(c);

    /*
     * The trap: a bad addrlen or address is only discovered after the kernel
     * has taken the connection off the queue. The call fails, the new socket
     * is closed, and the client sees EOF.
     */
    c = client(&ss, len);
    plen = (socklen_t)-1;
    CKF(accept(l, (struct sockaddr *)&peer, &plen), "accept(%s, &peer, &(len=-1))", fname);
    client_sees(c);
    close(c);
    c = client(&ss, len);
    plen = 0x80000000u;
    CKF(accept(l, (struct sockaddr *)&peer, &plen), "accept(%s, &peer, &(len=0x80000000))", fname);
    client_sees(c);
    close(c);
    c = client(&ss, len);
    CKF(accept(l, (struct sockaddr *)&peer, NULL), "accept(%s, &peer, NULL)", fname);
    client_sees(c);
    close(c);
    c = client(&ss, len);
    plen = sizeof peer;
    CKF(accept(l, (struct sockaddr *)bad_ptr(), &plen), "accept(%s, PROT_NONE, &len)", fname);
    client_sees(c);
    close(c);
    c = client(&ss, len);
    CKF(accept(l, (struct sockaddr *)&peer, (socklen_t *)bad_ptr()),
        "accept(%s, &peer, PROT_NONE)", fname);
    client_sees(c);
    close(c);
    c = client(&ss, len);
    plen = 0; /* zero length with a bad address: nothing is written, so it succeeds */
    a = (int)CKF(accept(l, (struct sockaddr *)bad_ptr(), &plen), "accept(%s, PROT_NONE, &(len=0))",
                 fname);
    SAY("  len now %u", (unsigned)plen);
    close(a);
    close(c);
    /* The same trap through accept4. */
    c = client(&ss, len);
    plen = (socklen_t)-1;
    CKF(accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC),
        "accept4(%s, &peer, &(len=-1), SOCK_CLOEXEC)", fname);
    client_sees(c);
    close(c);
    /* Nothing left in the queue. */
    fcntl(l, F_SETFL, O_NONBLOCK);
    CKF(accept(l, NULL, NULL), "accept(%s nonblocking, empty queue)", fname);
    close(l);
}

static void accept4_flags(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int l = listener(AF_INET, &ss, &len, 1);
    int c, a;
    static const struct {
        int flags;
        const char *name;
    } good[] = {
        {0, "0"},
        {SOCK_NONBLOCK, "SOCK_NONBLOCK"},
        {SOCK_CLOEXEC, "SOCK_CLOEXEC"},
        {SOCK_NONBLOCK | SOCK_CLOEXEC, "SOCK_NONBLOCK|SOCK_CLOEXEC"},
    }, bad[] = {
        {1, "1"},
        {SOCK_STREAM, "SOCK_STREAM"},
        {SOCK_DGRAM | SOCK_NONBLOCK, "SOCK_DGRAM|SOCK_NONBLOCK"},
        {0x40000000, "0x40000000"},
        {-1, "-1"},
        {INT_MIN, "INT_MIN"},
        {O_APPEND, "O_APPEND"},
    };

    SAY("listener: %s", fd_flags(l));
    CK(accept(l, NULL, NULL));
    CK(accept4(l, NULL, NULL, 0));
    c = client(&ss, len);
    a = (int)CK(accept(l, NULL, NULL));
    SAY("  accept from a nonblocking listener: %s", fd_flags(a));
    close(a);
    close(c);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        c = client(&ss, len);
        a = (int)CKF(accept4(l, NULL, NULL, good[i].flags), "accept4(l, NULL, NULL, %s)",
                     good[i].name);
        SAY("  %s", fd_flags(a));
        close(a);
        close(c);
    }
    /* Bad flags are refused before anything is dequeued. */
    c = client(&ss, len);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CKF(accept4(l, NULL, NULL, bad[i].flags), "accept4(l, NULL, NULL, %s)", bad[i].name);
    a = (int)CK(accept4(l, NULL, NULL, SOCK_CLOEXEC));
    close(a);
    close(c);
    CK(accept4(l, NULL, NULL, SOCK_CLOEXEC));
    close(l);
}

static void accept_wrong_sockets(void)
{
    struct badfd bad[6];
    int n = bad_fds(bad);
    int s;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    for (int i = 0; i < n; i++) {
        CKF(accept(bad[i].fd, NULL, NULL), "accept(%s, NULL, NULL)", bad[i].name);
        CKF(accept(bad[i].fd, (struct sockaddr *)&ss, &len), "accept(%s, &ss, &len)",
            bad[i].name);
        CKF(accept4(bad[i].fd, NULL, NULL, SOCK_NONBLOCK), "accept4(%s, NULL, NULL, NONBLOCK)",
            bad[i].name);
        CKF(accept4(bad[i].fd, NULL, NULL, -1), "accept4(%s, NULL, NULL, -1)", bad[i].name);
        CKF(connect(bad[i].fd, NULL, 0), "connect(%s, NULL, 0)", bad[i].name);
        CKF(shutdown(bad[i].fd, SHUT_RDWR), "shutdown(%s, SHUT_RDWR)", bad[i].name);
        CKF(shutdown(bad[i].fd, 42), "shutdown(%s, 42)", bad[i].name);
    }
    s = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    CK(accept(s, NULL, NULL)); /* not listening */
    CK(close(s));
    s = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    CK(accept(s, NULL, NULL));
    CK(accept4(s, NULL, NULL, SOCK_NONBLOCK));
    CK(close(s));
}

static void shutdown_cases(void)
{
    int c, a, u;
    char buf[16];
    static const int hows[] = {-1, 3, 4, 42, INT_MAX, INT_MIN};

    c = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    CK(shutdown(c, SHUT_RDWR)); /* not connected */
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++)
        CKF(shutdown(c, hows[i]), "shutdown(unconnected, %d)", hows[i]);
    CK(close(c));
    if (tcp_pair(AF_INET6, &c, &a) != 0)
        return;
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++)
        CKF(shutdown(c, hows[i]), "shutdown(connected, %d)", hows[i]);
    CK(send(a, "before", 6, 0));
    settle();
    CK(shutdown(c, SHUT_RD));
    CK(recv(c, buf, sizeof buf, MSG_DONTWAIT)); /* data queued before SHUT_RD */
    CK(recv(c, buf, sizeof buf, MSG_DONTWAIT)); /* then EOF, not EAGAIN */
    CK(shutdown(c, SHUT_WR));
    CK(recv(a, buf, sizeof buf, 0));            /* peer sees EOF */
    CK(send(c, "x", 1, MSG_NOSIGNAL));          /* EPIPE after SHUT_WR */
    CK(shutdown(c, SHUT_RDWR));                 /* again: fine */
    CK(shutdown(c, SHUT_WR));
    CK(close(c));
    CK(close(a));

    u = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    CK(shutdown(u, SHUT_RD));                   /* unconnected UDP */
    {
        struct sockaddr_in x = v4("127.0.0.1", htons(9));
        CK(connect(u, (struct sockaddr *)&x, sizeof x));
    }
    CK(shutdown(u, SHUT_RD));
    CK(recv(u, buf, sizeof buf, MSG_DONTWAIT));
    CK(shutdown(u, 7));
    CK(close(u));

    /* Shutting down a listener wakes nothing here; later accepts fail. */
    {
        struct sockaddr_storage ss;
        socklen_t len;
        int l = listener(AF_INET, &ss, &len, 1);
        CK(shutdown(l, SHUT_WR));
        CK(shutdown(l, SHUT_RD));
        CK(accept(l, NULL, NULL));
        CK(close(l));
    }
}

static void udp_connect(void)
{
    struct sockaddr_in x = v4("127.0.0.1", htons(9));
    struct sockaddr_in6 y = v6("::1", htons(9));
    struct sockaddr_storage ss;
    socklen_t len;
    struct sockaddr unspec;
    int u = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));

    CK(connect(u, (struct sockaddr *)&x, sizeof x));
    len = sizeof ss;
    CK(getpeername(u, (struct sockaddr *)&ss, &len));
    SAY("  peer %s", addr_str(&ss, len));
    CK(connect(u, (struct sockaddr *)&x, sizeof x)); /* reconnect: fine for UDP */
    memset(&unspec, 0, sizeof unspec);
    unspec.sa_family = AF_UNSPEC;
    CK(connect(u, &unspec, sizeof unspec));          /* dissolve */
    len = sizeof ss;
    CK(getpeername(u, (struct sockaddr *)&ss, &len));
    CK(connect(u, &unspec, sizeof(sa_family_t)));
    CK(connect(u, &unspec, 1));
    CK(connect(u, (struct sockaddr *)&y, sizeof y)); /* IPv6 on IPv4 */
    CK(close(u));
    u = (int)CK(socket(AF_INET6, SOCK_DGRAM, 0));
    CK(connect(u, (struct sockaddr *)&y, sizeof y));
    CK(connect(u, (struct sockaddr *)&x, sizeof x)); /* IPv4 address on IPv6 socket */
    CK(connect(u, &unspec, sizeof unspec));
    CK(close(u));

    /* connect(AF_UNSPEC) on a connected TCP socket aborts it: the peer sees a reset. */
    {
        int c, a;
        char b[4];
        if (tcp_pair(AF_INET, &c, &a) == 0) {
            CK(connect(c, &unspec, sizeof unspec));
            CK(recv(a, b, sizeof b, 0));
            CK(recv(a, b, sizeof b, 0));
            len = sizeof ss;
            CK(getpeername(c, (struct sockaddr *)&ss, &len));
            CK(close(c));
            CK(close(a));
        }
    }
}

int main(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int l, c;

    ck_init();

    connect_bad_args(AF_INET, "AF_INET");
    connect_bad_args(AF_INET6, "AF_INET6");
    refused(AF_INET, "AF_INET");
    refused(AF_INET6, "AF_INET6");
    nonblocking_connect(AF_INET, "AF_INET");
    nonblocking_connect(AF_INET6, "AF_INET6");

    /* A plain blocking connect, then connecting again. */
    l = listener(AF_INET, &ss, &len, 0);
    c = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    CK(connect(c, (struct sockaddr *)&ss, len));
    CK(connect(c, (struct sockaddr *)&ss, len));
    CK(connect(l, (struct sockaddr *)&ss, len)); /* a listener cannot connect */
    CK(close(c));
    c = (int)CK(accept(l, NULL, NULL));
    CK(close(c));
    CK(close(l));

    accept_addresses(AF_INET, "AF_INET");
    accept_addresses(AF_INET6, "AF_INET6");
    accept4_flags();
    accept_wrong_sockets();
    shutdown_cases();
    udp_connect();
    return 0;
}
