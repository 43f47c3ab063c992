/* Load generator for the echo demo: opens CLIENTS connections to
 * 127.0.0.1:PORT and keeps them all open at once, then for ROUNDS rounds
 * sends every client a message of its own and reads every echo back,
 * checking each byte. Waits with poll(2), so the check does not rest on
 * the SocketSet under test.
 *
 *   echo_load PORT CLIENTS ROUNDS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MSG = 512 };

static void fill(char *buf, int client, int round)
{
    for (int i = 0; i < MSG; i++)
        buf[i] = (char)((client * 31 + round * 7 + i) & 0xff);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: echo_load PORT CLIENTS ROUNDS\n");
        return 2;
    }
    int port = atoi(argv[1]), clients = atoi(argv[2]), rounds = atoi(argv[3]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int *fd = calloc(clients, sizeof *fd);
    struct pollfd *pfd = calloc(clients, sizeof *pfd);
    int *got = calloc(clients, sizeof *got);
    char (*want)[MSG] = calloc(clients, MSG);
    char (*have)[MSG] = calloc(clients, MSG);
    for (int c = 0; c < clients; c++) {
        fd[c] = socket(AF_INET, SOCK_STREAM, 0);
        if (fd[c] < 0 || connect(fd[c], (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect");
            return 1;
        }
    }
    long long bytes = 0;
    for (int r = 0; r < rounds; r++) {
        for (int c = 0; c < clients; c++) {
            fill(want[c], c, r);
            if (send(fd[c], want[c], MSG, 0) != MSG) {
                perror("send");
                return 1;
            }
            got[c] = 0;
        }
        int left = clients;
        while (left > 0) {
            int n = 0;
            for (int c = 0; c < clients; c++)
                if (got[c] < MSG)
                    pfd[n++] = (struct pollfd){ .fd = fd[c], .events = POLLIN };
            if (poll(pfd, n, 10000) <= 0) {
                fprintf(stderr, "load: no echo for 10 s (%d clients waiting)\n", left);
                return 1;
            }
            for (int c = 0, i = 0; c < clients; c++) {
                if (got[c] >= MSG)
                    continue;
                if (pfd[i++].revents == 0)
                    continue;
                ssize_t k = recv(fd[c], have[c] + got[c], MSG - got[c], 0);
                if (k <= 0) {
                    fprintf(stderr, "load: client %d lost its connection\n", c);
                    return 1;
                }
                got[c] += k;
                bytes += k;
                if (got[c] == MSG) {
                    left--;
                    if (memcmp(have[c], want[c], MSG) != 0) {
                        fprintf(stderr, "load: client %d round %d: echo differs\n", c, r);
                        return 1;
                    }
                }
            }
        }
    }
    printf("clients: %d connections open at once (descriptors %d..%d), %d rounds, %lld bytes echoed and verified\n",
           clients, fd[0], fd[clients - 1], rounds, bytes);
    for (int c = 0; c < clients; c++)
        close(fd[c]);
    return 0;
}
