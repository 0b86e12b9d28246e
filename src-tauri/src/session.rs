//! Offline sign-in: the argon2 hash of the password kept at enrolment, and
//! who is signed in, both in the store's meta table.
//!
//! After enrolment the password never leaves the device again: signing in
//! checks it against the PHC string saved here. The signed-in user is
//! remembered across restarts (a phone is locked by its own screen lock);
//! signing out forgets it. Nothing here talks to the server.

use app_core::store::Store;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::CommandError;

/// Meta key of the password's argon2 PHC string.
pub const META_PASSWORD_HASH: &str = "session.password_hash";
/// Meta key of the signed-in user's ID.
pub const META_SIGNED_IN: &str = "session.signed_in";

/// argon2id with 19 MiB and 2 passes (OWASP's minimum): about 50 ms on a
/// cheap phone, which a sign-in can afford.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` into a PHC string.
pub fn hash_password(password: &str) -> Result<String, CommandError> {
    let salt: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| CommandError::PasswordHash(e.to_string()))?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| CommandError::PasswordHash(e.to_string()))?
        .to_string())
}

/// Whether `password` matches the PHC string `phc`.
pub fn verify_password(phc: &str, password: &str) -> Result<bool, CommandError> {
    let parsed = PasswordHash::new(phc).map_err(|e| CommandError::PasswordHash(e.to_string()))?;
    Ok(hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Keeps the hash of `password` for offline sign-in.
pub fn remember_password(store: &Store, password: &str) -> Result<(), CommandError> {
    store.meta_set(META_PASSWORD_HASH, &hash_password(password)?)?;
    Ok(())
}

/// Checks `password` against the kept hash; errors when it does not match
/// or when no hash was kept (not enrolled).
pub fn check_password(store: &Store, password: &str) -> Result<(), CommandError> {
    let phc = store
        .meta_get(META_PASSWORD_HASH)?
        .ok_or(CommandError::NotEnrolled)?;
    if verify_password(&phc, password)? {
        Ok(())
    } else {
        Err(CommandError::WrongPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let phc = hash_password("茶园2026").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("茶园2026"));
        assert!(verify_password(&phc, "茶园2026").unwrap());
        assert!(!verify_password(&phc, "茶园2025").unwrap());
        assert!(!verify_password(&phc, "").unwrap());
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        assert_ne!(hash_password("x").unwrap(), hash_password("x").unwrap());
    }
}
