//! Login throttling: attackers are slowed down, people are not locked out.
//!
//! Every password check (a login, the old password of a password change) first takes an
//! attempt from [`Throttle::begin`], which decides and records in one step (so that
//! concurrent tries cannot race past a limit), and then reports how it ended. Failures
//! are counted under three keys, and each key makes its own attempts wait longer the
//! more failed, doubling from one second up to [`MAX_DELAY`]:
//!
//! - the login and the address together: a person who mistypes a few times waits a
//!   second or two; someone guessing one account from one place waits ever longer;
//! - the address: someone guessing many accounts from one place. An address the
//!   account logged in from successfully in the last 24 hours is exempt, so colleagues
//!   behind one router are not stopped by one of them (or by an attacker among them);
//! - the login alone, from addresses it never logged in from: someone guessing one
//!   account from ever new addresses. Again the account's known addresses are exempt,
//!   so the person keeps logging in from their own while their account is attacked.
//!
//! Checks in progress count as failures until they end: within a key's allowance they
//! run side by side, beyond it one at a time, each after the wait the last one earned.
//! A check that would exceed that is [`Refused::Busy`] and tried again a moment later
//! (the HTTP layer does that), so that a hundred parallel tries are evaluated no
//! faster than a hundred in a row. Nothing is ever locked for good: failures are
//! forgotten [`FORGET_AFTER`] after the last one.
//!
//! What is kept is bounded: logins only as a truncated SHA-256 (a megabyte of login
//! name costs 16 bytes), IPv6 addresses by their /64 prefix (one host has a whole
//! prefix), at most [`MAX_ENTRIES`] keys, pruned as they expire. Addresses live here in
//! memory only, and at most 24 hours.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// The longest any attempt has to wait.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures are forgotten this long after the last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// How long a successful login makes its address known for its account.
pub const KNOWN_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// Keys kept at most (failures and known addresses each).
pub const MAX_ENTRIES: usize = 100_000;

/// Failures a key allows before its attempts wait, and checks at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub pair: u32,
    pub address: u32,
    pub account: u32,
}

impl Default for Allowance {
    fn default() -> Self {
        Self {
            pair: 3,
            address: 20,
            account: 10,
        }
    }
}

type LoginKey = [u8; 16];

/// An IPv4 address, or the /64 prefix of an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(u128);

impl From<IpAddr> for AddressKey {
    fn from(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(u128::from(u32::from(v4))),
                None => Self((u128::from(v6) & !((1u128 << 64) - 1)) | (1 << 32)),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Pair(LoginKey, AddressKey),
    Address(AddressKey),
    Account(LoginKey),
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    failures: u32,
    last_failure_ms: u64,
    /// No attempt under this key before this time.
    wait_until_ms: u64,
    in_flight: u32,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// When each login last logged in from each address.
    known: HashMap<(LoginKey, AddressKey), u64>,
}

/// An attempt in progress: report how it ended with [`Throttle::failed`] or
/// [`Throttle::succeeded`]; dropping it unreported counts as a failure.
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    keys: Vec<Key>,
    login: LoginKey,
    address: AddressKey,
    began_ms: u64,
    reported: bool,
}

/// Why an attempt may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Failures under one of its keys earned a wait: try again after this long.
    Wait(Duration),
    /// Checks under one of its keys are in progress, as many as may run at once: try
    /// again when one has ended.
    Busy,
}

#[derive(Debug, Default)]
pub struct Throttle {
    state: Mutex<State>,
    allowance: Allowance,
}

/// The login as a key: its trimmed, lower-cased text, hashed and truncated.
pub fn login_key(login: &str) -> LoginKey {
    let normalised = login.trim().to_lowercase();
    let digest = ring::digest::digest(&ring::digest::SHA256, normalised.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest.as_ref()[..16]);
    key
}

/// The wait after `failures` failures of which `allowed` were free.
fn delay(failures: u32, allowed: u32) -> Duration {
    if failures < allowed {
        return Duration::ZERO;
    }
    let doublings = (failures - allowed).min(20);
    Duration::from_secs(1u64 << doublings).min(MAX_DELAY)
}

impl Throttle {
    pub fn new(allowance: Allowance) -> Self {
        Self {
            state: Mutex::new(State::default()),
            allowance,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update leaves the maps consistent; a panic elsewhere changes nothing here.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An attempt to check a password of `login` from `address` at `now_ms`, or how long
    /// to wait first.
    pub fn begin(&self, login: &str, address: IpAddr, now_ms: u64) -> Result<Attempt<'_>, Refused> {
        let login = login_key(login);
        let address = AddressKey::from(address);
        let mut state = self.state();
        let known = state
            .known
            .get(&(login, address))
            .is_some_and(|at| now_ms.saturating_sub(*at) < KNOWN_FOR.as_millis() as u64);
        let mut keys = vec![Key::Pair(login, address)];
        if !known {
            keys.push(Key::Address(address));
            keys.push(Key::Account(login));
        }
        let mut wait_ms = 0u64;
        let mut busy = false;
        for key in &keys {
            if let Some(entry) = state.entries.get(key) {
                wait_ms = wait_ms.max(entry.wait_until_ms.saturating_sub(now_ms));
                let failures = if now_ms.saturating_sub(entry.last_failure_ms)
                    > FORGET_AFTER.as_millis() as u64
                {
                    0
                } else {
                    entry.failures
                };
                // Checks in progress count as failures: beyond the allowance, one at a time.
                busy |= entry.in_flight > 0
                    && failures.saturating_add(entry.in_flight) >= self.allowed(key);
            }
        }
        if wait_ms > 0 {
            return Err(Refused::Wait(
                Duration::from_millis(wait_ms).max(Duration::from_secs(1)),
            ));
        }
        if busy {
            return Err(Refused::Busy);
        }
        if state.entries.len() + keys.len() > MAX_ENTRIES {
            prune(&mut state.entries, now_ms);
        }
        for key in &keys {
            state.entries.entry(*key).or_default().in_flight += 1;
        }
        Ok(Attempt {
            throttle: self,
            keys,
            login,
            address,
            began_ms: now_ms,
            reported: false,
        })
    }

    /// The password was wrong (or the account cannot log in).
    pub fn failed(&self, mut attempt: Attempt<'_>, now_ms: u64) {
        attempt.reported = true;
        self.record_failure(&attempt.keys, now_ms);
    }

    fn allowed(&self, key: &Key) -> u32 {
        match key {
            Key::Pair(..) => self.allowance.pair,
            Key::Address(_) => self.allowance.address,
            Key::Account(_) => self.allowance.account,
        }
    }

    fn record_failure(&self, keys: &[Key], now_ms: u64) {
        let mut state = self.state();
        for key in keys {
            let allowed = self.allowed(key);
            let entry = state.entries.entry(*key).or_default();
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if now_ms.saturating_sub(entry.last_failure_ms) > FORGET_AFTER.as_millis() as u64 {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure_ms = now_ms;
            entry.wait_until_ms = now_ms + delay(entry.failures, allowed).as_millis() as u64;
        }
    }

    /// The password was right: this login and address start over, and the address is
    /// known for the login from now on.
    pub fn succeeded(&self, mut attempt: Attempt<'_>, now_ms: u64) {
        attempt.reported = true;
        let mut state = self.state();
        for key in &attempt.keys {
            if let Some(entry) = state.entries.get_mut(key) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
            }
        }
        state
            .entries
            .remove(&Key::Pair(attempt.login, attempt.address));
        if state.known.len() >= MAX_ENTRIES {
            state
                .known
                .retain(|_, at| now_ms.saturating_sub(*at) < KNOWN_FOR.as_millis() as u64);
            if state.known.len() >= MAX_ENTRIES {
                // Still full of current entries: the oldest known address goes.
                if let Some(oldest) = state
                    .known
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(k, _)| *k)
                {
                    state.known.remove(&oldest);
                }
            }
        }
        state.known.insert((attempt.login, attempt.address), now_ms);
    }

    /// Forgets failures and known addresses that no longer count.
    pub fn prune(&self, now_ms: u64) {
        let mut state = self.state();
        prune(&mut state.entries, now_ms);
        state
            .known
            .retain(|_, at| now_ms.saturating_sub(*at) < KNOWN_FOR.as_millis() as u64);
    }

    /// Keys kept now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        let state = self.state();
        state.entries.len() + state.known.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops entries whose failures are forgotten and that no check holds; if still full,
/// the half with the oldest failures.
fn prune(entries: &mut HashMap<Key, Entry>, now_ms: u64) {
    let forget = FORGET_AFTER.as_millis() as u64;
    entries.retain(|_, e| e.in_flight > 0 || now_ms.saturating_sub(e.last_failure_ms) <= forget);
    if entries.len() >= MAX_ENTRIES {
        let mut ages: Vec<u64> = entries.values().map(|e| e.last_failure_ms).collect();
        let middle = ages.len() / 2;
        let (_, cut, _) = ages.select_nth_unstable(middle);
        let cut = *cut;
        entries.retain(|_, e| e.in_flight > 0 || e.last_failure_ms > cut);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.reported {
            // A check that panicked or was abandoned counts as a failure.
            self.throttle.record_failure(&self.keys, self.began_ms);
        }
    }
}

#[cfg(test)]
mod tests;
