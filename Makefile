# libsock — see README.md. `make demo` and `make test` are all a fresh
# machine needs (after .ci/run has installed the system packages).

CARGO   ?= cargo
CC      ?= cc
PREFIX  ?= /usr/local
LIBDIR   = target/release
LIB      = $(LIBDIR)/libsock.so
SONAME   = libsock.so.0
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

.PHONY: all build header
all: build

build:
	$(CARGO) build --release
	ln -sf libsock.so $(LIBDIR)/$(SONAME)

header: build
