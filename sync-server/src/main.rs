//! `sync-server serve` runs the server; `sync-server admin …` manages accounts (the
//! first admin, staff accounts, locking, passwords) and shows the 24-hour access log.
//! Admin commands work on the database directly: a running server ends the sessions of
//! a locked or deleted account at once, and its live connections within a minute.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ring::rand::SystemRandom;
use sync_server::accounts::{AccountState, Accounts, Role};
use sync_server::db;
use sync_server::{Config, open_state, run};

const USAGE: &str = "usage:
  sync-server serve [--config FILE]
  sync-server admin create-admin --tenant TENANT --login LOGIN [--config FILE]
  sync-server admin ensure-admin --tenant TENANT --login LOGIN [--config FILE]
      (creates the admin only if the server has no account yet)
  sync-server admin create-account --tenant TENANT --login LOGIN --role admin|counsellor
  sync-server admin list [--tenant TENANT]
  sync-server admin lock|unlock|delete --login LOGIN
  sync-server admin set-password --login LOGIN   (prints a new password, ends sessions)
  sync-server admin access-log                   (the last 24 hours, with IP addresses)

environment: SYNC_SERVER_DATA_DIR, SYNC_SERVER_LISTEN override the config file";

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    match cli(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync-server: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Takes `--name value` from `args`.
fn option(args: &mut Vec<String>, name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    if i + 1 >= args.len() {
        return None;
    }
    let value = args.remove(i + 1);
    args.remove(i);
    Some(value)
}

fn cli(mut args: Vec<String>) -> anyhow::Result<()> {
    let config_file = option(&mut args, "--config").map(PathBuf::from);
    let config = Config::load(config_file.as_deref(), |name| std::env::var(name).ok())?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve"] => serve(config),
        ["admin", command @ ("create-admin" | "ensure-admin"), ..] => {
            let only_if_empty = *command == "ensure-admin";
            let tenant = option(&mut args, "--tenant").context("--tenant is missing")?;
            let login = option(&mut args, "--login").context("--login is missing")?;
            create_admin(&config, &tenant, &login, only_if_empty)
        }
        ["admin", "create-account", ..] => {
            let tenant = option(&mut args, "--tenant").context("--tenant is missing")?;
            let login = option(&mut args, "--login").context("--login is missing")?;
            let role = option(&mut args, "--role").context("--role is missing")?;
            let role = Role::parse(&role)
                .filter(|role| matches!(role, Role::Admin | Role::Counsellor))
                .context("--role is admin or counsellor")?;
            let password = generated_password()?;
            let id = accounts(&config)?.create(None, &tenant, &login, role, &password)?;
            println!("account created: login {login}, id {id}");
            println!("password (shown once, hand it over on a protected channel): {password}");
            Ok(())
        }
        ["admin", "list", ..] => {
            let tenant = option(&mut args, "--tenant");
            for a in accounts(&config)?.list(tenant.as_deref())? {
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
        ["admin", command @ ("lock" | "unlock" | "delete"), ..] => {
            let state = match *command {
                "lock" => AccountState::Locked,
                "unlock" => AccountState::Active,
                _ => AccountState::Deleted,
            };
            let login = option(&mut args, "--login").context("--login is missing")?;
            let accounts = accounts(&config)?;
            let id = accounts.id_of(&login)?;
            accounts.set_state(None, &id, state)?;
            println!("account {login} is now {}", state.as_str());
            Ok(())
        }
        ["admin", "set-password", ..] => {
            let login = option(&mut args, "--login").context("--login is missing")?;
            let accounts = accounts(&config)?;
            let id = accounts.id_of(&login)?;
            let password = generated_password()?;
            accounts.set_password(None, &id, &password)?;
            println!("new password for {login} (shown once; sessions ended): {password}");
            Ok(())
        }
        ["admin", "access-log"] => {
            for entry in accounts(&config)?.access_log()? {
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
        _ => bail!("{USAGE}"),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let state = open_state(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        tracing::info!(listen = %config.listen, "serving");
        run(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
        .await
    })
}

/// A password that meets the policy: 24 random hex digits plus fixed classes.
fn generated_password() -> anyhow::Result<String> {
    let random = sync_server::password::random_hex(&SystemRandom::new(), 12)?;
    Ok(format!("Aa1!{random}"))
}

/// Admin commands touch accounts only: no repo, no network.
fn accounts(config: &Config) -> anyhow::Result<Accounts> {
    Ok(Accounts::new(db::open(&config.database_path())?, config))
}

fn create_admin(
    config: &Config,
    tenant: &str,
    login: &str,
    only_if_empty: bool,
) -> anyhow::Result<()> {
    let accounts = accounts(config)?;
    if only_if_empty && accounts.count()? > 0 {
        println!("accounts exist already; no admin created");
        return Ok(());
    }
    let password = generated_password()?;
    let id = accounts.create(None, tenant, login, Role::Admin, &password)?;
    println!("admin account created: login {login}, id {id}");
    println!("password (shown once, change it after the first login): {password}");
    Ok(())
}
