//! `sync-server serve` runs the server; `sync-server admin …` manages accounts (the
//! first admin, staff accounts, locking, passwords), shows the 24-hour access log, and
//! backs up and checks the database. Admin commands work on the database directly, with
//! the same configuration as `serve`: a running server ends the sessions of a locked or
//! deleted account at once, and its live connections within a minute.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use ring::rand::SystemRandom;
use sync_server::accounts::{AccountState, Accounts, Role};
use sync_server::config::{CONFIG_VARIABLE, LogFormat};
use sync_server::db;
use sync_server::{Config, open_state, run};

/// The case-records sync server.
///
/// Every setting of the config file is also `SYNC_SERVER_<KEY>` in the environment,
/// which wins over the file.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The TOML config file.
    #[arg(long, global = true, env = CONFIG_VARIABLE, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API and the sync websocket until SIGTERM or SIGINT.
    Serve,
    /// Manage accounts and the database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin account and print its generated password once.
    CreateAdmin(NewAdmin),
    /// The same, only if the server has no account yet (for a first start).
    EnsureAdmin(NewAdmin),
    /// Create a staff account and print its generated password once.
    CreateAccount {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// admin or counsellor.
        #[arg(long, value_parser = staff_role)]
        role: Role,
        #[command(flatten)]
        database: Existing,
    },
    /// List the accounts, of one tenant or of all.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        database: Existing,
    },
    /// Lock an account: its sessions end at once.
    Lock(ByLogin),
    /// Unlock a locked account.
    Unlock(ByLogin),
    /// Delete an account: its sessions end at once.
    Delete(ByLogin),
    /// Give an account a new generated password, printed once; its sessions end.
    SetPassword(ByLogin),
    /// Logins and connections with their IP address, from the last 24 hours.
    AccessLog {
        #[command(flatten)]
        database: Existing,
    },
    /// Write a consistent copy of the database to FILE, also while the server runs.
    Backup {
        /// Where the copy goes; an existing file is not overwritten.
        file: PathBuf,
        #[command(flatten)]
        database: Existing,
    },
    /// Check the database's integrity; exits non-zero on damage.
    Check {
        #[command(flatten)]
        database: Existing,
    },
}

#[derive(Debug, Args)]
struct NewAdmin {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    login: String,
    #[command(flatten)]
    database: Existing,
}

#[derive(Debug, Args)]
struct ByLogin {
    #[arg(long)]
    login: String,
    #[command(flatten)]
    database: Existing,
}

/// Admin commands refuse to work on a database that does not exist: a typo in the data
/// directory would otherwise create a second, empty one.
#[derive(Debug, Args)]
struct Existing {
    /// Create the database if there is none (a first start).
    #[arg(long)]
    create: bool,
}

fn staff_role(name: &str) -> Result<Role, String> {
    Role::parse(name)
        .filter(|role| role.is_staff())
        .ok_or_else(|| "--role is admin or counsellor".to_owned())
}

fn main() -> ExitCode {
    // clap prints help, versions and usage errors itself (exit 0 and 2).
    let cli = Cli::parse();
    let config = match settings_from_environment()
        .and_then(|vars| Ok(Config::load(cli.config.as_deref(), vars)?))
    {
        Ok(config) => config,
        Err(error) => {
            eprintln!("sync-server: {error:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let result = match cli.command {
        Command::Serve => serve(config),
        Command::Admin(admin) => run_admin(&config, admin),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The environment's variables as text; a setting that is not UTF-8 is an error, any
/// other such variable is none of ours.
fn settings_from_environment() -> anyhow::Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => vars.push((name, value)),
            Err(_) if name.starts_with("SYNC_SERVER_") => bail!("{name} is not valid UTF-8"),
            Err(_) => {}
        }
    }
    Ok(vars)
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`), as text or JSON
/// lines (`log_format`); colours only on a terminal, never into journald or a file.
fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run_admin(config: &Config, admin: AdminCommand) -> anyhow::Result<()> {
    match admin {
        AdminCommand::CreateAdmin(new) => create_admin(config, new, false),
        AdminCommand::EnsureAdmin(new) => create_admin(config, new, true),
        AdminCommand::CreateAccount {
            tenant,
            login,
            role,
            database,
        } => {
            let password = generated_password()?;
            let id = accounts(config, &database)?.create(None, &tenant, &login, role, &password)?;
            println!("account created: login {login}, id {id}");
            println!("password (shown once, hand it over on a protected channel): {password}");
            Ok(())
        }
        AdminCommand::List { tenant, database } => {
            for a in accounts(config, &database)?.list(tenant.as_deref())? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.tenant,
                    a.login,
                    a.role.as_str(),
                    a.state.as_str()
                );
            }
            Ok(())
        }
        AdminCommand::Lock(by) => set_state(config, by, AccountState::Locked),
        AdminCommand::Unlock(by) => set_state(config, by, AccountState::Active),
        AdminCommand::Delete(by) => set_state(config, by, AccountState::Deleted),
        AdminCommand::SetPassword(by) => {
            let accounts = accounts(config, &by.database)?;
            let id = accounts.id_of(&by.login)?;
            let password = generated_password()?;
            accounts.set_password(None, &id, &password)?;
            println!(
                "new password for {} (shown once; sessions ended): {password}",
                by.login
            );
            Ok(())
        }
        AdminCommand::AccessLog { database } => {
            for entry in accounts(config, &database)?.access_log()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    entry.at_ms,
                    entry.ip,
                    entry.account_id.as_deref().unwrap_or("-"),
                    entry.event
                );
            }
            Ok(())
        }
        AdminCommand::Backup { file, database } => {
            let path = existing_database(config, &database)?;
            db::backup(&path, &file)
                .with_context(|| format!("cannot back up into {}", file.display()))?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        AdminCommand::Check { database } => {
            let path = existing_database(config, &database)?;
            let problems = db::check(&path)?;
            if problems.is_empty() {
                println!("{}: ok", path.display());
                Ok(())
            } else {
                for problem in &problems {
                    println!("{problem}");
                }
                bail!("{} is damaged: {} problems", path.display(), problems.len())
            }
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        // Before anything else: a SIGTERM during start-up is a graceful stop too.
        let stop = stop_signal()?;
        let state = open_state(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        tracing::info!(listen = %config.listen, "serving");
        run(listener, state, async move {
            stop.await;
            tracing::info!("shutting down");
        })
        .await
    })
}

/// Resolves at the first SIGTERM (systemd's stop) or SIGINT (Ctrl-C).
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// A password that meets the policy: 24 random hex digits plus fixed classes.
fn generated_password() -> anyhow::Result<String> {
    let random = sync_server::password::random_hex(&SystemRandom::new(), 12)?;
    Ok(format!("Aa1!{random}"))
}

/// The database of `config`, which must exist unless `--create` was given.
fn existing_database(config: &Config, database: &Existing) -> anyhow::Result<PathBuf> {
    let path = config.database_path();
    if !database.create && !path.exists() {
        bail!(
            "there is no database at {} (check data_dir, --config or SYNC_SERVER_CONFIG; \
             `serve` creates it at its first start, or pass --create)",
            path.display()
        );
    }
    Ok(path)
}

/// Admin commands touch accounts only: no repo, no network.
fn accounts(config: &Config, database: &Existing) -> anyhow::Result<Accounts> {
    let path = existing_database(config, database)?;
    Ok(Accounts::new(db::open(&path)?, config))
}

fn set_state(config: &Config, by: ByLogin, state: AccountState) -> anyhow::Result<()> {
    let accounts = accounts(config, &by.database)?;
    let id = accounts.id_of(&by.login)?;
    accounts.set_state(None, &id, state)?;
    println!("account {} is now {}", by.login, state.as_str());
    Ok(())
}

fn create_admin(config: &Config, new: NewAdmin, only_if_empty: bool) -> anyhow::Result<()> {
    let accounts = accounts(config, &new.database)?;
    if only_if_empty && accounts.count()? > 0 {
        println!("accounts exist already; no admin created");
        return Ok(());
    }
    let password = generated_password()?;
    let id = accounts.create(None, &new.tenant, &new.login, Role::Admin, &password)?;
    println!("admin account created: login {}, id {id}", new.login);
    println!("password (shown once, change it after the first login): {password}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_checked() {
        Cli::command().debug_assert();
        assert!(Cli::try_parse_from(["sync-server", "admin", "list", "--tenat", "x"]).is_err());
        let parsed = Cli::try_parse_from(["sync-server", "--config", "/etc/s.toml", "serve"])
            .expect("valid");
        assert_eq!(parsed.config.as_deref(), Some(Path::new("/etc/s.toml")));
        assert!(
            Cli::try_parse_from([
                "sync-server",
                "admin",
                "create-account",
                "--tenant",
                "t",
                "--login",
                "l",
                "--role",
                "client"
            ])
            .is_err(),
            "only staff roles"
        );
    }

    use clap::CommandFactory as _;
    use std::path::Path;
}
