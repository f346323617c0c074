//! "Eigenen Account löschen": a member of staff deletes their own account on the server,
//! confirmed with the password; afterwards this device forgets the profile: the sync
//! stops and the local store (sealed, but still that person's copy of the tenant's
//! records) is removed.

use std::path::{Path, PathBuf};

use super::online::Pending;
use super::{WorkError, Workspace};
use crate::api;

impl Workspace {
    /// Asks the server to delete the signed-in account. The last active admin of a
    /// tenant is refused (`last-admin`), and a wrong password too.
    pub fn delete_own_account(&self, password: &str) -> Result<Pending<()>, WorkError> {
        if password.is_empty() {
            return Err(WorkError::Invalid(
                "Bitte zur Bestätigung das eigene Passwort eingeben".into(),
            ));
        }
        let password = password.to_owned();
        Ok(self.online(move |server, token| async move {
            api::delete_own_account(&server, &token, &password).await
        }))
    }

    /// Stops the sync, then deletes this profile's local store with its SQLite side
    /// files. For after the account was deleted: nothing here is wanted any more.
    /// Returns the store's path, which no longer exists.
    pub fn remove_local_store(self) -> Result<PathBuf, WorkError> {
        let path = self.store.path().to_owned();
        self.shut_down();
        remove_store_files(&path)?;
        Ok(path)
    }
}

/// The store file and what SQLite keeps beside it (`-wal`, `-shm`, `-journal`).
fn remove_store_files(path: &Path) -> Result<(), WorkError> {
    let mut files = vec![path.to_owned()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for file in files {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(WorkError::Invalid(format!(
                    "Die lokalen Daten lassen sich nicht entfernen ({}): {error}",
                    file.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_and_its_side_files_go() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = dir.path().join("abc.store");
        for name in ["abc.store", "abc.store-wal", "abc.store-shm", "other.store"] {
            std::fs::write(dir.path().join(name), b"x").expect("written");
        }
        remove_store_files(&store).expect("removed");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listed")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("other.store")]);
    }
}
