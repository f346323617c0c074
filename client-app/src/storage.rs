//! samod's [`Storage`] over the encrypted [`Store`]: every operation runs in call order
//! on one thread (a later write never lands before an earlier one), and every write
//! marks its document as changed, so the derived rows and open screens follow remote
//! changes.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use samod::storage::{Storage, StorageKey};
use tokio::sync::oneshot;

use crate::store::Store;

type Job = Box<dyn FnOnce(&Store) + Send>;

/// Documents whose stored chunks changed since the last [`Changed::take`], whether
/// anything else the window shows changed (connection, outbox, unsynced count,
/// profile), and who to wake when either happens.
#[derive(Default)]
pub struct Changed {
    docs: Mutex<BTreeSet<String>>,
    poked: AtomicBool,
    wake: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
}

impl std::fmt::Debug for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changed").finish_non_exhaustive()
    }
}

impl Changed {
    pub fn mark(&self, doc: &str) {
        self.docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(doc.to_owned());
        self.wake();
    }

    /// Something other than a document changed.
    pub fn poke(&self) {
        self.poked.store(true, Ordering::Release);
        self.wake();
    }

    fn wake(&self) {
        let wake = self.wake.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(wake) = wake {
            wake();
        }
    }

    /// The documents changed since the last call, and whether anything at all changed.
    pub fn take(&self) -> (BTreeSet<String>, bool) {
        let docs = std::mem::take(&mut *self.docs.lock().unwrap_or_else(|p| p.into_inner()));
        let poked = self.poked.swap(false, Ordering::AcqRel);
        let any = poked || !docs.is_empty();
        (docs, any)
    }

    /// `wake` is called (from any thread) whenever a document changes.
    pub fn set_waker(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        *self.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(wake);
    }
}

#[derive(Clone)]
pub struct EncryptedStorage {
    jobs: mpsc::Sender<Job>,
    changed: Arc<Changed>,
}

impl std::fmt::Debug for EncryptedStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptedStorage")
    }
}

fn doc_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

impl EncryptedStorage {
    pub fn new(store: Arc<Store>, changed: Arc<Changed>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("local-store".into())
            .spawn(move || {
                for job in queue {
                    job(&store);
                }
            })
            .map(|_| ())
            .unwrap_or_else(|error| tracing::error!(%error, "cannot start the store thread"));
        Self { jobs, changed }
    }

    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> futures::future::BoxFuture<'static, Option<T>> {
        let (tx, rx) = oneshot::channel();
        let sent = self
            .jobs
            .send(Box::new(move |store| {
                let _ = tx.send(job(store));
            }))
            .is_ok();
        Box::pin(async move { if sent { rx.await.ok() } else { None } })
    }
}

fn logged<T>(result: Result<T, crate::store::StoreError>, what: &str) -> Option<T> {
    result
        .map_err(|error| tracing::error!(%error, "local store: {what} failed"))
        .ok()
}

impl Storage for EncryptedStorage {
    fn load(&self, key: StorageKey) -> impl Future<Output = Option<Vec<u8>>> + Send {
        let key = key.to_string();
        let loaded = self.run(move |store| logged(store.load_chunk(&key), "load").flatten());
        async move { loaded.await.flatten() }
    }

    fn load_range(
        &self,
        prefix: StorageKey,
    ) -> impl Future<Output = HashMap<StorageKey, Vec<u8>>> + Send {
        let exact = prefix.to_string();
        let loaded = self.run(move |store| {
            let mut found =
                logged(store.load_range(&format!("{exact}/")), "load").unwrap_or_default();
            if let Some(Some(value)) = logged(store.load_chunk(&exact), "load") {
                found.push((exact.clone(), value));
            }
            found
        });
        async move {
            let mut found = HashMap::new();
            for (key, value) in loaded.await.unwrap_or_default() {
                if let Ok(key) = StorageKey::from_parts(key.split('/')) {
                    found.insert(key, value);
                }
            }
            found
        }
    }

    fn put(&self, key: StorageKey, data: Vec<u8>) -> impl Future<Output = ()> + Send {
        let key = key.to_string();
        let done =
            self.run(move |store| logged(store.put_chunk(&key, &data), "write").map(|()| key));
        let changed = self.changed.clone();
        async move {
            if let Some(Some(key)) = done.await {
                changed.mark(doc_of(&key));
            }
        }
    }

    fn delete(&self, key: StorageKey) -> impl Future<Output = ()> + Send {
        let key = key.to_string();
        let done = self.run(move |store| logged(store.delete_chunk(&key), "delete"));
        async move {
            let _ = done.await;
        }
    }
}
