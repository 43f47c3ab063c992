/* access — what a checked call costs with access rules: connect and sendto
 * under plain glibc, under LD_PRELOAD=libsock.so with nothing configured,
 * and with 10 and 1,000 LIBSOCK_DENY rules that do not match the peer (so
 * every call is checked and goes through). bench/access.sh runs it in the
 * four environments, interleaved, and makes the table.
 *
 * Usage: access run WORKLOAD ITERS K   K timed batches of ITERS calls after
 *                                      a warm-up; RESULT WORKLOAD ns-per-call x K
 *   connect  connect(2) of a UDP socket to 127.0.0.1:PORT, again and again
 *            (no packet: the call and its check only)
 *   sendto   sendto(2) of 16 bytes from a UDP socket to 127.0.0.1:PORT, a
 *            bound socket that never reads (the kernel drops what does not
 *            fit; with rules its socket filter judges each datagram first)
 *
 * Timed with CLOCK_MONOTONIC (vDSO). Any unexpected result aborts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "access-bench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 5 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: access run connect|sendto ITERS K\n");
        return 2;
    }
    const char *w = argv[2];
    long iters = atol(argv[3]);
    int k = atoi(argv[4]);
    int sendto_w = strcmp(w, "sendto") == 0;
    if (!sendto_w && strcmp(w, "connect") != 0)
        return 2;
    int rx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int small = 4096;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    if (bind(rx, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(rx, (struct sockaddr *)&a, &len) != 0)
        die("bind");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    char buf[16] = "0123456789abcdef";
    printf("RESULT %s", w);
    for (int b = -1; b < k; b++) {
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            if (sendto_w) {
                if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&a, sizeof a) != sizeof buf)
                    die("sendto");
            } else if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
                die("connect");
            }
        }
        double ns = (now_ns() - t0) / iters;
        if (b >= 0)
            printf(" %.1f", ns);
    }
    printf("\n");
    return 0;
}
