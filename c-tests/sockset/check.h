/* Tiny test harness for the SocketSet C tests: CHECK(cond, fmt, ...) counts
 * and reports; main returns DONE() which prints "N passed, M failed". */
#ifndef SOCKSET_CHECK_H
#define SOCKSET_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../glibc-compat.h"

static int checks_passed, checks_failed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            checks_passed++;                                                    \
        } else {                                                                \
            checks_failed++;                                                    \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, " (errno %s)\n", strerrorname_np(errno) ? strerrorname_np(errno) : "0"); \
        }                                                                       \
    } while (0)

#define DONE(name)                                                              \
    (printf("%s: %d passed, %d failed\n", name, checks_passed, checks_failed),  \
     checks_failed ? 1 : 0)

#endif
