//! The notification loop: receives each supervised call
//! (`SECCOMP_IOCTL_NOTIF_RECV`) and answers it (`SECCOMP_IOCTL_NOTIF_SEND`,
//! or `SECCOMP_IOCTL_NOTIF_ADDFD` with `SECCOMP_ADDFD_FLAG_SEND` for a new
//! socket) on a worker thread. Workers are kept and reused; a call goes to
//! an idle one, and when none is idle (all busy, e.g. blocked in a
//! connect) a new one is started: a slow call never stalls another
//! thread's, and a thread is not created per call.

use super::emulate::{self, Ctx, Fail, Outcome};
use super::sys::{self, SeccompNotif};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;

/// Serves the listener until it fails (every process under the filter is
/// gone) — sockrun exits when its child does, ending this thread.
pub fn serve(ctx: Arc<Ctx>) {
    let (tx, rx) = mpsc::channel::<SeccompNotif>();
    let rx = Arc::new(Mutex::new(rx));
    // Workers waiting for a call and not yet promised one: each call sent
    // takes one (or starts a worker), so queued calls never outnumber the
    // workers that will take them.
    let idle = Arc::new(AtomicUsize::new(0));
    loop {
        let n = match sys::recv(ctx.listener) {
            Ok(n) => n,
            // Interrupted, or the caller died before its call was read.
            Err(libc::EINTR | libc::ENOENT) => continue,
            Err(_) => return,
        };
        if super::filter::CRED_CALLS.contains(&i64::from(n.data.nr)) {
            // Noted before it runs; nothing of it is read or judged.
            super::creds::CHANGED.store(true, Ordering::Release);
            let _ = sys::send_continue(ctx.listener, n.id);
            continue;
        }
        let reserved = idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1))
            .is_ok();
        if !reserved {
            let (c, r, i) = (Arc::clone(&ctx), Arc::clone(&rx), Arc::clone(&idle));
            let spawned = thread::Builder::new()
                .name("sockrun-call".into())
                .spawn(move || work(&c, &r, &i));
            if spawned.is_err() {
                // No thread for it: the call fails as the kernel's own
                // would without memory, rather than wait.
                let _ = sys::send(ctx.listener, n.id, 0, libc::EAGAIN);
                continue;
            }
        }
        if tx.send(n).is_err() {
            return;
        }
    }
}

/// A worker: answers calls from the queue, counting itself idle between
/// them.
fn work(ctx: &Ctx, rx: &Mutex<Receiver<SeccompNotif>>, idle: &AtomicUsize) {
    loop {
        let next = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(n) = next else {
            return;
        };
        answer(ctx, &n);
        idle.fetch_add(1, Ordering::AcqRel);
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
