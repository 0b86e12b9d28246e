//! The team lead's review and the sync admin's record work on devices:
//! the queue, approving and returning offline, an approval that covers only
//! what the lead saw, conflicts with their origins and their resolution,
//! possible duplicates, and an older store's projection filled on open.

use app_core::api::{
    Choice, ConflictQuery, MarkDuplicateInput, ResolveInput, ReturnInput, ReviewQueueQuery,
};
use app_core::domain::{
    CountyCode, DocId, LogStatus, RecordKind, ReviewState, Role, Scope, ServiceLog, ServiceLogId,
    TownshipCode, UserId, Verdict,
};
use app_core::scope::Principal;
use app_core::stats::StatsQuery;
use app_core::store::{LogQuery, Store, StoreError};

use crate::support::*;

fn county() -> CountyCode {
    CountyCode::parse(COUNTY).unwrap()
}

fn author() -> Principal {
    let me = commissioner();
    Principal {
        user: me.user,
        role: Role::Commissioner,
        scope: Scope::Team(me.team.unwrap()),
        team: me.team,
        county: Some(county()),
    }
}

fn teammate() -> Principal {
    Principal {
        user: "0192f000-0000-7000-8000-000000000003".parse().unwrap(),
        ..author()
    }
}

fn lead() -> Principal {
    Principal {
        user: team_lead(),
        role: Role::TeamLead,
        ..author()
    }
}

fn admin() -> Principal {
    Principal {
        user: "0192f000-0000-7000-8000-000000000099".parse().unwrap(),
        role: Role::SyncAdmin,
        scope: Scope::County(county()),
        team: None,
        county: None,
    }
}

fn sync(from: &Store, to: &Store) {
    let changes = from.changes_for_peer(&to.heads().unwrap()).unwrap();
    to.apply_changes(&changes).unwrap();
}

fn both_ways(a: &Store, b: &Store) {
    sync(a, b);
    sync(b, a);
}

/// A submitted log by the commissioner on `t`, with a description.
fn log_on(t: &TestStore, date: &str, village: &str, description: &str) -> ServiceLogId {
    let mut input = training_input();
    input.date = date.into();
    input.village = village.into();
    input.description = description.into();
    t.store
        .create_service_log(&commissioner(), &input, true)
        .unwrap()
        .value
        .id
}

fn edit_content(t: &TestStore, id: ServiceLogId, f: impl FnOnce(&mut ServiceLog)) {
    let mut log = t.store.service_log(id).unwrap();
    f(&mut log);
    t.store
        .save_service_log_as(
            &author(),
            &app_core::api::SaveLogInput {
                id: Some(id),
                input: log.to_input(),
                draft_key: None,
            },
        )
        .unwrap();
}

fn state(t: &TestStore, id: ServiceLogId) -> ReviewState {
    t.store.service_log(id).unwrap().review_state()
}

#[test]
fn a_days_review_offline_approves_returns_and_the_author_resubmits() {
    let phone = TestStore::new();
    let tablet = TestStore::new();
    let a = log_on(&phone, "2026-11-26", VILLAGE, "茶园修剪培训");
    let b = log_on(&phone, "2026-11-27", VILLAGE_2, "茶园施肥指导");
    let c = log_on(&phone, "2026-11-28", VILLAGE, "病虫害绿色防控");
    let mut draft = training_input();
    draft.date = "2026-11-28".into();
    let draft = phone
        .store
        .create_service_log(&commissioner(), &draft, false)
        .unwrap()
        .value
        .id;
    sync(&phone.store, &tablet.store);

    // The queue: handed-in logs of the team, newest first, with the count.
    let queue = tablet
        .store
        .review_queue_as(&lead(), &ReviewQueueQuery::default())
        .unwrap();
    assert_eq!(queue.total, 3);
    assert_eq!(
        queue.logs.iter().map(|l| l.id).collect::<Vec<_>>(),
        [c, b, a]
    );
    assert!(
        queue
            .logs
            .iter()
            .all(|l| l.review_state == ReviewState::Submitted)
    );
    // Filters: member, township, dates; a page keeps the total.
    let q = |f: &dyn Fn(&mut ReviewQueueQuery)| {
        let mut q = ReviewQueueQuery::default();
        f(&mut q);
        tablet.store.review_queue_as(&lead(), &q).unwrap()
    };
    assert_eq!(q(&|q| q.member = Some(teammate().user)).total, 0);
    assert_eq!(q(&|q| q.member = Some(author().user)).total, 3);
    let fengyi = TownshipCode::parse(&VILLAGE[..9]).unwrap();
    assert_eq!(q(&|q| q.township = Some(fengyi)).total, 3);
    assert_eq!(
        q(&|q| q.township = Some(TownshipCode::parse("520324100").unwrap())).total,
        0
    );
    let from_27 = q(&|q| q.from = "2026-11-27".parse().ok());
    assert_eq!(from_27.total, 2);
    let page = q(&|q| {
        q.limit = Some(1);
        q.offset = Some(1)
    });
    assert_eq!((page.total, page.logs.len(), page.logs[0].id), (3, 1, b));
    // The author's own queue (not a lead of anyone) and a lead's own logs.
    assert_eq!(
        phone
            .store
            .review_queue_as(&author(), &ReviewQueueQuery::default())
            .unwrap()
            .logs
            .iter()
            .filter(|l| l.author == author().user)
            .count(),
        0,
        "nobody reviews their own logs"
    );

    // Offline on the tablet: approve two at once, return one; a return
    // needs a comment, and a draft cannot be approved (nothing written).
    let outbox = tablet.store.outbox_stats().unwrap().changes;
    let err = tablet
        .store
        .approve_logs_as(&lead(), &[a, draft])
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed(_)), "{err}");
    assert_eq!(state(&tablet, a), ReviewState::Submitted, "all or nothing");
    assert_eq!(tablet.store.outbox_stats().unwrap().changes, outbox);
    let approved = tablet.store.approve_logs_as(&lead(), &[a, b]).unwrap();
    assert_eq!(approved.ids, [a, b]);
    let silent = tablet.store.return_log_as(
        &lead(),
        &ReturnInput {
            id: c,
            comment: "  ".into(),
        },
    );
    match silent {
        Err(StoreError::Invalid(e)) => assert_eq!(e.errors[0].field(), "comment"),
        other => panic!("a return without a comment: {other:?}"),
    }
    let returned = tablet
        .store
        .return_log_as(
            &lead(),
            &ReturnInput {
                id: c,
                comment: "请补充现场照片".into(),
            },
        )
        .unwrap();
    assert_eq!(returned.review_state, ReviewState::Returned);
    let queue = tablet
        .store
        .review_queue_as(&lead(), &ReviewQueueQuery::default())
        .unwrap();
    assert_eq!(queue.total, 0);
    // Someone else's team, or a teammate, may not decide.
    let other_lead = Principal {
        team: Some("0192f000-0000-7000-8000-0000000000bb".parse().unwrap()),
        scope: Scope::Team("0192f000-0000-7000-8000-0000000000bb".parse().unwrap()),
        ..lead()
    };
    for who in [other_lead, teammate(), author()] {
        let err = tablet.store.approve_logs_as(&who, &[c]).unwrap_err();
        assert!(matches!(err, StoreError::NotYours(_)), "{who:?}: {err}");
    }

    // The phone receives the decisions: the author sees the return and the
    // lead's comment, edits, and the log is handed in again.
    sync(&tablet.store, &phone.store);
    let detail = phone.store.service_log_detail(&author(), c).unwrap();
    assert_eq!(detail.review_state, ReviewState::Returned);
    let last = detail.log.reviews.last().unwrap();
    assert_eq!(
        (last.verdict, last.by, last.comment.as_str()),
        (Verdict::Returned, team_lead(), "请补充现场照片")
    );
    assert!(detail.changes_since_decision.is_empty());
    assert_eq!(state(&phone, a), ReviewState::Approved);
    edit_content(&phone, c, |l| l.description.push_str("（已补充照片）"));
    let detail = phone.store.service_log_detail(&author(), c).unwrap();
    assert_eq!(detail.review_state, ReviewState::Submitted);
    assert_eq!(detail.changes_since_decision.len(), 1);
    let change = &detail.changes_since_decision[0];
    assert_eq!(change.field, "description");
    assert_eq!(change.before, "病虫害绿色防控");
    assert_eq!(change.after, "病虫害绿色防控（已补充照片）");

    // Back in the lead's queue; approved, the history holds both decisions.
    sync(&phone.store, &tablet.store);
    let queue = tablet
        .store
        .review_queue_as(&lead(), &ReviewQueueQuery::default())
        .unwrap();
    assert_eq!(queue.logs.iter().map(|l| l.id).collect::<Vec<_>>(), [c]);
    tablet.store.approve_logs_as(&lead(), &[c]).unwrap();
    sync(&tablet.store, &phone.store);
    let history = phone.store.record_history_as(&author(), c.into()).unwrap();
    assert_eq!(
        history
            .reviews
            .iter()
            .map(|d| d.verdict)
            .collect::<Vec<_>>(),
        [Verdict::Returned, Verdict::Approved]
    );
    assert_eq!(state(&phone, c), ReviewState::Approved);
}

#[test]
fn an_approval_covers_only_what_the_lead_saw() {
    let phone = TestStore::new();
    let tablet = TestStore::new();
    let id = log_on(&phone, "2026-11-28", VILLAGE, "茶园冬季管理培训");
    sync(&phone.store, &tablet.store);
    // Both offline: the lead approves the old version while the author adds
    // farmers on the phone.
    tablet.store.approve_logs_as(&lead(), &[id]).unwrap();
    edit_content(&phone, id, |l| l.farmers_served = 60);
    assert_eq!(state(&tablet, id), ReviewState::Approved);
    assert_eq!(state(&phone, id), ReviewState::Submitted);
    both_ways(&phone.store, &tablet.store);
    for t in [&phone, &tablet] {
        assert_eq!(state(t, id), ReviewState::ChangedSinceApproval);
        let detail = t.store.service_log_detail(&lead(), id).unwrap();
        let changes: Vec<_> = detail
            .changes_since_decision
            .iter()
            .map(|c| (c.field.as_str(), c.before.clone(), c.after.clone()))
            .collect();
        assert_eq!(changes, [("farmers_served", 35.into(), 60.into())]);
    }
    let queue = tablet
        .store
        .review_queue_as(&lead(), &ReviewQueueQuery::default())
        .unwrap();
    assert_eq!(queue.total, 1, "back in the queue");
    assert_eq!(
        queue.logs[0].review_state,
        ReviewState::ChangedSinceApproval
    );
    // Changed since approval still counts as handed in, not as approved.
    let period = StatsQuery {
        author: Some(author().user),
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-30".parse().unwrap(),
        ..Default::default()
    };
    let stats = tablet.store.work_stats(&period).unwrap();
    assert_eq!((stats.visits, stats.approved_logs), (1, 0));

    // Edited after an approval the author had seen, too.
    tablet.store.approve_logs_as(&lead(), &[id]).unwrap();
    sync(&tablet.store, &phone.store);
    assert_eq!(state(&phone, id), ReviewState::Approved);
    assert_eq!(tablet.store.work_stats(&period).unwrap().approved_logs, 1);
    edit_content(&phone, id, |l| l.industry = "白茶".into());
    assert_eq!(state(&phone, id), ReviewState::ChangedSinceApproval);
    assert_eq!(
        phone.store.service_log(id).unwrap().status,
        LogStatus::Submitted,
        "the stored status follows for older readers"
    );
}

/// Two devices of the author set `farmers_served` at once: a conflict.
fn conflicted() -> (TestStore, TestStore, ServiceLogId) {
    let phone = TestStore::new();
    let tablet = TestStore::new();
    let id = log_on(&phone, "2026-11-28", VILLAGE, "茶园冬季管理培训");
    sync(&phone.store, &tablet.store);
    edit_content(&phone, id, |l| l.farmers_served = 30);
    edit_content(&tablet, id, |l| l.farmers_served = 45);
    both_ways(&phone.store, &tablet.store);
    (phone, tablet, id)
}

#[test]
fn conflicts_are_listed_with_where_each_value_came_from() {
    let (phone, _tablet, id) = conflicted();
    let listed = phone
        .store
        .conflicts_as(&author(), &ConflictQuery::default())
        .unwrap();
    assert_eq!(listed.len(), 1);
    let record = &listed[0];
    assert_eq!(
        (record.id, record.kind),
        (id.into(), RecordKind::ServiceLog)
    );
    assert_eq!(record.author, author().user);
    assert_eq!(record.date.to_string(), "2026-11-28");
    assert!(
        record
            .village_name
            .as_deref()
            .unwrap()
            .starts_with("北苑社区")
    );
    let field = &record.fields[0];
    assert_eq!(field.path, "farmers_served");
    assert!(field.may_resolve, "the author resolves their content");
    let mut values: Vec<(u64, Option<UserId>)> = field
        .values
        .iter()
        .map(|v| (v.value.as_u64().unwrap(), v.origin.author))
        .collect();
    values.sort();
    // The phone's session created the log, so its value is known to be the
    // author's; the tablet's session wrote nothing that names a person.
    assert_eq!(values, [(30, Some(author().user)), (45, None)]);
    assert!(field.values.iter().all(|v| v.origin.at == Some(NOW)));
    assert!(field.values.iter().all(|v| v.op.ends_with(&v.origin.actor)));
    // A lead sees it and may not resolve content; the admin may.
    let for_lead = phone
        .store
        .conflicts_as(&lead(), &ConflictQuery::default())
        .unwrap();
    assert!(!for_lead[0].fields[0].may_resolve);
    let for_admin = phone
        .store
        .conflicts_as(&admin(), &ConflictQuery::default())
        .unwrap();
    assert!(for_admin[0].fields[0].may_resolve);
    assert!(
        phone
            .store
            .conflicts_as(
                &admin(),
                &ConflictQuery {
                    kind: Some(RecordKind::Consultation),
                    ..Default::default()
                }
            )
            .unwrap()
            .is_empty()
    );
    let summary = &phone.store.list_service_logs(&LogQuery::default()).unwrap()[0];
    assert!(summary.has_conflicts);
    assert!(
        phone
            .store
            .service_log_detail(&author(), id)
            .unwrap()
            .has_conflicts
    );
}

#[test]
fn a_resolution_picks_a_value_or_takes_a_valid_new_one_and_converges() {
    let (phone, tablet, id) = conflicted();
    let conflict = &phone
        .store
        .review_detail_as(&admin(), id)
        .unwrap()
        .conflicts[0];
    let resolve = |who: &Principal, t: &TestStore, choice: Choice| {
        t.store.resolve_conflict_as(
            who,
            &ResolveInput {
                id: id.into(),
                path: "farmers_served".into(),
                choice,
            },
        )
    };
    // Invalid new values and someone without the right change nothing.
    let outbox = phone.store.outbox_stats().unwrap().changes;
    let err = resolve(&author(), &phone, Choice::Value { value: (-3).into() }).unwrap_err();
    match err {
        StoreError::Invalid(e) => assert!(e.has("negative_count") || e.has("bad_value"), "{e}"),
        StoreError::Doc(e) => assert_eq!(e.code(), "document_bad_value"),
        other => panic!("{other}"),
    }
    let err = resolve(
        &author(),
        &phone,
        Choice::Value {
            value: 100_001.into(),
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.has("count_too_large")),
        "{err}"
    );
    let err = resolve(
        &author(),
        &phone,
        Choice::Value {
            value: "很多".into(),
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "document_bad_value", "{err}");
    let err = resolve(
        &lead(),
        &phone,
        Choice::Pick {
            op: conflict.values[1].op.clone(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::NotYours(_)), "{err}");
    let err = resolve(&author(), &phone, Choice::Pick { op: "1@00".into() }).unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed(_)), "{err}");
    assert_eq!(phone.store.outbox_stats().unwrap().changes, outbox);
    assert_eq!(phone.store.conflicts(id.into()).unwrap().len(), 1);

    // The author keeps the value that does not show now.
    let hidden = conflict.values[1].clone();
    let left = resolve(
        &author(),
        &phone,
        Choice::Pick {
            op: hidden.op.clone(),
        },
    )
    .unwrap();
    assert!(left.is_empty());
    both_ways(&phone.store, &tablet.store);
    for t in [&phone, &tablet] {
        let log = t.store.service_log(id).unwrap();
        assert_eq!(serde_json::json!(log.farmers_served), hidden.value);
        assert!(t.store.conflicts(id.into()).unwrap().is_empty());
        let history = t.store.record_history_as(&lead(), id.into()).unwrap();
        let r = &history.resolutions[0];
        assert_eq!(r.path, "farmers_served");
        assert_eq!(r.chosen, hidden.value.to_string());
        assert_eq!(r.superseded, [conflict.values[0].value.to_string()]);
        assert_eq!((r.by, r.role), (author().user, Role::Commissioner));
    }
    // Resolved already: nothing to resolve.
    let err = resolve(&author(), &phone, Choice::Value { value: 7.into() }).unwrap_err();
    assert!(matches!(err, StoreError::NoConflict(_)), "{err}");

    // A new conflict, resolved by a sync admin with a typed value; the
    // value shown before the resolution is superseded too.
    edit_content(&phone, id, |l| l.farmers_served = 31);
    edit_content(&tablet, id, |l| l.farmers_served = 46);
    both_ways(&phone.store, &tablet.store);
    let left = resolve(&admin(), &tablet, Choice::Value { value: 40.into() }).unwrap();
    assert!(left.is_empty());
    both_ways(&phone.store, &tablet.store);
    for t in [&phone, &tablet] {
        assert_eq!(t.store.service_log(id).unwrap().farmers_served, 40);
        let history = t.store.record_history_as(&author(), id.into()).unwrap();
        let r = history.resolutions.last().unwrap();
        assert_eq!((r.by, r.role), (admin().user, Role::SyncAdmin));
        let mut superseded = r.superseded.clone();
        superseded.sort();
        assert_eq!(superseded, ["31", "46"]);
    }
}

#[test]
fn resolving_keeps_a_value_the_field_shows_and_other_conflicts() {
    let (phone, tablet, id) = conflicted();
    // A second conflict, on the industry.
    edit_content(&phone, id, |l| l.industry = "白茶".into());
    edit_content(&tablet, id, |l| l.industry = "绿茶".into());
    both_ways(&phone.store, &tablet.store);
    let detail = phone.store.review_detail_as(&author(), id).unwrap();
    assert_eq!(detail.conflicts.len(), 2);
    let served = detail
        .conflicts
        .iter()
        .find(|c| c.path == "farmers_served")
        .unwrap();
    let shown = served.values[0].clone();
    let left = phone
        .store
        .resolve_conflict_as(
            &author(),
            &ResolveInput {
                id: id.into(),
                path: "farmers_served".into(),
                choice: Choice::Pick { op: shown.op },
            },
        )
        .unwrap();
    assert_eq!(
        left.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        ["industry"],
        "the other conflict stays for its own resolution"
    );
    both_ways(&phone.store, &tablet.store);
    let log = tablet.store.service_log(id).unwrap();
    assert_eq!(serde_json::json!(log.farmers_served), shown.value);
    assert_eq!(tablet.store.conflicts(id.into()).unwrap().len(), 1);
}

#[test]
fn possible_duplicates_are_found_marked_and_leave_statistics() {
    let phone = TestStore::new();
    let tablet = TestStore::new();
    let text = "在村委会开展茶园冬季管理培训，讲解修剪、施肥和病虫害绿色防控。";
    let first = log_on(&phone, "2026-11-28", VILLAGE, text);
    // The same visit typed again on the tablet a minute later, a little
    // differently.
    tablet.clock.advance_millis(60_000);
    let second = log_on(
        &tablet,
        "2026-11-28",
        VILLAGE,
        "村委会开展茶园冬季管理培训，讲了修剪、施肥、病虫害绿色防控",
    );
    // Other work that day in that village, and the same text elsewhere.
    log_on(
        &phone,
        "2026-11-28",
        VILLAGE,
        "指导猕猴桃园冬季清园，剪除病枝。",
    );
    log_on(&phone, "2026-11-28", VILLAGE_2, text);
    both_ways(&phone.store, &tablet.store);

    let pairs = phone.store.duplicate_candidates_as(&author()).unwrap();
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    let pair = &pairs[0];
    assert_eq!(pair.kind, RecordKind::ServiceLog);
    assert_eq!(
        [pair.first.id, pair.second.id],
        [DocId::from(first), DocId::from(second)]
    );
    assert!(
        pair.similarity >= 0.6 && pair.similarity < 1.0,
        "{}",
        pair.similarity
    );
    assert_eq!(pair.date.to_string(), "2026-11-28");
    // Only those who may mark see the pair: not a teammate, not the lead.
    assert!(
        phone
            .store
            .duplicate_candidates_as(&teammate())
            .unwrap()
            .is_empty()
    );
    assert!(
        phone
            .store
            .duplicate_candidates_as(&lead())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        phone.store.duplicate_candidates_as(&admin()).unwrap().len(),
        1
    );

    let period = StatsQuery {
        author: Some(author().user),
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-30".parse().unwrap(),
        ..Default::default()
    };
    assert_eq!(phone.store.work_stats(&period).unwrap().visits, 4);
    let mark = MarkDuplicateInput {
        id: second.into(),
        of: first.into(),
    };
    for who in [teammate(), lead()] {
        let err = phone.store.mark_duplicate_as(&who, &mark).unwrap_err();
        assert!(matches!(err, StoreError::NotYours(_)), "{err}");
    }
    let err = phone
        .store
        .mark_duplicate_as(
            &author(),
            &MarkDuplicateInput {
                id: second.into(),
                of: second.into(),
            },
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed(_)));
    let history = phone.store.mark_duplicate_as(&author(), &mark).unwrap();
    assert_eq!(history.duplicate.unwrap().of, first.into());
    sync(&phone.store, &tablet.store);
    for t in [&phone, &tablet] {
        assert_eq!(
            t.store.work_stats(&period).unwrap().visits,
            3,
            "the duplicate leaves"
        );
        assert!(
            t.store
                .duplicate_candidates_as(&author())
                .unwrap()
                .is_empty()
        );
        let listed = t.store.list_service_logs(&LogQuery::default()).unwrap();
        let row = listed.iter().find(|l| l.id == second).unwrap();
        assert_eq!(row.duplicate_of, Some(first.into()), "it stays, marked");
    }
    // Marked on one device and unmarked on the other after seeing it: gone
    // on both.
    tablet
        .store
        .unmark_duplicate_as(&admin(), second.into())
        .unwrap();
    both_ways(&phone.store, &tablet.store);
    for t in [&phone, &tablet] {
        assert_eq!(t.store.work_stats(&period).unwrap().visits, 4);
        assert_eq!(t.store.duplicate_candidates_as(&author()).unwrap().len(), 1);
    }
}

#[test]
#[allow(
    clippy::disallowed_types,
    reason = "the test turns the store's projection back into what an older version wrote"
)]
fn an_older_stores_rows_are_filled_when_it_opens() {
    let t = TestStore::new();
    let id = log_on(&t, "2026-11-28", VILLAGE, "茶园冬季管理培训");
    t.store.approve_logs_as(&lead(), &[id]).unwrap();
    let kept = log_on(&t, "2026-11-28", VILLAGE_2, "茶园冬季管理培训");
    t.store
        .mark_duplicate_as(
            &author(),
            &MarkDuplicateInput {
                id: id.into(),
                of: kept.into(),
            },
        )
        .unwrap();
    {
        // What migration 0003 leaves in a store of schema 2: defaults, and
        // the projection version of before.
        let conn = rusqlite::Connection::open(t.store.path()).unwrap();
        conn.execute_batch(
            "UPDATE service_logs SET review_state = 'submitted', duplicate_of = NULL,
                 last_decision_at = NULL, last_decision_by = NULL;
             DELETE FROM meta WHERE key = 'projection_version';",
        )
        .unwrap();
    }
    let t = t.reopen();
    let listed = t.store.list_service_logs(&LogQuery::default()).unwrap();
    let row = listed.iter().find(|l| l.id == id).unwrap();
    assert_eq!(row.review_state, ReviewState::Approved);
    assert_eq!(row.duplicate_of, Some(kept.into()));
}
