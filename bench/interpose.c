/* interpose — what a socket call costs under plain glibc, under
 * LD_PRELOAD=libsock.so with nothing configured, and with tracing on.
 *
 * One binary, built without libsock; bench/interpose.sh runs it in the three
 * environments, interleaved, and makes the table.
 *
 * Usage:
 *   interpose bound                  BOUND <symbol> <library> for the calls
 *                                    timed (which definition the program's
 *                                    calls reach: libc or libsock)
 *   interpose run WORKLOAD ITERS K   K timed batches of ITERS operations
 *                                    after a warm-up batch; one line:
 *                                    RESULT WORKLOAD ns-per-op x K
 *     WORKLOAD:
 *       eagain    recvfrom(MSG_DONTWAIT) on an empty, bound UDP socket:
 *                 -1 EAGAIN (one call per op; ns per call)
 *       pingpong  64 bytes over a loopback TCP connection (TCP_NODELAY)
 *                 to a second thread that echoes them: send + recv
 *                 (MSG_WAITALL) on each side (four calls per op; ns per
 *                 round trip)
 *
 * Timed with CLOCK_MONOTONIC (vDSO: no system call, nothing interposed).
 * Any unexpected result aborts: a wrong answer is never timed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static void die(const char *what)
{
    fprintf(stderr, "interpose: %s: %s\n", what, strerror(errno));
    exit(2);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- eagain ---- */

static int udp_empty(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("bind");
    return fd;
}

static double eagain_batch(int fd, long iters)
{
    char buf[MSG];
    struct sockaddr_in from;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (r != -1 || errno != EAGAIN) {
            fprintf(stderr, "interpose: recvfrom returned %zd errno %d, expected -1 EAGAIN\n", r,
                    errno);
            exit(2);
        }
    }
    return (now_ns() - t0) / iters;
}

/* ---- pingpong ---- */

static void full(int fd, char *buf, int n, int sending)
{
    ssize_t r = sending ? send(fd, buf, n, 0) : recv(fd, buf, n, MSG_WAITALL);
    if (r != n) {
        fprintf(stderr, "interpose: %s returned %zd (errno %d), expected %d\n",
                sending ? "send" : "recv", r, errno, n);
        exit(2);
    }
}

static void *echo(void *arg)
{
    int fd = *(int *)arg;
    char buf[MSG];
    for (;;) {
        ssize_t r = recv(fd, buf, MSG, MSG_WAITALL);
        if (r == 0)
            return NULL;
        if (r != MSG) {
            fprintf(stderr, "interpose: echo recv returned %zd (errno %d)\n", r, errno);
            exit(2);
        }
        full(fd, buf, MSG, 1);
    }
}

static void tcp_pair(int sv[2])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0)
        die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0)
        die("listen");
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof a) != 0)
        die("connect");
    sv[1] = accept(l, NULL, NULL);
    if (sv[1] < 0)
        die("accept");
    close(l);
    int one = 1;
    setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static double pingpong_batch(int fd, long iters)
{
    char buf[MSG];
    memset(buf, 'p', sizeof buf);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        buf[0] = (char)i;
        full(fd, buf, MSG, 1);
        full(fd, buf, MSG, 0);
        if (buf[0] != (char)i) {
            fprintf(stderr, "interpose: echo mismatch\n");
            exit(2);
        }
    }
    return (now_ns() - t0) / iters;
}

/* ---- main ---- */

static void bound(const char *sym)
{
    Dl_info info;
    void *p = dlsym(RTLD_DEFAULT, sym);
    const char *lib = p && dladdr(p, &info) && info.dli_fname ? info.dli_fname : "?";
    const char *base = strrchr(lib, '/');
    printf("BOUND %s %s\n", sym, base ? base + 1 : lib);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "bound") == 0) {
        bound("recvfrom");
        bound("send");
        bound("recv");
        return 0;
    }
    if (argc != 5 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: interpose bound | interpose run eagain|pingpong ITERS K\n");
        return 2;
    }
    const char *w = argv[2];
    long iters = atol(argv[3]);
    int k = atoi(argv[4]);
    if (iters < 1 || k < 1) {
        fprintf(stderr, "interpose: ITERS and K must be positive\n");
        return 2;
    }
    double res[64];
    if (k > 64)
        k = 64;
    if (strcmp(w, "eagain") == 0) {
        int fd = udp_empty();
        eagain_batch(fd, iters / 4 + 1); /* warm-up */
        for (int i = 0; i < k; i++)
            res[i] = eagain_batch(fd, iters);
        close(fd);
    } else if (strcmp(w, "pingpong") == 0) {
        int sv[2];
        pthread_t t;
        tcp_pair(sv);
        if (pthread_create(&t, NULL, echo, &sv[1]) != 0)
            die("pthread_create");
        /* Both threads on one CPU, the same in every run: left to the
         * scheduler, a round trip is ~4 us (one CPU) or ~50 us (a wakeup
         * across CPUs on this VM) depending on where the threads land,
         * which would swamp the difference being measured. */
        {
            cpu_set_t cpus;
            CPU_ZERO(&cpus);
            CPU_SET(0, &cpus);
            pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
            pthread_setaffinity_np(t, sizeof cpus, &cpus);
        }
        pingpong_batch(sv[0], iters / 4 + 1);
        for (int i = 0; i < k; i++)
            res[i] = pingpong_batch(sv[0], iters);
        shutdown(sv[0], SHUT_WR);
        pthread_join(t, NULL);
        close(sv[0]);
        close(sv[1]);
    } else {
        fprintf(stderr, "interpose: unknown workload %s\n", w);
        return 2;
    }
    printf("RESULT %s", w);
    for (int i = 0; i < k; i++)
        printf(" %.2f", res[i]);
    printf("\n");
    return 0;
}
