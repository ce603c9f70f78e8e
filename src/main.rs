//! `bna`: without arguments it opens the desktop app on the bundled demo city (or, with no
//! display, runs the demo headless); `bna analyze …` and the other subcommands run headless.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
