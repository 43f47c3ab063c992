/* sockset_bench — the cost of one wait round with N idle descriptors and
 * one active, for select(2), poll(2), a persistent epoll set and
 * sockset_select.
 *
 * Built two ways from this one file (see bench/run.sh):
 *   linked     cc ... -lsock: the SocketSet API called directly;
 *   -DVIA_DLSYM built WITHOUT -lsock, the API looked up with
 *              dlsym(RTLD_DEFAULT, ...), run with LD_PRELOAD=libsock.so.
 *
 * Usage:
 *   sockset_bench cells N METHOD...   one line per method:
 *       CELL N METHOD MEDIAN_US ROUNDS_PER_BATCH BATCHES MIN_US MAX_US
 *     METHOD: select poll epoll adds sockset
 *   sockset_bench trace N R           N pairs, R sockset rounds, no timing
 *                                     (run under strace -c by run.sh)
 *   sockset_bench mem                 MEM <bytes>: the heap (mallinfo2
 *                                     uordblks + hblkhd) taken by sockset_new
 *                                     + sockset_add(s, 1000000)
 *   sockset_bench version             VERSION <libsock_version()>
 *
 * A round: write one byte to the peer of one watched descriptor (picked
 * pseudo-randomly), wait, check that exactly that descriptor is reported
 * ready (abort otherwise), read the byte back. Each cell is timed with
 * CLOCK_MONOTONIC over batches of rounds sized to BENCH_BATCH_MS (default
 * 50 ms); the median of BENCH_BATCHES (default 7) batches is reported in
 * microseconds per round.
 *
 * N socketpairs are made; one end of each is watched (N watched
 * descriptors, 2N open). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

/* ---- the SocketSet API: linked, or looked up in the preloaded library ---- */
#ifdef VIA_DLSYM
static SocketSet *(*S_new)(void);
static void (*S_free)(SocketSet *);
static int (*S_add)(SocketSet *, int);
static void (*S_reset)(SocketSet *);
static size_t (*S_count)(const SocketSet *);
static int (*S_next)(const SocketSet *, int);
static int (*S_select)(SocketSet *, SocketSet *, SocketSet *, const struct timeval *);
static const char *(*S_version)(void);

static void *need(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p) {
        fprintf(stderr, "sockset_bench: %s not found: run with LD_PRELOAD=libsock.so\n", name);
        exit(2);
    }
    return p;
}
#define RESOLVE(var, name) (*(void **)(&var) = need(name))
static void resolve_api(void)
{
    RESOLVE(S_new, "sockset_new");
    RESOLVE(S_free, "sockset_free");
    RESOLVE(S_add, "sockset_add");
    RESOLVE(S_reset, "sockset_reset");
    RESOLVE(S_count, "sockset_count");
    RESOLVE(S_next, "sockset_next");
    RESOLVE(S_select, "sockset_select");
    RESOLVE(S_version, "libsock_version");
}
#else
#define S_new sockset_new
#define S_free sockset_free
#define S_add sockset_add
#define S_reset sockset_reset
#define S_count sockset_count
#define S_next sockset_next
#define S_select sockset_select
#define S_version libsock_version
static void resolve_api(void) {}
#endif

/* ---- helpers ---- */
static void die(const char *what)
{
    fprintf(stderr, "sockset_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "sockset_bench: wrong answer: " __VA_ARGS__);       \
            fputc('\n', stderr);                                                \
            abort();                                                            \
        }                                                                       \
    } while (0)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static int n;           /* watched descriptors */
static int *watched;    /* watched[i]: one end of pair i */
static int *peer;       /* peer[i]: the other end, written to */
static int maxfd;       /* highest watched descriptor */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static int pick(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int)(rng % (uint64_t)n);
}

static void activate(int i)
{
    if (write(peer[i], "x", 1) != 1)
        die("write");
}

static void drain(int i)
{
    char c;
    if (read(watched[i], &c, 1) != 1)
        die("read");
}

/* Raises RLIMIT_NOFILE's soft limit to the hard one; 0 if 2N + slack fit. */
static int setup(int count)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("setrlimit");
    if ((rlim_t)2 * count + 32 > rl.rlim_cur) {
        printf("SKIP %d needs %d descriptors, RLIMIT_NOFILE is %llu\n", count, 2 * count + 32,
               (unsigned long long)rl.rlim_cur);
        return -1;
    }
    n = count;
    watched = malloc(sizeof *watched * (size_t)n);
    peer = malloc(sizeof *peer * (size_t)n);
    if (!watched || !peer)
        die("malloc");
    maxfd = -1;
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair");
        watched[i] = sv[0];
        peer[i] = sv[1];
        if (sv[0] > maxfd)
            maxfd = sv[0];
    }
    return 0;
}

/* ---- the methods: each runs `rounds` full rounds ---- */
enum { SELECT, POLL, EPOLL, ADDS, SOCKSET, METHODS };
static const char *const names[METHODS] = {"select", "poll", "epoll", "adds", "sockset"};

static struct pollfd *pfds;
static int epfd = -1;
static struct epoll_event *events;
static SocketSet *set;

static void open_method(int m)
{
    switch (m) {
    case POLL:
        pfds = calloc((size_t)n, sizeof *pfds);
        if (!pfds)
            die("calloc");
        for (int i = 0; i < n; i++)
            pfds[i] = (struct pollfd){.fd = watched[i], .events = POLLIN};
        break;
    case EPOLL:
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
            die("epoll_create1");
        events = calloc((size_t)n, sizeof *events);
        if (!events)
            die("calloc");
        for (int i = 0; i < n; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, watched[i], &ev) != 0)
                die("epoll_ctl");
        }
        break;
    case ADDS:
    case SOCKSET:
        set = S_new();
        if (!set)
            die("sockset_new");
        break;
    }
}

static void close_method(int m)
{
    switch (m) {
    case POLL:
        free(pfds);
        pfds = NULL;
        break;
    case EPOLL:
        close(epfd);
        epfd = -1;
        free(events);
        events = NULL;
        break;
    case ADDS:
    case SOCKSET:
        S_free(set);
        set = NULL;
        break;
    }
}

static void run_select(long rounds)
{
    fd_set r;
    for (long k = 0; k < rounds; k++) {
        int i = pick(), want = watched[i], got = -1, ready = 0;
        activate(i);
        FD_ZERO(&r);
        for (int j = 0; j < n; j++)
            FD_SET(watched[j], &r);
        int rc = select(maxfd + 1, &r, NULL, NULL, NULL);
        if (rc < 0)
            die("select");
        for (int fd = 0; fd <= maxfd; fd++)
            if (FD_ISSET(fd, &r)) {
                got = fd;
                ready++;
            }
        CHECK(rc == 1 && ready == 1 && got == want, "select: %d ready, fd %d, want %d", rc, got,
              want);
        drain(i);
    }
}

static void run_poll(long rounds)
{
    for (long k = 0; k < rounds; k++) {
        int i = pick(), got = -1, ready = 0;
        activate(i);
        int rc = poll(pfds, (nfds_t)n, -1);
        if (rc < 0)
            die("poll");
        for (int j = 0; j < n; j++)
            if (pfds[j].revents) {
                got = j;
                ready++;
            }
        CHECK(rc == 1 && ready == 1 && got == i, "poll: %d ready, index %d, want %d", rc, got, i);
        drain(i);
    }
}

static void run_epoll(long rounds)
{
    for (long k = 0; k < rounds; k++) {
        int i = pick();
        activate(i);
        int rc = epoll_wait(epfd, events, n, -1);
        if (rc < 0)
            die("epoll_wait");
        CHECK(rc == 1 && events[0].data.u32 == (uint32_t)i, "epoll_wait: %d ready, index %u, want %d",
              rc, events[0].data.u32, i);
        drain(i);
    }
}

/* The user's own part of a sockset round: reset, then add every socket. */
static void run_adds(long rounds)
{
    for (long k = 0; k < rounds; k++) {
        S_reset(set);
        for (int j = 0; j < n; j++)
            if (S_add(set, watched[j]) != 0)
                die("sockset_add");
    }
    CHECK(S_count(set) == (size_t)n, "sockset_count %zu, want %d", S_count(set), n);
}

/* The user's full round: reset, add every socket, select, walk the ready. */
static void run_sockset(long rounds)
{
    for (long k = 0; k < rounds; k++) {
        int i = pick(), want = watched[i], got = -1, ready = 0;
        activate(i);
        S_reset(set);
        for (int j = 0; j < n; j++)
            if (S_add(set, watched[j]) != 0)
                die("sockset_add");
        int rc = S_select(set, NULL, NULL, NULL);
        if (rc < 0)
            die("sockset_select");
        for (int fd = S_next(set, -1); fd >= 0; fd = S_next(set, fd)) {
            got = fd;
            ready++;
        }
        CHECK(rc == 1 && ready == 1 && got == want, "sockset_select: %d ready, fd %d, want %d", rc,
              got, want);
        drain(i);
    }
}

static void run(int m, long rounds)
{
    switch (m) {
    case SELECT: run_select(rounds); break;
    case POLL: run_poll(rounds); break;
    case EPOLL: run_epoll(rounds); break;
    case ADDS: run_adds(rounds); break;
    case SOCKSET: run_sockset(rounds); break;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void cell(int m)
{
    if (m == SELECT && maxfd >= FD_SETSIZE) {
        printf("CELL %d %s - 0 0 - -\n", n, names[m]);
        return;
    }
    long batch_ms = env_long("BENCH_BATCH_MS", 50);
    long batches = env_long("BENCH_BATCHES", 7);
    if (batch_ms < 1)
        batch_ms = 1;
    if (batches < 1)
        batches = 1;
    if (batches > 101)
        batches = 101;
    open_method(m);
    /* Warm up (sockset's first round registers every member with epoll),
     * then calibrate: double the rounds until a run takes 10 ms. */
    run(m, 1);
    long rounds = 1;
    uint64_t t;
    for (;;) {
        uint64_t t0 = now_ns();
        run(m, rounds);
        t = now_ns() - t0;
        if (t >= 10000000u || rounds >= (1L << 30))
            break;
        rounds *= 2;
    }
    double per_round_ns = (double)t / (double)rounds;
    long batch_rounds = (long)((double)batch_ms * 1e6 / per_round_ns);
    if (batch_rounds < 1)
        batch_rounds = 1;
    double us[101];
    for (long b = 0; b < batches; b++) {
        uint64_t t0 = now_ns();
        run(m, batch_rounds);
        us[b] = (double)(now_ns() - t0) / 1000.0 / (double)batch_rounds;
    }
    close_method(m);
    qsort(us, (size_t)batches, sizeof us[0], cmp_double);
    double median = batches % 2 ? us[batches / 2] : (us[batches / 2 - 1] + us[batches / 2]) / 2;
    printf("CELL %d %s %.4f %ld %ld %.4f %.4f\n", n, names[m], median, batch_rounds, batches, us[0],
           us[batches - 1]);
    fflush(stdout);
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv)
{
    resolve_api();
    if (argc >= 2 && strcmp(argv[1], "version") == 0) {
        printf("VERSION %s\n", S_version());
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "mem") == 0) {
        /* Warm the allocator and the API up first (nr_open is read once). */
        SocketSet *warm = S_new();
        if (!warm || S_add(warm, 1) != 0)
            die("sockset warm-up");
        S_free(warm);
        size_t heap0 = heap_in_use();
        SocketSet *s = S_new();
        if (!s || S_add(s, 1000000) != 0)
            die("sockset_add(s, 1000000)");
        size_t heap1 = heap_in_use();
        CHECK(S_count(s) == 1 && S_next(s, -1) == 1000000, "set with 1000000");
        printf("MEM %zu\n", heap1 - heap0);
        S_free(s);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "trace") == 0) {
        if (setup(atoi(argv[2])) != 0)
            return 0;
        long rounds = atol(argv[3]);
        open_method(SOCKSET);
        run(SOCKSET, rounds);
        close_method(SOCKSET);
        printf("TRACE %d %ld\n", n, rounds);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "cells") == 0) {
        if (setup(atoi(argv[2])) != 0)
            return 0;
        for (int a = 3; a < argc; a++) {
            int m = 0;
            while (m < METHODS && strcmp(argv[a], names[m]) != 0)
                m++;
            if (m == METHODS) {
                fprintf(stderr, "sockset_bench: unknown method %s\n", argv[a]);
                return 2;
            }
            cell(m);
        }
        return 0;
    }
    fprintf(stderr, "usage: %s cells N METHOD... | trace N ROUNDS | mem | version\n", argv[0]);
    return 2;
}
