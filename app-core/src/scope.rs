//! Who may see and change what. The server enforces these rules on every
//! change it receives ([`check_write`]); the device asks the same rules
//! ([`may_edit`], [`may_review`], both built on [`write_right`], which
//! `check_write` itself uses) before it offers or makes an edit, so the
//! interface's hints cannot drift from what the server accepts.
//!
//! - A commissioner creates and edits their own records and reads the team's;
//!   as the author they resolve conflicts of their records' content and mark
//!   their records as duplicates, but never write a review.
//! - A team lead reads everything of the team and writes only review fields
//!   on the team's logs once handed in: appends a decision (by themselves,
//!   covering the content they saw, a comment to return), sets the status
//!   approved/returned and the review, and resolves conflicts of those
//!   fields; besides their own records as a commissioner.
//! - A sync admin reads everything in their county or province and may write
//!   any field of a record in scope except its identity: resolves any
//!   conflict, marks duplicates, decides; the server records each such write.
//! - Everyone: entries of the review history and of the resolutions are
//!   never edited or removed, and every new entry names its writer; a new
//!   record carries no decision, resolution or duplicate mark.
//! - Nobody reads or writes outside their scope, whatever a device sends:
//!   the record's place (its county, from its village) and team are taken
//!   from the record itself, never from what the device claims.

use serde::{Deserialize, Serialize};

use crate::api::Identity;
use crate::domain::review::LOG_CONTENT_FIELDS;
use crate::domain::{
    Consultation, CountyCode, Decision, DocId, DuplicateMark, LogStatus, ProvinceCode, RecordKind,
    Resolution, ReviewState, Role, Scope, ServiceLog, Team, TeamId, User, UserId,
};
use crate::sync::protocol::RefusalCode;

/// The authenticated user a request acts for, as the server knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user.
    pub user: UserId,
    /// Their role.
    pub role: Role,
    /// How far they read.
    pub scope: Scope,
    /// Their team.
    pub team: Option<TeamId>,
    /// The county of their team or assignment, for commissioners and leads.
    pub county: Option<CountyCode>,
}

impl Principal {
    /// The principal of `user`, member of `team` (whose county is theirs):
    /// what the server builds for a device's requests, and what a device
    /// builds from its enrolment.
    pub fn of(user: &User, team: Option<&Team>) -> Principal {
        Principal {
            user: user.id,
            role: user.role,
            scope: user.scope,
            team: user.team,
            county: team.map(|t| t.county),
        }
    }

    /// Who records made by this principal are by: the user and their team.
    pub fn identity(&self) -> Identity {
        Identity {
            user: self.user,
            team: self.team,
        }
    }
}

/// Where a record sits, for scope checks: read from the record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The record's kind.
    pub kind: RecordKind,
    /// Its author.
    pub author: UserId,
    /// Its team.
    pub team: Option<TeamId>,
    /// Its county.
    pub county: CountyCode,
}

/// A record of any kind, for authorisation.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyRecord {
    /// A service log.
    ServiceLog(ServiceLog),
    /// A consultation.
    Consultation(Consultation),
}

impl From<&ServiceLog> for Placement {
    fn from(l: &ServiceLog) -> Placement {
        Placement {
            kind: RecordKind::ServiceLog,
            author: l.author,
            team: l.team,
            county: l.village.county(),
        }
    }
}

impl From<&Consultation> for Placement {
    fn from(c: &Consultation) -> Placement {
        Placement {
            kind: RecordKind::Consultation,
            author: c.author,
            team: c.team,
            county: c.farmer.village.county(),
        }
    }
}

impl AnyRecord {
    /// Where the record sits.
    pub fn placement(&self) -> Placement {
        match self {
            AnyRecord::ServiceLog(l) => l.into(),
            AnyRecord::Consultation(c) => c.into(),
        }
    }

    /// The record's ID.
    pub fn id(&self) -> DocId {
        match self {
            AnyRecord::ServiceLog(l) => l.id.into(),
            AnyRecord::Consultation(c) => c.id.into(),
        }
    }

    /// Its review decisions (none for a consultation).
    pub fn reviews(&self) -> &[Decision] {
        match self {
            AnyRecord::ServiceLog(l) => &l.reviews,
            AnyRecord::Consultation(_) => &[],
        }
    }

    /// Its conflict resolutions.
    pub fn resolutions(&self) -> &[Resolution] {
        match self {
            AnyRecord::ServiceLog(l) => &l.resolutions,
            AnyRecord::Consultation(c) => &c.resolutions,
        }
    }

    /// Its duplicate mark.
    pub fn duplicate(&self) -> Option<&DuplicateMark> {
        match self {
            AnyRecord::ServiceLog(l) => l.duplicate.as_ref(),
            AnyRecord::Consultation(c) => c.duplicate.as_ref(),
        }
    }

    fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let value = match self {
            AnyRecord::ServiceLog(l) => serde_json::to_value(l),
            AnyRecord::Consultation(c) => serde_json::to_value(c),
        };
        match value {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }

    /// Names of the top-level fields whose values differ between the two.
    pub fn changed_fields(before: &AnyRecord, after: &AnyRecord) -> Vec<String> {
        let a = before.fields();
        let b = after.fields();
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect()
    }
}

/// A refused write: a code for the wire and a reason for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code.
    pub code: RefusalCode,
    /// Why.
    pub reason: String,
}

fn refuse(code: RefusalCode, reason: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        code,
        reason: reason.into(),
    })
}

/// Whether `who` may read a record placed at `at`.
pub fn can_read(who: &Principal, at: &Placement) -> bool {
    if at.author == who.user {
        return true;
    }
    match who.scope {
        Scope::Own => false,
        Scope::Team(team) => at.team == Some(team),
        Scope::County(county) => at.county == county,
        Scope::Province(province) => at.county.province() == province,
    }
}

/// What someone may change on an existing record, by their relation to it.
/// [`check_write`] decides every edit from this, then checks the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteRight {
    /// Its content, as its author: every field but its identity, its team,
    /// the review and the reviewed statuses, within the author's area.
    Author,
    /// Only the review (approve or return, with a comment), as the lead of
    /// the team whose log it is, once it is no longer a draft.
    Review,
    /// Any field but its identity, as a sync admin whose scope covers it (to
    /// resolve conflicts).
    Resolve,
}

/// What `who` may change on a record placed at `at`, if anything: nothing
/// outside what they read; a sync admin resolves; the author edits; the
/// lead of the log's team reviews.
pub fn write_right(who: &Principal, at: &Placement) -> Option<WriteRight> {
    if !can_read(who, at) {
        return None;
    }
    if who.role == Role::SyncAdmin {
        return Some(WriteRight::Resolve);
    }
    if at.author == who.user {
        return Some(WriteRight::Author);
    }
    if who.role == Role::TeamLead
        && at.kind == RecordKind::ServiceLog
        && who.team.is_some()
        && at.team == who.team
    {
        return Some(WriteRight::Review);
    }
    None
}

/// Whether `who` may edit the record at `at` as its author (the field app's
/// edit, answer, follow-up and close): [`WriteRight::Author`].
pub fn may_edit(who: &Principal, at: &Placement) -> bool {
    write_right(who, at) == Some(WriteRight::Author)
}

/// Whether `who` may review the log at `at` as its team's lead:
/// [`WriteRight::Review`]. (A draft is not ready for review yet; the
/// review itself says so.)
pub fn may_review(who: &Principal, at: &Placement) -> bool {
    write_right(who, at) == Some(WriteRight::Review)
}

/// Whether `who` may decide on the log at `at` (append a decision): its
/// team's lead, or a sync admin in scope.
pub fn may_decide(who: &Principal, at: &Placement) -> bool {
    at.kind == RecordKind::ServiceLog
        && matches!(
            write_right(who, at),
            Some(WriteRight::Review | WriteRight::Resolve)
        )
}

/// Whether `who` may mark the record at `at` as a duplicate, or clear the
/// mark: its author, or a sync admin in scope.
pub fn may_mark_duplicate(who: &Principal, at: &Placement) -> bool {
    matches!(
        write_right(who, at),
        Some(WriteRight::Author | WriteRight::Resolve)
    )
}

/// Whether a right lets its holder resolve a conflict of the top-level
/// `field` of a record of `kind`: the author the content (not team, status
/// beyond the author's own, review or history), the team lead the review
/// fields, a sync admin anything but identity.
pub fn right_resolves(right: WriteRight, kind: RecordKind, field: &str) -> bool {
    if IDENTITY_FIELDS.contains(&field) || HISTORY_FIELDS.contains(&field) {
        return false;
    }
    match right {
        WriteRight::Resolve => true,
        WriteRight::Review => kind == RecordKind::ServiceLog && REVIEW_FIELDS.contains(&field),
        WriteRight::Author => match kind {
            RecordKind::ServiceLog => LOG_CONTENT_FIELDS.contains(&field),
            RecordKind::Consultation => !matches!(field, "team" | "duplicate"),
        },
    }
}

/// Whether `who` may resolve a conflict of the top-level `field` of the
/// record at `at` ([`right_resolves`] of their [`write_right`]).
pub fn may_resolve(who: &Principal, at: &Placement, field: &str) -> bool {
    write_right(who, at).is_some_and(|right| right_resolves(right, at.kind, field))
}

fn in_write_area(who: &Principal, at: &Placement) -> bool {
    match who.scope {
        Scope::Own | Scope::Team(_) => who.county.is_none_or(|c| c == at.county),
        Scope::County(county) => at.county == county,
        Scope::Province(province) => at.county.province() == province,
    }
}

/// Fields no one may change after creation.
const IDENTITY_FIELDS: &[&str] = &["id", "author", "created_at"];
/// Fields a team lead may write on a team member's log: the status, the
/// review (the last decision's mirror), the decisions, and resolutions of
/// conflicts of the first two.
const REVIEW_FIELDS: &[&str] = &["status", "review", "reviews", "resolutions"];
/// The append-only lists: written by appending entries, never resolved.
const HISTORY_FIELDS: &[&str] = &["reviews", "resolutions"];

/// Whether `after` keeps every entry of `before`, unchanged and in order.
fn keeps<T: PartialEq, K: PartialEq>(before: &[T], after: &[T], key: impl Fn(&T) -> K) -> bool {
    let mut rest = after.iter();
    before.iter().all(|old| {
        rest.by_ref().any(|new| key(new) == key(old))
            && after.iter().find(|new| key(new) == key(old)) == Some(old)
    })
}

/// The entries of `after` that `before` lacks.
fn added<'a, T, K: PartialEq>(before: &[T], after: &'a [T], key: impl Fn(&T) -> K) -> Vec<&'a T> {
    after
        .iter()
        .filter(|new| !before.iter().any(|old| key(old) == key(new)))
        .collect()
}

/// The review history, the resolutions and the duplicate mark of an edit:
/// nothing removed or rewritten, and each new entry is its writer's own
/// and one their right allows.
fn check_history(
    who: &Principal,
    right: WriteRight,
    before: &AnyRecord,
    after: &AnyRecord,
) -> Result<(), Refusal> {
    let kind = before.placement().kind;
    if !keeps(before.reviews(), after.reviews(), |d| d.id)
        || !keeps(before.resolutions(), after.resolutions(), |r| r.id)
    {
        return refuse(
            RefusalCode::FieldNotAllowed,
            "decisions and resolutions are never changed or removed",
        );
    }
    let decisions = added(before.reviews(), after.reviews(), |d| d.id);
    if !decisions.is_empty() {
        let (AnyRecord::ServiceLog(b), AnyRecord::ServiceLog(a)) = (before, after) else {
            unreachable!("only logs have decisions");
        };
        if !matches!(right, WriteRight::Review | WriteRight::Resolve) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "only a team lead decides on a log",
            );
        }
        if b.review_state() == ReviewState::Draft {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "a draft is not ready for review",
            );
        }
        for d in &decisions {
            if d.by != who.user {
                return refuse(
                    RefusalCode::FieldNotAllowed,
                    "a decision is its decider's own",
                );
            }
            if !d.is_well_formed() {
                return refuse(
                    RefusalCode::InvalidRecord,
                    "a decision needs the content it covers, the heads seen and, to return, a comment",
                );
            }
        }
        let last = decisions.last().expect("not empty");
        if a.status != last.verdict.status() {
            return refuse(
                RefusalCode::InvalidRecord,
                "the status must follow the decision",
            );
        }
    }
    for r in added(before.resolutions(), after.resolutions(), |r| r.id) {
        if r.by != who.user || r.role != who.role {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "a resolution is its resolver's own",
            );
        }
        if !r.is_well_formed() {
            return refuse(
                RefusalCode::InvalidRecord,
                "a resolution needs a path and values as JSON",
            );
        }
        if !right_resolves(right, kind, r.field()) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                format!("{} is not a field this user resolves", r.path),
            );
        }
    }
    if before.duplicate() != after.duplicate() {
        if !matches!(right, WriteRight::Author | WriteRight::Resolve) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "only the author or a sync admin marks a duplicate",
            );
        }
        if let Some(mark) = after.duplicate()
            && (mark.by != who.user || mark.of == after.id())
        {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "a duplicate mark is its marker's own and names another record",
            );
        }
    }
    Ok(())
}

/// Checks that `who` may turn `before` (none for a new record) into `after`.
pub fn check_write(
    who: &Principal,
    before: Option<&AnyRecord>,
    after: &AnyRecord,
) -> Result<(), Refusal> {
    let at = after.placement();
    if let Some(before) = before {
        let was = before.placement();
        if was.kind != at.kind {
            return refuse(
                RefusalCode::InvalidRecord,
                "a record may not change its kind",
            );
        }
        let changed = AnyRecord::changed_fields(before, after);
        if let Some(f) = changed
            .iter()
            .find(|f| IDENTITY_FIELDS.contains(&f.as_str()))
        {
            return refuse(
                RefusalCode::FieldNotAllowed,
                format!("{f} never changes after a record is made"),
            );
        }
        if changed.is_empty() {
            return Ok(());
        }
        return check_edit(who, &was, &at, before, after, &changed);
    }
    // A new record.
    if at.author != who.user {
        return refuse(
            RefusalCode::NotYourRecord,
            "a record can only be created by its author",
        );
    }
    if who.role == Role::SyncAdmin {
        return refuse(
            RefusalCode::NotYourRecord,
            "sync admins do not author field records",
        );
    }
    if at.team != who.team {
        return refuse(
            RefusalCode::OutOfScope,
            "a new record must carry its author's team",
        );
    }
    if !in_write_area(who, &at) {
        return refuse(
            RefusalCode::OutOfScope,
            format!("county {} is outside the author's area", at.county),
        );
    }
    if let AnyRecord::ServiceLog(log) = after
        && !matches!(log.status, LogStatus::Draft | LogStatus::Submitted)
    {
        return refuse(
            RefusalCode::FieldNotAllowed,
            "a new log cannot be already reviewed",
        );
    }
    if let AnyRecord::ServiceLog(log) = after
        && (log.review.by.is_some() || !log.review.comment.is_empty())
    {
        return refuse(
            RefusalCode::FieldNotAllowed,
            "a new log cannot carry a review",
        );
    }
    if !after.reviews().is_empty() || !after.resolutions().is_empty() || after.duplicate().is_some()
    {
        return refuse(
            RefusalCode::FieldNotAllowed,
            "a new record carries no decision, resolution or duplicate mark",
        );
    }
    Ok(())
}

fn check_edit(
    who: &Principal,
    was: &Placement,
    at: &Placement,
    before: &AnyRecord,
    after: &AnyRecord,
    changed: &[String],
) -> Result<(), Refusal> {
    if !can_read(who, at) {
        return refuse(
            RefusalCode::OutOfScope,
            "the record is outside the author's scope",
        );
    }
    let right = match write_right(who, was) {
        None if !can_read(who, was) => {
            return refuse(
                RefusalCode::OutOfScope,
                "the record is outside the author's scope",
            );
        }
        None => {
            return refuse(
                RefusalCode::NotYourRecord,
                "only the author edits this record",
            );
        }
        Some(right) => right,
    };
    check_history(who, right, before, after)?;
    match right {
        WriteRight::Resolve => Ok(()),
        WriteRight::Author => check_author_edit(who, at, before, after, changed),
        WriteRight::Review => check_review(before, after, changed),
    }
}

/// The author edits their own record: anything but team, review and the
/// reviewed statuses, within their area.
fn check_author_edit(
    who: &Principal,
    at: &Placement,
    before: &AnyRecord,
    after: &AnyRecord,
    changed: &[String],
) -> Result<(), Refusal> {
    if changed.iter().any(|f| f == "team") {
        return refuse(RefusalCode::FieldNotAllowed, "a record keeps its team");
    }
    if !in_write_area(who, at) {
        return refuse(
            RefusalCode::OutOfScope,
            format!("county {} is outside the author's area", at.county),
        );
    }
    if let (AnyRecord::ServiceLog(b), AnyRecord::ServiceLog(a)) = (before, after) {
        if a.review != b.review {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "only a team lead writes the review",
            );
        }
        if a.status != b.status && matches!(a.status, LogStatus::Approved | LogStatus::Returned) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "only a team lead approves or returns a log",
            );
        }
    }
    Ok(())
}

/// A team lead reviews a team member's submitted log: status approved or
/// returned, and the review, nothing else.
fn check_review(before: &AnyRecord, after: &AnyRecord, changed: &[String]) -> Result<(), Refusal> {
    let (AnyRecord::ServiceLog(b), AnyRecord::ServiceLog(a)) = (before, after) else {
        return refuse(
            RefusalCode::NotYourRecord,
            "only the author edits this record",
        );
    };
    if let Some(f) = changed
        .iter()
        .find(|f| !REVIEW_FIELDS.contains(&f.as_str()))
    {
        return refuse(
            RefusalCode::FieldNotAllowed,
            format!("a team lead writes only the review, not {f}"),
        );
    }
    if a.status != b.status && !matches!(a.status, LogStatus::Approved | LogStatus::Returned) {
        return refuse(
            RefusalCode::FieldNotAllowed,
            "a team lead only approves or returns a log",
        );
    }
    if b.status == LogStatus::Draft {
        return refuse(
            RefusalCode::FieldNotAllowed,
            "a draft is not ready for review",
        );
    }
    Ok(())
}

/// Whether `who`'s scope covers a county at all (for admin queries).
pub fn covers_county(who: &Principal, county: CountyCode) -> bool {
    match who.scope {
        Scope::County(c) => c == county,
        Scope::Province(p) => county.province() == p,
        Scope::Own | Scope::Team(_) => who.county == Some(county),
    }
}

/// Whether `who`'s scope covers a province.
pub fn covers_province(who: &Principal, province: ProvinceCode) -> bool {
    matches!(who.scope, Scope::Province(p) if p == province)
}

#[cfg(test)]
mod tests {
    //! The authorisation matrix at the level of records: each role × scope ×
    //! action, including field-level cases. The server runs the same rules
    //! over HTTP in its conformance suite.

    use super::*;
    use crate::domain::{Review, Timestamp, VillageCode};
    use crate::testing::{self, team_id as team, user_id as uid};

    const ZHENGAN: &str = "520324";
    const ZHENGAN_VILLAGE: &str = "520324001001";
    const OTHER_COUNTY_VILLAGE: &str = "520326100200";

    fn county(code: &str) -> CountyCode {
        CountyCode::parse(code).unwrap()
    }

    fn commissioner(n: u8, t: u8) -> Principal {
        Principal {
            user: uid(n),
            role: Role::Commissioner,
            scope: Scope::Team(team(t)),
            team: Some(team(t)),
            county: Some(county(ZHENGAN)),
        }
    }
    fn lead(n: u8, t: u8) -> Principal {
        Principal {
            role: Role::TeamLead,
            ..commissioner(n, t)
        }
    }
    fn admin(scope: Scope) -> Principal {
        Principal {
            user: uid(0x99),
            role: Role::SyncAdmin,
            scope,
            team: None,
            county: None,
        }
    }

    fn log(author: u8, t: u8, village: &str) -> AnyRecord {
        AnyRecord::ServiceLog(testing::service_log(
            uid(author),
            Some(team(t)),
            VillageCode::parse(village).unwrap(),
        ))
    }

    fn edit(r: &AnyRecord, f: impl FnOnce(&mut ServiceLog)) -> AnyRecord {
        let AnyRecord::ServiceLog(l) = r else {
            unreachable!()
        };
        let mut l = l.clone();
        f(&mut l);
        AnyRecord::ServiceLog(l)
    }

    fn code(r: Result<(), Refusal>) -> Option<RefusalCode> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn creating() {
        let mine = log(1, 1, ZHENGAN_VILLAGE);
        assert_eq!(code(check_write(&commissioner(1, 1), None, &mine)), None);
        assert_eq!(
            code(check_write(&commissioner(2, 1), None, &mine)),
            Some(RefusalCode::NotYourRecord),
            "someone else's name on a new record"
        );
        assert_eq!(
            code(check_write(&commissioner(1, 2), None, &mine)),
            Some(RefusalCode::OutOfScope),
            "a team the author is not in"
        );
        assert_eq!(
            code(check_write(
                &commissioner(1, 1),
                None,
                &log(1, 1, OTHER_COUNTY_VILLAGE)
            )),
            Some(RefusalCode::OutOfScope),
            "a village outside the author's county"
        );
        let pre_approved = edit(&mine, |l| l.status = LogStatus::Approved);
        assert_eq!(
            code(check_write(&commissioner(1, 1), None, &pre_approved)),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            code(check_write(
                &admin(Scope::County(county(ZHENGAN))),
                None,
                &log(0x99, 1, ZHENGAN_VILLAGE)
            )),
            Some(RefusalCode::NotYourRecord)
        );
    }

    #[test]
    fn editing_as_the_author() {
        let who = commissioner(1, 1);
        let before = log(1, 1, ZHENGAN_VILLAGE);
        let ok = |f: fn(&mut ServiceLog)| code(check_write(&who, Some(&before), &edit(&before, f)));
        assert_eq!(ok(|l| l.description = "补充".into()), None);
        assert_eq!(ok(|l| l.farmers_served = 99), None);
        assert_eq!(ok(|l| l.status = LogStatus::Draft), None);
        assert_eq!(
            ok(|l| l.status = LogStatus::Approved),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            ok(|l| l.review.comment = "自评".into()),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            ok(|l| l.team = Some(team(2))),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            ok(|l| l.author = uid(2)),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            ok(|l| l.created_at = Timestamp::from_millis(5)),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            ok(|l| l.village = VillageCode::parse(OTHER_COUNTY_VILLAGE).unwrap()),
            Some(RefusalCode::OutOfScope)
        );
    }

    #[test]
    fn editing_someone_elses_record() {
        let before = log(2, 1, ZHENGAN_VILLAGE);
        let after = edit(&before, |l| l.description = "改别人的".into());
        assert_eq!(
            code(check_write(&commissioner(1, 1), Some(&before), &after)),
            Some(RefusalCode::NotYourRecord),
            "a teammate reads but does not write"
        );
        assert_eq!(
            code(check_write(&commissioner(3, 2), Some(&before), &after)),
            Some(RefusalCode::OutOfScope),
            "another team neither reads nor writes"
        );
    }

    #[test]
    fn reviewing_as_team_lead() {
        let who = lead(5, 1);
        let before = log(2, 1, ZHENGAN_VILLAGE);
        let approve = edit(&before, |l| {
            l.status = LogStatus::Approved;
            l.review = Review {
                comment: "好".into(),
                by: Some(uid(5)),
                at: Some(Timestamp::from_millis(9)),
            };
        });
        assert_eq!(code(check_write(&who, Some(&before), &approve)), None);
        let meddling = edit(&approve, |l| l.farmers_served = 1000);
        assert_eq!(
            code(check_write(&who, Some(&before), &meddling)),
            Some(RefusalCode::FieldNotAllowed)
        );
        let to_draft = edit(&before, |l| l.status = LogStatus::Draft);
        assert_eq!(
            code(check_write(&who, Some(&before), &to_draft)),
            Some(RefusalCode::FieldNotAllowed)
        );
        let draft = edit(&before, |l| l.status = LogStatus::Draft);
        let approve_draft = edit(&draft, |l| l.status = LogStatus::Approved);
        assert_eq!(
            code(check_write(&who, Some(&draft), &approve_draft)),
            Some(RefusalCode::FieldNotAllowed)
        );
        assert_eq!(
            code(check_write(&lead(6, 2), Some(&before), &approve)),
            Some(RefusalCode::OutOfScope),
            "the lead of another team"
        );
    }

    #[test]
    fn a_team_lead_does_not_approve_their_own_log() {
        let who = lead(5, 1);
        let before = log(5, 1, ZHENGAN_VILLAGE);
        let approve = edit(&before, |l| l.status = LogStatus::Approved);
        assert_eq!(
            code(check_write(&who, Some(&before), &approve)),
            Some(RefusalCode::FieldNotAllowed)
        );
    }

    #[test]
    fn sync_admins_write_in_scope_only_and_never_identity() {
        let before = log(2, 1, ZHENGAN_VILLAGE);
        let resolved = edit(&before, |l| l.farmers_served = 13);
        let county_admin = admin(Scope::County(county(ZHENGAN)));
        assert_eq!(
            code(check_write(&county_admin, Some(&before), &resolved)),
            None
        );
        let province_admin = admin(Scope::Province(county(ZHENGAN).province()));
        assert_eq!(
            code(check_write(&province_admin, Some(&before), &resolved)),
            None
        );
        let elsewhere = admin(Scope::County(county("520326")));
        assert_eq!(
            code(check_write(&elsewhere, Some(&before), &resolved)),
            Some(RefusalCode::OutOfScope)
        );
        let other_province = admin(Scope::Province(ProvinceCode::parse("53").unwrap()));
        assert_eq!(
            code(check_write(&other_province, Some(&before), &resolved)),
            Some(RefusalCode::OutOfScope)
        );
        let steal = edit(&before, |l| l.author = uid(0x99));
        assert_eq!(
            code(check_write(&county_admin, Some(&before), &steal)),
            Some(RefusalCode::FieldNotAllowed)
        );
    }

    #[test]
    fn write_rights_follow_the_relation_to_the_record() {
        use WriteRight::{Author, Resolve, Review};
        let at = log(2, 1, ZHENGAN_VILLAGE).placement();
        let consultation = Placement {
            kind: RecordKind::Consultation,
            ..at
        };
        let own_only = Principal {
            scope: Scope::Own,
            ..commissioner(2, 1)
        };
        let zhengan = admin(Scope::County(county(ZHENGAN)));
        let elsewhere = admin(Scope::County(county("520326")));
        /// (who, the record, right, may edit, may review, why)
        type Case = (
            Principal,
            Placement,
            Option<WriteRight>,
            bool,
            bool,
            &'static str,
        );
        #[rustfmt::skip]
        let cases: [Case; 10] = [
            (commissioner(2, 1), at, Some(Author), true, false, "the author"),
            (own_only, at, Some(Author), true, false, "the author, own scope"),
            (commissioner(1, 1), at, None, false, false, "a teammate reads only"),
            (commissioner(3, 2), at, None, false, false, "another team"),
            (lead(5, 1), at, Some(Review), false, true, "the team's lead"),
            (lead(2, 1), at, Some(Author), true, false, "a lead's own log"),
            (lead(6, 2), at, None, false, false, "another team's lead"),
            (lead(5, 1), consultation, None, false, false, "leads review logs only"),
            (zhengan, at, Some(Resolve), false, false, "the county's sync admin"),
            (elsewhere, at, None, false, false, "another county's sync admin"),
        ];
        for (who, at, right, edit, review, why) in cases {
            assert_eq!(write_right(&who, &at), right, "{why}");
            assert_eq!(may_edit(&who, &at), edit, "{why}");
            assert_eq!(may_review(&who, &at), review, "{why}");
        }
    }

    #[test]
    fn the_hints_agree_with_what_check_write_accepts() {
        // For each person and a log of user 2 in team 1: an edit of the
        // content passes check_write exactly when may_edit (or a sync admin
        // resolves), an approval exactly when may_review (or resolve).
        let before = log(2, 1, ZHENGAN_VILLAGE);
        let at = before.placement();
        let content = edit(&before, |l| l.description = "补充".into());
        let approval = edit(&before, |l| {
            l.status = LogStatus::Approved;
            l.review.by = Some(uid(5));
        });
        let people = [
            commissioner(2, 1),
            commissioner(1, 1),
            commissioner(3, 2),
            lead(5, 1),
            lead(6, 2),
            admin(Scope::County(county(ZHENGAN))),
            admin(Scope::County(county("520326"))),
        ];
        for who in people {
            let resolves = write_right(&who, &at) == Some(WriteRight::Resolve);
            assert_eq!(
                check_write(&who, Some(&before), &content).is_ok(),
                may_edit(&who, &at) || resolves,
                "content edit by {who:?}"
            );
            assert_eq!(
                check_write(&who, Some(&before), &approval).is_ok(),
                may_review(&who, &at) || resolves,
                "approval by {who:?}"
            );
        }
    }

    #[test]
    fn a_principal_comes_from_the_user_and_their_team() {
        let t = Team {
            id: team(1),
            name: "正安县茶产业服务团".into(),
            county: county(ZHENGAN),
            leading_industry: "茶叶".into(),
            lead: None,
        };
        let user = User {
            id: uid(1),
            username: "zhengan-zhang".into(),
            display_name: "张三".into(),
            role: Role::Commissioner,
            scope: Scope::Team(team(1)),
            team: Some(team(1)),
            active: true,
        };
        let who = Principal::of(&user, Some(&t));
        assert_eq!(who, commissioner(1, 1));
        assert_eq!(
            who.identity(),
            Identity {
                user: uid(1),
                team: Some(team(1))
            }
        );
        assert_eq!(Principal::of(&user, None).county, None);
    }

    #[test]
    fn reading() {
        let at = log(2, 1, ZHENGAN_VILLAGE).placement();
        assert!(can_read(&commissioner(2, 1), &at), "the author");
        assert!(can_read(&commissioner(1, 1), &at), "a teammate");
        assert!(!can_read(&commissioner(3, 2), &at), "another team");
        let own_only = Principal {
            scope: Scope::Own,
            ..commissioner(1, 1)
        };
        assert!(!can_read(&own_only, &at));
        assert!(can_read(&lead(5, 1), &at));
        assert!(can_read(&admin(Scope::County(county(ZHENGAN))), &at));
        assert!(!can_read(&admin(Scope::County(county("520326"))), &at));
        assert!(can_read(
            &admin(Scope::Province(ProvinceCode::parse("52").unwrap())),
            &at
        ));
        assert!(!can_read(
            &admin(Scope::Province(ProvinceCode::parse("53").unwrap())),
            &at
        ));
    }

    #[test]
    fn consultations_follow_the_same_rules() {
        let c = AnyRecord::Consultation(testing::consultation(
            uid(1),
            Some(team(1)),
            VillageCode::parse(ZHENGAN_VILLAGE).unwrap(),
        ));
        assert_eq!(code(check_write(&commissioner(1, 1), None, &c)), None);
        let AnyRecord::Consultation(inner) = &c else {
            unreachable!()
        };
        let mut answered = inner.clone();
        answered.advice = "喷药".into();
        let answered = AnyRecord::Consultation(answered);
        assert_eq!(
            code(check_write(&commissioner(1, 1), Some(&c), &answered)),
            None
        );
        assert_eq!(
            code(check_write(&lead(5, 1), Some(&c), &answered)),
            Some(RefusalCode::NotYourRecord),
            "a team lead reviews logs, not consultations"
        );
    }

    // ---- schema 2: decisions, resolutions, duplicate marks ----

    use crate::domain::review::content_stamp;
    use crate::domain::{DecisionId, ResolutionId, Verdict};

    fn decision(by: u8, verdict: Verdict, log: &ServiceLog) -> Decision {
        Decision {
            id: DecisionId::from_uuid(uuid::Uuid::from_u128(0xd0 + u128::from(by))),
            verdict,
            by: uid(by),
            at: Timestamp::from_millis(9),
            comment: if verdict == Verdict::Returned {
                "请补充照片".into()
            } else {
                String::new()
            },
            covers: content_stamp(log),
            heads: vec!["ab".repeat(32)],
        }
    }

    /// `who` (user `by`) decides on the log.
    fn decide(l: &mut ServiceLog, by: u8, verdict: Verdict) {
        let d = decision(by, verdict, l);
        l.reviews.push(d);
        l.status = verdict.status();
        l.review.by = Some(uid(by));
    }

    fn resolution(by: u8, role: Role, path: &str) -> Resolution {
        Resolution {
            id: ResolutionId::from_uuid(uuid::Uuid::from_u128(0xe0 + u128::from(by))),
            path: path.into(),
            chosen: "13".into(),
            superseded: vec!["12".into()],
            by: uid(by),
            role,
            at: Timestamp::from_millis(9),
        }
    }

    fn mark(by: u8, of: DocId) -> DuplicateMark {
        DuplicateMark {
            of,
            by: uid(by),
            at: Timestamp::from_millis(9),
        }
    }

    fn other_log() -> DocId {
        DocId::from_uuid(uuid::Uuid::from_u128(0x0bbb_0000))
    }

    /// A submitted log of user 2 in team 1, with one approval by lead 5.
    fn reviewed() -> AnyRecord {
        edit(&log(2, 1, ZHENGAN_VILLAGE), |l| {
            decide(l, 5, Verdict::Approved);
            l.resolutions
                .push(resolution(2, Role::Commissioner, "farmers_served"));
        })
    }

    /// The record-level matrix of the schema-2 actions: who (author 2,
    /// teammate 1, lead 5 of team 1, lead 6 of team 2, the county's sync
    /// admin) does what to user 2's log, and what `check_write` answers.
    #[test]
    fn decisions_resolutions_and_duplicate_marks() {
        use RefusalCode::{FieldNotAllowed, InvalidRecord, NotYourRecord, OutOfScope};
        let zhengan_admin = admin(Scope::County(county(ZHENGAN)));
        let submitted = log(2, 1, ZHENGAN_VILLAGE);
        let draft = edit(&submitted, |l| l.status = LogStatus::Draft);
        let reviewed = reviewed();
        type Edit = fn(&mut ServiceLog);
        /// (why, who, before, edit, answer)
        type Case = (
            &'static str,
            Principal,
            AnyRecord,
            Edit,
            Option<RefusalCode>,
        );
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            // Deciding.
            ("the lead approves", lead(5, 1), submitted.clone(), |l| decide(l, 5, Verdict::Approved), None),
            ("the lead returns with a comment", lead(5, 1), submitted.clone(), |l| decide(l, 5, Verdict::Returned), None),
            ("the lead returns without a comment", lead(5, 1), submitted.clone(), |l| {
                decide(l, 5, Verdict::Returned);
                l.reviews[0].comment.clear();
            }, Some(InvalidRecord)),
            ("a decision without the content it covers", lead(5, 1), submitted.clone(), |l| {
                decide(l, 5, Verdict::Approved);
                l.reviews[0].covers = "not a stamp".into();
            }, Some(InvalidRecord)),
            ("a decision the status does not follow", lead(5, 1), submitted.clone(), |l| {
                decide(l, 5, Verdict::Approved);
                l.status = LogStatus::Returned;
            }, Some(InvalidRecord)),
            ("the lead decides in another's name", lead(5, 1), submitted.clone(), |l| decide(l, 6, Verdict::Approved), Some(FieldNotAllowed)),
            ("the lead decides on a draft", lead(5, 1), draft.clone(), |l| decide(l, 5, Verdict::Approved), Some(FieldNotAllowed)),
            ("the lead decides and edits content", lead(5, 1), submitted.clone(), |l| {
                decide(l, 5, Verdict::Approved);
                l.farmers_served = 99;
            }, Some(FieldNotAllowed)),
            ("the author decides", commissioner(2, 1), submitted.clone(), |l| decide(l, 2, Verdict::Approved), Some(FieldNotAllowed)),
            ("a teammate decides", commissioner(1, 1), submitted.clone(), |l| decide(l, 1, Verdict::Approved), Some(NotYourRecord)),
            ("another team's lead decides", lead(6, 2), submitted.clone(), |l| decide(l, 6, Verdict::Approved), Some(OutOfScope)),
            ("the sync admin decides", zhengan_admin, submitted.clone(), |l| decide(l, 0x99, Verdict::Returned), None),
            // The history is append-only, for everyone.
            ("the lead rewrites a decision", lead(5, 1), reviewed.clone(), |l| l.reviews[0].comment = "改".into(), Some(FieldNotAllowed)),
            ("the lead removes a decision", lead(5, 1), reviewed.clone(), |l| l.reviews.clear(), Some(FieldNotAllowed)),
            ("the admin removes a decision", zhengan_admin, reviewed.clone(), |l| l.reviews.clear(), Some(FieldNotAllowed)),
            ("the admin rewrites a resolution", zhengan_admin, reviewed.clone(), |l| l.resolutions[0].chosen = "1".into(), Some(FieldNotAllowed)),
            ("the author removes a resolution", commissioner(2, 1), reviewed.clone(), |l| l.resolutions.clear(), Some(FieldNotAllowed)),
            ("the lead approves again after an edit", lead(5, 1), reviewed.clone(), |l| {
                l.reviews.push(Decision { id: DecisionId::from_uuid(uuid::Uuid::from_u128(0xd9)), ..decision(5, Verdict::Approved, l) });
            }, None),
            // Resolving: the author the content, the lead the review, the
            // admin anything but identity; each resolution its resolver's.
            ("the author resolves a count", commissioner(2, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(2, Role::Commissioner, "farmers_served"));
                l.farmers_served = 13;
            }, None),
            ("the author resolves a party's name", commissioner(2, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(2, Role::Commissioner, "served.0.name"));
            }, None),
            ("the author resolves the status", commissioner(2, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(2, Role::Commissioner, "status"));
            }, Some(FieldNotAllowed)),
            ("the author resolves in another's name", commissioner(2, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(9, Role::Commissioner, "farmers_served"));
            }, Some(FieldNotAllowed)),
            ("the author claims another role", commissioner(2, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(2, Role::SyncAdmin, "farmers_served"));
            }, Some(FieldNotAllowed)),
            ("the lead resolves the status", lead(5, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(5, Role::TeamLead, "status"));
            }, None),
            ("the lead resolves a count", lead(5, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(5, Role::TeamLead, "farmers_served"));
            }, Some(FieldNotAllowed)),
            ("the admin resolves the team", zhengan_admin, submitted.clone(), |l| {
                l.resolutions.push(resolution(0x99, Role::SyncAdmin, "team"));
            }, None),
            ("the admin resolves the author", zhengan_admin, submitted.clone(), |l| {
                l.resolutions.push(resolution(0x99, Role::SyncAdmin, "author"));
            }, Some(FieldNotAllowed)),
            ("a resolution that is not JSON", zhengan_admin, submitted.clone(), |l| {
                l.resolutions.push(Resolution { chosen: "{".into(), ..resolution(0x99, Role::SyncAdmin, "farmers_served") });
            }, Some(InvalidRecord)),
            ("a teammate resolves", commissioner(1, 1), submitted.clone(), |l| {
                l.resolutions.push(resolution(1, Role::Commissioner, "farmers_served"));
            }, Some(NotYourRecord)),
            // Duplicate marks: the author and the admin.
            ("the author marks a duplicate", commissioner(2, 1), submitted.clone(), |l| l.duplicate = Some(mark(2, other_log())), None),
            ("the admin marks a duplicate", zhengan_admin, submitted.clone(), |l| l.duplicate = Some(mark(0x99, other_log())), None),
            ("a mark in another's name", commissioner(2, 1), submitted.clone(), |l| l.duplicate = Some(mark(5, other_log())), Some(FieldNotAllowed)),
            ("a log marked a duplicate of itself", commissioner(2, 1), submitted.clone(), |l| l.duplicate = Some(mark(2, l.id.into())), Some(FieldNotAllowed)),
            ("the lead marks a duplicate", lead(5, 1), submitted.clone(), |l| l.duplicate = Some(mark(5, other_log())), Some(FieldNotAllowed)),
            ("a teammate marks a duplicate", commissioner(1, 1), submitted.clone(), |l| l.duplicate = Some(mark(1, other_log())), Some(NotYourRecord)),
        ];
        for (why, who, before, f, expected) in cases {
            let after = edit(&before, f);
            assert_eq!(
                code(check_write(&who, Some(&before), &after)),
                expected,
                "{why}"
            );
        }
        // Clearing a mark: its author or the admin.
        let marked = edit(&submitted, |l| l.duplicate = Some(mark(2, other_log())));
        let cleared = edit(&marked, |l| l.duplicate = None);
        assert_eq!(
            code(check_write(&commissioner(2, 1), Some(&marked), &cleared)),
            None
        );
        assert_eq!(
            code(check_write(&zhengan_admin, Some(&marked), &cleared)),
            None
        );
        assert_eq!(
            code(check_write(&lead(5, 1), Some(&marked), &cleared)),
            Some(FieldNotAllowed)
        );
    }

    #[test]
    fn a_new_record_carries_no_history() {
        let who = commissioner(1, 1);
        let fresh = log(1, 1, ZHENGAN_VILLAGE);
        type Edit = fn(&mut ServiceLog);
        let carried: [(&str, Edit); 3] = [
            ("a decision", |l| {
                let d = decision(5, Verdict::Approved, l);
                l.reviews.push(d)
            }),
            ("a resolution", |l| {
                l.resolutions
                    .push(resolution(1, Role::Commissioner, "farmers_served"))
            }),
            ("a duplicate mark", |l| {
                l.duplicate = Some(mark(1, other_log()))
            }),
        ];
        for (what, f) in carried {
            assert_eq!(
                code(check_write(&who, None, &edit(&fresh, f))),
                Some(RefusalCode::FieldNotAllowed),
                "{what}"
            );
        }
        let AnyRecord::Consultation(c) = consultation_of(1) else {
            unreachable!()
        };
        let with_mark = AnyRecord::Consultation(Consultation {
            duplicate: Some(mark(1, other_log())),
            ..c
        });
        assert_eq!(
            code(check_write(&who, None, &with_mark)),
            Some(RefusalCode::FieldNotAllowed)
        );
    }

    fn consultation_of(author: u8) -> AnyRecord {
        AnyRecord::Consultation(testing::consultation(
            uid(author),
            Some(team(1)),
            VillageCode::parse(ZHENGAN_VILLAGE).unwrap(),
        ))
    }

    #[test]
    fn consultations_are_resolved_and_marked_by_their_author_and_the_admin() {
        let before = consultation_of(1);
        let AnyRecord::Consultation(c) = &before else {
            unreachable!()
        };
        let resolved = AnyRecord::Consultation(Consultation {
            resolutions: vec![resolution(1, Role::Commissioner, "farmer.name")],
            ..c.clone()
        });
        let marked = AnyRecord::Consultation(Consultation {
            duplicate: Some(mark(1, other_log())),
            ..c.clone()
        });
        assert_eq!(
            code(check_write(&commissioner(1, 1), Some(&before), &resolved)),
            None
        );
        assert_eq!(
            code(check_write(&commissioner(1, 1), Some(&before), &marked)),
            None
        );
        assert_eq!(
            code(check_write(&lead(5, 1), Some(&before), &marked)),
            Some(RefusalCode::NotYourRecord)
        );
    }

    #[test]
    fn the_hints_for_deciding_resolving_and_marking() {
        let at = log(2, 1, ZHENGAN_VILLAGE).placement();
        let zhengan = admin(Scope::County(county(ZHENGAN)));
        /// (who, may decide, may mark, resolves farmers_served, resolves status, why)
        type Case = (Principal, bool, bool, bool, bool, &'static str);
        #[rustfmt::skip]
        let cases: [Case; 6] = [
            (commissioner(2, 1), false, true, true, false, "the author"),
            (commissioner(1, 1), false, false, false, false, "a teammate"),
            (lead(5, 1), true, false, false, true, "the team's lead"),
            (lead(6, 2), false, false, false, false, "another team's lead"),
            (zhengan, true, true, true, true, "the county's sync admin"),
            (admin(Scope::County(county("520326"))), false, false, false, false, "another county's admin"),
        ];
        for (who, decide, mark, count, status, why) in cases {
            assert_eq!(may_decide(&who, &at), decide, "{why}");
            assert_eq!(may_mark_duplicate(&who, &at), mark, "{why}");
            assert_eq!(may_resolve(&who, &at, "farmers_served"), count, "{why}");
            assert_eq!(may_resolve(&who, &at, "status"), status, "{why}");
            assert!(!may_resolve(&who, &at, "author"), "{why}: identity never");
        }
    }
}
