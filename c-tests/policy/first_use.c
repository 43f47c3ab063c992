/*
 * first_use.c — many threads make their first socket call at the same
 * moment (a barrier), so libsock reads its configuration from several
 * threads at once. c-tests/policy/run.sh runs it with an invalid LIBSOCK_*
 * value: the process must still print exactly one warning line.
 *
 * Usage: first_use [THREADS]   (default 8)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 64

static pthread_barrier_t start;

static void *first_call(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(2);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    if (n < 1 || n > MAX_THREADS)
        n = 8;
    pthread_t t[MAX_THREADS];
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, first_call, NULL) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
