/*
 * kernel.c — targets for `make kernel-test` (tests/kernel.sh): built static
 * and dynamic, run under `sockrun --kernel`. Each subcommand prints one line
 * per check ("NAME ret=R errno=E" or a result) on stdout.
 *
 *   raw-connect PORT    socket() then syscall(SYS_connect) to 127.0.0.1:PORT
 *                       (a raw system call libsock cannot see)
 *   uring               io_uring_setup's result
 *   source-route        IP_OPTIONS with a loose source route, an IPv6
 *                       routing header, IP_TOS (the control) and an SCTP
 *                       socket: one line each
 *   escape              tries to take its parent's seccomp listener
 *                       (pidfd_getfd through /proc/PPID/fd, then blindly):
 *                       "escape took-the-listener" or "... listener-unreachable"
 *   raw-sockets         socket(AF_INET, SOCK_RAW) and socket(AF_PACKET)
 *   flags PORT          socket(SOCK_NONBLOCK|SOCK_CLOEXEC): its flags, a
 *                       non-blocking connect to 127.0.0.1:PORT (EINPROGRESS
 *                       or 0), and whether SO_DETACH_FILTER is refused
 *   sink DIR            (native) a TCP listener on 127.0.0.1; its port in
 *                       DIR/port; accepts one connection, prints "sink N
 *                       HASH" (bytes read, FNV-1a) and exits
 *   source PORT N       connects to 127.0.0.1:PORT and sends N bytes of a
 *                       pattern with sendmsg (three iovecs per call) and
 *                       sendto (with the peer's address, ignored on TCP);
 *                       prints "source N HASH"
 *   scm                 passes a pipe's write end over a Unix socketpair
 *                       (SCM_RIGHTS, sendmsg) and writes through the
 *                       received copy: "scm ok" if the bytes come back
 *   unix-relative DIR   chdir(DIR), binds a Unix datagram socket at the
 *                       relative path "s", connects another to "s" and
 *                       sends: "unix-relative ok" if it arrives
 *   inherited FD        waits up to 2 s for a datagram on the inherited
 *                       socket FD: "inherited got N" or "inherited nothing"
 *   int80               getpid through the i386 ABI (int $0x80): killed by
 *                       SIGSYS under --kernel, "int80 ret=PID" natively
 *   x32                 getpid through the x32 ABI: ENOSYS
 *   dropped PORT DENIED OPEN
 *                       drops to uid/gid 65534 (as root), then connects a
 *                       Unix socket to DENIED (in a directory only root may
 *                       enter) and to OPEN, and an INET one to 127.0.0.1:PORT;
 *                       one line each
 *   bench N PORT        N sendto with an address (supervised) to a UDP sink
 *                       at 127.0.0.1:PORT, N connect of another UDP socket
 *                       to it (each supervised; a UDP connect sends
 *                       nothing), then N send on the connected socket (not
 *                       supervised): "sendto-addr NS", "connect-udp NS" and
 *                       "send-connected NS", nanoseconds per call
 *   stall PORT          one thread blocks in sendmsg on a full Unix
 *                       socket; meanwhile the main thread connects to
 *                       127.0.0.1:PORT and sends with sendmsg: "stall ok" if
 *                       that took under 2 s (then exits, the other thread
 *                       still blocked)
 *   full-listener DIR SECS
 *                       a TCP listener on 127.0.0.1 with listen(fd, 0)
 *                       whose one queue slot is taken by a connection of
 *                       its own, so further SYNs are dropped (a connect to
 *                       it blocks); writes its port to DIR/port, accepts
 *                       that connection after SECS seconds (the next SYN
 *                       retransmission then gets in), then waits to be
 *                       killed
 *   intr-connect MODE PORT
 *   intr-send MODE      a blocking call interrupted by SIGALRM (alarm(1),
 *                       a handler counting): a TCP connect to PORT (a
 *                       full-listener), or a sendmsg on a Unix datagram
 *                       socketpair whose queue is full (a forked child
 *                       drains it after 2 s and counts the filler datagrams
 *                       and the "M" the call sends). MODE: eintr (no
 *                       SA_RESTART), restart (SA_RESTART), timeo-restart
 *                       (SO_SNDTIMEO 5 s and SA_RESTART), timeo (SO_SNDTIMEO
 *                       1 s, no alarm). One line: the call's result, errno,
 *                       the handler's count, whole seconds taken (and for
 *                       intr-send what arrived)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <grp.h>
#include <pthread.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, long ret) {
    printf("%s ret=%ld errno=%s\n", name, ret, ret < 0 ? strerrorname_np(errno) : "0");
    fflush(stdout);
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int full_fd;

static void *block_in_sendmsg(void *arg) {
    (void)arg;
    char byte = 'b';
    struct iovec iov = {&byte, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    sendmsg(full_fd, &m, 0); /* blocks: the peer's queue is full */
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

/* Sets up MODE (see intr-connect) on `fd`: 0, or -1 for an unknown mode. */
static int intr_mode(const char *mode, int fd) {
    int restart = !strcmp(mode, "restart") || !strcmp(mode, "timeo-restart");
    int timeo = !strcmp(mode, "timeo-restart") ? 5 : !strcmp(mode, "timeo") ? 1 : 0;
    if (!restart && !timeo && strcmp(mode, "eintr"))
        return -1;
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    if (timeo) {
        struct timeval tv = {.tv_sec = timeo};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (strcmp(mode, "timeo"))
        alarm(1);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "raw-connect") && argc == 3) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(atoi(argv[2]));
        report("raw-connect", syscall(SYS_connect, fd, &a, sizeof a));
    } else if (!strcmp(cmd, "source-route")) {
        /* Loose source routes through 127.0.0.2, as socket options. */
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        unsigned char lsrr[8] = {1, 0x83, 7, 4, 127, 0, 0, 2};
        report("ip-options-lsrr", setsockopt(u, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof lsrr));
        int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
        unsigned char srh[24] = {0, 2, 4, 0, 0, 0, 0, 0}; /* type 4, one segment */
        report("ipv6-rthdr", setsockopt(u6, IPPROTO_IPV6, IPV6_RTHDR, srh, sizeof srh));
        int tos = 0x10;
        report("ip-tos", setsockopt(u, IPPROTO_IP, IP_TOS, &tos, sizeof tos));
        report("sctp", socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP));
    } else if (!strcmp(cmd, "escape")) {
        /* A program taking over its supervisor: the parent's seccomp
         * listener through /proc and pidfd_getfd (it runs as the same
         * user). "escape listener-unreachable" is the held outcome. */
        pid_t pp = getppid();
        int pfd = (int)syscall(SYS_pidfd_open, pp, 0), got = -1;
        for (int n = 3; n < 256 && got < 0; n++) {
            char path[64], link[128];
            snprintf(path, sizeof path, "/proc/%d/fd/%d", pp, n);
            ssize_t k = readlink(path, link, sizeof link - 1);
            if (k <= 0)
                continue;
            link[k] = 0;
            if (strstr(link, "seccomp"))
                got = (int)syscall(SYS_pidfd_getfd, pfd, n, 0);
        }
        /* Through /proc/PID/fd or by number, blindly. */
        for (int n = 3; n < 256 && got < 0; n++) {
            int fd = (int)syscall(SYS_pidfd_getfd, pfd, n, 0);
            char path[64], link[128];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t k = fd < 0 ? -1 : readlink(path, link, sizeof link - 1);
            if (k > 0 && (link[k] = 0, strstr(link, "seccomp")))
                got = fd;
            else if (fd >= 0)
                close(fd);
        }
        printf("escape %s\n", got >= 0 ? "took-the-listener" : "listener-unreachable");
    } else if (!strcmp(cmd, "uring")) {
        char params[120] = {0};
        report("io_uring_setup", syscall(425, 8, params));
    } else if (!strcmp(cmd, "raw-sockets")) {
        report("socket-inet-raw", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
        report("socket-packet", socket(AF_PACKET, SOCK_RAW, 0));
    } else if (!strcmp(cmd, "flags") && argc == 3) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        printf("flags nonblock=%d cloexec=%d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK),
               !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
        int plain = socket(AF_INET, SOCK_STREAM, 0);
        printf("plain nonblock=%d cloexec=%d\n", !!(fcntl(plain, F_GETFL) & O_NONBLOCK),
               !!(fcntl(plain, F_GETFD) & FD_CLOEXEC));
        struct sockaddr_in a = loopback(atoi(argv[2]));
        int r = connect(fd, (struct sockaddr *)&a, sizeof a);
        printf("nonblocking-connect %s\n", r == 0 ? "0" : strerrorname_np(errno));
        int zero = 0;
        report("detach-filter", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof zero));
    } else if (!strcmp(cmd, "sink") && argc == 3) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(0);
        socklen_t len = sizeof a;
        if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
            getsockname(l, (struct sockaddr *)&a, &len))
            return 2;
        char path[512];
        snprintf(path, sizeof path, "%s/port.tmp", argv[2]);
        FILE *f = fopen(path, "w");
        fprintf(f, "%d\n", ntohs(a.sin_port));
        fclose(f);
        char final[512];
        snprintf(final, sizeof final, "%s/port", argv[2]);
        rename(path, final);
        int c = accept(l, NULL, NULL);
        unsigned char buf[65536];
        uint64_t h = 0xcbf29ce484222325ULL;
        long total = 0;
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0) {
            h = fnv(h, buf, n);
            total += n;
        }
        printf("sink %ld %016llx\n", total, (unsigned long long)h);
    } else if (!strcmp(cmd, "source") && argc == 4) {
        long want = atol(argv[3]);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(atoi(argv[2]));
        if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
            report("source-connect", -1);
            return 1;
        }
        unsigned char buf[3][7001];
        uint64_t h = 0xcbf29ce484222325ULL;
        long sent = 0, i = 0;
        while (sent < want) {
            /* Fill fresh bytes, then send them whole (partial sends resumed). */
            size_t chunk = 3 * sizeof buf[0];
            if ((long)chunk > want - sent)
                chunk = want - sent;
            unsigned char flat[3 * 7001];
            for (size_t k = 0; k < chunk; k++)
                flat[k] = (unsigned char)((sent + k) * 31 + (sent + k) / 977);
            memcpy(buf, flat, chunk);
            size_t done = 0;
            while (done < chunk) {
                ssize_t n;
                if (i++ % 2) {
                    struct iovec iov[3];
                    size_t left = chunk - done, parts = 0;
                    for (int k = 0; k < 3 && left; k++) {
                        size_t take = left < 5000 ? left : 5000;
                        iov[k].iov_base = flat + done + (chunk - left - done);
                        iov[k].iov_len = take;
                        left -= take;
                        parts++;
                    }
                    struct msghdr m = {.msg_iov = iov, .msg_iovlen = parts};
                    n = sendmsg(fd, &m, 0);
                } else {
                    n = sendto(fd, flat + done, chunk - done, 0, (struct sockaddr *)&a, sizeof a);
                }
                if (n < 0) {
                    report("source-send", -1);
                    return 1;
                }
                done += n;
            }
            h = fnv(h, flat, chunk);
            sent += chunk;
        }
        close(fd);
        printf("source %ld %016llx\n", sent, (unsigned long long)h);
    } else if (!strcmp(cmd, "scm")) {
        int sv[2], p[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(p))
            return 2;
        char cbuf[CMSG_SPACE(sizeof(int))] = {0};
        char one = 'x';
        struct iovec iov = {&one, 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &p[1], sizeof(int));
        if (sendmsg(sv[0], &m, 0) != 1) {
            report("scm-sendmsg", -1);
            return 1;
        }
        memset(cbuf, 0, sizeof cbuf);
        if (recvmsg(sv[1], &m, 0) != 1 || !(c = CMSG_FIRSTHDR(&m)) || c->cmsg_type != SCM_RIGHTS) {
            report("scm-recvmsg", -1);
            return 1;
        }
        int got;
        memcpy(&got, CMSG_DATA(c), sizeof got);
        char back[8] = {0};
        if (write(got, "hello", 5) == 5 && read(p[0], back, 5) == 5 && !strcmp(back, "hello"))
            printf("scm ok\n");
        else
            printf("scm wrong\n");
    } else if (!strcmp(cmd, "unix-relative") && argc == 3) {
        if (chdir(argv[2]))
            return 2;
        unlink("s");
        int r = socket(AF_UNIX, SOCK_DGRAM, 0), s = socket(AF_UNIX, SOCK_DGRAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "s"};
        if (bind(r, (struct sockaddr *)&a, sizeof a))
            return 2;
        if (connect(s, (struct sockaddr *)&a, sizeof a)) {
            report("unix-relative-connect", -1);
            return 1;
        }
        char buf[8] = {0};
        if (send(s, "ok", 2, 0) == 2 && recv(r, buf, sizeof buf, 0) == 2 && !strcmp(buf, "ok"))
            printf("unix-relative ok\n");
        else
            printf("unix-relative wrong\n");
    } else if (!strcmp(cmd, "inherited") && argc == 3) {
        int fd = atoi(argv[2]);
        struct timeval tv = {.tv_sec = 2};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[64];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n >= 0)
            printf("inherited got %zd\n", n);
        else
            printf("inherited nothing\n");
    } else if (!strcmp(cmd, "int80")) {
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
        printf("int80 ret=%ld\n", ret > 0 ? 1L : ret);
    } else if (!strcmp(cmd, "x32")) {
        report("x32-getpid", syscall(0x40000000L | SYS_getpid));
    } else if (!strcmp(cmd, "dropped") && argc == 5) {
        if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
            return 2;
        const char *paths[2] = {argv[3], argv[4]};
        const char *names[2] = {"dropped-unix-denied", "dropped-unix-open"};
        for (int i = 0; i < 2; i++) {
            int u = socket(AF_UNIX, SOCK_STREAM, 0);
            struct sockaddr_un a = {.sun_family = AF_UNIX};
            snprintf(a.sun_path, sizeof a.sun_path, "%s", paths[i]);
            report(names[i], connect(u, (struct sockaddr *)&a, sizeof a));
            if (i == 1) {
                char buf[64] = {0};
                ssize_t n = read(u, buf, sizeof buf - 1);
                printf("peer %s\n", n > 0 ? buf : "?");
            }
        }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(atoi(argv[2]));
        report("dropped-inet", connect(fd, (struct sockaddr *)&a, sizeof a));
    } else if (!strcmp(cmd, "bench") && argc == 4) {
        long n = atol(argv[2]);
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = loopback(atoi(argv[3]));
        double t0 = now();
        for (long i = 0; i < n; i++)
            if (sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof a) != 1)
                return 1;
        double t1 = now();
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        double c0 = now();
        for (long i = 0; i < n; i++)
            if (connect(u, (struct sockaddr *)&a, sizeof a))
                return 1;
        double c1 = now();
        close(u);
        if (connect(fd, (struct sockaddr *)&a, sizeof a))
            return 1;
        double t2 = now();
        for (long i = 0; i < n; i++)
            if (send(fd, "x", 1, 0) != 1)
                return 1;
        double t3 = now();
        printf("sendto-addr %.0f\nconnect-udp %.0f\nsend-connected %.0f\n", (t1 - t0) * 1e9 / n,
               (c1 - c0) * 1e9 / n, (t3 - t2) * 1e9 / n);
    } else if (!strcmp(cmd, "stall") && argc == 3) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
            return 2;
        char chunk[1024] = {0};
        while (send(sv[0], chunk, sizeof chunk, MSG_DONTWAIT) > 0)
            ;
        full_fd = sv[0];
        pthread_t t;
        pthread_create(&t, NULL, block_in_sendmsg, NULL);
        usleep(200000);
        double t0 = now();
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(atoi(argv[2]));
        int r = connect(fd, (struct sockaddr *)&a, sizeof a);
        struct iovec iov = {"x", 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = r == 0 ? sendmsg(fd, &m, 0) : -1;
        double took = now() - t0;
        printf("stall %s\n", r == 0 && n == 1 && took < 2 ? "ok" : "stalled");
        fflush(stdout);
        _exit(0);
    } else if (!strcmp(cmd, "full-listener") && argc == 4) {
        int l = socket(AF_INET, SOCK_STREAM, 0), filler = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(0);
        socklen_t len = sizeof a;
        if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 0) ||
            getsockname(l, (struct sockaddr *)&a, &len) || connect(filler, (struct sockaddr *)&a, sizeof a))
            return 2;
        char path[512], final[512];
        snprintf(path, sizeof path, "%s/port.tmp", argv[2]);
        snprintf(final, sizeof final, "%s/port", argv[2]);
        FILE *f = fopen(path, "w");
        fprintf(f, "%d\n", ntohs(a.sin_port));
        fclose(f);
        rename(path, final);
        sleep(atoi(argv[3]));
        int c = accept(l, NULL, NULL);
        (void)c;
        for (;;)
            pause();
    } else if (!strcmp(cmd, "intr-connect") && argc == 4) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(atoi(argv[3]));
        if (intr_mode(argv[2], fd))
            return 2;
        double t0 = now();
        int r = connect(fd, (struct sockaddr *)&a, sizeof a);
        int e = errno;
        printf("intr-connect %s ret=%d errno=%s handler=%d took=%.0fs\n", argv[2], r, r ? strerrorname_np(e) : "0",
               (int)alarms, now() - t0);
    } else if (!strcmp(cmd, "intr-send") && argc == 3) {
        int sv[2], p[2];
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || pipe(p))
            return 2;
        int filled = 0;
        while (send(sv[0], "f", 1, MSG_DONTWAIT) == 1)
            filled++;
        pid_t child = fork();
        if (child == 0) {
            /* The drain: after 2 s, every datagram until 0.5 s of quiet. */
            sleep(2);
            struct timeval tv = {.tv_usec = 500000};
            setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            int fillers = 0, markers = 0;
            char b[8];
            ssize_t n;
            while ((n = recv(sv[1], b, sizeof b, 0)) > 0) {
                if (b[0] == 'f')
                    fillers++;
                else if (b[0] == 'M')
                    markers++;
            }
            dprintf(p[1], "%d %d", fillers, markers);
            _exit(0);
        }
        if (intr_mode(argv[2], sv[0]))
            return 2;
        struct iovec iov = {"M", 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        double t0 = now();
        ssize_t r = sendmsg(sv[0], &m, 0);
        int e = errno;
        double took = now() - t0;
        close(p[1]);
        int fillers = -1, markers = -1;
        char counts[64] = {0};
        if (read(p[0], counts, sizeof counts - 1) > 0)
            sscanf(counts, "%d %d", &fillers, &markers);
        waitpid(child, NULL, 0);
        printf("intr-send %s ret=%zd errno=%s handler=%d took=%.0fs filled=%d drained=%d markers=%d\n", argv[2], r,
               r < 0 ? strerrorname_np(e) : "0", (int)alarms, took, filled, fillers, markers);
    } else {
        return 2;
    }
    return 0;
}
