//! Tauri commands: the IPC surface the interface calls through `app-ui`'s
//! `ipc` module. Each is a few lines over [`Core`]; names are `verb_noun`;
//! a command with arguments takes one, named `input`. Wire types live in
//! `app_core::api`, shared with the interface.
//!
//! Store work runs on the blocking pool so the webview never waits on a
//! disk flush or a photo decode.

use std::path::Path;
use std::sync::Arc;

use app_core::api::{
    AddedPhoto, AnswerInput, AppInfo, ApproveInput, Approved, ConflictQuery, ConsultationDetail,
    ConsultationQuery, ConsultationSummary, DraftKey, DuplicatePair, EnrolInput, FieldConflict,
    FollowUpInput, FormDraft, LanguageInput, LogDetail, LogQuery, LogSummary, MarkDuplicateInput,
    Now, Period, PhotoRef, PrefetchInput, PrefetchSetting, ReEnrolInput, RecordConflicts,
    RecordHistory, RecordRef, RegisterView, ResolveInput, ReturnInput, ReviewDetail, ReviewQueue,
    ReviewQueueQuery, SaveConsultationInput, SaveLogInput, Saved, SessionState, SignInInput,
};
use app_core::domain::GeoPoint;
use app_core::stats::WorkStats;
use app_core::sync::status::SyncStatus;
use app_core::team::{
    DashboardQuery, ExportQuery, Exported, ScoresQuery, TeamDashboard, TeamRoster, TeamScores,
};
use tauri::State;
use tauri::ipc::{InvokeBody, Request};

use crate::core::Core;
use crate::error::CommandError;
use crate::lock::Gate;
use crate::paths::AppPaths;

/// The core behind its lock ([`Gate`]): open, locked until the password,
/// or the error it failed to open with (the interface then shows the
/// error's code instead of crashing).
#[derive(Debug)]
pub struct CoreSlot(pub Arc<Gate>);

impl CoreSlot {
    /// The open core; `store.locked` while locked, or the error it failed
    /// to open with.
    pub(crate) fn get(&self) -> Result<Arc<Core>, CommandError> {
        self.0.core()
    }
}

pub(crate) type Slot<'a> = State<'a, CoreSlot>;
pub(crate) type Answer<T> = Result<T, CommandError>;

/// Runs `f` on the core on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    slot: &CoreSlot,
    f: impl FnOnce(&Core) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let core = slot.get()?;
    tauri::async_runtime::spawn_blocking(move || f(&core))
        .await
        .map_err(|e| CommandError::Task(e.to_string()))?
}

/// Builds [`AppInfo`] for a data directory.
pub fn app_info_for(data_dir: &Path) -> Answer<AppInfo> {
    let data_dir = data_dir
        .to_str()
        .ok_or_else(|| CommandError::DataDirNotUtf8(data_dir.to_owned()))?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: data_dir.to_owned(),
    })
}

/// The app version and data directory.
#[tauri::command]
pub fn app_info(paths: State<'_, AppPaths>) -> Answer<AppInfo> {
    app_info_for(&paths.data_dir)
}

/// Locked or not, enrolled or not, signed in or not, the remembered
/// language.
#[tauri::command]
pub async fn get_session(slot: Slot<'_>) -> Answer<SessionState> {
    let gate = Arc::clone(&slot.0);
    tauri::async_runtime::spawn_blocking(move || gate.session_state())
        .await
        .map_err(|e| CommandError::Task(e.to_string()))?
}

/// Opens the locked store with the user's password (argon2 and the first
/// read of the store run on the blocking pool).
#[tauri::command]
pub async fn unlock(slot: Slot<'_>, input: SignInInput) -> Answer<SessionState> {
    let gate = Arc::clone(&slot.0);
    tauri::async_runtime::spawn_blocking(move || gate.unlock(&input.password))
        .await
        .map_err(|e| CommandError::Task(e.to_string()))?
}

/// Enrols the device with the sync server (online, once).
#[tauri::command]
pub async fn enrol_device(slot: Slot<'_>, input: EnrolInput) -> Answer<SessionState> {
    slot.get()?.enrol(input, std::env::consts::OS).await
}

/// Enrols the device again in its own place after a revocation or expiry.
#[tauri::command]
pub async fn re_enrol_device(slot: Slot<'_>, input: ReEnrolInput) -> Answer<SessionState> {
    slot.get()?.re_enrol(&input, std::env::consts::OS).await
}

/// Signs in offline.
#[tauri::command]
pub async fn sign_in(slot: Slot<'_>, input: SignInInput) -> Answer<SessionState> {
    blocking(&slot, move |c| c.sign_in(&input.password)).await
}

/// Signs out.
#[tauri::command]
pub async fn sign_out(slot: Slot<'_>) -> Answer<SessionState> {
    blocking(&slot, |c| c.sign_out()).await
}

/// Remembers the interface language.
#[tauri::command]
pub async fn set_language(slot: Slot<'_>, input: LanguageInput) -> Answer<()> {
    // While locked the choice holds for this run only (it is kept in the
    // store, which is closed).
    if slot.0.is_locked() {
        return Ok(());
    }
    blocking(&slot, move |c| c.set_language(&input.lang)).await
}

/// Pending work, progress, last sync, last error.
#[tauri::command]
pub async fn get_sync_status(slot: Slot<'_>) -> Answer<SyncStatus> {
    blocking(&slot, |c| c.sync_status()).await
}

/// Starts a sync round now.
#[tauri::command]
pub fn sync_now(slot: Slot<'_>) -> Answer<()> {
    slot.get()?.sync_now();
    Ok(())
}

/// Today's date and the time by the core's clock.
#[tauri::command]
pub fn get_now(slot: Slot<'_>) -> Answer<Now> {
    Ok(slot.get()?.now())
}

/// The county's townships and villages.
#[tauri::command]
pub async fn get_register(slot: Slot<'_>) -> Answer<RegisterView> {
    blocking(&slot, |c| c.register()).await
}

/// Saves a form draft (local only).
#[tauri::command]
pub async fn save_form_draft(slot: Slot<'_>, input: FormDraft) -> Answer<()> {
    blocking(&slot, move |c| c.save_draft(&input)).await
}

/// A form draft, if any.
#[tauri::command]
pub async fn load_form_draft(slot: Slot<'_>, input: DraftKey) -> Answer<Option<String>> {
    blocking(&slot, move |c| c.load_draft(&input)).await
}

/// Discards a form draft.
#[tauri::command]
pub async fn delete_form_draft(slot: Slot<'_>, input: DraftKey) -> Answer<()> {
    blocking(&slot, move |c| c.delete_draft(&input)).await
}

/// Saves a service log, submitted for review.
#[tauri::command]
pub async fn save_service_log(slot: Slot<'_>, input: SaveLogInput) -> Answer<Saved> {
    blocking(&slot, move |c| c.save_service_log(&input)).await
}

/// A service log.
#[tauri::command]
pub async fn get_service_log(slot: Slot<'_>, input: RecordRef) -> Answer<LogDetail> {
    blocking(&slot, move |c| c.service_log(input.id)).await
}

/// Lists service logs.
#[tauri::command]
pub async fn list_service_logs(slot: Slot<'_>, input: LogQuery) -> Answer<Vec<LogSummary>> {
    blocking(&slot, move |c| c.service_logs(&input)).await
}

/// Saves a consultation.
#[tauri::command]
pub async fn save_consultation(slot: Slot<'_>, input: SaveConsultationInput) -> Answer<Saved> {
    blocking(&slot, move |c| c.save_consultation(&input)).await
}

/// A consultation.
#[tauri::command]
pub async fn get_consultation(slot: Slot<'_>, input: RecordRef) -> Answer<ConsultationDetail> {
    blocking(&slot, move |c| c.consultation(input.id)).await
}

/// Lists consultations.
#[tauri::command]
pub async fn list_consultations(
    slot: Slot<'_>,
    input: ConsultationQuery,
) -> Answer<Vec<ConsultationSummary>> {
    blocking(&slot, move |c| c.consultations(&input)).await
}

/// Answers a consultation.
#[tauri::command]
pub async fn answer_consultation(slot: Slot<'_>, input: AnswerInput) -> Answer<ConsultationDetail> {
    blocking(&slot, move |c| c.answer_consultation(&input)).await
}

/// Adds a follow-up note.
#[tauri::command]
pub async fn add_follow_up(slot: Slot<'_>, input: FollowUpInput) -> Answer<ConsultationDetail> {
    blocking(&slot, move |c| c.add_follow_up(&input)).await
}

/// Closes a consultation.
#[tauri::command]
pub async fn close_consultation(slot: Slot<'_>, input: RecordRef) -> Answer<ConsultationDetail> {
    blocking(&slot, move |c| c.close_consultation(input.id)).await
}

/// The team's logs waiting for review, with their count.
#[tauri::command]
pub async fn get_review_queue(slot: Slot<'_>, input: ReviewQueueQuery) -> Answer<ReviewQueue> {
    blocking(&slot, move |c| c.review_queue(&input)).await
}

/// A log under review: detail, state, history, what changed, conflicts.
#[tauri::command]
pub async fn get_review_detail(slot: Slot<'_>, input: RecordRef) -> Answer<ReviewDetail> {
    blocking(&slot, move |c| c.review_detail(input.id)).await
}

/// Approves several logs at once (all or none).
#[tauri::command]
pub async fn approve_logs(slot: Slot<'_>, input: ApproveInput) -> Answer<Approved> {
    blocking(&slot, move |c| c.approve_logs(&input)).await
}

/// Returns a log to its author with a comment (required).
#[tauri::command]
pub async fn return_log(slot: Slot<'_>, input: ReturnInput) -> Answer<LogDetail> {
    blocking(&slot, move |c| c.return_log(&input)).await
}

/// Records on this device with fields to resolve.
#[tauri::command]
pub async fn list_conflicts(slot: Slot<'_>, input: ConflictQuery) -> Answer<Vec<RecordConflicts>> {
    blocking(&slot, move |c| c.conflicts(&input)).await
}

/// Resolves a conflict; answers the record's conflicts left.
#[tauri::command]
pub async fn resolve_conflict(slot: Slot<'_>, input: ResolveInput) -> Answer<Vec<FieldConflict>> {
    blocking(&slot, move |c| c.resolve_conflict(&input)).await
}

/// Possible duplicates the user may mark.
#[tauri::command]
pub async fn list_duplicate_candidates(slot: Slot<'_>) -> Answer<Vec<DuplicatePair>> {
    blocking(&slot, |c| c.duplicate_candidates()).await
}

/// Marks a record as a duplicate of another.
#[tauri::command]
pub async fn mark_duplicate(slot: Slot<'_>, input: MarkDuplicateInput) -> Answer<RecordHistory> {
    blocking(&slot, move |c| c.mark_duplicate(&input)).await
}

/// Clears a record's duplicate mark.
#[tauri::command]
pub async fn unmark_duplicate(slot: Slot<'_>, input: RecordRef) -> Answer<RecordHistory> {
    blocking(&slot, move |c| c.unmark_duplicate(input.id)).await
}

/// Who decided, resolved and marked what on a record.
#[tauri::command]
pub async fn get_record_history(slot: Slot<'_>, input: RecordRef) -> Answer<RecordHistory> {
    blocking(&slot, move |c| c.record_history(input.id)).await
}

/// Processes and stores a photo sent as the raw request body.
#[tauri::command]
pub async fn add_photo(slot: Slot<'_>, request: Request<'_>) -> Answer<AddedPhoto> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::PhotoNoData);
    };
    let bytes = bytes.clone();
    blocking(&slot, move |c| c.add_photo(&bytes)).await
}

/// A stored image as a `data:` URL, fetched from the server when this
/// device lacks it (none when offline).
#[tauri::command]
pub async fn get_photo(slot: Slot<'_>, input: PhotoRef) -> Answer<Option<String>> {
    slot.get()?.fetch_photo(input.hash).await
}

/// The signed-in user's statistics for a period.
#[tauri::command]
pub async fn get_my_stats(slot: Slot<'_>, input: Period) -> Answer<WorkStats> {
    blocking(&slot, move |c| c.my_stats(&input)).await
}

/// The lead's team dashboard for a period.
#[tauri::command]
pub async fn get_team_dashboard(slot: Slot<'_>, input: DashboardQuery) -> Answer<TeamDashboard> {
    blocking(&slot, move |c| c.team_dashboard(&input)).await
}

/// The team's roster as last fetched (names, last syncs), if ever.
#[tauri::command]
pub async fn get_team_roster(slot: Slot<'_>) -> Answer<Option<TeamRoster>> {
    blocking(&slot, |c| c.team_roster()).await
}

/// Fetches the team's roster from the server (online) and keeps it.
#[tauri::command]
pub async fn refresh_team(slot: Slot<'_>) -> Answer<Option<TeamRoster>> {
    slot.get()?.refresh_team().await
}

/// The team's assessment scores for a year.
#[tauri::command]
pub async fn get_team_scores(slot: Slot<'_>, input: ScoresQuery) -> Answer<TeamScores> {
    blocking(&slot, move |c| c.team_scores(&input)).await
}

/// Writes the team's annual sheet (XLSX or CSV) into `exports/`.
#[tauri::command]
pub async fn export_team_sheet(slot: Slot<'_>, input: ExportQuery) -> Answer<Exported> {
    blocking(&slot, move |c| c.export_team_sheet(&input)).await
}

/// Whether the review queue's photos download in the background.
#[tauri::command]
pub async fn get_prefetch_setting(slot: Slot<'_>) -> Answer<PrefetchSetting> {
    blocking(&slot, |c| c.prefetch_setting()).await
}

/// Turns the background download of the queue's photos on or off.
#[tauri::command]
pub async fn set_prefetch_setting(slot: Slot<'_>, input: PrefetchInput) -> Answer<PrefetchSetting> {
    blocking(&slot, move |c| c.set_prefetch(input.on)).await
}

/// The device's position, where the platform has geolocation.
#[tauri::command]
pub async fn get_location(app: tauri::AppHandle) -> Answer<GeoPoint> {
    tauri::async_runtime::spawn_blocking(move || crate::location::current(&app))
        .await
        .map_err(|e| CommandError::Task(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_info_wire_shape() {
        let info = app_info_for(Path::new("/data/ketepai")).unwrap();
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "data_dir": "/data/ketepai" })
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_data_dir_is_an_error_with_a_code() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let dir = Path::new(OsStr::from_bytes(b"/data/\xff"));
        let error = app_info_for(dir).unwrap_err();
        assert_eq!(error.code(), "data_dir.not_utf8");
    }
}
