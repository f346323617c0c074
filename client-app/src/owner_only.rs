//! Files only their owner may read: social-work data, even sealed. SQLite gives the
//! files it keeps beside a database the database file's mode, so creating that file
//! owner-only first is enough.

use std::path::Path;

/// Sets `path`'s permission bits to `mode` (0o600 for files, 0o700 for directories).
#[cfg(unix)]
pub(crate) fn set(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Creates the (empty) file `path` readable by its owner only, before SQLite opens it.
pub(crate) fn create(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}
