//! Ctrl-C, SIGTERM and SIGHUP leave no half-written file behind.
//!
//! Every temporary file is registered here before it is created and forgotten once renamed into
//! place. On a signal a watcher thread waits for a commit in progress (renaming a run's files and
//! saving the manifest) to finish, removes the registered temporaries, runs the exit hook (the
//! timeline restores the terminal), and exits with 128 + the signal number. A temporary registered
//! after the signal is never created: registration blocks until the process has exited.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static COMMIT: Mutex<()> = Mutex::new(());
static EXIT_HOOK: OnceLock<fn()> = OnceLock::new();

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the watcher; call once, early in `main`.
pub fn install() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _commit = lock(&COMMIT);
            let mut temporaries = lock(&TEMPORARIES);
            let removed = temporaries
                .drain(..)
                .filter(|path| std::fs::remove_file(path).is_ok())
                .count();
            if let Some(hook) = EXIT_HOOK.get() {
                hook();
            }
            let name = match signal {
                SIGINT => "Ctrl-C",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            crate::tell!(
                "interrupted ({name}): stopped; {removed} temporary file(s) removed. Nothing half-written \
                 is left; files of a run are only committed with its manifest entry, so re-running the \
                 command resumes."
            );
            std::process::exit(128 + signal);
        }
    });
}

/// Registers a temporary file before it is created.
pub fn track(path: &Path) {
    lock(&TEMPORARIES).push(path.to_path_buf());
}

/// Forgets a temporary once it was renamed into place or removed.
pub fn untrack(path: &Path) {
    let mut temporaries = lock(&TEMPORARIES);
    if let Some(at) = temporaries.iter().position(|p| p == path) {
        temporaries.swap_remove(at);
    }
}

/// Holds off an interruption while a commit (renames plus manifest) completes.
pub fn commit_guard() -> MutexGuard<'static, ()> {
    lock(&COMMIT)
}

/// Sets what to run just before exiting on a signal (once).
pub fn set_exit_hook(hook: fn()) {
    let _ = EXIT_HOOK.set(hook);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_registers_and_forgets() {
        let a = Path::new("/tmp/mcpf-a.tmp");
        let b = Path::new("/tmp/mcpf-b.tmp");
        track(a);
        track(b);
        untrack(a);
        let held = lock(&TEMPORARIES).clone();
        assert!(held.contains(&b.to_path_buf()));
        assert!(!held.contains(&a.to_path_buf()));
        untrack(b);
        assert!(!lock(&TEMPORARIES).contains(&b.to_path_buf()));
    }
}
