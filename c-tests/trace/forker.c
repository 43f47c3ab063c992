/*
 * forker.c — a process tree making socket calls: the parent makes a
 * socketpair and forks CHILDREN children; each child makes a UDP socket,
 * closes it, sends one message up the socketpair and exits (exit(), so
 * atexit handlers run); the parent receives every message and reaps them.
 *
 *     forker CHILDREN [pids]
 *
 * Output is deterministic ("child N: ok" per child, in order) unless "pids"
 * is given: then each line also names the process ("pid P"), the parent's
 * first.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: forker CHILDREN [pids]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    int pids = argc > 2 && strcmp(argv[2], "pids") == 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }
    if (pids)
        printf("parent pid %d\n", (int)getpid());
    for (int i = 0; i < n; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            if (s < 0 || close(s) != 0)
                exit(1);
            char msg[64];
            int len = pids ? snprintf(msg, sizeof msg, "child %d: ok pid %d", i, (int)getpid())
                           : snprintf(msg, sizeof msg, "child %d: ok", i);
            if (send(sv[1], msg, (size_t)len, 0) != len)
                exit(1);
            exit(0);
        }
        char buf[64];
        ssize_t got = recv(sv[0], buf, sizeof buf - 1, 0);
        if (got <= 0) {
            perror("recv");
            return 1;
        }
        buf[got] = '\0';
        puts(buf);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed\n", i);
            return 1;
        }
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
