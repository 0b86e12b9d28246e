//! Tauri commands of the sync admin's console and of the device's notices:
//! a few lines each over [`crate::core::Core`]'s console methods
//! ([`crate::admin`]). Names start with `admin_` for the console; a command
//! with arguments takes one, named `input`. The server's wire types are
//! `app_core::admin`'s, the shell's `app_core::api`'s.

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
use app_core::stats::Answer as StatsAnswer;
use app_core::stats::assess::ScoreSheet;
use app_core::team::Exported as StatsExported;
use tauri::State;

use crate::admin::EXPORTS_DIR;
use crate::commands::{Answer, Slot, blocking};
use crate::paths::AppPaths;

/// Teams of the admin's area.
#[tauri::command]
pub async fn admin_list_teams(slot: Slot<'_>, input: TeamQuery) -> Answer<Page<TeamView>> {
    slot.get()?.admin_teams(&input).await
}

/// Creates a team.
#[tauri::command]
pub async fn admin_create_team(slot: Slot<'_>, input: NewTeam) -> Answer<TeamView> {
    slot.get()?.admin_create_team(&input).await
}

/// Users of the admin's area.
#[tauri::command]
pub async fn admin_list_users(slot: Slot<'_>, input: UserQuery) -> Answer<Page<UserView>> {
    slot.get()?.admin_users(&input).await
}

/// Creates an account (the answer holds its one-time password, shown once).
#[tauri::command]
pub async fn admin_create_user(slot: Slot<'_>, input: NewUser) -> Answer<CreatedUser> {
    slot.get()?.admin_create_user(&input).await
}

/// Moves a user to another team.
#[tauri::command]
pub async fn admin_move_user(slot: Slot<'_>, input: MoveUserInput) -> Answer<UserView> {
    slot.get()?.admin_move_user(&input).await
}

/// Changes a user's scope.
#[tauri::command]
pub async fn admin_change_scope(slot: Slot<'_>, input: ChangeScopeInput) -> Answer<UserView> {
    slot.get()?.admin_change_scope(&input).await
}

/// Disables an account.
#[tauri::command]
pub async fn admin_disable_user(slot: Slot<'_>, input: UserRef) -> Answer<UserView> {
    slot.get()?.admin_set_active(&input, false).await
}

/// Enables an account.
#[tauri::command]
pub async fn admin_enable_user(slot: Slot<'_>, input: UserRef) -> Answer<UserView> {
    slot.get()?.admin_set_active(&input, true).await
}

/// Resets a password (the answer holds the one-time password, shown once).
#[tauri::command]
pub async fn admin_reset_password(slot: Slot<'_>, input: UserRef) -> Answer<PasswordReset> {
    slot.get()?.admin_reset_password(&input).await
}

/// Devices of the area with their sync health.
#[tauri::command]
pub async fn admin_list_devices(slot: Slot<'_>, input: DeviceQuery) -> Answer<Page<DeviceView>> {
    slot.get()?.admin_devices(&input).await
}

/// Revokes a device.
#[tauri::command]
pub async fn admin_revoke_device(slot: Slot<'_>, input: DeviceRef) -> Answer<Revoked> {
    slot.get()?.admin_revoke_device(&input).await
}

/// Quarantined documents, their refused changes decoded.
#[tauri::command]
pub async fn admin_list_quarantine(
    slot: Slot<'_>,
    input: QuarantineQuery,
) -> Answer<Page<QuarantinedDoc>> {
    slot.get()?.admin_quarantine(&input).await
}

/// Releases a document's refused changes (checked again under today's rules).
#[tauri::command]
pub async fn admin_release(slot: Slot<'_>, input: QuarantineTarget) -> Answer<Released> {
    slot.get()?.admin_release(&input).await
}

/// Discards a document's refused changes with a reason.
#[tauri::command]
pub async fn admin_discard(slot: Slot<'_>, input: Discard) -> Answer<Discarded> {
    slot.get()?.admin_discard(&input).await
}

/// A page of the audit log.
#[tauri::command]
pub async fn admin_list_audit(slot: Slot<'_>, input: AuditQuery) -> Answer<Page<AuditView>> {
    slot.get()?.admin_audit(&input).await
}

/// Writes the audit entries the filters match as CSV into `exports/`.
#[tauri::command]
pub async fn admin_export_audit(
    slot: Slot<'_>,
    paths: State<'_, AppPaths>,
    input: AuditQuery,
) -> Answer<Exported> {
    let exports = paths.data_dir.join(EXPORTS_DIR);
    slot.get()?.admin_export_audit(&input, &exports).await
}

/// The figures of the admin's area (or of a county, team or commissioner
/// in it) for a period, from the server.
#[tauri::command]
pub async fn admin_stats_report(slot: Slot<'_>, input: AdminStatsQuery) -> Answer<StatsAnswer> {
    slot.get()?.admin_stats_report(&input).await
}

/// The area's scores under the chosen carried scheme (each when none).
#[tauri::command]
pub async fn admin_stats_scores(slot: Slot<'_>, input: AdminStatsQuery) -> Answer<Vec<ScoreSheet>> {
    slot.get()?.admin_stats_scores(&input).await
}

/// Writes the area's annual sheet as XLSX or CSV into `exports/`.
#[tauri::command]
pub async fn admin_export_stats(
    slot: Slot<'_>,
    paths: State<'_, AppPaths>,
    input: AdminStatsExport,
) -> Answer<StatsExported> {
    let exports = paths.data_dir.join(EXPORTS_DIR);
    slot.get()?.admin_export_stats(&input, &exports).await
}

/// Records of the area with fields to resolve, from the server.
#[tauri::command]
pub async fn admin_list_conflicts(
    slot: Slot<'_>,
    input: ConflictListQuery,
) -> Answer<ConflictPage> {
    slot.get()?.admin_conflicts(&input).await
}

/// Opens a record with fields to resolve (fetched from the server first
/// when it can be reached).
#[tauri::command]
pub async fn admin_open_conflict(slot: Slot<'_>, input: RecordRef) -> Answer<ConflictDetail> {
    slot.get()?.admin_open_conflict(input.id).await
}

/// Records marked as duplicates whose mark the user may clear.
#[tauri::command]
pub async fn admin_marked_duplicates(slot: Slot<'_>) -> Answer<Vec<MarkedDuplicate>> {
    blocking(&slot, |c| c.admin_marked_duplicates()).await
}

/// What sync admins decided about this device's refused changes.
#[tauri::command]
pub async fn list_notices(slot: Slot<'_>) -> Answer<Vec<NoticeView>> {
    blocking(&slot, |c| c.notices()).await
}

/// Forgets a notice the user has read; answers the notices left.
#[tauri::command]
pub async fn dismiss_notice(slot: Slot<'_>, input: NoticeRef) -> Answer<Vec<NoticeView>> {
    blocking(&slot, move |c| c.dismiss_notice(input.id)).await
}
