/*
 * sendrecv.c — send(), sendto(), recv(), recvfrom() over TCP, UDP (IPv4 and
 * IPv6) and Unix: NULL / PROT_NONE buffers, zero and huge lengths, MSG_PEEK
 * then read, MSG_TRUNC (UDP: the full length although the buffer is
 * smaller), MSG_WAITALL, EAGAIN (MSG_DONTWAIT, O_NONBLOCK, SO_RCVTIMEO),
 * truncated source addresses from recvfrom, EPIPE with MSG_NOSIGNAL and
 * SIGPIPE without it, ECONNREFUSED on connected UDP, EINTR and SA_RESTART.
 */
#include "check.h"

#include <sys/time.h>

static void tcp_cases(int family, const char *fname)
{
    int c, a;
    char buf[64];
    char *edge = fixed_rw_then_none();

    SAY("== TCP %s", fname);
    if (tcp_pair(family, &c, &a) != 0)
        return;
    CK(send(c, "hello world", 11, 0));
    settle();
    memset(buf, FILL, sizeof buf);
    CK(recv(a, buf, 5, MSG_PEEK));
    SAY("  peeked \"%.5s\"", buf);
    CK(recv(a, buf, 0, 0));                        /* zero length: 0, nothing consumed */
    CK(recv(a, buf, 5, 0));
    SAY("  read \"%.5s\", untouched beyond: %s", buf, untouched(buf, 5, sizeof buf) ? "yes" : "no");
    CK(recv(a, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT));
    CK(recv(a, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT)); /* TCP: discards, returns count */
    CK(recv(a, buf, sizeof buf, MSG_DONTWAIT));    /* nothing left */
    CK(recv(a, NULL, 0, MSG_DONTWAIT));

    /* NULL and PROT_NONE buffers. */
    CK(send(c, NULL, 0, 0));
    CK(send(c, NULL, 5, 0));
    CK(send(c, bad_ptr(), 5, 0));
    CK(send(c, "abc", 3, 0));
    CK(recv(a, NULL, 3, 0));                       /* EFAULT; the data stays */
    CK(recv(a, bad_ptr(), 3, 0));
    CK(recv(a, buf, sizeof buf, 0));

    /* Huge lengths: only what is there is read; a send stops at the fault. */
    CK(send(c, "0123456789", 10, 0));
    memset(edge, FILL, 4096);
    CK(recv(a, edge, SIZE_MAX, 0));
    CK(send(c, "0123456789", 10, 0));
    settle();
    CK(recv(a, edge, (size_t)-1 / 2, MSG_WAITALL | MSG_DONTWAIT));
    CK(send(c, "0123456789", 10, 0));
    CK(recv(a, edge + 4096 - 4, 10, 0));           /* 4 fit, then PROT_NONE */
    CK(recv(a, buf, sizeof buf, 0));
    memcpy(edge + 4096 - 8, "ABCDEFGH", 8);
    CK(send(c, edge + 4096 - 8, 8, 0));            /* exactly to the edge */
    CK(send(c, edge + 4096 - 8, 9, 0));            /* one byte into PROT_NONE */
    CK(send(c, edge + 4096 - 8, SIZE_MAX, MSG_DONTWAIT));
    CK(recv(a, buf, sizeof buf, 0));

    /* MSG_WAITALL gathers several sends. */
    CK(send(c, "ab", 2, 0));
    CK(send(c, "cd", 2, 0));
    CK(send(c, "ef", 2, 0));
    CK(recv(a, buf, 6, MSG_WAITALL));
    SAY("  waitall read \"%.6s\"", buf);

    /* EAGAIN both ways. */
    CK(recv(a, buf, sizeof buf, MSG_DONTWAIT));
    CK(fcntl(a, F_SETFL, O_NONBLOCK));
    CK(recv(a, buf, sizeof buf, 0));
    CK(recv(a, buf, sizeof buf, MSG_OOB));        /* no urgent data */
    CK(send(c, "!", 1, MSG_OOB));
    settle();
    CK(recv(a, buf, 1, MSG_OOB));
    CK(recv(a, buf, sizeof buf, 0));
    /* sendto on a connected stream: the address is ignored, or refused. */
    {
        struct sockaddr_in x = v4("127.0.0.1", htons(9));
        CK(sendto(c, "to", 2, 0, (struct sockaddr *)&x, sizeof x));
        CK(sendto(c, "to", 2, 0, NULL, 0));
        CK(sendto(c, "to", 2, 0, (struct sockaddr *)bad_ptr(), sizeof x));
        settle();
        CK(recv(a, buf, sizeof buf, 0));
    }
    /* recvfrom on a stream: no address is filled in, the length becomes 0. */
    {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        memset(&ss, FILL, sizeof ss);
        CK(send(c, "xy", 2, 0));
        settle();
        CK(recvfrom(a, buf, sizeof buf, 0, (struct sockaddr *)&ss, &len));
        SAY("  addrlen now %u, address untouched: %s", (unsigned)len,
            untouched(&ss, 0, sizeof ss) ? "yes" : "no");
    }
    /* The peer closes: EOF, then EPIPE (+ SIGPIPE unless MSG_NOSIGNAL). */
    CK(shutdown(a, SHUT_WR));
    CK(recv(c, buf, sizeof buf, 0));
    CK(recv(c, buf, sizeof buf, 0));
    CK(shutdown(c, SHUT_WR));
    sigpipe_count = 0;
    CK(send(c, "x", 1, MSG_NOSIGNAL));
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(send(c, "x", 1, 0));
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(sendto(c, "x", 1, MSG_NOSIGNAL, NULL, 0));
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(close(c));
    CK(close(a));

    /* Unconnected and listening stream sockets. */
    c = (int)CK(socket(family, SOCK_STREAM, 0));
    CK(recv(c, buf, sizeof buf, 0));
    CK(send(c, "x", 1, MSG_NOSIGNAL));
    CK(send(c, "x", 1, 0));
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(listen(c, 1));
    CK(recv(c, buf, sizeof buf, MSG_DONTWAIT));
    CK(send(c, "x", 1, MSG_NOSIGNAL));
    CK(close(c));
}

static void udp_cases(int family, const char *fname)
{
    struct sockaddr_storage ra, sa, from;
    socklen_t rlen, slen, flen;
    socklen_t full = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int r = udp_bound(family, &ra, &rlen);
    int s = udp_bound(family, &sa, &slen);
    char buf[64];
    char *edge = fixed_rw_then_none();

    SAY("== UDP %s", fname);
    CK(sendto(s, "0123456789", 10, 0, (struct sockaddr *)&ra, rlen));
    memset(buf, FILL, sizeof buf);
    CK(recv(r, buf, 4, MSG_PEEK));
    CK(recv(r, buf, 4, MSG_PEEK | MSG_TRUNC));     /* full datagram length */
    SAY("  untouched beyond 4: %s", untouched(buf, 4, sizeof buf) ? "yes" : "no");
    CK(recv(r, buf, sizeof buf, MSG_PEEK));
    CK(recv(r, buf, 4, MSG_TRUNC));                /* consumes, still the full length */
    SAY("  got \"%.4s\", untouched beyond 4: %s", buf,
        untouched(buf, 10, sizeof buf) ? "yes" : "no");
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));

    CK(sendto(s, "0123456789", 10, 0, (struct sockaddr *)&ra, rlen));
    CK(recv(r, buf, 4, 0));                        /* truncated: the rest is lost */
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));

    /* Zero-length datagrams and zero-length reads. */
    CK(sendto(s, NULL, 0, 0, (struct sockaddr *)&ra, rlen));
    CK(recv(r, buf, sizeof buf, 0));
    CK(sendto(s, "abc", 3, 0, (struct sockaddr *)&ra, rlen));
    CK(recv(r, buf, 0, MSG_TRUNC));                /* 0-byte buffer, length 3, consumed */
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));

    /* recvfrom with truncated address lengths. */
    {
        static const socklen_t lens[] = {0, 1, 2, 3, 4, 8, 15, 16, 27, 28, 128};
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            CK(sendto(s, "dgram", 5, 0, (struct sockaddr *)&ra, rlen));
            memset(&from, FILL, sizeof from);
            flen = lens[i];
            CKF(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen),
                "recvfrom(%s, buf, 64, 0, &from, &(len=%u))", fname, (unsigned)lens[i]);
            SAY("  len now %u; %s; untouched beyond: %s", (unsigned)flen,
                lens[i] >= full ? addr_str(&from, flen) : "(truncated)",
                untouched(&from, lens[i] < flen ? lens[i] : flen, sizeof from) ? "yes" : "no");
        }
    }
    /* The datagram is consumed before a bad address length is found. */
    CK(sendto(s, "lost", 4, 0, (struct sockaddr *)&ra, rlen));
    flen = (socklen_t)-1;
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(sendto(s, "lost", 4, 0, (struct sockaddr *)&ra, rlen));
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, NULL));
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(sendto(s, "lost", 4, 0, (struct sockaddr *)&ra, rlen));
    flen = sizeof from;
    CK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)bad_ptr(), &flen));
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(sendto(s, "kept", 4, 0, (struct sockaddr *)&ra, rlen));
    flen = 0xdeadbeef;
    CK(recvfrom(r, buf, sizeof buf, 0, NULL, &flen)); /* no address wanted */
    SAY("  len untouched: %s", flen == 0xdeadbeef ? "yes" : "no");
    CK(sendto(s, "kept", 4, 0, (struct sockaddr *)&ra, rlen));
    CK(recvfrom(r, NULL, 4, 0, NULL, NULL));         /* EFAULT on the data */
    CK(recvfrom(r, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));

    /* sendto's address: NULL, lengths, wrong family, oversized datagrams. */
    {
        static const socklen_t lens[] = {0, 1, 2, 15, 16, 27, 28, 29, 128, 129, 0xffffffffu};
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
            CKF(sendto(s, "x", 1, 0, (struct sockaddr *)&ra, lens[i]),
                "sendto(%s, \"x\", 1, 0, &ra, %u)", fname, (unsigned)lens[i]);
        settle();
        while (recv(r, buf, sizeof buf, MSG_DONTWAIT) >= 0)
            SAY("  drained one");
    }
    CK(sendto(s, "x", 1, 0, NULL, full));
    CK(sendto(s, "x", 1, 0, (struct sockaddr *)bad_ptr(), full));
    CK(send(s, "x", 1, 0));                           /* not connected */
    CK(sendto(s, "x", 1, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, NULL, 1, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, edge, 65507, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, edge, 65508, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, edge, 65536, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, edge, SIZE_MAX, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, edge, (size_t)INT_MAX + 1, 0, (struct sockaddr *)&ra, rlen));
    CK(sendto(s, "x", 1, MSG_OOB, (struct sockaddr *)&ra, rlen));
    settle();
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(recv(r, edge, SIZE_MAX, MSG_DONTWAIT));        /* nothing left: EAGAIN */
    CK(recv(r, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));

    /* Connected UDP: a closed port is reported on the next receive. */
    {
        struct sockaddr_storage closed;
        socklen_t clen;
        int z = udp_bound(family, &closed, &clen);
        struct timeval tv = {2, 0};
        close(z);                                     /* the port is now closed */
        CK(connect(s, (struct sockaddr *)&closed, clen));
        CK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
        CK(send(s, "ping", 4, 0));
        CK(recv(s, buf, sizeof buf, 0));
        CK(recv(s, buf, sizeof buf, MSG_DONTWAIT));
    }
    CK(close(r));
    CK(close(s));
}

static void unix_cases(void)
{
    int sv[2];
    char buf[64];

    SAY("== Unix");
    CK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CK(send(sv[0], "0123456789", 10, 0));
    CK(recv(sv[1], buf, 3, MSG_PEEK | MSG_TRUNC));
    CK(recv(sv[1], buf, 3, MSG_TRUNC));
    CK(recv(sv[1], buf, 3, MSG_DONTWAIT));
    CK(send(sv[0], NULL, 0, 0));
    CK(recv(sv[1], buf, sizeof buf, 0));
    CK(send(sv[0], fixed_rw_then_none(), 300000, 0)); /* bigger than the send buffer */
    CK(close(sv[1]));
    sigpipe_count = 0;
    CK(send(sv[0], "x", 1, MSG_NOSIGNAL));            /* dgram: ECONNREFUSED */
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(close(sv[0]));

    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CK(send(sv[0], "stream", 6, 0));
    CK(recv(sv[1], buf, 2, 0));
    CK(recv(sv[1], buf, sizeof buf, MSG_TRUNC | MSG_PEEK));
    CK(recv(sv[1], buf, sizeof buf, 0));
    CK(recvfrom(sv[1], buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
    CK(close(sv[1]));
    sigpipe_count = 0;
    CK(send(sv[0], "x", 1, MSG_NOSIGNAL));
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(send(sv[0], "x", 1, 0));
    SAY("  SIGPIPE count %d", (int)sigpipe_count);
    CK(recv(sv[0], buf, sizeof buf, 0));
    CK(close(sv[0]));

    /* Fill a nonblocking stream until EAGAIN; the amount is not printed. */
    CK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
    {
        long total = 0, n;
        while ((n = send(sv[0], buf, sizeof buf, 0)) > 0)
            total += n;
        SAY("  filled: %s, stopped with %s", total > 0 ? "yes" : "no", errname(errno));
        CK(send(sv[0], buf, sizeof buf, MSG_DONTWAIT));
    }
    CK(close(sv[0]));
    CK(close(sv[1]));
}

/* ---- signals: EINTR without SA_RESTART, restart with it ----
 * A repeating 10 ms timer, so a tick always lands while the receive is
 * blocked, however late the process gets there. */

static volatile int sig_peer = -1;

static void on_alarm(int sig)
{
    (void)sig;
    if (sig_peer >= 0) {
        send(sig_peer, "late", 4, MSG_DONTWAIT);
        sig_peer = -1; /* once */
    }
}

static void arm(int restart, int peer)
{
    struct sigaction sa;
    struct itimerval it = {{0, 10000}, {0, 10000}};
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sig_peer = peer;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm(void)
{
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    sig_peer = -1;
}

static void signal_cases(void)
{
    int sv[2];
    char buf[16];
    struct timeval tv = {0, 30000};

    SAY("== signals");
    CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    /* No SA_RESTART: the blocked receive fails with EINTR. */
    arm(0, -1);
    CK(recv(sv[1], buf, sizeof buf, 0));
    disarm();
    /* SA_RESTART: the receive restarts and gets what the handler sent. */
    arm(1, sv[0]);
    CK(recv(sv[1], buf, sizeof buf, 0));
    disarm();
    SAY("  got \"%.4s\"", buf);
    CK(recvfrom(sv[1], buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
    /* A receive timeout: EAGAIN after it expires. */
    CK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    CK(recv(sv[1], buf, sizeof buf, 0));
    /* With a timeout set, SA_RESTART does not restart: EINTR. */
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    CK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    arm(1, -1);
    CK(recv(sv[1], buf, sizeof buf, 0));
    disarm();
    CK(close(sv[0]));
    CK(close(sv[1]));
    alarm(15);
}

static void bad_descriptors(void)
{
    struct badfd bad[6];
    int n = bad_fds(bad);
    char buf[8];
    struct sockaddr_in x = v4("127.0.0.1", htons(9));
    socklen_t len = sizeof x;

    SAY("== bad descriptors");
    for (int i = 0; i < n; i++) {
        const char *f = bad[i].name;
        int fd = bad[i].fd;
        CKF(send(fd, "x", 1, MSG_NOSIGNAL), "send(%s, \"x\", 1, MSG_NOSIGNAL)", f);
        CKF(send(fd, NULL, 0, 0), "send(%s, NULL, 0, 0)", f);
        CKF(sendto(fd, "x", 1, 0, (struct sockaddr *)&x, sizeof x), "sendto(%s, &x)", f);
        CKF(recv(fd, buf, sizeof buf, MSG_DONTWAIT), "recv(%s, buf, 8, MSG_DONTWAIT)", f);
        CKF(recv(fd, NULL, 0, 0), "recv(%s, NULL, 0, 0)", f);
        CKF(recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&x, &len),
            "recvfrom(%s, buf, 8, MSG_DONTWAIT, &x, &len)", f);
    }
}

int main(void)
{
    ck_init();
    tcp_cases(AF_INET, "AF_INET");
    tcp_cases(AF_INET6, "AF_INET6");
    udp_cases(AF_INET, "AF_INET");
    udp_cases(AF_INET6, "AF_INET6");
    unix_cases();
    signal_cases();
    bad_descriptors();
    return 0;
}
