//! The authorisation matrix over HTTP: each role × scope × action,
//! including field-level cases, for writes (push outcomes) and reads
//! (pull and the repair fetch). Every case names its expected outcome; at
//! the end the number of stored changes must equal the number of expected
//! `stored` outcomes, so no write was let through unnoticed.

use std::collections::{BTreeMap, BTreeSet};

use app_core::domain::{DocId, LogStatus, Review, ServiceLog, Timestamp};
use app_core::scope::{Placement, can_read};
use automerge::Automerge;
use automerge::transaction::Transactable;

use crate::harness::{
    Account, Device, Doc, Env, T0, WUCHUAN, ZHENGAN, code, consultation_by, log_by, villages,
};

/// A fresh submitted log by c1 in 正安, stored on the server.
async fn fresh_log(env: &Env, c1: &Device) -> Doc {
    let w = &env.world;
    let v = villages(ZHENGAN, 1)[0];
    let log = log_by(&w.c1.user, Some(w.team1.id), v, T0 + rand_ms());
    let (doc, change) = Doc::create_log(c1, &log);
    assert_eq!(code(&env.push(c1, &[change]).await[0]), "stored");
    doc
}

fn rand_ms() -> i64 {
    (rand::random::<u32>() % 1_000_000) as i64
}

struct Matrix<'a> {
    env: &'a Env,
    expected_stored: u64,
    expected_refused: u64,
    failures: Vec<String>,
}

impl Matrix<'_> {
    async fn check(
        &mut self,
        label: &str,
        device: &Device,
        change: (DocId, Vec<u8>),
        expected: &str,
    ) {
        let outcomes = self.env.push(device, &[change]).await;
        let got = code(&outcomes[0]);
        match expected {
            "stored" => self.expected_stored += 1,
            "duplicate" | "missing_deps" => {}
            _ => self.expected_refused += 1,
        }
        if got != expected {
            self.failures.push(format!(
                "{label}: expected {expected}, got {got} ({:?})",
                outcomes[0]
            ));
        }
    }
}

async fn edit_case(
    m: &mut Matrix<'_>,
    c1: &Device,
    label: &str,
    who: &Account,
    f: impl FnOnce(&mut ServiceLog),
    expected: &str,
) {
    let doc = fresh_log(m.env, c1).await;
    m.expected_stored += 1;
    let device = m.env.enrol(who).await;
    let mut copy = doc.fork();
    let change = copy.edit_log(&device, f);
    m.check(label, &device, change, expected).await;
}

pub async fn writes(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let (before, _, _) = env.counts().await;
    assert_eq!(before, 0);
    let mut m = Matrix {
        env: &env,
        expected_stored: 0,
        expected_refused: 0,
        failures: Vec::new(),
    };
    let review = |by: &Account, status: LogStatus, comment: &str| {
        let by = by.user.id;
        let comment = comment.to_string();
        move |l: &mut ServiceLog| {
            l.status = status;
            l.review = Review {
                comment,
                by: Some(by),
                at: Some(Timestamp::from_millis(T0)),
            };
        }
    };
    let wuchuan_village = villages(WUCHUAN, 1)[0];

    // The author.
    edit_case(
        &mut m,
        &c1,
        "author edits description",
        &w.c1,
        |l| l.description = "补充：修剪后施肥".into(),
        "stored",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "author approves own log",
        &w.c1,
        |l| l.status = LogStatus::Approved,
        "field_not_allowed",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "author writes the review",
        &w.c1,
        |l| l.review.comment = "自评".into(),
        "field_not_allowed",
    )
    .await;
    let team2 = w.team2.id;
    edit_case(
        &mut m,
        &c1,
        "author moves log to another team",
        &w.c1,
        move |l| l.team = Some(team2),
        "field_not_allowed",
    )
    .await;
    let c2_id = w.c2.user.id;
    edit_case(
        &mut m,
        &c1,
        "author gives log away",
        &w.c1,
        move |l| l.author = c2_id,
        "field_not_allowed",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "author moves log out of county",
        &w.c1,
        move |l| l.village = wuchuan_village,
        "out_of_scope",
    )
    .await;
    // Teammates and other teams.
    edit_case(
        &mut m,
        &c1,
        "teammate edits",
        &w.c2,
        |l| l.description = "改别人的".into(),
        "not_your_record",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "own-scope teammate edits",
        &w.c_own,
        |l| l.farmers_served = 1,
        "out_of_scope",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "other team's commissioner edits",
        &w.c3,
        |l| l.farmers_served = 1,
        "out_of_scope",
    )
    .await;
    // Team leads.
    edit_case(
        &mut m,
        &c1,
        "lead approves team log",
        &w.lead1,
        review(&w.lead1, LogStatus::Approved, "很好"),
        "stored",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "lead returns team log",
        &w.lead1,
        review(&w.lead1, LogStatus::Returned, "请补充照片"),
        "stored",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "lead changes a non-review field",
        &w.lead1,
        |l| l.farmers_served = 999,
        "field_not_allowed",
    )
    .await;
    let approve_and_meddle = {
        let r = review(&w.lead1, LogStatus::Approved, "好");
        move |l: &mut ServiceLog| {
            r(l);
            l.description = "团长改的".into();
        }
    };
    edit_case(
        &mut m,
        &c1,
        "lead approves and edits content",
        &w.lead1,
        approve_and_meddle,
        "field_not_allowed",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "other team's lead approves",
        &w.lead2,
        review(&w.lead2, LogStatus::Approved, "好"),
        "out_of_scope",
    )
    .await;
    {
        // A draft is not ready for review.
        let mut doc = fresh_log(&env, &c1).await;
        m.expected_stored += 1;
        let to_draft = doc.edit_log(&c1, |l| l.status = LogStatus::Draft);
        m.check("author sets draft", &c1, to_draft, "stored").await;
        let lead = env.enrol(&w.lead1).await;
        let change = doc
            .fork()
            .edit_log(&lead, review(&w.lead1, LogStatus::Approved, "好"));
        m.check("lead approves a draft", &lead, change, "field_not_allowed")
            .await;
    }
    // Sync admins.
    edit_case(
        &mut m,
        &c1,
        "county admin resolves in county",
        &w.admin_zhengan,
        |l| l.farmers_served = 13,
        "stored",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "county admin of another county",
        &w.admin_wuchuan,
        |l| l.farmers_served = 13,
        "out_of_scope",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "province admin in province",
        &w.admin_guizhou,
        |l| l.farmers_served = 13,
        "stored",
    )
    .await;
    edit_case(
        &mut m,
        &c1,
        "province admin of another province",
        &w.admin_yunnan,
        |l| l.farmers_served = 13,
        "out_of_scope",
    )
    .await;
    let admin_id = w.admin_zhengan.user.id;
    edit_case(
        &mut m,
        &c1,
        "county admin changes the author",
        &w.admin_zhengan,
        move |l| l.author = admin_id,
        "field_not_allowed",
    )
    .await;

    // Creating records.
    let v = villages(ZHENGAN, 1)[0];
    let creations: Vec<(&str, &Account, ServiceLog, &str)> = vec![
        (
            "commissioner creates own log",
            &w.c1,
            log_by(&w.c1.user, Some(w.team1.id), v, T0 + 1),
            "stored",
        ),
        (
            "creates a log in another's name",
            &w.c1,
            log_by(&w.c2.user, Some(w.team1.id), v, T0 + 2),
            "not_your_record",
        ),
        (
            "creates a log for another team",
            &w.c1,
            log_by(&w.c1.user, Some(w.team2.id), v, T0 + 3),
            "out_of_scope",
        ),
        (
            "creates a log outside the county",
            &w.c1,
            log_by(&w.c1.user, Some(w.team1.id), wuchuan_village, T0 + 4),
            "out_of_scope",
        ),
        (
            "creates an approved log",
            &w.c1,
            {
                let mut l = log_by(&w.c1.user, Some(w.team1.id), v, T0 + 5);
                l.status = LogStatus::Approved;
                l
            },
            "field_not_allowed",
        ),
        (
            "sync admin authors a field record",
            &w.admin_zhengan,
            log_by(&w.admin_zhengan.user, None, v, T0 + 6),
            "not_your_record",
        ),
        (
            "team lead creates own log",
            &w.lead1,
            log_by(&w.lead1.user, Some(w.team1.id), v, T0 + 7),
            "stored",
        ),
        (
            "other team creates own log in its county",
            &w.c3,
            log_by(&w.c3.user, Some(w.team2.id), wuchuan_village, T0 + 8),
            "stored",
        ),
    ];
    for (label, who, log, expected) in creations {
        let device = env.enrol(who).await;
        let (_, change) = Doc::create_log(&device, &log);
        m.check(label, &device, change, expected).await;
    }

    // Consultations: no review fields; only the author writes.
    {
        let k = consultation_by(&w.c1.user, Some(w.team1.id), v, T0 + 9);
        let (mut doc, change) = Doc::create_consultation(&c1, &k);
        m.check("commissioner creates a consultation", &c1, change, "stored")
            .await;
        let lead = env.enrol(&w.lead1).await;
        let lead_change = doc
            .fork()
            .edit_consultation(&lead, |c| c.advice = "喷药".into());
        m.check(
            "lead answers a member's consultation",
            &lead,
            lead_change,
            "not_your_record",
        )
        .await;
        let c2 = env.enrol(&w.c2).await;
        let c2_change = doc
            .fork()
            .edit_consultation(&c2, |c| c.advice = "喷药".into());
        m.check(
            "teammate answers a consultation",
            &c2,
            c2_change,
            "not_your_record",
        )
        .await;
        let answer = doc.edit_consultation(&c1, |c| c.advice = "用石硫合剂".into());
        m.check("author answers own consultation", &c1, answer, "stored")
            .await;
    }

    // Actors and documents.
    {
        let mut doc = fresh_log(&env, &c1).await;
        m.expected_stored += 1;
        let legit = doc.edit_log(&c1, |l| l.farmers_served = 20);
        let c2 = env.enrol(&w.c2).await;
        m.check(
            "another device pushes c1's actor",
            &c2,
            legit,
            "foreign_actor",
        )
        .await;
        let other = log_by(&w.c1.user, Some(w.team1.id), v, T0 + 10);
        let (_, (_, bytes)) = Doc::create_log(&c1, &other);
        let elsewhere: DocId = log_by(&w.c1.user, Some(w.team1.id), v, T0 + 11).id.into();
        m.check(
            "a change pushed under another document",
            &c1,
            (elsewhere, bytes),
            "wrong_document",
        )
        .await;
    }

    // A hidden write: a value for `author` concurrent with the creation's,
    // which loses to it, so the record does not show it.
    {
        let doc = fresh_log(&env, &c1).await;
        m.expected_stored += 1;
        let c2 = env.enrol(&w.c2).await;
        let mut am = Automerge::new().with_actor(c2.actor.clone());
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "author", w.c2.user.id.to_string())?;
            Ok(())
        })
        .unwrap();
        let mut sneaky = am.get_changes(&[]).into_iter().next().unwrap().clone();
        m.check(
            "a hidden concurrent write to author",
            &c2,
            (doc.id, sneaky.bytes().into_owned()),
            "field_not_allowed",
        )
        .await;
    }

    let (changes, _, quarantined) = env.counts().await;
    assert!(
        m.failures.is_empty(),
        "matrix failures:\n{}",
        m.failures.join("\n")
    );
    assert_eq!(
        changes, m.expected_stored,
        "the server stored a change no case expected"
    );
    assert_eq!(quarantined, m.expected_refused);
}

pub async fn reads(env: Env) {
    let w = env.world.clone();
    let vz = villages(ZHENGAN, 1)[0];
    let vw = villages(WUCHUAN, 1)[0];
    let mut docs: BTreeMap<&str, (DocId, Placement)> = BTreeMap::new();
    for (name, who, team, village, at) in [
        ("c1 log", &w.c1, w.team1.id, vz, T0 + 1),
        ("c3 log", &w.c3, w.team2.id, vw, T0 + 2),
        ("own-scope log", &w.c_own, w.team1.id, vz, T0 + 3),
        ("lead1 log", &w.lead1, w.team1.id, vz, T0 + 4),
    ] {
        let device = env.enrol(who).await;
        let log = log_by(&who.user, Some(team), village, at);
        let placement = app_core::scope::AnyRecord::ServiceLog(log.clone()).placement();
        let (doc, change) = Doc::create_log(&device, &log);
        assert_eq!(code(&env.push(&device, &[change]).await[0]), "stored");
        docs.insert(name, (doc.id, placement));
    }
    let id = |n: &str| docs[n].0;
    let expect: Vec<(&Account, Vec<&str>)> = vec![
        (&w.c1, vec!["c1 log", "own-scope log", "lead1 log"]),
        (&w.c2, vec!["c1 log", "own-scope log", "lead1 log"]),
        (&w.c_own, vec!["own-scope log"]),
        (&w.lead1, vec!["c1 log", "own-scope log", "lead1 log"]),
        (&w.c3, vec!["c3 log"]),
        (&w.lead2, vec!["c3 log"]),
        (
            &w.admin_zhengan,
            vec!["c1 log", "own-scope log", "lead1 log"],
        ),
        (&w.admin_wuchuan, vec!["c3 log"]),
        (
            &w.admin_guizhou,
            vec!["c1 log", "c3 log", "own-scope log", "lead1 log"],
        ),
        (&w.admin_yunnan, vec![]),
    ];
    let teams = [w.team1.clone(), w.team2.clone()];
    for (who, names) in expect {
        // A second device of the user: a device never pulls its own pushes.
        let device = env.enrol(who).await;
        let seen = env.visible_docs(&device).await;
        let wanted: BTreeSet<DocId> = names.iter().map(|n| id(n)).collect();
        assert_eq!(seen, wanted, "what {} pulls", who.user.username);
        // The scope rules agree.
        let team = who.user.team.and_then(|t| teams.iter().find(|x| x.id == t));
        let principal = sync_server::auth::principal_of(&who.user, team);
        for (name, (doc, placement)) in &docs {
            assert_eq!(
                can_read(&principal, placement),
                wanted.contains(doc),
                "{} reading {name}",
                who.user.username
            );
            let resp = env
                .get(&device, &format!("/api/v1/sync/docs/{doc}"))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            if wanted.contains(doc) {
                assert_eq!(status, 200, "{} fetching {name}", who.user.username);
                let page: app_core::sync::protocol::PullResponse =
                    app_core::sync::protocol::decode(&resp.bytes().await.unwrap()).unwrap();
                assert_eq!(page.changes.len(), 1);
                assert!(!page.more);
            } else {
                assert_eq!(status, 404, "{} fetching {name}", who.user.username);
            }
        }
    }
    // A device does not pull back what it pushed itself.
    let c1 = env.enrol(&w.c1).await;
    let log = log_by(&w.c1.user, Some(w.team1.id), vz, T0 + 20);
    let (doc, change) = Doc::create_log(&c1, &log);
    env.push(&c1, &[change]).await;
    assert!(!env.visible_docs(&c1).await.contains(&doc.id));
}
