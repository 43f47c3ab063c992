//! libsock's allocator: the host's `malloc`, and a reserve for when it fails.
//!
//! Rust aborts the process when an allocation fails, and `catch_unwind`
//! cannot stop that; libsock runs inside other people's programs, which must
//! not die because libsock formatted a trace line while `malloc` was out of
//! memory. So libsock's own Rust code allocates from `malloc` and, when that
//! fails, from a static reserve (bump-allocated, never reused: libsock's own
//! allocations are few and small, and the steady paths — forwarding, trace
//! lines, SocketSet rounds — reuse what they hold). The first time the
//! reserve is used libsock says so once on stderr. The SocketSet calls that
//! can report ENOMEM to their caller (`sockset_new`, `sockset_add`,
//! `sockset_add_many`) do so instead of using the reserve ([`fallible`]).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const RESERVE: usize = 1 << 20;

#[repr(C, align(64))]
struct Pool(UnsafeCell<[u8; RESERVE]>);

// SAFETY: every byte of the pool is handed out at most once (the bump index
// is atomic), so no two owners share a byte.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([0; RESERVE]));
static USED: AtomicUsize = AtomicUsize::new(0);
static SAID: AtomicBool = AtomicBool::new(false);

/// The allocator libsock's Rust code uses.
pub struct Reserve;

fn pool_start() -> usize {
    POOL.0.get().addr()
}

fn in_pool(ptr: *mut u8) -> bool {
    (pool_start()..pool_start() + RESERVE).contains(&ptr.addr())
}

thread_local! {
    // const, no destructor: the allocator may run anywhere.
    static FALLIBLE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` — an entry point of libsock's C API that reports ENOMEM
/// itself (with fallible allocation: `try_reserve`, a null check) — without
/// the reserve: there, a failed `malloc` is the caller's ENOMEM.
pub fn fallible<R>(work: impl FnOnce() -> R) -> R {
    let was = FALLIBLE.with(|f| f.replace(true));
    let r = work();
    FALLIBLE.with(|f| f.set(was));
    r
}

/// Memory from the reserve (zeroed: it is never reused), or null.
fn from_pool(layout: Layout) -> *mut u8 {
    if FALLIBLE.with(Cell::get) {
        return std::ptr::null_mut();
    }
    if !SAID.swap(true, Ordering::Relaxed) {
        crate::diag::warn(format_args!(
            "out of memory: libsock's own work now uses its reserve"
        ));
    }
    let mut used = USED.load(Ordering::Relaxed);
    loop {
        let start = (pool_start() + used).next_multiple_of(layout.align()) - pool_start();
        let end = start + layout.size();
        if end > RESERVE {
            return std::ptr::null_mut();
        }
        match USED.compare_exchange_weak(used, end, Ordering::AcqRel, Ordering::Relaxed) {
            // SAFETY: `start..end` lies inside the pool and is now ours alone.
            Ok(_) => return unsafe { POOL.0.get().cast::<u8>().add(start) },
            Err(now) => used = now,
        }
    }
}

/// malloc for `layout`, honouring alignments above malloc's own.
fn from_malloc(layout: Layout) -> *mut u8 {
    if layout.align() <= 16 {
        // SAFETY: a plain allocation request.
        return unsafe { libc::malloc(layout.size()) }.cast();
    }
    let mut p = std::ptr::null_mut();
    // SAFETY: `p` is writable; the alignment is a power of two ≥ pointer size.
    match unsafe { libc::posix_memalign(&mut p, layout.align(), layout.size()) } {
        0 => p.cast(),
        _ => std::ptr::null_mut(),
    }
}

// SAFETY: blocks come from malloc/posix_memalign (freed with free) or from
// the pool (never freed, never handed out twice), each suitably aligned.
unsafe impl GlobalAlloc for Reserve {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = from_malloc(layout);
        if p.is_null() { from_pool(layout) } else { p }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = if layout.align() <= 16 {
            // SAFETY: a plain allocation request.
            unsafe { libc::calloc(1, layout.size()) }.cast()
        } else {
            let p = from_malloc(layout);
            if !p.is_null() {
                // SAFETY: `p` has `layout.size()` writable bytes.
                unsafe { p.write_bytes(0, layout.size()) };
            }
            p
        };
        // The pool's bytes are zero: they are never reused.
        if p.is_null() { from_pool(layout) } else { p }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        if !in_pool(ptr) {
            // SAFETY: not from the pool, so from malloc/posix_memalign.
            unsafe { libc::free(ptr.cast()) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_pool(ptr) && layout.align() <= 16 {
            // SAFETY: `ptr` came from malloc with this alignment.
            let p = unsafe { libc::realloc(ptr.cast(), new_size) }.cast::<u8>();
            if !p.is_null() {
                return p;
            }
        }
        // SAFETY: the layout's alignment is valid and new_size is non-zero.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as for alloc.
        let p = unsafe { self.alloc(new_layout) };
        if !p.is_null() {
            // SAFETY: both blocks hold at least the smaller size; they differ.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Reserve = Reserve;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_hands_out_aligned_distinct_zeroed_blocks() {
        let a = from_pool(Layout::from_size_align(24, 8).unwrap());
        let b = from_pool(Layout::from_size_align(100, 64).unwrap());
        assert!(!a.is_null() && !b.is_null() && in_pool(a) && in_pool(b));
        assert_eq!(b.addr() % 64, 0);
        assert!(b.addr() >= a.addr() + 24);
        // SAFETY: 100 bytes were handed out at `b`.
        let bytes = unsafe { std::slice::from_raw_parts(b, 100) };
        assert!(bytes.iter().all(|&x| x == 0));
        assert!(from_pool(Layout::from_size_align(RESERVE + 1, 8).unwrap()).is_null());
    }
}
