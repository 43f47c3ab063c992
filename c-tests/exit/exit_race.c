/* exit_race MODE — threads ending the process at once through different
 * paths, after each made socket calls (issue 9). Under LIBSOCK_STATS the
 * stats table must be written once and whole however the race goes.
 *
 *   pair   the reproduction: main calls exit(), one worker _exit()
 *   many   main calls exit(); 6 workers call _exit, _Exit, _exit, ...
 *   last   workers call pthread_exit; main returns from pthread_exit too:
 *          the last thread to end ends the process (glibc calls exit)
 *   exits  main returns from main (glibc calls exit) while a worker calls
 *          exit(): two threads in exit at once, each running handlers
 *
 * Each thread sends and receives one byte on its own socketpair first, so
 * the table has socketpair, send and recv rows. Exit status 0 always.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WORKERS 6

static pthread_barrier_t barrier;
static int workers;

static void talk(void) {
    int sv[2];
    char c;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) _exit(2);
    if (send(sv[0], "x", 1, 0) != 1 || recv(sv[1], &c, 1, 0) != 1) _exit(3);
}

static void *worker(void *arg) {
    long i = (long)arg;
    talk();
    pthread_barrier_wait(&barrier);
    usleep(100);
    if (workers == 0) pthread_exit(NULL);
    if (i % 2) _Exit(0);
    _exit(0);
}

static void *exiting_worker(void *arg) {
    (void)arg;
    talk();
    pthread_barrier_wait(&barrier);
    usleep(100);
    exit(0);
}

static void *quiet_worker(void *arg) {
    (void)arg;
    talk();
    pthread_barrier_wait(&barrier);
    usleep(100);
    pthread_exit(NULL);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "pair";
    int n;
    void *(*fn)(void *) = worker;
    if (strcmp(mode, "pair") == 0) {
        n = 1;
        workers = 1;
    } else if (strcmp(mode, "many") == 0) {
        n = MAX_WORKERS;
        workers = n;
    } else if (strcmp(mode, "last") == 0) {
        n = 3;
        fn = quiet_worker;
    } else if (strcmp(mode, "exits") == 0) {
        n = 1;
        fn = exiting_worker;
    } else {
        fprintf(stderr, "usage: exit_race pair|many|last|exits\n");
        return 2;
    }
    pthread_t t[MAX_WORKERS];
    pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, (void *)i) != 0) return 4;
    talk();
    pthread_barrier_wait(&barrier);
    usleep(100);
    if (fn == quiet_worker) pthread_exit(NULL);
    if (fn == exiting_worker) return 0;
    exit(0);
}
