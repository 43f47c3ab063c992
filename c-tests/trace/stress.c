/*
 * stress.c — THREADS threads, each ITERS times: socketpair, send 64 bytes,
 * recv them, close both ends (5 traced calls). Started together behind a
 * barrier so their trace lines race for the same file.
 *
 *     stress THREADS ITERS [FORKS]
 *
 * c-tests/trace/run.sh checks the trace: 5 * THREADS * ITERS lines from the
 * threads, each well-formed, each thread's own sequence intact. With FORKS,
 * the main thread meanwhile forks FORKS children one after another; each
 * child (single-threaded, in a copy of a busy multithreaded process) makes
 * one socketpair and two closes, prints its pid and leaves with _exit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_barrier_t start;
static int iters;

static void *worker(void *arg)
{
    (void)arg;
    char buf[64];
    memset(buf, 'x', sizeof buf);
    pthread_barrier_wait(&start);
    for (int i = 0; i < iters; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
            perror("socketpair");
            exit(1);
        }
        if (send(sv[0], buf, sizeof buf, 0) != (ssize_t)sizeof buf ||
            recv(sv[1], buf, sizeof buf, MSG_WAITALL) != (ssize_t)sizeof buf) {
            perror("send/recv");
            exit(1);
        }
        if (close(sv[0]) != 0 || close(sv[1]) != 0) {
            perror("close");
            exit(1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: stress THREADS ITERS [FORKS]\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    iters = atoi(argv[2]);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    int forks = argc == 4 ? atoi(argv[3]) : 0;
    for (int i = 0; i < forks; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            int sv[2];
            int ok = socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && close(sv[0]) == 0 &&
                     close(sv[1]) == 0;
            printf("child %d\n", (int)getpid());
            fflush(stdout);
            _exit(ok ? 0 : 1);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed\n", (int)pid);
            return 1;
        }
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("stress: %d threads x %d iterations done\n", threads, iters);
    return 0;
}
