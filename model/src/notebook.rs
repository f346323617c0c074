//! The staff notebook: one per client and member of staff. It holds the metadata of the
//! documents that person uploaded (the files are content-addressed blobs on the server)
//! and their monitorings. Only its author reads it; admins also read the monitorings,
//! which the server hands them as a read-only copy.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use crate::clock::Stamp;
use crate::date::Date;
use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::editor::Editor;
use crate::ids::{DocumentId, EntityId, ParticipationId, UserId};

pub const FILE_NAME_MAX_CHARS: usize = 255;
pub const MONITORING_TEXT_MAX_CHARS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Notebook {
    pub person: DocumentId,
    pub author: UserId,
    pub documents: BTreeMap<EntityId, DocumentMeta>,
    pub monitorings: BTreeMap<EntityId, Monitoring>,
}

impl Schema for Notebook {
    const KIND: DocKind = DocKind::Notebook;
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct DocumentMeta {
    pub file_name: String,
    /// Lower-case hex SHA-256 of the content: the blob's address on the server.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    pub uploaded: Stamp,
}

/// The channel of a counselling contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum ContactKind {
    Chat,
    Mail,
    Phone,
    Video,
    InPerson,
    Other,
}

impl ContactKind {
    pub const ALL: [ContactKind; 6] = [
        ContactKind::Chat,
        ContactKind::Mail,
        ContactKind::Phone,
        ContactKind::Video,
        ContactKind::InPerson,
        ContactKind::Other,
    ];

    pub fn german(self) -> &'static str {
        match self {
            ContactKind::Chat => "Chat",
            ContactKind::Mail => "Mail",
            ContactKind::Phone => "Telefon",
            ContactKind::Video => "Video",
            ContactKind::InPerson => "Persönlich",
            ContactKind::Other => "Sonstiges",
        }
    }
}

/// A structured record of a counselling contact.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Monitoring {
    pub date: Date,
    pub channel: ContactKind,
    pub duration_minutes: u64,
    pub topic: String,
    pub text: Text,
    /// The participation this documents, where the person has several.
    pub participation: Option<ParticipationId>,
    pub created: Stamp,
    pub edited: Option<Stamp>,
}

/// What a person enters for a monitoring.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringInput {
    pub date: Date,
    pub channel: ContactKind,
    pub duration_minutes: u64,
    pub topic: String,
    pub text: String,
    pub participation: Option<ParticipationId>,
}

#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    #[error("a document needs a file name of at most {FILE_NAME_MAX_CHARS} characters")]
    BadFileName,
    #[error("not a SHA-256 in hex")]
    BadHash,
    #[error("a monitoring needs a topic")]
    NoTopic,
    #[error("the monitoring text is too long")]
    TooLong,
    #[error("a contact lasts between 1 minute and 24 hours")]
    BadDuration,
    #[error(transparent)]
    Document(#[from] DocumentError),
}

fn check_monitoring(input: &MonitoringInput) -> Result<(), NotebookError> {
    if input.topic.trim().is_empty() {
        return Err(NotebookError::NoTopic);
    }
    if input.text.chars().count() > MONITORING_TEXT_MAX_CHARS || input.topic.chars().count() > 200 {
        return Err(NotebookError::TooLong);
    }
    if !(1..=24 * 60).contains(&input.duration_minutes) {
        return Err(NotebookError::BadDuration);
    }
    Ok(())
}

impl Document<Notebook> {
    pub fn create_notebook(person: DocumentId, author: UserId) -> Result<Self, NotebookError> {
        Ok(Self::create(&Notebook {
            person,
            author,
            documents: BTreeMap::new(),
            monitorings: BTreeMap::new(),
        })?)
    }

    /// "Hochladen": records the metadata of a blob already stored by its hash.
    pub fn add_document(
        &mut self,
        editor: &mut Editor,
        file_name: &str,
        sha256: &str,
        size: u64,
        media_type: &str,
    ) -> Result<EntityId, NotebookError> {
        let file_name = file_name.trim();
        if file_name.is_empty()
            || file_name.chars().count() > FILE_NAME_MAX_CHARS
            || file_name.contains(['/', '\\', '\0'])
        {
            return Err(NotebookError::BadFileName);
        }
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(NotebookError::BadHash);
        }
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let meta = DocumentMeta {
            file_name: file_name.to_owned(),
            sha256: sha256.to_owned(),
            size,
            media_type: media_type.to_owned(),
            uploaded: stamp,
        };
        self.put(&["documents"], id.as_str(), &meta)?;
        self.commit();
        Ok(id)
    }

    pub fn delete_document(&mut self, id: &EntityId) -> Result<(), NotebookError> {
        if !self.has(&["documents"], id.as_str()) {
            return Err(DocumentError::NoSuchEntity("document").into());
        }
        self.delete(&["documents"], id.as_str())?;
        self.commit();
        Ok(())
    }

    pub fn add_monitoring(
        &mut self,
        editor: &mut Editor,
        input: MonitoringInput,
    ) -> Result<EntityId, NotebookError> {
        check_monitoring(&input)?;
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let monitoring = Monitoring {
            date: input.date,
            channel: input.channel,
            duration_minutes: input.duration_minutes,
            topic: input.topic.trim().to_owned(),
            text: Text::with_value(input.text),
            participation: input.participation,
            created: stamp,
            edited: None,
        };
        self.put(&["monitorings"], id.as_str(), &monitoring)?;
        self.commit();
        Ok(id)
    }

    pub fn edit_monitoring(
        &mut self,
        editor: &mut Editor,
        id: &EntityId,
        input: MonitoringInput,
    ) -> Result<(), NotebookError> {
        check_monitoring(&input)?;
        let notebook = self.read()?;
        let existing = notebook
            .monitorings
            .get(id)
            .ok_or(DocumentError::NoSuchEntity("monitoring"))?;
        let mut text = existing.text.clone();
        text.update(&input.text);
        let path = ["monitorings", id.as_str()];
        self.put_field(&path, "date", input.date)?;
        self.put_field(&path, "channel", input.channel)?;
        self.put_field(&path, "duration_minutes", input.duration_minutes)?;
        self.put_field(&path, "topic", input.topic.trim())?;
        self.put_field(&path, "text", &text)?;
        self.put_field(&path, "participation", &input.participation)?;
        self.put_field(&path, "edited", Some(editor.stamp()))?;
        self.commit();
        Ok(())
    }

    pub fn delete_monitoring(&mut self, id: &EntityId) -> Result<(), NotebookError> {
        if !self.has(&["monitorings"], id.as_str()) {
            return Err(DocumentError::NoSuchEntity("monitoring").into());
        }
        self.delete(&["monitorings"], id.as_str())?;
        self.commit();
        Ok(())
    }
}
