/* <sock.h> beside the system's socket headers: must compile warning-free
 * with -Wall -Wextra -Werror -pedantic as C and C++, with and without
 * _GNU_SOURCE (glibc then declares bind, connect, ... with transparent
 * unions, which a second declaration in <sock.h> would clash with). */
#include <sys/socket.h>
#include <sys/select.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sock.h>

int main(void)
{
    const char *v = libsock_version();
    int sv[2];

    /* The standard calls come from <sys/socket.h> and resolve to libsock. */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }
    if (send(sv[0], "x", 1, 0) != 1) {
        perror("send");
        return 1;
    }
    char c = 0;
    if (recv(sv[1], &c, 1, 0) != 1 || c != 'x') {
        perror("recv");
        return 1;
    }
    close(sv[0]);
    close(sv[1]);
    printf("libsock %s\n", v);
    return strlen(v) > 0 ? 0 : 1;
}
