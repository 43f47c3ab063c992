/* A C program built against the unpacked dist tarball with pkg-config
 * (tests/dist.sh here, tests/distro.sh on Debian 11): the SocketSet past
 * descriptor 1023, and close_range, which libsock exports and glibc has only
 * since 2.34 (before that it is referenced weakly and libsock serves it with
 * the system call). Prints one line; exit status 0 when all is right. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sock.h>

extern int close_range(unsigned int first, unsigned int last, int flags) __attribute__((weak));

int main(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); return 1; }
    int high = dup2(sv[0], 2000);
    if (high != 2000) { perror("dup2"); return 1; }
    if (write(sv[1], "x", 1) != 1) { perror("write"); return 1; }
    SocketSet *rd = sockset_new();
    if (!rd || sockset_add(rd, high) != 0) { perror("sockset_add"); return 1; }
    struct timeval tv = { 5, 0 };
    int n = sockset_select(rd, NULL, NULL, &tv);
    int ready = sockset_is_set(rd, high);
    sockset_free(rd);
    if (!close_range) { fprintf(stderr, "close_range: not bound (libsock exports it)\n"); return 1; }
    if (dup2(sv[1], 2001) != 2001) { perror("dup2"); return 1; }
    if (close_range(2000, 2001, 0) != 0) { perror("close_range"); return 1; }
    if (fcntl(2000, F_GETFD) != -1 || errno != EBADF || fcntl(2001, F_GETFD) != -1) {
        fprintf(stderr, "close_range left 2000 or 2001 open\n");
        return 1;
    }
    printf("libsock %s: %d ready, %d %s, close_range closed 2000-2001\n", libsock_version(), n, high,
           ready ? "readable" : "not readable");
    return n == 1 && ready ? 0 : 1;
}
