/* Regression test "trace-fd-taken-over": the program puts a socket on the
 * descriptor number libsock's trace file has (dup2/dup3 onto it, the way a
 * supervisor passes a listening socket as descriptor 3). libsock went on
 * writing trace lines to that number — into the program's socket: the peer
 * received "[pid] dup2(4, 3) = 3 ..." before the program's own bytes.
 *
 * The program makes one socket call (libsock opens its trace file), then
 * moves sockets with dup2 and dup3 onto each of the numbers 3..9 and onto
 * the number the trace file has (found in /proc/self/fd from LIBSOCK_TRACE;
 * 900 where there is none, natively), sends a message through each and
 * checks that the peer receives exactly that message.
 *
 *   trace_fd_taken_over [low]
 *     low: RLIMIT_NOFILE 64 first, so libsock cannot move its descriptor
 *          out of the way (to a high number) and it stays low.
 *
 * Output is identical natively, preloaded and linked; exit status 1 if a
 * peer received anything else. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* The descriptor open on LIBSOCK_TRACE's file, or -1. */
static int trace_fd(void)
{
    const char *path = getenv("LIBSOCK_TRACE");
    char want[PATH_MAX], link[64], got[PATH_MAX];
    if (!path || !realpath(path, want))
        return -1;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;
    while (d && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == dirfd(d))
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, got, sizeof got - 1);
        if (n > 0) {
            got[n] = 0;
            if (strcmp(got, want) == 0)
                found = fd;
        }
    }
    if (d)
        closedir(d);
    return found;
}

int main(int argc, char **argv)
{
    int bad = 0, low = argc > 1 && strcmp(argv[1], "low") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0); /* every line out, even if a signal ends the run */
    if (low) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int sv0[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv0); /* the first socket call: the trace file opens */
    close(sv0[0]);
    close(sv0[1]);
    int found = trace_fd();
    int last = found >= 0 ? found : low ? 60 : 900;
    /* 3..9, except the trace file's number (a low one, with "low"): it
     * comes last, under a name of its own, so the output does not depend
     * on where libsock's descriptor is. */
    int targets[8], shown[8], n = 0;
    for (int t = 3; t <= 9; t++) {
        shown[n] = t;
        targets[n++] = t == last ? 10 : t; /* same line, another number */
    }
    shown[n] = -1;
    targets[n++] = last;
    for (int k = 0; k < n; k++) {
        int target = targets[k];
        const char *label = k == n - 1 ? "the trace file's number" : NULL;
        for (int use_dup3 = 0; use_dup3 <= 1; use_dup3++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
                perror("socketpair");
                return 2;
            }
            /* Keep the peer out of the way of the target number. */
            int peer = fcntl(sv[1], F_DUPFD_CLOEXEC, low ? 40 : 100);
            if (peer < 0) {
                perror("F_DUPFD");
                return 2;
            }
            close(sv[1]);
            int fd = sv[0];
            if (fd != target) {
                int r = use_dup3 ? dup3(fd, target, O_CLOEXEC) : dup2(fd, target);
                if (r != target) {
                    printf("dup%s to %d: %s\n", use_dup3 ? "3" : "2", target, strerror(errno));
                    return 2;
                }
                close(fd);
            }
            char msg[32], got[4096];
            int len = snprintf(msg, sizeof msg, "message via %d", target);
            if (send(target, msg, len, 0) != len) {
                printf("send on %d: %s\n", target, strerror(errno));
                return 2;
            }
            shutdown(target, SHUT_WR);
            ssize_t n = 0, k;
            while (n < (ssize_t)sizeof got - 1 && (k = recv(peer, got + n, sizeof got - 1 - n, 0)) > 0)
                n += k;
            got[n] = 0;
            int ok = n == len && memcmp(got, msg, len) == 0;
            if (!ok) {
                bad = 1;
                for (char *p = got; *p; p++)
                    if (*p == '\n')
                        *p = '|';
            }
            char where[32];
            snprintf(where, sizeof where, "%d", shown[k]);
            printf("%s onto %s: %s%s%s\n", use_dup3 ? "dup3" : "dup2", label ? label : where,
                   ok ? "the peer received exactly the program's bytes" : "the peer received: ",
                   ok ? "" : got, ok ? "" : " (libsock's trace lines in the program's socket)");
            close(target);
            close(peer);
        }
    }
    return bad;
}
