# libsock — see README.md. On a fresh machine `make demo` and `make test` are
# the only commands needed (.ci/run installs the system packages first).

CARGO   ?= cargo
CC      ?= cc
PYTHON  ?= python3
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  := target/release
LIB     := $(LIBDIR)/libsock.so
SONAME  := libsock.so.0
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

export LIBDIR PYTHON

.PHONY: all build header check-header install uninstall man docs-test demo bench bench-kernel bench-python test lint unit fuzz fuzz-test \
        check-exports check-modules sockrun-test kernel-test header-test diff-test sockset-test policy-test trace-test access-test spelling-test \
        cpython-traced-test stress-test exit-test faults-test sanitize-test valgrind-test python-test \
        programs-test install-test cpython-test dist dist-test distro-test clean

all: build

# Release build of libsock.so (SONAME libsock.so.0) and sockrun; build.rs
# regenerates include/sock.h on the way.
build:
	$(CARGO) build --release
	ln -sf libsock.so $(LIBDIR)/$(SONAME)

header: build

# The checked-in header must be what cbindgen generates from the sources.
check-header: build
	@git diff --exit-code -- include/sock.h || \
	  { echo "include/sock.h is stale: run 'make header' and commit it"; exit 1; }
	@test -z "$$(git status --porcelain -- include/)" || \
	  { echo "include/ has files git does not track"; git status --short -- include/; exit 1; }
	@echo "check-header: include/sock.h matches a fresh generation"

# Man pages and shell completions, generated from the sources into target/man
# (packaging/man.sh): sockrun(1), libsock(7), libsock(3) and a page per
# function of <sock.h>; sockrun's bash, zsh and fish completions.
MAN := target/man

man: build
	bash packaging/man.sh $(MAN)

install: build man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIBDIR)/sockrun $(DESTDIR)$(PREFIX)/bin/sockrun
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libsock.so.$(VERSION)
	ln -sf libsock.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libsock.so
	install -m 644 include/sock.h $(DESTDIR)$(PREFIX)/include/sock.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' libsock.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libsock.pc
	bash packaging/install-docs.sh $(MAN) $(DESTDIR)$(PREFIX)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sockrun $(DESTDIR)$(PREFIX)/lib/libsock.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME) \
	  $(DESTDIR)$(PREFIX)/lib/libsock.so $(DESTDIR)$(PREFIX)/include/sock.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/libsock.pc
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/sockrun.1 $(DESTDIR)$(PREFIX)/share/man/man7/libsock.7 \
	  $(DESTDIR)$(PREFIX)/share/man/man3/libsock.3 $(DESTDIR)$(PREFIX)/share/man/man3/libsock_version.3 \
	  $(DESTDIR)$(PREFIX)/share/man/man3/sockset_*.3 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sockrun \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sockrun \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sockrun.fish

# The release artifacts in dist/, built against glibc 2.17's stubs
# (cargo-zigbuild, into target/dist): the manylinux_2_17 wheel, the sdist and
# the C tarball (packaging/dist.sh).
dist:
	bash packaging/dist.sh

# The artifacts as users get them: the glibc floor, auditwheel, a fresh venv,
# a pkg-config build against the unpacked tarball, the suites against the
# dist library, epoll_pwait2 hidden, the sdist built (tests/dist.sh).
dist-test: build dist
	bash tests/dist.sh

# The same artifacts on a real older distribution: a cached Debian 11 root
# (debootstrap), the wheel, sockrun, the tarball and the differential,
# SocketSet and CPython 3.9 suites in a chroot (tests/distro.sh; needs root).
distro-test: dist
	bash tests/distro.sh

demo: build
	bash demo/demo.sh

# SocketSet against select, poll and epoll_wait, then the cost of
# interposition against plain glibc, then libsock.select from Python against
# the standard library, then access rules (connect and sendto with 10 and
# 1,000 rules against none): tables, each measured in one run.
bench: build
	bash bench/run.sh >target/bench-sockset.txt || { cat target/bench-sockset.txt; exit 1; }
	cat target/bench-sockset.txt
	$(PYTHON) bench/plot.py target/bench-sockset.txt target/bench-sockset.svg && echo "bench: plot in target/bench-sockset.svg"
	bash bench/interpose.sh
	bash bench/python.sh
	bash bench/access.sh
	bash bench/kernel.sh

# sockrun --kernel's table alone: a supervised sendto and a native send from
# a static program, natively, supervised, and under strace.
bench-kernel: build
	bash bench/kernel.sh

# The Python table alone.
bench-python: build
	bash bench/python.sh

# Every check, cheapest first.
test: lint unit fuzz-test check-header check-exports check-modules sockrun-test kernel-test docs-test header-test diff-test sockset-test \
      policy-test \
      trace-test access-test spelling-test stress-test exit-test faults-test sanitize-test valgrind-test python-test install-test programs-test dist-test \
      distro-test cpython-test cpython-traced-test
	@echo "make test: all checks passed"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --check --manifest-path fuzz/Cargo.toml
	$(CARGO) clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
	cd python && $(PYTHON) -m mypy

unit:
	$(CARGO) test --workspace

FUZZ_SECONDS ?= 600

# libFuzzer targets for libsock's own parsers and the SocketSet (fuzz/README.md):
# every regression input, then a few seconds per target.
fuzz-test:
	bash fuzz/run.sh 5

# The long run: FUZZ_SECONDS per target (e.g. make fuzz FUZZ_SECONDS=3600).
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

check-exports: build
	bash tests/check-exports.sh $(LIB)

# No import cycle among the library's modules; no crate compiles another's
# files by #[path].
check-modules:
	$(PYTHON) tests/check-modules.py

sockrun-test: build
	bash tests/sockrun.sh

# sockrun --kernel: static programs and raw system calls under the seccomp
# supervisor with access rules, against native receivers (tests/kernel.sh);
# when the mode switches itself on, and its trace, stats and options
# (tests/kernel-mode.sh). Both skip where the kernel has no seccomp user
# notification.
kernel-test: build
	bash tests/kernel.sh
	bash tests/kernel-mode.sh

# The man pages linted and rendered, checked against the table of variables
# and the header; each completion driven in its shell; make install's
# layout found by man -M and the shells; the bench plot parsed (tests/docs.sh).
docs-test: man
	bash tests/docs.sh

header-test: build
	bash c-tests/header/run.sh

diff-test: build
	bash c-tests/diff/run.sh

# Never crash, leak or deadlock: threads and forks under tracing and policy;
# exhausted descriptors, failing malloc, missing symbols, unwritable traces;
# AddressSanitizer+UBSan and valgrind over the C suites.
stress-test: build
	bash c-tests/stress/run.sh

# However threads end the process at once, one whole stats table; a stuck
# stats writer never hangs the exit.
exit-test: build
	bash c-tests/exit/run.sh

faults-test: build
	bash c-tests/faults/run.sh

sanitize-test: build
	bash c-tests/sanitize/run.sh

valgrind-test: build
	bash c-tests/valgrind/run.sh

trace-test: build
	bash c-tests/trace/run.sh

policy-test: build
	bash c-tests/policy/run.sh

# Access rules (LIBSOCK_ALLOW/LIBSOCK_DENY): C programs preloaded and linked,
# real programs (curl, socat, Python), traces and stats (c-tests/access/run.sh).
access-test: build
	bash c-tests/access/run.sh

# Access rules against every spelling of a denied peer the kernel accepts
# (AF_UNSPEC, 0.0.0.0, ::, v4-mapped, ...) and a sockaddr flipped by another
# thread mid-call, with a native receiver logging what arrives.
spelling-test: build
	bash c-tests/spelling/run.sh

sockset-test: build
	bash c-tests/sockset/run.sh

# Twice: through ctypes alone (libsock cannot see Python's closes: the
# SocketSet waits with ppoll), and preloaded (it sees them: epoll). Then
# CPython's test_select and test_selectors with select.select replaced by
# libsock.select, both ways, each test's outcome compared with native.
python-test: build
	PYTHONPATH=python $(PYTHON) -m pytest -q python/tests
	LD_PRELOAD=$(CURDIR)/$(LIB) PYTHONPATH=python $(PYTHON) -m pytest -q python/tests
	LIBSOCK_LIB=$(CURDIR)/$(LIB) $(PYTHON) python/tests/cpython_select.py

install-test: build
	bash tests/install.sh

programs-test: build
	bash tests/programs.sh

# CPython's suites pick free ports and bind them later, so a port taken in
# between by anything else on the machine fails a test natively too: one
# retry of the whole comparison, said out loud, keeps that from failing CI.
cpython-test: build
	bash tests/cpython-suites.sh || \
	  { echo "cpython-suites: failed once; retrying the whole comparison"; bash tests/cpython-suites.sh; }

# The same suites with tracing and stats on: same outcomes, every line intact.
cpython-traced-test: build
	bash tests/cpython-traced.sh || \
	  { echo "cpython-traced: failed once; retrying"; bash tests/cpython-traced.sh; }

clean:
	$(CARGO) clean
	rm -rf fuzz/target fuzz/artifacts dist
