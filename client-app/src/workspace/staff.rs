//! "Berater:innen-Accounts", for admins: the tenant's staff accounts as the server has
//! them, and what an admin does to them (create with an invitation e-mail or a password
//! given once, lock, unlock, delete, set a password, invite again). Accounts live on
//! the server only, so each of these is an online call ([`super::online`]); the server
//! checks that the caller is an admin, whatever the screen offers.

use model::api::{AccountSummary, NewAccount, Role};

use super::online::Pending;
use super::{WorkError, Workspace, password_problem};
use crate::api::{self, AccountAction};

/// How a new member of staff gets their password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// "Einladung per E-Mail": a link to set it; the address is not kept.
    Invitation { email: String },
    /// "Passwort vergeben": the admin hands it over once.
    Password(String),
}

/// A checked e-mail address, or why it is none.
fn email(address: &str) -> Result<String, WorkError> {
    let address = address.trim();
    let plausible = address
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !address.contains(char::is_whitespace);
    if plausible {
        Ok(address.to_owned())
    } else {
        Err(WorkError::Invalid(
            "Bitte eine gültige E-Mail-Adresse angeben".into(),
        ))
    }
}

impl Workspace {
    /// The tenant's staff accounts (admins and counsellors, also locked and deleted
    /// ones), by login; people's own accounts are managed with their record.
    pub fn staff_accounts(&self) -> Pending<Vec<AccountSummary>> {
        self.online(|server, token| async move {
            let mut accounts: Vec<AccountSummary> = api::accounts(&server, &token)
                .await?
                .into_iter()
                .filter(|account| account.role.is_staff())
                .collect();
            accounts.sort_by_cached_key(|a| (a.login.to_lowercase(), a.id.clone()));
            Ok(accounts)
        })
    }

    /// "Account anlegen": checked here (login, role, the e-mail address or the password
    /// rule), then created on the server.
    pub fn create_staff_account(
        &self,
        login: &str,
        role: Role,
        access: Access,
    ) -> Result<Pending<String>, WorkError> {
        let login = login.trim().to_owned();
        if login.chars().count() < 3 {
            return Err(WorkError::Invalid(
                "Der Accountname braucht mindestens 3 Zeichen".into(),
            ));
        }
        if !role.is_staff() {
            return Err(WorkError::Invalid(
                "Accounts für Klient:innen entstehen mit ihrem Datensatz".into(),
            ));
        }
        let (password, email) = match access {
            Access::Password(password) => {
                if let Some(problem) = password_problem(&password) {
                    return Err(WorkError::Invalid(problem.into()));
                }
                (Some(password), None)
            }
            Access::Invitation { email: address } => (None, Some(email(&address)?)),
        };
        let new = NewAccount {
            login,
            role,
            password,
            email,
        };
        Ok(self.online(move |server, token| async move {
            Ok(api::create_account(&server, &token, &new).await?.account_id)
        }))
    }

    /// "sperren": the account cannot sign in, and its sessions end at once.
    pub fn lock_staff_account(&self, account: &str) -> Pending<()> {
        self.account_action(account, AccountAction::Lock)
    }

    /// "entsperren".
    pub fn unlock_staff_account(&self, account: &str) -> Pending<()> {
        self.account_action(account, AccountAction::Unlock)
    }

    /// "löschen": the account is deleted on the server; its sessions end at once.
    pub fn delete_staff_account(&self, account: &str) -> Pending<()> {
        self.account_action(account, AccountAction::Delete)
    }

    fn account_action(&self, account: &str, action: AccountAction) -> Pending<()> {
        let account = account.to_owned();
        self.online(move |server, token| async move {
            api::account_action(&server, &token, &account, action).await
        })
    }

    /// "Passwort vergeben" for a member of staff, checked against the password rule.
    pub fn set_staff_password(
        &self,
        account: &str,
        password: &str,
    ) -> Result<Pending<()>, WorkError> {
        if let Some(problem) = password_problem(password) {
            return Err(WorkError::Invalid(problem.into()));
        }
        let account = account.to_owned();
        let password = password.to_owned();
        Ok(self.online(move |server, token| async move {
            api::set_account_password(&server, &token, &account, &password).await
        }))
    }

    /// "Einladung erneut senden": a new link by e-mail to set the password.
    pub fn invite_staff(&self, account: &str, address: &str) -> Result<Pending<()>, WorkError> {
        let address = email(address)?;
        let account = account.to_owned();
        Ok(self.online(move |server, token| async move {
            api::invite_staff(&server, &token, &account, &address).await
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_checked_before_anything_is_sent() {
        assert_eq!(email(" ben@example.org ").unwrap(), "ben@example.org");
        for bad in [
            "",
            "ben",
            "ben@",
            "@example.org",
            "ben@localhost",
            "b en@example.org",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
    }
}
