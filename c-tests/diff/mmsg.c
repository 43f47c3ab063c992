/*
 * mmsg.c — sendmmsg() and recvmmsg() batches over UDP (IPv4, IPv6), Unix
 * datagrams and TCP: msg_len of each entry, names and MSG_TRUNC per entry,
 * vlen 0, vlen above UIO_MAXIOV, MSG_WAITFORONE, timeouts (NULL, zero,
 * valid, invalid, PROT_NONE), NULL / PROT_NONE vectors, a bad buffer in the
 * middle of a batch (partial success, and the error recvmmsg leaves for the
 * next call), and bad descriptors.
 */
#include "check.h"

#include <sys/uio.h>

#define N 6

struct batch {
    struct mmsghdr v[N];
    struct iovec iov[N];
    char buf[N][16];
    struct sockaddr_storage name[N];
};

/* Receive-side batch: every entry a 16-byte buffer (8 for entry 1) and a name. */
static void rx_batch(struct batch *b)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < N; i++) {
        memset(b->buf[i], FILL, sizeof b->buf[i]);
        b->iov[i].iov_base = b->buf[i];
        b->iov[i].iov_len = i == 1 ? 8 : sizeof b->buf[i];
        b->v[i].msg_hdr.msg_iov = &b->iov[i];
        b->v[i].msg_hdr.msg_iovlen = 1;
        b->v[i].msg_hdr.msg_name = &b->name[i];
        b->v[i].msg_hdr.msg_namelen = sizeof b->name[i];
        b->v[i].msg_len = 0xdeadbeef;
    }
}

/* Send-side batch of n messages "msg-0", "msg-1 ..." to dst (may be NULL). */
static void tx_batch(struct batch *b, int n, const void *dst, socklen_t dlen)
{
    static const char *texts[N] = {"msg-0", "msg-1 longer one", "msg-2", "", "msg-4", "msg-5"};
    memset(b, 0, sizeof *b);
    for (int i = 0; i < n; i++) {
        b->iov[i].iov_base = (void *)texts[i];
        b->iov[i].iov_len = strlen(texts[i]);
        b->v[i].msg_hdr.msg_iov = &b->iov[i];
        b->v[i].msg_hdr.msg_iovlen = 1;
        b->v[i].msg_hdr.msg_name = (void *)dst;
        b->v[i].msg_hdr.msg_namelen = dst != NULL ? dlen : 0;
        b->v[i].msg_len = 0xdeadbeef;
    }
}

static void show_rx(const struct batch *b, int n)
{
    for (int i = 0; i < n && i < N; i++) {
        const struct msghdr *h = &b->v[i].msg_hdr;
        SAY("  [%d] msg_len %u \"%.*s\" flags %#x%s namelen %u %s", i, b->v[i].msg_len,
            (int)(b->v[i].msg_len < b->iov[i].iov_len ? b->v[i].msg_len : b->iov[i].iov_len),
            b->buf[i], (unsigned)h->msg_flags, (h->msg_flags & MSG_TRUNC) ? " (MSG_TRUNC)" : "",
            (unsigned)h->msg_namelen,
            h->msg_namelen ? addr_str(h->msg_name, h->msg_namelen) : "-");
    }
    if (n >= 0 && n < N)
        SAY("  [%d] msg_len %s", n, b->v[n].msg_len == 0xdeadbeef ? "untouched" : "written");
}

static void show_tx(const struct batch *b, int n)
{
    for (int i = 0; i < n && i < N; i++)
        SAY("  [%d] msg_len %u", i, b->v[i].msg_len);
}

static void drain(int fd)
{
    char buf[64];
    int n = 0;
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        n++;
    SAY("  drained %d", n);
}

static void udp_batches(int family, const char *fname)
{
    struct sockaddr_storage ra, sa;
    socklen_t rlen, slen;
    int r = udp_bound(family, &ra, &rlen);
    int s = udp_bound(family, &sa, &slen);
    struct batch tx, rx;
    struct timespec ts;
    int n;

    SAY("== UDP %s", fname);
    tx_batch(&tx, 5, &ra, rlen);
    n = (int)CK(sendmmsg(s, tx.v, 5, 0));
    settle();
    show_tx(&tx, n);
    rx_batch(&rx);
    n = (int)CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, NULL));
    show_rx(&rx, n);

    /* vlen 0 */
    CK(sendmmsg(s, tx.v, 0, 0));
    settle();
    CK(recvmmsg(r, rx.v, 0, MSG_DONTWAIT, NULL));
    CK(sendmmsg(s, NULL, 0, 0));
    settle();
    CK(recvmmsg(r, NULL, 0, 0, NULL));
    ts = (struct timespec){0, 0};
    CK(recvmmsg(r, rx.v, 0, 0, &ts));

    /* Timeouts: with data and MSG_WAITFORONE; without data; zero; invalid. */
    tx_batch(&tx, 3, &ra, rlen);
    CK(sendmmsg(s, tx.v, 3, 0));
    settle();
    rx_batch(&rx);
    ts = (struct timespec){2, 0};
    n = (int)CK(recvmmsg(r, rx.v, N, MSG_WAITFORONE, &ts));
    show_rx(&rx, n);
    SAY("  timeout left: %s", ts.tv_sec >= 0 && ts.tv_sec <= 2 ? "within 2s" : "odd");
    ts = (struct timespec){0, 0};
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, &ts));
    ts = (struct timespec){0, 20000000};
    CK(fcntl(r, F_SETFL, O_NONBLOCK));
    CK(recvmmsg(r, rx.v, N, 0, &ts));
    CK(fcntl(r, F_SETFL, 0));
    ts = (struct timespec){0, -1};
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, &ts));
    ts = (struct timespec){0, 1000000000};
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, &ts));
    ts = (struct timespec){-1, 0};
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, &ts));
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, (struct timespec *)bad_ptr()));
    /* A blocking socket, nothing queued, a short timeout and SO_RCVTIMEO as a guard. */
    {
        struct timeval tv = {0, 50000};
        CK(setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
        ts = (struct timespec){0, 10000000};
        CK(recvmmsg(r, rx.v, N, 0, &ts));
    }

    /* Bad vectors. */
    CK(sendmmsg(s, NULL, 1, 0));
    settle();
    CK(sendmmsg(s, bad_ptr(), 2, 0));
    CK(recvmmsg(r, NULL, 1, MSG_DONTWAIT, NULL));
    CK(recvmmsg(r, bad_ptr(), 1, MSG_DONTWAIT, NULL));

    /* A bad buffer in entry 1: entry 0 goes, the call reports 1. */
    tx_batch(&tx, 3, &ra, rlen);
    tx.iov[1].iov_base = bad_ptr();
    n = (int)CK(sendmmsg(s, tx.v, 3, 0));
    settle();
    show_tx(&tx, 3);
    tx.iov[0].iov_base = NULL;
    CK(sendmmsg(s, tx.v, 3, 0));                    /* the first fails: -1 */
    tx_batch(&tx, 3, &ra, rlen);
    tx.v[1].msg_hdr.msg_namelen = 1;                /* bad name length in entry 1 */
    CK(sendmmsg(s, tx.v, 3, 0));
    settle();
    tx_batch(&tx, 3, NULL, 0);                      /* no destination */
    CK(sendmmsg(s, tx.v, 3, 0));
    settle();
    tx_batch(&tx, 3, &ra, rlen);
    CK(sendmmsg(s, tx.v, 3, MSG_OOB));
    settle();
    n = (int)CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, NULL));
    (void)n;

    /* recvmmsg with a bad buffer in entry 1: 1 is returned, the error is
       left on the socket for the next call. */
    tx_batch(&tx, 3, &ra, rlen);
    CK(sendmmsg(s, tx.v, 3, 0));
    settle();
    rx_batch(&rx);
    rx.iov[1].iov_base = bad_ptr();
    n = (int)CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, NULL));
    show_rx(&rx, 1);
    {
        int err = -1;
        socklen_t len = sizeof err;
        CK(getsockopt(r, SOL_SOCKET, SO_ERROR, &err, &len));
        SAY("  SO_ERROR=%s", errname(err));
    }
    rx_batch(&rx);
    n = (int)CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, NULL));
    show_rx(&rx, n);
    tx_batch(&tx, 2, &ra, rlen);
    CK(sendmmsg(s, tx.v, 2, 0));
    settle();
    rx_batch(&rx);
    rx.iov[1].iov_base = bad_ptr();
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, NULL));
    CK(recv(r, rx.buf[0], 16, MSG_DONTWAIT));        /* the stashed error */
    CK(recv(r, rx.buf[0], 16, MSG_DONTWAIT));
    /* Bad name in entry 0: the datagram is consumed, EFAULT. */
    CK(sendmmsg(s, tx.v, 2, 0));
    settle();
    rx_batch(&rx);
    rx.v[0].msg_hdr.msg_name = bad_ptr();
    CK(recvmmsg(r, rx.v, N, MSG_DONTWAIT, NULL));
    drain(r);

    /* More than UIO_MAXIOV entries: sendmmsg caps the batch at 1024. */
    {
        unsigned big = 1500;
        struct mmsghdr *v = calloc(big, sizeof *v);
        struct iovec one = {"b", 1};
        for (unsigned i = 0; i < big; i++) {
            v[i].msg_hdr.msg_iov = &one;
            v[i].msg_hdr.msg_iovlen = 1;
            v[i].msg_hdr.msg_name = &ra;
            v[i].msg_hdr.msg_namelen = rlen;
        }
        CK(sendmmsg(s, v, big, 0));
        settle();
        SAY("  v[1023].msg_len %u v[1024].msg_len %u", v[1023].msg_len, v[1024].msg_len);
        CK(sendmmsg(s, v, UINT_MAX, MSG_DONTWAIT));
        settle();
        {
            int got = 0;
            char c;
            while (recv(r, &c, 1, MSG_DONTWAIT) >= 0)
                got++;
            SAY("  received some: %s", got > 0 ? "yes" : "no");
        }
        free(v);
    }
    /* recvmmsg with a huge vlen: stops when nothing is left (MSG_DONTWAIT). */
    tx_batch(&tx, 2, &ra, rlen);
    CK(sendmmsg(s, tx.v, 2, 0));
    settle();
    rx_batch(&rx);
    n = (int)CK(recvmmsg(r, rx.v, UINT_MAX, MSG_DONTWAIT, NULL));
    show_rx(&rx, n);

    CK(close(r));
    CK(close(s));
}

static void unix_and_tcp(void)
{
    int sv[2];
    struct batch tx, rx;
    int n, c, a;

    SAY("== Unix datagrams");
    CK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    tx_batch(&tx, 4, NULL, 0);
    n = (int)CK(sendmmsg(sv[0], tx.v, 4, 0));
    settle();
    show_tx(&tx, n);
    rx_batch(&rx);
    n = (int)CK(recvmmsg(sv[1], rx.v, 3, 0, NULL));
    show_rx(&rx, n);
    rx_batch(&rx);
    n = (int)CK(recvmmsg(sv[1], rx.v, N, MSG_WAITFORONE, NULL));
    show_rx(&rx, n);
    CK(close(sv[1]));
    tx_batch(&tx, 2, NULL, 0);
    CK(sendmmsg(sv[0], tx.v, 2, MSG_NOSIGNAL));
    settle();
    CK(close(sv[0]));

    SAY("== TCP");
    if (tcp_pair(AF_INET, &c, &a) != 0)
        return;
    tx_batch(&tx, 3, NULL, 0);
    n = (int)CK(sendmmsg(c, tx.v, 3, 0));
    settle();
    show_tx(&tx, n);
    {
        /* All 21 bytes are queued; read them in 16 + 5. */
        char all[32];
        CK(recv(a, all, 21, MSG_WAITALL));
        SAY("  stream: \"%.21s\"", all);
    }
    tx_batch(&tx, 2, NULL, 0);
    CK(sendmmsg(c, tx.v, 2, 0));
    settle();
    rx_batch(&rx);
    CK(shutdown(c, SHUT_WR));
    n = (int)CK(recvmmsg(a, rx.v, N, 0, NULL));      /* 16 + 5, then EOF stops the batch */
    show_rx(&rx, n);
    CK(recvmmsg(a, rx.v, N, 0, NULL));
    tx_batch(&tx, 2, NULL, 0);
    CK(sendmmsg(c, tx.v, 2, MSG_NOSIGNAL));         /* EPIPE */
    CK(close(c));
    CK(close(a));
}

static void bad_descriptors(void)
{
    struct badfd bad[6];
    int n = bad_fds(bad);
    struct batch b;
    struct timespec ts = {0, 0};

    SAY("== bad descriptors");
    rx_batch(&b);
    for (int i = 0; i < n; i++) {
        CKF(sendmmsg(bad[i].fd, b.v, 1, MSG_NOSIGNAL), "sendmmsg(%s, v, 1)", bad[i].name);
        CKF(sendmmsg(bad[i].fd, NULL, 0, 0), "sendmmsg(%s, NULL, 0)", bad[i].name);
        CKF(recvmmsg(bad[i].fd, b.v, 1, MSG_DONTWAIT, NULL), "recvmmsg(%s, v, 1, NULL)",
            bad[i].name);
        CKF(recvmmsg(bad[i].fd, b.v, 1, MSG_DONTWAIT, &ts), "recvmmsg(%s, v, 1, {0,0})",
            bad[i].name);
        CKF(recvmmsg(bad[i].fd, NULL, 0, 0, NULL), "recvmmsg(%s, NULL, 0, NULL)", bad[i].name);
    }
}

int main(void)
{
    ck_init();
    udp_batches(AF_INET, "AF_INET");
    udp_batches(AF_INET6, "AF_INET6");
    unix_and_tcp();
    bad_descriptors();
    return 0;
}
