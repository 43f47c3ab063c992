/* libnodlsym.so: a "next library" that lacks some symbols.
 *
 * Preloaded BEFORE libsock (LD_PRELOAD="libnodlsym.so libsock.so"), it
 * interposes dlsym. A lookup with RTLD_NEXT of a name listed in NODLSYM
 * (comma-separated; "*" for every name) returns NULL, as if the library
 * after libsock did not define it. Any other RTLD_NEXT lookup is answered
 * with glibc's definition (dlsym on libc.so.6's handle): RTLD_NEXT means
 * "after the caller", and the caller as glibc would see it is now this
 * shim, placed before libsock, so forwarding it would hand libsock its own
 * functions. Lookups with any other handle go to glibc's dlsym unchanged.
 *
 * A name listed in NODLSYM_SELF is answered with the first definition in
 * the global scope instead — libsock's own, as a broken chain of
 * interposers might hand it back; libsock must refuse it.
 *
 * NODLSYM_GLIBC=2.31 makes gnu_get_libc_version() answer that version, so
 * libsock believes it runs on an older glibc (one that predates some calls
 * and may lack them quietly).
 *
 *   NODLSYM=connect,close_range   NODLSYM_SELF=send,close
 *   NODLSYM_GLIBC=2.31   NODLSYM_LOG=1 (each refusal on stderr) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*dlsym_fn)(void *, const char *);

static dlsym_fn real_dlsym(void)
{
    static dlsym_fn real;
    if (!real) {
        /* dlvsym is not interposed; RTLD_NEXT from here is glibc. */
        real = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
        if (!real)
            real = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
        if (!real) {
            static const char msg[] = "nodlsym: cannot find glibc's dlsym\n";
            ssize_t w = write(2, msg, sizeof msg - 1);
            (void)w;
            abort();
        }
    }
    return real;
}

static int listed(const char *var, const char *name)
{
    const char *list = getenv(var);
    if (!list || !name)
        return 0;
    if (strcmp(list, "*") == 0)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

void *dlsym(void *handle, const char *name)
{
    dlsym_fn real = real_dlsym();
    if (handle != RTLD_NEXT)
        return real(handle, name);
    if (listed("NODLSYM_SELF", name))
        return real(RTLD_DEFAULT, name);
    if (listed("NODLSYM", name)) {
        if (getenv("NODLSYM_LOG")) {
            char line[160];
            int n = snprintf(line, sizeof line, "nodlsym: refused RTLD_NEXT lookup of %s\n", name);
            ssize_t w = write(2, line, n);
            (void)w;
        }
        return NULL;
    }
    static void *libc;
    if (!libc)
        libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *f = libc ? real(libc, name) : NULL;
    return f ? f : real(RTLD_DEFAULT, name);
}

const char *gnu_get_libc_version(void)
{
    const char *fake = getenv("NODLSYM_GLIBC");
    if (fake)
        return fake;
    typedef const char *(*version_fn)(void);
    version_fn real = (version_fn)dlvsym(RTLD_NEXT, "gnu_get_libc_version", "GLIBC_2.2.5");
    return real ? real() : "unknown";
}
