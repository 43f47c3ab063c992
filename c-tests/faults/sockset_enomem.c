/* sockset_enomem.c — the SocketSet API when memory cannot be had.
 *
 * Linked with -lsock and run with libfailmalloc.so preloaded; the test turns
 * allocation failure on and off around each call with failmalloc_set (found
 * with dlsym). The spec: sockset_new returns NULL with errno ENOMEM;
 * sockset_add and sockset_add_many fail with ENOMEM and leave the set as it
 * was; sockset_select either answers or fails with ENOMEM with the sets
 * unchanged — never a crash. Each case runs in a child of its own, so one
 * that aborts does not hide the others.
 *
 * Output: one line per case, "ok"/"FAIL ...", then
 * "sockset-enomem: N passed, M failed". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sock.h>

static void (*set_mode)(const char *);

static int failed;

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("    %s:%d: ", __FILE__, __LINE__);                         \
            printf(__VA_ARGS__);                                               \
            printf(" (errno %s)\n", strerrorname_np(errno) ? strerrorname_np(errno) : "0"); \
            failed = 1;                                                        \
        }                                                                      \
    } while (0)

static void new_fails(void)
{
    set_mode("all");
    errno = 0;
    SocketSet *s = sockset_new();
    set_mode("count");
    EXPECT(s == NULL && errno == ENOMEM, "sockset_new = %p, want NULL with ENOMEM", (void *)s);
    sockset_free(s);
}

static void add_fails(void)
{
    SocketSet *s = sockset_new();
    EXPECT(s && sockset_add(s, 5) == 0, "set-up");
    set_mode("all");
    errno = 0;
    int r = sockset_add(s, 100000);
    int e = errno;
    int again = sockset_add(s, 6); /* within the existing words: no memory needed */
    set_mode("count");
    errno = e;
    EXPECT(r == -1 && e == ENOMEM, "sockset_add(100000) = %d, want -1 ENOMEM", r);
    EXPECT(again == 0, "sockset_add(6) within the words = %d", again);
    EXPECT(sockset_count(s) == 2 && sockset_is_set(s, 5) && sockset_is_set(s, 6) &&
               !sockset_is_set(s, 100000) && sockset_max(s) == 6,
           "the set changed: count %zu max %d", sockset_count(s), sockset_max(s));
    sockset_free(s);
}

static void add_many_fails(void)
{
    SocketSet *s = sockset_new();
    EXPECT(s && sockset_add(s, 3) == 0, "set-up");
    int fds[] = { 4, 7, 200000 };
    set_mode("all");
    errno = 0;
    int r = sockset_add_many(s, fds, 3);
    int e = errno;
    set_mode("count");
    errno = e;
    EXPECT(r == -1 && e == ENOMEM, "sockset_add_many = %d, want -1 ENOMEM", r);
    EXPECT(sockset_count(s) == 1 && !sockset_is_set(s, 4) && !sockset_is_set(s, 7),
           "none must be added: count %zu", sockset_count(s));
    sockset_free(s);
}

/* A set with one readable socket (and one idle one); `fresh`: its first select. */
static void select_case(int fresh, const char *mode, int big)
{
    int sv[2], sv2[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv2);
    send(sv[1], "x", 1, 0);
    SocketSet *r = sockset_new();
    sockset_add(r, sv[0]);
    sockset_add(r, sv2[0]);
    struct timeval tv = { 0, 0 };
    if (!fresh) {
        /* A first round with memory: the wait's state exists. */
        EXPECT(sockset_select(r, NULL, NULL, &tv) == 1, "round with memory");
        sockset_add(r, sv2[0]);
    }
    int high = -1;
    if (big) {
        /* A member far above the others: the wait needs more memory. */
        high = dup2(sv2[0], 4000);
        EXPECT(high == 4000 && sockset_add(r, high) == 0, "dup2 to 4000");
    }
    size_t before = sockset_count(r);
    set_mode(mode);
    errno = 0;
    int n = sockset_select(r, NULL, NULL, &tv);
    int e = errno;
    set_mode("count");
    errno = e;
    if (n == -1) {
        EXPECT(e == ENOMEM, "sockset_select = -1, want ENOMEM");
        EXPECT(sockset_count(r) == before, "failed select changed the set: %zu, was %zu",
               sockset_count(r), before);
    } else {
        EXPECT(n == 1 && sockset_is_set(r, sv[0]) && !sockset_is_set(r, sv2[0]),
               "sockset_select = %d, want 1 (the readable socket)", n);
    }
    /* And with memory again, it answers. */
    sockset_reset(r);
    sockset_add(r, sv[0]);
    EXPECT(sockset_select(r, NULL, NULL, &tv) == 1, "select after the failure");
    sockset_free(r);
    if (high >= 0)
        close(high);
    close(sv[0]);
    close(sv[1]);
    close(sv2[0]);
    close(sv2[1]);
}

static void select_fresh_fails(void) { select_case(1, "all", 0); }
static void select_warm_fails(void) { select_case(0, "all", 0); }
static void select_grow_fails(void) { select_case(0, "all", 1); }
static void select_fresh_first_ok(void) { select_case(1, "after:1", 0); }

static void select_no_sets(void)
{
    struct timeval tv = { 0, 1000 };
    set_mode("all");
    errno = 0;
    int n = sockset_select(NULL, NULL, NULL, &tv);
    int e = errno;
    set_mode("count");
    errno = e;
    EXPECT(n == 0 || (n == -1 && e == ENOMEM), "sockset_select(NULL x3) = %d", n);
}

static void free_null_and_reset(void)
{
    set_mode("all");
    sockset_free(NULL);
    SocketSet *s = NULL;
    sockset_reset(s);
    set_mode("count");
}

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    { "sockset_new", new_fails },
    { "sockset_add", add_fails },
    { "sockset_add_many", add_many_fails },
    { "sockset_select first round", select_fresh_fails },
    { "sockset_select later round", select_warm_fails },
    { "sockset_select growing", select_grow_fails },
    { "sockset_select first round, one allocation", select_fresh_first_ok },
    { "sockset_select no sets", select_no_sets },
    { "sockset_free/reset", free_null_and_reset },
};

int main(void)
{
    *(void **)&set_mode = dlsym(RTLD_DEFAULT, "failmalloc_set");
    if (!set_mode) {
        fprintf(stderr, "sockset_enomem: run with libfailmalloc.so preloaded\n");
        return 2;
    }
    int passed = 0, bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);
            cases[i].run();
            fflush(stdout);
            _exit(failed);
        }
        int status;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;
            printf("  ok   %s\n", cases[i].name);
        } else {
            bad++;
            if (WIFSIGNALED(status))
                printf("  FAIL %s: killed by %s\n", cases[i].name, strsignal(WTERMSIG(status)));
            else
                printf("  FAIL %s\n", cases[i].name);
        }
    }
    printf("sockset-enomem: %d passed, %d failed\n", passed, bad);
    return bad ? 1 : 0;
}
