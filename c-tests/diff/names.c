/*
 * names.c — getsockname() and getpeername() for TCP and UDP over IPv4 and
 * IPv6 and for Unix sockets (pathname, abstract, autobound, unnamed):
 * address lengths 0, 1, 2, sizeof-1, exact and larger (the returned length
 * is the full one; bytes beyond what fits stay untouched), negative lengths,
 * NULL / PROT_NONE address and length pointers, unconnected and listening
 * sockets, and bad descriptors.
 */
#include "check.h"

typedef int (*namefn)(int, struct sockaddr *, socklen_t *);

static void probe(const char *what, namefn fn, const char *fname, int fd, socklen_t full)
{
    const socklen_t lens[] = {0, 1, 2, 3, full > 4 ? full - 1 : 4, full, full + 1, 200};
    struct sockaddr_storage ss;
    unsigned char big[256];

    SAY("-- %s(%s), full length %u", fname, what, (unsigned)full);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        socklen_t len = lens[i];
        memset(big, FILL, sizeof big);
        if (CKF(fn(fd, (struct sockaddr *)big, &len), "%s(%s, buf, &(len=%u))", fname, what,
                (unsigned)lens[i]) == 0)
            SAY("  len now %u; %s; beyond min(in,out) untouched: %s", (unsigned)len,
                lens[i] >= len ? addr_str(big, len) : "(truncated)",
                untouched(big, lens[i] < len ? lens[i] : len, sizeof big) ? "yes" : "no");
    }
    {
        socklen_t len = (socklen_t)-1;
        CKF(fn(fd, (struct sockaddr *)&ss, &len), "%s(%s, &ss, &(len=-1))", fname, what);
        len = 0x80000000u;
        CKF(fn(fd, (struct sockaddr *)&ss, &len), "%s(%s, &ss, &(len=0x80000000))", fname, what);
        len = sizeof ss;
        CKF(fn(fd, NULL, &len), "%s(%s, NULL, &(len=sizeof ss))", fname, what);
        len = 0;
        CKF(fn(fd, NULL, &len), "%s(%s, NULL, &(len=0))", fname, what);
        SAY("  len now %u", (unsigned)len);
        CKF(fn(fd, (struct sockaddr *)&ss, NULL), "%s(%s, &ss, NULL)", fname, what);
        CKF(fn(fd, NULL, NULL), "%s(%s, NULL, NULL)", fname, what);
        len = sizeof ss;
        CKF(fn(fd, (struct sockaddr *)bad_ptr(), &len), "%s(%s, PROT_NONE, &len)", fname, what);
        CKF(fn(fd, (struct sockaddr *)&ss, (socklen_t *)bad_ptr()), "%s(%s, &ss, PROT_NONE)",
            fname, what);
        len = 0;
        CKF(fn(fd, (struct sockaddr *)bad_ptr(), &len), "%s(%s, PROT_NONE, &(len=0))", fname,
            what);
        SAY("  len now %u", (unsigned)len);
    }
}

static void both(const char *what, int fd, socklen_t full_sock, socklen_t full_peer)
{
    probe(what, getsockname, "getsockname", fd, full_sock);
    probe(what, getpeername, "getpeername", fd, full_peer);
}

int main(void)
{
    int c, a, u, l, sv[2];
    struct sockaddr_un un;
    socklen_t ulen;

    ck_init();

    if (tcp_pair(AF_INET, &c, &a) == 0) {
        both("tcp4 client", c, sizeof(struct sockaddr_in), sizeof(struct sockaddr_in));
        both("tcp4 accepted", a, sizeof(struct sockaddr_in), sizeof(struct sockaddr_in));
        CK(shutdown(c, SHUT_RDWR));
        probe("tcp4 after shutdown", getpeername, "getpeername", c, sizeof(struct sockaddr_in));
        close(c);
        close(a);
    }
    if (tcp_pair(AF_INET6, &c, &a) == 0) {
        both("tcp6 client", c, sizeof(struct sockaddr_in6), sizeof(struct sockaddr_in6));
        close(c);
        close(a);
    }
    u = socket(AF_INET, SOCK_DGRAM, 0);
    both("udp4 unbound", u, sizeof(struct sockaddr_in), 0);
    {
        struct sockaddr_in x = v4("127.0.0.1", htons(9));
        CK(connect(u, (struct sockaddr *)&x, sizeof x));
        both("udp4 connected", u, sizeof(struct sockaddr_in), sizeof(struct sockaddr_in));
    }
    close(u);
    u = socket(AF_INET6, SOCK_DGRAM, 0);
    probe("udp6 unbound", getsockname, "getsockname", u, sizeof(struct sockaddr_in6));
    close(u);
    l = socket(AF_INET, SOCK_STREAM, 0);
    CK(listen(l, 1));
    both("tcp4 listening", l, sizeof(struct sockaddr_in), 0);
    close(l);

    /* Unix: pathname listener and its client. */
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "names.sock");
    unlink(un.sun_path);
    ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    CK(bind(l, (struct sockaddr *)&un, ulen));
    CK(listen(l, 1));
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CK(connect(c, (struct sockaddr *)&un, ulen));
    a = (int)CK(accept(l, NULL, NULL));
    both("unix listener", l, ulen, 0);
    both("unix client", c, sizeof(sa_family_t), ulen);
    both("unix accepted", a, ulen, sizeof(sa_family_t));
    close(a);
    close(c);
    close(l);
    unlink(un.sun_path);

    /* Abstract and autobound names (printed by length only). */
    {
        char name[64];
        int n = snprintf(name, sizeof name, "libsock-diff-names-%s", run_token());
        memset(&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        memcpy(un.sun_path + 1, name, (size_t)n);
        ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
        u = socket(AF_UNIX, SOCK_DGRAM, 0);
        CK(bind(u, (struct sockaddr *)&un, ulen));
        probe("unix abstract", getsockname, "getsockname", u, ulen);
        close(u);
        u = socket(AF_UNIX, SOCK_DGRAM, 0);
        CK(bind(u, (struct sockaddr *)&un, sizeof(sa_family_t)));
        probe("unix autobound", getsockname, "getsockname", u,
              (socklen_t)(sizeof(sa_family_t) + 6));
        close(u);
    }
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    both("socketpair", sv[0], sizeof(sa_family_t), sizeof(sa_family_t));
    close(sv[0]);
    close(sv[1]);

    {
        struct badfd bad[6];
        int n = bad_fds(bad);
        struct sockaddr_storage ss;
        socklen_t len;
        for (int i = 0; i < n; i++) {
            len = sizeof ss;
            CKF(getsockname(bad[i].fd, (struct sockaddr *)&ss, &len), "getsockname(%s)",
                bad[i].name);
            len = sizeof ss;
            CKF(getpeername(bad[i].fd, (struct sockaddr *)&ss, &len), "getpeername(%s)",
                bad[i].name);
            CKF(getsockname(bad[i].fd, NULL, NULL), "getsockname(%s, NULL, NULL)", bad[i].name);
            CKF(getpeername(bad[i].fd, NULL, NULL), "getpeername(%s, NULL, NULL)", bad[i].name);
        }
    }
    return 0;
}
