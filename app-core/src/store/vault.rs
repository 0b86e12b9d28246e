//! The store's key at rest (存储密钥): the random data key SQLCipher encrypts
//! the device store with, and the key file beside the store that keeps it.
//!
//! The data key is 32 random bytes, used as SQLCipher's raw key (no
//! passphrase derivation on every open). It never changes for a store;
//! what changes is how it is kept:
//!
//! - **Sealed** under the user's password: the key file holds the data key
//!   wrapped with XChaCha20-Poly1305 under a key derived from the password
//!   by argon2id (salt and cost in the file). A wrong password fails the
//!   AEAD tag, so it is told apart from a damaged file, and nothing changes.
//! - **Open** (the pre-enrolment slot): before the device is enrolled there
//!   is no password, and the store holds no farmer data (no one can sign in,
//!   nothing syncs); the key file then holds the data key itself. Enrolment
//!   seals it under the password ([`Vault::seal`]), which removes the slot.
//!
//! Every write of the key file goes to a temporary file that is fsynced and
//! renamed over the old one, so a crash leaves the old file or the new one.
//!
//! Platforms with a keystore (Android Keystore, iOS Keychain) keep the data
//! key in a [`KeyKeeper`] slot as well, so that a start needs no password;
//! the sealed key file stays the way back in (and the way re-enrolment
//! recovers unsent work when the slot is deleted at revocation). The desktop
//! has no such slot ([`NoKeystore`]): the password is needed at every start.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The suffix of the key file: `ketepai.sqlite` keeps its key in
/// `ketepai.sqlite.key`.
pub const KEY_FILE_SUFFIX: &str = ".key";

/// The version of the key file's format.
const FORMAT: u32 = 1;
/// Bound into the AEAD tag so that a wrapped key is only ever read as this.
const AAD: &[u8] = b"ketepai store key v1";

/// argon2id cost of the password wrap: 64 MiB, 3 passes, one lane. Once per
/// unlock (about a third of a second on this machine), never per query.
const KDF_MEMORY_KIB: u32 = 64 * 1024;
const KDF_PASSES: u32 = 3;
const KDF_LANES: u32 = 1;

/// The store's data key (存储密钥): 32 secret bytes, wiped when dropped,
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// A fresh random key (the thread's CSPRNG, seeded by the operating
    /// system).
    pub fn generate() -> StoreKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::fill(&mut bytes[..]);
        StoreKey(bytes)
    }

    /// A key from its bytes (a keystore slot gives them back this way).
    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(Zeroizing::new(bytes))
    }

    /// The key's bytes (for a keystore slot to keep).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The value of SQLCipher's `PRAGMA key` for this raw key: `"x'…'"`.
    pub(crate) fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("\"x'{}'\"", hex(&self.0[..])))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

/// A failure to read or write the store's key.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The password does not open the key file.
    #[error("wrong password")]
    WrongPassword,
    /// There is no key file beside the store.
    #[error("no key file at {0}")]
    Missing(PathBuf),
    /// A key file exists already; creating one would lose the key.
    #[error("a key file exists already at {0}")]
    Exists(PathBuf),
    /// The key is sealed under the password; it cannot be read without it.
    #[error("the store key is sealed under the password")]
    Sealed,
    /// The key file cannot be what this code wrote.
    #[error("damaged key file: {0}")]
    Corrupt(String),
    /// The platform's keystore failed.
    #[error("keystore: {0}")]
    Keystore(String),
    /// Reading or writing the file failed.
    #[error("key file: {0}")]
    Io(#[from] std::io::Error),
}

impl VaultError {
    /// A stable code for the interface and logs.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::WrongPassword => "wrong_password",
            VaultError::Missing(_) => "key_missing",
            VaultError::Exists(_) => "key_exists",
            VaultError::Sealed => "locked",
            VaultError::Corrupt(_) => "key_corrupt",
            VaultError::Keystore(_) => "keystore",
            VaultError::Io(_) => "storage",
        }
    }
}

/// How the key file keeps the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// No key file: a new store (or one from before encryption).
    Absent,
    /// The pre-enrolment slot: the key is readable without a password.
    Open,
    /// Sealed under the user's password.
    Sealed,
}

/// The key file's contents (JSON, hex for bytes).
#[derive(Serialize, Deserialize)]
#[serde(tag = "slot", rename_all = "snake_case")]
enum KeyFile {
    /// The pre-enrolment slot.
    Open { format: u32, key: String },
    /// Wrapped under the password.
    Password {
        format: u32,
        kdf: String,
        memory_kib: u32,
        passes: u32,
        lanes: u32,
        salt: String,
        nonce: String,
        wrapped: String,
    },
}

/// The key file beside one store.
#[derive(Debug, Clone)]
pub struct Vault {
    path: PathBuf,
}

impl Vault {
    /// The key file of the store at `store_path` (`<store>.key`).
    pub fn beside(store_path: impl AsRef<Path>) -> Vault {
        let mut name = store_path.as_ref().as_os_str().to_owned();
        name.push(KEY_FILE_SUFFIX);
        Vault {
            path: PathBuf::from(name),
        }
    }

    /// Where the key file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the key is kept now.
    pub fn state(&self) -> Result<KeyState, VaultError> {
        match self.read()? {
            None => Ok(KeyState::Absent),
            Some(KeyFile::Open { .. }) => Ok(KeyState::Open),
            Some(KeyFile::Password { .. }) => Ok(KeyState::Sealed),
        }
    }

    /// Creates a new data key in the pre-enrolment slot; refuses to replace
    /// an existing key file.
    pub fn create_open(&self) -> Result<StoreKey, VaultError> {
        self.refuse_existing()?;
        let key = StoreKey::generate();
        self.write(&KeyFile::Open {
            format: FORMAT,
            key: hex(key.as_bytes()),
        })?;
        Ok(key)
    }

    /// Creates a new data key sealed under `password`; refuses to replace an
    /// existing key file.
    pub fn create(&self, password: &str) -> Result<StoreKey, VaultError> {
        self.refuse_existing()?;
        let key = StoreKey::generate();
        self.seal(&key, password)?;
        Ok(key)
    }

    /// The key from the pre-enrolment slot; [`VaultError::Sealed`] once it
    /// is sealed under the password.
    pub fn open_slot(&self) -> Result<StoreKey, VaultError> {
        match self.read()? {
            None => Err(VaultError::Missing(self.path.clone())),
            Some(KeyFile::Password { .. }) => Err(VaultError::Sealed),
            Some(KeyFile::Open { format, key }) => {
                check_format(format)?;
                Ok(StoreKey::from_bytes(unhex32(&key)?))
            }
        }
    }

    /// The key, unwrapped with `password` (or read from the pre-enrolment
    /// slot, which needs none). A wrong password is
    /// [`VaultError::WrongPassword`] and changes nothing.
    pub fn unlock(&self, password: &str) -> Result<StoreKey, VaultError> {
        match self.read()? {
            None => Err(VaultError::Missing(self.path.clone())),
            Some(KeyFile::Open { .. }) => self.open_slot(),
            Some(KeyFile::Password {
                format,
                kdf,
                memory_kib,
                passes,
                lanes,
                salt,
                nonce,
                wrapped,
            }) => {
                check_format(format)?;
                if kdf != "argon2id" {
                    return Err(VaultError::Corrupt(format!("unknown kdf {kdf}")));
                }
                let salt = unhex(&salt)?;
                let nonce = unhex(&nonce)?;
                if nonce.len() != 24 {
                    return Err(VaultError::Corrupt("nonce length".into()));
                }
                let wrapping = derive(password, &salt, memory_kib, passes, lanes)?;
                let cipher = XChaCha20Poly1305::new(Key::from_slice(&wrapping[..]));
                let plain = Zeroizing::new(
                    cipher
                        .decrypt(
                            XNonce::from_slice(&nonce),
                            Payload {
                                msg: &unhex(&wrapped)?,
                                aad: AAD,
                            },
                        )
                        .map_err(|_| VaultError::WrongPassword)?,
                );
                let bytes: [u8; 32] = plain[..]
                    .try_into()
                    .map_err(|_| VaultError::Corrupt("key length".into()))?;
                Ok(StoreKey::from_bytes(bytes))
            }
        }
    }

    /// Wraps `key` under `password` and replaces the key file with it
    /// (atomically): at enrolment this removes the pre-enrolment slot.
    pub fn seal(&self, key: &StoreKey, password: &str) -> Result<(), VaultError> {
        let salt: [u8; 16] = rand::random();
        let nonce: [u8; 24] = rand::random();
        let wrapping = derive(password, &salt, KDF_MEMORY_KIB, KDF_PASSES, KDF_LANES)?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&wrapping[..]));
        let wrapped = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &key.as_bytes()[..],
                    aad: AAD,
                },
            )
            .map_err(|_| VaultError::Corrupt("encryption failed".into()))?;
        self.write(&KeyFile::Password {
            format: FORMAT,
            kdf: "argon2id".into(),
            memory_kib: KDF_MEMORY_KIB,
            passes: KDF_PASSES,
            lanes: KDF_LANES,
            salt: hex(&salt),
            nonce: hex(&nonce),
            wrapped: hex(&wrapped),
        })
    }

    /// Re-wraps the key under `new`; `old` must open it. A wrong `old` is
    /// [`VaultError::WrongPassword`] and the file is untouched.
    pub fn change_password(&self, old: &str, new: &str) -> Result<StoreKey, VaultError> {
        let key = self.unlock(old)?;
        self.seal(&key, new)?;
        Ok(key)
    }

    fn refuse_existing(&self) -> Result<(), VaultError> {
        if self.path.exists() {
            Err(VaultError::Exists(self.path.clone()))
        } else {
            Ok(())
        }
    }

    fn read(&self) -> Result<Option<KeyFile>, VaultError> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| VaultError::Corrupt(e.to_string()))
    }

    fn write(&self, file: &KeyFile) -> Result<(), VaultError> {
        let bytes = Zeroizing::new(
            serde_json::to_vec_pretty(file).map_err(|e| VaultError::Corrupt(e.to_string()))?,
        );
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        {
            let mut out = std::fs::File::create(&tmp)?;
            out.write_all(&bytes)?;
            out.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        sync_parent(&self.path);
        Ok(())
    }
}

/// Makes a rename durable: fsync the directory that holds `path` (best
/// effort; not every platform can open a directory).
pub(crate) fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

/// A platform keystore slot for the data key (Android Keystore, iOS
/// Keychain): where there is one, a start needs no password. Implemented by
/// the shell of each mobile platform (not in this crate); the desktop has
/// none ([`NoKeystore`]).
pub trait KeyKeeper: Send + Sync + fmt::Debug {
    /// Whether this platform keeps keys at all.
    fn available(&self) -> bool;
    /// The kept key, if there is one.
    fn load(&self) -> Result<Option<StoreKey>, VaultError>;
    /// Keeps `key`, replacing any kept before.
    fn keep(&self, key: &StoreKey) -> Result<(), VaultError>;
    /// Deletes the kept key (at revocation); deleting none is not an error.
    fn forget(&self) -> Result<(), VaultError>;
}

/// The desktop: no keystore, the password opens the store at every start.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeystore;

impl KeyKeeper for NoKeystore {
    fn available(&self) -> bool {
        false
    }
    fn load(&self) -> Result<Option<StoreKey>, VaultError> {
        Ok(None)
    }
    fn keep(&self, _key: &StoreKey) -> Result<(), VaultError> {
        Ok(())
    }
    fn forget(&self) -> Result<(), VaultError> {
        Ok(())
    }
}

fn derive(
    password: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let params = Params::new(memory_kib, passes, lanes, Some(32))
        .map_err(|e| VaultError::Corrupt(format!("kdf parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut out[..])
        .map_err(|e| VaultError::Corrupt(format!("kdf: {e}")))?;
    Ok(out)
}

fn check_format(format: u32) -> Result<(), VaultError> {
    if format == FORMAT {
        Ok(())
    } else {
        Err(VaultError::Corrupt(format!("key file format {format}")))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn unhex(text: &str) -> Result<Vec<u8>, VaultError> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return Err(VaultError::Corrupt("bad hex".into()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16)
                .map_err(|_| VaultError::Corrupt("bad hex".into()))
        })
        .collect()
}

fn unhex32(text: &str) -> Result<[u8; 32], VaultError> {
    let bytes = Zeroizing::new(unhex(text)?);
    bytes[..]
        .try_into()
        .map_err(|_| VaultError::Corrupt("key length".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::beside(dir.path().join("ketepai.sqlite"));
        (dir, vault)
    }

    #[test]
    fn the_key_file_sits_beside_the_store() {
        let v = Vault::beside("/data/ketepai.sqlite");
        assert_eq!(v.path(), Path::new("/data/ketepai.sqlite.key"));
    }

    #[test]
    fn the_right_password_unlocks_and_a_wrong_one_changes_nothing() {
        let (_dir, v) = vault();
        let key = v.create("茶园2026").unwrap();
        assert_eq!(v.state().unwrap(), KeyState::Sealed);
        let before = std::fs::read(v.path()).unwrap();
        assert!(!String::from_utf8_lossy(&before).contains(&hex(key.as_bytes())));
        assert!(matches!(
            v.unlock("茶园2025"),
            Err(VaultError::WrongPassword)
        ));
        assert_eq!(std::fs::read(v.path()).unwrap(), before);
        assert_eq!(v.unlock("茶园2026").unwrap(), key);
        assert!(matches!(v.open_slot(), Err(VaultError::Sealed)));
    }

    #[test]
    fn changing_the_password_keeps_the_key() {
        let (_dir, v) = vault();
        let key = v.create("old").unwrap();
        assert!(matches!(
            v.change_password("wrong", "new"),
            Err(VaultError::WrongPassword)
        ));
        assert_eq!(v.unlock("old").unwrap(), key);
        assert_eq!(v.change_password("old", "new").unwrap(), key);
        assert!(matches!(v.unlock("old"), Err(VaultError::WrongPassword)));
        assert_eq!(v.unlock("new").unwrap(), key);
        assert!(!v.path().with_extension("key.tmp").exists());
    }

    #[test]
    fn the_pre_enrolment_slot_is_sealed_at_enrolment() {
        let (_dir, v) = vault();
        assert_eq!(v.state().unwrap(), KeyState::Absent);
        let key = v.create_open().unwrap();
        assert_eq!(v.state().unwrap(), KeyState::Open);
        assert_eq!(v.open_slot().unwrap(), key);
        v.seal(&key, "pw").unwrap();
        assert_eq!(v.state().unwrap(), KeyState::Sealed);
        assert!(matches!(v.open_slot(), Err(VaultError::Sealed)));
        assert_eq!(v.unlock("pw").unwrap(), key);
        assert!(matches!(v.create_open(), Err(VaultError::Exists(_))));
    }

    #[test]
    fn a_damaged_file_is_told_apart_from_a_wrong_password() {
        let (_dir, v) = vault();
        std::fs::write(v.path(), b"not json").unwrap();
        assert!(matches!(v.unlock("pw"), Err(VaultError::Corrupt(_))));
        assert!(matches!(
            Vault::beside("/nonexistent/x").unlock("pw"),
            Err(VaultError::Missing(_))
        ));
    }

    #[test]
    fn keys_are_random_and_never_printed() {
        let a = StoreKey::generate();
        assert_ne!(a, StoreKey::generate());
        assert_eq!(format!("{a:?}"), "StoreKey(<redacted>)");
        assert_eq!(a.pragma_value().len(), 64 + 5);
    }
}
