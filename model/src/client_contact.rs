//! The client contact: e-mail, phone, how the person registered (and so how direct
//! messages reach them), and the direct messages sent. Admins only: a counsellor never
//! receives this document.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::clock::Stamp;
use crate::document::{DocKind, Document, DocumentError, Schema};
use crate::editor::Editor;
use crate::ids::{DocumentId, EntityId, UserId};

pub const SUBJECT_MAX_CHARS: usize = 200;
pub const MESSAGE_MAX_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct ClientContact {
    pub person: DocumentId,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// "Registrierungsmerkmal": direct messages go out this way.
    pub channel: ContactChannel,
    pub direct_messages: BTreeMap<EntityId, DirectMessage>,
}

impl Schema for ClientContact {
    const KIND: DocKind = DocKind::ClientContact;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum ContactChannel {
    Email,
    Sms,
    /// Registered with neither: no direct message can reach the person.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum Delivery {
    /// Written offline or waiting in the server's mail queue.
    Queued,
    /// Taken by the mail relay (or written into the pickup directory).
    Sent,
    /// Given up: the relay refused it, or did not take it within the server's retry
    /// period. Part of the schema since its first version, so every client reads it.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct DirectMessage {
    pub subject: String,
    pub text: String,
    pub channel: ContactChannel,
    pub sent_by: UserId,
    pub stamp: Stamp,
    /// Written by the server's mail queue.
    pub delivery: Delivery,
}

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("this is not an e-mail address")]
    BadEmail,
    #[error("this is not a phone number")]
    BadPhone,
    #[error("the {0} needs some text")]
    Empty(&'static str),
    #[error("the {0} is too long")]
    TooLong(&'static str),
    #[error("the person registered neither an e-mail address nor a phone number")]
    Unreachable,
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// Plausible, not RFC-complete: one `@`, something on both sides, a dot in the domain.
pub fn checked_email(email: &str) -> Result<String, ContactError> {
    let email = email.trim();
    let plausible = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if plausible {
        Ok(email.to_owned())
    } else {
        Err(ContactError::BadEmail)
    }
}

/// Digits with an optional leading `+` and the separators people type.
fn checked_phone(phone: &str) -> Result<String, ContactError> {
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || " -/()".contains(c) || (c == '+' && i == 0));
    if allowed && (5..=20).contains(&digits) {
        Ok(phone.to_owned())
    } else {
        Err(ContactError::BadPhone)
    }
}

impl Document<ClientContact> {
    pub fn create_contact(
        person: DocumentId,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Self, ContactError> {
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(checked_email)
            .transpose()?;
        let phone = phone
            .filter(|p| !p.trim().is_empty())
            .map(checked_phone)
            .transpose()?;
        let channel = match (&email, &phone) {
            (Some(_), _) => ContactChannel::Email,
            (None, Some(_)) => ContactChannel::Sms,
            (None, None) => ContactChannel::None,
        };
        Ok(Self::create(&ClientContact {
            person,
            email,
            phone,
            channel,
            direct_messages: BTreeMap::new(),
        })?)
    }

    pub fn set_email(&mut self, email: Option<&str>) -> Result<(), ContactError> {
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(checked_email)
            .transpose()?;
        self.put(&[], "email", email)?;
        self.commit();
        Ok(())
    }

    pub fn set_phone(&mut self, phone: Option<&str>) -> Result<(), ContactError> {
        let phone = phone
            .filter(|p| !p.trim().is_empty())
            .map(checked_phone)
            .transpose()?;
        self.put(&[], "phone", phone)?;
        self.commit();
        Ok(())
    }

    pub fn set_channel(&mut self, channel: ContactChannel) -> Result<(), ContactError> {
        self.put(&[], "channel", channel)?;
        self.commit();
        Ok(())
    }

    /// "Direkt-Nachricht": queued here, sent by the server's mail queue.
    pub fn send_direct_message(
        &mut self,
        editor: &mut Editor,
        subject: &str,
        text: &str,
    ) -> Result<EntityId, ContactError> {
        let contact = self.read()?;
        if contact.channel == ContactChannel::None {
            return Err(ContactError::Unreachable);
        }
        let subject = subject.trim();
        if subject.is_empty() {
            return Err(ContactError::Empty("subject"));
        }
        if text.trim().is_empty() {
            return Err(ContactError::Empty("message"));
        }
        if subject.chars().count() > SUBJECT_MAX_CHARS {
            return Err(ContactError::TooLong("subject"));
        }
        if text.chars().count() > MESSAGE_MAX_CHARS {
            return Err(ContactError::TooLong("message"));
        }
        let stamp = editor.stamp();
        let id = stamp.entity_id();
        let message = DirectMessage {
            subject: subject.to_owned(),
            text: text.to_owned(),
            channel: contact.channel,
            sent_by: editor.user().clone(),
            stamp,
            delivery: Delivery::Queued,
        };
        self.put(&["direct_messages"], id.as_str(), &message)?;
        self.commit();
        Ok(id)
    }

    /// Written by the server's mail queue.
    pub fn set_delivery(&mut self, id: &EntityId, delivery: Delivery) -> Result<(), ContactError> {
        if !self.has(&["direct_messages"], id.as_str()) {
            return Err(DocumentError::NoSuchEntity("direct message").into());
        }
        self.put_field(&["direct_messages", id.as_str()], "delivery", delivery)?;
        self.commit();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
