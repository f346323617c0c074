//! Requests for the server: queued in the store's outbox (sealed) so that they work
//! offline, sent by the sync in order as soon as the server is reachable, and shown as
//! waiting until then. The screens ask for them by name (delete a client, send an
//! invitation, …); only the workspace builds an [`api::Request`](crate::api::Request).

use super::{WorkError, Workspace, password_problem};
use crate::api::Request;
use crate::engine::Command;

impl Workspace {
    /// Requests waiting for the server, oldest first.
    pub fn pending_requests(&self) -> &[Request] {
        &self.requests
    }

    /// What the client window says about the requests still waiting for `record`,
    /// oldest first.
    pub fn waiting_for(&self, record: &str) -> Vec<&'static str> {
        self.requests
            .iter()
            .filter(|r| r.record() == Some(record))
            .map(Request::german)
            .collect()
    }

    pub(super) fn request_quietly(&self, request: &Request) -> Result<(), WorkError> {
        let json = serde_json::to_vec(request).map_err(|e| WorkError::Invalid(e.to_string()))?;
        self.store.push_request(&json)?;
        Ok(())
    }

    /// Queues a request for the server; it goes as soon as the server is reachable.
    pub(super) fn request(&mut self, request: Request) -> Result<(), WorkError> {
        self.request_quietly(&request)?;
        let _ = self.commands.send(Command::Requests);
        self.reload_counts();
        Ok(())
    }

    /// "Löschen" (admins): the server marks the client record deleted.
    pub fn delete_client(&mut self, record: &str) -> Result<(), WorkError> {
        self.request(Request::DeleteClient {
            record: record.to_owned(),
        })
    }

    /// "Wiederherstellen" (admins): undoes a deletion.
    pub fn restore_client(&mut self, record: &str) -> Result<(), WorkError> {
        self.request(Request::RestoreClient {
            record: record.to_owned(),
        })
    }

    /// "Passwort vergeben": a password for the person's own account, checked against
    /// the password rules before it is queued.
    pub fn set_person_password(&mut self, record: &str, password: &str) -> Result<(), WorkError> {
        if let Some(problem) = password_problem(password) {
            return Err(WorkError::Invalid(problem.into()));
        }
        self.request(Request::SetPersonPassword {
            record: record.to_owned(),
            password: password.to_owned(),
        })
    }

    /// "Einladung versenden": the server mails the person a link to set a password.
    pub fn send_invitation(&mut self, record: &str) -> Result<(), WorkError> {
        self.request(Request::SendInvitation {
            record: record.to_owned(),
        })
    }
}
