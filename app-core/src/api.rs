//! The types the interface and the shell exchange: queries, list rows,
//! pickers, identities, and the field app's command inputs and outputs
//! (with the IPC error shape `{ code, message, fields }`). Plain serde with no I/O, so they compile to wasm for
//! `app-ui` (with default features off) and the store fills them natively.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{
    ActivityType, Consultation, ConsultationId, ConsultationInput, ConsultationStatus, CountyCode,
    Decision, DeviceId, DocId, DuplicateMark, FieldChange, LogStatus, PhotoHash, PhotoMeta,
    RecordKind, Resolution, ReviewState, Role, ServiceLog, ServiceLogId, ServiceLogInput, TeamId,
    Timestamp, TownshipCode, UserId, VillageCode, Warning,
};

/// A page of service logs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    /// Only this author's logs.
    pub author: Option<UserId>,
    /// Only this team's logs.
    pub team: Option<TeamId>,
    /// Only logs in this status.
    pub status: Option<LogStatus>,
    /// Only logs in this township (a lead's tap on a township).
    #[serde(default)]
    pub township: Option<TownshipCode>,
    /// From this date, inclusive.
    pub from: Option<NaiveDate>,
    /// To this date, inclusive.
    pub to: Option<NaiveDate>,
    /// Text that must appear in industry, description, names, technologies,
    /// or the village or township name.
    pub text: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// A service log as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSummary {
    /// The log.
    pub id: ServiceLogId,
    /// Its author.
    pub author: UserId,
    /// The day.
    pub date: NaiveDate,
    /// Start time, `HH:MM`.
    pub start_time: Option<String>,
    /// The village.
    pub village: VillageCode,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// The township's name, when the register is loaded.
    pub township_name: Option<String>,
    /// Activity type.
    pub activity: ActivityType,
    /// Industry.
    pub industry: String,
    /// Farmers served.
    pub farmers_served: u32,
    /// Trainees.
    pub trainees: Option<u32>,
    /// Photos attached.
    pub photo_count: u32,
    /// Review status as stored (the latest writer's).
    pub status: LogStatus,
    /// Where the log stands in review, derived from its decisions
    /// (`domain::review::review_state`): what badges and the queue show.
    pub review_state: ReviewState,
    /// Set when the log is marked as a duplicate of this one.
    pub duplicate_of: Option<DocId>,
    /// Whether a field has concurrent values to resolve.
    pub has_conflicts: bool,
    /// Start of the description.
    pub summary: String,
}

/// A page of consultations to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConsultationQuery {
    /// Only this author's.
    pub author: Option<UserId>,
    /// Only this team's.
    pub team: Option<TeamId>,
    /// Only in this status.
    pub status: Option<ConsultationStatus>,
    /// Text in the farmer's name, subject, problem, advice or notes.
    pub text: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// A consultation as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultationSummary {
    /// The consultation.
    pub id: ConsultationId,
    /// Its author.
    pub author: UserId,
    /// The farmer's name.
    pub farmer_name: String,
    /// The farmer's village.
    pub village: VillageCode,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// Crop or livestock.
    pub subject: String,
    /// When asked.
    pub asked_at: Timestamp,
    /// When first answered.
    pub first_answered_at: Option<Timestamp>,
    /// Status.
    pub status: ConsultationStatus,
    /// Number of follow-ups.
    pub follow_up_count: u32,
    /// Set when the consultation is marked as a duplicate of this one.
    pub duplicate_of: Option<DocId>,
    /// Whether a field has concurrent values to resolve.
    pub has_conflicts: bool,
    /// Start of the problem.
    pub summary: String,
}

/// A division for a picker: its code (all digits) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Division {
    /// The code, zero-padded to its level's length.
    pub code: String,
    /// The official name.
    pub name: String,
}

/// Who is acting on this device: the signed-in user and their team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user.
    pub user: UserId,
    /// Their team, if any.
    pub team: Option<TeamId>,
}

/// How much is waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxStats {
    /// Changes waiting.
    pub changes: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Records they belong to.
    pub records: u64,
}

/// A team lead's decision on a submitted log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// 通过.
    Approve,
    /// 退回, with a comment saying what to fix.
    Return,
}

// ---------------------------------------------------------------------------
// Commands of the field app: what `app-ui` sends to the Tauri shell and what
// it gets back. Every command that takes arguments takes one, named `input`.
// ---------------------------------------------------------------------------

/// What `app_info` answers: facts about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    /// The app version, e.g. `0.1.0`.
    pub version: String,
    /// Where this instance keeps its store, as an absolute path.
    pub data_dir: String,
}

/// A failed command as it crosses IPC: a stable `code` the interface
/// translates, a `message` for logs only (never shown), and for invalid
/// input the code of each field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    /// Stable, dotted, lowercase code such as `session.wrong_password`.
    pub code: String,
    /// Developer-facing detail. Log it; never show it.
    #[serde(default)]
    pub message: String,
    /// For `input.invalid`: what is wrong with which field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldIssue>,
}

impl IpcError {
    /// An error with `code` and a developer-facing `message`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        IpcError {
            code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

/// One invalid field of a form: the input field's name (as in
/// `ServiceLogInput`, e.g. `village`) and a [`crate::domain::FieldError`] code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldIssue {
    /// The field.
    pub field: String,
    /// What is wrong (`required`, `negative_count`, …).
    pub code: String,
}

/// Who this device is enrolled for, as the interface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user.
    pub user: UserId,
    /// Sign-in name.
    pub username: String,
    /// Name shown to people (姓名).
    pub display_name: String,
    /// Commissioner, team lead or sync admin.
    pub role: Role,
    /// The user's team.
    pub team: Option<TeamId>,
    /// The team's name.
    pub team_name: Option<String>,
    /// The county whose register the device holds.
    pub county: Option<CountyCode>,
    /// The county's name, when the register is loaded.
    pub county_name: Option<String>,
    /// The sync server's address.
    pub server: String,
    /// This device's ID on the server.
    pub device: DeviceId,
}

/// Where the app stands at start: enrolled or not, signed in or not, and
/// the language the user chose last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Whether the device's store is locked, waiting for the password
    /// (`unlock`); then nothing else is known yet.
    #[serde(default)]
    pub locked: bool,
    /// The enrolment, if the device is enrolled.
    pub profile: Option<Profile>,
    /// Whether someone is signed in.
    pub signed_in: bool,
    /// The remembered interface language (`zh-CN`, `en`), if chosen.
    pub lang: Option<String>,
}

/// `enrol_device`: the first start on a device, online.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnrolInput {
    /// The sync server's address, e.g. `https://sync.example.cn`.
    pub server: String,
    /// Sign-in name.
    pub username: String,
    /// Password; sent to the server once, kept on the device only as a hash.
    pub password: String,
    /// A name for the device the user will recognise.
    pub device_name: String,
    /// The new password, when `password` is a one-time password (a sync
    /// admin's new account or reset): it is set first, then the device
    /// enrols with it and keeps it for offline sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_password: Option<String>,
}

/// `re_enrol_device`: enrolling again in the device's own place.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReEnrolInput {
    /// The password (or a one-time password, with `new_password`).
    pub password: String,
    /// The new password, when `password` is a one-time password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_password: Option<String>,
}

/// `sign_in`: offline, against the hash kept at enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignInInput {
    /// The password.
    pub password: String,
}

/// `set_language`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageInput {
    /// `zh-CN` or `en`.
    pub lang: String,
}

/// `get_now`: the time by the core's clock, China time, as forms need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Now {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub time: String,
    /// The instant.
    pub at: Timestamp,
}

/// A township or village in a picker, with the initials of its name's
/// pinyin (`xz` for 新州) so it can be found by typing letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The division code.
    pub code: String,
    /// The official name.
    pub name: String,
    /// Lowercase pinyin initials of the name (may be empty).
    pub initials: String,
}

/// A township and its villages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Township {
    /// The township.
    pub place: Place,
    /// Its villages, in code order.
    pub villages: Vec<Place>,
}

/// `get_register`: the county's townships and villages from the official
/// register on this device (empty when not downloaded yet).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegisterView {
    /// The county, when known.
    pub county: Option<Division>,
    /// Its townships, in code order.
    pub townships: Vec<Township>,
}

/// `save_service_log`: a new log (`id` none) or an edit, submitted for review.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SaveLogInput {
    /// The log being edited, or none for a new one.
    pub id: Option<ServiceLogId>,
    /// The form's content.
    pub input: ServiceLogInput,
    /// The form draft to discard once the log is saved.
    pub draft_key: Option<String>,
}

/// `save_consultation`: a new consultation or an edit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SaveConsultationInput {
    /// The consultation being edited, or none for a new one.
    pub id: Option<ConsultationId>,
    /// The form's content.
    pub input: ConsultationInput,
    /// The form draft to discard once saved.
    pub draft_key: Option<String>,
}

/// A saved record and the imperfections it was saved with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The record's ID.
    pub id: DocId,
    /// Warnings (no GPS, a date in the future …): saved anyway.
    pub warnings: Vec<Warning>,
}

/// `get_service_log`: a log with the names the interface shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogDetail {
    /// The log.
    pub log: ServiceLog,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// The township's name, when the register is loaded.
    pub township_name: Option<String>,
    /// Whether the signed-in user wrote it.
    pub mine: bool,
    /// Whether the signed-in user may edit it (`scope::may_edit`: its
    /// author).
    #[serde(default)]
    pub may_edit: bool,
    /// Whether the signed-in user may review it (`scope::may_review`: the
    /// lead of its team).
    #[serde(default)]
    pub may_review: bool,
    /// Where it stands in review (derived; the stored status may lag).
    pub review_state: ReviewState,
    /// When the last decision no longer covers the content (changed since
    /// approval, or edited after a return): what changed since the version
    /// decided on, field by field. The history itself is `log.reviews`.
    #[serde(default)]
    pub changes_since_decision: Vec<FieldChange>,
    /// Whether the signed-in user may mark it as a duplicate, or clear the
    /// mark (`scope::may_mark_duplicate`: its author or a sync admin).
    #[serde(default)]
    pub may_mark_duplicate: bool,
    /// Whether a field holds concurrent values to resolve.
    #[serde(default)]
    pub has_conflicts: bool,
}

/// `get_consultation`: a consultation with the names the interface shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultationDetail {
    /// The consultation.
    pub consultation: Consultation,
    /// The farmer's village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// Whether the signed-in user wrote it.
    pub mine: bool,
    /// Whether the signed-in user may edit, answer and close it
    /// (`scope::may_edit`: its author).
    #[serde(default)]
    pub may_edit: bool,
    /// Whether the signed-in user may mark it as a duplicate, or clear the
    /// mark (its author or a sync admin).
    #[serde(default)]
    pub may_mark_duplicate: bool,
    /// Whether a field holds concurrent values to resolve.
    #[serde(default)]
    pub has_conflicts: bool,
}

/// A record addressed by ID (`get_service_log`, `close_consultation` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    /// The record.
    pub id: DocId,
}

/// `answer_consultation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerInput {
    /// The consultation.
    pub id: ConsultationId,
    /// Diagnosis and advice.
    pub advice: String,
    /// The form draft to discard once saved.
    pub draft_key: Option<String>,
}

/// `add_follow_up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpInput {
    /// The consultation.
    pub id: ConsultationId,
    /// The note.
    pub note: String,
    /// Whether another visit is needed (需回访).
    pub needs_more: bool,
    /// The form draft to discard once saved.
    pub draft_key: Option<String>,
}

/// `load_form_draft` / `delete_form_draft`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftKey {
    /// The form (`new_log`, `edit_log:<id>`, `answer:<id>` …).
    pub key: String,
}

/// `save_form_draft`: a form's state as JSON, local only, never synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormDraft {
    /// The form.
    pub key: String,
    /// Its state.
    pub json: String,
}

/// `add_photo` answers with the stored photo's metadata and a thumbnail to
/// show at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddedPhoto {
    /// What the record keeps.
    pub meta: PhotoMeta,
    /// The thumbnail as a `data:` URL.
    pub thumb_url: String,
}

/// `get_photo`: one stored image by hash (a thumbnail is a photo of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// The image.
    pub hash: PhotoHash,
}

/// `get_my_stats`: the signed-in user's figures over these days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

// ---------------------------------------------------------------------------
// Review (团长审核), conflicts (冲突) and duplicates (重复记录): the commands
// of the team lead's review and of the sync admin's console that work on
// the device's records, offline.
// ---------------------------------------------------------------------------

/// `review_queue`: the team's logs waiting for review (handed in, or
/// changed since approval), not the lead's own, not duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueueQuery {
    /// The team; none for the signed-in user's team.
    pub team: Option<TeamId>,
    /// Only this member's logs.
    pub member: Option<UserId>,
    /// Only logs in this township.
    pub township: Option<TownshipCode>,
    /// From this date, inclusive.
    pub from: Option<NaiveDate>,
    /// To this date, inclusive.
    pub to: Option<NaiveDate>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// A page of the review queue, newest first, and how many wait in all
/// (with the same filters): the count on the queue's tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewQueue {
    /// Logs waiting that match the filters, all pages.
    pub total: u64,
    /// This page.
    pub logs: Vec<LogSummary>,
}

/// `review_detail`: a log under review with the conflicts it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDetail {
    /// The log, its state, history (`detail.log.reviews`) and what changed
    /// since the last decision.
    pub detail: LogDetail,
    /// Its fields with concurrent values.
    pub conflicts: Vec<FieldConflict>,
}

/// `approve_logs`: approve several logs at once (all or none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveInput {
    /// The logs.
    pub ids: Vec<ServiceLogId>,
}

/// What `approve_logs` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approved {
    /// Each log, now approved (a log already approved as it stands is left
    /// as it is and listed too).
    pub ids: Vec<ServiceLogId>,
}

/// `return_log`: return a log to its author with a comment (required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnInput {
    /// The log.
    pub id: ServiceLogId,
    /// What to fix.
    pub comment: String,
}

/// `record_history`: who decided, resolved and marked what on a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordHistory {
    /// The record.
    pub id: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// Review decisions, oldest first (logs only).
    pub reviews: Vec<Decision>,
    /// Conflict resolutions, oldest first.
    pub resolutions: Vec<Resolution>,
    /// The duplicate mark, if marked.
    pub duplicate: Option<DuplicateMark>,
}

/// Where a concurrent value came from, as far as this device can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueOrigin {
    /// The Automerge actor (hex) that wrote it: one app session on one
    /// device.
    pub actor: String,
    /// When, by that device's clock at the change (to the second).
    pub at: Option<Timestamp>,
    /// Who wrote it, when the record shows it (the actor created the record,
    /// or wrote a decision, resolution or mark by that person).
    pub author: Option<UserId>,
}

/// One of a conflicted field's values, with its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictChoice {
    /// The value as JSON (what `resolve_conflict` takes back).
    pub value: serde_json::Value,
    /// The operation that wrote it (`counter@actor`): pick it by this.
    pub op: String,
    /// Where it came from.
    pub origin: ValueOrigin,
}

/// A field with concurrent values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// Where: `farmers_served`, `farmer.name`, `served.1.name`.
    pub path: String,
    /// The values; the first is the one shown now.
    pub values: Vec<ConflictChoice>,
    /// Whether the signed-in user may resolve it (`scope::may_resolve`).
    pub may_resolve: bool,
}

/// `list_conflicts`: records on this device with fields to resolve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictQuery {
    /// Only records of this kind.
    pub kind: Option<RecordKind>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// A record with fields to resolve, and the record around them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordConflicts {
    /// The record.
    pub id: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// Its author.
    pub author: UserId,
    /// Its team.
    pub team: Option<TeamId>,
    /// Its county.
    pub county: CountyCode,
    /// Its village (a log's, or the farmer's).
    pub village: VillageCode,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// The work date (a log), or the day asked (a consultation).
    pub date: NaiveDate,
    /// When the record was made: its age.
    pub created_at: Timestamp,
    /// Start of its description or problem.
    pub summary: String,
    /// The fields with concurrent values.
    pub fields: Vec<FieldConflict>,
}

/// How a conflict is resolved: one of its values, or a new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Choice {
    /// The value written by this operation (`ConflictChoice::op`).
    Pick {
        /// The operation.
        op: String,
    },
    /// A value typed in, as JSON in the form the values are listed; it must
    /// pass the record's validation.
    Value {
        /// The value.
        value: serde_json::Value,
    },
}

/// `resolve_conflict`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveInput {
    /// The record.
    pub id: DocId,
    /// The conflicted field (`FieldConflict::path`).
    pub path: String,
    /// The value to keep.
    pub choice: Choice,
}

/// `mark_duplicate`: mark `id` as a duplicate of `of` (the one kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkDuplicateInput {
    /// The record that duplicates.
    pub id: DocId,
    /// The record kept.
    pub of: DocId,
}

/// One of two records that may be the same visit or question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateSide {
    /// The record.
    pub id: DocId,
    /// When it was made (which device wrote it first).
    pub created_at: Timestamp,
    /// Start of its description or problem.
    pub summary: String,
    /// Photos attached.
    pub photo_count: u32,
}

/// `duplicate_candidates`: two records by one author, of one day, in one
/// village, with similar text (`domain::resolution::similar_texts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePair {
    /// Their kind.
    pub kind: RecordKind,
    /// Their author.
    pub author: UserId,
    /// The day (the work date, or the day asked).
    pub date: NaiveDate,
    /// The village.
    pub village: VillageCode,
    /// Its name, when the register is loaded.
    pub village_name: Option<String>,
    /// The older record.
    pub first: DuplicateSide,
    /// The newer one.
    pub second: DuplicateSide,
    /// How alike their texts are, 0 to 1.
    pub similarity: f64,
}

/// Whether the review queue's full photos download in the background (on
/// the team lead's tablet), as the settings page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefetchSetting {
    /// The user's choice (on unless turned off).
    pub enabled: bool,
    /// Whether this platform reports an unmetered connection; downloads
    /// happen only then.
    pub unmetered: bool,
}

/// `set_prefetch_setting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefetchInput {
    /// On or off.
    pub on: bool,
}

// ---------------------------------------------------------------------------
// The sync admin's console (同步管理员控制台) and what a device is told about
// its refused changes: the shell's inputs and answers. The server's own wire
// types are `crate::admin`'s.
// ---------------------------------------------------------------------------

/// A user addressed by ID (disable, enable, reset a password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The user.
    pub id: UserId,
}

/// `admin_move_user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveUserInput {
    /// The user.
    pub id: UserId,
    /// The team to move to.
    pub team: TeamId,
}

/// `admin_change_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeScopeInput {
    /// The user.
    pub id: UserId,
    /// The new scope.
    pub scope: crate::domain::Scope,
}

/// A device addressed by ID (revoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRef {
    /// The device.
    pub id: DeviceId,
}

/// A file the app wrote into its data directory's `exports/` folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// Its absolute path.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Whether the server cut the list short (more entries matched than a
    /// file holds).
    pub truncated: bool,
}

/// `admin_stats_report`, `admin_stats_scores`, `admin_export_stats`: the
/// console's statistics question (统计): over which days, whose figures
/// (the admin's whole area when none), only counties with these tags (the
/// 832 脱贫县, the 160 国家乡村振兴重点帮扶县), under which carried
/// assessment scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminStatsQuery {
    /// First day, inclusive (China time).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// A county, team or commissioner inside the area; the area when none.
    #[serde(default)]
    pub subject: Option<crate::stats::StatsSubject>,
    /// Only counties carrying every one of these tags.
    #[serde(default)]
    pub tags: Vec<crate::domain::CountyTag>,
    /// The scheme's id (`seed-2021`, `provincial-points`): scores under it
    /// only (every carried scheme when none), and the workbook's scores
    /// sheet.
    #[serde(default)]
    pub scheme: Option<String>,
}

/// `admin_export_stats`: the annual sheet of a statistics question as XLSX
/// (the whole workbook) or CSV (the annual sheet, the villages not yet
/// covered, and the scores with a scheme).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminStatsExport {
    /// The question.
    pub query: AdminStatsQuery,
    /// XLSX or CSV.
    pub format: crate::team::ExportFormat,
}

/// Where a console list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSource {
    /// The server: everything in the admin's area, with who wrote each
    /// value on which device.
    Server,
    /// This device's store, because the server could not be reached: the
    /// records this device holds, with what the device knows of each
    /// value's origin.
    Device,
}

/// `admin_list_conflicts`: a page of records with fields to resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictPage {
    /// Where the list came from.
    pub source: ListSource,
    /// The records, by county, team and age (oldest first).
    pub items: Vec<crate::admin::ConflictedRecord>,
    /// Send back as `cursor` for the next page.
    pub next: Option<String>,
}

/// `admin_open_conflict`: a record with fields to resolve, on this device
/// (fetched from the server first when it can be reached), with its
/// conflicts as this device can resolve them and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictDetail {
    /// The record, as it shows now.
    pub record: RecordView,
    /// Its fields with concurrent values (pick a value by its `op`).
    pub fields: Vec<FieldConflict>,
    /// Who decided, resolved and marked what.
    pub history: RecordHistory,
    /// Whether the server's copy was fetched just now (else: this device's
    /// copy, offline).
    pub fetched: bool,
}

/// A record of either kind, as a screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordView {
    /// A service log.
    ServiceLog {
        /// The log.
        log: ServiceLog,
        /// Its village's name, when the register is loaded.
        village_name: Option<String>,
    },
    /// A consultation.
    Consultation {
        /// The consultation.
        consultation: Consultation,
        /// The farmer's village's name, when the register is loaded.
        village_name: Option<String>,
    },
}

/// A record marked as a duplicate of another, as the console lists them
/// (so a mark can be cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkedDuplicate {
    /// The record marked.
    pub id: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// The record kept.
    pub of: DocId,
    /// Its author.
    pub author: UserId,
    /// Its day.
    pub date: NaiveDate,
    /// Its village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// Start of its text.
    pub summary: String,
}

/// A notice a sync admin's decision left for this device, with the record
/// it concerns as the device knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeView {
    /// The notice.
    pub notice: crate::sync::protocol::Notice,
    /// The record, when it is on this device.
    pub record: Option<RecordBrief>,
    /// This device's edits of the record lost with a discarded change.
    pub lost_edits: u64,
}

/// A record in one line: what it is, when and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBrief {
    /// Its kind.
    pub kind: RecordKind,
    /// The work date, or the day asked.
    pub date: NaiveDate,
    /// The village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// Start of its text.
    pub summary: String,
}

/// `dismiss_notice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRef {
    /// The notice.
    pub id: i64,
}

impl From<RecordConflicts> for crate::admin::ConflictedRecord {
    /// A record with conflicts as this device lists it, in the console's
    /// form: each value's source is what the device knows (the actor, the
    /// time, the author when the record shows it), not the device or names.
    fn from(r: RecordConflicts) -> Self {
        crate::admin::ConflictedRecord {
            doc: r.id,
            kind: r.kind,
            county: r.county,
            team: r.team,
            team_name: None,
            author: r.author,
            author_name: None,
            village: r.village,
            village_name: r.village_name,
            date: r.date,
            created_at: r.created_at,
            since: None,
            summary: r.summary,
            fields: r
                .fields
                .into_iter()
                .map(|f| crate::admin::ConflictedField {
                    path: f.path,
                    values: f
                        .values
                        .into_iter()
                        .map(|v| crate::admin::ValueSource {
                            value: v.value,
                            op: v.op,
                            actor: v.origin.actor,
                            at: v.origin.at,
                            device: None,
                            device_name: None,
                            platform: None,
                            user: v.origin.author,
                            username: None,
                            display_name: None,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
