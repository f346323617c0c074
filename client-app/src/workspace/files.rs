//! Uploaded documents ("Dokumente"): a file's content is kept in the store (sealed) and
//! queued for the server; its name, hash and size go into the uploader's notebook of the
//! person. Downloads come from the store, or from the server where this device lacks them.

use std::path::{Path, PathBuf};

use super::{WorkError, Workspace};
use crate::api::{self, Request};
use crate::rows::Row;

impl Workspace {
    /// "Hochladen": the file's content is kept here (sealed) and queued for the server;
    /// its name, hash and size go into this user's notebook of the person. Works offline.
    pub fn upload_document(&mut self, person: &str, path: &Path) -> Result<(), WorkError> {
        const MAX_BYTES: u64 = 25 * 1024 * 1024;
        let unreadable = |e: std::io::Error| {
            WorkError::Invalid(format!("Die Datei lässt sich nicht lesen: {e}"))
        };
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > MAX_BYTES {
            return Err(WorkError::Invalid("Die Datei ist größer als 25 MB".into()));
        }
        let data = std::fs::read(path).map_err(unreadable)?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sha256: String = ring::digest::digest(&ring::digest::SHA256, &data)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.store.put_blob(&sha256, &data)?;
        let notebook = self.own_notebook(person)?;
        let media_type = media_type(&file_name);
        self.edit::<model::notebook::Notebook, _>(&notebook, |d, e| {
            Ok(
                d.add_document(e, &file_name, &sha256, data.len() as u64, media_type)
                    .map(|_| ())?,
            )
        })?;
        self.request(Request::UploadBlob {
            record: person.to_owned(),
            sha256,
        })
    }

    /// "Alle herunterladen": every document of this user's notebook of the person into
    /// `dir`, from the store or, where this device does not have it, from the server.
    /// Returns how many files were written.
    pub fn download_documents(&mut self, person: &str, dir: &Path) -> Result<usize, WorkError> {
        let notebooks: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, row)| {
                matches!(row, Row::Notebook { person: p, author } if p == person && author == self.me())
            })
            .map(|(doc, _)| doc.clone())
            .collect();
        let cannot_write = |e: std::io::Error| {
            WorkError::Invalid(format!("Der Ordner ist nicht beschreibbar: {e}"))
        };
        std::fs::create_dir_all(dir).map_err(cannot_write)?;
        let mut written = 0;
        for notebook in notebooks {
            let read: model::notebook::Notebook = self.read(&notebook)?;
            for meta in read.documents.values() {
                let data = match self.store.blob(&meta.sha256)? {
                    Some(data) => data,
                    None => {
                        let data = self.fetch_blob(&meta.sha256)?;
                        self.store.put_blob(&meta.sha256, &data)?;
                        data
                    }
                };
                let target = free_name(dir, &meta.file_name);
                std::fs::write(&target, data).map_err(cannot_write)?;
                written += 1;
            }
        }
        Ok(written)
    }

    fn fetch_blob(&self, sha256: &str) -> Result<Vec<u8>, WorkError> {
        let offline = || {
            WorkError::Invalid(
                "Ein Dokument liegt nicht auf diesem Gerät; zum Herunterladen braucht es den Server"
                    .into(),
            )
        };
        let token = self
            .profile
            .session
            .as_ref()
            .ok_or_else(offline)?
            .token
            .clone();
        let server = &self.server;
        self.runtime
            .block_on(async { api::get_blob(&server.get().await?, &token, sha256).await })
            .map_err(|error| match error {
                api::ApiError::Insecure(why) => WorkError::Invalid(why),
                _ => offline(),
            })
    }
}

/// A guess from the file name, for the notebook's metadata.
fn media_type(file_name: &str) -> &'static str {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" => "text/plain",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

/// `dir/name`, or `dir/name (2)` and so on when that exists.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
        _ => (name, String::new()),
    };
    let mut candidate = dir.join(name);
    let mut n = 2;
    while candidate.exists() {
        candidate = dir.join(format!("{stem} ({n}){extension}"));
        n += 1;
    }
    candidate
}
