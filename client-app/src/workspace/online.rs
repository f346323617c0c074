//! Calls that need the server now and cannot wait in the outbox (an admin's work on
//! staff accounts, deleting one's own account): each runs on the sync's runtime, never
//! on the UI thread, and its answer comes back as a [`Pending`] the screen looks at
//! every frame; the window is woken when it arrives. Refusals are said in German here,
//! once, for every screen.

use std::future::Future;

use model::api::ErrorCode;
use tokio::sync::oneshot;

use super::{WorkError, Workspace};
use crate::api::{self, ApiError};
use crate::engine::Command;

/// The answer of a call still running, or arrived.
#[derive(Debug)]
pub struct Pending<T> {
    answer: oneshot::Receiver<Result<T, WorkError>>,
}

impl<T> Pending<T> {
    /// The answer, once it arrived; `None` while the call runs. It is handed out once:
    /// drop the `Pending` then.
    pub fn poll(&mut self) -> Option<Result<T, WorkError>> {
        match self.answer.try_recv() {
            Ok(answer) => Some(answer),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(WorkError::Invalid(
                "Die Anfrage wurde abgebrochen".into(),
            ))),
        }
    }

    /// An answer already known, without asking the server (a form that does not check).
    pub fn ready(answer: Result<T, WorkError>) -> Self {
        let (sender, receiver) = oneshot::channel();
        let _ = sender.send(answer);
        Self { answer: receiver }
    }
}

impl Workspace {
    /// Runs `call` with the server and the current session's token off the UI thread.
    /// The token is read from the store when the call starts, so a session the sync
    /// renewed meanwhile is used.
    pub(super) fn online<T, F, Fut>(&self, call: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce(api::Server, String) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send,
    {
        let (sender, receiver) = oneshot::channel();
        let store = self.store.clone();
        let server = self.server.clone();
        let commands = self.commands.clone();
        let changed = self.changed.clone();
        self.runtime.spawn(async move {
            let token = store
                .profile()
                .ok()
                .and_then(|profile| profile.session)
                .map(|session| session.token);
            let answer = match token {
                None => Err(WorkError::Invalid(NO_SERVER.into())),
                Some(token) => match server.get().await {
                    Ok(server) => call(server, token).await.map_err(|error| {
                        if error.is_no_session() {
                            // The sync logs in again; the next try has a session.
                            let _ = commands.send(Command::Reconnect);
                        }
                        WorkError::Invalid(refusal(&error))
                    }),
                    Err(error) => Err(WorkError::Invalid(refusal(&error))),
                },
            };
            let _ = sender.send(answer);
            changed.poke();
        });
        Pending { answer: receiver }
    }
}

const NO_SERVER: &str =
    "Dafür braucht es eine Verbindung zum Server; bitte warten, bis „Online“ angezeigt wird";

/// Why a call to the server did not work, in German, for the account screens.
pub fn refusal(error: &ApiError) -> String {
    let code = match error {
        ApiError::Unreachable(_) => return NO_SERVER.into(),
        ApiError::Insecure(why) => return why.clone(),
        ApiError::Garbled(_) => return "Die Antwort des Servers ist unverständlich".into(),
        ApiError::Refused { code, .. } => *code,
    };
    match code {
        ErrorCode::NoSession => {
            "Die Sitzung war abgelaufen und wird erneuert; bitte gleich noch einmal versuchen"
                .into()
        }
        ErrorCode::WrongCredentials => "Das Passwort stimmt nicht".into(),
        ErrorCode::RateLimited => "Zu viele Versuche; bitte etwas später erneut".into(),
        ErrorCode::LoginTaken => "Dieser Accountname ist bereits vergeben".into(),
        ErrorCode::NotYourself => {
            "Das geht nicht mit dem eigenen Account (das eigene Passwort ändert „Passwort ändern“)"
                .into()
        }
        ErrorCode::LastAdmin => {
            "Sie sind der letzte aktive Admin-Account dieser Einrichtung. Legen Sie zuerst einen \
             weiteren Admin-Account an; dann lässt sich dieser löschen."
                .into()
        }
        ErrorCode::PasswordTooShort => "Das Passwort braucht mindestens 8 Zeichen".into(),
        ErrorCode::PasswordTooLong => "Das Passwort ist zu lang".into(),
        ErrorCode::PasswordMissingClass => {
            "Das Passwort braucht Klein- und Großbuchstaben, eine Ziffer und ein Sonderzeichen"
                .into()
        }
        ErrorCode::PasswordControlCharacter => "Das Passwort enthält ein Steuerzeichen".into(),
        ErrorCode::PasswordTooCommon | ErrorCode::PasswordTooWeak => {
            "Das Passwort ist zu leicht zu erraten (kein Name, kein Wort mit Jahreszahl)".into()
        }
        ErrorCode::NoSuchAccount | ErrorCode::NotFound => {
            "Diesen Account gibt es nicht (mehr)".into()
        }
        ErrorCode::Forbidden => "Dafür fehlt die Berechtigung (nur für Admins)".into(),
        ErrorCode::BadEmail => "Die E-Mail-Adresse ist nicht gültig".into(),
        ErrorCode::UnknownRole => "Diese Rolle gibt es nicht".into(),
        ErrorCode::InvalidRequest | ErrorCode::MalformedRequest => {
            "Der Server nimmt diese Anfrage nicht an (kennt er sie schon?)".into()
        }
        other => format!(
            "Der Server lehnt ab: {}",
            api::refusal_german(&refusal_of(other))
        ),
    }
}

fn refusal_of(code: ErrorCode) -> ApiError {
    ApiError::Refused { status: 422, code }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_an_admin_meets_is_german() {
        let check = |code: ErrorCode, expected: &str| {
            let text = refusal(&refusal_of(code));
            assert!(text.contains(expected), "{code}: {text}");
        };
        check(ErrorCode::LoginTaken, "bereits vergeben");
        check(ErrorCode::NotYourself, "eigenen Account");
        check(ErrorCode::LastAdmin, "letzte aktive Admin-Account");
        check(ErrorCode::PasswordTooShort, "mindestens 8 Zeichen");
        check(ErrorCode::PasswordTooCommon, "zu leicht zu erraten");
        check(ErrorCode::WrongCredentials, "Passwort stimmt nicht");
        assert!(refusal(&ApiError::Unreachable("x".into())).contains("Verbindung zum Server"));
    }

    #[test]
    fn a_pending_answer_is_there_once_it_came() {
        let mut pending = Pending::ready(Ok(7));
        assert!(matches!(pending.poll(), Some(Ok(7))));
        let (sender, receiver) = oneshot::channel::<Result<u8, WorkError>>();
        let mut waiting = Pending { answer: receiver };
        assert!(waiting.poll().is_none());
        drop(sender);
        assert!(matches!(waiting.poll(), Some(Err(_))));
    }
}
