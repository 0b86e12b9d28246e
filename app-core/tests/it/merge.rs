//! Merging between replicas: convergence under random edits and exchange
//! schedules, idempotence, and the three kinds of concurrent edit; review
//! decisions, resolutions and duplicate marks under every order of sync.

use std::collections::BTreeMap;

use app_core::api::{Choice, MarkDuplicateInput, ResolveInput};
use app_core::domain::{
    CountyCode, DocId, LogStatus, ReviewState, Role, Scope, ServiceLog, ServiceLogId,
};
use app_core::scope::Principal;
use app_core::store::{LogQuery, ReviewDecision, Store};
use proptest::prelude::*;

use crate::support::*;

/// Sends everything `from` has and `to` lacks; returns the number of changes.
fn sync(from: &Store, to: &Store) -> usize {
    let changes = from.changes_for_peer(&to.heads().unwrap()).unwrap();
    let n = changes.len();
    let report = to.apply_changes(&changes).unwrap();
    assert!(report.rejected.is_empty());
    n
}

fn sync_all(replicas: &[TestStore]) {
    // Two passes of a ring suffice for full propagation; do until quiet.
    loop {
        let mut moved = 0;
        for i in 0..replicas.len() {
            for j in 0..replicas.len() {
                if i != j {
                    moved += sync(&replicas[i].store, &replicas[j].store);
                }
            }
        }
        if moved == 0 {
            break;
        }
    }
}

fn edit(store: &Store, id: ServiceLogId, f: impl FnOnce(&mut ServiceLog)) -> ServiceLog {
    store
        .edit_record::<ServiceLog, _>(id.into(), |log, _| {
            f(log);
            Ok(())
        })
        .unwrap()
        .1
}

/// Two replicas sharing one submitted log.
fn pair_with_log() -> (TestStore, TestStore, ServiceLogId) {
    let a = TestStore::new();
    let b = TestStore::new();
    let id = a
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap()
        .value
        .id;
    sync(&a.store, &b.store);
    (a, b, id)
}

#[test]
fn concurrent_edits_of_different_fields_merge_on_both_sides() {
    let (a, b, id) = pair_with_log();
    edit(&a.store, id, |l| l.farmers_served = 50);
    edit(&b.store, id, |l| l.industry = "白茶".into());
    sync(&a.store, &b.store);
    sync(&b.store, &a.store);
    for t in [&a, &b] {
        let log = t.store.service_log(id).unwrap();
        assert_eq!(log.farmers_served, 50);
        assert_eq!(log.industry, "白茶");
        assert!(t.store.conflicts(id.into()).unwrap().is_empty());
    }
}

#[test]
fn concurrent_edits_of_one_text_keep_both_insertions() {
    let (a, b, id) = pair_with_log();
    edit(&a.store, id, |l| {
        l.description = format!("【上午】{}", l.description)
    });
    edit(&b.store, id, |l| l.description.push_str("【下午回访两户】"));
    sync(&a.store, &b.store);
    sync(&b.store, &a.store);
    let on_a = a.store.service_log(id).unwrap().description;
    let on_b = b.store.service_log(id).unwrap().description;
    assert_eq!(on_a, on_b);
    assert!(on_a.starts_with("【上午】在村委会"), "{on_a}");
    assert!(on_a.ends_with("防控。【下午回访两户】"), "{on_a}");
}

#[test]
fn concurrent_edits_of_one_scalar_keep_both_values_as_a_conflict() {
    let (a, b, id) = pair_with_log();
    edit(&a.store, id, |l| l.farmers_served = 30);
    edit(&b.store, id, |l| l.farmers_served = 45);
    sync(&a.store, &b.store);
    sync(&b.store, &a.store);
    let winner_a = a.store.service_log(id).unwrap().farmers_served;
    let winner_b = b.store.service_log(id).unwrap().farmers_served;
    assert_eq!(winner_a, winner_b, "both replicas show the same value");
    for t in [&a, &b] {
        let conflicts = t.store.conflicts(id.into()).unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0].path_string(), "farmers_served");
        let mut values: Vec<i64> = conflicts[0]
            .values
            .iter()
            .map(|v| v.value.as_i64().unwrap())
            .collect();
        values.sort();
        assert_eq!(values, [30, 45]);
        let listed = t.store.list_service_logs(&LogQuery::default()).unwrap();
        assert!(listed[0].has_conflicts, "the list shows the conflict");
        let shown = t.store.service_log(id).unwrap().farmers_served;
        assert_eq!(
            conflicts[0].values[0].value.as_u64(),
            Some(u64::from(shown)),
            "the value shown is listed first"
        );
    }
    // Editing other fields, or saving the value the field shows, keeps the
    // conflict for someone to resolve …
    edit(&a.store, id, |l| l.industry = "白茶".into());
    edit(&a.store, id, |l| l.farmers_served = winner_a);
    sync(&a.store, &b.store);
    for t in [&a, &b] {
        assert_eq!(t.store.conflicts(id.into()).unwrap().len(), 1);
    }
    // … and writing another value supersedes both, everywhere.
    edit(&a.store, id, |l| l.farmers_served = 46);
    sync(&a.store, &b.store);
    assert!(b.store.conflicts(id.into()).unwrap().is_empty());
    assert_eq!(b.store.service_log(id).unwrap().farmers_served, 46);
}

#[test]
fn concurrent_list_additions_keep_both_items() {
    let (a, b, id) = pair_with_log();
    edit(&a.store, id, |l| l.technologies.push("测土配方施肥".into()));
    edit(&b.store, id, |l| l.varieties.push("黄金芽".into()));
    edit(&b.store, id, |l| l.technologies.push("茶园机械修剪".into()));
    sync(&a.store, &b.store);
    sync(&b.store, &a.store);
    let log = a.store.service_log(id).unwrap();
    assert_eq!(log, b.store.service_log(id).unwrap());
    for t in ["茶园绿色防控", "测土配方施肥", "茶园机械修剪"] {
        assert!(
            log.technologies.iter().any(|x| x == t),
            "{t} missing: {:?}",
            log.technologies
        );
    }
    assert_eq!(log.varieties, ["白叶1号", "黄金芽"]);
}

#[test]
fn applying_the_same_changes_twice_changes_nothing() {
    let (a, b, id) = pair_with_log();
    edit(&a.store, id, |l| l.farmers_served = 77);
    let changes = a.store.changes_for_peer(&BTreeMap::new()).unwrap();
    let first = b.store.apply_changes(&changes).unwrap();
    assert_eq!(first.applied, 1);
    assert_eq!(first.duplicates, 1);
    let heads = b.store.heads().unwrap();
    let second = b.store.apply_changes(&changes).unwrap();
    assert_eq!(second.applied, 0);
    assert_eq!(second.duplicates, 2);
    assert!(second.changed.is_empty());
    assert_eq!(b.store.heads().unwrap(), heads);
}

#[test]
fn changes_arriving_before_their_dependencies_wait_and_then_apply() {
    let (a, b, id) = pair_with_log();
    let c = TestStore::new();
    edit(&a.store, id, |l| l.farmers_served = 60);
    edit(&a.store, id, |l| l.industry = "绿茶".into());
    let mut changes = a.store.changes_for_peer(&BTreeMap::new()).unwrap();
    changes.reverse();
    let (last, rest) = changes.split_first().unwrap();
    let held = c.store.apply_changes(std::slice::from_ref(last)).unwrap();
    assert_eq!((held.applied, held.pending), (0, 1));
    assert!(
        c.store
            .list_service_logs(&LogQuery::default())
            .unwrap()
            .is_empty()
    );
    let report = c.store.apply_changes(rest).unwrap();
    assert_eq!(
        report.applied, 3,
        "the held change applied with its dependencies"
    );
    assert_eq!(
        c.store.service_log(id).unwrap(),
        a.store.service_log(id).unwrap()
    );
    drop(b);
}

#[test]
fn undecodable_changes_are_rejected_and_change_nothing() {
    let (a, b, id) = pair_with_log();
    let heads = b.store.heads().unwrap();
    let report = b
        .store
        .apply_changes(&[app_core::store::DocChange {
            doc_id: id.into(),
            bytes: b"not an automerge change".to_vec(),
        }])
        .unwrap();
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(b.store.heads().unwrap(), heads);
    drop(a);
}

// ---- property: random edits and exchange schedules converge ----

#[derive(Debug, Clone)]
enum Op {
    Create {
        replica: usize,
    },
    Text {
        replica: usize,
        record: usize,
        at: usize,
        text: &'static str,
    },
    Count {
        replica: usize,
        record: usize,
        value: u32,
    },
    Industry {
        replica: usize,
        record: usize,
        value: &'static str,
    },
    AddTech {
        replica: usize,
        record: usize,
        value: &'static str,
    },
    RemoveTech {
        replica: usize,
        record: usize,
    },
    Status {
        replica: usize,
        record: usize,
        approve: bool,
    },
    /// A team lead's decision on that replica (approve or return).
    Decide {
        replica: usize,
        record: usize,
        approve: bool,
    },
    /// A sync admin resolves the first conflict of a record there, keeping
    /// one of its values.
    Resolve {
        replica: usize,
        record: usize,
        pick: usize,
    },
    /// A sync admin marks a record as a duplicate of another, or clears it.
    Duplicate {
        replica: usize,
        record: usize,
        of: usize,
        mark: bool,
    },
    Sync {
        from: usize,
        to: usize,
    },
    SyncTwice {
        from: usize,
        to: usize,
    },
}

const REPLICAS: usize = 3;
const WORDS: &[&str] = &["施肥", "修剪", "病虫害", "，", "茶园", "Ⅱ", "a", "😀"];
const INDUSTRIES: &[&str] = &["茶叶", "猕猴桃", "马铃薯", "肉牛", "中药材"];

fn op() -> impl Strategy<Value = Op> {
    let r = 0..REPLICAS;
    prop_oneof![
        1 => r.clone().prop_map(|replica| Op::Create { replica }),
        3 => (r.clone(), any::<usize>(), any::<usize>(), prop::sample::select(WORDS))
            .prop_map(|(replica, record, at, text)| Op::Text { replica, record, at, text }),
        2 => (r.clone(), any::<usize>(), 0u32..500)
            .prop_map(|(replica, record, value)| Op::Count { replica, record, value }),
        2 => (r.clone(), any::<usize>(), prop::sample::select(INDUSTRIES))
            .prop_map(|(replica, record, value)| Op::Industry { replica, record, value }),
        2 => (r.clone(), any::<usize>(), prop::sample::select(WORDS))
            .prop_map(|(replica, record, value)| Op::AddTech { replica, record, value }),
        1 => (r.clone(), any::<usize>())
            .prop_map(|(replica, record)| Op::RemoveTech { replica, record }),
        1 => (r.clone(), any::<usize>(), any::<bool>())
            .prop_map(|(replica, record, approve)| Op::Status { replica, record, approve }),
        2 => (r.clone(), any::<usize>(), any::<bool>())
            .prop_map(|(replica, record, approve)| Op::Decide { replica, record, approve }),
        1 => (r.clone(), any::<usize>(), any::<usize>())
            .prop_map(|(replica, record, pick)| Op::Resolve { replica, record, pick }),
        1 => (r.clone(), any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(replica, record, of, mark)| Op::Duplicate { replica, record, of, mark }),
        3 => (r.clone(), r.clone()).prop_map(|(from, to)| Op::Sync { from, to }),
        1 => (r.clone(), r).prop_map(|(from, to)| Op::SyncTwice { from, to }),
    ]
}

/// The records a replica can see, in a stable order.
fn known(store: &Store) -> Vec<ServiceLogId> {
    store
        .heads()
        .unwrap()
        .into_keys()
        .map(ServiceLogId::from)
        .collect()
}

fn pick(store: &Store, record: usize) -> Option<ServiceLogId> {
    let ids = known(store);
    (!ids.is_empty()).then(|| ids[record % ids.len()])
}

fn run(ops: &[Op]) {
    let replicas: Vec<TestStore> = (0..REPLICAS).map(|_| TestStore::new()).collect();
    for (step, op) in ops.iter().enumerate() {
        // Each step happens a second later, on every device.
        for t in &replicas {
            t.clock.advance_millis(1000);
        }
        match *op {
            Op::Create { replica } => {
                let mut input = training_input();
                input.description = format!("记录{step}");
                replicas[replica]
                    .store
                    .create_service_log(&commissioner(), &input, true)
                    .unwrap();
            }
            Op::Text {
                replica,
                record,
                at,
                text,
            } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    edit(&replicas[replica].store, id, |l| {
                        let chars: Vec<char> = l.description.chars().collect();
                        let at = at % (chars.len() + 1);
                        l.description = chars[..at]
                            .iter()
                            .chain(text.chars().collect::<Vec<_>>().iter())
                            .chain(chars[at..].iter())
                            .collect();
                    });
                }
            }
            Op::Count {
                replica,
                record,
                value,
            } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    edit(&replicas[replica].store, id, |l| l.farmers_served = value);
                }
            }
            Op::Industry {
                replica,
                record,
                value,
            } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    edit(&replicas[replica].store, id, |l| l.industry = value.into());
                }
            }
            Op::AddTech {
                replica,
                record,
                value,
            } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    edit(&replicas[replica].store, id, |l| {
                        if !l.technologies.iter().any(|t| t == value) {
                            l.technologies.push(value.into());
                        }
                    });
                }
            }
            Op::RemoveTech { replica, record } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    edit(&replicas[replica].store, id, |l| {
                        l.technologies.pop();
                    });
                }
            }
            Op::Status {
                replica,
                record,
                approve,
            } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    edit(&replicas[replica].store, id, |l| {
                        l.status = if approve {
                            LogStatus::Approved
                        } else {
                            LogStatus::Returned
                        };
                    });
                }
            }
            Op::Decide {
                replica,
                record,
                approve,
            } => {
                if let Some(id) = pick(&replicas[replica].store, record) {
                    let (decision, comment) = if approve {
                        (ReviewDecision::Approve, "")
                    } else {
                        (ReviewDecision::Return, "请补充")
                    };
                    replicas[replica]
                        .store
                        .review_service_log(id, team_lead(), decision, comment)
                        .unwrap();
                }
            }
            Op::Resolve {
                replica,
                record,
                pick: choice,
            } => {
                let store = &replicas[replica].store;
                if let Some(id) = pick(store, record) {
                    let conflicts = store.conflicts(id.into()).unwrap();
                    if let Some(c) = conflicts.iter().find(|c| c.is_scalar()) {
                        let op = c.values[choice % c.values.len()].op.clone();
                        store
                            .resolve_conflict_as(
                                &admin(),
                                &ResolveInput {
                                    id: id.into(),
                                    path: c.path_string(),
                                    choice: Choice::Pick { op },
                                },
                            )
                            .unwrap();
                    }
                }
            }
            Op::Duplicate {
                replica,
                record,
                of,
                mark,
            } => {
                let store = &replicas[replica].store;
                if let (Some(id), Some(of)) = (pick(store, record), pick(store, of))
                    && id != of
                {
                    if mark {
                        store
                            .mark_duplicate_as(
                                &admin(),
                                &MarkDuplicateInput {
                                    id: id.into(),
                                    of: of.into(),
                                },
                            )
                            .unwrap();
                    } else {
                        store.unmark_duplicate_as(&admin(), id.into()).unwrap();
                    }
                }
            }
            Op::Sync { from, to } if from != to => {
                sync(&replicas[from].store, &replicas[to].store);
            }
            Op::SyncTwice { from, to } if from != to => {
                let changes = replicas[from]
                    .store
                    .changes_for_peer(&replicas[to].store.heads().unwrap())
                    .unwrap();
                replicas[to].store.apply_changes(&changes).unwrap();
                let again = replicas[to].store.apply_changes(&changes).unwrap();
                assert_eq!(again.applied, 0, "a replayed batch applies nothing");
            }
            Op::Sync { .. } | Op::SyncTwice { .. } => {}
        }
    }
    sync_all(&replicas);

    let reference = &replicas[0].store;
    let heads = reference.heads().unwrap();
    let ids = known(reference);
    let list = reference
        .list_service_logs(&LogQuery {
            limit: Some(500),
            ..Default::default()
        })
        .unwrap();
    for t in &replicas[1..] {
        assert_eq!(
            t.store.heads().unwrap(),
            heads,
            "same documents at the same heads"
        );
        for id in &ids {
            assert_eq!(
                t.store.service_log(*id).unwrap(),
                reference.service_log(*id).unwrap(),
                "record {id} differs"
            );
            assert_eq!(
                t.store.conflicts(DocId::from(*id)).unwrap(),
                reference.conflicts(DocId::from(*id)).unwrap()
            );
        }
        let other = t
            .store
            .list_service_logs(&LogQuery {
                limit: Some(500),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(other, list, "projections agree");
    }
    for t in &replicas {
        for row in t
            .store
            .list_service_logs(&LogQuery {
                limit: Some(500),
                ..Default::default()
            })
            .unwrap()
        {
            let log = t.store.service_log(row.id).unwrap();
            assert_eq!(
                row.review_state,
                log.review_state(),
                "the projection's state"
            );
            assert_eq!(row.duplicate_of, log.duplicate.map(|d| d.of));
        }
    }
}

fn admin() -> Principal {
    Principal {
        user: "0192f000-0000-7000-8000-000000000099".parse().unwrap(),
        role: Role::SyncAdmin,
        scope: Scope::County(CountyCode::parse(COUNTY).unwrap()),
        team: None,
        county: None,
    }
}

// ---- properties of review decisions, resolutions and duplicate marks ----

/// A content edit an author can make.
#[derive(Debug, Clone, Copy)]
enum ContentEdit {
    Count(u32),
    Description,
    Industry,
    AddTechnology,
}

fn content_edit() -> impl Strategy<Value = ContentEdit> {
    prop_oneof![
        (0u32..35).prop_map(ContentEdit::Count),
        Just(ContentEdit::Description),
        Just(ContentEdit::Industry),
        Just(ContentEdit::AddTechnology),
    ]
}

fn apply_edit(store: &Store, id: ServiceLogId, e: ContentEdit) {
    let mut input = store.service_log(id).unwrap().to_input();
    match e {
        ContentEdit::Count(n) => input.farmers_served = i64::from(n),
        ContentEdit::Description => input.description.push_str("（补记）"),
        ContentEdit::Industry => input.industry = "白茶".into(),
        ContentEdit::AddTechnology => input.technologies.push("茶园机械修剪".into()),
    }
    store.update_service_log(id, &input, false).unwrap();
}

/// Three replicas holding one submitted log.
fn three_with_log() -> (Vec<TestStore>, ServiceLogId) {
    let replicas: Vec<TestStore> = (0..3).map(|_| TestStore::new()).collect();
    let id = replicas[0]
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap()
        .value
        .id;
    sync_all(&replicas);
    (replicas, id)
}

fn schedule() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..3usize, 0..3usize), 0..12)
}

/// Runs the exchanges, calling `check` on every replica after each one,
/// then syncs everything and checks again.
fn exchange(replicas: &[TestStore], steps: &[(usize, usize)], check: impl Fn(&Store)) {
    for (from, to) in steps {
        if from != to {
            sync(&replicas[*from].store, &replicas[*to].store);
        }
        replicas.iter().for_each(|t| check(&t.store));
    }
    sync_all(replicas);
    replicas.iter().for_each(|t| check(&t.store));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32),
        max_shrink_iters: 100,
        ..ProptestConfig::default()
    })]

    /// The lead approves on the tablet while the author edits on a phone
    /// (offline, neither seeing the other): every replica that holds both
    /// shows the log changed since approval, whatever the order of sync;
    /// one that holds only the approval shows it approved.
    #[test]
    fn an_approval_concurrent_with_a_content_edit_is_always_changed_since_approval(
        edit in content_edit(),
        editor in prop::sample::select(vec![0usize, 2]),
        steps in schedule(),
    ) {
        let (replicas, id) = three_with_log();
        let original = replicas[0].store.service_log(id).unwrap();
        replicas[1].store.review_service_log(id, team_lead(), ReviewDecision::Approve, "").unwrap();
        apply_edit(&replicas[editor].store, id, edit);
        let changed = replicas[editor].store.service_log(id).unwrap();
        prop_assume!(app_core::domain::review::content_stamp(&changed)
            != app_core::domain::review::content_stamp(&original));
        exchange(&replicas, &steps, |store| {
            let log = store.service_log(id).unwrap();
            let approved = !log.reviews.is_empty();
            let edited = app_core::domain::review::content_stamp(&log)
                != app_core::domain::review::content_stamp(&original);
            let expected = match (approved, edited) {
                (true, true) => ReviewState::ChangedSinceApproval,
                (true, false) => ReviewState::Approved,
                (false, _) => ReviewState::Submitted,
            };
            assert_eq!(log.review_state(), expected);
            let row = &store.list_service_logs(&LogQuery::default()).unwrap()[0];
            assert_eq!(row.review_state, expected, "the projection agrees");
        });
    }

    /// A returned log that its author edits (having seen the return, or not
    /// yet) is handed in again on every replica, whatever the order of sync.
    #[test]
    fn a_returned_log_edited_by_its_author_is_submitted_again(
        edit in content_edit(),
        seen in any::<bool>(),
        steps in schedule(),
    ) {
        let (replicas, id) = three_with_log();
        let original = replicas[0].store.service_log(id).unwrap();
        replicas[1].store
            .review_service_log(id, team_lead(), ReviewDecision::Return, "请补充照片")
            .unwrap();
        if seen {
            sync(&replicas[1].store, &replicas[0].store);
            assert_eq!(
                replicas[0].store.service_log(id).unwrap().review_state(),
                ReviewState::Returned
            );
        }
        apply_edit(&replicas[0].store, id, edit);
        let edited = replicas[0].store.service_log(id).unwrap();
        prop_assume!(app_core::domain::review::content_stamp(&edited)
            != app_core::domain::review::content_stamp(&original));
        exchange(&replicas, &steps, |store| {
            let log = store.service_log(id).unwrap();
            let returned = !log.reviews.is_empty();
            let changed = app_core::domain::review::content_stamp(&log)
                != app_core::domain::review::content_stamp(&original);
            let expected = match (returned, changed) {
                (true, false) => ReviewState::Returned,
                _ => ReviewState::Submitted,
            };
            assert_eq!(log.review_state(), expected);
        });
    }

    /// Concurrent values of one field on two or three replicas; one replica
    /// sees them all and resolves (keeping one of them, or a new value),
    /// while another may write yet another value concurrently: every replica
    /// ends with none of the values the resolution named, the chosen value
    /// shown (unless the unseen write conflicts with it), and the resolution
    /// in the record's history.
    #[test]
    fn a_resolution_supersedes_every_value_it_names_on_every_replica(
        values in prop::collection::vec(1u32..30, 2..=3),
        resolver in 0usize..3,
        choice in prop::option::of(0usize..3),
        late in prop::option::of((0usize..3, 31u32..40)),
        steps in schedule(),
    ) {
        let (replicas, id) = three_with_log();
        for (i, v) in values.iter().enumerate() {
            apply_edit(&replicas[i].store, id, ContentEdit::Count(*v));
        }
        for i in 0..3 {
            if i != resolver {
                sync(&replicas[i].store, &replicas[resolver].store);
            }
        }
        let store = &replicas[resolver].store;
        let conflict = store
            .conflicts(id.into())
            .unwrap()
            .into_iter()
            .find(|c| c.path_string() == "farmers_served");
        let mut distinct = values.clone();
        distinct.sort();
        distinct.dedup();
        prop_assume!(distinct.len() > 1);
        let conflict = conflict.expect("distinct concurrent values conflict");
        let named: Vec<u64> = conflict.values.iter().map(|v| v.value.as_u64().unwrap()).collect();
        let (choice, chosen) = match choice {
            Some(i) => {
                let v = &conflict.values[i % conflict.values.len()];
                (Choice::Pick { op: v.op.clone() }, v.value.as_u64().unwrap())
            }
            None => (Choice::Value { value: 50.into() }, 50),
        };
        // A write the resolver has not seen, on another replica.
        let late = late.filter(|(r, _)| *r != resolver);
        if let Some((r, v)) = late {
            apply_edit(&replicas[r].store, id, ContentEdit::Count(v));
        }
        store
            .resolve_conflict_as(
                &admin(),
                &ResolveInput { id: id.into(), path: "farmers_served".into(), choice },
            )
            .unwrap();
        exchange(&replicas, &steps, |_| {});
        let reference = replicas[0].store.service_log(id).unwrap();
        for t in &replicas {
            let log = t.store.service_log(id).unwrap();
            assert_eq!(log, reference);
            assert_eq!(log.resolutions.len(), 1);
            let left: Vec<u64> = t
                .store
                .conflicts(id.into())
                .unwrap()
                .into_iter()
                .filter(|c| c.path_string() == "farmers_served")
                .flat_map(|c| c.values.into_iter().map(|v| v.value.as_u64().unwrap()))
                .collect();
            match late {
                None => {
                    assert!(left.is_empty(), "{left:?}");
                    assert_eq!(u64::from(log.farmers_served), chosen);
                }
                Some((_, v)) => {
                    // Only the chosen value and the unseen one remain.
                    assert!(left.iter().all(|x| *x == chosen || *x == u64::from(v)), "{left:?}");
                    assert!(named.iter().all(|n| *n == chosen || !left.contains(n) || *n == u64::from(v)));
                }
            }
        }
    }

    /// Marks and unmarks on different replicas converge: every replica shows
    /// the same mark, the same projection, the same figures.
    #[test]
    fn duplicate_marks_converge(
        marks in prop::collection::vec((0usize..3, any::<bool>(), any::<bool>()), 1..8),
        steps in schedule(),
    ) {
        let (replicas, a) = three_with_log();
        let b = replicas[0]
            .store
            .create_service_log(&commissioner(), &training_input(), true)
            .unwrap()
            .value
            .id;
        sync_all(&replicas);
        for (replica, mark, which) in marks {
            let (id, of) = if which { (a, b) } else { (b, a) };
            let store = &replicas[replica].store;
            if mark {
                store.mark_duplicate_as(&admin(), &MarkDuplicateInput { id: id.into(), of: of.into() }).unwrap();
            } else {
                store.unmark_duplicate_as(&admin(), id.into()).unwrap();
            }
        }
        exchange(&replicas, &steps, |_| {});
        let query = app_core::stats::StatsQuery {
            from: "2026-11-01".parse().unwrap(),
            to: "2026-11-30".parse().unwrap(),
            ..Default::default()
        };
        let reference = &replicas[0].store;
        let marks = [a, b].map(|id| reference.service_log(id).unwrap().duplicate);
        let visits = reference.work_stats(&query).unwrap().visits;
        assert_eq!(visits, 2 - marks.iter().filter(|m| m.is_some()).count() as u32);
        for t in &replicas[1..] {
            assert_eq!([a, b].map(|id| t.store.service_log(id).unwrap().duplicate), marks);
            assert_eq!(t.store.work_stats(&query).unwrap().visits, visits);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_whatever_the_edits_and_exchange_schedule(
        ops in prop::collection::vec(op(), 1..40)
    ) {
        run(&ops);
    }
}
