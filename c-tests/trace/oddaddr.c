/*
 * oddaddr.c — addresses that are legal but awkward to print:
 *   1. a unix socket path with a newline in it;
 *   2. an abstract name bound with the full sizeof(struct sockaddr_un), so
 *      the name runs on with NUL bytes (they are part of it);
 *   3. getsockname with room for only 4 bytes: the kernel writes 4 bytes of
 *      the 16-byte address and sets the length to 16; the rest of the
 *      caller's buffer (filled with 0xAB here) is not an address.
 *
 *     oddaddr DIR
 *
 * Prints the number of calls it made. c-tests/trace/run.sh checks that the trace
 * has one intact line per call, with no raw control bytes, that JSON gives
 * the path exactly, and that no address is made of bytes the kernel did not
 * write (171.171.171.171).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: oddaddr DIR\n");
        return 2;
    }
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/odd\nname.sock", argv[1]);
    unlink(un.sun_path);
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bind(u, (struct sockaddr *)&un, sizeof un) != 0) {
        perror("bind path");
        return 1;
    }
    unlink(un.sun_path);

    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    snprintf(ab.sun_path + 1, sizeof ab.sun_path - 1, "libsock-odd-%d", (int)getpid());
    int a = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bind(a, (struct sockaddr *)&ab, sizeof ab) != 0) {
        perror("bind abstract");
        return 1;
    }

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(s, (struct sockaddr *)&in, sizeof in) != 0) {
        perror("bind inet");
        return 1;
    }
    struct sockaddr_in out;
    memset(&out, 0xAB, sizeof out);
    socklen_t len = 4;
    if (getsockname(s, (struct sockaddr *)&out, &len) != 0 || len != sizeof out) {
        perror("getsockname");
        return 1;
    }
    close(u);
    close(a);
    close(s);
    printf("%d\n", 10);
    return 0;
}
