//! Windows gives a console-subsystem program started from Explorer or the Start menu a
//! console window of its own, which would sit behind the app for as long as it runs. When no
//! other process shares that console (a terminal would), the app lets go of it, so the
//! window closes. `bna.exe` stays a console program so that a terminal still waits for the
//! CLI, shows its output and gets its exit code.

/// Closes the console window that Windows opened for this process alone; a no-op elsewhere,
/// and in a terminal.
#[cfg(windows)]
pub fn release_own_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut ids = [0u32; 2];
    // SAFETY: the buffer and its length are passed together; the call only writes into it.
    let attached = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
    if attached == 1 {
        // SAFETY: detaching from the console invalidates only the standard handles, which
        // the app does not use after this point (it reports in its window).
        unsafe { FreeConsole() };
    }
}

/// Closes the console window that Windows opened for this process alone; a no-op elsewhere,
/// and in a terminal.
#[cfg(not(windows))]
pub fn release_own_console() {}
