//! Which process libsock is running in, as far as shared state goes.
//!
//! A child of `fork` has its own copy of libsock's memory; a child of
//! `vfork` (or `posix_spawn`, or `clone` with CLONE_VM) shares its parent's
//! until it execs or exits, and Python's `subprocess` makes such children
//! call `close_range`, `dup2` and `_exit` through libsock. Such a child
//! must not open files, allocate, or touch counters in the memory it
//! shares: it only forwards. libsock knows the pid of the process it owns
//! from its ELF constructor and from its fork handler (both in
//! `crate::lifecycle`) — which run in fork children but not in vfork ones.
//!
//! Nothing here uses std: it runs from the constructor.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

static PID: AtomicI32 = AtomicI32::new(0);
static FORKS: AtomicU64 = AtomicU64::new(0);

/// This process's id (asked of the kernel: glibc caches nothing since 2.25).
pub fn getpid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// In a child of `fork` (the fork handler in `crate::lifecycle`): this
/// process owns its copy of libsock's memory, one fork further on.
pub fn after_fork_in_child() {
    PID.store(getpid(), Ordering::Release);
    FORKS.fetch_add(1, Ordering::AcqRel);
}

/// When libsock is loaded (the constructor in `crate::lifecycle`): the
/// loading process owns libsock's memory.
pub fn at_load() {
    PID.store(getpid(), Ordering::Release);
}

/// True in the process that loaded libsock or in a child of `fork`; false
/// in a child that shares its parent's memory (vfork, posix_spawn).
pub fn owns_memory() -> bool {
    PID.load(Ordering::Acquire) == getpid()
}

/// How many forks this process is removed from the one that loaded
/// libsock (a generation number: it changes in every fork child).
pub fn forks() -> u64 {
    FORKS.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_process_owns_its_memory() {
        assert!(owns_memory());
    }
}
