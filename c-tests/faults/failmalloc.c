/* libfailmalloc.so: allocation failure where libsock allocates.
 *
 * Preloaded BEFORE libsock (LD_PRELOAD="libfailmalloc.so libsock.so"), it
 * interposes malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign and valloc, and makes the calls that come from inside libsock
 * (the return address lies in the object whose name contains
 * FAILMALLOC_FROM, default "libsock.so") fail with ENOMEM as FAILMALLOC
 * says. The program's own allocations, and glibc's, always succeed, so a
 * run's output can be compared with the native run's.
 *
 *   FAILMALLOC=count          fail nothing; count
 *   FAILMALLOC=all            fail every libsock allocation
 *   FAILMALLOC=after:N        the first N succeed, every later one fails
 *   FAILMALLOC=nth:N          only allocation number N (from 0) fails
 *   FAILMALLOC=prob:P:SEED    each fails with probability P percent
 *   FAILMALLOC_REPORT=FILE    at exit, append "PID ALLOCATIONS FAILED\n"
 *
 * A program can also change the mode while it runs:
 *   void failmalloc_set(const char *spec);   (found with dlsym)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

enum { COUNT, ALL, AFTER, NTH, PROB };
static _Atomic int mode = COUNT;
static _Atomic long param, seed;
static _Atomic long allocations, failures;
static uintptr_t lo, hi; /* the libsock object's address range */

__attribute__((visibility("default"))) void failmalloc_set(const char *spec)
{
    long n = 0, s = 0;
    if (!spec || !*spec || strcmp(spec, "count") == 0) {
        mode = COUNT;
    } else if (strcmp(spec, "all") == 0) {
        mode = ALL;
    } else if (sscanf(spec, "after:%ld", &n) == 1) {
        param = n;
        mode = AFTER;
    } else if (sscanf(spec, "nth:%ld", &n) == 1) {
        param = n;
        mode = NTH;
    } else if (sscanf(spec, "prob:%ld:%ld", &n, &s) == 2) {
        param = n;
        seed = s;
        mode = PROB;
    } else {
        static const char msg[] = "failmalloc: bad FAILMALLOC spec\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(2);
    }
}

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *want = data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, want))
        return 0;
    uintptr_t a = UINTPTR_MAX, b = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        if (s < a)
            a = s;
        if (e > b)
            b = e;
    }
    lo = a;
    hi = b;
    return 1;
}

static void report(void)
{
    const char *path = getenv("FAILMALLOC_REPORT");
    if (!path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[96];
    int n = snprintf(line, sizeof line, "%d %ld %ld\n", (int)getpid(), (long)allocations,
                     (long)failures);
    ssize_t w = write(fd, line, n);
    (void)w;
    syscall(SYS_close, fd); /* not libsock's close: it may be what is tested */
}

__attribute__((constructor)) static void init(void)
{
    const char *from = getenv("FAILMALLOC_FROM");
    dl_iterate_phdr(find_object, (void *)(from && *from ? from : "libsock.so"));
    failmalloc_set(getenv("FAILMALLOC"));
    atexit(report);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* Whether this allocation, called from `caller`, is to fail. */
static int fail(void *caller)
{
    uintptr_t c = (uintptr_t)caller;
    if (c < lo || c >= hi)
        return 0;
    long i = atomic_fetch_add(&allocations, 1);
    int f;
    switch (mode) {
    case ALL:
        f = 1;
        break;
    case AFTER:
        f = i >= param;
        break;
    case NTH:
        f = i == param;
        break;
    case PROB:
        f = (long)(mix((uint64_t)seed * 1000003u + (uint64_t)i) % 100) < param;
        break;
    default:
        f = 0;
    }
    if (f) {
        atomic_fetch_add(&failures, 1);
        errno = ENOMEM;
    }
    return f;
}

#define CALLER __builtin_return_address(0)

void *malloc(size_t n)
{
    return fail(CALLER) ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    return fail(CALLER) ? NULL : __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    return fail(CALLER) ? NULL : __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n)
{
    return fail(CALLER) ? NULL : __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    return fail(CALLER) ? NULL : __libc_memalign(align, n);
}

void *valloc(size_t n)
{
    return fail(CALLER) ? NULL : __libc_memalign(sysconf(_SC_PAGESIZE), n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    if (fail(CALLER))
        return ENOMEM;
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
