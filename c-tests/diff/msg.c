/*
 * msg.c — sendmsg() and recvmsg(): scatter/gather, msg_name lengths (also
 * truncated on receive), MSG_TRUNC / MSG_CTRUNC in msg_flags, ancillary data
 * (IP_PKTINFO, IPV6_PKTINFO, IPV6_HOPLIMIT, SCM_RIGHTS with adequate,
 * truncated and absent control buffers, MSG_CMSG_CLOEXEC, SCM_CREDENTIALS),
 * malformed headers (NULL / PROT_NONE msghdr, iov, control; iovlen 0, 1025,
 * huge; bad cmsg lengths, levels, types; bad descriptors in SCM_RIGHTS),
 * MSG_ERRQUEUE, and descriptors that are not sockets.
 */
#include "check.h"

#include <sys/uio.h>

static const char *msg_flags(int f)
{
    static char out[160];
    snprintf(out, sizeof out, "%#x%s%s%s%s%s", (unsigned)f, (f & MSG_TRUNC) ? " MSG_TRUNC" : "",
             (f & MSG_CTRUNC) ? " MSG_CTRUNC" : "", (f & MSG_EOR) ? " MSG_EOR" : "",
             (f & MSG_ERRQUEUE) ? " MSG_ERRQUEUE" : "",
             (f & MSG_CMSG_CLOEXEC) ? " MSG_CMSG_CLOEXEC" : "");
    return out;
}

/* Descriptors received through SCM_RIGHTS by the last show_cmsgs(). */
static int received[16];
static int n_received;

/* Print every control message: level, type, length and a decoded payload. */
static void show_cmsgs(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        char detail[160] = "";
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;
            char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            inet_ntop(AF_INET, &pi.ipi_spec_dst, a, sizeof a);
            inet_ntop(AF_INET, &pi.ipi_addr, b, sizeof b);
            snprintf(detail, sizeof detail, "ifindex %d spec_dst %s addr %s", pi.ipi_ifindex, a, b);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;
            char a[INET6_ADDRSTRLEN];
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            inet_ntop(AF_INET6, &pi.ipi6_addr, a, sizeof a);
            snprintf(detail, sizeof detail, "ifindex %u addr %s", pi.ipi6_ifindex, a);
        } else if (c->cmsg_len >= CMSG_LEN(sizeof(int)) &&
                   ((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) ||
                    (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL))) {
            int v;
            memcpy(&v, CMSG_DATA(c), sizeof v);
            snprintf(detail, sizeof detail, "value %d", v);
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int len = snprintf(detail, sizeof detail, "%zu fds:", n);
            for (size_t i = 0; i < n && len < 120; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                if (n_received < 16)
                    received[n_received++] = fd;
                len += snprintf(detail + len, sizeof detail - (size_t)len, " %d(%s)", fd,
                                fd_flags(fd));
            }
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred u;
            memcpy(&u, CMSG_DATA(c), sizeof u);
            snprintf(detail, sizeof detail, "pid is mine: %s, uid %u, gid %u",
                     u.pid == getpid() ? "yes" : "no", (unsigned)u.uid, (unsigned)u.gid);
        }
        SAY("  cmsg level %d type %d len %zu %s", c->cmsg_level, c->cmsg_type,
            (size_t)c->cmsg_len, detail);
    }
}

static void show_msg(struct msghdr *m)
{
    SAY("  msg_namelen %u msg_controllen %zu msg_flags %s", (unsigned)m->msg_namelen,
        (size_t)m->msg_controllen, msg_flags(m->msg_flags));
}

static void udp_msgs(int family, const char *fname)
{
    struct sockaddr_storage ra, sa, from;
    socklen_t rlen, slen;
    int r = udp_bound(family, &ra, &rlen);
    int s = udp_bound(family, &sa, &slen);
    char p1[] = "scatter-", p2[] = "gather-", p3[] = "message";
    struct iovec iov[3] = {{p1, 8}, {p2, 7}, {p3, 7}};
    char b1[5], b2[6];
    struct iovec riov[2] = {{b1, sizeof b1}, {b2, sizeof b2}};
    union {
        char buf[256];
        struct cmsghdr align;
    } ctl;
    struct msghdr m;
    int on = 1;

    SAY("== UDP %s", fname);
    if (family == AF_INET) {
        CK(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &on, sizeof on));
        CK(setsockopt(r, IPPROTO_IP, IP_RECVTTL, &on, sizeof on));
    } else {
        CK(setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on));
        CK(setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on));
    }

    memset(&m, 0, sizeof m);
    m.msg_name = &ra;
    m.msg_namelen = rlen;
    m.msg_iov = iov;
    m.msg_iovlen = 3;
    CK(sendmsg(s, &m, 0));

    /* Receive into 11 bytes of a 22-byte datagram, with room for control. */
    memset(&m, 0, sizeof m);
    memset(&from, FILL, sizeof from);
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = riov;
    m.msg_iovlen = 2;
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    CK(recvmsg(r, &m, MSG_PEEK));
    show_msg(&m);
    m.msg_controllen = sizeof ctl.buf;
    m.msg_namelen = sizeof from;
    CK(recvmsg(r, &m, 0));
    show_msg(&m);
    SAY("  from %s; data \"%.5s\" \"%.6s\"", addr_str(&from, m.msg_namelen), b1, b2);
    show_cmsgs(&m);

    /* Truncated name and control; MSG_TRUNC to learn the real length. */
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 3}, 0));
    memset(&from, FILL, sizeof from);
    m.msg_name = &from;
    m.msg_namelen = 3;
    m.msg_controllen = CMSG_LEN(1);
    m.msg_flags = -1;
    CK(recvmsg(r, &m, MSG_TRUNC));
    show_msg(&m);
    SAY("  name bytes beyond 3 untouched: %s", untouched(&from, 3, sizeof from) ? "yes" : "no");
    show_cmsgs(&m);

    /* A control buffer too small for even a header. */
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, 0));
    m.msg_namelen = 0;
    m.msg_name = NULL;
    m.msg_controllen = sizeof(struct cmsghdr) - 1;
    CK(recvmsg(r, &m, 0));
    show_msg(&m);

    /* Control buffer and name in PROT_NONE memory: the datagram still arrives? */
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, 0));
    m.msg_control = bad_ptr();
    m.msg_controllen = 64;
    CK(recvmsg(r, &m, 0));
    show_msg(&m);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, 0));
    m.msg_name = bad_ptr();
    m.msg_namelen = sizeof from;
    CK(recvmsg(r, &m, 0));
    m.msg_name = NULL;
    m.msg_namelen = 0;
    CK(recvmsg(r, &m, MSG_DONTWAIT));

    /* A negative (huge) msg_namelen on receive. */
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, 0));
    m.msg_name = &from;
    m.msg_namelen = (socklen_t)-1;
    CK(recvmsg(r, &m, 0));
    show_msg(&m);
    m.msg_namelen = 0;
    m.msg_name = NULL;
    settle();
    CK(recvmsg(r, &m, MSG_DONTWAIT));

    /* sendmsg's name lengths and header shapes. */
    {
        static const socklen_t lens[] = {0, 1, 15, 16, 27, 28, 128, 129, 0xffffffffu};
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
            CKF(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = lens[i],
                                            .msg_iov = iov, .msg_iovlen = 1}, 0),
                "sendmsg(%s, name len %u)", fname, (unsigned)lens[i]);
    }
    CK(sendmsg(s, &(struct msghdr){.msg_name = NULL, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = bad_ptr(), .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = NULL,
                                   .msg_iovlen = 0}, 0));        /* empty datagram */
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = NULL,
                                   .msg_iovlen = 1}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = bad_ptr(),
                                   .msg_iovlen = 1}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1025}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = SIZE_MAX}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1, .msg_control = NULL,
                                   .msg_controllen = 16}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1, .msg_control = bad_ptr(),
                                   .msg_controllen = 16}, 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1, .msg_control = ctl.buf,
                                   .msg_controllen = (size_t)INT_MAX + 1}, 0));
    CK(sendmsg(s, NULL, 0));
    CK(sendmsg(s, bad_ptr(), 0));
    CK(sendmsg(s, &(struct msghdr){.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov,
                                   .msg_iovlen = 1}, MSG_OOB));
    {
        /* Malformed control messages. */
        struct cmsghdr *c = (struct cmsghdr *)ctl.buf;
        struct msghdr h = {.msg_name = &ra, .msg_namelen = rlen, .msg_iov = iov, .msg_iovlen = 1,
                           .msg_control = ctl.buf, .msg_controllen = CMSG_SPACE(sizeof(int))};
        memset(ctl.buf, 0, sizeof ctl.buf);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &s, sizeof s);
        CKF(sendmsg(s, &h, 0), "sendmsg(%s, SCM_RIGHTS on UDP)", fname);
        c->cmsg_len = sizeof(struct cmsghdr) - 1;
        CKF(sendmsg(s, &h, 0), "sendmsg(%s, cmsg_len < header)", fname);
        c->cmsg_len = CMSG_SPACE(sizeof(int)) + 1;
        CKF(sendmsg(s, &h, 0), "sendmsg(%s, cmsg_len > controllen)", fname);
        c->cmsg_len = CMSG_LEN(sizeof(int));
        c->cmsg_level = 12345;
        CKF(sendmsg(s, &h, 0), "sendmsg(%s, cmsg level 12345)", fname);
        c->cmsg_level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
        c->cmsg_type = 12345;
        CKF(sendmsg(s, &h, 0), "sendmsg(%s, cmsg type 12345 at IP level)", fname);
        c->cmsg_type = family == AF_INET ? IP_TTL : IPV6_HOPLIMIT;
        {
            int ttl = 7;
            memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
            CKF(sendmsg(s, &h, 0), "sendmsg(%s, TTL/hoplimit 7)", fname);
            ttl = 256;
            memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
            CKF(sendmsg(s, &h, 0), "sendmsg(%s, TTL/hoplimit 256)", fname);
        }
        h.msg_controllen = 1;
        CKF(sendmsg(s, &h, 0), "sendmsg(%s, controllen 1)", fname);
    }
    /* Drain what was sent, showing what arrived. */
    settle();
    memset(&m, 0, sizeof m);
    m.msg_iov = riov;
    m.msg_iovlen = 2;
    for (;;) {
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof ctl.buf;
        if (CK(recvmsg(r, &m, MSG_DONTWAIT)) < 0)
            break;
        show_msg(&m);
        show_cmsgs(&m);
    }
    CK(recvmsg(r, &m, MSG_ERRQUEUE));
    CK(recvmsg(r, NULL, 0));
    CK(recvmsg(r, bad_ptr(), 0));
    CK(recvmsg(r, &(struct msghdr){.msg_iov = NULL, .msg_iovlen = 1}, MSG_DONTWAIT));
    CK(recvmsg(r, &(struct msghdr){.msg_iov = riov, .msg_iovlen = 1025}, MSG_DONTWAIT));
    CK(recvmsg(r, &(struct msghdr){.msg_iov = riov, .msg_iovlen = 0}, MSG_DONTWAIT));
    CK(close(r));
    CK(close(s));
}

static int send_fds(int sock, const int *fds, int n)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {"F", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    memset(ctl.buf, 0, sizeof ctl.buf);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
    return (int)sendmsg(sock, &m, 0);
}

/*
 * Receive one byte with a control buffer of controllen bytes; print what
 * came, check the first received descriptor against `same` (by inode) if
 * given, then close whatever was received.
 */
static void recv_fds(int sock, size_t controllen, int flags, const struct stat *same)
{
    union {
        char buf[256];
        struct cmsghdr align;
    } ctl;
    char b;
    struct iovec iov = {&b, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = controllen};
    memset(ctl.buf, 0, sizeof ctl.buf);
    n_received = 0;
    CKF(recvmsg(sock, &m, flags), "recvmsg(unix, controllen %zu, flags %#x)", controllen, flags);
    show_msg(&m);
    show_cmsgs(&m);
    if (same != NULL && n_received > 0) {
        struct stat st;
        fstat(received[0], &st);
        SAY("  received fd %d refers to the same file: %s", received[0],
            st.st_ino == same->st_ino && st.st_dev == same->st_dev ? "yes" : "no");
    }
    for (int i = 0; i < n_received; i++)
        CKF(close(received[i]), "close(received #%d)", i);
    n_received = 0;
}

static void show_open_fds(void)
{
    char list[128];
    int len = 0;
    for (int fd = 0; fd < 16; fd++)
        if (fd_open(fd))
            len += snprintf(list + len, sizeof list - (size_t)len, " %d", fd);
    SAY("  open descriptors:%s", list);
}

static void unix_msgs(void)
{
    int sv[2], p[2];
    struct stat a, b;
    int three[3];

    SAY("== Unix");
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CK(pipe(p));
    fstat(p[0], &a);
    fstat(p[1], &b);
    CK(send_fds(sv[0], &p[0], 1));
    recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0, &a);
    /* MSG_CMSG_CLOEXEC */
    CK(send_fds(sv[0], &p[1], 1));
    recv_fds(sv[1], CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC, &b);
    /* Three descriptors, room for fewer: MSG_CTRUNC, the rest are closed. */
    three[0] = p[0];
    three[1] = p[1];
    three[2] = sv[0];
    CK(send_fds(sv[0], three, 3));
    recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0, &a);
    CK(send_fds(sv[0], three, 3));
    recv_fds(sv[1], CMSG_LEN(sizeof(int)) + 2, 0, &a);
    CK(send_fds(sv[0], three, 3));
    recv_fds(sv[1], CMSG_LEN(0), 0, NULL);
    /* No room at all. */
    CK(send_fds(sv[0], three, 2));
    recv_fds(sv[1], 0, 0, NULL);
    CK(send_fds(sv[0], three, 2));
    recv_fds(sv[1], sizeof(struct cmsghdr) - 1, 0, NULL);
    show_open_fds(); /* nothing leaked by the truncations */
    /* Bad descriptors in SCM_RIGHTS. */
    three[0] = -1;
    CK(send_fds(sv[0], three, 1));
    three[0] = 99999;
    CK(send_fds(sv[0], three, 1));
    three[0] = p[0];
    three[1] = -1;
    CK(send_fds(sv[0], three, 2));
    CK(recv(sv[1], &(char){0}, 1, MSG_DONTWAIT));
    /* A socket in flight over itself, and a sent descriptor closed before receipt. */
    CK(send_fds(sv[0], &sv[1], 1));
    {
        int d = dup(p[0]);
        CK(send_fds(sv[0], &d, 1));
        CK(close(d));
    }
    recv_fds(sv[1], 256, 0, NULL);
    recv_fds(sv[1], 256, 0, &a);
    show_open_fds();
    /* Credentials. */
    {
        int on = 1;
        struct ucred u = {getpid(), getuid(), getgid()};
        union {
            char buf[CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {"C", 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                           .msg_controllen = sizeof ctl.buf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        CK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof u);
        memcpy(CMSG_DATA(c), &u, sizeof u);
        CK(sendmsg(sv[0], &m, 0));
        recv_fds(sv[1], 256, 0, NULL);
        u.pid = 1; /* somebody else's pid: allowed only with privilege */
        memcpy(CMSG_DATA(c), &u, sizeof u);
        CK(sendmsg(sv[0], &m, MSG_DONTWAIT));
        recv_fds(sv[1], 256, MSG_DONTWAIT, NULL);
        u.pid = -5;
        memcpy(CMSG_DATA(c), &u, sizeof u);
        CK(sendmsg(sv[0], &m, MSG_DONTWAIT));
        CK(send(sv[0], "D", 1, 0));
        recv_fds(sv[1], 256, 0, NULL);
    }
    /* recvmsg on a stream ignores msg_name: its length becomes 0. */
    {
        struct sockaddr_storage ss;
        char b2[4];
        struct iovec iov = {b2, sizeof b2};
        struct msghdr m = {.msg_name = &ss, .msg_namelen = sizeof ss, .msg_iov = &iov,
                           .msg_iovlen = 1};
        CK(send(sv[0], "abc", 3, 0));
        CK(recvmsg(sv[1], &m, 0));
        show_msg(&m);
    }
    CK(close(p[0]));
    CK(close(p[1]));
    CK(close(sv[0]));
    CK(close(sv[1]));

    /* Seqpacket: MSG_TRUNC and MSG_EOR. */
    CK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    {
        char big[10] = "0123456789", small[4];
        struct iovec iov = {small, sizeof small};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        CK(send(sv[0], big, sizeof big, MSG_EOR));
        CK(recvmsg(sv[1], &m, 0));
        show_msg(&m);
        CK(send(sv[0], big, sizeof big, 0));
        CK(recvmsg(sv[1], &m, MSG_TRUNC));
        show_msg(&m);
    }
    CK(close(sv[0]));
    CK(close(sv[1]));
    show_open_fds();
}

static void tcp_msgs(void)
{
    int c, a;
    char b[8];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

    SAY("== TCP");
    if (tcp_pair(AF_INET, &c, &a) != 0)
        return;
    CK(sendmsg(c, &(struct msghdr){.msg_iov = &(struct iovec){"tcp", 3}, .msg_iovlen = 1},
               MSG_NOSIGNAL));
    CK(recvmsg(a, &m, 0));
    show_msg(&m);
    CK(recvmsg(a, &m, MSG_DONTWAIT));
    CK(recvmsg(a, &m, MSG_ERRQUEUE));
    CK(recvmsg(a, &m, MSG_OOB | MSG_DONTWAIT));
    CK(shutdown(c, SHUT_WR));
    CK(sendmsg(c, &(struct msghdr){.msg_iov = &(struct iovec){"x", 1}, .msg_iovlen = 1},
               MSG_NOSIGNAL));
    CK(recvmsg(a, &m, 0));
    CK(close(c));
    CK(close(a));
}

static void bad_descriptors(void)
{
    struct badfd bad[6];
    int n = bad_fds(bad);
    char b[4];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

    SAY("== bad descriptors");
    for (int i = 0; i < n; i++) {
        CKF(sendmsg(bad[i].fd, &m, MSG_NOSIGNAL), "sendmsg(%s, &m, MSG_NOSIGNAL)", bad[i].name);
        CKF(sendmsg(bad[i].fd, NULL, 0), "sendmsg(%s, NULL, 0)", bad[i].name);
        CKF(recvmsg(bad[i].fd, &m, MSG_DONTWAIT), "recvmsg(%s, &m, MSG_DONTWAIT)", bad[i].name);
        CKF(recvmsg(bad[i].fd, NULL, 0), "recvmsg(%s, NULL, 0)", bad[i].name);
    }
}

int main(void)
{
    ck_init();
    udp_msgs(AF_INET, "AF_INET");
    udp_msgs(AF_INET6, "AF_INET6");
    unix_msgs();
    tcp_msgs();
    bad_descriptors();
    return 0;
}
