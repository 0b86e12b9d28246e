//! The sync admin's console and the device's notices over IPC: one typed
//! async function per command of the shell's `commands_admin`, and the
//! interface text of the console's error codes ([`error_key`], which
//! [`super::error_key`] falls back to).
//!
//! The console's server calls fail with `sync.network` when the server
//! cannot be reached ([`is_offline`]): the screens say so plainly and keep
//! what the admin typed.

use app_core::admin::{
    AuditQuery, AuditView, ConflictListQuery, CreatedUser, DeviceQuery, DeviceView, Discard,
    Discarded, NewTeam, NewUser, Page, PasswordReset, QuarantineQuery, QuarantineTarget,
    QuarantinedDoc, Released, Revoked, TeamQuery, TeamView, UserQuery, UserView,
};
use app_core::api::{AdminStatsExport, AdminStatsQuery};
use app_core::api::{
    ChangeScopeInput, ConflictDetail, ConflictPage, DeviceRef, Exported, MarkedDuplicate,
    MoveUserInput, NoticeRef, NoticeView, RecordRef, UserRef,
};
use app_core::domain::{DeviceId, DocId, Scope, TeamId, UserId};
use app_core::stats::Answer as StatsAnswer;
use app_core::stats::assess::ScoreSheet;
use app_core::team::Exported as StatsExported;

use super::{IpcError, call, call_with};
use crate::i18n::Key;

/// Whether a failure means the server could not be reached.
pub fn is_offline(error: &IpcError) -> bool {
    matches!(error.code.as_str(), "sync.network" | "sync.protocol")
}

/// The interface text of the console's codes (the server's problem codes
/// under `sync.`, the shell's own), if it has its own.
pub fn error_key(code: &str) -> Option<Key> {
    Some(match code {
        "sync.password_change_required" => Key::ErrPasswordChangeRequired,
        "sync.weak_password" => Key::ErrWeakPassword,
        "sync.same_password" => Key::ErrSamePassword,
        "sync.account_disabled" => Key::ErrAccountDisabled,
        "sync.username_taken" => Key::ErrUsernameTaken,
        "sync.invalid_username" => Key::ErrInvalidUsername,
        "sync.invalid_display_name" => Key::ErrInvalidDisplayName,
        "sync.invalid_scope" => Key::ErrInvalidScope,
        "sync.invalid_team" => Key::ErrInvalidTeam,
        "sync.invalid_role" => Key::ErrInvalidRole,
        "sync.invalid_lead" => Key::ErrInvalidLead,
        "sync.invalid_name" => Key::ErrInvalidTeamName,
        "sync.invalid_industry" => Key::ErrInvalidIndustry,
        "sync.unknown_county" => Key::ErrUnknownCounty,
        "sync.team_required" => Key::ErrTeamRequired,
        "sync.reason_required" => Key::ErrReasonRequired,
        "sync.not_quarantined" => Key::ErrNotQuarantined,
        "sync.truncated" => Key::ErrTruncatedChange,
        "sync.cannot_disable_self" => Key::ErrCannotDisableSelf,
        "sync.out_of_scope" => Key::ErrOutOfScope,
        "sync.not_found" => Key::ErrAdminNotFound,
        "sync.bad_cursor" => Key::ErrBadCursor,
        "export.failed" => Key::ErrExportFailed,
        _ => return None,
    })
}

// --- Teams and users ------------------------------------------------------

/// Teams of the admin's area.
pub async fn list_teams(query: TeamQuery) -> Result<Page<TeamView>, IpcError> {
    call_with("admin_list_teams", query).await
}

/// Creates a team.
pub async fn create_team(team: NewTeam) -> Result<TeamView, IpcError> {
    call_with("admin_create_team", team).await
}

/// Users of the admin's area.
pub async fn list_users(query: UserQuery) -> Result<Page<UserView>, IpcError> {
    call_with("admin_list_users", query).await
}

/// Creates an account; the answer holds the one-time password, shown once.
pub async fn create_user(user: NewUser) -> Result<CreatedUser, IpcError> {
    call_with("admin_create_user", user).await
}

/// Moves a user to another team.
pub async fn move_user(id: UserId, team: TeamId) -> Result<UserView, IpcError> {
    call_with("admin_move_user", MoveUserInput { id, team }).await
}

/// Changes a user's scope.
pub async fn change_scope(id: UserId, scope: Scope) -> Result<UserView, IpcError> {
    call_with("admin_change_scope", ChangeScopeInput { id, scope }).await
}

/// Disables (`false`) or enables (`true`) an account.
pub async fn set_active(id: UserId, active: bool) -> Result<UserView, IpcError> {
    let command = if active {
        "admin_enable_user"
    } else {
        "admin_disable_user"
    };
    call_with(command, UserRef { id }).await
}

/// Resets a password; the answer holds the one-time password, shown once.
pub async fn reset_password(id: UserId) -> Result<PasswordReset, IpcError> {
    call_with("admin_reset_password", UserRef { id }).await
}

// --- Devices, quarantine, audit --------------------------------------------

/// Devices of the area with their sync health.
pub async fn list_devices(query: DeviceQuery) -> Result<Page<DeviceView>, IpcError> {
    call_with("admin_list_devices", query).await
}

/// Revokes a device.
pub async fn revoke_device(id: DeviceId) -> Result<Revoked, IpcError> {
    call_with("admin_revoke_device", DeviceRef { id }).await
}

/// Quarantined documents, their refused changes decoded.
pub async fn list_quarantine(query: QuarantineQuery) -> Result<Page<QuarantinedDoc>, IpcError> {
    call_with("admin_list_quarantine", query).await
}

/// Checks a document's refused changes again and stores what passes.
pub async fn release(target: QuarantineTarget) -> Result<Released, IpcError> {
    call_with("admin_release", target).await
}

/// Discards a document's refused changes with a reason.
pub async fn discard(discard: Discard) -> Result<Discarded, IpcError> {
    call_with("admin_discard", discard).await
}

/// A page of the audit log.
pub async fn list_audit(query: AuditQuery) -> Result<Page<AuditView>, IpcError> {
    call_with("admin_list_audit", query).await
}

/// Writes the matching audit entries as CSV into the data directory's
/// `exports/`.
pub async fn export_audit(query: AuditQuery) -> Result<Exported, IpcError> {
    call_with("admin_export_audit", query).await
}

// --- Conflicts and duplicates ------------------------------------------------

/// Records of the area with fields to resolve, from the server.
pub async fn list_conflicts(query: ConflictListQuery) -> Result<ConflictPage, IpcError> {
    call_with("admin_list_conflicts", query).await
}

/// Opens a record with fields to resolve (fetched from the server first
/// when it can be reached).
pub async fn open_conflict(id: DocId) -> Result<ConflictDetail, IpcError> {
    call_with("admin_open_conflict", RecordRef { id }).await
}

/// Records on this device marked as duplicates whose mark may be cleared.
pub async fn marked_duplicates() -> Result<Vec<MarkedDuplicate>, IpcError> {
    call("admin_marked_duplicates").await
}

// --- Notices (the field app) -------------------------------------------------

/// What sync admins decided about this device's refused changes.
pub async fn list_notices() -> Result<Vec<NoticeView>, IpcError> {
    call("list_notices").await
}

/// Forgets a notice; answers the notices left.
pub async fn dismiss_notice(id: i64) -> Result<Vec<NoticeView>, IpcError> {
    call_with("dismiss_notice", NoticeRef { id }).await
}

// --- Statistics -------------------------------------------------------------

/// The figures of the admin's area (or a county, team or commissioner in
/// it) for a period, from the server.
pub async fn stats_report(query: AdminStatsQuery) -> Result<StatsAnswer, IpcError> {
    call_with("admin_stats_report", query).await
}

/// The area's scores under the query's scheme (each carried one when none).
pub async fn stats_scores(query: AdminStatsQuery) -> Result<Vec<ScoreSheet>, IpcError> {
    call_with("admin_stats_scores", query).await
}

/// Writes the area's annual sheet as XLSX or CSV into `exports/`.
pub async fn export_stats(export: AdminStatsExport) -> Result<StatsExported, IpcError> {
    call_with("admin_export_stats", export).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consoles_codes_have_their_own_words() {
        for code in [
            "sync.username_taken",
            "sync.weak_password",
            "sync.reason_required",
            "sync.not_quarantined",
            "sync.cannot_disable_self",
            "export.failed",
        ] {
            assert!(error_key(code).is_some(), "{code}");
            assert_ne!(super::super::error_key(code), Key::ErrUnexpected, "{code}");
        }
        assert_eq!(error_key("sync.something_new"), None);
        assert!(is_offline(&IpcError::new("sync.network", "x")));
        assert!(!is_offline(&IpcError::new("sync.forbidden", "x")));
    }

    #[test]
    fn inputs_travel_as_the_shell_reads_them() {
        let input = MoveUserInput {
            id: "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
            team: "0192f000-0000-7000-8000-00000000aa02".parse().unwrap(),
        };
        assert_eq!(
            serde_json::to_value(input).unwrap(),
            serde_json::json!({
                "id": "0192f000-0000-7000-8000-000000000001",
                "team": "0192f000-0000-7000-8000-00000000aa02"
            })
        );
        let q: DeviceQuery = serde_json::from_str(r#"{"flag":"any","state":"active"}"#).unwrap();
        assert_eq!(q.flag, Some(app_core::admin::DeviceFlag::Any));
    }
}
