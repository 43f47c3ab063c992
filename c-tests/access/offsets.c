/*
 * offsets.c — what a socket filter's offsets mean, found with real sockets
 * (no libsock: run natively). sock-core's filter compiler relies on it:
 *   - for UDP sockets, TCP listeners and connected TCP sockets, offset 0 is
 *     the transport header (the source port is the half word at 0);
 *   - SKF_NET_OFF+12 is the IPv4 source address, SKF_NET_OFF+8 the first
 *     word of the IPv6 one; an IPv4 packet on a dual-stack INET6 socket
 *     still has its IPv4 header there (version 4 at SKF_NET_OFF+0).
 * Each check attaches a filter accepting only when the loaded value is the
 * expected one, and sees which peer gets through.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;
#define CHECK(c, ...) do { printf((c) ? "ok   " : "FAIL "); printf(__VA_ARGS__); printf("\n"); if (!(c)) failures++; } while (0)
#define SA(x) ((struct sockaddr *)&(x))

static void only_if(int fd, struct sock_filter load, unsigned value) {
    struct sock_filter f[] = {
        load,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog p = {.len = 4, .filter = f};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)) perror("SO_ATTACH_FILTER");
}

static int sock(int family, int type, const char *ip, int port) {
    int fd = socket(family, type, 0), one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        inet_pton(AF_INET6, ip, &a.sin6_addr);
        bind(fd, SA(a), sizeof a);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, ip, &a.sin_addr);
        bind(fd, SA(a), sizeof a);
    }
    return fd;
}

static int port_of(int fd) {
    struct sockaddr_in6 a;
    socklen_t l = sizeof a;
    getsockname(fd, SA(a), &l);
    return ntohs(a.sin6_port);
}

static int readable(int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static void to(int fd, int port, const char *msg) {
    struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
    sendto(fd, msg, strlen(msg), 0, SA(d), sizeof d);
}

static void udp(int family, const char *ip, const char *what, struct sock_filter load, int by_port) {
    int r = sock(family, SOCK_DGRAM, ip, 0);
    int a = sock(AF_INET, SOCK_DGRAM, "127.0.0.3", 0), b = sock(AF_INET, SOCK_DGRAM, "127.0.0.4", 0);
    only_if(r, load, by_port ? (unsigned)port_of(a) : 0x7f000003);
    to(b, port_of(r), "b");
    to(a, port_of(r), "a");
    usleep(50000);
    char got[8] = "";
    recv(r, got, sizeof got - 1, MSG_DONTWAIT);
    char more[8];
    CHECK(!strcmp(got, "a") && recv(r, more, 8, MSG_DONTWAIT) < 0, "%s: only the expected peer (got \"%s\")", what, got);
    close(r), close(a), close(b);
}

static int connect_from(const char *src, int port) {
    int c = sock(AF_INET, SOCK_STREAM, src, 0);
    fcntl(c, F_SETFL, O_NONBLOCK);
    struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
    connect(c, SA(d), sizeof d);
    return c;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sock_filter port0 = BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0);
    struct sock_filter src4 = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12);
    udp(AF_INET, "127.0.0.1", "UDP, offset 0 is the source port", port0, 1);
    udp(AF_INET, "127.0.0.1", "UDP, SKF_NET_OFF+12 is the IPv4 source", src4, 0);
    udp(AF_INET6, "::", "dual-stack UDP, offset 0 is the source port", port0, 1);
    udp(AF_INET6, "::", "dual-stack UDP, IPv4 packet: SKF_NET_OFF+12 is its source", src4, 0);

    /* A TCP listener judges the SYN: source address and port. */
    int l = sock(AF_INET, SOCK_STREAM, "127.0.0.1", 0);
    listen(l, 8);
    only_if(l, src4, 0x7f000003);
    int bad = connect_from("127.0.0.4", port_of(l));
    CHECK(!readable(l, 300), "TCP listener, SKF_NET_OFF+12: 127.0.0.4's SYN dropped");
    int good = connect_from("127.0.0.3", port_of(l));
    int c = readable(l, 2000) ? accept(l, NULL, NULL) : -1;
    CHECK(c >= 0, "TCP listener, SKF_NET_OFF+12: 127.0.0.3 accepted");
    /* A connected TCP socket: offset 0 is the TCP header (the peer's port). */
    only_if(good, port0, port_of(l));
    usleep(50000);
    send(c, "d", 1, 0);
    CHECK(readable(good, 1000), "connected TCP, offset 0 is the peer's source port");
    close(bad), close(good), close(c), close(l);
    return failures ? 1 : 0;
}
