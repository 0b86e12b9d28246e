//! The shell's plain-Rust core: everything the commands do, over app-core,
//! without Tauri types, so it is tested as ordinary Rust.
//!
//! [`Core`] owns the store, who is signed in, and the background sync.
//! Each method is a few lines over app-core and decides nothing itself:
//! who may edit what is `app_core::scope`'s (through the store's `*_as`
//! operations), syncing, photo downloads and the sync status are the
//! engine's (`app_core::sync`). The methods that touch the network are
//! async, the rest block briefly on SQLite (commands call them on the
//! blocking pool).

use std::sync::{Arc, Mutex};

use app_core::api::{
    AddedPhoto, AnswerInput, ApproveInput, Approved, ConflictQuery, ConsultationDetail,
    ConsultationQuery, ConsultationSummary, DraftKey, DuplicatePair, EnrolInput, FieldConflict,
    FollowUpInput, FormDraft, LogDetail, LogQuery, LogSummary, MarkDuplicateInput, Now, Period,
    PrefetchSetting, Profile, ReEnrolInput, RecordConflicts, RecordHistory, RegisterView,
    ResolveInput, ReturnInput, ReviewDetail, ReviewQueue, ReviewQueueQuery, SaveConsultationInput,
    SaveLogInput, Saved, SessionState,
};
use app_core::clock::SharedClock;
use app_core::domain::{ConsultationId, DivisionLevel, DocId, PhotoHash, ServiceLogId};
use app_core::scope::Principal;
use app_core::stats::{StatsQuery, WorkStats};
use app_core::store::{KeyKeeper, Store, StoreKey, Vault};
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::status::SyncStatus;
use app_core::sync::{self, EngineOptions, Enrolment, SyncEngine};
use app_core::team::{
    DashboardQuery, ExportFormat, ExportQuery, Exported, ScoresQuery, TeamDashboard, TeamRoster,
    TeamScores,
};
use base64::Engine as _;

use crate::background::BackgroundSync;
use crate::error::CommandError;
use crate::register;
use crate::session;

/// Meta key of the interface language the user chose.
pub const META_LANG: &str = "ui.lang";
/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "ketepai.sqlite";

/// The app's state behind the commands.
#[derive(Debug)]
pub struct Core {
    store: Arc<Store>,
    signed_in: Mutex<Option<Principal>>,
    engine: SyncEngine,
    sync: BackgroundSync,
    options: EngineOptions,
    sealing: Option<Sealing>,
}

/// An encrypted store's data key and where it is kept: the key file beside
/// the store (sealed under the password at enrolment, again when the
/// password changes) and the platform keystore's slot, if any.
#[derive(Debug)]
pub struct Sealing {
    vault: Vault,
    key: StoreKey,
    keeper: Arc<dyn KeyKeeper>,
}

impl Sealing {
    /// The key `key` of the store whose key file is `vault`.
    pub fn new(vault: Vault, key: StoreKey, keeper: Arc<dyn KeyKeeper>) -> Sealing {
        Sealing { vault, key, keeper }
    }

    /// Wraps the key under `password` (removing the pre-enrolment slot)
    /// and keeps it in the keystore, if the platform has one.
    fn seal(&self, password: &str) -> Result<()> {
        self.vault
            .seal(&self.key, password)
            .map_err(app_core::store::StoreError::from)?;
        self.keeper
            .keep(&self.key)
            .map_err(app_core::store::StoreError::from)?;
        Ok(())
    }
}

type Result<T, E = CommandError> = std::result::Result<T, E>;

impl Core {
    /// Opens the plain store at `path` with `clock` (tests; the app opens
    /// its store encrypted, [`Core::open_encrypted`]), restores who was
    /// signed in, and starts the background sync if the device is enrolled.
    pub fn open(
        path: &std::path::Path,
        clock: SharedClock,
        options: EngineOptions,
    ) -> Result<Core> {
        let store = Store::open(path, clock).map_err(|e| CommandError::StoreOpen(e.to_string()))?;
        Self::with_store(store, None, options)
    }

    /// [`Core::open`] on the store encrypted under `sealing`'s key; at
    /// enrolment (and when the password changes) the key is sealed under
    /// the password.
    pub fn open_encrypted(
        path: &std::path::Path,
        sealing: Sealing,
        clock: SharedClock,
        options: EngineOptions,
    ) -> Result<Core> {
        let store = Store::open_encrypted(path, &sealing.key, clock)?;
        Self::with_store(store, Some(sealing), options)
    }

    fn with_store(store: Store, sealing: Option<Sealing>, options: EngineOptions) -> Result<Core> {
        let store = Arc::new(store);
        let engine = SyncEngine::new(Arc::clone(&store), options.clone())?;
        let core = Core {
            store,
            signed_in: Mutex::new(None),
            engine,
            sync: BackgroundSync::default(),
            options,
            sealing,
        };
        if let Some(enrolment) = core.enrolment()? {
            let me = enrolment.principal();
            if core.store.meta_get(session::META_SIGNED_IN)? == Some(me.user.to_string()) {
                *core.session() = Some(me);
            }
            core.sync.start(&core.engine);
        }
        Ok(core)
    }

    /// The store (tests and the photo command read it).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Stops the background sync (the store is about to be locked).
    pub fn stop_sync(&self) {
        self.sync.stop();
    }

    /// This device, if the engine has learned that a sync admin revoked it.
    pub fn revoked_device(&self) -> Option<app_core::domain::DeviceId> {
        let status = self.engine.status();
        let revoked = status
            .last_error
            .as_ref()
            .is_some_and(|e| e.code == "token_revoked");
        if !revoked {
            return None;
        }
        self.enrolment().ok().flatten().map(|e| e.device_id)
    }

    fn seal(&self, password: &str) -> Result<()> {
        match &self.sealing {
            Some(sealing) => sealing.seal(password),
            None => Ok(()),
        }
    }

    /// The sync engine (the console fetches documents and notices with it).
    pub fn engine(&self) -> &SyncEngine {
        &self.engine
    }

    /// The options the engine and the console's client talk to the server
    /// with.
    pub fn engine_options(&self) -> &EngineOptions {
        &self.options
    }

    /// The stored enrolment, if the device is enrolled.
    pub fn stored_enrolment(&self) -> Result<Option<Enrolment>> {
        self.enrolment()
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Option<Principal>> {
        self.signed_in.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enrolment(&self) -> Result<Option<Enrolment>> {
        Ok(sync::stored_enrolment(&self.store)?)
    }

    /// Who is signed in, as the scope rules see them, or
    /// [`CommandError::SignedOut`].
    pub fn principal(&self) -> Result<Principal> {
        (*self.session()).ok_or(CommandError::SignedOut)
    }

    fn signed_in_as(&self, enrolment: &Enrolment) -> Result<()> {
        let me = enrolment.principal();
        self.store
            .meta_set(session::META_SIGNED_IN, &me.user.to_string())?;
        *self.session() = Some(me);
        Ok(())
    }

    // --- Session -------------------------------------------------------

    /// Enrolled or not, signed in or not, and the remembered language.
    pub fn session_state(&self) -> Result<SessionState> {
        Ok(SessionState {
            locked: false,
            profile: self.profile()?,
            signed_in: self.session().is_some(),
            lang: self.store.meta_get(META_LANG)?,
        })
    }

    fn profile(&self) -> Result<Option<Profile>> {
        let Some(e) = self.enrolment()? else {
            return Ok(None);
        };
        let county_name = match e.me.county {
            Some(c) => self
                .store
                .division_name(DivisionLevel::County, c.as_int())?,
            None => None,
        };
        Ok(Some(Profile {
            user: e.me.user.id,
            username: e.me.user.username.clone(),
            display_name: e.me.user.display_name.clone(),
            role: e.me.user.role,
            team: e.me.user.team,
            team_name: e.me.team.as_ref().map(|t| t.name.clone()),
            county: e.me.county,
            county_name,
            server: e.server.clone(),
            device: e.device_id,
        }))
    }

    /// Enrols the device online, keeps the password's hash for offline
    /// sign-in, signs in and starts syncing.
    pub async fn enrol(&self, input: EnrolInput, platform: &str) -> Result<SessionState> {
        if self.enrolment()?.is_some() {
            return Err(CommandError::AlreadyEnrolled);
        }
        let server = normalise_server(&input.server)?;
        if input.username.trim().is_empty() {
            return Err(CommandError::Required("username"));
        }
        if input.password.is_empty() {
            return Err(CommandError::Required("password"));
        }
        let device_name = match input.device_name.trim() {
            "" => format!("{} ({platform})", input.username.trim()),
            name => name.to_owned(),
        };
        let username = input.username.trim().to_owned();
        // A one-time password (a new account, a reset) only sets a new
        // one; the device then enrols with the new password.
        let password = match &input.new_password {
            Some(new) => {
                sync::change_password(&server, &username, &input.password, new, &self.options)
                    .await?;
                new.clone()
            }
            None => input.password.clone(),
        };
        let request = EnrolRequest {
            username,
            password: password.clone(),
            device_name,
            platform: platform.to_owned(),
            replaces: None,
        };
        let answer = sync::enrol(&server, &request, &self.options).await?;
        session::remember_password(&self.store, &password)?;
        // From here on the store holds what the user's account reaches:
        // its key is sealed under the password (the pre-enrolment slot goes).
        self.seal(&password)?;
        let enrolment = sync::complete_enrolment(&self.store, &server, answer, &self.options).await;
        // The enrolment is saved before the register download; a cut
        // download is retried when the engine starts.
        let enrolment = match enrolment {
            Ok(e) => e,
            Err(error) => self.enrolment()?.ok_or(error)?,
        };
        self.signed_in_as(&enrolment)?;
        self.sync.start(&self.engine);
        self.session_state()
    }

    /// Enrols this device again in its own place, with the user's password,
    /// after a sync admin revoked it or its token expired: everything it
    /// holds stays and syncs as before (see [`sync::re_enrol`]). The new
    /// password also becomes the offline sign-in password.
    ///
    /// With `new_password`, `password` is a one-time password a sync admin
    /// gave: the new one is set first and enrolled with.
    pub async fn re_enrol(&self, input: &ReEnrolInput, platform: &str) -> Result<SessionState> {
        let enrolment = self.enrolment()?.ok_or(CommandError::NotEnrolled)?;
        if input.password.is_empty() {
            return Err(CommandError::Required("password"));
        }
        let password = match &input.new_password {
            Some(new) => {
                let user = &enrolment.me.user.username;
                sync::change_password(&enrolment.server, user, &input.password, new, &self.options)
                    .await?;
                new.as_str()
            }
            None => input.password.as_str(),
        };
        let device_name = format!("{} ({platform})", enrolment.me.user.username);
        sync::re_enrol(&self.store, password, &device_name, platform, &self.options).await?;
        session::remember_password(&self.store, password)?;
        self.seal(password)?;
        self.sync.start(&self.engine);
        self.sync.wake();
        self.session_state()
    }

    /// Signs in offline with the password kept at enrolment.
    pub fn sign_in(&self, password: &str) -> Result<SessionState> {
        let enrolment = self.enrolment()?.ok_or(CommandError::NotEnrolled)?;
        session::check_password(&self.store, password)?;
        self.signed_in_as(&enrolment)?;
        self.session_state()
    }

    /// Signs out; records and the enrolment stay, sync goes on.
    pub fn sign_out(&self) -> Result<SessionState> {
        self.store.meta_delete(session::META_SIGNED_IN)?;
        *self.session() = None;
        self.session_state()
    }

    /// Remembers the interface language.
    pub fn set_language(&self, lang: &str) -> Result<()> {
        Ok(self.store.meta_set(META_LANG, lang)?)
    }

    // --- Sync ----------------------------------------------------------

    /// The sync state, with pending counts read from the store now (so a
    /// save shows at once) and the last success the engine kept.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.engine.status_now()?)
    }

    /// Asks the engine for a round now.
    pub fn sync_now(&self) {
        self.sync.wake();
    }

    /// Whether the background engine runs.
    pub fn is_syncing(&self) -> bool {
        self.sync.is_running()
    }

    // --- Reference data and time --------------------------------------

    /// The time by the core's clock, China time.
    pub fn now(&self) -> Now {
        let at = self.store.clock().now();
        let local = at.to_china();
        Now {
            date: local
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            time: local
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            at,
        }
    }

    /// The enrolled county's townships and villages.
    pub fn register(&self) -> Result<RegisterView> {
        let county = self.enrolment()?.and_then(|e| e.me.county);
        match county {
            Some(c) => Ok(register::register_view(&self.store, c)?),
            None => Ok(RegisterView::default()),
        }
    }

    // --- Form drafts (local only) ---------------------------------------

    /// Saves a form draft.
    pub fn save_draft(&self, draft: &FormDraft) -> Result<()> {
        Ok(self.store.save_form_draft(&draft.key, &draft.json)?)
    }

    /// The draft of a form, if any.
    pub fn load_draft(&self, key: &DraftKey) -> Result<Option<String>> {
        Ok(self.store.form_draft(&key.key)?)
    }

    /// Discards a form draft.
    pub fn delete_draft(&self, key: &DraftKey) -> Result<()> {
        Ok(self.store.delete_form_draft(&key.key)?)
    }

    // --- Service logs ----------------------------------------------------

    /// Saves a new log or an edit of one the user may edit, submitted for
    /// review, and wakes the sync.
    pub fn save_service_log(&self, save: &SaveLogInput) -> Result<Saved> {
        let me = self.principal()?;
        let checked = self.store.save_service_log_as(&me, save)?;
        self.sync.wake();
        Ok(Saved {
            id: checked.value.id.into(),
            warnings: checked.warnings,
        })
    }

    /// A log with its place names and what the user may do with it.
    pub fn service_log(&self, id: DocId) -> Result<LogDetail> {
        let me = self.principal()?;
        Ok(self.store.service_log_detail(&me, ServiceLogId::from(id))?)
    }

    /// Lists logs.
    pub fn service_logs(&self, query: &LogQuery) -> Result<Vec<LogSummary>> {
        self.principal()?;
        Ok(self.store.list_service_logs(query)?)
    }

    // --- Consultations --------------------------------------------------

    /// Saves a new consultation or an edit of one the user may edit, and
    /// wakes the sync.
    pub fn save_consultation(&self, save: &SaveConsultationInput) -> Result<Saved> {
        let me = self.principal()?;
        let checked = self.store.save_consultation_as(&me, save)?;
        self.sync.wake();
        Ok(Saved {
            id: checked.value.id.into(),
            warnings: checked.warnings,
        })
    }

    /// A consultation with its village name and what the user may do with
    /// it.
    pub fn consultation(&self, id: DocId) -> Result<ConsultationDetail> {
        let me = self.principal()?;
        Ok(self
            .store
            .consultation_detail(&me, ConsultationId::from(id))?)
    }

    /// Lists consultations.
    pub fn consultations(&self, query: &ConsultationQuery) -> Result<Vec<ConsultationSummary>> {
        self.principal()?;
        Ok(self.store.list_consultations(query)?)
    }

    /// Records the diagnosis and advice.
    pub fn answer_consultation(&self, input: &AnswerInput) -> Result<ConsultationDetail> {
        let me = self.principal()?;
        let detail = self.store.answer_consultation_as(&me, input)?;
        self.sync.wake();
        Ok(detail)
    }

    /// Adds a follow-up note.
    pub fn add_follow_up(&self, input: &FollowUpInput) -> Result<ConsultationDetail> {
        let me = self.principal()?;
        let detail = self.store.add_follow_up_as(&me, input)?;
        self.sync.wake();
        Ok(detail)
    }

    /// Closes a consultation.
    pub fn close_consultation(&self, id: DocId) -> Result<ConsultationDetail> {
        let me = self.principal()?;
        let detail = self
            .store
            .close_consultation_as(&me, ConsultationId::from(id))?;
        self.sync.wake();
        Ok(detail)
    }

    // --- Review, conflicts, duplicates (offline, through the outbox) ------

    /// The team's logs waiting for review (the lead's queue).
    pub fn review_queue(&self, query: &ReviewQueueQuery) -> Result<ReviewQueue> {
        let me = self.principal()?;
        Ok(self.store.review_queue_as(&me, query)?)
    }

    /// A log under review: detail, state, what changed, its conflicts.
    pub fn review_detail(&self, id: DocId) -> Result<ReviewDetail> {
        let me = self.principal()?;
        Ok(self.store.review_detail_as(&me, ServiceLogId::from(id))?)
    }

    /// Approves logs, all or none, and wakes the sync.
    pub fn approve_logs(&self, input: &ApproveInput) -> Result<Approved> {
        let me = self.principal()?;
        let approved = self.store.approve_logs_as(&me, &input.ids)?;
        self.sync.wake();
        Ok(approved)
    }

    /// Returns a log with a comment, and wakes the sync.
    pub fn return_log(&self, input: &ReturnInput) -> Result<LogDetail> {
        let me = self.principal()?;
        let detail = self.store.return_log_as(&me, input)?;
        self.sync.wake();
        Ok(detail)
    }

    /// Records on this device with fields to resolve.
    pub fn conflicts(&self, query: &ConflictQuery) -> Result<Vec<RecordConflicts>> {
        let me = self.principal()?;
        Ok(self.store.conflicts_as(&me, query)?)
    }

    /// Resolves a conflict, and wakes the sync; answers what is left.
    pub fn resolve_conflict(&self, input: &ResolveInput) -> Result<Vec<FieldConflict>> {
        let me = self.principal()?;
        let left = self.store.resolve_conflict_as(&me, input)?;
        self.sync.wake();
        Ok(left)
    }

    /// Possible duplicates the user may mark.
    pub fn duplicate_candidates(&self) -> Result<Vec<DuplicatePair>> {
        let me = self.principal()?;
        Ok(self.store.duplicate_candidates_as(&me)?)
    }

    /// Marks a record as a duplicate of another, and wakes the sync.
    pub fn mark_duplicate(&self, input: &MarkDuplicateInput) -> Result<RecordHistory> {
        let me = self.principal()?;
        let history = self.store.mark_duplicate_as(&me, input)?;
        self.sync.wake();
        Ok(history)
    }

    /// Clears a record's duplicate mark, and wakes the sync.
    pub fn unmark_duplicate(&self, id: DocId) -> Result<RecordHistory> {
        let me = self.principal()?;
        let history = self.store.unmark_duplicate_as(&me, id)?;
        self.sync.wake();
        Ok(history)
    }

    /// Who decided, resolved and marked what on a record.
    pub fn record_history(&self, id: DocId) -> Result<RecordHistory> {
        let me = self.principal()?;
        Ok(self.store.record_history_as(&me, id)?)
    }

    // --- Photos and statistics ------------------------------------------

    /// Processes a photo from the camera or a file and stores the image and
    /// its thumbnail; the caller attaches the metadata to a record.
    pub fn add_photo(&self, bytes: &[u8]) -> Result<AddedPhoto> {
        self.principal()?;
        if bytes.is_empty() {
            return Err(CommandError::PhotoNoData);
        }
        let processed = app_core::photo::process(bytes)?;
        let hash = self.store.put_photo(&processed.image)?;
        let thumb = self.store.put_photo(&processed.thumb)?;
        let meta = processed.meta(hash, thumb, self.store.clock().now());
        Ok(AddedPhoto {
            meta,
            thumb_url: data_url(&processed.thumb),
        })
    }

    /// A stored image as a `data:` URL, or `None` when this device does not
    /// have it (yet).
    pub fn photo(&self, hash: &PhotoHash) -> Result<Option<String>> {
        Ok(self.store.photo(hash)?.map(|bytes| data_url(&bytes)))
    }

    /// A stored image as a `data:` URL; when this device lacks it (a
    /// teammate's photo), the engine fetches it from the server once,
    /// checks it against its hash and keeps it. `None` when offline or
    /// unknown.
    pub async fn fetch_photo(&self, hash: PhotoHash) -> Result<Option<String>> {
        let bytes = self.engine.fetch_photo(hash).await?;
        Ok(bytes.map(|b| data_url(&b)))
    }

    // --- The team lead's tablet -------------------------------------------

    /// The team dashboard over the query's days.
    pub fn team_dashboard(&self, query: &DashboardQuery) -> Result<TeamDashboard> {
        let me = self.principal()?;
        Ok(self.store.team_dashboard_as(&me, query)?)
    }

    /// The roster kept from the last fetch (names, last syncs), if any.
    pub fn team_roster(&self) -> Result<Option<TeamRoster>> {
        self.principal()?;
        Ok(self.store.team_roster()?)
    }

    /// Fetches the team's roster from the server and keeps it (a team lead
    /// online); `None` for anyone else.
    pub async fn refresh_team(&self) -> Result<Option<TeamRoster>> {
        self.principal()?;
        Ok(self.engine.refresh_team().await?)
    }

    /// The team's assessment under each carried scheme for a year.
    pub fn team_scores(&self, query: &ScoresQuery) -> Result<TeamScores> {
        let me = self.principal()?;
        Ok(self.store.team_scores_as(&me, query.year)?)
    }

    /// Writes the team's annual sheet for a year into the data directory's
    /// `exports/` folder, as XLSX or CSV, and says where.
    pub fn export_team_sheet(&self, query: &ExportQuery) -> Result<Exported> {
        let me = self.principal()?;
        let (team, tables) = self.store.team_workbook_as(&me, query.year)?;
        let dir = self.exports_dir();
        let files = app_core::stats::export::write_files(
            &dir,
            &format!("{team}-{}年度统计", query.year),
            &tables,
            query.format == ExportFormat::Xlsx,
        )?;
        let text = |p: &std::path::Path| p.to_string_lossy().into_owned();
        Ok(Exported {
            dir: text(&dir),
            files: files.iter().map(|p| text(p)).collect(),
        })
    }

    /// Where exports go: `exports/` beside the store.
    pub fn exports_dir(&self) -> std::path::PathBuf {
        self.store
            .path()
            .parent()
            .unwrap_or_else(|| std::path::Path::new("."))
            .join("exports")
    }

    /// Whether the review queue's photos download in the background, and
    /// whether this platform's connection allows it.
    pub fn prefetch_setting(&self) -> Result<PrefetchSetting> {
        Ok(PrefetchSetting {
            enabled: self.engine.prefetch_enabled()?,
            unmetered: self.engine.unmetered(),
        })
    }

    /// Turns the background download of the queue's photos on or off.
    pub fn set_prefetch(&self, on: bool) -> Result<PrefetchSetting> {
        self.engine.set_prefetch_enabled(on)?;
        self.sync.wake();
        self.prefetch_setting()
    }

    /// The signed-in user's figures over `period`.
    pub fn my_stats(&self, period: &Period) -> Result<WorkStats> {
        let me = self.principal()?;
        Ok(self.store.work_stats(&StatsQuery {
            author: Some(me.user),
            team: None,
            county: None,
            from: period.from,
            to: period.to,
        })?)
    }
}

/// `host:port` or a full URL → a URL without a trailing slash; a bare host
/// gets `http://` (the usual case is a county server on the local network).
pub fn normalise_server(raw: &str) -> Result<String> {
    let s = raw.trim().trim_end_matches('/');
    if s.is_empty() {
        return Err(CommandError::Required("server"));
    }
    let url = if s.contains("://") {
        s.to_owned()
    } else {
        format!("http://{s}")
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| CommandError::BadServer(raw.to_owned()))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(CommandError::BadServer(raw.to_owned()));
    }
    Ok(url)
}

fn data_url(jpeg: &[u8]) -> String {
    let mime = if jpeg.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use app_core::api::{FieldIssue, Identity, IpcError};
    use app_core::clock::ManualClock;
    use app_core::domain::{
        ConsultationInput, CountyCode, DeviceId, Role, Scope, ServiceLogInput, TeamId, Timestamp,
        User, UserId, Warning,
    };
    use app_core::reference::RegisterSource;
    use app_core::store::RegisterSlice;
    use app_core::sync::enrol::META_ENROLMENT;
    use app_core::sync::protocol::Me;

    use super::*;

    /// 2026-11-29 09:00 China time.
    const NOW: Timestamp = Timestamp::from_millis(1_795_914_000_000);
    const COUNTY: &str = "520324";
    /// 北苑社区, 凤仪街道, 正安县.
    const VILLAGE: &str = "520324001001";
    const PASSWORD: &str = "茶园-2026";

    fn me() -> UserId {
        "0192f000-0000-7000-8000-000000000001".parse().unwrap()
    }

    fn slice() -> &'static RegisterSlice {
        static SLICE: OnceLock<RegisterSlice> = OnceLock::new();
        SLICE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let store =
                Store::open(dir.path().join("r.sqlite"), ManualClock::new(NOW).shared()).unwrap();
            let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/divisions");
            let county = CountyCode::parse(COUNTY).unwrap();
            store
                .import_register(&RegisterSource::from_dir(data).unwrap(), Some(&[county]))
                .unwrap();
            store.export_slice(county).unwrap().unwrap()
        })
    }

    /// A device enrolled for 张三 (with the county register), not opened yet.
    struct Device {
        dir: tempfile::TempDir,
        clock: ManualClock,
    }

    impl Device {
        fn enrolled() -> Device {
            Device::enrolled_as(me(), Role::Commissioner)
        }

        fn enrolled_as(user: UserId, role: Role) -> Device {
            let dir = tempfile::tempdir().unwrap();
            let clock = ManualClock::new(NOW);
            let store = Store::open(dir.path().join(STORE_FILE), clock.shared()).unwrap();
            store.import_slice(slice()).unwrap();
            let team: TeamId = "0192f000-0000-7000-8000-0000000000aa".parse().unwrap();
            let enrolment = Enrolment {
                // Nothing listens on the discard port: sync fails quietly.
                server: "http://127.0.0.1:9".into(),
                device_id: DeviceId::new(NOW),
                token: "t".repeat(43),
                me: Me {
                    user: User {
                        id: user,
                        username: "zhengan-zhang".into(),
                        display_name: "张三".into(),
                        role,
                        scope: Scope::Team(team),
                        team: Some(team),
                        active: true,
                    },
                    team: None,
                    county: Some(CountyCode::parse(COUNTY).unwrap()),
                },
            };
            store
                .meta_set(META_ENROLMENT, &serde_json::to_string(&enrolment).unwrap())
                .unwrap();
            session::remember_password(&store, PASSWORD).unwrap();
            Device { dir, clock }
        }

        fn open(&self) -> Core {
            Core::open(
                &self.dir.path().join(STORE_FILE),
                self.clock.shared(),
                EngineOptions::default(),
            )
            .unwrap()
        }

        fn signed_in(&self) -> Core {
            let core = self.open();
            core.sign_in(PASSWORD).unwrap();
            core
        }
    }

    fn log_input() -> ServiceLogInput {
        ServiceLogInput {
            date: "2026-11-29".into(),
            start_time: Some("09:00".into()),
            village: VILLAGE.into(),
            activity: "technical_guidance".into(),
            industry: "茶叶".into(),
            farmers_served: 12,
            description: "茶园秋冬管理：修剪、施基肥".into(),
            ..ServiceLogInput::default()
        }
    }

    fn ipc(e: CommandError) -> IpcError {
        e.to_ipc()
    }

    #[test]
    fn sign_in_is_offline_against_the_kept_hash_and_survives_a_restart() {
        let device = Device::enrolled();
        let core = device.open();
        let state = core.session_state().unwrap();
        assert!(!state.signed_in);
        assert_eq!(state.profile.unwrap().display_name, "张三");

        assert_eq!(
            ipc(core.sign_in("wrong").unwrap_err()).code,
            "session.wrong_password"
        );
        assert!(!core.session_state().unwrap().signed_in);
        assert!(core.sign_in(PASSWORD).unwrap().signed_in);
        drop(core);

        let core = device.open();
        assert!(
            core.session_state().unwrap().signed_in,
            "kept across restart"
        );
        core.sign_out().unwrap();
        drop(core);
        assert!(!device.open().session_state().unwrap().signed_in);
    }

    fn re_enrol_with(password: &str) -> ReEnrolInput {
        ReEnrolInput {
            password: password.into(),
            new_password: None,
        }
    }

    #[tokio::test]
    async fn re_enrolment_that_fails_changes_nothing() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let before = core.enrolment().unwrap();
        assert_eq!(
            ipc(core
                .re_enrol(&re_enrol_with(""), "linux")
                .await
                .unwrap_err())
            .code,
            "enrol.password_required"
        );
        // The server cannot be reached: a clear code, the old enrolment and
        // the old offline password kept.
        let error = ipc(core
            .re_enrol(&re_enrol_with("新密码"), "linux")
            .await
            .unwrap_err());
        assert_eq!(error.code, "sync.network");
        assert_eq!(core.enrolment().unwrap(), before);
        core.sign_out().unwrap();
        assert!(core.sign_in(PASSWORD).unwrap().signed_in);
    }

    #[test]
    fn records_need_someone_signed_in() {
        let device = Device::enrolled();
        let core = device.open();
        let save = SaveLogInput {
            input: log_input(),
            ..SaveLogInput::default()
        };
        let error = ipc(core.save_service_log(&save).unwrap_err());
        assert_eq!(error.code, "session.signed_out");
        assert_eq!(core.sync_status().unwrap().pending_records, 0);
    }

    #[test]
    fn an_invalid_log_names_its_fields_and_saves_nothing() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let mut input = log_input();
        input.village = String::new();
        input.farmers_served = -3;
        let save = SaveLogInput {
            input,
            draft_key: Some("new_log".into()),
            ..SaveLogInput::default()
        };
        core.save_draft(&FormDraft {
            key: "new_log".into(),
            json: "{}".into(),
        })
        .unwrap();
        let error = ipc(core.save_service_log(&save).unwrap_err());
        assert_eq!(error.code, "input.invalid");
        assert!(error.fields.contains(&FieldIssue {
            field: "village".into(),
            code: "required".into()
        }));
        assert!(error.fields.contains(&FieldIssue {
            field: "farmers_served".into(),
            code: "negative_count".into()
        }));
        assert_eq!(core.sync_status().unwrap().pending_records, 0);
        // The draft is kept: nothing typed is lost when a save fails.
        let key = DraftKey {
            key: "new_log".into(),
        };
        assert_eq!(core.load_draft(&key).unwrap().as_deref(), Some("{}"));
    }

    #[test]
    fn a_saved_log_is_submitted_pending_sync_and_its_draft_is_gone() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let key = DraftKey {
            key: "new_log".into(),
        };
        core.save_draft(&FormDraft {
            key: key.key.clone(),
            json: r#"{"industry":"茶叶"}"#.into(),
        })
        .unwrap();
        let saved = core
            .save_service_log(&SaveLogInput {
                input: log_input(),
                draft_key: Some(key.key.clone()),
                ..SaveLogInput::default()
            })
            .unwrap();
        assert_eq!(saved.warnings, vec![Warning::NoLocation]);
        assert_eq!(core.load_draft(&key).unwrap(), None);

        let detail = core.service_log(saved.id).unwrap();
        assert!(detail.mine && detail.may_edit && !detail.may_review);
        assert_eq!(detail.log.status, app_core::domain::LogStatus::Submitted);
        assert!(detail.village_name.unwrap().starts_with("北苑社区"));
        assert_eq!(detail.township_name.as_deref(), Some("凤仪街道"));
        let status = core.sync_status().unwrap();
        assert_eq!(status.pending_records, 1);
        assert!(status.pending_changes >= 1);

        let stats = core
            .my_stats(&Period {
                from: "2026-11-01".parse().unwrap(),
                to: "2026-11-30".parse().unwrap(),
            })
            .unwrap();
        assert_eq!((stats.visits, stats.service_days), (1, 1));
        assert_eq!(stats.farmers_served, 12);
    }

    #[test]
    fn someone_elses_log_cannot_be_edited_here() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let other = Identity {
            user: "0192f000-0000-7000-8000-000000000002".parse().unwrap(),
            team: None,
        };
        let theirs = core
            .store()
            .create_service_log(&other, &log_input(), true)
            .unwrap();
        let error = core
            .save_service_log(&SaveLogInput {
                id: Some(theirs.value.id),
                input: log_input(),
                draft_key: None,
            })
            .unwrap_err();
        assert_eq!(ipc(error).code, "record.not_yours");
        let detail = core.service_log(theirs.value.id.into()).unwrap();
        assert!(!detail.mine && !detail.may_edit && !detail.may_review);
    }

    fn consultation_input() -> ConsultationInput {
        ConsultationInput {
            farmer_name: "王德明".into(),
            farmer_phone: String::new(),
            farmer_village: VILLAGE.into(),
            subject: "茶树".into(),
            problem: "新梢叶片出现褐色斑点".into(),
            channel: "phone".into(),
            asked_at: "2026-11-29 08:10".into(),
            photos: vec![],
        }
    }

    #[test]
    fn someone_elses_consultation_is_read_only_here() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let other = Identity {
            user: "0192f000-0000-7000-8000-000000000002".parse().unwrap(),
            team: None,
        };
        let theirs = core
            .store()
            .create_consultation(&other, &consultation_input())
            .unwrap()
            .value;
        let id = theirs.id;
        let detail = core.consultation(id.into()).unwrap();
        assert!(!detail.mine && !detail.may_edit);

        let answer = AnswerInput {
            id,
            advice: "喷施波尔多液".into(),
            draft_key: None,
        };
        let follow_up = FollowUpInput {
            id,
            note: "回访".into(),
            needs_more: false,
            draft_key: None,
        };
        let edit = SaveConsultationInput {
            id: Some(id),
            input: consultation_input(),
            draft_key: None,
        };
        let refusals = [
            core.answer_consultation(&answer).unwrap_err(),
            core.add_follow_up(&follow_up).unwrap_err(),
            core.close_consultation(id.into()).unwrap_err(),
            core.save_consultation(&edit).unwrap_err(),
        ];
        for error in refusals {
            assert_eq!(ipc(error).code, "record.not_yours");
        }
        assert_eq!(
            core.consultation(id.into()).unwrap().consultation,
            theirs,
            "nothing changed"
        );

        let saved = core
            .save_consultation(&SaveConsultationInput {
                input: consultation_input(),
                ..SaveConsultationInput::default()
            })
            .unwrap();
        let mine = core
            .answer_consultation(&AnswerInput {
                id: saved.id.into(),
                ..answer
            })
            .unwrap();
        assert!(mine.mine && mine.may_edit);
        assert_eq!(mine.consultation.advice, "喷施波尔多液");
    }

    #[test]
    fn the_last_sync_time_the_engine_kept_shows_after_a_restart() {
        let device = Device::enrolled();
        let kept = NOW.add_millis(-3_600_000);
        {
            let store =
                Store::open(device.dir.path().join(STORE_FILE), device.clock.shared()).unwrap();
            store
                .meta_set(
                    app_core::sync::engine::META_LAST_SUCCESS,
                    &kept.as_millis().to_string(),
                )
                .unwrap();
        }
        let core = device.signed_in();
        let status = core.sync_status().unwrap();
        assert_eq!(status.last_success, Some(kept));
        assert!(status.is_up_to_date());
        core.save_service_log(&SaveLogInput {
            input: log_input(),
            ..SaveLogInput::default()
        })
        .unwrap();
        let status = core.sync_status().unwrap();
        assert_eq!(status.pending_records, 1, "a save shows at once");
        assert_eq!(status.last_success, Some(kept));
    }

    #[tokio::test]
    async fn a_photo_this_device_lacks_is_none_while_the_server_is_unreachable() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let hash = core.store().put_photo(b"\xFF\xD8 a photo").unwrap();
        let url = core.fetch_photo(hash).await.unwrap().unwrap();
        assert!(url.starts_with("data:image/jpeg;base64,"));
        let elsewhere = app_core::store::hash_bytes(b"a teammate's photo");
        assert_eq!(core.fetch_photo(elsewhere).await.unwrap(), None);
    }

    #[test]
    fn photos_are_processed_stored_with_a_thumbnail_and_bad_files_refused() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let img = image::RgbImage::from_fn(2400, 1800, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode(&img, 2400, 1800, image::ExtendedColorType::Rgb8)
            .unwrap();

        let added = core.add_photo(&jpeg).unwrap();
        assert_eq!((added.meta.width, added.meta.height), (1600, 1200));
        assert!(added.meta.size_bytes <= 250 * 1024);
        assert!(added.thumb_url.starts_with("data:image/jpeg;base64,"));
        assert!(core.photo(&added.meta.hash).unwrap().is_some());
        assert!(core.photo(&added.meta.thumb).unwrap().is_some());
        assert_eq!(added.meta.taken_at, Some(NOW), "no EXIF: the core's clock");

        let mut truncated = jpeg.clone();
        truncated.truncate(300);
        assert_eq!(
            ipc(core.add_photo(&truncated).unwrap_err()).code,
            "photo.corrupt"
        );
        let mut bomb = jpeg;
        let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
        assert_eq!(
            ipc(core.add_photo(&bomb).unwrap_err()).code,
            "photo.too_many_pixels"
        );
        assert_eq!(
            ipc(core.add_photo(b"not an image").unwrap_err()).code,
            "photo.unsupported"
        );
    }

    #[test]
    fn the_register_lists_townships_and_villages_with_initials() {
        let device = Device::enrolled();
        let core = device.signed_in();
        let view = core.register().unwrap();
        assert_eq!(view.county.unwrap().name, "正安县");
        let fengyi = view
            .townships
            .iter()
            .find(|t| t.place.name == "凤仪街道")
            .expect("凤仪街道 in 正安县");
        assert_eq!(fengyi.place.initials, "fyjd");
        assert!(fengyi.villages.iter().any(|v| v.code == VILLAGE));
        let villages: usize = view.townships.iter().map(|t| t.villages.len()).sum();
        assert_eq!(villages, slice().villages.len());
    }

    #[test]
    fn a_lead_reviews_offline_and_the_rules_stay_in_the_core() {
        let lead: UserId = "0192f000-0000-7000-8000-000000000005".parse().unwrap();
        let device = Device::enrolled_as(lead, Role::TeamLead);
        let core = device.signed_in();
        let member = Identity {
            user: me(),
            team: Some("0192f000-0000-7000-8000-0000000000aa".parse().unwrap()),
        };
        let mut ids = Vec::new();
        for description in ["茶园修剪", "茶园施肥"] {
            let mut input = log_input();
            input.description = description.into();
            let log = core
                .store()
                .create_service_log(&member, &input, true)
                .unwrap()
                .value;
            ids.push(log.id);
        }
        let queue = core.review_queue(&ReviewQueueQuery::default()).unwrap();
        assert_eq!(queue.total, 2);

        let error = core
            .return_log(&ReturnInput {
                id: ids[0],
                comment: String::new(),
            })
            .unwrap_err();
        let error = ipc(error);
        assert_eq!(error.code, "input.invalid");
        assert_eq!(
            error.fields,
            [FieldIssue {
                field: "comment".into(),
                code: "required".into()
            }]
        );
        let returned = core
            .return_log(&ReturnInput {
                id: ids[0],
                comment: "请补充照片".into(),
            })
            .unwrap();
        assert_eq!(
            returned.review_state,
            app_core::domain::ReviewState::Returned
        );
        let approved = core
            .approve_logs(&ApproveInput { ids: vec![ids[1]] })
            .unwrap();
        assert_eq!(approved.ids, [ids[1]]);
        assert_eq!(
            core.review_queue(&ReviewQueueQuery::default())
                .unwrap()
                .total,
            0
        );
        let history = core.record_history(ids[0].into()).unwrap();
        assert_eq!(history.reviews[0].comment, "请补充照片");
        assert!(
            core.review_detail(ids[1].into())
                .unwrap()
                .conflicts
                .is_empty()
        );
        assert!(
            core.conflicts(&ConflictQuery::default())
                .unwrap()
                .is_empty()
        );
        assert!(core.duplicate_candidates().unwrap().is_empty());
        // A lead does not mark duplicates (the author or a sync admin does).
        let error = core
            .mark_duplicate(&MarkDuplicateInput {
                id: ids[1].into(),
                of: ids[0].into(),
            })
            .unwrap_err();
        assert_eq!(ipc(error).code, "record.not_yours");
        assert!(core.sync_status().unwrap().pending_changes >= 4);
    }

    #[test]
    fn now_is_the_cores_clock_in_china_time() {
        let device = Device::enrolled();
        let core = device.open();
        let now = core.now();
        assert_eq!(
            (now.date.as_str(), now.time.as_str()),
            ("2026-11-29", "09:00")
        );
        device.clock.advance_millis(16 * 3_600_000);
        assert_eq!(core.now().date, "2026-11-30");
    }

    #[test]
    fn server_addresses_are_normalised() {
        assert_eq!(
            normalise_server(" 192.168.1.5:8750/ ").unwrap(),
            "http://192.168.1.5:8750"
        );
        assert_eq!(
            normalise_server("https://sync.example.cn").unwrap(),
            "https://sync.example.cn"
        );
        assert_eq!(
            ipc(normalise_server("ftp://x").unwrap_err()).code,
            "enrol.bad_server"
        );
        assert_eq!(
            ipc(normalise_server("  ").unwrap_err()).code,
            "enrol.server_required"
        );
    }

    #[test]
    fn a_lead_exports_the_team_sheet_into_the_exports_folder() {
        let lead: UserId = "0192f000-0000-7000-8000-000000000002".parse().unwrap();
        let device = Device::enrolled_as(lead, Role::TeamLead);
        let core = device.signed_in();
        let query = ExportQuery {
            year: 2026,
            format: ExportFormat::Xlsx,
        };
        let done = core.export_team_sheet(&query).unwrap();
        assert_eq!(
            done.dir,
            device.dir.path().join("exports").to_string_lossy()
        );
        assert_eq!(done.files.len(), 1);
        assert!(done.files[0].ends_with("2026年度统计.xlsx"), "{done:?}");
        assert!(std::fs::read(&done.files[0]).unwrap().starts_with(b"PK"));
        let csv = core
            .export_team_sheet(&ExportQuery {
                format: ExportFormat::Csv,
                ..query
            })
            .unwrap();
        assert!(csv.files.len() > 1 && csv.files.iter().all(|f| f.ends_with(".csv")));

        // A commissioner reports nothing on the team.
        let device = Device::enrolled();
        let core = device.signed_in();
        let error = ipc(core.export_team_sheet(&query).unwrap_err());
        assert_eq!(error.code, "record.not_allowed");
        assert_eq!(core.team_roster().unwrap(), None, "never fetched");
        assert_eq!(
            core.prefetch_setting().unwrap(),
            PrefetchSetting {
                enabled: true,
                unmetered: false
            }
        );
        assert!(!core.set_prefetch(false).unwrap().enabled);
    }
}
