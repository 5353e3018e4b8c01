//! Signals that arrive while the daemon executes its next image wait for it.
//!
//! An exec resets every caught signal to its default action, and the next
//! image listens again only once its runtime is up: in between, a SIGUSR2 (a
//! second reload) would end the daemon and a SIGTERM (a stop) would skip its
//! orderly shutdown. Blocked signals stay pending across an exec, so the
//! thread that executes the next image blocks them, and the next image
//! releases them once it listens: a signal sent meanwhile is delivered then,
//! neither lost nor fatal.
//!
//! Threads inherit the mask of the thread that starts them, so in the next
//! image every runtime thread keeps them blocked; the main thread (which
//! drives the server) releases them, and the kernel delivers a process's
//! signals to a thread that does not block them. Children start with an
//! empty mask (the standard library resets it in every child).

/// The signals the daemon acts on that an exec must not drop.
const HELD: [libc::c_int; 2] = [libc::SIGUSR2, libc::SIGTERM];

fn held_set() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset write into the set we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in HELD {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

/// Blocks the held signals on the calling thread (the one about to exec);
/// returns its previous mask, for `restore` if the exec fails.
pub fn hold() -> libc::sigset_t {
    let set = held_set();
    // SAFETY: pthread_sigmask with valid pointers to sets we own.
    unsafe {
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut previous);
        previous
    }
}

/// Puts back the mask `hold` returned (the exec did not happen).
pub fn restore(previous: &libc::sigset_t) {
    // SAFETY: a mask pthread_sigmask gave us.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, previous, std::ptr::null_mut());
    }
}

/// Unblocks the held signals on the calling thread, once the daemon listens
/// for them; any that came since the exec is delivered now. Harmless on a
/// first start, when none is blocked.
pub fn release() {
    let set = held_set();
    // SAFETY: pthread_sigmask with a valid set.
    unsafe {
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}
