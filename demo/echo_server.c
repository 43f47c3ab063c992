/* An echo server on SocketSet: one thread, one sockset_select per round,
 * as many clients as RLIMIT_NOFILE allows — past FD_SETSIZE (1024), where
 * select(2) would write past its fd_set.
 *
 *   echo_server CLIENTS      serve until CLIENTS clients have come and gone
 *
 * Prints the port it listens on (127.0.0.1), then a summary. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sock.h>

/* Bytes received and not yet echoed, per descriptor. */
struct pending {
    char *buf;
    size_t len;
};

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    long expected = argc > 1 ? strtol(argv[1], NULL, 10) : 3000;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof addr;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 4096) ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen))
        die("listen");
    printf("port %u\n", ntohs(addr.sin_port));
    fflush(stdout);

    size_t cap = rl.rlim_cur;
    struct pending *out = calloc(cap, sizeof *out);
    char *open_fd = calloc(cap, 1);
    SocketSet *rset = sockset_new(), *wset = sockset_new();
    if (!out || !open_fd || !rset || !wset)
        die("memory");

    long served = 0, live = 0, most = 0, rounds = 0;
    int highest = lfd;
    unsigned long long echoed = 0;
    char buf[65536];
    while (served < expected || live > 0) {
        sockset_reset(rset);
        sockset_reset(wset);
        sockset_add(rset, lfd);
        for (int fd = 0; fd <= highest; fd++) {
            if (!open_fd[fd])
                continue;
            sockset_add(out[fd].len ? wset : rset, fd);
        }
        if (sockset_select(rset, wset, NULL, NULL) < 0) {
            if (errno == EINTR)
                continue;
            die("sockset_select");
        }
        rounds++;
        if (sockset_is_set(rset, lfd)) {
            int c;
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                if ((size_t)c >= cap)
                    die("descriptor beyond RLIMIT_NOFILE");
                open_fd[c] = 1;
                live++;
                served++;
                if (live > most)
                    most = live;
                if (c > highest)
                    highest = c;
            }
        }
        for (int fd = sockset_next(rset, lfd); fd >= 0; fd = sockset_next(rset, fd)) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
                if (w < 0)
                    w = 0;
                echoed += w;
                if (w < n) {
                    out[fd].buf = malloc(n - w);
                    memcpy(out[fd].buf, buf + w, n - w);
                    out[fd].len = n - w;
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fd);
                open_fd[fd] = 0;
                live--;
            }
        }
        for (int fd = sockset_next(wset, -1); fd >= 0; fd = sockset_next(wset, fd)) {
            ssize_t w = send(fd, out[fd].buf, out[fd].len, MSG_NOSIGNAL);
            if (w > 0) {
                echoed += w;
                memmove(out[fd].buf, out[fd].buf + w, out[fd].len - w);
                out[fd].len -= w;
            }
            if (out[fd].len == 0) {
                free(out[fd].buf);
                out[fd].buf = NULL;
            }
        }
    }
    printf("server: %ld clients served, %ld at once, highest descriptor %d, %llu bytes echoed in %ld rounds of sockset_select\n",
           served, most, highest, echoed, rounds);
    sockset_free(rset);
    sockset_free(wset);
    close(lfd);
    return 0;
}
