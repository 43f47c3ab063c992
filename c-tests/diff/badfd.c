/*
 * badfd.c — every socket call on descriptors that are not sockets or not
 * open (-1, 99999, INT_MIN, closed, both ends of a pipe, /dev/null, a
 * regular file, a directory, an O_PATH descriptor, an eventfd, an epoll
 * instance), then the life of descriptor numbers: a socket closed behind
 * the library's back (raw syscall) and its number reused by another kind of
 * socket, dup2/dup3 over a socket, close_range, F_DUPFD, a child after fork,
 * and a socket inherited across exec.
 */
#include "check.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>


static void every_call(const char *name, int fd)
{
    struct sockaddr_in a4 = v4("127.0.0.1", htons(9));
    struct sockaddr_storage ss;
    socklen_t len;
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    struct mmsghdr mm = {.msg_hdr = m};
    struct timespec ts = {0, 0};
    int v = 1;

    SAY("-- %s", name);
    CKF(bind(fd, (struct sockaddr *)&a4, sizeof a4), "bind(%s)", name);
    CKF(listen(fd, 1), "listen(%s)", name);
    len = sizeof ss;
    CKF(accept(fd, (struct sockaddr *)&ss, &len), "accept(%s)", name);
    CKF(accept4(fd, NULL, NULL, SOCK_CLOEXEC), "accept4(%s)", name);
    CKF(connect(fd, (struct sockaddr *)&a4, sizeof a4), "connect(%s)", name);
    CKF(send(fd, "x", 1, MSG_NOSIGNAL), "send(%s)", name);
    CKF(sendto(fd, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&a4, sizeof a4), "sendto(%s)", name);
    CKF(sendmsg(fd, &m, MSG_NOSIGNAL), "sendmsg(%s)", name);
    CKF(sendmmsg(fd, &mm, 1, MSG_NOSIGNAL), "sendmmsg(%s)", name);
    CKF(recv(fd, buf, sizeof buf, MSG_DONTWAIT), "recv(%s)", name);
    len = sizeof ss;
    CKF(recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&ss, &len),
        "recvfrom(%s)", name);
    CKF(recvmsg(fd, &m, MSG_DONTWAIT), "recvmsg(%s)", name);
    CKF(recvmmsg(fd, &mm, 1, MSG_DONTWAIT, &ts), "recvmmsg(%s)", name);
    CKF(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), "setsockopt(%s)", name);
    len = sizeof v;
    CKF(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), "getsockopt(%s)", name);
    len = sizeof ss;
    CKF(getsockname(fd, (struct sockaddr *)&ss, &len), "getsockname(%s)", name);
    len = sizeof ss;
    CKF(getpeername(fd, (struct sockaddr *)&ss, &len), "getpeername(%s)", name);
    CKF(shutdown(fd, SHUT_RDWR), "shutdown(%s)", name);
    CKF(shutdown(fd, -1), "shutdown(%s, -1)", name);
    /* Bad pointers as well: does the descriptor or the pointer win? */
    CKF(bind(fd, NULL, sizeof a4), "bind(%s, NULL)", name);
    CKF(recv(fd, NULL, 8, MSG_DONTWAIT), "recv(%s, NULL)", name);
    CKF(getsockopt(fd, SOL_SOCKET, SO_TYPE, NULL, NULL), "getsockopt(%s, NULL, NULL)", name);
    CKF(sendmsg(fd, NULL, 0), "sendmsg(%s, NULL)", name);
    CKF(recvmmsg(fd, NULL, 1, 0, NULL), "recvmmsg(%s, NULL)", name);
}

static void so_type(int fd, const char *what)
{
    int v = -1;
    socklen_t len = sizeof v;
    CKF(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), "getsockopt(%s, SO_TYPE)", what);
    if (v != -1)
        SAY("  SO_TYPE=%d", v);
}

static void child_sends(void *arg)
{
    int fd = *(int *)arg;
    _exit(send(fd, "from child", 10, 0) == 10 ? 0 : 1);
}

static int exec_child(const char *fdarg)
{
    int fd = atoi(fdarg);
    char buf[16];
    SAY("exec'd image: fd %d is %s", fd, fd_flags(fd));
    so_type(fd, "inherited");
    CK(send(fd, "after exec", 10, 0));
    CK(recv(fd, buf, sizeof buf, 0));
    return 0;
}

int main(int argc, char **argv)
{
    int fd, s, u, p[2];

    if (argc == 3 && strcmp(argv[1], "exec-child") == 0) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        return exec_child(argv[2]);
    }
    ck_init();

    /* Descriptors that are not sockets, or not open. */
    every_call("-1", -1);
    every_call("99999", 99999);
    every_call("INT_MIN", INT_MIN);
    fd = open("/dev/null", O_RDONLY);
    close(fd);
    every_call("closed", fd);
    if (pipe(p) == 0) {
        every_call("pipe read end", p[0]);
        every_call("pipe write end", p[1]);
        close(p[0]);
        close(p[1]);
    }
    fd = open("/dev/null", O_RDWR);
    every_call("/dev/null", fd);
    close(fd);
    fd = open("regular", O_CREAT | O_RDWR | O_TRUNC, 0600);
    every_call("regular file", fd);
    close(fd);
    unlink("regular");
    fd = open(".", O_RDONLY | O_DIRECTORY);
    every_call("directory", fd);
    close(fd);
    fd = open("/dev/null", O_PATH);
    every_call("O_PATH", fd);
    close(fd);
    fd = eventfd(0, 0);
    every_call("eventfd", fd);
    close(fd);
    fd = epoll_create1(0);
    every_call("epoll", fd);
    close(fd);
    /* An O_PATH descriptor of a real socket file. */
    {
        struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "opath.sock"};
        s = socket(AF_UNIX, SOCK_STREAM, 0);
        unlink("opath.sock");
        CK(bind(s, (struct sockaddr *)&un, sizeof un));
        fd = open("opath.sock", O_PATH);
        every_call("O_PATH of a socket file", fd);
        close(fd);
        close(s);
        unlink("opath.sock");
    }

    SAY("== reused numbers");
    /* Closed behind the library's back, reused by a UDP socket. */
    s = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
    CK(listen(s, 1));
    CK(syscall(SYS_close, s));
    u = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT(u == s);
    so_type(u, "reused as UDP");
    CK(listen(u, 1));
    CK(accept(u, NULL, NULL));
    {
        struct sockaddr_storage ra;
        socklen_t rl;
        int r = udp_bound(AF_INET, &ra, &rl);
        char buf[8];
        CK(sendto(u, "udp", 3, 0, (struct sockaddr *)&ra, rl));
        CK(recv(r, buf, sizeof buf, 0));
        close(r);
    }
    CK(close(u));
    CK(close(u));

    /* dup2 of a pipe over a socket: the number is a pipe now. */
    s = (int)CK(socket(AF_INET, SOCK_DGRAM, 0));
    if (pipe(p) == 0) {
        CK(dup2(p[0], s));
        so_type(s, "pipe dup2'd over socket");
        CK(send(s, "x", 1, MSG_NOSIGNAL));
        CK(close(s));
        CK(dup3(p[1], s, O_CLOEXEC));
        so_type(s, "pipe dup3'd");
        SAY("  %s", fd_flags(s));
        CK(close(s));
        close(p[0]);
        close(p[1]);
    }
    /* dup2/dup3 of a socket: the copy works after the original closes. */
    {
        int sv[2], d;
        char buf[8];
        CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        d = (int)CK(dup3(sv[0], 40, O_CLOEXEC));
        SAY("  %s", fd_flags(d));
        CK(close(sv[0]));
        so_type(d, "dup3 copy");
        CK(send(d, "dup", 3, 0));
        CK(recv(sv[1], buf, sizeof buf, 0));
        CK(dup2(d, d));                              /* same number: no-op */
        CK(dup3(d, d, 0));                           /* same number: EINVAL */
        CK(dup2(d, -1));
        CK(dup2(99999, 41));
        d = (int)CK(dup2(sv[1], 41));
        CK(dup2(sv[1], 40));                          /* replaces the old copy */
        CK(send(40, "x", 1, 0));
        CK(recv(40, buf, sizeof buf, MSG_DONTWAIT));
        CK(close(40));
        CK(close(41));
        CK(close(sv[1]));
        d = (int)CK(fcntl(0, F_DUPFD, 0));           /* lowest free number */
        close(d);
    }
    /* close_range over sockets, then new sockets take the numbers. */
    {
        int a = (int)CK(socket(AF_INET, SOCK_STREAM, 0));
        int b = (int)CK(socket(AF_INET6, SOCK_DGRAM, 0));
        int c = (int)CK(socket(AF_UNIX, SOCK_DGRAM, 0));
        CK(close_range((unsigned)a, (unsigned)c, 0));
        EXPECT(!fd_open(a) && !fd_open(b) && !fd_open(c));
        CK(close(b));
        a = (int)CK(socket(AF_UNIX, SOCK_STREAM, 0));
        so_type(a, "after close_range");
        CK(close_range((unsigned)a, (unsigned)a, CLOSE_RANGE_CLOEXEC));
        SAY("  %s", fd_flags(a));
        CK(close_range(10, 5, 0));
        CK(close_range(0, 0, 0x1234));
        CK(close(a));
    }

    SAY("== fork and exec");
    {
        int sv[2];
        char buf[16];
        CK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        SAY("child: %s", in_child(child_sends, &sv[0]));
        CK(recv(sv[1], buf, sizeof buf, 0));
        /* exec: the socket survives without CLOEXEC; the new image talks on it. */
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            char arg[16];
            snprintf(arg, sizeof arg, "%d", sv[0]);
            execl("/proc/self/exe", argv[0], "exec-child", arg, (char *)NULL);
            _exit(127);
        }
        {
            /* Quiet until the child has exited, so its lines come first. */
            int status;
            long got = recv(sv[1], buf, sizeof buf, 0);
            int got_errno = errno;
            long sent = send(sv[1], "ack", 3, 0);
            waitpid(pid, &status, 0);
            SAY("exec'd child: exit %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            SAY("parent: recv = %ld (%s), send = %ld", got, errname(got < 0 ? got_errno : 0),
                sent);
        }
        CK(close(sv[0]));
        CK(close(sv[1]));
    }
    return 0;
}
