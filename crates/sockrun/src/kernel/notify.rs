//! The notification loop: receives each supervised call
//! (`SECCOMP_IOCTL_NOTIF_RECV`) and answers it (`SECCOMP_IOCTL_NOTIF_SEND`,
//! or `SECCOMP_IOCTL_NOTIF_ADDFD` with `SECCOMP_ADDFD_FLAG_SEND` for a new
//! socket) on the thread that received it: there is no hand-off between
//! threads per call (a futex wake-up costs more than the call itself).
//! Several threads wait in `SECCOMP_IOCTL_NOTIF_RECV` on the same listener
//! (the kernel gives each call to one of them); a thread that receives a
//! call while no other is left waiting starts one before handling it, so
//! one receiver is always waiting and a slow call (a connect that blocks)
//! never stalls another thread's. A thread done with its call waits again,
//! or ends when two others are waiting already: threads are reused, not
//! created per call.

use super::emulate::{self, Ctx, Fail, Outcome};
use super::{report, sys};
use sock_core::trace;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

/// Receivers kept waiting beyond the one handling a call: a thread done
/// with its call ends rather than wait when this many already do.
const SPARE: usize = 2;

/// Serves the listener — in the supervisor process, which ends once every
/// process under the filter is gone, ending these threads.
pub fn serve(ctx: Arc<Ctx>) {
    // Wake-ups of the receiver are synchronous (Linux 6.6): the caller,
    // about to sleep until its answer, hands its CPU to the receiver. An
    // older kernel just wakes it as any other.
    let _ = sys::set_sync_wake_up(ctx.listener);
    // Threads waiting (or about to wait) in NOTIF_RECV; this one.
    let waiting = Arc::new(AtomicUsize::new(1));
    receive(&ctx, &waiting);
}

/// A receiver: takes calls off the listener and answers them, counted in
/// `waiting` while it waits for one.
fn receive(ctx: &Arc<Ctx>, waiting: &Arc<AtomicUsize>) {
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
        // This thread stops waiting; if it was the last, another takes
        // its place before the call (which may block) is handled.
        if waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            waiting.fetch_add(1, Ordering::AcqRel);
            let (c, w) = (Arc::clone(ctx), Arc::clone(waiting));
            let spawned = thread::Builder::new()
                .name("sockrun-call".into())
                .spawn(move || receive(&c, &w));
            if spawned.is_err() {
                // No thread to wait in its place: the call fails as the
                // kernel's own would without memory, rather than risk
                // stalling every other call behind it; this thread waits
                // again (it is still counted).
                let _ = sys::send(ctx.listener, n.id, 0, libc::EAGAIN);
                continue;
            }
        }
        // Counted as waiting again before the answer goes out, so the
        // caller's next call finds the count as it will be.
        let rejoin = || {
            waiting
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                    (v < SPARE).then_some(v + 1)
                })
                .is_ok()
        };
        if !answer(ctx, &n, rejoin) {
            return;
        }
    }
}

/// Handles `n` and answers it (nothing when its caller is gone), calling
/// `then` just before the answer is sent: what it returns. The call is
/// shown (traced, counted) once answered, unless a preloaded libsock showed
/// it already and the rules let it through.
fn answer(ctx: &Ctx, n: &sys::SeccompNotif, then: impl FnOnce() -> bool) -> bool {
    ctx.in_flight.fetch_add(1, Ordering::AcqRel);
    let next = answer_counted(ctx, n, then);
    ctx.in_flight.fetch_sub(1, Ordering::AcqRel);
    next
}

fn answer_counted(ctx: &Ctx, n: &sys::SeccompNotif, then: impl FnOnce() -> bool) -> bool {
    let t0 = ctx.report.active().then(Instant::now);
    // A panic in the handling is a refusal, never a call left unanswered
    // (its caller would wait for ever) nor a thread lost.
    let (r, sigpipe, seen) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| emulate::handle(ctx, n)))
            .unwrap_or_else(|_| {
                (
                    Err(Fail::Errno(libc::EPERM)),
                    false,
                    emulate::Seen::default(),
                )
            });
    let why = match &r {
        Err(Fail::Denied(why)) => Some(*why),
        _ => None,
    };
    let (val, errno) = match r {
        Ok(Outcome::Answered(fd)) => {
            show(ctx, n, t0, &seen, None, (fd.into(), 0));
            return then();
        }
        // Nothing was read of it: let through, and left to the kernel
        // (and to a preloaded libsock) to answer and show.
        Ok(Outcome::Continue) => {
            let next = then();
            let _ = sys::send_continue(ctx.listener, n.id);
            return next;
        }
        // Gone, or so it seemed: a call still pending is never left
        // waiting — it is refused.
        Err(Fail::Gone) if sys::id_valid(ctx.listener, n.id) => (0, libc::EPERM),
        Err(Fail::Gone) => return then(),
        Ok(Outcome::Value(v)) => (v, 0),
        Err(e) => (0, e.errno().unwrap_or(libc::EPERM)),
    };
    // Shown before the answer, so that the caller's next call (answered
    // by another thread, maybe) cannot be shown first.
    show(ctx, n, t0, &seen, why, (val, errno));
    let next = then();
    // ENOENT: the caller was interrupted or killed meanwhile.
    if sys::send(ctx.listener, n.id, val, errno).is_ok() && sigpipe {
        emulate::raise_sigpipe(n.pid as libc::pid_t);
    }
    next
}

/// Traces and counts the call `n`, answered with `(val, errno)` (`why`:
/// the rule that refused it), when asked to and not shown already.
fn show(
    ctx: &Ctx,
    n: &sys::SeccompNotif,
    t0: Option<Instant>,
    seen: &emulate::Seen,
    why: Option<sock_core::rules::Why<'static>>,
    (val, errno): (i64, i32),
) {
    let Some(t0) = t0 else { return };
    if emulate::marked(ctx, n) && why.is_none() && !seen.cut {
        return;
    }
    let Some(record) = emulate::record(n, seen, why) else {
        return;
    };
    let tid = n.pid;
    let pid = emulate::tgid(tid as libc::pid_t).map_or(tid, |p| p as u32);
    ctx.report.call(&report::Shown {
        ids: (pid, tid),
        record,
        outcome: trace::Outcome {
            ret: if errno != 0 { -1 } else { val },
            errno: (errno != 0).then_some(errno),
            micros: t0.elapsed().as_micros() as u64,
        },
        denied: why.is_some() || seen.cut,
        bytes: seen.bytes,
    });
}
