/* Regression test "trace-open-race": many threads make their first socket
 * call at the same instant with LIBSOCK_TRACE=FILE. libsock opens the trace
 * file lazily, on the first traced call; threads racing there each opened
 * it and all but one descriptor leaked (found by the stress test: "the
 * trace file is open 2 times").
 *
 *   trace_open_race ABSOLUTE-TRACE-PATH [THREADS]
 *
 * Exits 0 when, after the threads are done, exactly one descriptor is open
 * on the trace file and no other descriptor was added; 1 otherwise. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_barrier_t go;
static const char *trace;

static void count(int *all, int *on_trace)
{
    *all = *on_trace = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    char p[64], t[PATH_MAX];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        (*all)++;
        snprintf(p, sizeof p, "/proc/self/fd/%d", atoi(e->d_name));
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n > 0) {
            t[n] = 0;
            *on_trace += strcmp(t, trace) == 0;
        }
    }
    if (d)
        closedir(d);
}

static void *first_call(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&go);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        close(sv[0]);
        close(sv[1]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: trace_open_race ABSOLUTE-TRACE-PATH [THREADS]\n");
        return 2;
    }
    trace = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 32;
    pthread_t th[256];
    if (n < 2 || n > 256)
        return 2;
    int before, trace_before, after, trace_after;
    count(&before, &trace_before);
    pthread_barrier_init(&go, NULL, n);
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, first_call, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    count(&after, &trace_after);
    int ok = trace_after == 1 && after == before + 1;
    printf("trace-open-race: %d threads; descriptors %d before, %d after; open on the trace file: %d%s\n",
           n, before, after, trace_after, ok ? "" : " (expected 1: libsock leaked a descriptor)");
    return ok ? 0 : 1;
}
