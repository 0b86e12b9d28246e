//! The sync engine's decisions, as pure functions of plain data: which
//! outbox entries make the next push, what an answer means for the outbox,
//! the cursor and the status, when to try again, where a photo upload
//! resumes, whether downloaded photo bytes may be kept, what the device
//! reports about its outbox, and what a sync admin's notices mean for the
//! outbox and the notices kept.
//!
//! Nothing here does I/O or needs the engine's state (the way atuin's
//! `record::sync::operations()` and matrix-rust-sdk's no-I/O base client
//! are built): the engine ([`super::engine`]) reads the store and the
//! network, asks these functions, and does what they answer. Each is tested
//! case by case below.

use std::ops::Range;
use std::time::Duration;

use automerge::ChangeHash;

use super::error::SyncError;
use super::protocol::{ChangeOutcome, DeviceReport, Notice, NoticeKind, PullResponse};
use super::status::{SyncErrorInfo, SyncPhase, SyncStatus};
use crate::domain::{PhotoHash, Timestamp};
use crate::store::{PendingPhoto, hash_bytes};

// --- Push ---------------------------------------------------------------

/// How much one push may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushLimits {
    /// Most changes per push.
    pub max_changes: usize,
    /// About how many bytes of changes per push.
    pub max_bytes: usize,
}

/// How many of the oldest outbox entries to read for the next push: a
/// batch, after the `skip` entries the server could not place this round.
pub fn push_window(limits: PushLimits, skip: usize) -> usize {
    limits.max_changes.saturating_add(skip)
}

/// Which outbox entries make the next push, as a range of `sizes`: the byte
/// sizes of the oldest waiting entries, in outbox order.
///
/// The first `skip` entries are those the server could not place yet this
/// round (missing dependencies); they stay for the next round. The batch is
/// the entries after them: at most `max_changes`, and as many as fit in
/// `max_bytes`, except that a single change larger than that still goes,
/// alone, so that nothing waits forever. An empty range means the round's
/// pushing is done.
pub fn next_push(sizes: &[usize], skip: usize, limits: PushLimits) -> Range<usize> {
    let start = skip.min(sizes.len());
    let mut end = start;
    let mut bytes = 0usize;
    for &size in &sizes[start..] {
        if end - start == limits.max_changes {
            break;
        }
        if end > start && bytes.saturating_add(size) > limits.max_bytes {
            break;
        }
        bytes = bytes.saturating_add(size);
        end += 1;
    }
    start..end
}

/// What the server's answer means for one change sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxAction {
    /// Stored now or already there: the change leaves the outbox.
    Ack,
    /// Refused: the change moves to the refused list with the server's code
    /// and reason, waiting for a sync admin. Retrying cannot help.
    Refuse {
        /// The refusal's stable code.
        code: String,
        /// Why, for people.
        reason: String,
    },
    /// The server could not place it yet (missing dependencies): it stays
    /// in the outbox and is skipped for the rest of this round.
    Skip,
}

/// What the server's answer means for one change.
pub fn outbox_action(outcome: &ChangeOutcome) -> OutboxAction {
    match outcome {
        ChangeOutcome::Stored | ChangeOutcome::Duplicate => OutboxAction::Ack,
        ChangeOutcome::Refused { code, reason } => OutboxAction::Refuse {
            code: code.as_str().to_string(),
            reason: reason.clone(),
        },
        ChangeOutcome::MissingDeps => OutboxAction::Skip,
    }
}

/// A change the server refused, with its code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused<C> {
    /// The change.
    pub change: C,
    /// The refusal's stable code.
    pub code: String,
    /// Why, for people.
    pub reason: String,
}

/// What the answer to one push means for the outbox, change by change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushVerdict<C> {
    /// Changes that leave the outbox.
    pub ack: Vec<C>,
    /// Changes that move to the refused list.
    pub refuse: Vec<Refused<C>>,
    /// How many stay and are skipped for the rest of the round.
    pub skip: usize,
}

/// Reads the answer to a push of `sent` (in the order sent; the client has
/// checked that there is one outcome per change).
pub fn read_push_answer<C: Clone>(sent: &[C], outcomes: &[ChangeOutcome]) -> PushVerdict<C> {
    let mut verdict = PushVerdict {
        ack: Vec::new(),
        refuse: Vec::new(),
        skip: 0,
    };
    for (change, outcome) in sent.iter().zip(outcomes) {
        match outbox_action(outcome) {
            OutboxAction::Ack => verdict.ack.push(change.clone()),
            OutboxAction::Refuse { code, reason } => verdict.refuse.push(Refused {
                change: change.clone(),
                code,
                reason,
            }),
            OutboxAction::Skip => verdict.skip += 1,
        }
    }
    verdict
}

// --- Pull ---------------------------------------------------------------

/// What a pull answer means for the cursor and the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullNext {
    /// Nothing new (`204`): the cursor stays, pulling is done.
    CaughtUp,
    /// Apply the page's changes, then save `cursor`; pull again if `more`.
    /// The cursor is saved only after the changes are durable: a cut in
    /// between re-pulls the page, whose changes then apply as duplicates.
    Apply {
        /// The cursor to save once the page is applied.
        cursor: String,
        /// Whether to pull the next page.
        more: bool,
    },
}

/// What a pull answer (`None` for `204 No Content`) means.
pub fn read_pull_answer(page: Option<&PullResponse>) -> PullNext {
    match page {
        None => PullNext::CaughtUp,
        Some(page) => PullNext::Apply {
            cursor: page.cursor.clone(),
            more: page.more,
        },
    }
}

// --- Status -------------------------------------------------------------

/// The status after a round at `now`. A success: online, idle, the time of
/// this success, no error. A failure: the error with its code, online only
/// if the server answered, backing off when a retry can help and stopped
/// when it cannot; the last success stays.
pub fn status_after_round(
    mut status: SyncStatus,
    result: Result<(), &SyncError>,
    now: Timestamp,
) -> SyncStatus {
    status.progress = None;
    match result {
        Ok(()) => {
            status.online = true;
            status.last_success = Some(now);
            status.last_error = None;
            status.phase = SyncPhase::Idle;
        }
        Err(e) => {
            status.online = !e.is_offline();
            status.last_error = Some(SyncErrorInfo {
                code: e.code(),
                retryable: e.is_retryable(),
                at: now,
            });
            status.phase = if e.is_retryable() {
                SyncPhase::Backoff
            } else {
                SyncPhase::Stopped
            };
        }
    }
    status
}

/// Whether a success at `now` replaces the last success kept across
/// restarts: only when later, so that a clock set back never makes the
/// kept time go backwards.
pub fn keep_last_success(kept: Option<Timestamp>, now: Timestamp) -> bool {
    kept.is_none_or(|kept| now > kept)
}

// --- Retry --------------------------------------------------------------

/// Where the random part of a retry delay comes from: given `up_to`, a
/// value in `0..=up_to` (larger answers are clamped). The engine passes a
/// random source; tests pass a fixed or seeded one.
pub trait Jitter {
    /// A value in `0..=up_to`.
    fn pick(&mut self, up_to: u64) -> u64;
}

impl<F: FnMut(u64) -> u64> Jitter for F {
    fn pick(&mut self, up_to: u64) -> u64 {
        self(up_to)
    }
}

/// How long to wait before the next round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// This long, unless woken earlier ("sync now", a save).
    For(Duration),
    /// Until woken: a retry cannot fix the error (a revoked device, an
    /// expired token), so only a new sign-in or enrolment can.
    UntilWoken,
}

/// The pacing of rounds: the interval after a success, and after a failure
/// a retry can fix, exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    interval: Duration,
    next: Duration,
}

impl Backoff {
    /// Pacing with the first retry after `min`, doubling up to `max`, and
    /// `interval` between successful rounds.
    pub fn new(min: Duration, max: Duration, interval: Duration) -> Self {
        Backoff {
            min,
            max,
            interval,
            next: min,
        }
    }

    /// The delay the next retryable failure starts from (before jitter).
    pub fn current(&self) -> Duration {
        self.next
    }

    /// How long to wait after a round that ended with `result`. A success
    /// waits the interval and starts the backoff again from `min`. A failure
    /// a retry can fix waits the current delay plus up to a quarter of it
    /// from `jitter`, and doubles the delay up to `max`. Any other failure
    /// waits to be woken and leaves the delay as it was.
    pub fn after(&mut self, result: Result<(), &SyncError>, jitter: &mut impl Jitter) -> Wait {
        match result {
            Ok(()) => {
                self.next = self.min;
                Wait::For(self.interval)
            }
            Err(e) if e.is_retryable() => {
                let up_to = u64::try_from(self.next.as_millis() / 4).unwrap_or(u64::MAX);
                let extra = Duration::from_millis(jitter.pick(up_to).min(up_to));
                let wait = self.next + extra;
                self.next = (self.next * 2).min(self.max);
                Wait::For(wait)
            }
            Err(_) => Wait::UntilWoken,
        }
    }
}

// --- Photos -------------------------------------------------------------

/// Photo bytes still to upload, by the offsets this device recorded (the
/// total of an upload round's progress).
pub fn upload_remaining(photos: &[PendingPhoto]) -> u64 {
    photos.iter().map(|p| p.len.saturating_sub(p.offset)).sum()
}

/// Where an upload goes on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStart {
    /// From this offset, the server's.
    At(u64),
    /// The server does not know the photo: start the upload (the server
    /// answers its offset, zero or more if another device sent it).
    Create,
}

/// Where an upload goes on from, given the server's offset for it (`None`
/// when it does not know the photo). The server's word wins over the offset
/// this device recorded: it may be ahead (a chunk landed whose answer was
/// lost, so nothing is sent twice) or behind (it lost a partial upload).
pub fn upload_start(server_offset: Option<u64>) -> UploadStart {
    match server_offset {
        Some(offset) => UploadStart::At(offset),
        None => UploadStart::Create,
    }
}

/// The next chunk of a `len`-byte photo to send from `offset`, as
/// `(offset, chunk length)`; `None` once the server holds every byte.
pub fn next_chunk(offset: u64, len: u64, chunk: usize) -> Option<(u64, usize)> {
    (offset < len).then(|| {
        let rest = usize::try_from(len - offset).unwrap_or(usize::MAX);
        (offset, rest.min(chunk.max(1)))
    })
}

/// What an answer to a chunk means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchNext {
    /// The server took it: go on from `offset` (recorded on the device; it
    /// never moves back), with `progress` more bytes done.
    Advanced {
        /// The server's new offset.
        offset: u64,
        /// Bytes this chunk moved the upload forward.
        progress: u64,
    },
    /// The server's offset is not ours (a chunk landed whose answer was
    /// lost, or the server lost the upload): ask it where it stands and go
    /// on from there.
    AskOffset,
    /// Any other failure ends this round.
    Fail,
}

/// What the answer to a chunk sent at `sent_at` means.
pub fn after_patch(sent_at: u64, answer: Result<u64, &SyncError>) -> PatchNext {
    match answer {
        Ok(offset) => PatchNext::Advanced {
            offset,
            progress: offset.saturating_sub(sent_at),
        },
        Err(SyncError::Server { code, .. }) if code == "upload_offset_mismatch" => {
            PatchNext::AskOffset
        }
        Err(_) => PatchNext::Fail,
    }
}

/// Downloaded bytes that may be kept as photo `hash`: only bytes that hash
/// to it, so a cut or altered body is dropped, never stored under a name it
/// does not have.
pub fn verified_photo(hash: &PhotoHash, bytes: Option<Vec<u8>>) -> Option<Vec<u8>> {
    bytes.filter(|b| hash_bytes(b) == *hash)
}

/// Whether the engine downloads the review queue's photos in the
/// background this round: the user has not turned it off (`enabled`, a
/// setting that defaults to on) and the platform says the connection does
/// not cost by the byte (`unmetered`: Wi-Fi on a phone; a desktop always).
pub fn prefetch_photos(enabled: bool, unmetered: bool) -> bool {
    enabled && unmetered
}

// --- Reports and notices ----------------------------------------------

/// What the device reports with its next request: the outbox size, and
/// how long ago (by this device's clock, in seconds) its oldest change was
/// made — the time the change itself carries, in seconds since the epoch.
/// An age, not a time: a clock set wrong shifts both ends alike.
pub fn device_report(
    outbox_changes: u64,
    oldest_change_secs: Option<i64>,
    now: Timestamp,
    app_version: &str,
) -> DeviceReport {
    DeviceReport {
        outbox_changes,
        oldest_pending_secs: oldest_change_secs
            .filter(|_| outbox_changes > 0)
            .map(|t| u64::try_from(now.as_secs().saturating_sub(t)).unwrap_or(0)),
        app_version: (!app_version.is_empty()).then(|| app_version.to_owned()),
    }
}

/// Most notices a device keeps for its user.
pub const KEEP_NOTICES: usize = 50;

/// The notices kept after `new` ones arrive: each once (by ID, a notice
/// fetched again after a lost acknowledgement is not shown twice), oldest
/// first, at most [`KEEP_NOTICES`] (the newest).
pub fn merge_notices(kept: Vec<Notice>, new: Vec<Notice>) -> Vec<Notice> {
    let mut all: Vec<Notice> = kept;
    for n in new {
        if !all.iter().any(|k| k.id == n.id) {
            all.push(n);
        }
    }
    all.sort_by_key(|n| n.id);
    let drop = all.len().saturating_sub(KEEP_NOTICES);
    all.drain(..drop);
    all
}

/// The outbox entries a batch of notices settles: a discarded change still
/// in the outbox (its push answer was lost, so the device never moved it)
/// moves to the refused list with the admin's reason, and is never sent
/// again. As `(hash, reason)`; notices without a readable hash are left.
pub fn discarded_changes(notices: &[Notice]) -> Vec<(ChangeHash, String)> {
    notices
        .iter()
        .filter(|n| n.kind == NoticeKind::Discarded)
        .filter_map(|n| {
            let hash: ChangeHash = n.hash.as_deref()?.parse().ok()?;
            Some((hash, n.reason.clone()))
        })
        .collect()
}

/// The refused changes a batch of notices settles the other way: each
/// change a sync admin released (checked again and stored, or found
/// stored) leaves the device's refused list, since the server has it now.
/// Notices without a readable hash are left.
pub fn released_changes(notices: &[Notice]) -> Vec<ChangeHash> {
    notices
        .iter()
        .filter(|n| n.kind == NoticeKind::Released)
        .filter_map(|n| n.hash.as_deref()?.parse().ok())
        .collect()
}

/// A document some of whose changes a sync admin discarded: the device
/// replaces its copy with the server's (see
/// [`crate::store::Store::replace_with_server_copy`]), because every later
/// edit it makes of the record would build on the discarded changes and
/// wait for them forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardedDoc {
    /// The record.
    pub doc: crate::domain::DocId,
    /// The discarded changes the notices name (by readable hash).
    pub hashes: Vec<ChangeHash>,
    /// The admin's reason (of the last notice about it).
    pub reason: String,
}

/// The documents a batch of discard notices concerns, each once, in the
/// order of their first notice.
pub fn discarded_docs(notices: &[Notice]) -> Vec<DiscardedDoc> {
    let mut out: Vec<DiscardedDoc> = Vec::new();
    for n in notices.iter().filter(|n| n.kind == NoticeKind::Discarded) {
        let hash = n.hash.as_deref().and_then(|h| h.parse().ok());
        match out.iter_mut().find(|d| d.doc == n.doc) {
            Some(d) => {
                d.hashes.extend(hash);
                d.reason.clone_from(&n.reason);
            }
            None => out.push(DiscardedDoc {
                doc: n.doc,
                hashes: hash.into_iter().collect(),
                reason: n.reason.clone(),
            }),
        }
    }
    out
}

/// The highest notice ID of a batch: what the device acknowledges once
/// it has kept them.
pub fn notices_up_to(notices: &[Notice]) -> Option<i64> {
    notices.iter().map(|n| n.id).max()
}

#[cfg(test)]
mod tests {
    #[test]
    fn photos_prefetch_only_when_allowed_and_unmetered() {
        // (enabled, unmetered) -> prefetch
        for (enabled, unmetered, want) in [
            (true, true, true),
            (true, false, false),
            (false, true, false),
            (false, false, false),
        ] {
            assert_eq!(super::prefetch_photos(enabled, unmetered), want);
        }
    }

    use super::*;
    use crate::store::StoreError;
    use crate::sync::protocol::RefusalCode;

    const LIMITS: PushLimits = PushLimits {
        max_changes: 3,
        max_bytes: 100,
    };

    #[test]
    fn next_push_takes_what_fits_after_the_skipped() {
        let none = PushLimits {
            max_changes: 0,
            max_bytes: 100,
        };
        /// (sizes in outbox order, skipped, limits, expected range, why)
        type Case = (
            &'static [usize],
            usize,
            PushLimits,
            Range<usize>,
            &'static str,
        );
        #[rustfmt::skip]
        let cases: [Case; 12] = [
            (&[], 0, LIMITS, 0..0, "empty outbox"),
            (&[10, 20, 30], 0, LIMITS, 0..3, "all fit"),
            (&[1, 1, 1, 1, 1], 0, LIMITS, 0..3, "the change limit"),
            (&[50, 50, 1], 0, LIMITS, 0..2, "exactly the byte limit"),
            (&[60, 50, 1], 0, LIMITS, 0..1, "the byte limit cuts"),
            (&[500, 1, 1], 0, LIMITS, 0..1, "an oversized change goes alone"),
            (&[10, 500, 1], 0, LIMITS, 0..1, "an oversized change waits for the next push"),
            (&[1, 1, 1, 1, 1], 2, LIMITS, 2..5, "the skipped stay"),
            (&[1, 1], 2, LIMITS, 2..2, "everything left is skipped: the round's push is done"),
            (&[1], 4, LIMITS, 1..1, "fewer left than skipped"),
            (&[1, 500, 1], 1, LIMITS, 1..2, "an oversized change after the skipped goes alone"),
            (&[1], 0, none, 0..0, "no changes allowed"),
        ];
        for (sizes, skip, limits, expected, why) in cases {
            assert_eq!(next_push(sizes, skip, limits), expected, "{why}");
        }
    }

    #[test]
    fn the_push_window_reaches_past_the_skipped() {
        assert_eq!(push_window(LIMITS, 0), 3);
        assert_eq!(push_window(LIMITS, 4), 7);
        let huge = PushLimits {
            max_changes: usize::MAX,
            max_bytes: 1,
        };
        assert_eq!(push_window(huge, 1), usize::MAX);
    }

    #[test]
    fn a_push_answer_acks_refuses_and_skips_change_by_change() {
        let refused = ChangeOutcome::Refused {
            code: RefusalCode::OutOfScope,
            reason: "county 520326 is outside".into(),
        };
        let cases: Vec<(ChangeOutcome, OutboxAction)> = vec![
            (ChangeOutcome::Stored, OutboxAction::Ack),
            (ChangeOutcome::Duplicate, OutboxAction::Ack),
            (
                refused.clone(),
                OutboxAction::Refuse {
                    code: "out_of_scope".into(),
                    reason: "county 520326 is outside".into(),
                },
            ),
            (ChangeOutcome::MissingDeps, OutboxAction::Skip),
        ];
        for (outcome, action) in &cases {
            assert_eq!(outbox_action(outcome), *action, "{outcome:?}");
        }

        let sent = ["a", "b", "c", "d", "e"];
        let outcomes = [
            ChangeOutcome::Stored,
            ChangeOutcome::MissingDeps,
            refused,
            ChangeOutcome::Duplicate,
            ChangeOutcome::MissingDeps,
        ];
        let verdict = read_push_answer(&sent, &outcomes);
        assert_eq!(verdict.ack, ["a", "d"]);
        assert_eq!(
            verdict.refuse,
            [Refused {
                change: "c",
                code: "out_of_scope".into(),
                reason: "county 520326 is outside".into()
            }]
        );
        assert_eq!(verdict.skip, 2);
    }

    #[test]
    fn a_pull_answer_says_what_to_save_and_whether_to_go_on() {
        let page = |cursor: &str, more| PullResponse {
            changes: vec![],
            cursor: cursor.into(),
            more,
        };
        let cases = [
            (None, PullNext::CaughtUp),
            (
                Some(page("c7", true)),
                PullNext::Apply {
                    cursor: "c7".into(),
                    more: true,
                },
            ),
            (
                Some(page("c9", false)),
                PullNext::Apply {
                    cursor: "c9".into(),
                    more: false,
                },
            ),
        ];
        for (answer, next) in cases {
            assert_eq!(read_pull_answer(answer.as_ref()), next, "{answer:?}");
        }
    }

    const T1: Timestamp = Timestamp::from_millis(1_000);
    const T2: Timestamp = Timestamp::from_millis(2_000);

    fn failed_before() -> SyncStatus {
        SyncStatus {
            phase: SyncPhase::Pulling,
            progress: Some(crate::sync::status::Progress {
                done: 3,
                total: None,
            }),
            pending_changes: 4,
            online: false,
            last_success: Some(T1),
            last_error: Some(SyncErrorInfo {
                code: "network".into(),
                retryable: true,
                at: T1,
            }),
            ..SyncStatus::default()
        }
    }

    #[test]
    fn a_round_sets_online_phase_last_success_and_last_error() {
        let server = |retryable| SyncError::Server {
            status: 503,
            code: "unavailable".into(),
            retryable,
        };
        let store = || SyncError::Store(StoreError::NotAllowed("x"));
        /// (round result, online, phase, last success, last error code)
        type Case = (
            Result<(), SyncError>,
            bool,
            SyncPhase,
            Option<Timestamp>,
            Option<&'static str>,
        );
        #[rustfmt::skip]
        let cases: [Case; 6] = [
            (Ok(()), true, SyncPhase::Idle, Some(T2), None),
            (Err(SyncError::Network("reset".into())), false, SyncPhase::Backoff, Some(T1), Some("network")),
            (Err(server(true)), true, SyncPhase::Backoff, Some(T1), Some("unavailable")),
            (Err(server(false)), true, SyncPhase::Stopped, Some(T1), Some("unavailable")),
            (Err(SyncError::Revoked), true, SyncPhase::Stopped, Some(T1), Some("token_revoked")),
            (Err(store()), true, SyncPhase::Stopped, Some(T1), Some("store_not_allowed")),
        ];
        for (result, online, phase, last_success, code) in cases {
            let after = status_after_round(failed_before(), result.as_ref().map(|_| ()), T2);
            let what = format!("{result:?}");
            assert_eq!(after.online, online, "{what}");
            assert_eq!(after.phase, phase, "{what}");
            assert_eq!(after.last_success, last_success, "{what}");
            assert_eq!(
                after.last_error.as_ref().map(|e| e.code.as_str()),
                code,
                "{what}"
            );
            assert_eq!(after.progress, None, "{what}");
            assert_eq!(
                after.pending_changes, 4,
                "counts are not the round's: {what}"
            );
            if let Err(e) = &result {
                let info = after.last_error.unwrap();
                assert_eq!((info.retryable, info.at), (e.is_retryable(), T2), "{what}");
            }
        }
    }

    #[test]
    fn the_last_success_kept_only_moves_forward() {
        assert!(keep_last_success(None, T1));
        assert!(keep_last_success(Some(T1), T2));
        assert!(!keep_last_success(Some(T2), T2));
        assert!(!keep_last_success(Some(T2), T1), "a clock set back");
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn retries_back_off_doubling_to_a_cap_and_reset_after_a_success() {
        let network = || SyncError::Network("reset".into());
        let revoked = SyncError::Revoked;
        let mut backoff = Backoff::new(ms(100), ms(500), ms(60_000));
        let mut no_jitter = |_: u64| 0;
        // (round result, wait, delay the next failure starts from)
        let steps: Vec<(Result<(), SyncError>, Wait, Duration)> = vec![
            (Err(network()), Wait::For(ms(100)), ms(200)),
            (Err(network()), Wait::For(ms(200)), ms(400)),
            (Err(network()), Wait::For(ms(400)), ms(500)),
            (Err(network()), Wait::For(ms(500)), ms(500)),
            (Ok(()), Wait::For(ms(60_000)), ms(100)),
            (Err(network()), Wait::For(ms(100)), ms(200)),
            (Err(revoked), Wait::UntilWoken, ms(200)),
            (Ok(()), Wait::For(ms(60_000)), ms(100)),
        ];
        for (i, (result, wait, next)) in steps.into_iter().enumerate() {
            let got = backoff.after(result.as_ref().map(|_| ()), &mut no_jitter);
            assert_eq!((got, backoff.current()), (wait, next), "step {i}");
        }
    }

    #[test]
    fn jitter_comes_from_the_source_and_stays_within_a_quarter() {
        let network = SyncError::Network("reset".into());
        let mut asked = Vec::new();
        let mut backoff = Backoff::new(ms(400), ms(10_000), ms(60_000));
        let mut source = |up_to: u64| {
            asked.push(up_to);
            up_to
        };
        assert_eq!(
            backoff.after(Err(&network), &mut source),
            Wait::For(ms(500))
        );
        assert_eq!(
            backoff.after(Err(&network), &mut source),
            Wait::For(ms(1_000))
        );
        assert_eq!(asked, [100, 200], "a quarter of the delay");
        let mut too_much = |_: u64| u64::MAX;
        assert_eq!(
            backoff.after(Err(&network), &mut too_much),
            Wait::For(ms(2_000)),
            "a source that answers too much is clamped"
        );
        let mut backoff = Backoff::new(ms(400), ms(10_000), ms(60_000));
        let mut seeded = {
            let mut state = 7u64;
            move |up_to: u64| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (state >> 33) % (up_to + 1)
            }
        };
        let Wait::For(wait) = backoff.after(Err(&network), &mut seeded) else {
            panic!("a retryable error waits a while");
        };
        assert!((ms(400)..=ms(500)).contains(&wait), "{wait:?}");
    }

    #[test]
    fn an_upload_goes_on_from_the_servers_offset() {
        assert_eq!(upload_start(Some(0)), UploadStart::At(0));
        assert_eq!(
            upload_start(Some(4096)),
            UploadStart::At(4096),
            "ahead of what was recorded: a chunk whose answer was lost"
        );
        assert_eq!(upload_start(None), UploadStart::Create);

        let hash = PhotoHash::from_bytes([1; 32]);
        let photos = [
            PendingPhoto {
                hash,
                len: 1_000,
                offset: 0,
            },
            PendingPhoto {
                hash,
                len: 1_000,
                offset: 600,
            },
        ];
        assert_eq!(upload_remaining(&photos), 1_400);

        // (offset, photo length, chunk, next chunk)
        let cases = [
            (0, 1_000, 256, Some((0, 256))),
            (768, 1_000, 256, Some((768, 232))),
            (1_000, 1_000, 256, None),
            (1_200, 1_000, 256, None),
            (0, 0, 256, None),
        ];
        for (offset, len, chunk, next) in cases {
            assert_eq!(next_chunk(offset, len, chunk), next, "{offset}/{len}");
        }
    }

    #[test]
    fn a_chunk_answer_advances_asks_again_or_fails() {
        let mismatch = SyncError::Server {
            status: 409,
            code: "upload_offset_mismatch".into(),
            retryable: false,
        };
        let other = SyncError::Server {
            status: 413,
            code: "too_large".into(),
            retryable: false,
        };
        let network = SyncError::Network("cut".into());
        let cases: Vec<(u64, Result<u64, &SyncError>, PatchNext)> = vec![
            (
                256,
                Ok(512),
                PatchNext::Advanced {
                    offset: 512,
                    progress: 256,
                },
            ),
            (
                256,
                Ok(256),
                PatchNext::Advanced {
                    offset: 256,
                    progress: 0,
                },
            ),
            (256, Err(&mismatch), PatchNext::AskOffset),
            (256, Err(&other), PatchNext::Fail),
            (256, Err(&network), PatchNext::Fail),
        ];
        for (sent_at, answer, next) in cases {
            assert_eq!(after_patch(sent_at, answer), next, "{answer:?}");
        }
    }

    #[test]
    fn only_bytes_with_the_right_hash_are_kept() {
        let bytes = b"\xFF\xD8 a photo".to_vec();
        let hash = hash_bytes(&bytes);
        assert_eq!(
            verified_photo(&hash, Some(bytes.clone())),
            Some(bytes.clone())
        );
        assert_eq!(verified_photo(&hash, Some(bytes[..4].to_vec())), None);
        assert_eq!(verified_photo(&hash, None), None);
    }

    fn notice(id: i64, kind: NoticeKind, hash: Option<&str>) -> Notice {
        Notice {
            id,
            doc: "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
            hash: hash.map(str::to_owned),
            kind,
            code: kind.as_str().into(),
            reason: format!("reason {id}"),
            at: Timestamp::from_millis(id),
        }
    }

    #[test]
    fn a_report_gives_the_age_of_the_oldest_change() {
        let now = Timestamp::from_millis(10_000_000);
        let cases = [
            // (outbox, oldest change in seconds, version) → (age, version)
            (3, Some(9_000), "0.1.0", Some(1_000), Some("0.1.0")),
            (3, Some(20_000), "0.1.0", Some(0), Some("0.1.0")),
            (0, Some(9_000), "", None, None),
            (2, None, "1.2", None, Some("1.2")),
        ];
        for (changes, oldest, version, age, v) in cases {
            let r = device_report(changes, oldest, now, version);
            assert_eq!(r.outbox_changes, changes);
            assert_eq!(r.oldest_pending_secs, age, "{changes} {oldest:?}");
            assert_eq!(r.app_version.as_deref(), v);
        }
    }

    #[test]
    fn notices_are_kept_once_in_order_and_only_the_newest() {
        let kept = vec![
            notice(1, NoticeKind::Released, None),
            notice(3, NoticeKind::Refused, None),
        ];
        let merged = merge_notices(
            kept,
            vec![
                notice(3, NoticeKind::Refused, None),
                notice(2, NoticeKind::Discarded, None),
            ],
        );
        assert_eq!(merged.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2, 3]);
        let many: Vec<Notice> = (0..(KEEP_NOTICES as i64 + 5))
            .map(|i| notice(i, NoticeKind::Released, None))
            .collect();
        let merged = merge_notices(Vec::new(), many);
        assert_eq!(merged.len(), KEEP_NOTICES);
        assert_eq!(merged[0].id, 5, "the oldest go first");
        assert_eq!(notices_up_to(&merged), Some(KEEP_NOTICES as i64 + 4));
        assert_eq!(notices_up_to(&[]), None);
    }

    #[test]
    fn released_changes_leave_the_refused_list_and_discards_name_their_documents() {
        let (a, b) = ("00".repeat(32), "11".repeat(32));
        let other: crate::domain::DocId = "0192f000-0000-7000-8000-000000000002".parse().unwrap();
        let mut elsewhere = notice(6, NoticeKind::Discarded, Some(&b));
        elsewhere.doc = other;
        let notices = [
            notice(1, NoticeKind::Released, Some(&a)),
            notice(2, NoticeKind::Released, None),
            notice(3, NoticeKind::Refused, Some(&b)),
            notice(4, NoticeKind::Discarded, Some(&a)),
            notice(5, NoticeKind::Discarded, Some(&b)),
            elsewhere,
        ];
        assert_eq!(released_changes(&notices), vec![ChangeHash([0; 32])]);
        let docs = discarded_docs(&notices);
        assert_eq!(docs.len(), 2, "one entry per document");
        assert_eq!(docs[0].doc, notices[0].doc);
        assert_eq!(
            docs[0].hashes,
            vec![ChangeHash([0; 32]), ChangeHash([0x11; 32])]
        );
        assert_eq!(docs[0].reason, "reason 5", "the last notice's reason");
        assert_eq!(docs[1].doc, other);
        let unreadable = discarded_docs(&[notice(7, NoticeKind::Discarded, None)]);
        assert!(
            unreadable[0].hashes.is_empty(),
            "a discard without a hash still replaces the copy"
        );
    }

    #[test]
    fn only_discarded_changes_with_a_hash_settle_the_outbox() {
        let hash = "00".repeat(32);
        let notices = [
            notice(1, NoticeKind::Discarded, Some(&hash)),
            notice(2, NoticeKind::Released, Some(&hash)),
            notice(3, NoticeKind::Refused, Some(&hash)),
            notice(4, NoticeKind::Discarded, None),
            notice(5, NoticeKind::Discarded, Some("not hex")),
        ];
        let settled = discarded_changes(&notices);
        assert_eq!(settled, vec![(ChangeHash([0; 32]), "reason 1".to_owned())]);
    }
}
