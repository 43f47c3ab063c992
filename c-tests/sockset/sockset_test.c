/* The SocketSet C API: every function, every rule of the spec, every bad
 * input, with descriptors far past FD_SETSIZE. Built linked (-lsock) and
 * run linked and preloaded by c-tests/sockset/run.sh. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sock.h>

#include "check.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static const struct timeval zero = { 0, 0 };

static void pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        exit(2);
    }
}

static void raise_nofile(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static void test_bad_inputs(void)
{
    SocketSet *s = sockset_new();
    CHECK(s != NULL, "sockset_new");

    errno = 0;
    CHECK(sockset_add(NULL, 3) == -1 && errno == EINVAL, "add NULL set");
    errno = 0;
    CHECK(sockset_add(s, -1) == -1 && errno == EINVAL, "add -1");
    errno = 0;
    CHECK(sockset_add(s, INT32_MIN) == -1 && errno == EINVAL, "add INT_MIN");
    errno = 0;
    CHECK(sockset_add(s, INT32_MAX) == -1 && errno == EINVAL, "add INT_MAX (above fs.nr_open)");
    CHECK(sockset_count(s) == 0, "bad adds add nothing");
    errno = 0;
    CHECK(sockset_remove(NULL, 3) == -1 && errno == EINVAL, "remove NULL set");
    CHECK(sockset_remove(s, 3) == 0, "remove absent");
    CHECK(sockset_remove(s, -7) == 0, "remove negative");
    CHECK(sockset_is_set(NULL, 3) == 0, "is_set NULL");
    CHECK(sockset_is_set(s, -1) == 0, "is_set -1");
    CHECK(sockset_is_set(s, INT32_MAX) == 0, "is_set huge");
    CHECK(sockset_count(NULL) == 0, "count NULL");
    CHECK(sockset_max(NULL) == -1, "max NULL");
    CHECK(sockset_next(NULL, -1) == -1, "next NULL");
    sockset_reset(NULL);
    sockset_free(NULL);

    int fds[] = { 1, 2, -5 };
    errno = 0;
    CHECK(sockset_add_many(NULL, fds, 2) == -1 && errno == EINVAL, "add_many NULL set");
    errno = 0;
    CHECK(sockset_add_many(s, NULL, 2) == -1 && errno == EINVAL, "add_many NULL fds");
    CHECK(sockset_add_many(s, NULL, 0) == 0, "add_many nothing");
    errno = 0;
    CHECK(sockset_add_many(s, fds, 3) == -1 && errno == EINVAL, "add_many with a negative");
    CHECK(sockset_count(s) == 0, "add_many adds none when one is bad");
    CHECK(sockset_add_many(s, fds, 2) == 0 && sockset_count(s) == 2, "add_many two");

    /* Timeouts: negative is EINVAL and leaves the struct alone. */
    struct timeval neg = { -1, 0 };
    errno = 0;
    CHECK(sockset_select(s, NULL, NULL, &neg) == -1 && errno == EINVAL, "negative seconds");
    CHECK(neg.tv_sec == -1 && neg.tv_usec == 0, "timeout not modified");
    struct timeval negu = { 0, -1 };
    errno = 0;
    CHECK(sockset_select(s, NULL, NULL, &negu) == -1 && errno == EINVAL, "negative usec");
    CHECK(sockset_count(s) == 2, "sets unchanged after EINVAL");
    sockset_free(s);
}

static void test_membership_and_walk(void)
{
    SocketSet *s = sockset_new();
    int want[] = { 0, 5, 63, 64, 1023, 1024, 4097, 100000, 1000000 };
    size_t n = sizeof want / sizeof want[0];
    for (size_t i = 0; i < n; i++)
        CHECK(sockset_add(s, want[i]) == 0, "add %d", want[i]);
    CHECK(sockset_add(s, 5) == 0 && sockset_count(s) == n, "adding twice counts once");
    CHECK(sockset_max(s) == 1000000, "max %d", sockset_max(s));
    size_t i = 0;
    for (int fd = sockset_next(s, -1); fd >= 0; fd = sockset_next(s, fd), i++)
        CHECK(i < n && fd == want[i], "walk %zu: %d", i, fd);
    CHECK(i == n, "walked %zu", i);
    CHECK(sockset_next(s, 1000000) == -1, "next past the end");
    CHECK(sockset_next(s, INT32_MAX) == -1, "next after INT_MAX");
    CHECK(sockset_is_set(s, 4097) && !sockset_is_set(s, 4098), "is_set");
    CHECK(sockset_remove(s, 1000000) == 0 && sockset_max(s) == 100000, "max after remove");
    sockset_reset(s);
    CHECK(sockset_count(s) == 0 && sockset_max(s) == -1 && sockset_next(s, -1) == -1, "reset empties");
    sockset_free(s);
}

/* Thousands of socketpairs: every descriptor far past 1024, one active. */
static void test_past_fd_setsize(void)
{
    enum { PAIRS = 4000 };
    static int sv[PAIRS][2];
    for (int i = 0; i < PAIRS; i++)
        pair(sv[i]);
    CHECK(sv[PAIRS - 1][1] > 7000, "descriptors reach %d", sv[PAIRS - 1][1]);

    SocketSet *r = sockset_new(), *w = sockset_new();
    for (int round = 0; round < 3; round++) {
        int active = PAIRS - 1 - round * 1000;
        CHECK(write(sv[active][0], "x", 1) == 1, "write");
        sockset_reset(r);
        for (int i = 0; i < PAIRS; i++)
            sockset_add(r, sv[i][1]);
        CHECK(sockset_select(r, NULL, NULL, NULL) == 1, "one ready of %d", PAIRS);
        CHECK(sockset_count(r) == 1 && sockset_is_set(r, sv[active][1]), "the active one (%d)",
              sv[active][1]);
        char c;
        CHECK(read(sv[active][1], &c, 1) == 1, "drain");
    }
    /* Writable: all of them, counted. */
    sockset_reset(w);
    for (int i = 0; i < PAIRS; i++)
        sockset_add(w, sv[i][0]);
    CHECK(sockset_select(NULL, w, NULL, &zero) == PAIRS, "all writable");
    /* Count is per (set, fd) pair: the same fd ready in two sets counts twice. */
    CHECK(write(sv[0][0], "y", 1) == 1, "write");
    sockset_reset(r);
    sockset_reset(w);
    sockset_add(r, sv[0][1]);
    sockset_add(w, sv[0][1]);
    CHECK(sockset_select(r, w, NULL, &zero) == 2, "readable and writable: 2");
    char c;
    CHECK(read(sv[0][1], &c, 1) == 1, "drain");
    for (int i = 0; i < PAIRS; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
    sockset_free(r);
    sockset_free(w);
}

static void test_timeouts(void)
{
    int sv[2];
    pair(sv);
    SocketSet *r = sockset_new();
    sockset_add(r, sv[0]);
    struct timeval tv = { 0, 0 };
    CHECK(sockset_select(r, NULL, NULL, &tv) == 0 && sockset_count(r) == 0, "poll: 0, set emptied");
    sockset_add(r, sv[0]);
    tv.tv_usec = 150000;
    double t0 = now();
    CHECK(sockset_select(r, NULL, NULL, &tv) == 0, "timeout");
    double took = now() - t0;
    CHECK(took >= 0.149 && took < 2.0, "waited %.3f s for 0.150", took);
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 150000, "timeout not modified");
    /* tv_usec past a second carries over, as with select(2). */
    sockset_add(r, sv[0]);
    tv.tv_sec = 0;
    tv.tv_usec = 1000000;
    CHECK(write(sv[1], "z", 1) == 1, "write");
    CHECK(sockset_select(r, NULL, NULL, &tv) == 1, "usec 1000000 accepted");
    /* No sets at all: a sleep. */
    tv.tv_sec = 0;
    tv.tv_usec = 50000;
    t0 = now();
    CHECK(sockset_select(NULL, NULL, NULL, &tv) == 0, "no sets");
    CHECK(now() - t0 >= 0.049, "no sets sleeps");
    close(sv[0]);
    close(sv[1]);
    sockset_free(r);
}

static void on_alarm(int sig) { (void)sig; }

static void test_eintr(void)
{
    struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    int sv[2];
    pair(sv);
    SocketSet *r = sockset_new();
    sockset_add(r, sv[0]);
    struct itimerval it = { .it_value = { 0, 100000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    CHECK(sockset_select(r, NULL, NULL, NULL) == -1 && errno == EINTR, "EINTR");
    CHECK(sockset_count(r) == 1 && sockset_is_set(r, sv[0]), "sets unchanged after EINTR");
    close(sv[0]);
    close(sv[1]);
    sockset_free(r);
}

static void test_ebadf(void)
{
    int sv[2], other[2];
    pair(sv);
    pair(other);
    CHECK(write(other[1], "x", 1) == 1, "write");
    SocketSet *r = sockset_new();
    /* A round to register, then the member is closed. */
    sockset_add(r, sv[0]);
    sockset_add(r, other[0]);
    CHECK(sockset_select(r, NULL, NULL, &zero) == 1, "first round");
    close(sv[0]);
    sockset_reset(r);
    sockset_add(r, sv[0]);
    sockset_add(r, other[0]);
    errno = 0;
    CHECK(sockset_select(r, NULL, NULL, NULL) == -1 && errno == EBADF, "closed member: EBADF");
    CHECK(sockset_count(r) == 2 && sockset_is_set(r, sv[0]), "sets unchanged after EBADF");
    /* Never-opened descriptor. */
    SocketSet *w = sockset_new();
    sockset_add(w, 50000);
    errno = 0;
    CHECK(sockset_select(NULL, w, NULL, &zero) == -1 && errno == EBADF, "never opened: EBADF");
    close(sv[1]);
    close(other[0]);
    close(other[1]);
    sockset_free(r);
    sockset_free(w);
}

/* A closed descriptor whose number is reused is watched afresh. */
static void test_reuse_after_close(void)
{
    int a[2], b[2];
    pair(a);
    SocketSet *r = sockset_new();
    sockset_add(r, a[0]);
    CHECK(sockset_select(r, NULL, NULL, &zero) == 0, "idle");
    int num = a[0];
    close(a[0]);
    close(a[1]);
    pair(b);
    CHECK(b[0] == num, "number %d reused as %d", num, b[0]);
    CHECK(write(b[1], "n", 1) == 1, "write to the new socket");
    sockset_reset(r);
    sockset_add(r, b[0]);
    struct timeval tv = { 2, 0 };
    CHECK(sockset_select(r, NULL, NULL, &tv) == 1 && sockset_is_set(r, b[0]), "new socket seen");

    /* dup keeps the old file alive: its events must not show as the new one's. */
    int c[2], d[2];
    pair(c);
    sockset_reset(r);
    sockset_add(r, c[0]);
    CHECK(sockset_select(r, NULL, NULL, &zero) == 0, "idle");
    int keep = dup(c[0]);
    num = c[0];
    close(c[0]);
    pair(d); /* d[0] takes num */
    CHECK(d[0] == num, "number reused");
    CHECK(write(c[1], "g", 1) == 1, "data for the old file (ghost)");
    sockset_reset(r);
    sockset_add(r, d[0]);
    tv.tv_sec = 0;
    tv.tv_usec = 100000;
    CHECK(sockset_select(r, NULL, NULL, &tv) == 0, "a ghost's data does not make the new socket ready");
    CHECK(write(d[1], "n", 1) == 1, "data for the new one");
    sockset_reset(r);
    sockset_add(r, d[0]);
    tv.tv_sec = 2;
    CHECK(sockset_select(r, NULL, NULL, &tv) == 1 && sockset_is_set(r, d[0]), "new one ready");

    /* dup2 onto a member closes it: also seen. */
    int e[2], f[2];
    pair(e);
    pair(f);
    sockset_reset(r);
    sockset_add(r, e[0]);
    CHECK(sockset_select(r, NULL, NULL, &zero) == 0, "idle");
    CHECK(dup2(f[0], e[0]) == e[0], "dup2");
    CHECK(write(f[1], "d", 1) == 1, "write");
    sockset_reset(r);
    sockset_add(r, e[0]);
    tv.tv_sec = 2;
    CHECK(sockset_select(r, NULL, NULL, &tv) == 1, "dup2 target watched afresh");

    close(keep);
    close(b[0]); close(b[1]); close(c[1]); close(d[0]); close(d[1]);
    close(e[0]); close(e[1]); close(f[0]); close(f[1]);
    sockset_free(r);
}

static int tcp_pair(int *client, int *server)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4) ||
        getsockname(l, (struct sockaddr *)&a, &len))
        return -1;
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*client, (struct sockaddr *)&a, sizeof a))
        return -1;
    *server = accept(l, NULL, NULL);
    return l;
}

static void test_readiness_kinds(void)
{
    SocketSet *r = sockset_new(), *w = sockset_new(), *e = sockset_new();
    struct timeval tv;

    /* EOF and hangup are readable. */
    int sv[2];
    pair(sv);
    close(sv[1]);
    sockset_add(r, sv[0]);
    CHECK(sockset_select(r, NULL, NULL, &zero) == 1, "EOF readable");
    close(sv[0]);

    /* A pending connection is readable; urgent data is exceptional. */
    int cli = -1, srv = -1;
    int l = tcp_pair(&cli, &srv);
    CHECK(l >= 0, "tcp pair");
    int cli2 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    connect(cli2, (struct sockaddr *)&a, sizeof a);
    sockset_reset(r);
    sockset_add(r, l);
    tv = (struct timeval){ 2, 0 };
    CHECK(sockset_select(r, NULL, NULL, &tv) == 1, "pending connection readable");
    CHECK(send(cli, "!", 1, MSG_OOB) == 1, "urgent data");
    sockset_reset(e);
    sockset_add(e, srv);
    tv = (struct timeval){ 2, 0 };
    CHECK(sockset_select(NULL, NULL, e, &tv) == 1 && sockset_is_set(e, srv), "urgent data exceptional");
    /* Level semantics: still there on the next round. */
    sockset_reset(e);
    sockset_add(e, srv);
    CHECK(sockset_select(NULL, NULL, e, &zero) == 1, "urgent data still exceptional");
    char c;
    CHECK(recv(srv, &c, 1, MSG_OOB) == 1, "read urgent");
    sockset_reset(e);
    sockset_add(e, srv);
    CHECK(sockset_select(NULL, NULL, e, &zero) == 0, "no more urgent data");

    /* A hung-up member of the except set alone does not wake every wait. */
    close(cli);
    shutdown(srv, SHUT_RDWR);
    double cpu0 = cpu_seconds(), t0 = now();
    sockset_reset(e);
    sockset_add(e, srv);
    tv = (struct timeval){ 0, 300000 };
    CHECK(sockset_select(NULL, NULL, e, &tv) == 0, "hung-up except member: timeout");
    CHECK(now() - t0 >= 0.29, "it waited");
    CHECK(cpu_seconds() - cpu0 < 0.15, "without spinning (%.3f s CPU)", cpu_seconds() - cpu0);
    /* ...and the same as a write-only member after a hangup, round after round. */
    for (int round = 0; round < 3; round++) {
        sockset_reset(e);
        sockset_add(e, srv);
        CHECK(sockset_select(NULL, NULL, e, &zero) == 0, "still not exceptional");
    }

    /* A pending socket error is readable and writable. */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    a.sin_port = htons(1); /* nothing listens on port 1 */
    connect(s, (struct sockaddr *)&a, sizeof a);
    sockset_reset(r);
    sockset_reset(w);
    sockset_add(r, s);
    sockset_add(w, s);
    tv = (struct timeval){ 2, 0 };
    int n = sockset_select(r, w, NULL, &tv);
    CHECK(n == 2, "refused connect: readable and writable (%d)", n);

    /* Regular files are ready for reading and writing, as select(2) says. */
    int file = open("/proc/self/status", O_RDONLY);
    sockset_reset(r);
    sockset_reset(w);
    sockset_reset(e);
    sockset_add(r, file);
    sockset_add(w, file);
    sockset_add(e, file);
    CHECK(sockset_select(r, w, e, NULL) == 2, "regular file: read and write, not except");
    CHECK(sockset_count(e) == 0, "not exceptional");

    /* The same set passed twice: select(2) writes the answers in order. */
    int p[2];
    pair(p);
    sockset_reset(r);
    sockset_add(r, p[0]);
    CHECK(sockset_select(r, r, NULL, &zero) == 1 && sockset_is_set(r, p[0]), "aliased sets");

    close(file); close(s); close(srv); close(l); close(cli2); close(p[0]); close(p[1]);
    sockset_free(r);
    sockset_free(w);
    sockset_free(e);
}

static void test_fork(void)
{
    int sv[2];
    pair(sv);
    SocketSet *r = sockset_new();
    sockset_add(r, sv[0]);
    CHECK(sockset_select(r, NULL, NULL, &zero) == 0, "parent registers");
    pid_t pid = fork();
    if (pid == 0) {
        /* The child stops watching sv[0] and watches its own pair. */
        int mine[2];
        pair(mine);
        if (write(mine[1], "c", 1) != 1)
            _exit(3);
        sockset_reset(r);
        sockset_add(r, mine[0]);
        struct timeval tv = { 2, 0 };
        _exit(sockset_select(r, NULL, NULL, &tv) == 1 ? 0 : 4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's select (%d)", status);
    /* The parent's registration is intact. */
    CHECK(write(sv[1], "p", 1) == 1, "write");
    sockset_reset(r);
    sockset_add(r, sv[0]);
    struct timeval tv = { 2, 0 };
    CHECK(sockset_select(r, NULL, NULL, &tv) == 1, "parent still sees its member");
    close(sv[0]);
    close(sv[1]);
    sockset_free(r);
}

/* The bulk reads for bindings: sockset_members (every member in one call)
 * and sockset_positions (which entries of a caller's array are members):
 * bad inputs with their errno, truncation, duplicates, aliasing, and the
 * ready entries after a real wait, past FD_SETSIZE. */
static void test_bulk_reads(void)
{
    SocketSet *s = sockset_new();
    int out[8] = { 0 };
    int fds[] = { 7, 3, 200, 3, 5000, 9 };

    errno = 0;
    CHECK(sockset_members(NULL, out, 8) == -1 && errno == EINVAL, "members NULL set");
    errno = 0;
    CHECK(sockset_members(s, NULL, 4) == -1 && errno == EINVAL, "members NULL out");
    errno = 0;
    CHECK(sockset_members(s, out, SIZE_MAX) == -1 && errno == EINVAL, "members huge cap");
    errno = 0;
    CHECK(sockset_positions(NULL, fds, 6, out) == -1 && errno == EINVAL, "positions NULL set");
    errno = 0;
    CHECK(sockset_positions(s, NULL, 6, out) == -1 && errno == EINVAL, "positions NULL fds");
    errno = 0;
    CHECK(sockset_positions(s, fds, 6, NULL) == -1 && errno == EINVAL, "positions NULL out");
    errno = 0;
    CHECK(sockset_positions(s, fds, (size_t)INT32_MAX + 1, out) == -1 && errno == EINVAL,
          "positions n above INT_MAX");
    errno = 0;
    CHECK(sockset_positions(s, fds, SIZE_MAX, out) == -1 && errno == EINVAL, "positions huge n");
    CHECK(sockset_members(s, NULL, 0) == 0, "members of an empty set, no buffer");
    CHECK(sockset_positions(s, NULL, 0, NULL) == 0, "positions of nothing");
    CHECK(sockset_positions(s, fds, 6, out) == 0, "no entry is a member of an empty set");

    CHECK(sockset_add_many(s, fds, 6) == 0 && sockset_count(s) == 5, "add_many with a duplicate");
    CHECK(sockset_members(s, out, 8) == 5, "members: the count");
    CHECK(out[0] == 3 && out[1] == 7 && out[2] == 9 && out[3] == 200 && out[4] == 5000,
          "members smallest first: %d %d %d %d %d", out[0], out[1], out[2], out[3], out[4]);
    memset(out, -1, sizeof out);
    CHECK(sockset_members(s, out, 2) == 5, "a short buffer still gets the count");
    CHECK(out[0] == 3 && out[1] == 7 && out[2] == -1, "and only what fits is written");

    sockset_remove(s, 200);
    sockset_remove(s, 3);
    int probe[] = { 3, 7, 200, 9, -1, 7, INT32_MAX, 5000 };
    memset(out, -1, sizeof out);
    int n = sockset_positions(s, probe, 8, out);
    CHECK(n == 4 && out[0] == 1 && out[1] == 3 && out[2] == 5 && out[3] == 7 && out[4] == -1,
          "positions in order, duplicates included: %d: %d %d %d %d", n, out[0], out[1], out[2],
          out[3]);
    n = sockset_positions(s, probe, 8, probe); /* out may be fds itself */
    CHECK(n == 4 && probe[0] == 1 && probe[1] == 3 && probe[2] == 5 && probe[3] == 7,
          "positions written over the entries: %d: %d %d %d %d", n, probe[0], probe[1], probe[2],
          probe[3]);
    sockset_free(s);

    /* After a real wait: the ready entries of the array the set was filled
     * from, with descriptors past FD_SETSIZE. */
    enum { PAIRS = 700 };
    int (*sv)[2] = calloc(PAIRS, sizeof *sv);
    int *watched = calloc(2 * PAIRS, sizeof *watched);
    for (int i = 0; i < PAIRS; i++) {
        pair(sv[i]);
        watched[i] = sv[i][0];
    }
    watched[PAIRS] = sv[PAIRS - 1][0]; /* a duplicate, last */
    SocketSet *r = sockset_new();
    CHECK(sockset_add_many(r, watched, PAIRS + 1) == 0, "fill");
    CHECK(write(sv[PAIRS - 1][1], "x", 1) == 1 && write(sv[2][1], "x", 1) == 1, "send");
    struct timeval wait = { 5, 0 };
    CHECK(sockset_select(r, NULL, NULL, &wait) == 2, "two ready");
    CHECK(sockset_members(r, out, 8) == 2 && out[0] == sv[2][0] && out[1] == sv[PAIRS - 1][0],
          "the ready members: %d %d", out[0], out[1]);
    CHECK(sv[PAIRS - 1][0] > 1023, "past FD_SETSIZE: %d", sv[PAIRS - 1][0]);
    n = sockset_positions(r, watched, PAIRS + 1, watched);
    CHECK(n == 3 && watched[0] == 2 && watched[1] == PAIRS - 1 && watched[2] == PAIRS,
          "the ready positions: %d: %d %d %d", n, watched[0], watched[1], watched[2]);
    sockset_free(r);
    for (int i = 0; i < PAIRS; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
    free(sv);
    free(watched);
}

int main(void)
{
    raise_nofile();
    test_bad_inputs();
    test_membership_and_walk();
    test_bulk_reads();
    test_past_fd_setsize();
    test_timeouts();
    test_eintr();
    test_ebadf();
    test_reuse_after_close();
    test_readiness_kinds();
    test_fork();
    return DONE("sockset");
}
