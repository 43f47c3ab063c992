/*
 * bind_listen.c — bind() and listen(): IPv4, IPv6 and Unix addresses, NULL
 * and PROT_NONE addresses, address lengths 0, 1, sizeof-1, sizeof, larger,
 * 0xffffffff and (socklen_t)-1, wrong families, addresses in use or not
 * local, binding twice; listen with negative, zero and huge backlogs, on
 * datagram sockets, unbound and connected sockets.
 */
#include "check.h"

static void bind_lengths(int domain, const char *dname, const void *addr,
                         socklen_t good)
{
    static const struct {
        const char *name;
        int delta; /* relative to good, unless absolute */
        socklen_t absolute;
        int use_absolute;
    } lens[] = {
        {"0", 0, 0, 1},
        {"1", 0, 1, 1},
        {"2", 0, 2, 1},
        {"sizeof-1", -1, 0, 0},
        {"sizeof+1", 1, 0, 0},
        {"sizeof(struct sockaddr_storage)", 0, sizeof(struct sockaddr_storage), 1},
        {"sizeof(struct sockaddr_storage)+1", 0, sizeof(struct sockaddr_storage) + 1, 1},
        {"0x7fffffff", 0, 0x7fffffff, 1},
        {"0x80000000", 0, 0x80000000u, 1},
        {"0xffffffff", 0, 0xffffffffu, 1},
        {"(socklen_t)-1", 0, (socklen_t)-1, 1},
        {"sizeof", 0, 0, 0},
    };
    struct sockaddr_storage buf;

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        socklen_t len = lens[i].use_absolute ? lens[i].absolute
                                             : (socklen_t)((int)good + lens[i].delta);
        int fd = socket(domain, SOCK_DGRAM, 0);
        memset(&buf, 0, sizeof buf);
        memcpy(&buf, addr, good);
        CKF(bind(fd, (struct sockaddr *)&buf, len), "bind(%s udp, addr, %s)",
            dname, lens[i].name);
        close(fd);
    }
}

static void bad_pointers(int domain, const char *dname, socklen_t good)
{
    int fd = socket(domain, SOCK_STREAM, 0);
    char *edge = rw_then_none();
    CKF(bind(fd, NULL, good), "bind(%s, NULL, sizeof)", dname);
    CKF(bind(fd, NULL, 0), "bind(%s, NULL, 0)", dname);
    CKF(bind(fd, (struct sockaddr *)bad_ptr(), good), "bind(%s, PROT_NONE, sizeof)", dname);
    CKF(bind(fd, (struct sockaddr *)bad_ptr(), 0), "bind(%s, PROT_NONE, 0)", dname);
    /* The address straddles the end of readable memory. */
    memset(edge + 4096 - 4, 0, 4);
    ((struct sockaddr *)(edge + 4096 - 4))->sa_family = (sa_family_t)domain;
    CKF(bind(fd, (struct sockaddr *)(edge + 4096 - 4), good),
        "bind(%s, addr straddling PROT_NONE, sizeof)", dname);
    CKF(bind(fd, (struct sockaddr *)(edge + 4096 - 4), 4),
        "bind(%s, last 4 readable bytes, 4)", dname);
    munmap(edge, 8192);
    close(fd);
}

int main(void)
{
    struct sockaddr_in a4 = v4("127.0.0.1", 0);
    struct sockaddr_in6 a6 = v6("::1", 0);
    struct sockaddr_un un;
    struct sockaddr_storage ss;
    socklen_t len;
    int s, t, u;

    ck_init();

    bind_lengths(AF_INET, "AF_INET", &a4, sizeof a4);
    bind_lengths(AF_INET6, "AF_INET6", &a6, sizeof a6);
    bad_pointers(AF_INET, "AF_INET", sizeof a4);
    bad_pointers(AF_INET6, "AF_INET6", sizeof a6);
    bad_pointers(AF_UNIX, "AF_UNIX", sizeof un);

    /* IPv4: good bind, binding twice, address in use, wrong family. */
    s = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    CK(bind(s, (struct sockaddr *)&a4, sizeof a4));
    len = sizeof ss;
    CK(getsockname(s, (struct sockaddr *)&ss, &len));
    SAY("  bound to %s", addr_str(&ss, len));
    CK(bind(s, (struct sockaddr *)&a4, sizeof a4));
    t = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    {
        struct sockaddr_in same = a4;
        same.sin_port = bound_port(s);
        CK(listen(s, 4));
        CK(bind(t, (struct sockaddr *)&same, sizeof same));
        {
            int one = 1;
            CK(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
            CK(bind(t, (struct sockaddr *)&same, sizeof same));
        }
        u = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
        CK(bind(u, (struct sockaddr *)&same, sizeof same)); /* UDP: other table */
        CK(close(u));
    }
    CK(close(t));
    CK(close(s));

    s = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    {
        struct sockaddr_in x = v4("10.255.255.1", 0);
        CK(bind(s, (struct sockaddr *)&x, sizeof x)); /* not a local address */
        x = v4("0.0.0.0", 0);
        x.sin_family = AF_UNSPEC;                     /* AF_UNSPEC + INADDR_ANY: allowed */
        CK(bind(s, (struct sockaddr *)&x, sizeof x));
        CK(close(s));
        s = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
        x = v4("127.0.0.1", 0);
        x.sin_family = AF_UNSPEC;                     /* AF_UNSPEC + other address */
        CK(bind(s, (struct sockaddr *)&x, sizeof x));
        x.sin_family = AF_INET6;
        CK(bind(s, (struct sockaddr *)&x, sizeof x));
        x.sin_family = 12345;
        CK(bind(s, (struct sockaddr *)&x, sizeof x));
        CK(bind(s, (struct sockaddr *)&a6, sizeof a6));
        x = v4("224.0.0.1", 0);                       /* multicast: allowed for UDP */
        CK(bind(s, (struct sockaddr *)&x, sizeof x));
        CK(close(s));
        s = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
        CK(bind(s, (struct sockaddr *)&x, sizeof x)); /* ...not for TCP */
        x = v4("255.255.255.255", 0);
        CK(bind(s, (struct sockaddr *)&x, sizeof x));
        CK(close(s));
    }

    /* IPv6: ::1, v4-mapped with and without V6ONLY, scope on a link-local. */
    s = (int)CK(socket(AF_INET6, SOCK_DGRAM, 0));
    CK(bind(s, (struct sockaddr *)&a6, sizeof a6));
    len = sizeof ss;
    CK(getsockname(s, (struct sockaddr *)&ss, &len));
    SAY("  bound to %s", addr_str(&ss, len));
    CK(close(s));
    {
        struct sockaddr_in6 m = v6("::ffff:127.0.0.1", 0);
        int on = 1;
        s = (int)CK(socket(AF_INET6, SOCK_DGRAM, 0));
        CK(bind(s, (struct sockaddr *)&m, sizeof m));
        len = sizeof ss;
        CK(getsockname(s, (struct sockaddr *)&ss, &len));
        SAY("  bound to %s", addr_str(&ss, len));
        CK(close(s));
        s = (int)CK(socket(AF_INET6, SOCK_DGRAM, 0));
        CK(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on));
        CK(bind(s, (struct sockaddr *)&m, sizeof m));
        CK(close(s));
        m = v6("fe80::1", 0);
        s = (int)CK(socket(AF_INET6, SOCK_DGRAM, 0));
        CK(bind(s, (struct sockaddr *)&m, sizeof m)); /* link-local without scope */
        m.sin6_scope_id = 99999;
        CK(bind(s, (struct sockaddr *)&m, sizeof m)); /* no such interface */
        m = v6("2001:db8::1", 0);
        CK(bind(s, (struct sockaddr *)&m, sizeof m)); /* not local */
        CK(bind(s, (struct sockaddr *)&a4, sizeof a4)); /* IPv4 address on IPv6 socket */
        CK(close(s));
    }

    /* Unix: pathname, in use, missing directory, too long, autobind, abstract. */
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "bind.sock");
    unlink("bind.sock");
    s = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(bind(s, (struct sockaddr *)&un, sizeof un));
    len = sizeof ss;
    CK(getsockname(s, (struct sockaddr *)&ss, &len));
    SAY("  bound to %s, len %u", addr_str(&ss, len), (unsigned)len);
    t = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(bind(t, (struct sockaddr *)&un, sizeof un));                  /* exists */
    CK(bind(s, (struct sockaddr *)&un, sizeof un));                  /* bound twice */
    strcpy(un.sun_path, "no-such-dir/x.sock");
    CK(bind(t, (struct sockaddr *)&un, sizeof un));
    CK(bind(t, (struct sockaddr *)&un, sizeof(sa_family_t) - 1));
    CK(bind(t, (struct sockaddr *)&un, sizeof(sa_family_t)));        /* autobind */
    len = sizeof ss;
    CK(getsockname(t, (struct sockaddr *)&ss, &len));
    SAY("  autobound: len %u, %s", (unsigned)len, addr_str(&ss, len));
    CK(close(t));
    t = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    memset(un.sun_path, 'x', sizeof un.sun_path);                    /* no NUL at all */
    CK(bind(t, (struct sockaddr *)&un, sizeof un + 1));
    CK(bind(t, (struct sockaddr *)&un, sizeof un));
    len = sizeof ss;
    CK(getsockname(t, (struct sockaddr *)&ss, &len));
    SAY("  108-byte path: len %u, %s", (unsigned)len, addr_str(&ss, len));
    CK(close(t));
    {
        char path[sizeof un.sun_path + 1];
        memcpy(path, un.sun_path, sizeof un.sun_path);
        path[sizeof un.sun_path] = '\0';
        unlink(path);
    }
    t = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
    {
        char name[64];
        int n = snprintf(name, sizeof name, "libsock-diff-bind-%s", run_token());
        memset(&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        memcpy(un.sun_path + 1, name, (size_t)n);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
        CK(bind(t, (struct sockaddr *)&un, len));
        u = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
        CK(bind(u, (struct sockaddr *)&un, len));                    /* abstract in use */
        CK(close(u));
        len = sizeof ss;
        CK(getsockname(t, (struct sockaddr *)&ss, &len));
        SAY("  abstract: len as bound: %s; name matches: %s",
            len == (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n) ? "yes" : "no",
            memcmp(&ss, &un, len) == 0 ? "yes" : "no");
    }
    CK(close(t));
    t = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    a4 = v4("127.0.0.1", 0);
    CK(bind(t, (struct sockaddr *)&a4, sizeof a4));                  /* AF_INET on Unix */
    CK(close(t));
    CK(close(s));
    unlink("bind.sock");

    /* listen */
    s = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    CK(listen(s, -1));                                /* unbound: autobinds */
    len = sizeof ss;
    CK(getsockname(s, (struct sockaddr *)&ss, &len));
    SAY("  after listen: %s", addr_str(&ss, len));
    {
        int v = 0;
        socklen_t vl = sizeof v;
        CK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
        SAY("  SO_ACCEPTCONN=%d", v);
    }
    CK(listen(s, 0));
    CK(listen(s, INT_MAX));
    CK(listen(s, INT_MIN));
    CK(listen(s, 5));
    CK(close(s));
    s = (int)CK(socket(AF_INET6, SOCK_STREAM, 0));
    CK(bind(s, (struct sockaddr *)&a6, sizeof a6));
    CK(listen(s, -12345));
    CK(close(s));
    s = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    CK(listen(s, 5));
    CK(close(s));
    s = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(listen(s, 5));                                 /* unbound Unix: autobinds */
    CK(close(s));
    s = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
    CK(listen(s, 5));
    CK(close(s));
    s = (int)CK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    CK(listen(s, -1));
    CK(close(s));
    {
        int sv[2];
        CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        CK(listen(sv[0], 5));                         /* connected */
        CK(close(sv[0]));
        CK(close(sv[1]));
    }
    if (tcp_pair(AF_INET, &s, &t) == 0) {
        CK(listen(s, 5));                             /* connected TCP */
        CK(shutdown(s, SHUT_RDWR));
        CK(listen(s, 5));
        CK(close(s));
        CK(close(t));
    }
    {
        struct badfd bad[6];
        int n = bad_fds(bad);
        for (int i = 0; i < n; i++) {
            CKF(listen(bad[i].fd, 5), "listen(%s, 5)", bad[i].name);
            CKF(bind(bad[i].fd, (struct sockaddr *)&a4, sizeof a4), "bind(%s, &a4, sizeof)",
                bad[i].name);
            CKF(bind(bad[i].fd, NULL, 0), "bind(%s, NULL, 0)", bad[i].name);
        }
    }
    return 0;
}
