//! The notification loop: receives each supervised call
//! (`SECCOMP_IOCTL_NOTIF_RECV`) and answers it (`SECCOMP_IOCTL_NOTIF_SEND`,
//! or `SECCOMP_IOCTL_NOTIF_ADDFD` with `SECCOMP_ADDFD_FLAG_SEND` for a new
//! socket). Every call runs on a thread of its own, so a slow one (a
//! blocking connect, a send into a full buffer) never stalls another
//! thread's.

use super::emulate::{self, Ctx, Fail, Outcome};
use super::sys::{self, SeccompNotif};

use std::sync::Arc;
use std::thread;

/// Serves the listener until it fails (every process under the filter is
/// gone) — sockrun exits when its child does, ending this thread.
pub fn serve(ctx: Arc<Ctx>) {
    loop {
        let n = match sys::recv(ctx.listener) {
            Ok(n) => n,
            // Interrupted, or the caller died before its call was read.
            Err(libc::EINTR | libc::ENOENT) => continue,
            Err(_) => return,
        };
        let worker = Arc::clone(&ctx);
        let spawned = thread::Builder::new()
            .name("sockrun-call".into())
            .spawn(move || answer(&worker, &n));
        if spawned.is_err() {
            // No thread for it: the call fails as the kernel's own would
            // without memory, rather than wait.
            let _ = sys::send(ctx.listener, n.id, 0, libc::EAGAIN);
        }
    }
}

/// Handles `n` and answers it (nothing when its caller is gone).
fn answer(ctx: &Ctx, n: &SeccompNotif) {
    let (r, sigpipe) = emulate::handle(ctx, n);
    let (val, errno) = match r {
        Ok(Outcome::Answered) => return,
        // Gone, or so it seemed: a call still pending is never left
        // waiting — it is refused.
        Err(Fail::Gone) if sys::id_valid(ctx.listener, n.id) => (0, libc::EPERM),
        Err(Fail::Gone) => return,
        Ok(Outcome::Value(v)) => (v, 0),
        Err(Fail::Errno(e)) => (0, e),
    };
    // ENOENT: the caller was interrupted or killed meanwhile.
    if sys::send(ctx.listener, n.id, val, errno).is_ok() && sigpipe {
        emulate::raise_sigpipe(n.pid as libc::pid_t);
    }
}
