//! Standard output for the CLI's results. `println!` panics when stdout is a closed pipe
//! (`bna scores --json | head -1`) or a full disk (`> /dev/full`); these write instead, and a
//! failed write ends the process: silently for a closed pipe (the reader has what it wanted),
//! with one line for any other error. Results are printed after the work is saved, so nothing
//! is lost by stopping there.

use std::io::{self, Write};

/// `println!` that never panics: see the module comment.
macro_rules! outln {
    () => { $crate::cli::out::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::out::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::out::write_stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics: a message to a closed or full standard error is lost, as
/// there is nowhere left to report it, and the exit code still tells what happened.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::out::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};

pub fn write_stdout(args: std::fmt::Arguments) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        exit_on_write_error(&e);
    }
}

pub fn write_stderr(args: std::fmt::Arguments) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_fmt(args).and_then(|()| stderr.flush());
}

/// Exit code and message for a failed write to standard output.
pub fn write_failure(e: &io::Error) -> (i32, Option<String>) {
    match e.kind() {
        io::ErrorKind::BrokenPipe => (0, None),
        _ => (
            1,
            Some(format!(
                "error: cannot write the output to standard output ({}); check the file or disk it is redirected to",
                bna_engine::files::plain_io_text(e)
            )),
        ),
    }
}

fn exit_on_write_error(e: &io::Error) -> ! {
    let (code, message) = write_failure(e);
    if let Some(m) = message {
        write_stderr(format_args!("{m}\n"));
    }
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_quiet_and_other_errors_are_one_line() {
        let cases = [
            (io::Error::from(io::ErrorKind::BrokenPipe), 0, false),
            (io::Error::from_raw_os_error(28), 1, true),
            (io::Error::other("boom"), 1, true),
        ];
        for (e, code, has_message) in cases {
            let (c, m) = write_failure(&e);
            assert_eq!(c, code, "{e}");
            assert_eq!(m.is_some(), has_message, "{e}");
            if let Some(m) = m {
                assert!(!m.contains('\n') && !m.contains("os error"), "{m}");
            }
        }
    }
}
