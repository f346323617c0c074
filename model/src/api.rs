//! The HTTP contract between the sync server and its clients: every route's path, the
//! JSON it takes and gives, and the error codes, defined once. The server's handlers
//! and the desktop client's calls both use these types, so neither side can drift from
//! the other; serde only, no IO.
//!
//! Everything else travels over the automerge-repo sync protocol (`GET /sync`).
//!
//! Ids in requests stay strings where the server must tell a malformed id apart from a
//! refused one (`bad-document-id` against `forbidden`): a typed field would turn both
//! into the generic `invalid-request`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The paths of the routes. Templates name their one parameter in braces, as the
/// server's router writes them; [`fill`] puts a value in.
pub mod paths {
    pub const LOGIN: &str = "/api/login";
    pub const LOGOUT: &str = "/api/logout";
    pub const PASSWORD: &str = "/api/password";
    pub const DOCUMENTS: &str = "/api/documents";
    pub const STAFF: &str = "/api/staff";
    pub const ACCOUNTS: &str = "/api/accounts";
    pub const ACCOUNT_LOCK: &str = "/api/accounts/{account}/lock";
    pub const ACCOUNT_UNLOCK: &str = "/api/accounts/{account}/unlock";
    pub const ACCOUNT_DELETE: &str = "/api/accounts/{account}/delete";
    pub const ACCOUNT_PASSWORD: &str = "/api/accounts/{account}/password";
    /// A new invitation e-mail for a staff account that has not set its password.
    pub const ACCOUNT_INVITATION: &str = "/api/accounts/{account}/invitation";
    /// The signed-in member of staff deletes their own account.
    pub const OWN_ACCOUNT_DELETE: &str = "/api/account/delete";
    /// A device's recovery key: stored at a sign-in, handed back after a password reset
    /// so the device can re-key its local store (see ARCHITECTURE.md).
    pub const RECOVERY: &str = "/api/recovery/{device}";
    /// The web page where a person (role `client`) signs in to delete their own account.
    pub const ACCOUNT_PAGE: &str = "/account";
    pub const CLIENT_DELETE: &str = "/api/clients/{record}/delete";
    pub const CLIENT_RESTORE: &str = "/api/clients/{record}/restore";
    pub const CLIENT_CONTACT: &str = "/api/clients/{record}/contact";
    pub const CLIENT_PASSWORD: &str = "/api/clients/{record}/password";
    pub const CLIENT_INVITATION: &str = "/api/clients/{record}/invitation";
    pub const INVITATION_PAGE: &str = "/invitation/{token}";
    pub const BLOB: &str = "/api/blobs/{sha256}";
    pub const SYNC: &str = "/sync";
    pub const HEALTH: &str = "/healthz";
    pub const METRICS: &str = "/metrics";

    /// `template` with its parameter (`{…}`) replaced by `value`.
    pub fn fill(template: &str, value: &str) -> String {
        match (template.find('{'), template.find('}')) {
            (Some(open), Some(close)) if open < close => {
                format!("{}{value}{}", &template[..open], &template[close + 1..])
            }
            _ => template.to_owned(),
        }
    }
}

/// What an account may do. Staff are admins and counsellors; a client (a counselled
/// person, "ratsuchende Person") has an account only to set a password and sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Counsellor,
    Client,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Counsellor, Role::Client];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Counsellor => "counsellor",
            Role::Client => "client",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Admins and counsellors.
    pub fn is_staff(self) -> bool {
        self != Role::Client
    }
}

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    Active,
    Locked,
    Deleted,
}

impl AccountState {
    pub const ALL: [AccountState; 3] = [
        AccountState::Active,
        AccountState::Locked,
        AccountState::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::Locked => "locked",
            AccountState::Deleted => "deleted",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }
}

/// Every error the API answers, as `{"error": CODE}` with an HTTP status. The codes are
/// stable: clients match on them, never on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// A wrong login or password, and equally a locked or deleted account.
    WrongCredentials,
    RateLimited,
    NoSession,
    PasswordTooShort,
    PasswordTooLong,
    PasswordMissingClass,
    PasswordControlCharacter,
    PasswordTooCommon,
    PasswordTooWeak,
    LoginTaken,
    NoSuchAccount,
    UnknownRole,
    /// An admin may not lock, delete or set the password of their own account.
    NotYourself,
    /// The last active admin of a tenant cannot delete their own account.
    LastAdmin,
    DocumentIdTaken,
    CreationMissing,
    BadCreation,
    BadDocumentId,
    UnknownKind,
    BadEmail,
    BadPhone,
    NoEmail,
    ClientNotActive,
    BadHash,
    HashMismatch,
    Forbidden,
    NotFound,
    NotJson,
    MalformedJson,
    InvalidRequest,
    MalformedRequest,
    TooLarge,
    Timeout,
    TooManyConnections,
    Internal,
    /// A code this client does not know yet (a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::WrongCredentials => "wrong-credentials",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::NoSession => "no-session",
            ErrorCode::PasswordTooShort => "password-too-short",
            ErrorCode::PasswordTooLong => "password-too-long",
            ErrorCode::PasswordMissingClass => "password-missing-class",
            ErrorCode::PasswordControlCharacter => "password-control-character",
            ErrorCode::PasswordTooCommon => "password-too-common",
            ErrorCode::PasswordTooWeak => "password-too-weak",
            ErrorCode::LoginTaken => "login-taken",
            ErrorCode::NoSuchAccount => "no-such-account",
            ErrorCode::UnknownRole => "unknown-role",
            ErrorCode::NotYourself => "not-yourself",
            ErrorCode::LastAdmin => "last-admin",
            ErrorCode::DocumentIdTaken => "document-id-taken",
            ErrorCode::CreationMissing => "creation-missing",
            ErrorCode::BadCreation => "bad-creation",
            ErrorCode::BadDocumentId => "bad-document-id",
            ErrorCode::UnknownKind => "unknown-kind",
            ErrorCode::BadEmail => "bad-email",
            ErrorCode::BadPhone => "bad-phone",
            ErrorCode::NoEmail => "no-email",
            ErrorCode::ClientNotActive => "client-not-active",
            ErrorCode::BadHash => "bad-hash",
            ErrorCode::HashMismatch => "hash-mismatch",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not-found",
            ErrorCode::NotJson => "not-json",
            ErrorCode::MalformedJson => "malformed-json",
            ErrorCode::InvalidRequest => "invalid-request",
            ErrorCode::MalformedRequest => "malformed-request",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TooManyConnections => "too-many-connections",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// A refused password, for whatever reason of the policy.
    pub fn is_password_policy(self) -> bool {
        matches!(
            self,
            ErrorCode::PasswordTooShort
                | ErrorCode::PasswordTooLong
                | ErrorCode::PasswordMissingClass
                | ErrorCode::PasswordControlCharacter
                | ErrorCode::PasswordTooCommon
                | ErrorCode::PasswordTooWeak
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
}

/// `POST /api/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub login: String,
    pub password: String,
}

/// The session token, the account it belongs to, the peer id the sync websocket must
/// use with it, and the account's directory document (what it may read).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAnswer {
    pub token: String,
    pub account_id: String,
    pub peer_id: String,
    pub directory_id: String,
    pub tenant: String,
    pub role: Role,
}

/// `POST /api/password`: the signed-in person's own password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub old: String,
    pub new: String,
}

/// `POST /api/documents`: a client announces a document it created, before it syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The automerge-repo document id, bs58check, in its one canonical spelling.
    pub id: String,
    /// A [`crate::DocKind`]'s name: `client-record`, `timeline`, …
    pub kind: String,
    /// The client record a per-person document belongs to.
    #[serde(default)]
    pub person: Option<String>,
    /// A client record's creating change (hex): the only change but the server's that
    /// may write the record's server-only fields.
    #[serde(default)]
    pub creation: Option<String>,
}

/// `POST /api/clients/{record}/delete` and `…/restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// The day the person was marked for deletion (`YYYY-MM-DD`), none after a restore.
    pub deleted_on: Option<String>,
}

/// `PUT /api/clients/{record}/contact`: a person's e-mail address and phone number.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The contact document that holds the data now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactStored {
    pub contact_id: String,
}

/// One member of staff as colleagues see them (`GET /api/staff`): for names in lists
/// and for choosing a primary caretaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub login: String,
    pub role: Role,
}

/// One account as admins see it (`GET /api/accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: String,
    pub tenant: String,
    pub login: String,
    pub role: Role,
    pub state: AccountState,
}

/// `POST /api/accounts`: a staff account, either with a password an admin hands over
/// once, or with an e-mail address that gets an invitation to set it (exactly one of
/// the two). The address is used for the invitation only and not kept.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub login: String,
    pub role: Role,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /api/accounts/{account}/invitation`: where to send a new invitation.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffInvitation {
    pub email: String,
}

/// `POST /api/account/delete`: one's own account, confirmed with its password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteOwnAccount {
    pub password: String,
}

/// `PUT` and `GET /api/recovery/{device}`: a device's recovery key (32 random bytes,
/// base64url without padding). `{device}` is the device's own random id (22 to 64
/// characters of `[A-Za-z0-9_-]`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryKey {
    pub key: String,
}

/// The id of an account just created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCreated {
    pub account_id: String,
}

/// A password set by someone else ("Passwort vergeben"): `PUT
/// /api/accounts/{account}/password` for staff, `PUT /api/clients/{record}/password`
/// for a person's own account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPassword {
    pub password: String,
}

/// Debug without secrets or personal data: passwords, tokens and contact data never
/// reach a log through `{:?}`.
macro_rules! redacted_debug {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), " { .. }"))
            }
        }
    )*};
}

redacted_debug!(
    Login,
    PasswordChange,
    Contact,
    NewAccount,
    NewPassword,
    StaffInvitation,
    DeleteOwnAccount,
    RecoveryKey
);

impl fmt::Debug for LoginAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAnswer")
            .field("account_id", &self.account_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
