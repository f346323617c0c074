//! Blocking work (SQLite, PBKDF2) runs off the async workers, so that one slow query
//! or password check never stalls the connections sharing a worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::accounts::AccountError;
use crate::error::ApiError;

/// Runs blocking work off the async workers.
pub async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ApiError::internal()),
    }
}

/// How long a password check waits for its turn while as many checks for its login or
/// address run as may run at once (`throttle`'s `Refused::Busy`).
const PATIENCE: Duration = Duration::from_secs(20);

/// Runs a password check off the async workers, again and again a moment later while
/// it is [`AccountError::Busy`], for up to [`PATIENCE`]. Each attempt first takes one of
/// `checks`' permits and holds it while it runs, also if the request is dropped
/// meanwhile: PBKDF2 at 600,000 rounds is a CPU weapon, and only so many may run at
/// once (`max_concurrent_logins`). The permit is taken after the request's body was
/// read, so a slow client holds none.
pub async fn patiently<T: Send + 'static>(
    checks: &Arc<Semaphore>,
    check: impl Fn() -> Result<T, AccountError> + Send + Sync + 'static,
) -> Result<T, ApiError> {
    let check = Arc::new(check);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let attempt = check.clone();
        let Ok(permit) = checks.clone().acquire_owned().await else {
            return Err(ApiError::internal());
        };
        let running = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            attempt()
        });
        match running.await {
            Ok(Err(AccountError::Busy)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(result) => return result.map_err(Into::into),
            Err(_) => return Err(ApiError::internal()),
        }
    }
}
