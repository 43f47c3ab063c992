/* A target for tests/kernel-mode.sh: when sockrun switches the kernel mode
 * on by itself, and what the supervisor shows and sets. Built static (no
 * LD_PRELOAD reaches it) and dynamic (libsock preloaded as well).
 *
 *   calls IP TCP UDP  a TCP socket connected to IP:TCP, then a UDP socket
 *                     sending one datagram to IP:UDP: a line per call
 *   raw IP TCP        the same connect as raw system calls (socket and
 *                     connect through syscall(2): nothing libsock sees)
 *   options           a new TCP socket's options, as getsockopt reads them
 *   bind PORT         a TCP socket bound to 0.0.0.0:PORT: where it is bound
 *   inbound UDP TCP S a UDP socket on 127.0.0.1:UDP and a TCP listener on
 *                     127.0.0.1:TCP ("ready" once both are), for S seconds:
 *                     a line per datagram and per accepted connection (its
 *                     peer and the bytes read)
 *   cancel            a thread blocked in sendmsg (a full Unix stream) is
 *                     cancelled with pthread_cancel: "joined: canceled", or
 *                     "HANG" and status 1 if the join waits 3 s
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *name(int e)
{
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return strerror(e);
    }
}

static struct sockaddr_in peer(const char *ip, const char *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", ip);
        exit(2);
    }
    return a;
}

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    return getsockopt(fd, level, name, &v, &len) == 0 ? v : -1;
}

static int pair[2];

static void *blocked_sender(void *arg)
{
    (void)arg;
    static char buf[65536];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    for (;;)
        if (sendmsg(pair[0], &m, 0) < 0)
            return perror("sendmsg"), NULL;
}

static void join_hangs(int sig)
{
    (void)sig;
    static const char msg[] = "HANG: pthread_join still waiting after 3 s\n";
    (void)!write(1, msg, sizeof msg - 1);
    _exit(1);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "calls") == 0) {
        struct sockaddr_in a = peer(argv[2], argv[3]);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        errno = 0;
        int r = connect(s, (struct sockaddr *)&a, sizeof a);
        printf("connect ret=%d errno=%s\n", r, name(r ? errno : 0));
        a = peer(argv[2], argv[4]);
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        errno = 0;
        ssize_t n = sendto(u, "v", 1, 0, (struct sockaddr *)&a, sizeof a);
        printf("sendto ret=%zd errno=%s\n", n, name(n < 0 ? errno : 0));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "raw") == 0) {
        struct sockaddr_in a = peer(argv[2], argv[3]);
        int s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
        long r = syscall(SYS_connect, s, &a, sizeof a);
        printf("raw-connect ret=%ld errno=%s\n", r, name(r ? errno : 0));
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "options") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        printf("nodelay=%d keepalive=%d keepidle=%d tos=%d reuseaddr=%d\n",
               opt(s, IPPROTO_TCP, TCP_NODELAY) != 0, opt(s, SOL_SOCKET, SO_KEEPALIVE) != 0,
               opt(s, IPPROTO_TCP, TCP_KEEPIDLE), opt(s, IPPROTO_IP, IP_TOS),
               opt(s, SOL_SOCKET, SO_REUSEADDR) != 0);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "bind") == 0) {
        struct sockaddr_in a = peer("0.0.0.0", argv[2]);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int r = bind(s, (struct sockaddr *)&a, sizeof a);
        socklen_t len = sizeof a;
        char ip[INET_ADDRSTRLEN] = "?";
        if (r == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
            inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
        printf("bind ret=%d errno=%s bound=%s:%d\n", r, name(r ? errno : 0), ip, ntohs(a.sin_port));
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "inbound") == 0) {
        struct sockaddr_in a = peer("127.0.0.1", argv[2]);
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        int t = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(u, (struct sockaddr *)&a, sizeof a) != 0)
            return perror("bind udp"), 1;
        a = peer("127.0.0.1", argv[3]);
        if (bind(t, (struct sockaddr *)&a, sizeof a) != 0 || listen(t, 16) != 0)
            return perror("listen"), 1;
        printf("ready\n");
        fflush(stdout);
        time_t end = time(NULL) + atoi(argv[4]);
        while (time(NULL) < end) {
            struct pollfd p[2] = {{.fd = u, .events = POLLIN}, {.fd = t, .events = POLLIN}};
            if (poll(p, 2, 100) <= 0)
                continue;
            struct sockaddr_in from;
            socklen_t len = sizeof from;
            char buf[256], ip[INET_ADDRSTRLEN];
            if (p[0].revents & POLLIN) {
                ssize_t n = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
                inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
                printf("udp %s %zd\n", ip, n);
            }
            if (p[1].revents & POLLIN) {
                len = sizeof from;
                int c = accept(t, (struct sockaddr *)&from, &len);
                if (c >= 0) {
                    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
                    ssize_t n = read(c, buf, sizeof buf);
                    printf("tcp %s %zd\n", ip, n);
                    close(c);
                }
            }
            fflush(stdout);
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "cancel") == 0) {
        pthread_t t;
        void *res;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0 || pthread_create(&t, NULL, blocked_sender, NULL) != 0)
            return perror("setup"), 2;
        usleep(300000);
        signal(SIGALRM, join_hangs);
        alarm(3);
        pthread_cancel(t);
        pthread_join(t, &res);
        printf("joined: %s\n", res == PTHREAD_CANCELED ? "canceled" : "not canceled");
        return 0;
    }
    fprintf(stderr, "usage: %s calls IP TCP UDP | raw IP TCP | options | bind PORT | inbound UDP TCP S | cancel\n",
            argv[0]);
    return 2;
}
