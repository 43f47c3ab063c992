/*
 * sockopt.c — setsockopt() and getsockopt(): option lengths 0, 1, sizeof-1,
 * sizeof, larger, 0xffffffff; NULL and PROT_NONE values and lengths; the
 * bytes beyond a short getsockopt buffer; read-only options; unknown levels
 * and option names; SOL_SOCKET (buffers, linger, timeouts, priorities,
 * device binding, credentials), IPPROTO_TCP, IPPROTO_IP, IPPROTO_IPV6,
 * IPPROTO_UDP options with good and out-of-range values, options of one
 * family asked of another, and bad descriptors.
 */
#include "check.h"

#include <net/if.h>
#include <netinet/udp.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* setsockopt with an int value, described symbolically. */
#define SETI(fd, lvl, opt, val)                                                          \
    CKF(setsockopt(fd, lvl, opt, &(int){val}, sizeof(int)), "setsockopt(%s, %s, %s, %s)", \
        #fd, #lvl, #opt, #val)

/* getsockopt with an int value: prints the call, then the value and length. */
#define GETI(fd, lvl, opt)                                                               \
    do {                                                                                 \
        int gv_ = -12345;                                                                \
        socklen_t gl_ = sizeof gv_;                                                      \
        if (CKF(getsockopt(fd, lvl, opt, &gv_, &gl_), "getsockopt(%s, %s, %s)", #fd, #lvl, \
                #opt) == 0)                                                              \
            SAY("  value %d len %u", gv_, (unsigned)gl_);                                \
    } while (0)

static void lengths(int fd)
{
    static const struct {
        socklen_t len;
        const char *name;
    } lens[] = {
        {0, "0"},
        {1, "1"},
        {2, "2"},
        {sizeof(int) - 1, "sizeof(int)-1"},
        {sizeof(int), "sizeof(int)"},
        {sizeof(int) + 1, "sizeof(int)+1"},
        {64, "64"},
        {0x7fffffff, "0x7fffffff"},
        {0x80000000u, "0x80000000"},
        {0xffffffffu, "0xffffffff"},
    };
    unsigned char buf[64];

    SAY("== lengths");
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        int one = 1;
        /* set: the value buffer is 64 bytes, so a large length never reads
           beyond it unless the kernel rejects the length first. */
        memset(buf, 0, sizeof buf);
        memcpy(buf, &one, sizeof one);
        if (lens[i].len <= sizeof buf)
            CKF(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, buf, lens[i].len),
                "setsockopt(SO_KEEPALIVE, 1, len %s)", lens[i].name);
        else
            CKF(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, fixed_rw_then_none(), lens[i].len),
                "setsockopt(SO_KEEPALIVE, page, len %s)", lens[i].name);
        CKF(setsockopt(fd, IPPROTO_IP, IP_TTL, buf, lens[i].len <= sizeof buf ? lens[i].len : 4),
            "setsockopt(IP_TTL, 1, len %s)", lens[i].len <= sizeof buf ? lens[i].name : "4");
    }
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        socklen_t len = lens[i].len;
        memset(buf, FILL, sizeof buf);
        if (len <= sizeof buf) {
            CKF(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, buf, &len), "getsockopt(SO_RCVBUF, len %s)",
                lens[i].name);
            SAY("  len now %u, bytes beyond untouched: %s", (unsigned)len,
                untouched(buf, len < lens[i].len ? len : lens[i].len, sizeof buf) ? "yes" : "no");
        } else {
            /* A huge length with a small buffer: the kernel writes only the int. */
            char *page = fixed_rw_then_none();
            CKF(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, page, &len), "getsockopt(SO_RCVBUF, len %s)",
                lens[i].name);
            SAY("  len now %u", (unsigned)len);
        }
        len = lens[i].len <= sizeof buf ? lens[i].len : 4;
        memset(buf, FILL, sizeof buf);
        CKF(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len),
            "getsockopt(SO_BINDTODEVICE unbound, len %s)", lens[i].len <= sizeof buf ? lens[i].name : "4");
        SAY("  len now %u", (unsigned)len);
        len = lens[i].len <= sizeof buf ? lens[i].len : 4;
        memset(buf, FILL, sizeof buf);
        CKF(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len),
            "getsockopt(TCP_CONGESTION, len %s)", lens[i].len <= sizeof buf ? lens[i].name : "4");
        SAY("  len now %u, \"%.*s\"", (unsigned)len, (int)strnlen((char *)buf, len), (char *)buf);
        len = lens[i].len <= sizeof buf ? lens[i].len : 4;
        memset(buf, FILL, sizeof buf);
        CKF(getsockopt(fd, IPPROTO_IP, IP_TTL, buf, &len), "getsockopt(IP_TTL, len %s)",
            lens[i].len <= sizeof buf ? lens[i].name : "4");
        SAY("  len now %u, first byte %u", (unsigned)len, buf[0]);
    }
    {
        socklen_t len = sizeof(int);
        CK(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, sizeof(int)));
        CK(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, 0));
        CK(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, bad_ptr(), sizeof(int)));
        CK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, bad_ptr(), sizeof(int)));
        CK(setsockopt(fd, IPPROTO_IP, IP_TOS, bad_ptr(), sizeof(int)));
        CK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, &len));
        CK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, buf, NULL));
        CK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, NULL));
        CK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, bad_ptr(), &len));
        CK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, buf, (socklen_t *)bad_ptr()));
        len = 0;
        CK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, &len));
        SAY("  len now %u", (unsigned)len);
        len = sizeof(int);
        CK(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, bad_ptr(), &len));
        CK(getsockopt(fd, IPPROTO_IP, IP_TOS, NULL, &len));
    }
}

static void sol_socket(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    int u = socket(AF_INET, SOCK_DGRAM, 0);

    SAY("== SOL_SOCKET");
    GETI(t, SOL_SOCKET, SO_TYPE);
    GETI(u, SOL_SOCKET, SO_TYPE);
    GETI(t, SOL_SOCKET, SO_ERROR);
    GETI(t, SOL_SOCKET, SO_ACCEPTCONN);
    GETI(t, SOL_SOCKET, SO_REUSEADDR);
    GETI(t, SOL_SOCKET, SO_REUSEPORT);
    GETI(t, SOL_SOCKET, SO_KEEPALIVE);
    GETI(u, SOL_SOCKET, SO_BROADCAST);
    GETI(t, SOL_SOCKET, SO_OOBINLINE);
    GETI(t, SOL_SOCKET, SO_PRIORITY);
    GETI(t, SOL_SOCKET, SO_RCVLOWAT);
    GETI(t, SOL_SOCKET, SO_SNDLOWAT);
    GETI(t, SOL_SOCKET, SO_DONTROUTE);
    GETI(t, SOL_SOCKET, SO_MARK);
    GETI(t, SOL_SOCKET, SO_TIMESTAMP);
    GETI(t, SOL_SOCKET, SO_PASSCRED);
    GETI(t, SOL_SOCKET, SO_ZEROCOPY);

    /* Read-only options cannot be set. */
    SETI(t, SOL_SOCKET, SO_TYPE, SOCK_DGRAM);
    SETI(t, SOL_SOCKET, SO_ERROR, 0);
    SETI(t, SOL_SOCKET, SO_ACCEPTCONN, 1);
    SETI(t, SOL_SOCKET, SO_PROTOCOL, 0);
    SETI(t, SOL_SOCKET, SO_DOMAIN, AF_INET6);
    SETI(t, SOL_SOCKET, SO_PEERCRED, 0);

    /* Buffers: doubled, clamped at both ends. */
    GETI(t, SOL_SOCKET, SO_RCVBUF);
    GETI(t, SOL_SOCKET, SO_SNDBUF);
    GETI(u, SOL_SOCKET, SO_RCVBUF);
    GETI(u, SOL_SOCKET, SO_SNDBUF);
    SETI(t, SOL_SOCKET, SO_RCVBUF, 4096);
    GETI(t, SOL_SOCKET, SO_RCVBUF);
    SETI(t, SOL_SOCKET, SO_RCVBUF, 0);
    GETI(t, SOL_SOCKET, SO_RCVBUF);
    SETI(t, SOL_SOCKET, SO_RCVBUF, -1);
    GETI(t, SOL_SOCKET, SO_RCVBUF);
    SETI(t, SOL_SOCKET, SO_SNDBUF, INT_MAX);
    GETI(t, SOL_SOCKET, SO_SNDBUF);
    SETI(t, SOL_SOCKET, SO_SNDBUF, 1);
    GETI(t, SOL_SOCKET, SO_SNDBUF);
    SETI(u, SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20);
    GETI(u, SOL_SOCKET, SO_RCVBUF);
    SETI(u, SOL_SOCKET, SO_SNDBUFFORCE, -5);
    GETI(u, SOL_SOCKET, SO_SNDBUF);

    /* Plain flags and integers, good and odd values. */
    SETI(t, SOL_SOCKET, SO_REUSEADDR, 1);
    GETI(t, SOL_SOCKET, SO_REUSEADDR);
    SETI(t, SOL_SOCKET, SO_REUSEADDR, 42);
    GETI(t, SOL_SOCKET, SO_REUSEADDR);
    SETI(t, SOL_SOCKET, SO_REUSEADDR, -1);
    GETI(t, SOL_SOCKET, SO_REUSEADDR);
    SETI(u, SOL_SOCKET, SO_BROADCAST, 1);
    GETI(u, SOL_SOCKET, SO_BROADCAST);
    SETI(t, SOL_SOCKET, SO_PRIORITY, 6);
    GETI(t, SOL_SOCKET, SO_PRIORITY);
    SETI(t, SOL_SOCKET, SO_PRIORITY, 7);
    SETI(t, SOL_SOCKET, SO_PRIORITY, -1);
    GETI(t, SOL_SOCKET, SO_PRIORITY);
    SETI(t, SOL_SOCKET, SO_RCVLOWAT, 100);
    GETI(t, SOL_SOCKET, SO_RCVLOWAT);
    SETI(t, SOL_SOCKET, SO_RCVLOWAT, -1);
    GETI(t, SOL_SOCKET, SO_RCVLOWAT);
    SETI(t, SOL_SOCKET, SO_SNDLOWAT, 1);
    SETI(t, SOL_SOCKET, SO_MARK, 7);
    GETI(t, SOL_SOCKET, SO_MARK);
    SETI(t, SOL_SOCKET, SO_TIMESTAMP, 1);
    GETI(t, SOL_SOCKET, SO_TIMESTAMP);
    SETI(t, SOL_SOCKET, SO_ZEROCOPY, 1);
    GETI(t, SOL_SOCKET, SO_ZEROCOPY);
    SETI(u, SOL_SOCKET, SO_TXTIME, 0);

    /* struct linger */
    {
        struct linger l = {1, 5}, g;
        socklen_t len;
        CK(setsockopt(t, SOL_SOCKET, SO_LINGER, &l, sizeof l));
        memset(&g, FILL, sizeof g);
        len = sizeof g;
        CK(getsockopt(t, SOL_SOCKET, SO_LINGER, &g, &len));
        SAY("  l_onoff %d l_linger %d len %u", g.l_onoff, g.l_linger, (unsigned)len);
        CK(setsockopt(t, SOL_SOCKET, SO_LINGER, &l, sizeof l - 1));
        CK(setsockopt(t, SOL_SOCKET, SO_LINGER, &l, sizeof(int)));
        l.l_linger = -1;
        CK(setsockopt(t, SOL_SOCKET, SO_LINGER, &l, sizeof l));
        len = sizeof g;
        CK(getsockopt(t, SOL_SOCKET, SO_LINGER, &g, &len));
        SAY("  l_onoff %d l_linger %d", g.l_onoff, g.l_linger);
        memset(&g, FILL, sizeof g);
        len = sizeof(int);
        CK(getsockopt(t, SOL_SOCKET, SO_LINGER, &g, &len));
        SAY("  len now %u, l_linger untouched: %s", (unsigned)len,
            untouched(&g, sizeof(int), sizeof g) ? "yes" : "no");
    }
    /* struct timeval timeouts */
    {
        struct timeval tv = {1, 500000}, g;
        socklen_t len;
        CK(setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
        len = sizeof g;
        CK(getsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &g, &len));
        SAY("  %ld.%06ld len %u", (long)g.tv_sec, (long)g.tv_usec, (unsigned)len);
        tv.tv_usec = 1000000;
        CK(setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
        tv.tv_usec = -1;
        CK(setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
        tv.tv_sec = -5;
        tv.tv_usec = 0;
        CK(setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
        len = sizeof g;
        CK(getsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &g, &len));
        SAY("  %ld.%06ld", (long)g.tv_sec, (long)g.tv_usec);
        tv.tv_sec = 1;
        CK(setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv - 1));
        CK(setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &tv, 8));
        len = 8;
        CK(getsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &g, &len));
        SAY("  len now %u", (unsigned)len);
        tv = (struct timeval){0, 0};
        CK(setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    }
    /* Device binding. */
    {
        char dev[IFNAMSIZ + 8];
        socklen_t len;
        CK(setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
        memset(dev, FILL, sizeof dev);
        len = sizeof dev;
        CK(getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &len));
        SAY("  \"%s\" len %u", dev, (unsigned)len);
        len = 2;
        CK(getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &len));
        CK(setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "no-such-dev", 12));
        CK(setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2)); /* no NUL: fine */
        CK(setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "", 0));   /* unbind */
        len = sizeof dev;
        CK(getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &len));
        SAY("  len %u", (unsigned)len);
        CK(setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "0123456789abcdefXYZ", 20));
        SETI(u, SOL_SOCKET, SO_BINDTOIFINDEX, 1);
        GETI(u, SOL_SOCKET, SO_BINDTOIFINDEX);
        SETI(u, SOL_SOCKET, SO_BINDTOIFINDEX, 99999);
        SETI(u, SOL_SOCKET, SO_BINDTOIFINDEX, 0);
    }
    /* Credentials and cookies: print only what is stable. */
    {
        int sv[2];
        struct ucred cr;
        socklen_t len = sizeof cr;
        unsigned long long cookie = 0;
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        CK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &len));
        SAY("  pid is mine: %s uid %u gid %u len %u", cr.pid == getpid() ? "yes" : "no",
            (unsigned)cr.uid, (unsigned)cr.gid, (unsigned)len);
        len = sizeof cr - 1;
        CK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &len));
        SAY("  len now %u", (unsigned)len);
        len = sizeof cr;
        CK(getsockopt(t, SOL_SOCKET, SO_PEERCRED, &cr, &len));
        SAY("  pid %d uid %u gid %u", (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
        len = sizeof cookie;
        CK(getsockopt(t, SOL_SOCKET, SO_COOKIE, &cookie, &len));
        SAY("  cookie nonzero: %s len %u", cookie ? "yes" : "no", (unsigned)len);
        len = 4;
        CK(getsockopt(t, SOL_SOCKET, SO_COOKIE, &cookie, &len));
        close(sv[0]);
        close(sv[1]);
    }
    /* Unknown names and levels. */
    SETI(t, SOL_SOCKET, 9999, 1);
    GETI(t, SOL_SOCKET, 9999);
    SETI(t, SOL_SOCKET, -1, 1);
    GETI(t, SOL_SOCKET, -1);
    SETI(t, 12345, 1, 1);
    GETI(t, 12345, 1);
    SETI(t, -1, 1, 1);
    GETI(t, -1, 1);
    SETI(u, 12345, 1, 1);
    GETI(u, 12345, 1);
    SETI(t, SOL_RAW, 1, 1);
    GETI(t, SOL_PACKET, 1);
    SETI(t, IPPROTO_UDP, UDP_CORK, 1);
    GETI(u, IPPROTO_TCP, TCP_NODELAY);
    close(t);
    close(u);
}

static void tcp_level(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    char name[32];
    socklen_t len;

    SAY("== IPPROTO_TCP");
    GETI(t, IPPROTO_TCP, TCP_NODELAY);
    SETI(t, IPPROTO_TCP, TCP_NODELAY, 1);
    GETI(t, IPPROTO_TCP, TCP_NODELAY);
    GETI(t, IPPROTO_TCP, TCP_MAXSEG);
    SETI(t, IPPROTO_TCP, TCP_MAXSEG, 1000);
    SETI(t, IPPROTO_TCP, TCP_MAXSEG, 1);
    SETI(t, IPPROTO_TCP, TCP_MAXSEG, 65536);
    GETI(t, IPPROTO_TCP, TCP_KEEPIDLE);
    SETI(t, IPPROTO_TCP, TCP_KEEPIDLE, 0);
    SETI(t, IPPROTO_TCP, TCP_KEEPIDLE, 32767);
    SETI(t, IPPROTO_TCP, TCP_KEEPIDLE, 32768);
    GETI(t, IPPROTO_TCP, TCP_KEEPIDLE);
    SETI(t, IPPROTO_TCP, TCP_KEEPINTVL, -1);
    SETI(t, IPPROTO_TCP, TCP_KEEPCNT, 128);
    SETI(t, IPPROTO_TCP, TCP_KEEPCNT, 127);
    GETI(t, IPPROTO_TCP, TCP_KEEPCNT);
    SETI(t, IPPROTO_TCP, TCP_USER_TIMEOUT, -1);
    SETI(t, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000);
    GETI(t, IPPROTO_TCP, TCP_USER_TIMEOUT);
    SETI(t, IPPROTO_TCP, TCP_SYNCNT, 0);
    SETI(t, IPPROTO_TCP, TCP_SYNCNT, 256);
    SETI(t, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
    GETI(t, IPPROTO_TCP, TCP_DEFER_ACCEPT);
    SETI(t, IPPROTO_TCP, TCP_QUICKACK, 1);
    SETI(t, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4096);
    GETI(t, IPPROTO_TCP, TCP_NOTSENT_LOWAT);
    SETI(t, IPPROTO_TCP, TCP_FASTOPEN, 5);
    SETI(t, IPPROTO_TCP, TCP_WINDOW_CLAMP, 100);
    SETI(t, IPPROTO_TCP, 9999, 1);
    GETI(t, IPPROTO_TCP, 9999);
    len = sizeof name;
    memset(name, 0, sizeof name);
    CK(getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    SAY("  \"%s\" len %u", name, (unsigned)len);
    CK(setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "no-such-cc", 10));
    CK(setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
    CK(setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "", 0));
    len = sizeof name;
    CK(getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    SAY("  \"%s\"", name);
    {
        struct tcp_info ti;
        len = sizeof ti;
        CK(getsockopt(t, IPPROTO_TCP, TCP_INFO, &ti, &len));
        SAY("  state %u len>=104: %s", ti.tcpi_state, len >= 104 ? "yes" : "no");
        len = 1;
        CK(getsockopt(t, IPPROTO_TCP, TCP_INFO, &ti, &len));
        SAY("  len now %u state %u", (unsigned)len, ti.tcpi_state);
        len = 0;
        CK(getsockopt(t, IPPROTO_TCP, TCP_INFO, &ti, &len));
    }
    close(t);
}

static void ip_levels(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    int x = socket(AF_UNIX, SOCK_STREAM, 0);

    SAY("== IPPROTO_IP / IPPROTO_IPV6 / IPPROTO_UDP");
    GETI(u, IPPROTO_IP, IP_TTL);
    SETI(u, IPPROTO_IP, IP_TTL, 0);
    SETI(u, IPPROTO_IP, IP_TTL, 255);
    SETI(u, IPPROTO_IP, IP_TTL, 256);
    GETI(u, IPPROTO_IP, IP_TTL);
    SETI(u, IPPROTO_IP, IP_TTL, -1);
    GETI(u, IPPROTO_IP, IP_TTL);
    CK(setsockopt(u, IPPROTO_IP, IP_TTL, &(unsigned char){9}, 1)); /* a char is accepted */
    GETI(u, IPPROTO_IP, IP_TTL);
    SETI(u, IPPROTO_IP, IP_TOS, 0x10);
    GETI(u, IPPROTO_IP, IP_TOS);
    SETI(u, IPPROTO_IP, IP_TOS, 0x1ff);
    GETI(u, IPPROTO_IP, IP_TOS);
    SETI(u, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
    GETI(u, IPPROTO_IP, IP_MTU_DISCOVER);
    SETI(u, IPPROTO_IP, IP_MTU_DISCOVER, 99);
    GETI(u, IPPROTO_IP, IP_MTU);
    SETI(u, IPPROTO_IP, IP_RECVERR, 1);
    GETI(u, IPPROTO_IP, IP_RECVERR);
    SETI(u, IPPROTO_IP, IP_PKTINFO, 1);
    SETI(u, IPPROTO_IP, IP_FREEBIND, 1);
    GETI(u, IPPROTO_IP, IP_FREEBIND);
    SETI(u, IPPROTO_IP, IP_TRANSPARENT, 1);
    SETI(u, IPPROTO_IP, IP_MULTICAST_TTL, 300);
    CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, &(unsigned char){4}, 1));
    GETI(u, IPPROTO_IP, IP_MULTICAST_TTL);
    {
        unsigned char opts[40];
        socklen_t len = sizeof opts;
        CK(getsockopt(u, IPPROTO_IP, IP_OPTIONS, opts, &len));
        SAY("  len %u", (unsigned)len);
        CK(setsockopt(u, IPPROTO_IP, IP_OPTIONS, "\x01\x01\x01\x00", 4));
        len = sizeof opts;
        CK(getsockopt(u, IPPROTO_IP, IP_OPTIONS, opts, &len));
        SAY("  len %u", (unsigned)len);
        CK(setsockopt(u, IPPROTO_IP, IP_OPTIONS, opts, 41));
        CK(setsockopt(u, IPPROTO_IP, IP_OPTIONS, "\x44\x02", 2)); /* malformed timestamp */
    }
    SETI(u, IPPROTO_IP, 9999, 1);
    GETI(u, IPPROTO_IP, 9999);
    SETI(u, IPPROTO_IPV6, IPV6_V6ONLY, 1);  /* IPv6 option on an IPv4 socket */
    GETI(u, IPPROTO_IPV6, IPV6_V6ONLY);
    SETI(u, IPPROTO_UDP, UDP_CORK, 1);
    GETI(u, IPPROTO_UDP, UDP_CORK);
    SETI(u, IPPROTO_UDP, UDP_CORK, 0);
    SETI(u, IPPROTO_UDP, UDP_SEGMENT, 1000);
    GETI(u, IPPROTO_UDP, UDP_SEGMENT);
    SETI(u, IPPROTO_UDP, UDP_SEGMENT, 70000);
    SETI(u, IPPROTO_UDP, 9999, 1);
    SETI(u, IPPROTO_TCP, TCP_NODELAY, 1);   /* TCP option on UDP */

    GETI(u6, IPPROTO_IPV6, IPV6_V6ONLY);
    SETI(u6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    GETI(u6, IPPROTO_IPV6, IPV6_V6ONLY);
    GETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    SETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 10);
    GETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    SETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256);
    SETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -2);
    SETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1);
    GETI(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    SETI(u6, IPPROTO_IPV6, IPV6_TCLASS, 0x28);
    GETI(u6, IPPROTO_IPV6, IPV6_TCLASS);
    SETI(u6, IPPROTO_IPV6, IPV6_TCLASS, 256);
    SETI(u6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
    SETI(u6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, 42);
    SETI(u6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    GETI(u6, IPPROTO_IPV6, IPV6_RECVPKTINFO);
    SETI(u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 300);
    SETI(u6, IPPROTO_IPV6, 9999, 1);
    GETI(u6, IPPROTO_IPV6, 9999);
    SETI(u6, IPPROTO_IP, IP_TTL, 5);        /* IPv4 option on an IPv6 socket */
    GETI(u6, IPPROTO_IP, IP_TTL);
    SETI(u6, IPPROTO_IP, IP_TOS, 0x10);
    CK(setsockopt(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &(unsigned char){5}, 1));

    SETI(x, IPPROTO_IP, IP_TTL, 5);         /* IP options on a Unix socket */
    GETI(x, IPPROTO_IP, IP_TTL);
    SETI(x, IPPROTO_TCP, TCP_NODELAY, 1);
    SETI(x, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    SETI(x, SOL_SOCKET, SO_PASSCRED, 1);
    GETI(x, SOL_SOCKET, SO_PASSCRED);
    GETI(x, SOL_SOCKET, SO_SNDBUF);
    SETI(x, SOL_SOCKET, SO_SNDBUF, 100000);
    GETI(x, SOL_SOCKET, SO_SNDBUF);
    GETI(x, SOL_SOCKET, SO_TYPE);
    close(u);
    close(u6);
    close(x);
}

static void bad_descriptors(void)
{
    struct badfd bad[6];
    int n = bad_fds(bad);
    int v = 1;
    socklen_t len = sizeof v;

    SAY("== bad descriptors");
    for (int i = 0; i < n; i++) {
        CKF(setsockopt(bad[i].fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v),
            "setsockopt(%s, SOL_SOCKET, SO_REUSEADDR)", bad[i].name);
        CKF(getsockopt(bad[i].fd, SOL_SOCKET, SO_TYPE, &v, &len),
            "getsockopt(%s, SOL_SOCKET, SO_TYPE)", bad[i].name);
        CKF(setsockopt(bad[i].fd, 12345, 1, NULL, 0), "setsockopt(%s, 12345, 1, NULL, 0)",
            bad[i].name);
        CKF(getsockopt(bad[i].fd, SOL_SOCKET, SO_TYPE, NULL, NULL),
            "getsockopt(%s, SOL_SOCKET, SO_TYPE, NULL, NULL)", bad[i].name);
    }
}

int main(void)
{
    int t;

    ck_init();
    t = socket(AF_INET, SOCK_STREAM, 0);
    lengths(t);
    close(t);
    sol_socket();
    tcp_level();
    ip_levels();
    bad_descriptors();
    return 0;
}
