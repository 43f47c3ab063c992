/*
 * access.c — LIBSOCK_ALLOW / LIBSOCK_DENY with real sockets on loopback.
 *
 * Everything in 127.0.0.0/8 is loopback, so a socket bound to 127.0.0.2 is a
 * different peer from one bound to 127.0.0.3. run.sh runs each subcommand
 * preloaded and linked, with the rules in the environment:
 *
 *   outbound   (DENY=127.0.0.2,127.0.0.4:7000-7010) connect TCP/UDP, sendto,
 *              sendto(MSG_FASTOPEN), sendmsg, sendmmsg, v4-mapped: EPERM and
 *              nothing sent; allowed peers and Unix sockets unaffected
 *   inbound    (DENY=ARGV[2]) accept, accept4, recv, recvfrom, recvmsg,
 *              recvmmsg, read, readv never deliver 127.0.0.2 (IPv4 and
 *              dual-stack INET6 sockets), nor [::1]:41999 or 127.0.0.5:41998;
 *              the program's own SO_ATTACH_FILTER, SO_DETACH_FILTER,
 *              SO_ATTACH_BPF, SO_LOCK_FILTER=0 fail; raw and packet sockets
 *              are refused (checked as root only: the kernel refuses them
 *              to others anyway)
 *   raw-native (no libsock) as root, the same raw and packet sockets are
 *              created: the control
 *   inherit    (no rules) binds UDP and TCP sockets, queues a connection
 *              from 127.0.0.2, then execs itself as inherit-child with
 *              DENY=127.0.0.2, which must filter them and refuse the queued
 *              connection at accept (ECONNABORTED, the caller's address
 *              buffer and length untouched, as a failed accept leaves them)
 *   failclosed (invalid rules) every INET peer refused, Unix works
 *   unreadable (DENY=127.0.0.2) under a seccomp filter that fails
 *              process_vm_readv with EPERM, libsock cannot read any peer:
 *              connect/sendto/sendmsg fail with EPERM for the denied peer
 *              AND the allowed one (fail closed); no peer named and Unix
 *              sockets are the kernel's to answer
 *
 * Prints one "ok ..." line per check; any failure prints "FAIL ..." and the
 * exit status is 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif
#ifndef SO_GET_FILTER
#define SO_GET_FILTER SO_ATTACH_FILTER
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok   ");                                                                       \
        } else {                                                                                   \
            printf("FAIL L%d ", __LINE__);                                                         \
            failures++;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

static struct sockaddr_in v4(const char *ip, int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, int port) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

#define SA(x) ((struct sockaddr *)&(x))

static int port_of(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, SA(ss), &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A socket of `type` bound to ip:port (IPv4, or IPv6 if ip has a ':'). */
static int bound(int type, const char *ip, int port) {
    int v6only = 0, one = 1;
    int fd;
    if (strchr(ip, ':')) {
        struct sockaddr_in6 a = v6(ip, port);
        fd = socket(AF_INET6, type, 0);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, SA(a), sizeof a) != 0) { perror("bind"); exit(2); }
    } else {
        struct sockaddr_in a = v4(ip, port);
        fd = socket(AF_INET, type, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, SA(a), sizeof a) != 0) { perror("bind"); exit(2); }
    }
    if (fd < 0) { perror("socket"); exit(2); }
    return fd;
}

/* Sends `msg` from a UDP socket bound to src (port sport) to 127.0.0.1:port. */
static void send_from(const char *src, int sport, const char *dst, int port, const char *msg) {
    int fd = bound(SOCK_DGRAM, src, sport);
    ssize_t r;
    if (strchr(dst, ':')) {
        struct sockaddr_in6 d = v6(dst, port);
        r = sendto(fd, msg, strlen(msg), 0, SA(d), sizeof d);
    } else {
        struct sockaddr_in d = v4(dst, port);
        r = sendto(fd, msg, strlen(msg), 0, SA(d), sizeof d);
    }
    if (r < 0) { printf("FAIL sendto from %s: %s\n", src, strerror(errno)); failures++; }
    close(fd);
}

/* Lets loopback deliver what was sent. */
static void settle(void) { usleep(50 * 1000); }

static int readable(int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static int nothing_queued(int fd) {
    char b[64];
    errno = 0;
    return recv(fd, b, sizeof b, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/* ---- outbound ------------------------------------------------------------ */

static int outbound(void) {
    int r2 = bound(SOCK_DGRAM, "127.0.0.2", 0), r3 = bound(SOCK_DGRAM, "127.0.0.3", 0);
    int p2 = port_of(r2), p3 = port_of(r3);
    struct sockaddr_in to2 = v4("127.0.0.2", p2), to3 = v4("127.0.0.3", p3);
    int l2 = bound(SOCK_STREAM, "127.0.0.2", 0);
    listen(l2, 8);
    struct sockaddr_in tcp2 = v4("127.0.0.2", port_of(l2));

    int t = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(t, SA(tcp2), sizeof tcp2) == -1 && errno == EPERM, "connect TCP 127.0.0.2: EPERM");
    CHECK(!readable(l2, 200), "no connection reached the listener on 127.0.0.2");
    close(t);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    errno = 0;
    CHECK(connect(u, SA(to2), sizeof to2) == -1 && errno == EPERM, "connect UDP 127.0.0.2: EPERM");
    errno = 0;
    CHECK(sendto(u, "x", 1, 0, SA(to2), sizeof to2) == -1 && errno == EPERM, "sendto 127.0.0.2: EPERM");
    CHECK(sendto(u, "a", 1, 0, SA(to3), sizeof to3) == 1, "sendto 127.0.0.3: sent");

    struct iovec iov = {.iov_base = "m", .iov_len = 1};
    struct msghdr m = {.msg_name = &to2, .msg_namelen = sizeof to2, .msg_iov = &iov, .msg_iovlen = 1};
    errno = 0;
    CHECK(sendmsg(u, &m, 0) == -1 && errno == EPERM, "sendmsg 127.0.0.2: EPERM");

    struct mmsghdr mm[3];
    memset(mm, 0, sizeof mm);
    struct sockaddr_in *names[3] = {&to3, &to2, &to3};
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_name = names[i];
        mm[i].msg_hdr.msg_namelen = sizeof to3;
        mm[i].msg_hdr.msg_iov = &iov;
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(sendmmsg(u, mm, 3, 0) == 1, "sendmmsg [3, 2, 3]: 1 sent, stopped before 127.0.0.2");
    errno = 0;
    CHECK(sendmmsg(u, mm + 1, 2, 0) == -1 && errno == EPERM, "sendmmsg [2, 3]: EPERM");

    int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 mapped = v6("::ffff:127.0.0.2", p2);
    errno = 0;
    CHECK(sendto(u6, "x", 1, 0, SA(mapped), sizeof mapped) == -1 && errno == EPERM,
          "sendto ::ffff:127.0.0.2 from INET6: EPERM");
    errno = 0;
    CHECK(connect(u6, SA(mapped), sizeof mapped) == -1 && errno == EPERM,
          "connect ::ffff:127.0.0.2 from INET6: EPERM");

    int tfo = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(sendto(tfo, "x", 1, MSG_FASTOPEN, SA(tcp2), sizeof tcp2) == -1 && errno == EPERM,
          "sendto(MSG_FASTOPEN) 127.0.0.2: EPERM");
    CHECK(!readable(l2, 100), "still no connection on 127.0.0.2");

    /* Bad memory is the kernel's to answer (EFAULT), never EPERM. */
    int tb = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(tb, (struct sockaddr *)8, sizeof tcp2) == -1 && errno == EFAULT, "connect to a bad pointer: EFAULT");
    errno = 0;
    CHECK(sendto(u, "x", 1, 0, (struct sockaddr *)8, sizeof to2) == -1 && errno == EFAULT,
          "sendto a bad pointer: EFAULT");
    close(tb);

    /* Port rules: 127.0.0.4:7000-7010 denied, 7011 is the kernel's to answer. */
    int t4 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in_range = v4("127.0.0.4", 7005), out_range = v4("127.0.0.4", 7011);
    errno = 0;
    CHECK(connect(t4, SA(in_range), sizeof in_range) == -1 && errno == EPERM, "connect 127.0.0.4:7005: EPERM");
    errno = 0;
    CHECK(connect(t4, SA(out_range), sizeof out_range) == -1 && errno == ECONNREFUSED,
          "connect 127.0.0.4:7011: ECONNREFUSED (not a rule's port)");

    settle();
    CHECK(nothing_queued(r2), "127.0.0.2 received nothing");
    char b[8];
    int got = 0;
    while (recv(r3, b, sizeof b, MSG_DONTWAIT) > 0) got++;
    CHECK(got == 2, "127.0.0.3 received 2 datagrams (sendto, sendmmsg's first), got %d", got);

    /* Unix sockets are never affected. */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && send(sv[0], "u", 1, 0) == 1 &&
              recv(sv[1], b, 1, 0) == 1,
          "Unix socketpair: unaffected");
    return failures ? 1 : 0;
}

/* ---- inbound ------------------------------------------------------------- */

/* Receives with `how` on fd: the payload, or "" if nothing. */
static void receive(int fd, const char *how, char *out, size_t n) {
    ssize_t r = -1;
    out[0] = 0;
    if (!readable(fd, 500)) return;
    char peer[128];
    socklen_t plen = sizeof peer;
    struct iovec iov = {.iov_base = out, .iov_len = n - 1};
    struct msghdr m = {.msg_name = peer, .msg_namelen = sizeof peer, .msg_iov = &iov, .msg_iovlen = 1};
    if (!strcmp(how, "recv")) r = recv(fd, out, n - 1, 0);
    else if (!strcmp(how, "recvfrom")) r = recvfrom(fd, out, n - 1, 0, SA(peer), &plen);
    else if (!strcmp(how, "recvmsg")) r = recvmsg(fd, &m, 0);
    else if (!strcmp(how, "read")) r = read(fd, out, n - 1);
    else if (!strcmp(how, "readv")) r = readv(fd, &iov, 1);
    else if (!strcmp(how, "recvmmsg")) {
        struct mmsghdr mm = {.msg_hdr = m};
        r = recvmmsg(fd, &mm, 1, 0, NULL) == 1 ? (ssize_t)mm.msg_len : -1;
    }
    out[r > 0 ? r : 0] = 0;
}

static void udp_paths(const char *listen_ip, const char *denied_src, int denied_port,
                      const char *allowed_src, const char *dst) {
    static const char *paths[] = {"recv", "recvfrom", "recvmsg", "recvmmsg", "read", "readv"};
    int fd = bound(SOCK_DGRAM, listen_ip, 0);
    int port = port_of(fd);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char got[64];
        send_from(denied_src, denied_port, dst, port, "denied");
        send_from(allowed_src, 0, dst, port, "allowed");
        settle();
        receive(fd, paths[i], got, sizeof got);
        CHECK(!strcmp(got, "allowed"), "UDP %s on %s: from %s only (got \"%s\", not %s:%d's)", paths[i],
              listen_ip, allowed_src, got, denied_src, denied_port);
        CHECK(nothing_queued(fd), "UDP %s on %s: nothing else queued", paths[i], listen_ip);
    }
    close(fd);
}

/* A nonblocking TCP connect from src to dst:port: the client socket. */
static int tcp_from(const char *src, int sport, const char *dst, int port) {
    int fd = bound(SOCK_STREAM, src, sport);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (strchr(dst, ':')) {
        struct sockaddr_in6 d = v6(dst, port);
        connect(fd, SA(d), sizeof d);
    } else {
        struct sockaddr_in d = v4(dst, port);
        connect(fd, SA(d), sizeof d);
    }
    return fd;
}

static void tcp_accepts(const char *listen_ip, const char *denied_src, int denied_port,
                        const char *allowed_src, const char *dst, int use_accept4) {
    const char *call = use_accept4 ? "accept4" : "accept";
    int l = bound(SOCK_STREAM, listen_ip, 0);
    listen(l, 16);
    int port = port_of(l);
    int bad = tcp_from(denied_src, denied_port, dst, port);
    CHECK(!readable(l, 300), "%s on %s: nothing from %s:%d", call, listen_ip, denied_src, denied_port);
    int good = tcp_from(allowed_src, 0, dst, port);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = -1;
    if (readable(l, 2000))
        c = use_accept4 ? accept4(l, SA(peer), &plen, SOCK_CLOEXEC) : accept(l, SA(peer), &plen);
    char ip[64] = "?";
    if (c >= 0 && peer.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, ip, sizeof ip);
    else if (c >= 0)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, ip, sizeof ip);
    CHECK(c >= 0 && strstr(ip, allowed_src), "%s on %s: accepted %s", call, listen_ip, ip);
    /* The accepted socket is filtered and locked too. */
    int locked = 0;
    socklen_t ll = sizeof locked;
    CHECK(c >= 0 && getsockopt(c, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll) == 0 && locked == 1,
          "%s on %s: accepted socket has a locked filter", call, listen_ip);
    fcntl(l, F_SETFL, O_NONBLOCK);
    errno = 0;
    CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN, "%s on %s: no other connection", call, listen_ip);
    close(bad);
    close(good);
    if (c >= 0) close(c);
    close(l);
}

static int bpf_prog_fd(void) {
    struct bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (unsigned long)insns;
    attr.insn_cnt = 2;
    attr.license = (unsigned long)"GPL";
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
}

static void locked_filters(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sock_filter accept_all = BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
    struct sock_fprog prog = {.len = 1, .filter = &accept_all};
    int zero = 0;
    errno = 0;
    CHECK(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == -1 && errno == EPERM,
          "program's SO_ATTACH_FILTER: EPERM");
    errno = 0;
    CHECK(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof zero) == -1 && errno == EPERM,
          "program's SO_DETACH_FILTER: EPERM");
    errno = 0;
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &zero, sizeof zero) == -1 && errno == EPERM,
          "program's SO_LOCK_FILTER=0: EPERM");
    int pfd = bpf_prog_fd();
    if (pfd >= 0) {
        errno = 0;
        CHECK(setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof pfd) == -1 && errno == EPERM,
              "program's SO_ATTACH_BPF: EPERM");
        close(pfd);
    } else {
        printf("note SO_ATTACH_BPF not tried: bpf(BPF_PROG_LOAD): %s\n", strerror(errno));
    }
    close(fd);
}

/* Raw and packet sockets: without CAP_NET_RAW the kernel refuses them with
 * EPERM anyway, so the checks mean something only as root (skipped
 * otherwise). `expect_refused` 0 is the native control: root gets them. */
static void unfilterable(int expect_refused) {
    if (geteuid() != 0) {
        printf("note raw and packet sockets not checked: not root (the kernel refuses them anyway)\n");
        return;
    }
    struct {
        int domain, type, protocol;
        const char *what;
    } raw[] = {
        {AF_INET, SOCK_RAW, IPPROTO_ICMP, "AF_INET SOCK_RAW"},
        {AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6, "AF_INET6 SOCK_RAW|SOCK_CLOEXEC"},
        {AF_PACKET, SOCK_RAW, 0, "AF_PACKET SOCK_RAW"},
        {AF_PACKET, SOCK_DGRAM, 0, "AF_PACKET SOCK_DGRAM"},
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        errno = 0;
        int fd = socket(raw[i].domain, raw[i].type, raw[i].protocol);
        if (expect_refused)
            CHECK(fd == -1 && errno == EPERM, "%s refused: EPERM (root)", raw[i].what);
        else
            CHECK(fd >= 0, "%s created natively (root): %s", raw[i].what, fd >= 0 ? "yes" : strerror(errno));
        if (fd >= 0) close(fd);
    }
}

static int inbound(void) {
    udp_paths("127.0.0.1", "127.0.0.2", 0, "127.0.0.3", "127.0.0.1");
    udp_paths("::", "127.0.0.2", 0, "127.0.0.3", "127.0.0.1");
    udp_paths("127.0.0.1", "127.0.0.5", 41998, "127.0.0.5", "127.0.0.1");
    udp_paths("::1", "::1", 41999, "::1", "::1");
    tcp_accepts("127.0.0.1", "127.0.0.2", 0, "127.0.0.3", "127.0.0.1", 0);
    tcp_accepts("127.0.0.1", "127.0.0.2", 0, "127.0.0.3", "127.0.0.1", 1);
    tcp_accepts("::", "127.0.0.2", 0, "127.0.0.3", "127.0.0.1", 0);
    tcp_accepts("::1", "::1", 41997, "::1", "::1", 1);
    /* A connected TCP socket: the peer's data arrives, a denied peer's SYN
     * never completes the handshake. */
    locked_filters();
    unfilterable(1);
    return failures ? 1 : 0;
}

/* ---- inherited sockets ---------------------------------------------------- */

static int inherit(char **argv) {
    /* No rules here (or preloaded without any): the sockets are plain. */
    int u = bound(SOCK_DGRAM, "127.0.0.1", 0);
    int l = bound(SOCK_STREAM, "::", 0);
    listen(l, 8);
    /* A connection from 127.0.0.2 already queued when the child loads. */
    int queued = tcp_from("127.0.0.2", 0, "127.0.0.1", port_of(l));
    if (!readable(l, 2000)) {
        printf("FAIL the queued connection did not complete\n");
        return 1;
    }
    (void)queued;
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", u);
    snprintf(b, sizeof b, "%d", l);
    const char *deny = getenv("ACCESS_CHILD_DENY");
    setenv("LIBSOCK_DENY", deny ? deny : "127.0.0.2", 1);
    if (getenv("ACCESS_PRELOAD")) setenv("LD_PRELOAD", getenv("ACCESS_PRELOAD"), 1);
    execl("/proc/self/exe", argv[0], "inherit-child", a, b, (char *)NULL);
    perror("exec");
    return 2;
}

/* The number of instructions of the filter on fd (SO_GET_FILTER), or -1. */
static int filter_len(int fd) {
    socklen_t n = 0;
    return getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n) == 0 ? (int)n : -1;
}

/* inherit-child where the rules' filter does not fit net.core.optmem_max:
 * the inherited sockets get the one-instruction filter that drops
 * everything, locked; a new socket is refused. */
static int inherit_child_drop_all(int u, int l) {
    int locked = 0;
    socklen_t ll = sizeof locked;
    CHECK(getsockopt(u, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll) == 0 && locked == 1 && filter_len(u) == 1,
          "inherited UDP socket: the drop-all filter (%d instruction), locked", filter_len(u));
    locked = 0;
    CHECK(getsockopt(l, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll) == 0 && locked == 1 && filter_len(l) == 1,
          "inherited TCP listener: the drop-all filter (%d instruction), locked", filter_len(l));
    errno = 0;
    CHECK(accept(l, NULL, NULL) == -1 && errno == ECONNABORTED,
          "inherited listener: the queued connection from 127.0.0.2: ECONNABORTED");
    /* New sockets are refused here: the senders go around libsock. */
    struct sockaddr_in from = v4("127.0.0.3", 0), to = v4("127.0.0.1", port_of(u)), tl = v4("127.0.0.1", port_of(l));
    int s = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    long sent = syscall(SYS_bind, s, SA(from), sizeof from) == 0 ? syscall(SYS_sendto, s, "x", 1, 0, SA(to), sizeof to) : -1;
    settle();
    CHECK(sent == 1 && nothing_queued(u), "inherited UDP: even 127.0.0.3's datagram dropped");
    int t = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    syscall(SYS_bind, t, SA(from), sizeof from);
    syscall(SYS_connect, t, SA(tl), sizeof tl);
    CHECK(!readable(l, 300), "inherited listener: nothing accepted, even from 127.0.0.3");
    close(s);
    close(t);
    errno = 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd == -1 && errno == EPERM, "a new UDP socket (the filter does not fit): EPERM");
    return failures ? 1 : 0;
}

static int inherit_child(char **argv) {
    int u = atoi(argv[2]), l = atoi(argv[3]);
    if (getenv("ACCESS_EXPECT_DROP_ALL")) return inherit_child_drop_all(u, l);
    int locked = 0;
    socklen_t ll = sizeof locked;
    /* The first call through libsock loads the settings and scans. */
    CHECK(getsockopt(u, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll) == 0 && locked == 1,
          "inherited UDP socket: filter locked");
    locked = 0;
    CHECK(getsockopt(l, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll) == 0 && locked == 1,
          "inherited TCP listener: filter locked");
    struct sockaddr_storage peer;
    memset(&peer, 0xab, sizeof peer);
    socklen_t plen = sizeof peer;
    errno = 0;
    CHECK(accept(l, SA(peer), &plen) == -1 && errno == ECONNABORTED,
          "inherited listener: a connection from 127.0.0.2 queued before load: ECONNABORTED");
    unsigned char *pb = (unsigned char *)&peer;
    size_t same = 0;
    while (same < sizeof peer && pb[same] == 0xab) same++;
    CHECK(same == sizeof peer && plen == sizeof peer,
          "refused accept: address buffer and length untouched (%zu bytes kept, len %u)", same, (unsigned)plen);
    int port = port_of(u);
    char got[64];
    send_from("127.0.0.2", 0, "127.0.0.1", port, "denied");
    send_from("127.0.0.3", 0, "127.0.0.1", port, "allowed");
    settle();
    receive(u, "recv", got, sizeof got);
    CHECK(!strcmp(got, "allowed") && nothing_queued(u), "inherited UDP: only 127.0.0.3 (got \"%s\")", got);
    int lport = port_of(l);
    int bad = tcp_from("127.0.0.2", 0, "127.0.0.1", lport);
    CHECK(!readable(l, 300), "inherited listener: nothing from 127.0.0.2");
    int good = tcp_from("127.0.0.3", 0, "127.0.0.1", lport);
    int c = readable(l, 2000) ? accept(l, NULL, NULL) : -1;
    CHECK(c >= 0, "inherited listener: 127.0.0.3 accepted");
    close(bad);
    close(good);
    return failures ? 1 : 0;
}

/* ---- fail closed ---------------------------------------------------------- */

static int failclosed(void) {
    int r = bound(SOCK_DGRAM, "127.0.0.1", 0);
    struct sockaddr_in to = v4("127.0.0.1", port_of(r));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    errno = 0;
    CHECK(sendto(u, "x", 1, 0, SA(to), sizeof to) == -1 && errno == EPERM, "sendto 127.0.0.1: EPERM");
    errno = 0;
    CHECK(connect(u, SA(to), sizeof to) == -1 && errno == EPERM, "connect 127.0.0.1: EPERM");
    int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 to6 = v6("::1", 9);
    errno = 0;
    CHECK(sendto(u6, "x", 1, 0, SA(to6), sizeof to6) == -1 && errno == EPERM, "sendto [::1]: EPERM");
    /* Inbound: the filter drops everything, even 127.0.0.1. A sender that
     * libsock does not see (a raw system call) proves it. */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    long sent = syscall(SYS_sendto, s, "x", 1, 0, SA(to), sizeof to);
    settle();
    CHECK(sent == 1 && nothing_queued(r), "a datagram sent around libsock was dropped by the filter");
    int sv[2];
    char b[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && send(sv[0], "u", 1, 0) == 1 &&
              recv(sv[1], b, 1, 0) == 1,
          "Unix sockets: unaffected");
    return failures ? 1 : 0;
}

/* ---- a peer libsock cannot read -------------------------------------------- */

/* A seccomp filter failing process_vm_readv with EPERM, as a sandboxed
 * service's would (or ENOSYS on a kernel without cross-memory attach). */
static int deny_process_vm_readv(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof *f, .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int unreadable(void) {
    int l2 = bound(SOCK_STREAM, "127.0.0.2", 0), l3 = bound(SOCK_STREAM, "127.0.0.3", 0);
    listen(l2, 8);
    listen(l3, 8);
    int r3 = bound(SOCK_DGRAM, "127.0.0.3", 0);
    struct sockaddr_in tcp2 = v4("127.0.0.2", port_of(l2)), tcp3 = v4("127.0.0.3", port_of(l3));
    struct sockaddr_in udp3 = v4("127.0.0.3", port_of(r3));
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return 2;

    CHECK(deny_process_vm_readv() == 0, "seccomp filter installed: %s", strerror(errno));
    char byte = 0;
    struct iovec local = {.iov_base = &byte, .iov_len = 1}, remote = {.iov_base = &l2, .iov_len = 1};
    errno = 0;
    CHECK(process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == -1 && errno == EPERM,
          "process_vm_readv fails with EPERM");

    int t = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(t, SA(tcp2), sizeof tcp2) == -1 && errno == EPERM, "connect 127.0.0.2 (denied): EPERM");
    close(t);
    t = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(t, SA(tcp3), sizeof tcp3) == -1 && errno == EPERM,
          "connect 127.0.0.3 (allowed, but cannot be judged): EPERM");
    close(t);
    CHECK(!readable(l2, 100) && !readable(l3, 100), "no connection reached either listener");

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    errno = 0;
    CHECK(sendto(u, "x", 1, 0, SA(udp3), sizeof udp3) == -1 && errno == EPERM, "sendto 127.0.0.3: EPERM");
    struct iovec iov = {.iov_base = "m", .iov_len = 1};
    struct msghdr m = {.msg_name = &udp3, .msg_namelen = sizeof udp3, .msg_iov = &iov, .msg_iovlen = 1};
    errno = 0;
    CHECK(sendmsg(u, &m, 0) == -1 && errno == EPERM, "sendmsg 127.0.0.3: EPERM");
    settle();
    CHECK(nothing_queued(r3), "127.0.0.3 received nothing");
    errno = 0;
    CHECK(sendto(u, "x", 1, 0, NULL, 0) == -1 && errno == EDESTADDRREQ,
          "sendto naming no peer: the kernel's EDESTADDRREQ");
    char b[2];
    CHECK(send(sv[0], "u", 1, 0) == 1 && recv(sv[1], b, 1, 0) == 1, "Unix socketpair: unaffected");
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "outbound")) return outbound();
    if (!strcmp(argv[1], "inbound")) return inbound();
    if (!strcmp(argv[1], "inherit")) return inherit(argv);
    if (!strcmp(argv[1], "inherit-child") && argc == 4) return inherit_child(argv);
    if (!strcmp(argv[1], "failclosed")) return failclosed();
    if (!strcmp(argv[1], "unreadable")) return unreadable();
    if (!strcmp(argv[1], "raw-native")) {
        unfilterable(0);
        return failures ? 1 : 0;
    }
    fprintf(stderr, "usage: access outbound|inbound|inherit|failclosed|unreadable|raw-native\n");
    return 2;
}
