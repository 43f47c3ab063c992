/*
 * spelling.c — every way of writing "127.0.0.1" (and "::1") that the kernel
 * accepts as a destination, against a native receiver that logs what
 * arrives. run.sh runs the receiver natively and the sender natively,
 * preloaded and linked, with and without access rules naming the peer.
 *
 *   receive DIR   (native) binds UDP 127.0.0.1, [::1] (v6only) and
 *                 127.0.0.3, TCP listeners on 127.0.0.1 and [::1]; writes
 *                 their ports to DIR/ports, then logs "udp TAG" / "tcp TAG"
 *                 for each datagram and each accepted connection's first
 *                 bytes; on SIGTERM it logs "synrecv N" (half-open
 *                 connections to its listeners in /proc/net/tcp{,6}: SYNs
 *                 that arrived) and "race udp N" / "race udp3 N" (the race's
 *                 datagrams, counted, not logged) and exits
 *   send DIR      every spelling once; one line each: "TAG ret=R errno=E"
 *   bad DIR       bad pointers and lengths on every judged path (EFAULT,
 *                 EINVAL, EBADF): one line each, to compare with native
 *   race DIR SECS one thread flips a shared sockaddr between 127.0.0.3
 *                 (allowed) and 127.0.0.1 (denied) while three threads send
 *                 through it with sendto, sendmsg and sendmmsg; prints
 *                 "race sent=N refused=M"; every datagram carries the tag
 *                 "race"
 *   swap DIR SECS one thread dup2()s a UDP and a TCP socket in turn onto one
 *                 number while another sends to 127.0.0.1 through it
 *                 (tag "race" too): "swap sent=N refused=M"
 *
 * The tags say what was spelt; see the table in send().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static unsigned short U4, U6, T4, T6, U3;

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void read_ports(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/ports", dir);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%hu %hu %hu %hu %hu", &U4, &U6, &T4, &T6, &U3) != 5)
        die("ports");
    fclose(f);
}

/* ---------------------------------------------------------------- receive */

static volatile sig_atomic_t stop;
static void on_term(int sig) {
    (void)sig;
    stop = 1;
}

static unsigned short bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len))
        die("getsockname");
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int bound(int family, int type, const char *ip) {
    int fd = socket(family, type, 0), one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, ip, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a))
            die("bind");
    } else {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        struct sockaddr_in6 a = {.sin6_family = AF_INET6};
        inet_pton(AF_INET6, ip, &a.sin6_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a))
            die("bind6");
    }
    if (type == SOCK_STREAM && listen(fd, 64))
        die("listen");
    return fd;
}

/* Half-open connections (state 03, SYN_RECV) whose local port is one of
 * the listeners', in one of /proc/net/tcp and tcp6. */
static int syn_recv(const char *file) {
    FILE *f = fopen(file, "r");
    char line[512];
    int n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        char local[128], remote[128];
        unsigned st;
        if (sscanf(line, " %*d: %127s %127s %x", local, remote, &st) != 3)
            continue;
        char *colon = strrchr(local, ':');
        unsigned port = colon ? (unsigned)strtoul(colon + 1, NULL, 16) : 0;
        if (st == 3 && (port == T4 || port == T6))
            n++;
    }
    fclose(f);
    return n;
}

static int receive(const char *dir) {
    int fds[5] = {bound(AF_INET, SOCK_DGRAM, "127.0.0.1"), bound(AF_INET6, SOCK_DGRAM, "::1"),
                  bound(AF_INET, SOCK_STREAM, "127.0.0.1"), bound(AF_INET6, SOCK_STREAM, "::1"),
                  bound(AF_INET, SOCK_DGRAM, "127.0.0.3")};
    U4 = bound_port(fds[0]), U6 = bound_port(fds[1]), T4 = bound_port(fds[2]),
    T6 = bound_port(fds[3]), U3 = bound_port(fds[4]);
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/ports", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        die("ports");
    fprintf(f, "%u %u %u %u %u\n", U4, U6, T4, T6, U3);
    fclose(f);
    if (rename(tmp, path))
        die("rename");
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *what[5] = {"udp", "udp6", "tcp", "tcp6", "udp3"};
    long races[5] = {0};
    while (!stop) {
        struct pollfd p[5];
        for (int i = 0; i < 5; i++)
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        if (poll(p, 5, 100) < 0)
            continue;
        for (int i = 0; i < 5; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            char buf[256];
            ssize_t n;
            if (i == 2 || i == 3) {
                int c = accept(fds[i], NULL, NULL);
                if (c < 0)
                    continue;
                struct timeval tv = {.tv_sec = 1};
                setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                n = recv(c, buf, sizeof buf - 1, 0);
                close(c);
            } else {
                n = recv(fds[i], buf, sizeof buf - 1, 0);
            }
            if (n < 0)
                n = 0;
            buf[n] = 0;
            if (!strcmp(buf, "race"))
                races[i]++;
            else
                printf("%s %s\n", what[i], n ? buf : "(empty)");
        }
    }
    printf("race udp %ld\nrace udp3 %ld\n", races[0], races[4]);
    printf("synrecv %d\n", syn_recv("/proc/net/tcp") + syn_recv("/proc/net/tcp6"));
    return 0;
}

/* ------------------------------------------------------------------- send */

/* An address of `len` bytes, whatever its family field says. */
struct dest {
    struct sockaddr_storage ss;
    socklen_t len;
};

static struct dest in4(int family, const char *ip, unsigned short port) {
    struct dest d = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *a = (struct sockaddr_in *)&d.ss;
    a->sin_family = (sa_family_t)family;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    return d;
}

static struct dest in6(const char *ip, unsigned short port) {
    struct dest d = {.len = sizeof(struct sockaddr_in6)};
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&d.ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    return d;
}

static int sock(int family, int type, int dual) {
    int fd = socket(family, type, 0);
    if (fd >= 0 && family == AF_INET6) {
        int v6only = !dual;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    return fd;
}

static void report(const char *tag, long r, int e) {
    printf("%s ret=%ld errno=%s\n", tag, r < 0 ? -1L : r, r < 0 ? strerrorname_np(e) : "0");
}

enum how { SENDTO, SENDMSG, SENDMMSG, CONNECT_SEND, SENDMSG_PKTINFO };

/* One datagram carrying `tag` to `d` on a new socket, by `how`. */
static void udp(const char *tag, int family, int dual, enum how how, struct dest d) {
    int fd = sock(family, SOCK_DGRAM, dual);
    if (fd < 0)
        die("socket");
    struct iovec iov = {.iov_base = (void *)tag, .iov_len = strlen(tag)};
    struct msghdr m = {.msg_name = &d.ss, .msg_namelen = d.len, .msg_iov = &iov, .msg_iovlen = 1};
    long r;
    switch (how) {
    case SENDTO:
        r = sendto(fd, tag, strlen(tag), 0, (struct sockaddr *)&d.ss, d.len);
        break;
    case SENDMSG:
        r = sendmsg(fd, &m, 0);
        break;
    case SENDMMSG: {
        struct mmsghdr mm = {.msg_hdr = m};
        r = sendmmsg(fd, &mm, 1, 0);
        break;
    }
    case SENDMSG_PKTINFO: {
        /* 0.0.0.0 with IP_PKTINFO's source 127.0.0.1: the kernel sends to
         * that source. */
        union {
            char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
            struct cmsghdr align;
        } c;
        memset(&c, 0, sizeof c);
        m.msg_control = c.buf;
        m.msg_controllen = sizeof c.buf;
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = IPPROTO_IP;
        h->cmsg_type = IP_PKTINFO;
        h->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {0};
        inet_pton(AF_INET, "127.0.0.1", &pi.ipi_spec_dst);
        memcpy(CMSG_DATA(h), &pi, sizeof pi);
        r = sendmsg(fd, &m, 0);
        break;
    }
    case CONNECT_SEND:
    default:
        r = connect(fd, (struct sockaddr *)&d.ss, d.len);
        if (r == 0)
            r = send(fd, tag, strlen(tag), 0);
        break;
    }
    report(tag, r, errno);
    close(fd);
}

/* A TCP connection carrying `tag` to `d`: connect (blocking or not) then
 * send, or sendto(MSG_FASTOPEN). */
static void tcp(const char *tag, int family, int dual, int nonblocking, int fastopen,
                struct dest d) {
    int fd = sock(family, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), dual);
    if (fd < 0)
        die("socket");
    /* A SYN that went out to a peer whose answer a filter drops would
     * block for minutes of retries: two seconds say as much. */
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    long r;
    int e = 0;
    if (fastopen) {
        r = sendto(fd, tag, strlen(tag), MSG_FASTOPEN, (struct sockaddr *)&d.ss, d.len);
        e = errno;
    } else {
        r = connect(fd, (struct sockaddr *)&d.ss, d.len);
        e = errno;
        if (r < 0 && e == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int so = 0;
            socklen_t sl = sizeof so;
            poll(&p, 1, 3000);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
            r = so ? -1 : 0;
            e = so ? so : e;
        }
        if (r == 0) {
            r = send(fd, tag, strlen(tag), 0);
            e = errno;
        }
    }
    report(tag, r, e);
    close(fd);
}

static int fastopen_client(void) {
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_fastopen", "r");
    int v = 0;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v & 1;
}

static int send_all(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* IPv4 datagram sockets. */
    udp("u4-inet", AF_INET, 0, SENDTO, in4(AF_INET, "127.0.0.1", U4));
    udp("u4-unspec-sendto", AF_INET, 0, SENDTO, in4(AF_UNSPEC, "127.0.0.1", U4));
    udp("u4-unspec-sendmsg", AF_INET, 0, SENDMSG, in4(AF_UNSPEC, "127.0.0.1", U4));
    udp("u4-unspec-sendmmsg", AF_INET, 0, SENDMMSG, in4(AF_UNSPEC, "127.0.0.1", U4));
    udp("u4-any", AF_INET, 0, SENDTO, in4(AF_INET, "0.0.0.0", U4));
    udp("u4-unspec-any", AF_INET, 0, SENDTO, in4(AF_UNSPEC, "0.0.0.0", U4));
    udp("u4-any-sendmsg", AF_INET, 0, SENDMSG, in4(AF_INET, "0.0.0.0", U4));
    udp("u4-any-sendmmsg", AF_INET, 0, SENDMMSG, in4(AF_UNSPEC, "0.0.0.0", U4));
    udp("u4-any-pktinfo", AF_INET, 0, SENDMSG_PKTINFO, in4(AF_INET, "0.0.0.0", U4));
    udp("u4-connect-any", AF_INET, 0, CONNECT_SEND, in4(AF_INET, "0.0.0.0", U4));
    /* Not the denied peer: always delivered. */
    udp("u4-allowed-peer", AF_INET, 0, SENDTO, in4(AF_INET, "127.0.0.3", U3));
    /* IPv6 datagram sockets: :: is ::1; dual-stack ones reach IPv4. */
    udp("u6-loopback", AF_INET6, 0, SENDTO, in6("::1", U6));
    udp("u6-any", AF_INET6, 0, SENDTO, in6("::", U6));
    udp("u6-any-sendmsg", AF_INET6, 0, SENDMSG, in6("::", U6));
    udp("u6-connect-any", AF_INET6, 0, CONNECT_SEND, in6("::", U6));
    udp("u6-mapped", AF_INET6, 1, SENDTO, in6("::ffff:127.0.0.1", U4));
    udp("u6-mapped-any", AF_INET6, 1, SENDTO, in6("::ffff:0.0.0.0", U4));
    udp("u6-inet-on-dual", AF_INET6, 1, SENDTO, in4(AF_INET, "127.0.0.1", U4));
    udp("u6-inet-any-on-dual", AF_INET6, 1, SENDTO, in4(AF_INET, "0.0.0.0", U4));
    udp("u6-inet-any-sendmmsg", AF_INET6, 1, SENDMMSG, in4(AF_INET, "0.0.0.0", U4));
    udp("u6-connect-mapped-any", AF_INET6, 1, CONNECT_SEND, in6("::ffff:0.0.0.0", U4));
    /* TCP: connect, blocking and not, and MSG_FASTOPEN. */
    tcp("t4-inet", AF_INET, 0, 0, 0, in4(AF_INET, "127.0.0.1", T4));
    tcp("t4-any", AF_INET, 0, 0, 0, in4(AF_INET, "0.0.0.0", T4));
    tcp("t4-any-nonblocking", AF_INET, 0, 1, 0, in4(AF_INET, "0.0.0.0", T4));
    tcp("t6-any", AF_INET6, 0, 0, 0, in6("::", T6));
    tcp("t6-mapped", AF_INET6, 1, 0, 0, in6("::ffff:127.0.0.1", T4));
    tcp("t6-mapped-any", AF_INET6, 1, 0, 0, in6("::ffff:0.0.0.0", T4));
    if (fastopen_client()) {
        tcp("t4-fastopen-any", AF_INET, 0, 0, 1, in4(AF_INET, "0.0.0.0", T4));
        tcp("t6-fastopen-any", AF_INET6, 0, 0, 1, in6("::", T6));
    }
    return 0;
}

/* --------------------------------------------------------------- bad input */

/* Bad pointers and lengths on every judged path: under rules libsock must
 * give what glibc gives (EFAULT or EINVAL, nothing sent), so run.sh compares
 * this output natively and under rules. Every call is to the allowed peer
 * 127.0.0.3 (where a call would send anything). */
static int bad_input(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    /* Two pages, the second inaccessible: an array running into it. */
    char *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map + page, (size_t)page, PROT_NONE))
        die("mmap");
    struct dest ok = in4(AF_INET, "127.0.0.3", U3);
    void *bad = (void *)8;
    int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
    struct iovec iov = {.iov_base = "bad", .iov_len = 3};
    struct msghdr m = {.msg_name = &ok.ss, .msg_namelen = ok.len, .msg_iov = &iov, .msg_iovlen = 1};
    struct msghdr mb;
    long r;
#define TRY(name, call)                                                                            \
    do {                                                                                           \
        errno = 0;                                                                                 \
        r = (call);                                                                                \
        report(name, r, errno);                                                                    \
    } while (0)
    TRY("bad-connect-addr", connect(u, bad, 16));
    TRY("bad-connect-len-129", connect(u, (struct sockaddr *)&ok.ss, 129));
    TRY("bad-connect-len-0", connect(u, (struct sockaddr *)&ok.ss, 0));
    TRY("bad-connect-tail", connect(u, (struct sockaddr *)(map + page - 8), 16));
    TRY("bad-tcp-connect-addr", connect(t, bad, 16));
    TRY("bad-sendto-addr", sendto(u, "bad", 3, 0, bad, 16));
    TRY("bad-sendto-len-0", sendto(u, "bad", 3, 0, (struct sockaddr *)&ok.ss, 0));
    TRY("bad-sendto-buf", sendto(u, bad, 3, 0, (struct sockaddr *)&ok.ss, ok.len));
    TRY("bad-sendmsg-hdr", sendmsg(u, bad, 0));
    mb = m, mb.msg_name = bad;
    TRY("bad-sendmsg-name", sendmsg(u, &mb, 0));
    mb = m, mb.msg_namelen = 4000;
    TRY("sendmsg-namelen-4000", sendmsg(u, &mb, 0));
    mb = m, mb.msg_control = bad, mb.msg_controllen = 32;
    TRY("bad-sendmsg-control", sendmsg(u, &mb, 0));
    mb = m, mb.msg_control = NULL, mb.msg_controllen = 32;
    TRY("bad-sendmsg-control-null", sendmsg(u, &mb, 0));
    mb = m, mb.msg_iov = bad;
    TRY("bad-sendmsg-iov", sendmsg(u, &mb, 0));
    TRY("bad-sendmmsg-array", sendmmsg(u, bad, 2, 0));
    /* The second of two entries runs into the inaccessible page. */
    struct mmsghdr *two = (struct mmsghdr *)(map + page - sizeof(struct mmsghdr) - 8);
    memset(two, 0, sizeof *two);
    two->msg_hdr = m;
    TRY("bad-sendmmsg-second", sendmmsg(u, two, 2, 0));
    mb = m, mb.msg_name = bad;
    struct mmsghdr mm[2] = {{.msg_hdr = m}, {.msg_hdr = mb}};
    TRY("bad-sendmmsg-second-name", sendmmsg(u, mm, 2, 0));
    printf("msg_len %u %u\n", mm[0].msg_len, mm[1].msg_len);
    TRY("bad-sendmmsg-vlen-0", sendmmsg(u, mm, 0, 0));
    TRY("bad-fd-connect", connect(-1, (struct sockaddr *)&ok.ss, ok.len));
    TRY("bad-fd-sendto-badaddr", sendto(-1, "bad", 3, 0, bad, 16));
    TRY("notsock-sendmsg", sendmsg(0, &m, 0));
#undef TRY
    return 0;
}

/* ------------------------------------------------------------------- race */

static struct sockaddr_in shared;
static atomic_int done;
static atomic_long sent, refused;

static void *flipper(void *arg) {
    (void)arg;
    struct in_addr allowed, denied;
    inet_pton(AF_INET, "127.0.0.3", &allowed);
    inet_pton(AF_INET, "127.0.0.1", &denied);
    unsigned short pa = htons(U3), pd = htons(U4);
    while (!atomic_load(&done)) {
        /* Plain stores: the sender threads read a torn or a whole value. */
        *(volatile in_addr_t *)&shared.sin_addr.s_addr = denied.s_addr;
        *(volatile unsigned short *)&shared.sin_port = pd;
        *(volatile in_addr_t *)&shared.sin_addr.s_addr = allowed.s_addr;
        *(volatile unsigned short *)&shared.sin_port = pa;
    }
    return NULL;
}

static void *sender(void *arg) {
    int how = (int)(long)arg;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    struct iovec iov = {.iov_base = "race", .iov_len = 4};
    struct msghdr m = {.msg_name = &shared, .msg_namelen = sizeof shared, .msg_iov = &iov,
                       .msg_iovlen = 1};
    struct mmsghdr mm[2] = {{.msg_hdr = m}, {.msg_hdr = m}};
    while (!atomic_load(&done)) {
        long r = how == 0 ? sendto(fd, "race", 4, 0, (struct sockaddr *)&shared, sizeof shared)
               : how == 1 ? sendmsg(fd, &m, 0)
                          : sendmmsg(fd, mm, 2, 0);
        if (r >= 0)
            atomic_fetch_add(&sent, 1);
        else if (errno == EPERM)
            atomic_fetch_add(&refused, 1);
    }
    close(fd);
    return NULL;
}

static int race(double secs) {
    shared.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.3", &shared.sin_addr);
    shared.sin_port = htons(U3);
    pthread_t t[4];
    pthread_create(&t[0], NULL, flipper, NULL);
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i + 1], NULL, sender, (void *)i);
    struct timespec ts = {.tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&done, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("race sent=%ld refused=%ld\n", atomic_load(&sent), atomic_load(&refused));
    return 0;
}

/* ------------------------------------------------------------------- swap */

/* One thread dup2()s a UDP and a TCP socket in turn onto one number while
 * another sends to the denied peer through that number: judged as the TCP
 * socket (whose send names no peer), sent on the UDP one, the datagram
 * would reach 127.0.0.1. */
static int swap_fd = 500, swap_udp, swap_tcp;

static void *swapper(void *arg) {
    (void)arg;
    while (!atomic_load(&done)) {
        dup2(swap_udp, swap_fd);
        dup2(swap_tcp, swap_fd);
    }
    return NULL;
}

static int swap(double secs) {
    swap_udp = socket(AF_INET, SOCK_DGRAM, 0);
    swap_tcp = socket(AF_INET, SOCK_STREAM, 0);
    if (swap_udp < 0 || swap_tcp < 0 || dup2(swap_tcp, swap_fd) != swap_fd)
        die("swap sockets");
    struct dest d = in4(AF_INET, "127.0.0.1", U4);
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)secs;
    long n = 0, refused_n = 0;
    do {
        for (int i = 0; i < 1000; i++) {
            long r = sendto(swap_fd, "race", 4, MSG_NOSIGNAL, (struct sockaddr *)&d.ss, d.len);
            if (r >= 0)
                n++;
            else if (errno == EPERM)
                refused_n++;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
    atomic_store(&done, 1);
    pthread_join(t, NULL);
    printf("swap sent=%ld refused=%ld\n", n, refused_n);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "receive"))
        return receive(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "send")) {
        read_ports(argv[2]);
        return send_all();
    }
    if (argc >= 3 && !strcmp(argv[1], "bad")) {
        read_ports(argv[2]);
        return bad_input();
    }
    if (argc >= 4 && !strcmp(argv[1], "race")) {
        read_ports(argv[2]);
        return race(atof(argv[3]));
    }
    if (argc >= 4 && !strcmp(argv[1], "swap")) {
        read_ports(argv[2]);
        return swap(atof(argv[3]));
    }
    fprintf(stderr, "usage: %s receive DIR | send DIR | bad DIR | race DIR SECONDS | swap DIR SECONDS\n", argv[0]);
    return 2;
}
