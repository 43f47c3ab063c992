/*
 * fortify.c — the fortified receives. Built with -O2 -D_FORTIFY_SOURCE=2,
 * so recv()/recvfrom() into buffers of known size with lengths the compiler
 * cannot prove safe become calls to __recv_chk / __recvfrom_chk (the runner
 * checks with nm -u that the binary references both). Covers data, MSG_PEEK,
 * MSG_TRUNC, EAGAIN, truncated source addresses, bad descriptors, NULL and
 * PROT_NONE pointers, direct calls with buflen smaller and larger than len,
 * and the overflow case, which must abort (SIGABRT) in every mode.
 */
// diff-cflags: -D_FORTIFY_SOURCE=2
// diff-nm-u: __recv_chk __recvfrom_chk
#include "check.h"

#if !defined(__OPTIMIZE__) || !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 2
#error "fortify.c must be built with -O2 -D_FORTIFY_SOURCE=2"
#endif

/* Lengths the optimiser cannot see through, so the _chk variants are used. */
static volatile size_t len16 = 16, len8 = 8, len17 = 17, len_huge = (size_t)-1;

static int fd_a, fd_b; /* a connected UDP pair, for the children */

static void overflow_recv(void *arg)
{
    char buf[16];
    (void)arg;
    recv(fd_a, buf, len17, MSG_DONTWAIT); /* 17 > 16: __chk_fail */
}

static void overflow_recvfrom(void *arg)
{
    char buf[16];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    (void)arg;
    recvfrom(fd_a, buf, len17, MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
}

static void overflow_huge(void *arg)
{
    char buf[16];
    (void)arg;
    recv(fd_a, buf, len_huge, MSG_DONTWAIT);
}

static void direct_overflow(void *arg)
{
    char buf[32];
    (void)arg;
    __recv_chk(fd_a, buf, 32, 31, MSG_DONTWAIT);
}

static void fine_in_child(void *arg)
{
    char buf[16];
    (void)arg;
    recv(fd_a, buf, len16, MSG_DONTWAIT); /* EAGAIN, no abort */
}

int main(void)
{
    struct sockaddr_storage aa, ba, from;
    socklen_t alen, blen, flen;
    char buf[16];
    char small[8];

    ck_init();
    fd_a = udp_bound(AF_INET, &aa, &alen);
    fd_b = udp_bound(AF_INET, &ba, &blen);
    CK(connect(fd_b, (struct sockaddr *)&aa, alen));

    SAY("== __recv_chk through recv()");
    CK(send(fd_b, "0123456789abcdefXYZ", 19, 0));
    CK(recv(fd_a, buf, len16, MSG_PEEK));
    memset(buf, FILL, sizeof buf);
    CK(recv(fd_a, buf, len8, MSG_PEEK | MSG_TRUNC));
    SAY("  untouched beyond 8: %s", untouched(buf, 8, sizeof buf) ? "yes" : "no");
    CK(recv(fd_a, small, len8, 0));
    SAY("  got \"%.8s\"", small);
    CK(recv(fd_a, buf, len16, MSG_DONTWAIT));
    CK(recv(fd_a, buf, len16 - 16, MSG_DONTWAIT));
    CK(recv(-1, buf, len16, 0));
    CK(recv(99999, buf, len16, 0));
    {
        int p[2];
        if (pipe(p) == 0) {
            CK(recv(p[0], buf, len16, MSG_DONTWAIT));
            close(p[0]);
            close(p[1]);
        }
    }

    SAY("== __recvfrom_chk through recvfrom()");
    CK(send(fd_b, "datagram", 8, 0));
    memset(&from, FILL, sizeof from);
    flen = sizeof from;
    CK(recvfrom(fd_a, buf, len16, 0, (struct sockaddr *)&from, &flen));
    SAY("  from %s", addr_str(&from, flen));
    CK(send(fd_b, "datagram", 8, 0));
    memset(&from, FILL, sizeof from);
    flen = 3;
    CK(recvfrom(fd_a, buf, len16, 0, (struct sockaddr *)&from, &flen));
    SAY("  len now %u, beyond 3 untouched: %s", (unsigned)flen,
        untouched(&from, 3, sizeof from) ? "yes" : "no");
    CK(send(fd_b, "datagram", 8, 0));
    CK(recvfrom(fd_a, small, len8, MSG_TRUNC, NULL, NULL));
    CK(send(fd_b, "lost", 4, 0));
    flen = (socklen_t)-1;
    CK(recvfrom(fd_a, buf, len16, 0, (struct sockaddr *)&from, &flen));
    CK(send(fd_b, "lost", 4, 0));
    CK(recvfrom(fd_a, buf, len16, 0, (struct sockaddr *)&from, NULL));
    CK(send(fd_b, "lost", 4, 0));
    flen = sizeof from;
    CK(recvfrom(fd_a, buf, len16, 0, (struct sockaddr *)bad_ptr(), &flen));
    CK(recvfrom(fd_a, buf, len16, MSG_DONTWAIT, NULL, NULL));
    CK(recvfrom(-1, buf, len16, 0, NULL, NULL));
    flen = sizeof from;
    CK(recvfrom(99999, buf, len16, 0, (struct sockaddr *)&from, &flen));

    SAY("== direct calls");
    CK(send(fd_b, "direct", 6, 0));
    CK(__recv_chk(fd_a, buf, 8, sizeof buf, 0));
    CK(send(fd_b, "direct", 6, 0));
    CK(__recv_chk(fd_a, NULL, 0, 0, 0));                 /* len 0 = buflen 0 */
    CK(send(fd_b, "direct", 6, 0));
    CK(__recv_chk(fd_a, bad_ptr(), 6, 6, 0));
    CK(send(fd_b, "direct", 6, 0));
    flen = sizeof from;
    CK(__recvfrom_chk(fd_a, buf, 8, sizeof buf, 0, (struct sockaddr *)&from, &flen));
    SAY("  from %s", addr_str(&from, flen));
    CK(send(fd_b, "direct", 6, 0));
    CK(__recvfrom_chk(fd_a, buf, sizeof buf, (size_t)-1, 0, NULL, NULL)); /* unknown size */
    CK(__recv_chk(fd_a, buf, sizeof buf, sizeof buf, MSG_DONTWAIT));
    CK(__recv_chk(-1, buf, sizeof buf, sizeof buf, 0));
    CK(__recvfrom_chk(-1, buf, sizeof buf, sizeof buf, 0, NULL, NULL));

    SAY("== overflows abort (in a child)");
    SAY("recv(buf[16], 17): %s", in_child(overflow_recv, NULL));
    SAY("recvfrom(buf[16], 17): %s", in_child(overflow_recvfrom, NULL));
    SAY("recv(buf[16], SIZE_MAX): %s", in_child(overflow_huge, NULL));
    SAY("__recv_chk(len 32, buflen 31): %s", in_child(direct_overflow, NULL));
    SAY("recv(buf[16], 16) for contrast: %s", in_child(fine_in_child, NULL));

    CK(close(fd_a));
    CK(close(fd_b));
    return 0;
}
