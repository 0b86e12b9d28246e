//! The only module that talks to the Tauri shell.
//!
//! Every command is a typed async function here over one private `invoke`,
//! which calls `window.__TAURI__.core.invoke` (the shell sets
//! `app.withGlobalTauri`). Components never name a command string. Wire
//! types are `app_core::api`'s, shared with the shell.
//!
//! Failures come back as [`IpcError`] (`{ code, message, fields }`): the
//! interface shows [`error_key`]'s translation of the code, and for invalid
//! input [`field_error_key`] next to each field. `message` goes to the
//! console only; raw error text never reaches the screen.
//!
//! Outside the browser (native tests, server-side rendering) there is no
//! Tauri, and every call returns [`codes::UNAVAILABLE`].

use app_core::api::{
    AddedPhoto, AnswerInput, AppInfo, ApproveInput, Approved, Choice, ConflictQuery,
    ConsultationDetail, ConsultationQuery, ConsultationSummary, DraftKey, DuplicatePair,
    EnrolInput, FieldConflict, FollowUpInput, FormDraft, LanguageInput, LogDetail, LogQuery,
    LogSummary, MarkDuplicateInput, Now, Period, PhotoRef, ReEnrolInput, RecordConflicts,
    RecordHistory, RecordRef, RegisterView, ResolveInput, ReturnInput, ReviewDetail, ReviewQueue,
    ReviewQueueQuery, SaveConsultationInput, SaveLogInput, Saved, SessionState, SignInInput,
};
pub use app_core::api::{FieldIssue, IpcError};
use app_core::api::{PrefetchInput, PrefetchSetting};
use app_core::domain::{DocId, GeoPoint, PhotoHash, ServiceLogId, Warning};
use app_core::stats::WorkStats;
use app_core::sync::status::SyncStatus;
use app_core::team::{
    DashboardQuery, ExportQuery, Exported, ScoresQuery, TeamDashboard, TeamRoster, TeamScores,
};
use serde::Serialize;

use crate::i18n::Key;

pub mod admin;

/// Stable error codes produced by this module (the shell adds its own).
pub mod codes {
    /// `window.__TAURI__` is missing: not running inside the Ketepai shell.
    pub const UNAVAILABLE: &str = "ipc.unavailable";
    /// The shell answered, but not with the expected shape.
    pub const BAD_RESPONSE: &str = "ipc.bad_response";
    /// The shell rejected the call without a `{ code, message }` error.
    pub const REJECTED: &str = "ipc.rejected";
    /// A file chosen for a photo could not be read by the webview.
    pub const FILE_UNREADABLE: &str = "photo.unreadable";
    /// The new password and its repetition differ (checked in the form).
    pub const PASSWORDS_DIFFER: &str = "enrol.passwords_differ";
    /// The server asks for a new password: the one given is one-time.
    pub const PASSWORD_CHANGE_REQUIRED: &str = "sync.password_change_required";
}

/// The interface text for an error code.
pub fn error_key(code: &str) -> Key {
    match code {
        codes::UNAVAILABLE => Key::ErrIpcUnavailable,
        codes::BAD_RESPONSE => Key::ErrIpcBadResponse,
        "store.open_failed" => Key::ErrStoreOpen,
        "store.too_new" => Key::ErrStoreTooNew,
        "store.failed" => Key::ErrStoreFailed,
        "store.locked" => Key::ErrLocked,
        "store.key_missing" | "store.key_corrupt" | "store.wrong_key" => Key::ErrStoreKey,
        "input.invalid" => Key::FixErrors,
        "record.not_found" => Key::ErrNotFound,
        "record.not_yours" => Key::ErrNotYours,
        "record.not_allowed" | "record.refused" => Key::ErrNotAllowed,
        "conflict.not_found" => Key::ErrConflictGone,
        "sync.network" | "sync.protocol" => Key::ErrNetwork,
        "sync.bad_credentials" => Key::ErrBadCredentials,
        "sync.rate_limited" => Key::ErrRateLimited,
        "sync.busy" => Key::ErrServerBusy,
        "sync.upload_quota" => Key::ErrUploadQuota,
        "sync.forbidden" => Key::ErrForbidden,
        "sync.internal" | "sync.unavailable" => Key::ErrServerError,
        "sync.token_revoked" => Key::SyncStoppedRevoked,
        "sync.token_expired" => Key::SyncStoppedExpired,
        "enrol.bad_server" => Key::ErrBadServer,
        "enrol.server_required" => Key::ErrServerRequired,
        "enrol.username_required" => Key::ErrUsernameRequired,
        "enrol.password_required" => Key::ErrPasswordRequired,
        codes::PASSWORDS_DIFFER => Key::PasswordsDiffer,
        "session.wrong_password" => Key::ErrWrongPassword,
        "session.signed_out" | "session.not_enrolled" => Key::ErrSignedOut,
        "photo.corrupt" => Key::ErrPhotoCorrupt,
        "photo.too_many_pixels" => Key::ErrPhotoTooManyPixels,
        "photo.file_too_large" => Key::ErrPhotoFileTooLarge,
        "photo.unsupported" => Key::ErrPhotoUnsupported,
        codes::FILE_UNREADABLE => Key::ErrPhotoCorrupt,
        "gps.unavailable" => Key::WarnGpsUnavailable,
        "gps.denied" => Key::WarnGpsDenied,
        "gps.failed" => Key::WarnNoLocation,
        "export.failed" => Key::ErrExport,
        code => admin::error_key(code).unwrap_or(Key::ErrUnexpected),
    }
}

/// The interface text for a [`app_core::domain::FieldError`] code (plus the
/// interface's own `not_a_number`).
pub fn field_error_key(code: &str) -> Key {
    match code {
        "required" => Key::ErrRequired,
        "bad_code" => Key::ErrBadCode,
        "village_not_in_register" => Key::ErrVillageNotInRegister,
        "negative_count" => Key::ErrNegativeCount,
        "count_too_large" => Key::ErrCountTooLarge,
        "bad_date" => Key::ErrBadDate,
        "bad_time" => Key::ErrBadTime,
        "end_before_start" => Key::ErrEndBeforeStart,
        "unknown_code" => Key::ErrUnknownCode,
        "too_long" => Key::ErrTooLong,
        "bad_location" => Key::ErrBadLocation,
        "bad_phone" => Key::ErrBadPhone,
        "out_of_order" => Key::ErrOutOfOrder,
        "not_a_number" => Key::ErrNotANumber,
        "bad_value" => Key::ErrBadValue,
        _ => Key::ErrUnexpected,
    }
}

/// The interface text for a warning.
pub fn warning_key(warning: &Warning) -> Key {
    match warning {
        Warning::NoLocation => Key::WarnNoLocation,
        Warning::LocationOutsideChina => Key::WarnLocationOutsideChina,
        Warning::LowAccuracy { .. } => Key::WarnLowAccuracy,
        Warning::DateInFuture { .. } => Key::WarnDateInFuture,
        Warning::DateLongAgo { .. } => Key::WarnDateLongAgo,
        Warning::TrainingWithoutTrainees => Key::WarnTrainingWithoutTrainees,
        Warning::RegisterNotLoaded { .. } => Key::WarnRegisterNotLoaded,
    }
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
struct Args<T> {
    input: T,
}

async fn call<T: serde::de::DeserializeOwned>(command: &str) -> Result<T, IpcError> {
    invoke(command, &NoArgs {}).await
}

async fn call_with<A: Serialize, T: serde::de::DeserializeOwned>(
    command: &str,
    input: A,
) -> Result<T, IpcError> {
    invoke(command, &Args { input }).await
}

/// The app version and data directory.
pub async fn app_info() -> Result<AppInfo, IpcError> {
    call("app_info").await
}

/// Locked or not, enrolled or not, signed in or not, the remembered
/// language.
pub async fn get_session() -> Result<SessionState, IpcError> {
    call("get_session").await
}

/// Enrols the device (online, once).
pub async fn enrol_device(input: EnrolInput) -> Result<SessionState, IpcError> {
    call_with("enrol_device", input).await
}

/// Enrols the device again in its own place (revoked or expired), online;
/// with `new_password`, `password` is a one-time password a sync admin
/// gave, and the new one is set first.
pub async fn re_enrol_device(
    password: String,
    new_password: Option<String>,
) -> Result<SessionState, IpcError> {
    call_with(
        "re_enrol_device",
        ReEnrolInput {
            password,
            new_password,
        },
    )
    .await
}

/// Opens the locked store with the password.
pub async fn unlock(password: String) -> Result<SessionState, IpcError> {
    call_with("unlock", SignInInput { password }).await
}

/// Signs in offline.
pub async fn sign_in(password: String) -> Result<SessionState, IpcError> {
    call_with("sign_in", SignInInput { password }).await
}

/// Signs out.
pub async fn sign_out() -> Result<SessionState, IpcError> {
    call("sign_out").await
}

/// Remembers the interface language.
pub async fn set_language(lang: &str) -> Result<(), IpcError> {
    call_with(
        "set_language",
        LanguageInput {
            lang: lang.to_owned(),
        },
    )
    .await
}

/// The sync state.
pub async fn get_sync_status() -> Result<SyncStatus, IpcError> {
    call("get_sync_status").await
}

/// Starts a sync round now.
pub async fn sync_now() -> Result<(), IpcError> {
    call("sync_now").await
}

/// The time by the core's clock.
pub async fn get_now() -> Result<Now, IpcError> {
    call("get_now").await
}

/// The county's townships and villages.
pub async fn get_register() -> Result<RegisterView, IpcError> {
    call("get_register").await
}

/// Saves a form draft (local only).
pub async fn save_form_draft(key: String, json: String) -> Result<(), IpcError> {
    call_with("save_form_draft", FormDraft { key, json }).await
}

/// A form draft, if any.
pub async fn load_form_draft(key: String) -> Result<Option<String>, IpcError> {
    call_with("load_form_draft", DraftKey { key }).await
}

/// Discards a form draft.
pub async fn delete_form_draft(key: String) -> Result<(), IpcError> {
    call_with("delete_form_draft", DraftKey { key }).await
}

/// Saves a service log, submitted for review.
pub async fn save_service_log(input: SaveLogInput) -> Result<Saved, IpcError> {
    call_with("save_service_log", input).await
}

/// A service log.
pub async fn get_service_log(id: DocId) -> Result<LogDetail, IpcError> {
    call_with("get_service_log", RecordRef { id }).await
}

/// Lists service logs.
pub async fn list_service_logs(query: LogQuery) -> Result<Vec<LogSummary>, IpcError> {
    call_with("list_service_logs", query).await
}

/// Saves a consultation.
pub async fn save_consultation(input: SaveConsultationInput) -> Result<Saved, IpcError> {
    call_with("save_consultation", input).await
}

/// A consultation.
pub async fn get_consultation(id: DocId) -> Result<ConsultationDetail, IpcError> {
    call_with("get_consultation", RecordRef { id }).await
}

/// Lists consultations.
pub async fn list_consultations(
    query: ConsultationQuery,
) -> Result<Vec<ConsultationSummary>, IpcError> {
    call_with("list_consultations", query).await
}

/// Answers a consultation.
pub async fn answer_consultation(input: AnswerInput) -> Result<ConsultationDetail, IpcError> {
    call_with("answer_consultation", input).await
}

/// Adds a follow-up note.
pub async fn add_follow_up(input: FollowUpInput) -> Result<ConsultationDetail, IpcError> {
    call_with("add_follow_up", input).await
}

/// Closes a consultation.
pub async fn close_consultation(id: DocId) -> Result<ConsultationDetail, IpcError> {
    call_with("close_consultation", RecordRef { id }).await
}

/// The team's logs waiting for review (handed in, or changed since
/// approval), newest first, and how many wait: the lead's queue.
pub async fn get_review_queue(query: ReviewQueueQuery) -> Result<ReviewQueue, IpcError> {
    call_with("get_review_queue", query).await
}

/// A log under review: its detail (review state, history in
/// `detail.log.reviews`, what changed since the last decision) and its
/// conflicts.
pub async fn get_review_detail(id: ServiceLogId) -> Result<ReviewDetail, IpcError> {
    call_with("get_review_detail", RecordRef { id: id.into() }).await
}

/// Approves several logs at once, offline (all or none: `record.not_allowed`
/// for a draft, `record.not_yours` for a log the user may not decide on).
pub async fn approve_logs(ids: Vec<ServiceLogId>) -> Result<Approved, IpcError> {
    call_with("approve_logs", ApproveInput { ids }).await
}

/// Returns a log to its author with a comment (`input.invalid` with the
/// field `comment` when it is empty).
pub async fn return_log(id: ServiceLogId, comment: String) -> Result<LogDetail, IpcError> {
    call_with("return_log", ReturnInput { id, comment }).await
}

/// Records on this device with fields holding concurrent values, each value
/// with its origin, by county, team and age.
pub async fn list_conflicts(query: ConflictQuery) -> Result<Vec<RecordConflicts>, IpcError> {
    call_with("list_conflicts", query).await
}

/// Resolves the conflict at `path` of a record with `choice` (a listed
/// value by its `op`, or a new value that must pass validation:
/// `input.invalid`); `conflict.not_found` when it was resolved meanwhile.
/// Answers the record's conflicts left.
pub async fn resolve_conflict(
    id: DocId,
    path: String,
    choice: Choice,
) -> Result<Vec<FieldConflict>, IpcError> {
    call_with("resolve_conflict", ResolveInput { id, path, choice }).await
}

/// Possible duplicates (one author, one day, one village, similar text) the
/// user may mark.
pub async fn list_duplicate_candidates() -> Result<Vec<DuplicatePair>, IpcError> {
    call("list_duplicate_candidates").await
}

/// Marks `id` as a duplicate of `of` (the record kept).
pub async fn mark_duplicate(id: DocId, of: DocId) -> Result<RecordHistory, IpcError> {
    call_with("mark_duplicate", MarkDuplicateInput { id, of }).await
}

/// Clears a record's duplicate mark.
pub async fn unmark_duplicate(id: DocId) -> Result<RecordHistory, IpcError> {
    call_with("unmark_duplicate", RecordRef { id }).await
}

/// Who decided, resolved and marked what on a record.
pub async fn get_record_history(id: DocId) -> Result<RecordHistory, IpcError> {
    call_with("get_record_history", RecordRef { id }).await
}

/// A stored image as a `data:` URL; none when not on this device.
pub async fn get_photo(hash: PhotoHash) -> Result<Option<String>, IpcError> {
    call_with("get_photo", PhotoRef { hash }).await
}

/// The signed-in user's statistics.
pub async fn get_my_stats(period: Period) -> Result<WorkStats, IpcError> {
    call_with("get_my_stats", period).await
}

/// The lead's team dashboard over these days (offline, from the device's
/// records; names and last syncs from the roster kept).
pub async fn get_team_dashboard(query: DashboardQuery) -> Result<TeamDashboard, IpcError> {
    call_with("get_team_dashboard", query).await
}

/// The team's roster as last fetched, if ever.
pub async fn get_team_roster() -> Result<Option<TeamRoster>, IpcError> {
    call("get_team_roster").await
}

/// Fetches the team's roster from the server (online) and keeps it.
pub async fn refresh_team() -> Result<Option<TeamRoster>, IpcError> {
    call("refresh_team").await
}

/// The team's assessment scores for a year, under each carried scheme.
pub async fn get_team_scores(year: i32) -> Result<TeamScores, IpcError> {
    call_with("get_team_scores", ScoresQuery { year }).await
}

/// Writes the team's annual sheet into the data directory's `exports/`.
pub async fn export_team_sheet(query: ExportQuery) -> Result<Exported, IpcError> {
    call_with("export_team_sheet", query).await
}

/// Whether the review queue's photos download in the background.
pub async fn get_prefetch_setting() -> Result<PrefetchSetting, IpcError> {
    call("get_prefetch_setting").await
}

/// Turns the background download of the queue's photos on or off.
pub async fn set_prefetch_setting(on: bool) -> Result<PrefetchSetting, IpcError> {
    call_with("set_prefetch_setting", PrefetchInput { on }).await
}

/// The device's position, where the platform has one.
pub async fn get_location() -> Result<GeoPoint, IpcError> {
    call("get_location").await
}

/// Sends the bytes of the file chosen in `input` (a file input) to the
/// shell, which processes and stores the photo.
pub async fn add_photo(file: web_sys::File) -> Result<AddedPhoto, IpcError> {
    #[cfg(target_arch = "wasm32")]
    {
        let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| IpcError::new(codes::FILE_UNREADABLE, format!("{e:?}")))?;
        let bytes = js_sys::Uint8Array::new(&buffer);
        invoke_js("add_photo", bytes.into()).await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = file;
        Err(IpcError::new(codes::UNAVAILABLE, "add_photo: no Tauri"))
    }
}

#[cfg(target_arch = "wasm32")]
async fn invoke<A, T>(command: &str, args: &A) -> Result<T, IpcError>
where
    A: Serialize,
    T: serde::de::DeserializeOwned,
{
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args.serialize(&serializer).map_err(|e| {
        IpcError::new(
            codes::BAD_RESPONSE,
            format!("cannot encode {command} arguments: {e}"),
        )
    })?;
    invoke_js(command, args).await
}

#[cfg(target_arch = "wasm32")]
async fn invoke_js<T>(command: &str, args: wasm_bindgen::JsValue) -> Result<T, IpcError>
where
    T: serde::de::DeserializeOwned,
{
    use wasm_bindgen::{JsCast, JsValue};

    let invoke = tauri_invoke().ok_or_else(|| {
        IpcError::new(
            codes::UNAVAILABLE,
            "window.__TAURI__.core.invoke is missing",
        )
    })?;
    let promise = invoke
        .call2(&JsValue::NULL, &JsValue::from_str(command), &args)
        .map_err(|e| rejection(command, e))?;
    let promise: js_sys::Promise = promise.dyn_into().map_err(|_| {
        IpcError::new(
            codes::BAD_RESPONSE,
            format!("{command}: invoke did not return a promise"),
        )
    })?;

    match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|e| {
            IpcError::new(
                codes::BAD_RESPONSE,
                format!("{command}: unexpected answer: {e}"),
            )
        }),
        Err(error) => {
            let error = rejection(command, error);
            web_sys::console::warn_1(&JsValue::from_str(&format!(
                "{command}: {} ({})",
                error.code, error.message
            )));
            Err(error)
        }
    }
}

/// `window.__TAURI__.core.invoke`, if present.
#[cfg(target_arch = "wasm32")]
fn tauri_invoke() -> Option<js_sys::Function> {
    use wasm_bindgen::JsCast;

    let get = |target: &wasm_bindgen::JsValue, key: &str| {
        js_sys::Reflect::get(target, &wasm_bindgen::JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let tauri = get(&js_sys::global(), "__TAURI__")?;
    let core = get(&tauri, "core")?;
    get(&core, "invoke")?.dyn_into().ok()
}

/// Turns a rejected call into an [`IpcError`], keeping the shell's code when
/// it sent a `{ code, message }` object.
#[cfg(target_arch = "wasm32")]
fn rejection(command: &str, error: wasm_bindgen::JsValue) -> IpcError {
    match serde_wasm_bindgen::from_value::<IpcError>(error.clone()) {
        Ok(e) => e,
        Err(_) => IpcError::new(
            codes::REJECTED,
            format!(
                "{command}: {}",
                error.as_string().unwrap_or_else(|| format!("{error:?}"))
            ),
        ),
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn invoke<A, T>(command: &str, _args: &A) -> Result<T, IpcError>
where
    A: Serialize,
    T: serde::de::DeserializeOwned,
{
    Err(IpcError::new(
        codes::UNAVAILABLE,
        format!("{command}: no Tauri outside the browser build"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_their_own_text() {
        assert_eq!(error_key(codes::UNAVAILABLE), Key::ErrIpcUnavailable);
        assert_eq!(error_key("photo.corrupt"), Key::ErrPhotoCorrupt);
        assert_eq!(
            error_key("photo.too_many_pixels"),
            Key::ErrPhotoTooManyPixels
        );
        assert_eq!(error_key("session.wrong_password"), Key::ErrWrongPassword);
        assert_eq!(error_key("sync.bad_credentials"), Key::ErrBadCredentials);
        assert_eq!(error_key("gps.unavailable"), Key::WarnGpsUnavailable);
        assert_eq!(error_key("sync.upload_quota"), Key::ErrUploadQuota);
    }

    #[test]
    fn unknown_codes_fall_back_to_a_generic_text() {
        assert_eq!(error_key("store.disk_full"), Key::ErrUnexpected);
        assert_eq!(error_key(codes::REJECTED), Key::ErrUnexpected);
        assert_eq!(field_error_key("whatever"), Key::ErrUnexpected);
    }

    #[test]
    fn every_core_field_error_and_warning_has_its_own_text() {
        for code in [
            "required",
            "bad_code",
            "village_not_in_register",
            "negative_count",
            "count_too_large",
            "bad_date",
            "bad_time",
            "end_before_start",
            "unknown_code",
            "too_long",
            "bad_location",
            "bad_phone",
            "out_of_order",
        ] {
            assert_ne!(field_error_key(code), Key::ErrUnexpected, "{code}");
        }
        let w = Warning::TrainingWithoutTrainees;
        assert_eq!(warning_key(&w), Key::WarnTrainingWithoutTrainees);
    }

    /// The same JSON the shell's tests pin for its side.
    #[test]
    fn reads_the_shells_wire_format() {
        let info: AppInfo =
            serde_json::from_str(r#"{"version":"0.1.0","data_dir":"/data/ketepai"}"#).unwrap();
        assert_eq!(info.data_dir, "/data/ketepai");
        let error: IpcError = serde_json::from_str(
            r#"{"code":"input.invalid","message":"invalid input: village is required","fields":[{"field":"village","code":"required"}]}"#,
        )
        .unwrap();
        assert_eq!(error.fields[0].field, "village");
        let bare: IpcError =
            serde_json::from_str(r#"{"code":"data_dir.not_utf8","message":"x"}"#).unwrap();
        assert!(bare.fields.is_empty());
    }

    /// The inputs of the review and conflict commands as the shell reads
    /// them.
    #[test]
    fn review_and_conflict_inputs_on_the_wire() {
        let pick = ResolveInput {
            id: "0192f000-0000-7000-8000-0000000000e1".parse().unwrap(),
            path: "farmers_served".into(),
            choice: Choice::Pick { op: "35@ab".into() },
        };
        assert_eq!(
            serde_json::to_value(&pick).unwrap(),
            serde_json::json!({
                "id": "0192f000-0000-7000-8000-0000000000e1",
                "path": "farmers_served",
                "choice": { "by": "pick", "op": "35@ab" }
            })
        );
        let typed: Choice = serde_json::from_str(r#"{"by":"value","value":40}"#).unwrap();
        assert_eq!(typed, Choice::Value { value: 40.into() });
        let query: ReviewQueueQuery =
            serde_json::from_str(r#"{"township":"520324001","from":"2026-11-01"}"#).unwrap();
        assert_eq!(query.township.unwrap().to_string(), "520324001");
        assert_eq!(error_key("conflict.not_found"), Key::ErrConflictGone);
        assert_eq!(error_key("record.refused"), Key::ErrNotAllowed);
    }

    #[test]
    fn outside_the_browser_calls_are_unavailable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt.block_on(app_info()).unwrap_err();
        assert_eq!(err.code, codes::UNAVAILABLE);
    }
}
