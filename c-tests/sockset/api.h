/* The SocketSet API either linked (-lsock: libsock sees close, so the wait
 * is epoll-backed) or, with -DVIA_DLOPEN, looked up in a libsock.so opened
 * with RTLD_LOCAL the way ctypes opens it (close unseen: the ppoll path).
 * Tests call sockset_* the same way in both builds. */
#ifndef SOCKSET_API_H
#define SOCKSET_API_H
#include <sock.h>

#ifdef VIA_DLOPEN
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static SocketSet *(*p_new)(void);
static void (*p_free)(SocketSet *);
static int (*p_add)(SocketSet *, int);
static int (*p_is_set)(const SocketSet *, int);
static void (*p_reset)(SocketSet *);
static size_t (*p_count)(const SocketSet *);
static int (*p_select)(SocketSet *, SocketSet *, SocketSet *, const struct timeval *);

#define LOAD(var, name)                                                                 \
    do {                                                                                \
        *(void **)(&var) = dlsym(lib, name);                                            \
        if (!var) {                                                                     \
            fprintf(stderr, "no %s in %s\n", name, path);                               \
            exit(2);                                                                    \
        }                                                                               \
    } while (0)

static void api_open(void)
{
    const char *path = getenv("LIBSOCK_LIB");
    void *lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!lib) {
        fprintf(stderr, "dlopen LIBSOCK_LIB=%s: %s\n", path ? path : "(unset)", dlerror());
        exit(2);
    }
    LOAD(p_new, "sockset_new");
    LOAD(p_free, "sockset_free");
    LOAD(p_add, "sockset_add");
    LOAD(p_is_set, "sockset_is_set");
    LOAD(p_reset, "sockset_reset");
    LOAD(p_count, "sockset_count");
    LOAD(p_select, "sockset_select");
}
#define sockset_new p_new
#define sockset_free p_free
#define sockset_add p_add
#define sockset_is_set p_is_set
#define sockset_reset p_reset
#define sockset_count p_count
#define sockset_select p_select
#else
static void api_open(void) {}
#endif

#endif
