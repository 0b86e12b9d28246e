//! Who is calling: device tokens, the [`Authed`] extractor that turns a
//! `Bearer` token into a device and an [`app_core::scope::Principal`],
//! password hashing, and the limiter of failed enrolments.
//!
//! A token is 32 random bytes, base64url (43 characters), shown to the
//! device once; the server keeps only its SHA-256. A token expires after
//! `token_idle_days` without a request (sliding: each request renews it), so
//! a phone offline for weeks is never locked out by time alone; a revoked
//! device is refused on its next request. `last_seen_at` is written at most
//! every [`TOUCH_EVERY_MILLIS`] so that a reconnect does not cost a write.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use app_core::clock::SharedClock;
use app_core::domain::{CountyCode, Role, Team, User};
use app_core::scope::Principal;

use crate::config::PasswordCost;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::DeviceRecord;

/// How often a device's `last_seen_at` is written at most.
pub const TOUCH_EVERY_MILLIS: i64 = 5 * 60 * 1000;
/// Milliseconds in a day.
const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;
/// Length of a token in characters.
pub const TOKEN_CHARS: usize = 43;

/// A new device token and the digest the server keeps.
pub fn new_token() -> (String, [u8; 32]) {
    let bytes: [u8; 32] = rand::random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let digest = token_digest(&token);
    (token, digest)
}

/// SHA-256 of a token's text.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A password hashing failure (bad parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct PasswordError(String);

fn argon(cost: PasswordCost) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| PasswordError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id at `cost`; the PHC string records the
/// parameters, so verification needs none.
pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String, PasswordError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError(e.to_string()))?;
    argon(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Whether `password` matches a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that a wrong
/// user name costs as long as a wrong password.
pub fn dummy_hash(cost: PasswordCost) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("ketepai-no-such-user", cost).unwrap_or_default())
}

/// Limits enrolment attempts per user name, per server instance: a name
/// has [`EnrolLimiter::MAX_FAILURES`] attempts, one more comes back each
/// [`EnrolLimiter::WINDOW_MILLIS`], and a success gives all of them back.
/// Past them the name is refused with `rate_limited`, even with the right
/// password, so a refusal tells a guesser nothing.
///
/// The arithmetic is `governor`'s GCRA over the server's injected clock: every
/// attempt takes a cell before the password is checked (so concurrent
/// guesses cannot slip past the count), and a success clears the name's
/// state. governor has no per-key reset, so the state lives in `Failures`,
/// a map this module can clear.
pub struct EnrolLimiter {
    limiter: RateLimiter<String, Failures, LimiterClock, NoOpMiddleware<Nanos>>,
    failures: Failures,
}

impl std::fmt::Debug for EnrolLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolLimiter")
            .field("names", &self.failures.lock().len())
            .finish()
    }
}

impl EnrolLimiter {
    /// Attempts a user name has before it is refused (a success gives them
    /// all back, so only failures use them up).
    pub const MAX_FAILURES: u32 = 10;
    /// After those, one more attempt comes back per this many milliseconds.
    pub const WINDOW_MILLIS: i64 = 15 * 60 * 1000;
    /// Attempts a user name has from all addresses together.
    pub const MAX_FAILURES_PER_NAME: u32 = 100;
    /// After those, one more comes back per this many milliseconds.
    pub const NAME_WINDOW_MILLIS: u64 = 90 * 1000;
    /// Names remembered before the ones back at a full allowance are dropped.
    const MAX_NAMES: usize = 100_000;

    /// A limiter reading `clock`.
    pub fn new(clock: SharedClock) -> EnrolLimiter {
        Self::with_quota(
            clock,
            Self::MAX_FAILURES,
            Self::WINDOW_MILLIS.unsigned_abs(),
        )
    }

    /// A limiter of `max` attempts per key, one more coming back every
    /// `window_millis` (at least 1 each).
    pub fn with_quota(clock: SharedClock, max: u32, window_millis: u64) -> EnrolLimiter {
        let quota = Quota::with_period(Duration::from_millis(window_millis.max(1)))
            .expect("the window is not zero")
            .allow_burst(NonZeroU32::new(max.max(1)).expect("the limit is not zero"));
        let failures = Failures::default();
        EnrolLimiter {
            limiter: RateLimiter::new(quota, failures.clone(), LimiterClock(clock)),
            failures,
        }
    }

    /// Takes one attempt of `username`'s allowance, before its password is
    /// checked; `Err` holds the seconds to wait when none is left.
    pub fn attempt(&self, username: &str) -> Result<(), u64> {
        if self.limiter.len() > Self::MAX_NAMES {
            self.limiter.retain_recent();
        }
        let key = username.to_string();
        self.limiter.check_key(&key).map_err(|not_until| {
            let now = governor::clock::Clock::now(self.limiter.clock());
            not_until.wait_time_from(now).as_millis().div_ceil(1000) as u64
        })
    }

    /// Forgets `username`'s failures after a success.
    pub fn succeeded(&self, username: &str) {
        self.failures.lock().remove(username);
    }
}

/// The address a request came from (the TCP peer), when the server was
/// started with it ([`crate::Server::serve`] is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for SourceAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SourceAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Why a password could not be hashed or checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Bounds the argon2 work in flight (each hash or check holds
/// `memory_kib` of memory for its duration): at most `concurrent` at once
/// and `queue` more waiting for a turn; past that a request is answered
/// `503 busy` at once instead of adding to the memory or the queue.
#[derive(Debug)]
pub struct PasswordGate {
    permits: Arc<tokio::sync::Semaphore>,
    waiting: std::sync::atomic::AtomicUsize,
    queue: usize,
}

impl PasswordGate {
    /// A gate of `concurrent` turns (at least 1) and `queue` waiting places.
    pub fn new(concurrent: usize, queue: usize) -> PasswordGate {
        PasswordGate {
            permits: Arc::new(tokio::sync::Semaphore::new(concurrent.max(1))),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            queue,
        }
    }

    /// Runs `work` on the blocking pool when a turn is free, waiting for
    /// one only while the queue has room; [`Busy`] otherwise.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Busy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        use std::sync::atomic::Ordering;
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Counted out again when dropped, also when the client
                // goes away while waiting.
                struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let before = self.waiting.fetch_add(1, Ordering::SeqCst);
                let _place = Waiting(&self.waiting);
                if before >= self.queue {
                    return Err(Busy);
                }
                Arc::clone(&self.permits)
                    .acquire_owned()
                    .await
                    .map_err(|_| Busy)?
            }
        };
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|_| Busy)?;
        Ok(out)
    }
}

/// The server's injected clock as governor reads it.
#[derive(Debug, Clone)]
struct LimiterClock(SharedClock);

impl governor::clock::Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let millis = u64::try_from(self.0.now().as_millis()).unwrap_or(0);
        Nanos::from(millis.saturating_mul(1_000_000))
    }
}

/// The limiter's state per user name (GCRA's theoretical arrival time), in
/// a map that [`EnrolLimiter::succeeded`] can clear.
#[derive(Debug, Clone, Default)]
struct Failures(Arc<Mutex<HashMap<String, Nanos>>>);

impl Failures {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Nanos>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StateStore for Failures {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // The lock is held across the decision, so it is atomic.
        let mut map = self.lock();
        let (outcome, next) = f(map.get(key).copied())?;
        map.insert(key.clone(), next);
        Ok(outcome)
    }
}

impl ShrinkableKeyedStateStore<String> for Failures {
    fn retain_recent(&self, drop_below: Nanos) {
        self.lock().retain(|_, tat| *tat > drop_below);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// An authenticated request: the device, its user, and what they may do.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The calling device.
    pub device: DeviceRecord,
    /// Its user.
    pub user: User,
    /// The user's team.
    pub team: Option<Team>,
    /// The user's scope epoch (part of pull cursors).
    pub scope_epoch: i64,
    /// What the scope rules see.
    pub principal: Principal,
}

impl Authed {
    /// The county whose register the device needs: the team's county, or
    /// the county of a county-scoped user.
    pub fn county(&self) -> Option<CountyCode> {
        principal_county(&self.user, self.team.as_ref())
    }

    /// Refuses unless the user is a sync admin (`403 forbidden`).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role == Role::SyncAdmin {
            Ok(())
        } else {
            Err(ApiError::Forbidden("sync admins only".into()))
        }
    }
}

/// The county a user works in: their team's, or their county scope's.
pub fn principal_county(user: &User, team: Option<&Team>) -> Option<CountyCode> {
    match (team, user.scope) {
        (Some(t), _) => Some(t.county),
        (None, app_core::domain::Scope::County(c)) => Some(c),
        _ => None,
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(token)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let device = app
            .store
            .device_by_token(&token_digest(token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if device.revoked_at.is_some() {
            return Err(ApiError::TokenRevoked);
        }
        let now = app.clock.now();
        let idle = now.as_millis() - device.last_seen_at.as_millis();
        if idle > i64::from(app.config.token_idle_days) * DAY_MILLIS {
            return Err(ApiError::TokenExpired);
        }
        let record = app
            .store
            .user(device.user)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !record.user.active {
            return Err(ApiError::AccountDisabled);
        }
        let team = match record.user.team {
            Some(t) => app.store.team(t).await?,
            None => None,
        };
        if idle > TOUCH_EVERY_MILLIS {
            app.store.touch_device(device.id, now).await?;
        }
        let principal = Principal::of(&record.user, team.as_ref());
        Ok(Authed {
            device,
            user: record.user,
            team,
            scope_epoch: record.scope_epoch,
            principal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::clock::ManualClock;
    use app_core::domain::Timestamp;

    #[test]
    fn tokens_are_43_url_safe_characters_and_distinct() {
        let (a, da) = new_token();
        let (b, _) = new_token();
        assert_eq!(a.len(), TOKEN_CHARS);
        assert_ne!(a, b);
        assert_eq!(token_digest(&a), da);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let cost = PasswordCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let h = hash_password("茶叶-2026", cost).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("茶叶-2026", &h));
        assert!(!verify_password("茶叶-2025", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_limiter_blocks_after_ten_failures_and_forgets_after_the_window() {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let l = EnrolLimiter::new(clock.shared());
        for _ in 0..EnrolLimiter::MAX_FAILURES {
            assert_eq!(l.attempt("a"), Ok(()));
        }
        let wait = l.attempt("a").unwrap_err();
        assert_eq!(wait, 15 * 60, "the next try is a window away");
        assert_eq!(l.attempt("b"), Ok(()), "another name is not affected");
        clock.advance_millis(EnrolLimiter::WINDOW_MILLIS);
        assert_eq!(l.attempt("a"), Ok(()));
        assert!(
            l.attempt("a").is_err(),
            "one try per window after the burst"
        );
    }

    #[test]
    fn a_success_forgets_the_failures() {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let l = EnrolLimiter::new(clock.shared());
        for _ in 0..EnrolLimiter::MAX_FAILURES {
            l.attempt("a").unwrap();
        }
        l.succeeded("a");
        for _ in 0..EnrolLimiter::MAX_FAILURES {
            assert_eq!(l.attempt("a"), Ok(()));
        }
        assert!(l.attempt("a").is_err());
    }
}
