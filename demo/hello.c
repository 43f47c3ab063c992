/* A plain sockets program: a TCP echo over loopback. It says where its
 * socket() comes from, so the same source shows glibc when built natively
 * and libsock when linked with -lsock or run under LD_PRELOAD. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *origin(void *fn)
{
    Dl_info info;
    if (dladdr(fn, &info) == 0 || info.dli_fname == NULL)
        return "?";
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

int main(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    const char msg[] = "hello, libsock";
    char buf[sizeof msg] = { 0 };

    int srv = socket(AF_INET, SOCK_STREAM, 0);
    if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 1) < 0 ||
        getsockname(srv, (struct sockaddr *)&addr, &len) < 0) {
        perror("server");
        return 1;
    }
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    if (cli < 0 || connect(cli, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    int conn = accept(srv, NULL, NULL);
    if (conn < 0 || send(cli, msg, sizeof msg, 0) != (ssize_t)sizeof msg ||
        recv(conn, buf, sizeof buf, MSG_WAITALL) != (ssize_t)sizeof msg) {
        perror("echo");
        return 1;
    }
    printf("socket() from %-14s echo over 127.0.0.1:%u: \"%s\"\n", origin((void *)&socket),
           ntohs(addr.sin_port), buf);
    close(conn);
    close(cli);
    close(srv);
    return strcmp(buf, msg) != 0;
}
