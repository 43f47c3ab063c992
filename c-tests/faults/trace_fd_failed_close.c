/* Regression test "trace-fd-failed-close": a close that closes nothing —
 * close(-1), close of a number that is not open, close_range with first >
 * last, a failing dup2/dup3 — must not make libsock give up its trace
 * descriptor. It did: close(-1) made it forget the descriptor (the range
 * check took -1 as "every descriptor") without closing it, so every such
 * call leaked one descriptor and reopened the trace file (100 calls: 100
 * descriptors), and once descriptors ran out tracing stopped.
 *
 * With LIBSOCK_TRACE=FILE: one socket call, a descriptor count, 100 rounds
 * of calls that fail, a second count. Prints the counts' difference and the
 * number of calls made; the runner compares the output with the native run
 * and the trace file's lines with the number of calls. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int descriptors(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    int sv[2], calls = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) /* the trace file opens */
        return 2;
    close(sv[0]);
    close(sv[1]);
    calls += 3;
    int before = descriptors();
    for (int i = 0; i < 100; i++) {
        close(-1);
        close(INT_MIN);
        close(99999);
        dup2(-1, 50);
        dup3(0, 0, 0);
        close_range(10, 5, 0);
        calls += 6;
    }
    int after = descriptors();
    printf("descriptors added by 600 failed closes: %d\n", after - before);
    printf("calls %d\n", calls);
    return after == before ? 0 : 1;
}
