/* sockset_select answers exactly as select(2) for descriptors below 1024:
 * a randomized mix of sockets in many states — idle, readable, at EOF,
 * hung up, listening with and without a pending connection, with urgent
 * data, with a full send buffer, with a pending error, UDP with a datagram —
 * put at random into the read, write and except sets of both, round after
 * round, with the states changing (and descriptors closed and reused)
 * between rounds. Seeded, so a failure can be replayed: SEED=n. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "check.h"

enum { SOCKS = 240, ROUNDS = 300 };

static int fds[SOCKS];
static int peers[SOCKS]; /* the other end, or -1 */
static int listener = -1;
static struct sockaddr_in listen_addr;

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void make_one(int i)
{
    int sv[2];
    switch (rand() % 8) {
    case 0: /* idle stream pair */
    case 1:
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        fds[i] = sv[0];
        peers[i] = sv[1];
        break;
    case 2: /* readable */
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        if (write(sv[1], "data", 4) != 4)
            abort();
        fds[i] = sv[0];
        peers[i] = sv[1];
        break;
    case 3: /* EOF / hangup */
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        close(sv[1]);
        fds[i] = sv[0];
        peers[i] = -1;
        break;
    case 4: { /* TCP, maybe with urgent data */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&listen_addr, sizeof listen_addr);
        int s = accept(listener, NULL, NULL);
        if (rand() % 2)
            send(c, "u", 1, MSG_OOB);
        fds[i] = s;
        peers[i] = c;
        break;
    }
    case 5: { /* full send buffer: not writable */
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        set_nonblock(sv[0]);
        char buf[65536] = { 0 };
        while (write(sv[0], buf, sizeof buf) > 0) {
        }
        fds[i] = sv[0];
        peers[i] = sv[1];
        break;
    }
    case 6: { /* UDP, maybe with a datagram */
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        bind(u, (struct sockaddr *)&a, sizeof a);
        getsockname(u, (struct sockaddr *)&a, &len);
        if (rand() % 2)
            sendto(u, "d", 1, 0, (struct sockaddr *)&a, sizeof a);
        fds[i] = u;
        peers[i] = -1;
        break;
    }
    default: { /* pending error: refused nonblocking connect */
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        connect(s, (struct sockaddr *)&a, sizeof a);
        fds[i] = s;
        peers[i] = -1;
        break;
    }
    }
}

static void unmake(int i)
{
    close(fds[i]);
    if (peers[i] >= 0)
        close(peers[i]);
}

int main(void)
{
    api_open();
    unsigned seed = getenv("SEED") ? (unsigned)atoi(getenv("SEED")) : 20261125u;
    srand(seed);

    listener = socket(AF_INET, SOCK_STREAM, 0);
    listen_addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof listen_addr;
    bind(listener, (struct sockaddr *)&listen_addr, sizeof listen_addr);
    listen(listener, 64);
    getsockname(listener, (struct sockaddr *)&listen_addr, &len);
    for (int i = 0; i < SOCKS; i++)
        make_one(i);

    SocketSet *sets[3] = { sockset_new(), sockset_new(), sockset_new() };
    int pending = -1;
    for (int round = 0; round < ROUNDS; round++) {
        /* Change a few states: replace sockets (numbers get reused). */
        for (int k = rand() % 6; k > 0; k--) {
            int i = rand() % SOCKS;
            unmake(i);
            make_one(i);
        }
        fd_set fs[3];
        for (int k = 0; k < 3; k++) {
            FD_ZERO(&fs[k]);
            sockset_reset(sets[k]);
        }
        int maxfd = -1;
        for (int i = 0; i < SOCKS; i++) {
            for (int k = 0; k < 3; k++) {
                if (rand() % 3 == 0) {
                    FD_SET(fds[i], &fs[k]);
                    sockset_add(sets[k], fds[i]);
                    if (fds[i] > maxfd)
                        maxfd = fds[i];
                }
            }
        }
        if (rand() % 2) /* the listener, with or without a pending connection */ {
            FD_SET(listener, &fs[0]);
            sockset_add(sets[0], listener);
            if (listener > maxfd)
                maxfd = listener;
        }
        struct timeval tv = { 0, 0 };
        int want = select(maxfd + 1, &fs[0], &fs[1], &fs[2], &tv);
        struct timeval tv2 = { 0, 0 };
        int got = sockset_select(sets[0], sets[1], sets[2], &tv2);
        CHECK(want == got, "round %d: select %d, sockset_select %d (SEED=%u)", round, want, got, seed);
        for (int fd = 0; fd <= maxfd; fd++)
            for (int k = 0; k < 3; k++)
                CHECK(!!FD_ISSET(fd, &fs[k]) == sockset_is_set(sets[k], fd),
                      "round %d: fd %d set %d: select %d, sockset_select %d (SEED=%u)", round, fd, k,
                      !!FD_ISSET(fd, &fs[k]), sockset_is_set(sets[k], fd), seed);
        /* Now and then leave a connection pending on the listener, or take it. */
        if (rand() % 4 == 0) {
            if (pending < 0) {
                pending = socket(AF_INET, SOCK_STREAM, 0);
                connect(pending, (struct sockaddr *)&listen_addr, sizeof listen_addr);
            } else {
                close(accept(listener, NULL, NULL));
                close(pending);
                pending = -1;
            }
        }
    }
    for (int k = 0; k < 3; k++)
        sockset_free(sets[k]);
    return DONE("differential");
}
