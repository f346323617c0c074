//! The desktop client: `client-app [--server URL] [--data-dir DIR]`.
//!
//! Defaults: the server at `http://127.0.0.1:8470`, local stores in
//! `$XDG_DATA_HOME/case-records` (or `~/.local/share/case-records`).

use std::path::PathBuf;

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("case-records")
}

fn main() -> eframe::Result {
    tracing_subscriber::fmt().with_target(false).init();
    let mut server = "http://127.0.0.1:8470".to_owned();
    let mut data_dir = default_data_dir();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--server", Some(value)) => server = value,
            ("--data-dir", Some(value)) => data_dir = PathBuf::from(value),
            _ => {
                eprintln!("usage: client-app [--server URL] [--data-dir DIR]");
                std::process::exit(2);
            }
        }
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Fallakten")
            .with_inner_size([1200.0, 760.0]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "Fallakten",
        options,
        Box::new(move |_| Ok(Box::new(client_app::ui::App::new(data_dir, server)))),
    )
}
