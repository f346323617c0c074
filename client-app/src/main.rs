//! The desktop client. Not built yet (issue 4): this placeholder says so and exits.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "client-app {}: the desktop client is not built yet; see README.md for what works today",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
