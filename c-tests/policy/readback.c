/*
 * readback.c — what the LIBSOCK_* policy variables really did to a
 * program's sockets, read back from the kernel.
 *
 * Used by c-tests/policy/run.sh, which runs it once without libsock (the
 * baseline: the kernel's defaults) and once preloaded with each variable,
 * and compares the two outputs key by key.
 *
 * It creates, in turn, a TCP and a UDP socket of each INET family and a
 * Unix stream socket; binds each (INET: to the address given on the command
 * line), listens, connects a client of its own, accepts, and prints one
 * "key=value" line per socket option of interest:
 *
 *   <sock>.<stage>.<option>=<value>
 *     sock   tcp4 tcp4nb (SOCK_NONBLOCK|SOCK_CLOEXEC, IPPROTO_TCP) udp4
 *            tcp6 udp6 unix pair (socketpair)
 *     stage  sock      right after socket()
 *            set       after the program's own setsockopt (-o only)
 *            bound     after bind()
 *            rebound   after the program's own setsockopt after bind (-o)
 *            client    the client socket, right after socket() (and -o)
 *            accepted  the socket accept() returned
 *   <sock>.bound.addr / .port   getsockname() after bind(). port is
 *            "asked" when it is the nonzero port asked for, "any" when 0 was
 *            asked for and the kernel picked one from ip_local_port_range,
 *            else the number.
 *
 * Every option is read with getsockopt() (possibly libsock's) and with the
 * raw system call; a difference prints a "<key>.MISMATCH" line, so the
 * output also proves that getsockopt reports the truth.
 *
 * Options:
 *   -a ADDR   IPv4 address to bind (default 0.0.0.0)
 *   -p PORT   IPv4 port to bind (default 0)
 *   -b ADDR   IPv6 address to bind (default ::)
 *   -q PORT   IPv6 port to bind (default 0)
 *   -o        override: the program sets TCP_NODELAY=0, SO_KEEPALIVE=0,
 *             IP_TOS/IPV6_TCLASS=0, SO_RCVBUF=4096, SO_SNDBUF=8192 itself
 *             right after socket(), and SO_REUSEADDR/SO_REUSEPORT/FREEBIND=0
 *             right after bind(), and prints what it reads back
 *   -f ADDR   also bind a UDP socket to ADDR:0 (a non-local IPv4 address:
 *             succeeds only with IP_FREEBIND) and print freebind4.bind=
 *   -F ADDR   the same for IPv6 (freebind6.bind=)
 *   -x N      exit status (default 0), to show libsock leaves it alone
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static int override;
static int port_lo = 32768, port_hi = 60999;

static const char *err_name(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

/* Prints key=value of an int option, read through getsockopt() and through
 * the raw system call (a difference is a MISMATCH line). */
static void opt(const char *sock, const char *stage, const char *name, int fd, int level,
                int optname)
{
    int v = -1, raw = -1;
    socklen_t l = sizeof v, rl = sizeof raw;
    int r = getsockopt(fd, level, optname, &v, &l);
    int e = errno;
    long rr = syscall(SYS_getsockopt, fd, level, optname, &raw, &rl);
    if (r == 0)
        printf("%s.%s.%s=%d\n", sock, stage, name, v);
    else
        printf("%s.%s.%s=ERR:%s\n", sock, stage, name, err_name(e));
    if ((r == 0) != (rr == 0) || (r == 0 && v != raw))
        printf("%s.%s.%s.MISMATCH getsockopt=%d(%d) syscall=%d(%ld)\n", sock, stage, name, v, r,
               raw, rr);
}

static void set(const char *sock, int fd, int level, int optname, int value)
{
    if (setsockopt(fd, level, optname, &value, sizeof value) != 0)
        printf("%s.setsockopt(%d,%d,%d)=ERR:%s\n", sock, level, optname, value, err_name(errno));
}

/* The options policy may set at creation / accept. */
static void creation_opts(const char *sock, const char *stage, int fd, int family, int tcp)
{
    if (tcp) {
        opt(sock, stage, "nodelay", fd, IPPROTO_TCP, TCP_NODELAY);
        opt(sock, stage, "keepidle", fd, IPPROTO_TCP, TCP_KEEPIDLE);
        opt(sock, stage, "keepintvl", fd, IPPROTO_TCP, TCP_KEEPINTVL);
        opt(sock, stage, "keepcnt", fd, IPPROTO_TCP, TCP_KEEPCNT);
    }
    opt(sock, stage, "keepalive", fd, SOL_SOCKET, SO_KEEPALIVE);
    if (family == AF_INET)
        opt(sock, stage, "tos", fd, IPPROTO_IP, IP_TOS);
    if (family == AF_INET6)
        opt(sock, stage, "tclass", fd, IPPROTO_IPV6, IPV6_TCLASS);
    opt(sock, stage, "rcvbuf", fd, SOL_SOCKET, SO_RCVBUF);
    opt(sock, stage, "sndbuf", fd, SOL_SOCKET, SO_SNDBUF);
}

/* The options policy may set before bind. */
static void bind_opts(const char *sock, const char *stage, int fd, int family)
{
    opt(sock, stage, "reuseaddr", fd, SOL_SOCKET, SO_REUSEADDR);
    opt(sock, stage, "reuseport", fd, SOL_SOCKET, SO_REUSEPORT);
    if (family == AF_INET)
        opt(sock, stage, "freebind", fd, IPPROTO_IP, IP_FREEBIND);
    if (family == AF_INET6)
        opt(sock, stage, "freebind", fd, IPPROTO_IPV6, IPV6_FREEBIND);
}

/* The program's own settings, which must win over libsock's. */
static void override_creation(const char *sock, int fd, int family, int tcp)
{
    if (tcp) {
        set(sock, fd, IPPROTO_TCP, TCP_NODELAY, 0);
    }
    set(sock, fd, SOL_SOCKET, SO_KEEPALIVE, 0);
    if (family == AF_INET)
        set(sock, fd, IPPROTO_IP, IP_TOS, 0);
    if (family == AF_INET6)
        set(sock, fd, IPPROTO_IPV6, IPV6_TCLASS, 0);
    set(sock, fd, SOL_SOCKET, SO_RCVBUF, 4096);
    set(sock, fd, SOL_SOCKET, SO_SNDBUF, 8192);
    creation_opts(sock, "set", fd, family, tcp);
}

static void override_bind(const char *sock, int fd, int family)
{
    set(sock, fd, SOL_SOCKET, SO_REUSEADDR, 0);
    set(sock, fd, SOL_SOCKET, SO_REUSEPORT, 0);
    if (family == AF_INET)
        set(sock, fd, IPPROTO_IP, IP_FREEBIND, 0);
    else
        set(sock, fd, IPPROTO_IPV6, IPV6_FREEBIND, 0);
    bind_opts(sock, "rebound", fd, family);
}

static socklen_t make_addr(struct sockaddr_storage *ss, int family, const char *ip, int port)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, ip, &a->sin_addr) != 1) {
            fprintf(stderr, "readback: bad IPv4 address %s\n", ip);
            exit(2);
        }
        return sizeof *a;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((unsigned short)port);
    if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) {
        fprintf(stderr, "readback: bad IPv6 address %s\n", ip);
        exit(2);
    }
    return sizeof *a;
}

static int port_of(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                    : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Prints <sock>.bound.addr and .port; turns a wildcard address into the
 * loopback one, for the client to connect to. */
static void print_name(const char *sock, int fd, int asked_port, struct sockaddr_storage *name,
                       socklen_t *len)
{
    char buf[INET6_ADDRSTRLEN] = "?";
    *len = sizeof *name;
    if (getsockname(fd, (struct sockaddr *)name, len) != 0) {
        printf("%s.bound.addr=ERR:%s\n", sock, err_name(errno));
        return;
    }
    const void *ip = name->ss_family == AF_INET
                         ? (const void *)&((struct sockaddr_in *)name)->sin_addr
                         : (const void *)&((struct sockaddr_in6 *)name)->sin6_addr;
    inet_ntop(name->ss_family, ip, buf, sizeof buf);
    printf("%s.bound.addr=%s\n", sock, buf);
    int got = port_of(name);
    if (asked_port != 0 && got == asked_port)
        printf("%s.bound.port=asked\n", sock);
    else if (asked_port == 0 && got >= port_lo && got <= port_hi)
        printf("%s.bound.port=any\n", sock);
    else
        printf("%s.bound.port=%d\n", sock, got);
    if (name->ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)name;
        if (a->sin_addr.s_addr == htonl(INADDR_ANY))
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)name;
        if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
            a->sin6_addr = in6addr_loopback;
    }
}

/* A TCP round: socket, bind, listen, client connect, accept, one byte each
 * way, an orderly close with the client closing first (so the TIME_WAIT is
 * on the client's port, never on the bound one). */
static void tcp(const char *sock, int family, int type, int protocol, const char *ip, int port)
{
    int fd = socket(family, type, protocol);
    if (fd < 0) {
        printf("%s.socket=ERR:%s\n", sock, err_name(errno));
        return;
    }
    creation_opts(sock, "sock", fd, family, 1);
    bind_opts(sock, "sock", fd, family);
    if (override)
        override_creation(sock, fd, family, 1);

    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, family, ip, port);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        printf("%s.bind=ERR:%s\n", sock, err_name(errno));
        close(fd);
        return;
    }
    bind_opts(sock, "bound", fd, family);
    struct sockaddr_storage name;
    socklen_t name_len;
    print_name(sock, fd, port, &name, &name_len);
    if (override)
        override_bind(sock, fd, family);
    if (listen(fd, 4) != 0) {
        printf("%s.listen=ERR:%s\n", sock, err_name(errno));
        close(fd);
        return;
    }

    int c = socket(family, SOCK_STREAM, 0);
    if (c < 0) {
        printf("%s.client.socket=ERR:%s\n", sock, err_name(errno));
        close(fd);
        return;
    }
    creation_opts(sock, "client", c, family, 1);
    if (override) {
        char client[64];
        snprintf(client, sizeof client, "%s.client", sock);
        override_creation(client, c, family, 1);
    }
    if (connect(c, (struct sockaddr *)&name, name_len) != 0) {
        printf("%s.connect=ERR:%s\n", sock, err_name(errno));
        close(c);
        close(fd);
        return;
    }
    int a = accept(fd, NULL, NULL);
    if (a < 0 && errno == EAGAIN) { /* a SOCK_NONBLOCK listener */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 5000);
        a = accept(fd, NULL, NULL);
    }
    if (a < 0) {
        printf("%s.accept=ERR:%s\n", sock, err_name(errno));
        close(c);
        close(fd);
        return;
    }
    creation_opts(sock, "accepted", a, family, 1);

    char byte = 'x';
    int ok = write(c, &byte, 1) == 1 && read(a, &byte, 1) == 1 && write(a, &byte, 1) == 1 &&
             read(c, &byte, 1) == 1;
    printf("%s.data=%s\n", sock, ok ? "ok" : "FAILED");
    close(c);
    (void)read(a, &byte, 1); /* EOF: the client's FIN has arrived */
    close(a);
    close(fd);
}

static void udp(const char *sock, int family, const char *ip, int port)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("%s.socket=ERR:%s\n", sock, err_name(errno));
        return;
    }
    creation_opts(sock, "sock", fd, family, 0);
    bind_opts(sock, "sock", fd, family);
    if (override)
        override_creation(sock, fd, family, 0);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, family, ip, port);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        printf("%s.bind=ERR:%s\n", sock, err_name(errno));
        close(fd);
        return;
    }
    bind_opts(sock, "bound", fd, family);
    struct sockaddr_storage name;
    socklen_t name_len;
    print_name(sock, fd, port, &name, &name_len);
    if (override)
        override_bind(sock, fd, family);
    /* A datagram to itself. */
    char byte = 'u';
    int ok = sendto(fd, &byte, 1, 0, (struct sockaddr *)&name, name_len) == 1 &&
             recv(fd, &byte, 1, 0) == 1;
    printf("%s.data=%s\n", sock, ok ? "ok" : "FAILED");
    close(fd);
}

static void unix_stream(void)
{
    const char *sock = "unix";
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    char dir[] = "/tmp/libsock-readback.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(un.sun_path, sizeof un.sun_path, "%s/s", dir);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    creation_opts(sock, "sock", fd, AF_UNIX, 0);
    opt(sock, "sock", "reuseaddr", fd, SOL_SOCKET, SO_REUSEADDR);
    if (bind(fd, (struct sockaddr *)&un, sizeof un) != 0)
        printf("unix.bind=ERR:%s\n", err_name(errno));
    opt(sock, "bound", "reuseaddr", fd, SOL_SOCKET, SO_REUSEADDR);
    opt(sock, "bound", "reuseport", fd, SOL_SOCKET, SO_REUSEPORT);
    struct sockaddr_un name;
    socklen_t nl = sizeof name;
    if (getsockname(fd, (struct sockaddr *)&name, &nl) == 0)
        printf("unix.bound.path=%s\n", strcmp(name.sun_path, un.sun_path) == 0 ? "asked" : name.sun_path);
    listen(fd, 4);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    creation_opts(sock, "client", c, AF_UNIX, 0);
    if (connect(c, (struct sockaddr *)&un, sizeof un) != 0)
        printf("unix.connect=ERR:%s\n", err_name(errno));
    int a = accept(fd, NULL, NULL);
    if (a >= 0)
        creation_opts(sock, "accepted", a, AF_UNIX, 0);
    else
        printf("unix.accept=ERR:%s\n", err_name(errno));
    close(c);
    close(a);
    close(fd);
    unlink(un.sun_path);
    rmdir(dir);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        creation_opts("pair", "sock", sv[0], AF_UNIX, 0);
        close(sv[0]);
        close(sv[1]);
    }
}

/* Binds a UDP socket to a non-local address: only IP_FREEBIND lets it. */
static void freebind_probe(const char *sock, int family, const char *ip)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, family, ip, 0);
    if (bind(fd, (struct sockaddr *)&ss, len) == 0)
        printf("%s.bind=ok\n", sock);
    else
        printf("%s.bind=ERR:%s\n", sock, err_name(errno));
    close(fd);
}

int main(int argc, char **argv)
{
    const char *a4 = "0.0.0.0", *a6 = "::", *free4 = NULL, *free6 = NULL;
    int p4 = 0, p6 = 0, status = 0, ch;
    while ((ch = getopt(argc, argv, "a:p:b:q:of:F:x:")) != -1) {
        switch (ch) {
        case 'a': a4 = optarg; break;
        case 'p': p4 = atoi(optarg); break;
        case 'b': a6 = optarg; break;
        case 'q': p6 = atoi(optarg); break;
        case 'o': override = 1; break;
        case 'f': free4 = optarg; break;
        case 'F': free6 = optarg; break;
        case 'x': status = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: readback [-a ADDR4] [-p PORT4] [-b ADDR6] [-q PORT6] [-o] "
                            "[-f NONLOCAL4] [-F NONLOCAL6] [-x STATUS]\n");
            return 2;
        }
    }
    FILE *range = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (range) {
        if (fscanf(range, "%d %d", &port_lo, &port_hi) != 2) {
            port_lo = 32768;
            port_hi = 60999;
        }
        fclose(range);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    tcp("tcp4", AF_INET, SOCK_STREAM, 0, a4, p4);
    /* A second TCP socket with type flags and an explicit protocol, after
     * the first (so a fixed port is free again). */
    tcp("tcp4nb", AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP, a4, p4);
    udp("udp4", AF_INET, a4, p4);
    tcp("tcp6", AF_INET6, SOCK_STREAM, 0, a6, p6);
    udp("udp6", AF_INET6, a6, p6);
    unix_stream();
    if (free4)
        freebind_probe("freebind4", AF_INET, free4);
    if (free6)
        freebind_probe("freebind6", AF_INET6, free6);
    return status;
}
