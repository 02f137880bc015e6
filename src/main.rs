#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    gameday::cli::main()
}
