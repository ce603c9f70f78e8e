//! `bna`: the command line. Without arguments it runs the bundled demo (the desktop app takes
//! over this entry point once it exists); `bna analyze …` runs headless.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
