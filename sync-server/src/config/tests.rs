//! Defaults, the file, the environment over both, and mistakes named.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), text).expect("written");
    file
}

#[test]
fn every_setting_comes_from_the_environment_and_wins_over_the_file() {
    let toml = file("listen = \"127.0.0.1:9000\"\nsession_idle_minutes = 5\n");
    let config = Config::load(
        Some(toml.path()),
        vars(&[
            ("SYNC_SERVER_LISTEN", "0.0.0.0:8470"),
            ("SYNC_SERVER_SESSION_ABSOLUTE_HOURS", "3"),
            ("SYNC_SERVER_METRICS_TOKEN", "123456"),
            (
                "SYNC_SERVER_TRUSTED_PROXIES",
                "[\"10.0.0.0/8\", \"127.0.0.1\"]",
            ),
            ("SYNC_SERVER_TIMEZONE", "Europe/Vienna"),
            ("SYNC_SERVER_LOG_FORMAT", "json"),
            ("SYNC_SERVER_DATA_DIR", "/srv/case-records"),
            ("SYNC_SERVER_CONFIG", "/ignored/here.toml"),
            ("HOME", "/root"),
        ]),
    )
    .expect("valid");
    assert_eq!(config.listen, "0.0.0.0:8470".parse().expect("address"));
    assert_eq!(config.session_idle_minutes, 5, "from the file");
    assert_eq!(config.session_absolute_hours, 3);
    assert_eq!(
        config.metrics_token.as_deref(),
        Some("123456"),
        "digits stay text"
    );
    assert_eq!(config.trusted_proxies.len(), 2);
    assert_eq!(config.timezone, chrono_tz::Europe::Vienna);
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.data_dir, PathBuf::from("/srv/case-records"));
}

#[test]
fn mistakes_are_named_not_ignored() {
    let unknown = Config::load(None, vars(&[("SYNC_SERVER_LISTNE", "0.0.0.0:1")]));
    let error = unknown.expect_err("a typo").to_string();
    assert!(error.contains("SYNC_SERVER_LISTNE"), "{error}");
    let bad = Config::load(None, vars(&[("SYNC_SERVER_LISTEN", "here")]));
    assert!(bad.is_err());
    let toml = file("listen = \"127.0.0.1:9000\"\nsesion_idle_minutes = 5\n");
    let error = Config::load(Some(toml.path()), Vec::new())
        .expect_err("a typo in the file")
        .to_string();
    assert!(error.contains("is not valid"), "{error}");
}

#[test]
fn the_data_directory_is_never_the_working_directory() {
    let config = Config::load(None, Vec::new()).expect("defaults");
    assert!(config.data_dir.is_absolute(), "{:?}", config.data_dir);
}
