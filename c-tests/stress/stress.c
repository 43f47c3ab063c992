/* Stress: many threads doing whole socket lifecycles at once, while the
 * main thread forks children that make socket calls of their own and exit
 * (by exit, _exit or _Exit). Meant to run under LD_PRELOAD=libsock.so with
 * tracing, stats and socket policy on (c-tests/stress/run.sh), and also
 * natively, linked, under ASan and under valgrind.
 *
 * Each worker thread, round after round:
 *   TCP   socket, bind 127.0.0.1:0, listen, getsockname, socket, connect,
 *         accept/accept4, policy read back with getsockopt, data both ways
 *         in chunks with every byte verified, shutdown, EOF, close x3;
 *   unix  socketpair (stream) send/recv, socketpair (datagram)
 *         sendmsg/recvmsg, close;
 *   UDP   two sockets, bind, getsockname, sendto/recvfrom, close.
 *
 * Checks (any failure: a line on stderr and exit status 1):
 *   - every byte sent is received and matches (no lost or altered bytes);
 *   - descriptors: /proc/self/fd counted before and after, in the parent
 *     and in every child; only the trace file libsock opens may be new, and
 *     only once (`trace fds` is the number of descriptors open on the file
 *     named by LIBSOCK_TRACE);
 *   - with LIBSOCK_NODELAY / LIBSOCK_KEEPALIVE / LIBSOCK_TOS in the
 *     environment, every TCP socket, connected and accepted, has them;
 *   - no deadlock: a watchdog (alarm) ends the process with status 124,
 *     and each child has its own.
 *
 * Output, for the runner to compare with the trace and the stats:
 *   proc PID calls N out BYTES in BYTES      (one line per process; N counts
 *                                              the calls libsock exports)
 *   stress: ...                               (summary, last line)
 *
 * Environment: STRESS_THREADS (16), STRESS_ROUNDS (100), STRESS_FORKS (40),
 * STRESS_BYTES (max bytes per TCP connection each way, 65536),
 * STRESS_WATCHDOG (seconds, 120), STRESS_WARMUP (set: one socket call before
 * the threads start). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int nthreads = 16, nrounds = 100, nforks = 40, maxbytes = 65536, watchdog = 120;

/* What the policy variables ask for (0/-1: not asked). */
static int want_nodelay, want_keepidle = -1, want_keepalive, want_tos = -1;
static const char *trace_path;

/* Per thread (and per child process): the calls made to libsock's exports
 * and the bytes they moved, counted as libsock's stats count them. */
static __thread long my_calls, my_out, my_in;
static _Atomic long total_calls, total_out, total_in;
static _Atomic long bytes_sent, bytes_verified;
static _Atomic int failures;

#define C(expr) (my_calls++, (expr))

static long sent(long r)
{
    if (r > 0)
        my_out += r;
    return r;
}

static long rcvd(long r)
{
    if (r > 0)
        my_in += r;
    return r;
}

/* One line to stderr with a single write(2): safe in a forked child. */
static void say(int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(fd, buf, n);
    (void)w;
}

#define FAIL(fmt, ...)                                                             \
    do {                                                                           \
        atomic_fetch_add(&failures, 1);                                            \
        say(2, "stress: FAIL [%d] %s:%d: " fmt, (int)getpid(), __FILE__, __LINE__, \
            ##__VA_ARGS__);                                                        \
    } while (0)

#define REQUIRE(cond, fmt, ...)                                                    \
    do {                                                                           \
        if (!(cond)) {                                                             \
            FAIL(fmt, ##__VA_ARGS__);                                              \
            return -1;                                                             \
        }                                                                          \
    } while (0)

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "stress: WATCHDOG: no progress in time (deadlock?)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    syscall(SYS_exit_group, 124); /* not libsock's _exit: it may be what hangs */
}

/* Descriptors open in this process, and how many of them are the trace file. */
static void count_fds(int *all, int *trace)
{
    *all = 0;
    *trace = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        FAIL("opendir /proc/self/fd: %s", strerror(errno));
        return;
    }
    struct dirent *e;
    char path[64], target[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d))
            continue;
        (*all)++;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0 && trace_path) {
            target[n] = 0;
            if (strcmp(target, trace_path) == 0)
                (*trace)++;
        }
    }
    closedir(d);
}

static unsigned char pattern(unsigned seed, long i)
{
    uint32_t x = seed * 2654435761u + (uint32_t)i * 40503u;
    return (unsigned char)(x ^ (x >> 13) ^ (x >> 7));
}

/* Sends len bytes of stream `seed` from a to b in chunks, each received
 * in full and checked before the next is sent (so neither side blocks). */
static int transfer(int a, int b, unsigned seed, long len)
{
    unsigned char out[16384], in[16384];
    long off = 0;
    while (off < len) {
        long chunk = len - off < (long)sizeof out ? len - off : (long)sizeof out;
        for (long i = 0; i < chunk; i++)
            out[i] = pattern(seed, off + i);
        long done = 0;
        while (done < chunk) {
            long w = sent(C(send(a, out + done, chunk - done, MSG_NOSIGNAL)));
            REQUIRE(w > 0, "send: %ld %s", w, strerror(errno));
            done += w;
        }
        atomic_fetch_add(&bytes_sent, chunk);
        long got = 0;
        while (got < chunk) {
            long r = rcvd(C(recv(b, in + got, chunk - got, 0)));
            REQUIRE(r > 0, "recv: %ld %s (after %ld of %ld bytes)", r, strerror(errno),
                    off + got, len);
            got += r;
        }
        REQUIRE(memcmp(in, out, chunk) == 0, "bytes differ in chunk at %ld", off);
        atomic_fetch_add(&bytes_verified, chunk);
        off += chunk;
    }
    return 0;
}

static int getint(int fd, int level, int name)
{
    int v = -12345;
    socklen_t l = sizeof v;
    if (C(getsockopt(fd, level, name, &v, &l)) != 0)
        return -12345;
    return v;
}

static int check_policy(int fd, const char *which)
{
    if (want_nodelay)
        REQUIRE(getint(fd, IPPROTO_TCP, TCP_NODELAY) != 0, "%s: TCP_NODELAY not set", which);
    if (want_keepalive)
        REQUIRE(getint(fd, SOL_SOCKET, SO_KEEPALIVE) == 1, "%s: SO_KEEPALIVE not set", which);
    if (want_keepidle > 0)
        REQUIRE(getint(fd, IPPROTO_TCP, TCP_KEEPIDLE) == want_keepidle, "%s: TCP_KEEPIDLE", which);
    if (want_tos >= 0)
        REQUIRE(getint(fd, IPPROTO_IP, IP_TOS) == want_tos, "%s: IP_TOS %d, want %d", which,
                getint(fd, IPPROTO_IP, IP_TOS), want_tos);
    return 0;
}

static int tcp_round(unsigned seed, long len, int use_accept4)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int l = C(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(l >= 0, "socket: %s", strerror(errno));
    int r = C(bind(l, (struct sockaddr *)&a, sizeof a));
    r |= C(listen(l, 8));
    r |= C(getsockname(l, (struct sockaddr *)&a, &alen));
    if (r != 0) {
        FAIL("bind/listen/getsockname: %s", strerror(errno));
        C(close(l));
        return -1;
    }
    int c = C(socket(AF_INET, SOCK_STREAM, 0));
    if (c < 0 || C(connect(c, (struct sockaddr *)&a, sizeof a)) != 0) {
        FAIL("socket/connect: %s", strerror(errno));
        if (c >= 0)
            C(close(c));
        C(close(l));
        return -1;
    }
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int s = use_accept4 ? C(accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC))
                        : C(accept(l, (struct sockaddr *)&peer, &plen));
    int rc = 0;
    if (s < 0) {
        FAIL("accept: %s", strerror(errno));
        rc = -1;
    } else {
        char buf[1];
        if (check_policy(c, "connected") || check_policy(s, "accepted") ||
            transfer(c, s, seed, len) || transfer(s, c, seed ^ 0x5a5a5a5au, len)) {
            rc = -1;
        } else if (C(shutdown(c, SHUT_WR)) != 0 || rcvd(C(recv(s, buf, 1, 0))) != 0 ||
                   C(shutdown(s, SHUT_RDWR)) != 0 || rcvd(C(recv(c, buf, 1, 0))) != 0) {
            FAIL("shutdown/EOF: %s", strerror(errno));
            rc = -1;
        }
        REQUIRE(C(close(s)) == 0, "close accepted: %s", strerror(errno));
    }
    REQUIRE(C(close(c)) == 0, "close client: %s", strerror(errno));
    REQUIRE(C(close(l)) == 0, "close listener: %s", strerror(errno));
    return rc;
}

static int unix_round(unsigned seed)
{
    int sv[2];
    REQUIRE(C(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) == 0, "socketpair: %s",
            strerror(errno));
    int rc = transfer(sv[0], sv[1], seed, 4096 + seed % 8192);
    REQUIRE(C(close(sv[0])) == 0 && C(close(sv[1])) == 0, "close pair: %s", strerror(errno));
    if (rc)
        return rc;

    REQUIRE(C(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) == 0, "socketpair dgram: %s",
            strerror(errno));
    unsigned char out[512], in[600];
    for (int i = 0; i < (int)sizeof out; i++)
        out[i] = pattern(seed, i);
    struct iovec iov = { out, sizeof out };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    long w = sent(C(sendmsg(sv[0], &m, 0)));
    atomic_fetch_add(&bytes_sent, sizeof out);
    struct iovec iov2 = { in, sizeof in };
    struct msghdr m2 = { .msg_iov = &iov2, .msg_iovlen = 1 };
    long r = rcvd(C(recvmsg(sv[1], &m2, 0)));
    if (w != (long)sizeof out || r != (long)sizeof out || memcmp(in, out, sizeof out) != 0) {
        FAIL("datagram pair: sent %ld received %ld", w, r);
        rc = -1;
    } else {
        atomic_fetch_add(&bytes_verified, sizeof out);
    }
    REQUIRE(C(close(sv[0])) == 0 && C(close(sv[1])) == 0, "close dgram pair");
    return rc;
}

static int udp_round(unsigned seed)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int u1 = C(socket(AF_INET, SOCK_DGRAM, 0));
    int u2 = C(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int rc = 0;
    if (u1 < 0 || u2 < 0 || C(bind(u2, (struct sockaddr *)&a, sizeof a)) != 0 ||
        C(getsockname(u2, (struct sockaddr *)&a, &alen)) != 0) {
        FAIL("udp setup: %s", strerror(errno));
        rc = -1;
    } else {
        unsigned char out[1200], in[1500];
        for (int i = 0; i < (int)sizeof out; i++)
            out[i] = pattern(seed, i);
        long w = sent(C(sendto(u1, out, sizeof out, 0, (struct sockaddr *)&a, sizeof a)));
        atomic_fetch_add(&bytes_sent, sizeof out);
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        long r = rcvd(C(recvfrom(u2, in, sizeof in, 0, (struct sockaddr *)&from, &flen)));
        if (w != (long)sizeof out || r != (long)sizeof out || memcmp(in, out, sizeof out) != 0) {
            FAIL("udp: sent %ld received %ld", w, r);
            rc = -1;
        } else {
            atomic_fetch_add(&bytes_verified, sizeof out);
        }
    }
    if (u1 >= 0)
        C(close(u1));
    if (u2 >= 0)
        C(close(u2));
    return rc;
}

/* The absolute path of this process's trace file (LIBSOCK_TRACE with %p
 * replaced by the pid), or NULL when tracing to stderr or not at all. */
static void resolve_trace_path(void)
{
    static char real[2 * PATH_MAX + 2];
    const char *tr = getenv("LIBSOCK_TRACE");
    trace_path = NULL;
    if (!tr || !*tr || strcmp(tr, "1") == 0 || strcmp(tr, "stderr") == 0)
        return;
    char path[PATH_MAX];
    size_t n = 0;
    for (const char *p = tr; *p && n < sizeof path - 16; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            n += snprintf(path + n, sizeof path - n, "%d", (int)getpid());
            p++;
        } else {
            path[n++] = *p;
        }
    }
    path[n] = 0;
    /* The file may not exist yet: resolve its directory. */
    char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[PATH_MAX], rd[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path)
        strcpy(dir, "/");
    if (!realpath(dir, rd))
        return;
    snprintf(real, sizeof real, "%s/%s", strcmp(rd, "/") ? rd : "", base);
    trace_path = real;
}

static pthread_barrier_t start;

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned rnd = 0x9e3779b9u * (id + 1);
    /* All threads make their first socket call at once: libsock's lazy
     * set-up (settings, trace file) races here if it can. */
    pthread_barrier_wait(&start);
    for (int round = 0; round < nrounds && atomic_load(&failures) == 0; round++) {
        rnd = rnd * 1103515245u + 12345u;
        unsigned seed = (unsigned)(id << 20) ^ (unsigned)round ^ rnd;
        long len = 1 + (rnd >> 8) % (unsigned)maxbytes;
        if (tcp_round(seed, len, round & 1) || unix_round(seed) || udp_round(seed))
            break;
    }
    atomic_fetch_add(&total_calls, my_calls);
    atomic_fetch_add(&total_out, my_out);
    atomic_fetch_add(&total_in, my_in);
    return NULL;
}

/* The forked child: socket calls of its own, a descriptor check, and an
 * exit of the kind `how` says. Uses only write(2) for output. */
static void child(int k)
{
    signal(SIGALRM, on_alarm);
    alarm(30);
    my_calls = my_out = my_in = 0;
    atomic_store(&failures, 0);
    resolve_trace_path();
    int before, trace_before, after, trace_after;
    count_fds(&before, &trace_before);
    int rc = tcp_round(0xc0ffee00u + k, 1 + (k * 7919) % 32768, k & 1);
    if (rc == 0)
        rc = unix_round(0xbeef0000u + k);
    if (rc == 0)
        rc = udp_round(0xfeed0000u + k);
    count_fds(&after, &trace_after);
    if (after - trace_after != before - trace_before) {
        FAIL("child %d: descriptors %d before, %d after (trace file: %d, %d)", k, before, after,
             trace_before, trace_after);
        rc = -1;
    }
    say(1, "proc %d calls %ld out %ld in %ld", (int)getpid(), my_calls, my_out, my_in);
    int status = rc == 0 && atomic_load(&failures) == 0 ? 0 : 1;
    switch (k % 3) {
    case 0:
        exit(status);
    case 1:
        _exit(status);
    default:
        _Exit(status);
    }
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

int main(void)
{
    nthreads = env_int("STRESS_THREADS", nthreads);
    nrounds = env_int("STRESS_ROUNDS", nrounds);
    nforks = env_int("STRESS_FORKS", nforks);
    maxbytes = env_int("STRESS_BYTES", maxbytes);
    watchdog = env_int("STRESS_WATCHDOG", watchdog);
    if (nthreads < 1 || maxbytes < 1)
        return 2;

    want_nodelay = getenv("LIBSOCK_NODELAY") && strcmp(getenv("LIBSOCK_NODELAY"), "1") == 0;
    const char *ka = getenv("LIBSOCK_KEEPALIVE");
    if (ka && *ka) {
        want_keepalive = 1;
        if (strcmp(ka, "1") != 0)
            want_keepidle = atoi(ka);
    }
    const char *tos = getenv("LIBSOCK_TOS");
    if (tos && strcmp(tos, "low-delay") == 0)
        want_tos = IPTOS_LOWDELAY;
    resolve_trace_path();

    signal(SIGALRM, on_alarm);
    alarm(watchdog);

    /* STRESS_WARMUP=1: one socket call first, so libsock's lazy set-up is
     * done before the threads start (for runs that test something else). */
    if (getenv("STRESS_WARMUP"))
        close(-1);
    /* Otherwise no socket call before this count: libsock opens nothing early. */
    int before, trace_before;
    count_fds(&before, &trace_before);

    pthread_t *th = calloc(nthreads, sizeof *th);
    pthread_barrier_init(&start, NULL, nthreads);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "stress: pthread_create failed\n");
            return 2;
        }

    /* Fork while the workers are busy. */
    int children_ok = 0;
    for (int k = 0; k < nforks; k++) {
        usleep(2000);
        pid_t pid = fork();
        if (pid < 0) {
            FAIL("fork: %s", strerror(errno));
            break;
        }
        if (pid == 0)
            child(k);
        int status;
        if (waitpid(pid, &status, 0) != pid)
            FAIL("waitpid: %s", strerror(errno));
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            FAIL("child %d: %s %d", k, WIFEXITED(status) ? "exit status" : "killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        else
            children_ok++;
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    free(th);

    int after, trace_after;
    count_fds(&after, &trace_after);
    if (after - trace_after != before - trace_before)
        FAIL("descriptors: %d before, %d after, not counting the trace file (%d, %d)",
             before - trace_before, after - trace_after, trace_before, trace_after);
    if (trace_after > 1)
        FAIL("the trace file is open %d times (libsock opened it more than once and kept "
             "the extra descriptors)", trace_after);
    if (atomic_load(&bytes_sent) != atomic_load(&bytes_verified))
        FAIL("bytes: %ld sent, %ld received and verified", atomic_load(&bytes_sent),
             atomic_load(&bytes_verified));

    /* main's own calls: none (count_fds uses opendir/readlink only). */
    say(1, "proc %d calls %ld out %ld in %ld", (int)getpid(), atomic_load(&total_calls),
        atomic_load(&total_out), atomic_load(&total_in));
    int f = atomic_load(&failures);
    say(1,
        "stress: %d threads x %d rounds, %d/%d forked children ok; %ld bytes sent, %ld "
        "verified; descriptors %d before, %d after (trace file %d); %s",
        nthreads, nrounds, children_ok, nforks, atomic_load(&bytes_sent),
        atomic_load(&bytes_verified), before, after, trace_after, f ? "FAILED" : "ok");
    return f ? 1 : 0;
}
