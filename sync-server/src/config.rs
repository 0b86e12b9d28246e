//! Server configuration: defaults, then a TOML file, then the environment
//! (`KETEPAI_*`), in that order of precedence (later wins).
//!
//! Configuration passes through two stages: [`RawConfig`] (every field
//! optional, exactly what a file or the environment said) and [`Config`]
//! (every field resolved and checked). With nothing configured the server
//! runs on embedded SQLite in `./ketepai-data`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default listen address. Loopback: production puts a TLS-terminating
/// proxy in front; set `KETEPAI_LISTEN=0.0.0.0:8750` to serve a LAN.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8750";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "ketepai-data";
/// Default idle expiry of device tokens, in days.
pub const DEFAULT_TOKEN_IDLE_DAYS: u32 = 180;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Cost of the argon2id password hash. The defaults are OWASP's minimum
/// (19 MiB, 2 passes); tests lower them to keep the suite fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The budget of password work (`[password_hashing]` in the file): argon2
/// holds [`PasswordCost::memory_kib`] for each hash or check in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashingBudget {
    /// Hashes and checks at once (at least 1).
    pub concurrent: usize,
    /// Requests waiting for a turn; beyond them `503 busy`.
    pub queue: usize,
    /// Sign-in attempts (enrolment, password change) one source address
    /// may make at once, whatever the user names.
    pub per_address: u32,
    /// Seconds after which one more attempt comes back to an address.
    pub per_address_refill_secs: u64,
}

impl Default for HashingBudget {
    fn default() -> Self {
        HashingBudget {
            concurrent: 2,
            queue: 16,
            per_address: 60,
            per_address_refill_secs: 2,
        }
    }
}

/// Connection timeouts (`[http_timeouts]` in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTimeouts {
    /// Seconds a connection has to send a whole request head, from its
    /// opening or from its previous answer (so also the idle time of a
    /// kept-alive connection); then it is closed.
    pub header_read_secs: u64,
    /// Seconds a request body may go without a byte arriving; then the
    /// request is answered `408 body_timeout` and the connection closed.
    pub body_idle_secs: u64,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        HttpTimeouts {
            header_read_secs: 20,
            body_idle_secs: 30,
        }
    }
}

/// Quotas and expiry of unfinished photo uploads (`[photo_uploads]` in
/// the file; a value left out keeps its default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhotoUploads {
    /// Most bytes (announced lengths) one device's unfinished uploads may
    /// hold; past it `POST /api/v1/photos` is `429 upload_quota`.
    pub device_bytes: u64,
    /// Most bytes the unfinished uploads of all of one user's devices may
    /// hold.
    pub user_bytes: u64,
    /// Minutes between two sweeps of abandoned uploads (uploads left for a
    /// day are deleted, files and rows); one runs when the server starts.
    pub sweep_minutes: u64,
}

impl Default for PhotoUploads {
    fn default() -> Self {
        let quota = crate::store::UploadQuota::default();
        PhotoUploads {
            device_bytes: quota.device_bytes,
            user_bytes: quota.user_bytes,
            sweep_minutes: 10,
        }
    }
}

impl PhotoUploads {
    /// The quota the store applies.
    pub fn quota(&self) -> crate::store::UploadQuota {
        crate::store::UploadQuota {
            device_bytes: self.device_bytes,
            user_bytes: self.user_bytes,
        }
    }
}

/// Where finished photos and the chunks of unfinished uploads are kept
/// (`[photos]` in the file, `KETEPAI_PHOTOS_BACKEND` and `KETEPAI_S3_*` in
/// the environment), as read, before checking: every key optional.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhotos {
    /// `local` (the default) or `s3`.
    pub backend: Option<String>,
    /// The S3 endpoint, e.g. `https://oss-cn-hangzhou.aliyuncs.com` or
    /// `http://127.0.0.1:8014`; absent for AWS itself.
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: Option<String>,
    /// The region (`us-east-1` when left out).
    pub region: Option<String>,
    /// The access key ID.
    pub access_key: Option<String>,
    /// The secret access key.
    pub secret_key: Option<String>,
    /// Whether a plain `http://` endpoint is allowed (a store on a private
    /// network or loopback); `false` when left out.
    pub allow_http: Option<bool>,
}

impl std::fmt::Debug for RawPhotos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPhotos")
            .field("backend", &self.backend)
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<hidden>"))
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl RawPhotos {
    /// `self` with every key `over` sets replacing this one's.
    fn overlay(self, over: RawPhotos) -> RawPhotos {
        RawPhotos {
            backend: over.backend.or(self.backend),
            endpoint: over.endpoint.or(self.endpoint),
            bucket: over.bucket.or(self.bucket),
            region: over.region.or(self.region),
            access_key: over.access_key.or(self.access_key),
            secret_key: over.secret_key.or(self.secret_key),
            allow_http: over.allow_http.or(self.allow_http),
        }
    }

    fn is_empty(&self) -> bool {
        *self == RawPhotos::default()
    }
}

/// Where photos are kept, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PhotoBackend {
    /// Files under `<data_dir>/photos` (one server, or several sharing the
    /// directory).
    #[default]
    Local,
    /// An S3-compatible object store, which several instances share.
    S3(S3Photos),
}

/// An S3-compatible bucket for photos. Its `Debug` form hides the secret
/// key.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Photos {
    /// The endpoint; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// The bucket (it must exist).
    pub bucket: String,
    /// The region.
    pub region: String,
    /// The access key ID.
    pub access_key: String,
    /// The secret access key.
    pub secret_key: String,
    /// Whether a plain `http://` endpoint is allowed.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Photos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Photos")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<hidden>")
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// The region an S3 bucket is in when `region` is left out.
pub const DEFAULT_S3_REGION: &str = "us-east-1";

impl PhotoBackend {
    /// Checks `raw`: `local` takes no other key; `s3` needs a bucket and
    /// both keys, and an `http://` endpoint only with `allow_http`.
    pub fn resolve(raw: RawPhotos) -> Result<PhotoBackend, ConfigError> {
        fn invalid(key: &'static str, value: &str, message: &'static str) -> ConfigError {
            ConfigError::Invalid {
                key,
                value: value.to_string(),
                message,
            }
        }
        match raw.backend.as_deref().map(str::trim) {
            None | Some("") | Some("local") => {
                let s3_keys = RawPhotos {
                    backend: None,
                    ..raw.clone()
                };
                if !s3_keys.is_empty() {
                    return Err(invalid(
                        "photos.backend",
                        raw.backend.as_deref().unwrap_or("local"),
                        "S3 settings are given but the backend is local; set backend = \"s3\"",
                    ));
                }
                Ok(PhotoBackend::Local)
            }
            Some("s3") => {
                let need = |v: Option<String>, key: &'static str| {
                    v.filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| invalid(key, "", "required with backend = \"s3\""))
                };
                let endpoint = raw.endpoint.filter(|e| !e.trim().is_empty());
                let allow_http = raw.allow_http.unwrap_or(false);
                if let Some(e) = &endpoint {
                    if !(e.starts_with("https://") || e.starts_with("http://")) {
                        return Err(invalid(
                            "photos.endpoint",
                            e,
                            "expected an http:// or https:// URL",
                        ));
                    }
                    if e.starts_with("http://") && !allow_http {
                        return Err(invalid(
                            "photos.endpoint",
                            e,
                            "a plain http:// endpoint needs allow_http = true",
                        ));
                    }
                }
                Ok(PhotoBackend::S3(S3Photos {
                    endpoint,
                    bucket: need(raw.bucket, "photos.bucket")?,
                    region: raw
                        .region
                        .filter(|r| !r.trim().is_empty())
                        .unwrap_or_else(|| DEFAULT_S3_REGION.to_string()),
                    access_key: need(raw.access_key, "photos.access_key")?,
                    secret_key: need(raw.secret_key, "photos.secret_key")?,
                    allow_http,
                }))
            }
            Some(other) => Err(invalid("photos.backend", other, "expected local or s3")),
        }
    }
}

/// Configuration as read from a file or the environment, before defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `host:port` to listen on.
    pub listen: Option<String>,
    /// Where the SQLite database and the photos live.
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL; absent for embedded SQLite.
    pub database_url: Option<String>,
    /// `text` or `json`.
    pub log_format: Option<LogFormat>,
    /// Days a device token stays valid without use.
    pub token_idle_days: Option<u32>,
    /// PostgreSQL connections per server instance.
    pub database_pool_size: Option<usize>,
    /// Password hashing cost.
    pub password_cost: Option<PasswordCost>,
    /// Password work in flight and per source address.
    pub password_hashing: Option<HashingBudget>,
    /// Connection timeouts.
    pub http_timeouts: Option<HttpTimeouts>,
    /// Quotas and expiry of unfinished photo uploads.
    pub photo_uploads: Option<PhotoUploads>,
    /// Where photos are kept.
    pub photos: Option<RawPhotos>,
    /// When set, `GET /metrics` answers only `Authorization: Bearer
    /// <this>`.
    pub metrics_token: Option<String>,
}

/// Which database holds the server's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in this file.
    Sqlite(PathBuf),
    /// PostgreSQL at this URL.
    Postgres(String),
}

/// The resolved configuration. Its `Debug` form hides the database
/// password ([`redact_url`]), so a configuration can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on (the binary binds it; [`crate::launch`] takes a
    /// listener).
    pub listen: SocketAddr,
    /// Data directory: `server.sqlite` (embedded backend) and `photos/`.
    pub data_dir: PathBuf,
    /// PostgreSQL URL, if PostgreSQL is the backend.
    pub database_url: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Days a device token stays valid without use.
    pub token_idle_days: u32,
    /// PostgreSQL connections per instance.
    pub database_pool_size: usize,
    /// Password hashing cost.
    pub password_cost: PasswordCost,
    /// Password work in flight and per source address.
    pub password_hashing: HashingBudget,
    /// Connection timeouts.
    pub http_timeouts: HttpTimeouts,
    /// Quotas and expiry of unfinished photo uploads.
    pub photo_uploads: PhotoUploads,
    /// Where photos are kept.
    pub photos: PhotoBackend,
    /// The operator token `/metrics` asks for, if any.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so a new field cannot be left out by accident.
        let Config {
            listen,
            data_dir,
            database_url,
            log_format,
            token_idle_days,
            database_pool_size,
            password_cost,
            password_hashing,
            http_timeouts,
            photo_uploads,
            photos,
            metrics_token,
        } = self;
        f.debug_struct("Config")
            .field("listen", listen)
            .field("data_dir", data_dir)
            .field("database_url", &database_url.as_deref().map(redact_url))
            .field("log_format", log_format)
            .field("token_idle_days", token_idle_days)
            .field("database_pool_size", database_pool_size)
            .field("password_cost", password_cost)
            .field("password_hashing", password_hashing)
            .field("http_timeouts", http_timeouts)
            .field("photo_uploads", photo_uploads)
            .field("photos", photos)
            .field("metrics_token", &metrics_token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("config file {path}: {message}")]
    Parse {
        /// Which file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("{key} = {value:?}: {message}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// What was given.
        value: String,
        /// What was wrong.
        message: &'static str,
    },
}

impl Default for Config {
    fn default() -> Self {
        Config::resolve(RawConfig::default()).expect("defaults are valid")
    }
}

impl RawConfig {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<RawConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Reads `KETEPAI_*` variables through `var` (the process environment in
    /// production, a map in tests).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<RawConfig, ConfigError> {
        fn parse<T: std::str::FromStr>(
            key: &'static str,
            value: Option<String>,
        ) -> Result<Option<T>, ConfigError> {
            value
                .map(|v| {
                    v.trim().parse().map_err(|_| ConfigError::Invalid {
                        key,
                        value: v.clone(),
                        message: "not a number",
                    })
                })
                .transpose()
        }
        let log_format = match var("KETEPAI_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("") => None,
            Some("json") => Some(LogFormat::Json),
            Some("text") => Some(LogFormat::Text),
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "KETEPAI_LOG_FORMAT",
                    value: other.to_string(),
                    message: "expected text or json",
                });
            }
        };
        let text = |key: &str| var(key).filter(|v| !v.trim().is_empty());
        let allow_http = match text("KETEPAI_S3_ALLOW_HTTP").as_deref().map(str::trim) {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "KETEPAI_S3_ALLOW_HTTP",
                    value: other.to_string(),
                    message: "expected true or false",
                });
            }
        };
        Ok(RawConfig {
            listen: var("KETEPAI_LISTEN").filter(|v| !v.is_empty()),
            data_dir: var("KETEPAI_DATA_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            database_url: var("KETEPAI_DATABASE_URL").filter(|v| !v.is_empty()),
            log_format,
            token_idle_days: parse("KETEPAI_TOKEN_IDLE_DAYS", var("KETEPAI_TOKEN_IDLE_DAYS"))?,
            database_pool_size: parse(
                "KETEPAI_DATABASE_POOL_SIZE",
                var("KETEPAI_DATABASE_POOL_SIZE"),
            )?,
            password_cost: None,
            password_hashing: None,
            http_timeouts: None,
            photo_uploads: None,
            photos: Some(RawPhotos {
                backend: text("KETEPAI_PHOTOS_BACKEND"),
                endpoint: text("KETEPAI_S3_ENDPOINT"),
                bucket: text("KETEPAI_S3_BUCKET"),
                region: text("KETEPAI_S3_REGION"),
                access_key: text("KETEPAI_S3_ACCESS_KEY"),
                secret_key: text("KETEPAI_S3_SECRET_KEY"),
                allow_http,
            })
            .filter(|p| !p.is_empty()),
            metrics_token: var("KETEPAI_METRICS_TOKEN").filter(|v| !v.is_empty()),
        })
    }

    /// `self` with every value `over` sets replacing this one's.
    pub fn overlay(self, over: RawConfig) -> RawConfig {
        RawConfig {
            listen: over.listen.or(self.listen),
            data_dir: over.data_dir.or(self.data_dir),
            database_url: over.database_url.or(self.database_url),
            log_format: over.log_format.or(self.log_format),
            token_idle_days: over.token_idle_days.or(self.token_idle_days),
            database_pool_size: over.database_pool_size.or(self.database_pool_size),
            password_cost: over.password_cost.or(self.password_cost),
            password_hashing: over.password_hashing.or(self.password_hashing),
            http_timeouts: over.http_timeouts.or(self.http_timeouts),
            photo_uploads: over.photo_uploads.or(self.photo_uploads),
            photos: match (self.photos, over.photos) {
                (Some(base), Some(over)) => Some(base.overlay(over)),
                (base, over) => over.or(base),
            },
            metrics_token: over.metrics_token.or(self.metrics_token),
        }
    }
}

impl Config {
    /// Fills defaults and checks values.
    pub fn resolve(raw: RawConfig) -> Result<Config, ConfigError> {
        let listen_text = raw.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            value: listen_text.clone(),
            message: "expected host:port, e.g. 127.0.0.1:8750",
        })?;
        if let Some(url) = &raw.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                key: "database_url",
                value: redact_url(url),
                message: "only postgres:// URLs are supported; leave it unset for embedded SQLite",
            });
        }
        let token_idle_days = raw.token_idle_days.unwrap_or(DEFAULT_TOKEN_IDLE_DAYS);
        if token_idle_days == 0 {
            return Err(ConfigError::Invalid {
                key: "token_idle_days",
                value: "0".into(),
                message: "must be at least 1",
            });
        }
        let database_pool_size = raw.database_pool_size.unwrap_or(16);
        if database_pool_size == 0 {
            return Err(ConfigError::Invalid {
                key: "database_pool_size",
                value: "0".into(),
                message: "must be at least 1",
            });
        }
        let photo_uploads = raw.photo_uploads.unwrap_or_default();
        if photo_uploads.sweep_minutes == 0 {
            return Err(ConfigError::Invalid {
                key: "photo_uploads.sweep_minutes",
                value: "0".into(),
                message: "must be at least 1",
            });
        }
        if photo_uploads.device_bytes < crate::photos::MAX_PHOTO {
            return Err(ConfigError::Invalid {
                key: "photo_uploads.device_bytes",
                value: photo_uploads.device_bytes.to_string(),
                message: "must hold at least one photo (8388608 bytes)",
            });
        }
        if photo_uploads.user_bytes < photo_uploads.device_bytes {
            return Err(ConfigError::Invalid {
                key: "photo_uploads.user_bytes",
                value: photo_uploads.user_bytes.to_string(),
                message: "must be at least photo_uploads.device_bytes",
            });
        }
        Ok(Config {
            listen,
            data_dir: raw
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: raw.database_url,
            log_format: raw.log_format.unwrap_or_default(),
            token_idle_days,
            database_pool_size,
            password_cost: raw.password_cost.unwrap_or_default(),
            password_hashing: raw.password_hashing.unwrap_or_default(),
            http_timeouts: raw.http_timeouts.unwrap_or_default(),
            photo_uploads,
            photos: PhotoBackend::resolve(raw.photos.unwrap_or_default())?,
            metrics_token: raw.metrics_token.filter(|t| !t.is_empty()),
        })
    }

    /// Defaults, then `file` (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with(file, |k| std::env::var(k).ok())
    }

    /// [`Config::load`] with an explicit environment.
    pub fn load_with(
        file: Option<&Path>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut raw = RawConfig::default();
        if let Some(path) = file {
            raw = raw.overlay(RawConfig::from_file(path)?);
        }
        raw = raw.overlay(RawConfig::from_env(var)?);
        Config::resolve(raw)
    }

    /// A configuration for a data directory, everything else default.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    /// Which database to use.
    pub fn backend(&self) -> Backend {
        match &self.database_url {
            Some(url) => Backend::Postgres(url.clone()),
            None => Backend::Sqlite(self.data_dir.join("server.sqlite")),
        }
    }

    /// Where photos are kept.
    pub fn photo_dir(&self) -> PathBuf {
        self.data_dir.join("photos")
    }
}

/// A database URL with its password replaced, for logs and errors: the
/// one in the user part and a `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (user, host) = match rest.rsplit_once('@') {
        Some((creds, host)) => (Some(creds.split(':').next().unwrap_or_default()), host),
        None => (None, rest),
    };
    let host = match host.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => host.to_string(),
    };
    match user {
        Some(user) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://{host}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_embedded_sqlite_in_ketepai_data() {
        let c = Config::load_with(None, env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            c.backend(),
            Backend::Sqlite(PathBuf::from("ketepai-data/server.sqlite"))
        );
        assert_eq!(c.token_idle_days, 180);
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/k\"\ntoken_idle_days = 90\n\
             [password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n",
        )
        .unwrap();
        let c = Config::load_with(
            Some(&file),
            env(&[
                ("KETEPAI_LISTEN", "127.0.0.1:9001"),
                ("KETEPAI_DATABASE_URL", "postgres://k:secret@db/k"),
                ("KETEPAI_LOG_FORMAT", "json"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(c.data_dir, PathBuf::from("/srv/k"));
        assert_eq!(c.token_idle_days, 90);
        assert_eq!(c.password_cost.memory_kib, 64);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(
            c.backend(),
            Backend::Postgres("postgres://k:secret@db/k".into())
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = Config::load_with(None, env(&[("KETEPAI_TOKEN_IDLE_DAYS", "soon")])).unwrap_err();
        assert!(e.to_string().contains("KETEPAI_TOKEN_IDLE_DAYS"), "{e}");
        let e = Config::load_with(None, env(&[("KETEPAI_DATABASE_URL", "mysql://a:pw@h/d")]))
            .unwrap_err();
        assert!(!e.to_string().contains("pw"), "the password leaked: {e}");
    }

    #[test]
    fn photo_upload_quotas_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            Config::load_with(Some(&file), env(&[]))
        };
        let c = load("").unwrap();
        assert_eq!(
            c.photo_uploads,
            PhotoUploads {
                device_bytes: 64 * 1024 * 1024,
                user_bytes: 128 * 1024 * 1024,
                sweep_minutes: 10,
            }
        );
        // A value left out keeps its default.
        let c = load("[photo_uploads]\nuser_bytes = 268435456\n").unwrap();
        assert_eq!(
            (c.photo_uploads.device_bytes, c.photo_uploads.user_bytes),
            (64 * 1024 * 1024, 256 * 1024 * 1024)
        );
        for (text, key) in [
            (
                "[photo_uploads]\ndevice_bytes = 1000\n",
                "photo_uploads.device_bytes",
            ),
            (
                "[photo_uploads]\nuser_bytes = 8388608\n",
                "photo_uploads.user_bytes",
            ),
            (
                "[photo_uploads]\nsweep_minutes = 0\n",
                "photo_uploads.sweep_minutes",
            ),
        ] {
            let e = load(text).unwrap_err();
            assert!(e.to_string().contains(key), "{text}: {e}");
        }
        assert!(matches!(
            load("[photo_uploads]\ndevice_byte = 1\n"),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn photos_go_to_the_directory_or_an_s3_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        let load = |text: &str, vars: &[(&str, &str)]| {
            std::fs::write(&file, text).unwrap();
            Config::load_with(Some(&file), env(vars))
        };
        assert_eq!(load("", &[]).unwrap().photos, PhotoBackend::Local);
        let c = load(
            "[photos]\nbackend = \"s3\"\nendpoint = \"http://127.0.0.1:8014\"\n\
             bucket = \"ketepai\"\naccess_key = \"AK\"\nallow_http = true\n",
            &[("KETEPAI_S3_SECRET_KEY", "hunter2")],
        )
        .unwrap();
        assert_eq!(
            c.photos,
            PhotoBackend::S3(S3Photos {
                endpoint: Some("http://127.0.0.1:8014".into()),
                bucket: "ketepai".into(),
                region: DEFAULT_S3_REGION.into(),
                access_key: "AK".into(),
                secret_key: "hunter2".into(),
                allow_http: true,
            })
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "the secret key leaked: {shown}");
        // The environment alone is enough, and overrides the file key by key.
        let c = load(
            "[photos]\nbackend = \"s3\"\nbucket = \"a\"\nregion = \"cn-east-1\"\n",
            &[
                ("KETEPAI_S3_BUCKET", "b"),
                ("KETEPAI_S3_ACCESS_KEY", "AK"),
                ("KETEPAI_S3_SECRET_KEY", "SK"),
                ("KETEPAI_S3_ENDPOINT", "https://s3.example.cn"),
            ],
        )
        .unwrap();
        let PhotoBackend::S3(s3) = c.photos else {
            panic!("{:?}", c.photos)
        };
        assert_eq!(
            (s3.bucket.as_str(), s3.region.as_str(), s3.allow_http),
            ("b", "cn-east-1", false)
        );
        for (text, vars, key) in [
            (
                "[photos]\nbackend = \"s3\"\naccess_key = \"AK\"\nsecret_key = \"SK\"\n",
                &[][..],
                "photos.bucket",
            ),
            (
                "[photos]\nbackend = \"s3\"\nbucket = \"b\"\n",
                &[("KETEPAI_S3_ACCESS_KEY", "AK")][..],
                "photos.secret_key",
            ),
            (
                "[photos]\nbackend = \"s3\"\nbucket = \"b\"\naccess_key = \"AK\"\n\
                 secret_key = \"SK\"\nendpoint = \"http://10.0.0.5:9000\"\n",
                &[][..],
                "photos.endpoint",
            ),
            ("[photos]\nbackend = \"ftp\"\n", &[][..], "photos.backend"),
            ("[photos]\nbucket = \"b\"\n", &[][..], "photos.backend"),
            (
                "",
                &[("KETEPAI_S3_ALLOW_HTTP", "yes")][..],
                "KETEPAI_S3_ALLOW_HTTP",
            ),
        ] {
            let e = load(text, vars).unwrap_err();
            assert!(e.to_string().contains(key), "{text}: {e}");
        }
        assert!(matches!(
            load("[photos]\nbucket_name = \"b\"\n", &[]),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        assert!(matches!(
            Config::load_with(Some(&file), env(&[])),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let c = Config::load_with(
            None,
            env(&[(
                "KETEPAI_DATABASE_URL",
                "postgres://ketepai:hunter2@db:5432/k",
            )]),
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
        assert!(
            shown.contains("postgres://ketepai:***@db:5432/k"),
            "{shown}"
        );
        let shown = format!("{:#?}", Config::default());
        assert!(shown.contains("database_url: None"), "{shown}");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://ketepai:hunter2@127.0.0.1:5432/k"),
            "postgres://ketepai:***@127.0.0.1:5432/k"
        );
        assert_eq!(
            redact_url("postgresql://k@db/k?sslmode=disable&password=hunter2"),
            "postgresql://k:***@db/k?sslmode=disable&password=***"
        );
        assert_eq!(redact_url("postgres://db/k"), "postgres://db/k");
    }
}
