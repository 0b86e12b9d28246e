//! The one error type of the HTTP boundary, [`ApiError`], and its wire form:
//! an RFC 9457 problem document with the stable codes of `docs/protocol.md`.
//!
//! Internal failures (storage, I/O, a panic in a blocking task) are logged
//! with their details here and reach the client only as `internal` or
//! `unavailable`: nothing about the server's insides is ever sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use app_core::sync::protocol::Problem;

use crate::ops::OpsError;
use crate::store::StoreError;

/// Media type of problem documents.
pub const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed body, header or parameter.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The pull cursor does not parse.
    #[error("bad cursor {0:?}")]
    BadCursor(String),
    /// No token, or a token the server does not know.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Wrong user name or password at enrolment.
    #[error("bad credentials")]
    BadCredentials,
    /// The token was not used for longer than the idle expiry.
    #[error("token expired")]
    TokenExpired,
    /// The device was revoked.
    #[error("token revoked")]
    TokenRevoked,
    /// The user may not do this at all.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The account is disabled: its devices stop syncing.
    #[error("the account is disabled")]
    AccountDisabled,
    /// The password is a one-time password (after a reset or a new
    /// account): it only sets a new one (`POST /api/v1/account/password`).
    #[error("a new password must be set first")]
    PasswordChangeRequired,
    /// A sync admin acting outside their county or province.
    #[error("out of scope: {0}")]
    OutOfScope(String),
    /// A value of the request is not acceptable; `code` says which rule,
    /// `field` which part of the body.
    #[error("{message}")]
    Invalid {
        /// Stable code, e.g. `weak_password`.
        code: &'static str,
        /// The body's field, if one.
        field: Option<&'static str>,
        /// Details.
        message: String,
    },
    /// The request conflicts with the state of the resource.
    #[error("{message}")]
    Conflict {
        /// Stable code, e.g. `username_taken`.
        code: &'static str,
        /// Details.
        message: String,
    },
    /// No such resource in the caller's scope.
    #[error("not found")]
    NotFound,
    /// A photo chunk at the wrong offset.
    #[error("upload offset {sent} does not match the server's {current}")]
    UploadOffsetMismatch {
        /// What the client sent.
        sent: u64,
        /// Where the upload stands.
        current: u64,
    },
    /// Body over the limit.
    #[error("body too large: {0}")]
    BodyTooLarge(String),
    /// A `Range` the photo cannot satisfy.
    #[error("range not satisfiable for {length} bytes")]
    RangeNotSatisfiable {
        /// The photo's length.
        length: u64,
    },
    /// Wrong content type or encoding.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// A completed photo's bytes do not hash to its name.
    #[error("photo bytes hash to {actual}, not {expected}")]
    HashMismatch {
        /// The name the upload was started under.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// An unknown protocol version.
    #[error("protocol version {0:?} is not spoken here")]
    ProtocolUnsupported(String),
    /// Too many attempts.
    #[error("rate limited; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// A new photo upload would take the device or its user past the bytes
    /// unfinished uploads may hold; retry once some finish or expire.
    #[error("upload quota: {0}")]
    UploadQuota(String),
    /// The route does not answer this method.
    #[error("this method is not answered here")]
    MethodNotAllowed,
    /// No byte of the request body came for the body idle timeout.
    #[error("the request body stopped arriving")]
    BodyTimeout,
    /// The server's budget for this kind of work is spent for now
    /// (password hashing); retry after the given seconds.
    #[error("busy; retry after {retry_after_secs} s")]
    Busy {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The database cannot be reached, or the server is shutting down.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A server fault; the message is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::BadCursor(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated
            | ApiError::BadCredentials
            | ApiError::TokenExpired
            | ApiError::TokenRevoked => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_)
            | ApiError::AccountDisabled
            | ApiError::PasswordChangeRequired
            | ApiError::OutOfScope(_) => StatusCode::FORBIDDEN,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::UploadOffsetMismatch { .. } => StatusCode::CONFLICT,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::HashMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::ProtocolUnsupported(_) => StatusCode::UPGRADE_REQUIRED,
            ApiError::RateLimited { .. } | ApiError::UploadQuota(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::BadCursor(_) => "bad_cursor",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::TokenExpired => "token_expired",
            ApiError::TokenRevoked => "token_revoked",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::AccountDisabled => "account_disabled",
            ApiError::PasswordChangeRequired => "password_change_required",
            ApiError::OutOfScope(_) => "out_of_scope",
            ApiError::Invalid { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::NotFound => "not_found",
            ApiError::UploadOffsetMismatch { .. } => "upload_offset_mismatch",
            ApiError::BodyTooLarge(_) => "body_too_large",
            ApiError::BodyTimeout => "body_timeout",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::HashMismatch { .. } => "hash_mismatch",
            ApiError::ProtocolUnsupported(_) => "protocol_unsupported",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::UploadQuota(_) => "upload_quota",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy { .. } => "busy",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Whether the same request can succeed later.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. }
                | ApiError::UploadQuota(_)
                | ApiError::Busy { .. }
                | ApiError::Unavailable(_)
                | ApiError::Internal(_)
                // Another device of the user is uploading the same photo:
                // it will be stored, or left and free again, later.
                | ApiError::Conflict {
                    code: "upload_in_progress",
                    ..
                }
        )
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "malformed request",
            ApiError::BadCursor(_) => "the pull cursor does not parse",
            ApiError::Unauthenticated => "no or unknown device token",
            ApiError::BadCredentials => "wrong user name or password",
            ApiError::TokenExpired => "device token expired",
            ApiError::TokenRevoked => "device token revoked",
            ApiError::Forbidden(_) => "not allowed",
            ApiError::AccountDisabled => "the account is disabled",
            ApiError::PasswordChangeRequired => "a new password must be set first",
            ApiError::OutOfScope(_) => "outside the admin's county or province",
            ApiError::Invalid { .. } => "a value is not acceptable",
            ApiError::Conflict { .. } => "conflicts with what is there",
            ApiError::NotFound => "not found",
            ApiError::UploadOffsetMismatch { .. } => "upload offset mismatch",
            ApiError::BodyTooLarge(_) => "body too large",
            ApiError::BodyTimeout => "request body timed out",
            ApiError::MethodNotAllowed => "method not allowed",
            ApiError::RangeNotSatisfiable { .. } => "range not satisfiable",
            ApiError::UnsupportedMediaType(_) => "unsupported media type",
            ApiError::HashMismatch { .. } => "photo hash mismatch",
            ApiError::ProtocolUnsupported(_) => "protocol version not supported",
            ApiError::RateLimited { .. } => "too many requests",
            ApiError::UploadQuota(_) => "too many bytes in unfinished uploads",
            ApiError::Unavailable(_) => "service unavailable",
            ApiError::Busy { .. } => "the server is busy",
            ApiError::Internal(_) => "internal server error",
        }
    }

    /// Details safe to show a client; none for internal failures.
    fn detail(&self) -> Option<String> {
        match self {
            ApiError::Internal(_) | ApiError::Unavailable(_) => None,
            ApiError::Unauthenticated | ApiError::NotFound | ApiError::BadCredentials => None,
            other => Some(other.to_string()),
        }
    }

    /// The problem document sent for this error.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("https://ketepai.cn/problems/{}", self.code()),
            title: self.title().to_string(),
            status: self.status().as_u16(),
            code: self.code().to_string(),
            detail: self.detail(),
            retryable: self.retryable(),
            field: match self {
                ApiError::Invalid { field, .. } => field.map(str::to_owned),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(msg) => tracing::error!(error = ?msg, "internal error"),
            ApiError::Unavailable(msg) => tracing::warn!(error = ?msg, "unavailable"),
            other => {
                tracing::debug!(code = other.code(), error = ?other.to_string(), "request refused")
            }
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_MEDIA_TYPE),
        );
        match &self {
            ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::UploadOffsetMismatch { current, .. } => {
                if let Ok(v) = HeaderValue::from_str(&current.to_string()) {
                    headers.insert("upload-offset", v);
                }
            }
            ApiError::RangeNotSatisfiable { length } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{length}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            ApiError::Unauthenticated | ApiError::TokenExpired | ApiError::TokenRevoked => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"ketepai\""),
                );
            }
            _ => {}
        }
        resp
    }
}

impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> Self {
        match e {
            OpsError::Store(e) => e.into(),
            OpsError::Password(e) => ApiError::Internal(e.to_string()),
            OpsError::Reference(e) | OpsError::Demo(e) => ApiError::Internal(e),
            OpsError::Invalid {
                code: "bad_cursor",
                message,
                ..
            } => ApiError::BadCursor(message),
            OpsError::Invalid {
                code,
                field,
                message,
            } => ApiError::Invalid {
                code,
                field,
                message,
            },
            OpsError::NotFound(_) => ApiError::NotFound,
            OpsError::OutOfScope(m) => ApiError::OutOfScope(m),
            OpsError::Forbidden(m) => ApiError::Forbidden(m),
            OpsError::Conflict { code, message } => ApiError::Conflict { code, message },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            ApiError::Unavailable(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_sent() {
        let p = ApiError::Internal("disk /var/lib/x failed".into()).problem();
        assert_eq!(p.code, "internal");
        assert_eq!(p.status, 500);
        assert!(p.retryable);
        assert_eq!(p.detail, None);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("/var/lib"), "{json}");
    }

    #[test]
    fn an_invalid_field_is_named_in_the_problem() {
        let p = ApiError::Invalid {
            code: "weak_password",
            field: Some("new_password"),
            message: "a password has at least 8 characters".into(),
        }
        .problem();
        assert_eq!(p.field.as_deref(), Some("new_password"));
        assert_eq!(ApiError::NotFound.problem().field, None);
    }

    #[test]
    fn codes_match_the_protocol_table() {
        let cases = [
            (ApiError::BadCursor("x".into()), 400, "bad_cursor"),
            (ApiError::TokenExpired, 401, "token_expired"),
            (ApiError::TokenRevoked, 401, "token_revoked"),
            (
                ApiError::UploadOffsetMismatch {
                    sent: 1,
                    current: 2,
                },
                409,
                "upload_offset_mismatch",
            ),
            (ApiError::BodyTooLarge("x".into()), 413, "body_too_large"),
            (
                ApiError::UnsupportedMediaType("x".into()),
                415,
                "unsupported_media_type",
            ),
            (
                ApiError::ProtocolUnsupported("2".into()),
                426,
                "protocol_unsupported",
            ),
            (ApiError::AccountDisabled, 403, "account_disabled"),
            (
                ApiError::PasswordChangeRequired,
                403,
                "password_change_required",
            ),
            (ApiError::OutOfScope("x".into()), 403, "out_of_scope"),
            (
                ApiError::Invalid {
                    code: "weak_password",
                    field: Some("password"),
                    message: "x".into(),
                },
                422,
                "weak_password",
            ),
            (
                ApiError::Conflict {
                    code: "username_taken",
                    message: "x".into(),
                },
                409,
                "username_taken",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status);
            assert_eq!(e.code(), code);
            assert!(!e.retryable());
        }
    }
}
