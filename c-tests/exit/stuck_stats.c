/* stuck_stats [fill] — makes a socket call and exits with status 7; with
 * "fill" it first fills its own stderr, which must be a pipe nobody reads,
 * to the brim. Under LIBSOCK_STATS=1 the table then cannot be written:
 * libsock must give up after its stated limit and let the exit go on, with
 * this program's status, instead of hanging. (Without "fill", the stats file
 * is what cannot be written: a FIFO nobody opens.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int sv[2];
    struct stat st;
    static char block[4096];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return 2;
    if (argc < 2 || strcmp(argv[1], "fill") != 0) exit(7);
    /* Only a pipe fills up; anything else would grow without end. */
    if (fstat(2, &st) != 0 || !S_ISFIFO(st.st_mode)) return 6;
    int flags = fcntl(2, F_GETFL);
    if (flags < 0 || fcntl(2, F_SETFL, flags | O_NONBLOCK) != 0) return 3;
    for (;;) {
        ssize_t n = write(2, block, sizeof block);
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) return 4;
    }
    /* One byte more never fits either: the pipe is full. */
    if (fcntl(2, F_SETFL, flags) != 0) return 5;
    exit(7);
}
