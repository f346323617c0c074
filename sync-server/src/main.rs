//! The sync server. Not built yet (issue 3): this placeholder says so and exits, so that
//! nobody mistakes it for a server.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "sync-server {}: the server is not built yet; see README.md for what works today",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
