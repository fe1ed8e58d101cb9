//! The `switchboard` binary: everything lives in the library.
fn main() -> std::process::ExitCode {
    switchboard_server::cli::main()
}
