/*
 * create.c — socket(), socketpair() and close(): families, types, protocols
 * (known and unknown), SOCK_NONBLOCK / SOCK_CLOEXEC as seen by fcntl, what
 * the kernel reports back through SO_TYPE / SO_DOMAIN / SO_PROTOCOL, bad
 * socketpair vectors, and closing twice.
 */
#include "check.h"

static void describe_socket(int fd)
{
    int v;
    socklen_t len;

    if (fd < 0)
        return;
    SAY("  fd %d: %s", fd, fd_flags(fd));
    len = sizeof v;
    CK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    SAY("  SO_TYPE=%d len=%u", v, (unsigned)len);
    len = sizeof v;
    CK(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len));
    SAY("  SO_DOMAIN=%d", v);
    len = sizeof v;
    CK(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len));
    SAY("  SO_PROTOCOL=%d", v);
}

static void create_and_close(int domain, const char *dname, int type,
                             const char *tname, int proto, const char *pname)
{
    int fd = (int)CKF(socket(domain, type, proto), "socket(%s, %s, %s)",
                      dname, tname, pname);
    if (fd >= 0) {
        describe_socket(fd);
        CK(close(fd));
    }
}

#define TRY(d, t, p) create_and_close(d, #d, t, #t, p, #p)

int main(void)
{
    int sv[2];
    int fd;

    ck_init();

    /* Good combinations. */
    TRY(AF_INET, SOCK_STREAM, 0);
    TRY(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    TRY(AF_INET, SOCK_DGRAM, 0);
    TRY(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    TRY(AF_INET6, SOCK_STREAM, 0);
    TRY(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    TRY(AF_UNIX, SOCK_STREAM, 0);
    TRY(AF_UNIX, SOCK_DGRAM, 0);
    TRY(AF_UNIX, SOCK_SEQPACKET, 0);
    TRY(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    TRY(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    TRY(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    TRY(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    TRY(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    /* Unknown or mismatched families, types, protocols, flag bits. */
    TRY(AF_UNSPEC, SOCK_STREAM, 0);
    TRY(12345, SOCK_STREAM, 0);
    TRY(-1, SOCK_STREAM, 0);
    TRY(AF_MAX, SOCK_STREAM, 0);
    TRY(INT_MAX, SOCK_DGRAM, 0);
    TRY(AF_INET, 0, 0);
    TRY(AF_INET, 12345, 0);
    TRY(AF_INET, -1, 0);
    TRY(AF_INET, SOCK_SEQPACKET, 0);
    TRY(AF_INET, SOCK_STREAM | 0x100, 0);
    TRY(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | 0x40000000, 0);
    TRY(AF_INET, SOCK_STREAM, IPPROTO_UDP);
    TRY(AF_INET, SOCK_DGRAM, IPPROTO_TCP);
    TRY(AF_INET, SOCK_STREAM, -1);
    TRY(AF_INET, SOCK_STREAM, 255);
    TRY(AF_INET, SOCK_STREAM, 12345);
    TRY(AF_INET6, SOCK_DGRAM, IPPROTO_TCP);
    TRY(AF_UNIX, SOCK_STREAM, 1);
    TRY(AF_UNIX, SOCK_RAW, 0);
    TRY(AF_UNIX, SOCK_DGRAM, -1);

    /* socketpair: the Unix types, flags, and what is refused. */
    memset(sv, 0xff, sizeof sv);
    if (CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) == 0) {
        SAY("  sv = {%d, %d}", sv[0], sv[1]);
        describe_socket(sv[0]);
        describe_socket(sv[1]);
        CK(close(sv[0]));
        CK(close(sv[1]));
    }
    if (CK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv)) == 0) {
        SAY("  sv = {%d, %d}", sv[0], sv[1]);
        describe_socket(sv[0]);
        describe_socket(sv[1]);
        CK(close(sv[0]));
        CK(close(sv[1]));
    }
    if (CK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) == 0) {
        SAY("  sv = {%d, %d}", sv[0], sv[1]);
        describe_socket(sv[0]);
        describe_socket(sv[1]);
        CK(close(sv[0]));
        CK(close(sv[1]));
    }
    /*
     * Failures: the kernel stores the two reserved descriptor numbers in sv
     * before it creates the sockets, so sv is written even when the call
     * fails. Whatever it holds afterwards must be the same in every mode.
     */
    {
        static const struct {
            int domain, type, protocol;
            const char *desc;
        } bad[] = {
            {AF_INET, SOCK_STREAM, 0, "AF_INET, SOCK_STREAM, 0"},
            {AF_INET6, SOCK_DGRAM, 0, "AF_INET6, SOCK_DGRAM, 0"},
            {AF_UNIX, 12345, 0, "AF_UNIX, 12345, 0"},
            {AF_UNIX, SOCK_STREAM | 0x100, 0, "AF_UNIX, SOCK_STREAM | 0x100, 0"},
            {AF_UNIX, SOCK_STREAM, 2, "AF_UNIX, SOCK_STREAM, 2"},
            {12345, SOCK_STREAM, 0, "12345, SOCK_STREAM, 0"},
            {-1, SOCK_STREAM, 0, "-1, SOCK_STREAM, 0"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memset(sv, 0x5a, sizeof sv);
            CKF(socketpair(bad[i].domain, bad[i].type, bad[i].protocol, sv),
                "socketpair(%s, sv)", bad[i].desc);
            SAY("  sv = {%#x, %#x}", (unsigned)sv[0], (unsigned)sv[1]);
        }
    }
    if (CK(socketpair(AF_UNIX, SOCK_STREAM, 1, sv)) == 0) { /* 1 is PF_UNIX itself */
        SAY("  sv = {%d, %d}", sv[0], sv[1]);
        CK(close(sv[0]));
        CK(close(sv[1]));
    }
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, NULL));
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)bad_ptr()));
    CK(socketpair(AF_UNIX, SOCK_DGRAM, 0, (int *)bad_ptr() + 1));
    /* No descriptor leaked by the failed calls: the next one is the lowest. */
    fd = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
    CK(close(fd));

    /* close: twice, and descriptors that never were. */
    fd = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    CK(close(fd));
    CK(close(fd));
    CK(close(-1));
    CK(close(99999));
    CK(close(INT_MIN));
    fd = (int)CK(socket(AF_INET6, SOCK_STREAM, 0));
    EXPECT(fd_open(fd));
    CK(close(fd));
    EXPECT(!fd_open(fd));

    /* close on descriptors that are not sockets. */
    {
        int p[2];
        if (CK(pipe(p)) == 0) {
            CK(close(p[0]));
            CK(close(p[1]));
            CK(close(p[1]));
        }
        fd = open("/dev/null", O_RDONLY);
        SAY("open(/dev/null) = %d", fd);
        CK(close(fd));
    }

    /* Many sockets: numbers are handed out lowest-first and reused. */
    {
        int fds[8];
        for (int i = 0; i < 8; i++)
            fds[i] = (int)CKF(socket(i % 2 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0),
                              "socket(#%d)", i);
        CK(close(fds[3]));
        CK(close(fds[5]));
        fd = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
        EXPECT(fd == fds[3]);
        CK(close(fd));
        for (int i = 0; i < 8; i++)
            if (i != 3 && i != 5)
                CKF(close(fds[i]), "close(fds[%d])", i);
    }
    return 0;
}
