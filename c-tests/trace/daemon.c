/*
 * daemon.c — a program that, like many daemons, closes every descriptor
 * above stderr it did not open itself (close_range(3, ~0U, 0)), then goes
 * on with sockets: a pair, a message through it, a new socket. It prints
 * the descriptors it got and what it received.
 *
 * Under LIBSOCK_TRACE=FILE its output must be the same as without libsock
 * (same descriptor numbers, same bytes received), nothing may appear on
 * stderr, and all of its 10 calls must be in the trace.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    int b = socket(AF_INET, SOCK_STREAM, 0);
    printf("sockets %d %d\n", a, b);
    close(a);
    close_range(3, ~0U, 0);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 1;
    printf("pair %d %d\n", sv[0], sv[1]);
    if (send(sv[0], "hello", 5, 0) != 5)
        return 1;
    char buf[4096];
    ssize_t n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("received %zd bytes: %.*s\n", n, (int)(n > 0 ? n : 0), buf);
    close(sv[0]);
    close(sv[1]);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    printf("socket %d\n", c);
    return 0;
}
