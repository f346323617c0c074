//! Signing in and the own password. The first sign-in on a machine needs the server and
//! creates the local store sealed with the password; later ones open the store offline.
//! Changing the own password needs the server too, and reseals the store under the new one.
//!
//! After an admin reset the password, the new one does not open the store: if the server
//! takes it, the device's recovery key comes from the server, opens the store, and the
//! store is resealed under the new password, unsynced changes and outbox kept (see
//! `store/recovery`). Without the server the store stays sealed.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{WorkError, Workspace};
use crate::api::{self, ApiError};
use crate::engine::Command;
use crate::store::{Profile, Session, Store, StoreError};
use crate::tls::ConnectionSettings;
use model::api::{ErrorCode, Role};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Benutzername oder Passwort falsch")]
    WrongPassword,
    /// The password does not open this device's store, and the server, which could
    /// say whether it was reset, cannot be reached.
    #[error(
        "Benutzername oder Passwort falsch. Wurde das Passwort zurückgesetzt, braucht die erste Anmeldung mit dem neuen eine Verbindung zum Server"
    )]
    WrongPasswordOffline,
    /// The server took the new password, but has no recovery key for this device's store.
    #[error(
        "Das neue Passwort öffnet die Daten auf diesem Gerät nicht, und der Server hat keinen Schlüssel, um sie wiederherzustellen. Mit dem bisherigen Passwort anmelden, oder die Administration fragen"
    )]
    NotRecoverable,
    #[error("Für die erste Anmeldung auf diesem Gerät braucht es eine Verbindung zum Server")]
    FirstLoginNeedsServer,
    #[error("Zu viele Anmeldeversuche, bitte etwas später erneut versuchen")]
    RateLimited,
    #[error("Der Server lehnt die Anmeldung ab: {0}")]
    Refused(String),
    /// No connection was made: it would not be safe, or its settings do not work. The
    /// text says what to do.
    #[error("{0}")]
    Connection(String),
    #[error("Lokaler Speicher: {0}")]
    Store(#[from] StoreError),
    #[error("Die Hintergrund-Synchronisation startet nicht: {0}")]
    Runtime(String),
}

/// How to sign in.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub data_dir: PathBuf,
    pub server: String,
    pub login: String,
    pub password: String,
    /// PBKDF2 rounds for a new local store ([`crate::crypto::ITERATIONS`]); tests lower it.
    pub iterations: NonZeroU32,
    /// „Erweitert“: an organisation's CA file, and plain `http://` to another machine.
    /// Stored with the profile at the first sign-in and used for every connection after;
    /// at a later sign-in what is entered here is added
    /// ([`ConnectionSettings::updated_by`]).
    pub connection: ConnectionSettings,
}

/// The store file of one login on one server. Its name tells neither.
pub fn store_path(data_dir: &Path, server: &str, login: &str) -> PathBuf {
    let who = format!("{}\n{}", api::base_url(server), login.trim().to_lowercase());
    let digest = ring::digest::digest(&ring::digest::SHA256, who.as_bytes());
    let name: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    data_dir.join(format!("{name}.store"))
}

fn refused(error: ApiError) -> SignInError {
    match error {
        ApiError::Unreachable(_) => SignInError::FirstLoginNeedsServer,
        ApiError::Insecure(why) => SignInError::Connection(why),
        ApiError::Refused {
            code: ErrorCode::WrongCredentials,
            ..
        } => SignInError::WrongPassword,
        ApiError::Refused {
            code: ErrorCode::RateLimited,
            ..
        } => SignInError::RateLimited,
        other => SignInError::Refused(other.to_string()),
    }
}

impl Workspace {
    /// Signs in: opens this machine's store with the password, or, the first time,
    /// logs in online and creates it. Then starts the background sync.
    pub fn sign_in(how: &SignIn) -> Result<Self, SignInError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("sync")
            .build()
            .map_err(|e| SignInError::Runtime(e.to_string()))?;
        let path = store_path(&how.data_dir, &how.server, &how.login);
        let (store, server) = if path.exists() {
            let store = match Store::open(&path, &how.password) {
                Err(StoreError::WrongPassword) => recover(&runtime, &path, how)?,
                other => other?,
            };
            let mut profile = store.profile()?;
            let connection = profile.connection.updated_by(&how.connection);
            if connection != profile.connection {
                profile.connection = connection;
                store.set_profile(&profile)?;
            }
            // Built by the sync on its own threads, not here: signing in stays offline.
            let server = api::LazyServer::new(&profile.server, &profile.connection);
            (store, server)
        } else {
            // Checked against the settings before anything is sent; the TLS
            // configuration is built once, here, beside the login this already waits for.
            let server = api::LazyServer::new(&how.server, &how.connection);
            let (answer, staff) = runtime
                .block_on(async {
                    let built = server.get().await?;
                    let answer = api::login(&built, &how.login, &how.password).await?;
                    let staff = match answer.role {
                        Role::Client => Vec::new(),
                        _ => api::staff(&built, &answer.token).await.unwrap_or_default(),
                    };
                    Ok((answer, staff))
                })
                .map_err(refused)?;
            if answer.role == Role::Client {
                return Err(SignInError::Refused(
                    "Klient:innen-Zugänge arbeiten nicht mit dieser App".into(),
                ));
            }
            let device: [u8; 16] = crate::crypto::random().map_err(StoreError::from)?;
            let profile = Profile {
                server: api::base_url(&how.server),
                login: how.login.trim().to_owned(),
                account_id: answer.account_id,
                tenant: answer.tenant,
                role: answer.role,
                directory_id: answer.directory_id,
                device: device.iter().map(|b| format!("{b:02x}")).collect(),
                session: Some(Session {
                    token: answer.token,
                    peer_id: answer.peer_id,
                }),
                staff,
                last_sync_ms: None,
                staff_changed_ms: None,
                connection: how.connection.clone(),
            };
            let store = Store::create(&path, &how.password, &profile, how.iterations)?;
            (store, server)
        };
        Self::start(runtime, Arc::new(store), how.password.clone(), server)
    }

    /// "Passwort ändern": on the server (which needs the current password and ends the
    /// sessions), then the local store is resealed under the new one in one transaction,
    /// and the sync logs in again with it. Needs the server.
    pub fn change_own_password(&mut self, old: &str, new: &str) -> Result<(), WorkError> {
        if let Some(problem) = password_problem(new) {
            return Err(WorkError::Invalid(problem.into()));
        }
        let token = self
            .profile
            .session
            .as_ref()
            .map(|s| s.token.clone())
            .unwrap_or_default();
        let server = &self.server;
        let changed = self
            .runtime
            .block_on(async { api::change_password(&server.get().await?, &token, old, new).await });
        match changed {
            Ok(()) => {}
            Err(ApiError::Insecure(why)) => return Err(WorkError::Invalid(why)),
            Err(ApiError::Unreachable(_)) => {
                return Err(WorkError::Invalid(
                    "Zum Ändern des Passworts braucht es den Server".into(),
                ));
            }
            Err(ApiError::Refused {
                code: ErrorCode::WrongCredentials,
                ..
            }) => {
                return Err(WorkError::Invalid(
                    "Das bisherige Passwort stimmt nicht".into(),
                ));
            }
            Err(error) if error.is_no_session() => {
                return Err(WorkError::Invalid(
                    "Die Sitzung ist abgelaufen; bitte warten, bis die Verbindung wieder steht"
                        .into(),
                ));
            }
            Err(error) => {
                return Err(WorkError::Invalid(format!(
                    "Der Server lehnt ab: {}",
                    api::refusal_german(&error)
                )));
            }
        }
        self.store.change_password(new)?;
        let _ = self.commands.send(Command::Password(new.to_owned()));
        Ok(())
    }
}

/// The password does not open the store at `path`: if the store has a recovery key and
/// the server takes the password (an admin reset it), the key from the server opens the
/// store, which is then resealed under the new password. The login's session is kept for
/// the sync. Runs on the sign-in's thread, as the first sign-in's login does.
fn recover(
    runtime: &tokio::runtime::Runtime,
    path: &Path,
    how: &SignIn,
) -> Result<Store, SignInError> {
    let Some(device) = Store::recovery_device(path)? else {
        return Err(SignInError::WrongPassword);
    };
    // The stored connection settings are sealed: what the person entered now counts.
    let server = api::LazyServer::new(&how.server, &how.connection);
    let (answer, key) = runtime
        .block_on(async {
            let built = server.get().await?;
            let answer = api::login(&built, &how.login, &how.password).await?;
            let key = api::get_recovery(&built, &answer.token, &device).await;
            Ok((answer, key))
        })
        .map_err(|error| match error {
            ApiError::Unreachable(_) => SignInError::WrongPasswordOffline,
            other => refused(other),
        })?;
    let key = match key {
        Ok(key) => key,
        Err(ApiError::Refused { status: 404, .. }) => return Err(SignInError::NotRecoverable),
        Err(ApiError::Unreachable(_)) => return Err(SignInError::WrongPasswordOffline),
        Err(other) => return Err(refused(other)),
    };
    let key = crate::store::RecoveryKey::decode(&key).ok_or(SignInError::NotRecoverable)?;
    let store = match Store::open_with_recovery(path, &key) {
        Err(StoreError::WrongPassword) => return Err(SignInError::NotRecoverable),
        other => other?,
    };
    let mut profile = store.profile()?;
    if profile.account_id != answer.account_id {
        return Err(SignInError::Refused(
            "Der Server kennt dieses Konto unter einer anderen Kennung".into(),
        ));
    }
    store.change_password(&how.password)?;
    profile.session = Some(Session {
        token: answer.token,
        peer_id: answer.peer_id,
    });
    profile.directory_id = answer.directory_id;
    profile.role = answer.role;
    store.set_profile(&profile)?;
    tracing::info!("the local store was opened with the recovery key and resealed");
    Ok(store)
}

/// The password rules of the manuals (at least 8 characters with a lower-case and an
/// upper-case letter, a digit and a special character), checked before the server is
/// asked (it checks them again).
pub fn password_problem(password: &str) -> Option<&'static str> {
    let has = |f: fn(char) -> bool| password.chars().any(f);
    if password.chars().count() < 8 {
        Some("Das Passwort braucht mindestens 8 Zeichen")
    } else if !(has(char::is_lowercase)
        && has(char::is_uppercase)
        && has(|c| c.is_ascii_digit())
        && has(|c| !c.is_alphanumeric()))
    {
        Some("Das Passwort braucht Klein- und Großbuchstaben, eine Ziffer und ein Sonderzeichen")
    } else {
        None
    }
}
