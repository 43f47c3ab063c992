//! Whether this kernel can run the kernel-enforced mode: seccomp user
//! notification (Linux 5.0), `SECCOMP_ADDFD_FLAG_SEND` (5.14),
//! `pidfd_getfd` (5.6), and permission to act on the child (Yama). Asked
//! before anything runs, so a kernel that lacks one is one line, not a
//! program failing half-way.
//!
//! `SOCKRUN_TEST_FAIL_PROBE=WHAT` (user-notif, addfd, pidfd_getfd or ptrace) makes
//! the probe report WHAT missing: for tests only. `wait-killable` fails
//! nothing: sockrun installs its filter without
//! `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (Linux 5.19), as on an older
//! kernel ([`wait_killable`]; `super::signals`).

use super::sys;
use std::env;

/// The test-only variable that fails the probe.
pub const FAIL_VAR: &str = "SOCKRUN_TEST_FAIL_PROBE";

/// Err(what is missing), named for the message.
pub fn probe() -> Result<(), String> {
    let forced = env::var(FAIL_VAR).unwrap_or_default();
    let fail = |what: &str| forced.split(',').any(|w| w == what);
    if fail("user-notif") || sys::notif_sizes().is_err() {
        return Err("seccomp user notification (Linux 5.0)".into());
    }
    if fail("addfd") || !kernel_at_least(5, 14) {
        return Err("seccomp SECCOMP_ADDFD_FLAG_SEND (Linux 5.14)".into());
    }
    if fail("pidfd_getfd") || !pidfd_getfd_works() {
        return Err("pidfd_getfd (Linux 5.6)".into());
    }
    // Yama's "no attach" (3) forbids pidfd_getfd and process_vm_readv on
    // the child, even for its parent; 2 needs CAP_SYS_PTRACE (a start-up
    // failure says so if it is missing).
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").unwrap_or_default();
    if fail("ptrace") || scope.trim() == "3" {
        return Err("permission to act on the child (kernel.yama.ptrace_scope is 3)".into());
    }
    Ok(())
}

/// Whether to ask for `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (the kernel
/// may still refuse it: EINVAL before 5.19, then sockrun goes without):
/// not when the test variable names `wait-killable`.
pub fn wait_killable() -> bool {
    !env::var(FAIL_VAR)
        .unwrap_or_default()
        .split(',')
        .any(|w| w == "wait-killable")
}

/// Takes a duplicate of our own standard error through a pidfd.
fn pidfd_getfd_works() -> bool {
    // SAFETY: getpid cannot fail.
    let pid = unsafe { libc::getpid() };
    sys::pidfd_open(pid, 0)
        .and_then(|pidfd| sys::pidfd_getfd(&pidfd, 2))
        .is_ok()
}

/// Whether the running kernel's release is at least `major.minor`.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    release_at_least(&release, major, minor)
}

fn release_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        assert!(release_at_least("6.18.0-1-amd64\n", 5, 14));
        assert!(release_at_least("5.14.0", 5, 14));
        assert!(!release_at_least("5.10.0-28-amd64", 5, 14));
        assert!(!release_at_least("4.19.0", 5, 14));
        assert!(!release_at_least("", 5, 14));
    }
}
