//! The store's lock (锁定): whether the encrypted device store is open, and
//! how it is opened at start, by the password, or after an upgrade.
//!
//! The store file is SQLCipher under a random data key kept beside it
//! (`app_core::store::vault`). At start:
//!
//! - **No key file, no store** (a new device): a data key is made in the
//!   pre-enrolment slot and the store opens. Before enrolment it holds no
//!   farmer data (no one can sign in, nothing syncs); enrolment, which has
//!   the password, seals the key under it and removes that slot.
//! - **Open slot**: the device is not enrolled yet; the store opens.
//! - **Sealed**: the platform keystore's slot opens it if there is one
//!   (mobile); otherwise (the desktop) the app starts locked and
//!   [`Gate::unlock`] opens it with the password.
//! - **No key file, a plain store** (upgraded from a release without
//!   encryption): if it is not enrolled it is converted at once under a new
//!   pre-enrolment key; if it is, the app starts locked and the first
//!   unlock checks the password against the hash kept at enrolment, seals
//!   a new key under it and converts the file (`Store::encrypt_plain`).
//!
//! While locked, every command but the session, unlock, language and app
//! facts answers `store.locked`. When the engine learns that the device was
//! revoked, the gate drops the open store (back to locked) and deletes the
//! keystore slot: the rest stays behind the password, and the unsent work
//! stays in the outbox for `re_enrol` once unlocked.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use app_core::api::SessionState;
use app_core::clock::SharedClock;
use app_core::store::{self, KeyKeeper, KeyState, Store, StoreKey, Vault, VaultError};
use app_core::sync::EngineOptions;

use crate::core::{Core, Sealing};
use crate::error::CommandError;
use crate::session;

/// Meta key: the device whose revocation already locked the store once
/// (the store is not locked again for the same revocation after the user
/// unlocks it to enrol again).
pub const META_REVOCATION_LOCKED: &str = "lock.revoked_device";

type Result<T, E = CommandError> = std::result::Result<T, E>;

/// The app's store behind its lock.
#[derive(Debug)]
pub struct Gate {
    path: PathBuf,
    clock: SharedClock,
    options: EngineOptions,
    keeper: Arc<dyn KeyKeeper>,
    state: Mutex<Slot>,
}

#[derive(Debug)]
enum Slot {
    Open(Arc<Core>),
    Locked,
    Failed(String),
}

impl Gate {
    /// Opens the store at `path` if it can without a password, or starts
    /// locked (see the module's documentation).
    pub fn start(
        path: &Path,
        clock: SharedClock,
        options: EngineOptions,
        keeper: Arc<dyn KeyKeeper>,
    ) -> Gate {
        let gate = Gate {
            path: path.to_path_buf(),
            clock,
            options,
            keeper,
            state: Mutex::new(Slot::Locked),
        };
        let first = match gate.open_without_password() {
            Ok(Some(core)) => Slot::Open(Arc::new(core)),
            Ok(None) => Slot::Locked,
            Err(e) => Slot::Failed(e.to_string()),
        };
        *gate.slot() = first;
        gate
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn vault(&self) -> Vault {
        Vault::beside(&self.path)
    }

    /// The open core; [`CommandError::Locked`] while locked. A core whose
    /// engine learned of its device's revocation is locked here first.
    pub fn core(&self) -> Result<Arc<Core>> {
        let core = match &*self.slot() {
            Slot::Open(core) => Arc::clone(core),
            Slot::Locked => return Err(CommandError::Locked),
            Slot::Failed(e) => return Err(CommandError::StoreOpen(e.clone())),
        };
        if self.lock_if_revoked(&core)? {
            return Err(CommandError::Locked);
        }
        Ok(core)
    }

    /// Whether the store is locked (waiting for the password).
    pub fn is_locked(&self) -> bool {
        matches!(*self.slot(), Slot::Locked)
    }

    /// The session as the interface starts from: a locked store's says so
    /// and nothing else (the profile is inside the store).
    pub fn session_state(&self) -> Result<SessionState> {
        match self.core() {
            Ok(core) => core.session_state(),
            Err(CommandError::Locked) => Ok(SessionState {
                profile: None,
                signed_in: false,
                lang: None,
                locked: true,
            }),
            Err(e) => Err(e),
        }
    }

    /// Opens the locked store with the user's password. A wrong password is
    /// `session.wrong_password` and changes nothing; an open store answers
    /// its session as it is.
    pub fn unlock(&self, password: &str) -> Result<SessionState> {
        let mut slot = self.slot();
        match &*slot {
            Slot::Open(core) => return core.session_state(),
            Slot::Failed(e) => return Err(CommandError::StoreOpen(e.clone())),
            Slot::Locked => {}
        }
        let vault = self.vault();
        let key = match vault.state()? {
            KeyState::Sealed => {
                let key = vault.unlock(password)?;
                // A conversion cut short by a crash: the key was sealed, the
                // file not yet replaced.
                Store::encrypt_plain(&self.path, &key)?;
                key
            }
            KeyState::Open => vault.open_slot()?,
            KeyState::Absent => self.convert_enrolled(&vault, password)?,
        };
        let core = self.open_core(key.clone())?;
        self.keeper.keep(&key)?;
        let state = core.session_state();
        *slot = Slot::Open(Arc::new(core));
        state
    }

    /// Drops the open store: back to locked. The keystore slot, if any, is
    /// deleted, so the password is needed to open it again.
    pub fn lock(&self) -> Result<()> {
        self.keeper.forget()?;
        let mut slot = self.slot();
        if let Slot::Open(core) = &*slot {
            core.stop_sync();
            *slot = Slot::Locked;
        }
        Ok(())
    }

    /// Locks the store once per revocation when the engine reports that the
    /// device was revoked; whether it did.
    fn lock_if_revoked(&self, core: &Core) -> Result<bool> {
        let Some(device) = core.revoked_device() else {
            return Ok(false);
        };
        let device = device.to_string();
        if core.store().meta_get(META_REVOCATION_LOCKED)?.as_deref() == Some(&device) {
            return Ok(false);
        }
        core.store().meta_set(META_REVOCATION_LOCKED, &device)?;
        eprintln!("ketepai: this device was revoked; the store is locked until the password");
        self.lock()?;
        Ok(true)
    }

    fn open_without_password(&self) -> Result<Option<Core>> {
        let vault = self.vault();
        match vault.state()? {
            KeyState::Open => Ok(Some(self.open_core(vault.open_slot()?)?)),
            KeyState::Sealed => match self.keeper.load()? {
                Some(key) => Ok(Some(self.open_core(key)?)),
                None => Ok(None),
            },
            KeyState::Absent => {
                if store::is_plain_file(&self.path)? {
                    if plain_store_is_enrolled(&self.path, &self.clock)? {
                        return Ok(None);
                    }
                    let key = vault.create_open()?;
                    Store::encrypt_plain(&self.path, &key)?;
                    return Ok(Some(self.open_core(key)?));
                }
                if self.path.exists() {
                    // An encrypted store whose key file is gone.
                    return Err(VaultError::Missing(vault.path().to_path_buf()).into());
                }
                let key = vault.create_open()?;
                Ok(Some(self.open_core(key)?))
            }
        }
    }

    /// A plain store of an earlier release, enrolled: the password must be
    /// the one kept at enrolment; then a new key is sealed under it and the
    /// file converted.
    fn convert_enrolled(&self, vault: &Vault, password: &str) -> Result<StoreKey> {
        if !store::is_plain_file(&self.path)? {
            return Err(VaultError::Missing(vault.path().to_path_buf()).into());
        }
        {
            let plain = Store::open(&self.path, self.clock.clone())?;
            session::check_password(&plain, password)?;
        }
        let key = vault.create(password)?;
        Store::encrypt_plain(&self.path, &key)?;
        Ok(key)
    }

    fn open_core(&self, key: StoreKey) -> Result<Core> {
        Core::open_encrypted(
            &self.path,
            Sealing::new(self.vault(), key, Arc::clone(&self.keeper)),
            self.clock.clone(),
            self.options.clone(),
        )
    }
}

fn plain_store_is_enrolled(path: &Path, clock: &SharedClock) -> Result<bool> {
    let plain = Store::open(path, clock.clone())?;
    Ok(plain.meta_get(session::META_PASSWORD_HASH)?.is_some())
}

#[cfg(test)]
mod tests {
    use app_core::api::{DeviceRef, EnrolInput, ReEnrolInput, SaveConsultationInput};
    use app_core::clock::SystemClock;
    use app_core::domain::ConsultationInput;
    use app_core::store::NoKeystore;

    use super::*;
    use crate::core::STORE_FILE;

    const FARMER: &str = "王秀英";
    const PHONE: &str = "13800138000";
    const PASSWORD: &str = "demo-zhang-520324";

    fn gate(dir: &Path) -> Gate {
        Gate::start(
            &dir.join(STORE_FILE),
            SystemClock::shared(),
            EngineOptions::default(),
            Arc::new(NoKeystore),
        )
    }

    fn code<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_ipc().code
    }

    /// Whether the farmer's name or phone number can be read from any file
    /// under `dir`.
    fn farmer_readable(dir: &Path) -> bool {
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    todo.push(path);
                    continue;
                }
                // A WAL may go away as a closing connection checkpoints it.
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                for needle in [FARMER, PHONE] {
                    if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn consultation(village: &str) -> SaveConsultationInput {
        SaveConsultationInput {
            id: None,
            input: ConsultationInput {
                farmer_name: FARMER.into(),
                farmer_phone: PHONE.into(),
                farmer_village: village.into(),
                subject: "茶树".into(),
                problem: "新梢叶片出现褐色斑点。".into(),
                channel: "phone".into(),
                asked_at: "2026-11-29 08:10".into(),
                photos: vec![],
            },
            draft_key: None,
        }
    }

    #[test]
    fn a_new_device_opens_without_a_password_until_it_is_enrolled() {
        let dir = tempfile::tempdir().unwrap();
        let gate = gate(dir.path());
        assert!(!gate.is_locked());
        let state = gate.session_state().unwrap();
        assert!(!state.locked && state.profile.is_none());
        assert_eq!(
            Vault::beside(dir.path().join(STORE_FILE)).state().unwrap(),
            KeyState::Open
        );
        assert!(!store::is_plain_file(dir.path().join(STORE_FILE)).unwrap());
        drop(gate);
        // Still not enrolled: it opens again by itself.
        assert!(!self::gate(dir.path()).is_locked());
    }

    /// A device of the previous release (a plain store, enrolled): it
    /// starts locked; a wrong password changes nothing; the right one
    /// encrypts the file in place and keeps everything.
    #[test]
    fn an_enrolled_plain_store_is_encrypted_at_the_first_unlock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        {
            let plain = Store::open(&path, SystemClock::shared()).unwrap();
            session::remember_password(&plain, PASSWORD).unwrap();
            plain.meta_set("probe", FARMER).unwrap();
        }
        let gate = gate(dir.path());
        assert!(gate.is_locked());
        assert!(gate.session_state().unwrap().locked);
        assert_eq!(code(gate.core()), "store.locked");
        assert_eq!(code(gate.unlock("wrong")), "session.wrong_password");
        assert!(store::is_plain_file(&path).unwrap());
        assert!(gate.is_locked());

        assert!(!gate.unlock(PASSWORD).unwrap().locked);
        assert!(!store::is_plain_file(&path).unwrap());
        assert_eq!(Vault::beside(&path).state().unwrap(), KeyState::Sealed);
        let core = gate.core().unwrap();
        assert_eq!(
            core.store().meta_get("probe").unwrap().as_deref(),
            Some(FARMER)
        );
        drop(core);
        drop(gate);
        assert!(!farmer_readable(dir.path()));
        // The next start is locked again and the password opens it.
        let gate = self::gate(dir.path());
        assert!(gate.is_locked());
        gate.unlock(PASSWORD).unwrap();
        assert!(gate.core().is_ok());
    }

    /// With a real server on loopback: enrolment seals the key under the
    /// password; the next start is locked; a revocation the engine learns
    /// of locks the store again, the unsent consultation stays, and after
    /// the password the device enrols again and it syncs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn enrolment_seals_the_key_and_a_revocation_locks_the_store() {
        let server_dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = sync_server::Config::with_data_dir(server_dir.path().join("server"));
        let server = sync_server::launch(config, listener).await.unwrap();
        server.server().ops().demo_accounts().await.unwrap();
        let url = server.url();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let field = gate(dir.path());
        let core = field.core().unwrap();
        core.enrol(
            EnrolInput {
                server: url.clone(),
                username: "zhengan-zhang".into(),
                password: PASSWORD.into(),
                device_name: String::new(),
                new_password: None,
            },
            "linux",
        )
        .await
        .unwrap();
        assert_eq!(Vault::beside(&path).state().unwrap(), KeyState::Sealed);
        let register = core.register().unwrap();
        let village = register.townships[0].villages[0].code.clone();
        core.save_consultation(&consultation(&village)).unwrap();
        drop(core);
        drop(field);
        assert!(!farmer_readable(dir.path()));

        // The next start asks for the password.
        let field = gate(dir.path());
        assert!(field.is_locked());
        assert_eq!(code(field.unlock("wrong")), "session.wrong_password");
        let state = field.unlock(PASSWORD).unwrap();
        assert!(state.signed_in, "who was signed in is remembered");
        let core = field.core().unwrap();
        let device = core.stored_enrolment().unwrap().unwrap().device_id;

        // An admin revokes the device; the engine learns of it.
        let admin_dir = tempfile::tempdir().unwrap();
        let admin = Core::open(
            &admin_dir.path().join("admin.sqlite"),
            SystemClock::shared(),
            EngineOptions::default(),
        )
        .unwrap();
        admin
            .enrol(
                EnrolInput {
                    server: url.clone(),
                    username: "zhengan-admin".into(),
                    password: "demo-admin-520324".into(),
                    device_name: String::new(),
                    new_password: None,
                },
                "linux",
            )
            .await
            .unwrap();
        admin
            .admin_revoke_device(&DeviceRef { id: device })
            .await
            .unwrap();
        // Work done before the device hears of it: unsent.
        core.save_consultation(&consultation(&village)).unwrap();
        let refused = core.engine().sync_once().await.unwrap_err();
        assert!(
            matches!(refused, app_core::sync::SyncError::Revoked),
            "{refused:?}"
        );
        assert!(core.sync_status().unwrap().pending_changes > 0);
        drop(core);

        // The app locks the store, once for this revocation.
        assert_eq!(code(field.core()), "store.locked");
        assert!(field.session_state().unwrap().locked);
        assert_eq!(code(field.unlock("wrong")), "session.wrong_password");
        field.unlock(PASSWORD).unwrap();
        let core = field.core().unwrap();
        assert!(
            core.sync_status().unwrap().pending_changes > 0,
            "the unsent work is kept"
        );
        core.re_enrol(
            &ReEnrolInput {
                password: PASSWORD.into(),
                new_password: None,
            },
            "linux",
        )
        .await
        .unwrap();
        core.engine().sync_once().await.unwrap();
        assert_eq!(core.sync_status().unwrap().pending_changes, 0);
        assert!(field.core().is_ok(), "not locked again");
        drop(core);
        drop(field);
        assert!(!farmer_readable(dir.path()));
        server.shutdown().await.unwrap();
    }
}
