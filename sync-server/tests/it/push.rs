//! Pushes under field conditions: replays and duplicates, a body cut
//! mid-stream, undecodable bytes, missing dependencies, one bad change in a
//! batch of a hundred, the quarantine a refusal leaves behind, and
//! concurrent pushes to one document.

use app_core::domain::DocId;
use app_core::sync::protocol::{self, PushRequest, WireChange};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Doc, Env, Fetch, T0, ZHENGAN, code, log_by, villages};

fn codes(outcomes: &[app_core::sync::protocol::ChangeOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(code).collect()
}

pub async fn replays_store_nothing_twice(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 3);
    let mut changes = Vec::new();
    let mut docs = Vec::new();
    for (i, village) in v.iter().enumerate() {
        let (doc, change) = Doc::create_log(
            &c1,
            &log_by(&w.c1.user, Some(w.team1.id), *village, T0 + i as i64),
        );
        changes.push(change);
        docs.push(doc);
    }
    changes.push(docs[0].edit_log(&c1, |l| l.farmers_served = 30));
    assert_eq!(codes(&env.push(&c1, &changes).await), vec!["stored"; 4]);
    assert_eq!(env.counts().await, (4, 3, 0));
    // The same push again, as after a lost answer.
    assert_eq!(codes(&env.push(&c1, &changes).await), vec!["duplicate"; 4]);
    // A change twice in one push.
    let (_, extra) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v[0], T0 + 10));
    assert_eq!(
        codes(&env.push(&c1, &[extra.clone(), extra.clone()]).await),
        vec!["stored", "duplicate"]
    );
    // A replay from the user's re-enrolled device: the server has it.
    let again = env.enrol(&w.c1).await;
    assert_eq!(codes(&env.push(&again, &[extra]).await), vec!["duplicate"]);
    assert_eq!(env.counts().await, (5, 4, 0));
    // Another device of the user sees each change once.
    let (pulled, _) = env.pull_all(&again).await;
    assert_eq!(pulled.len(), 5);
}

fn push_body(changes: &[(DocId, Vec<u8>)]) -> Vec<u8> {
    protocol::encode(&PushRequest {
        changes: changes
            .iter()
            .map(|(d, b)| WireChange {
                doc: *d,
                bytes: b.clone(),
            })
            .collect(),
    })
    .unwrap()
}

/// Sends a push over a raw socket: the headers and `send` bytes of the
/// body, then closes the connection without reading an answer.
async fn raw_push(env: &Env, token: &str, body: &[u8], send: usize) {
    let mut s = tokio::net::TcpStream::connect(env.handle.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/sync/push HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         ketepai-protocol: 1\r\ncontent-type: application/msgpack\r\ncontent-length: {}\r\n\r\n",
        env.handle.local_addr(),
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..send]).await.unwrap();
    s.flush().await.unwrap();
    s.shutdown().await.unwrap();
    // Wait until the server has closed its side: it has seen the cut.
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink).await;
}

pub async fn a_push_cut_mid_body_stores_nothing(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let changes: Vec<_> = (0..10)
        .map(|i| Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + i)).1)
        .collect();
    let body = push_body(&changes);
    for cut in [1, body.len() / 2, body.len() - 1] {
        raw_push(&env, &c1.token, &body, cut).await;
        assert_eq!(env.counts().await, (0, 0, 0), "a push cut at byte {cut}");
    }
    // The retry goes through whole.
    assert_eq!(codes(&env.push(&c1, &changes).await), vec!["stored"; 10]);
    assert_eq!(env.counts().await.0, 10);

    // Cut after the whole body went out: the push may or may not have
    // committed; the retry acknowledges every change, stored once.
    let more: Vec<_> = (10..20)
        .map(|i| Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + i)).1)
        .collect();
    let body = push_body(&more);
    raw_push(&env, &c1.token, &body, body.len()).await;
    let outcomes = env.push(&c1, &more).await;
    assert!(outcomes.iter().all(|o| o.is_acknowledged()), "{outcomes:?}");
    assert_eq!(env.counts().await, (20, 20, 0));
}

pub async fn undecodable_bytes_are_refused(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let (_, good1) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + 1));
    let (_, good2) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + 2));
    let bad_doc: DocId = log_by(&w.c1.user, Some(w.team1.id), v, T0 + 3).id.into();
    let mut truncated = good2.1.clone();
    truncated.truncate(truncated.len() / 2);
    let outcomes = env
        .push(
            &c1,
            &[
                good1,
                (bad_doc, b"\x85\x6f\x4a\x83 not a change".to_vec()),
                (bad_doc, truncated),
                good2,
            ],
        )
        .await;
    assert_eq!(
        codes(&outcomes),
        vec!["stored", "undecodable", "quarantined", "stored"]
    );
    assert_eq!(env.counts().await, (2, 2, 2));
    // A sync admin sees what was refused: one document, its two changes
    // in the order received, and why neither can be read.
    let admin = env.enrol(&w.admin_zhengan).await;
    let q: app_core::admin::Page<app_core::admin::QuarantinedDoc> = env
        .get(&admin, "/api/v1/admin/quarantine")
        .fetch_json()
        .await;
    assert_eq!(q.items.len(), 1);
    let doc = &q.items[0];
    assert_eq!(doc.doc, bad_doc);
    let q_codes: Vec<&str> = doc.changes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(q_codes, vec!["undecodable", "quarantined"]);
    assert!(doc.changes[0].hash.is_none());
    assert!(
        doc.changes
            .iter()
            .all(|c| c.writes.is_none() && c.undecoded.is_some())
    );
}

pub async fn missing_dependencies_wait(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let (mut doc, create) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    let edit1 = doc.edit_log(&c1, |l| l.farmers_served = 1);
    let edit2 = doc.edit_log(&c1, |l| l.farmers_served = 2);
    assert_eq!(
        codes(&env.push(&c1, std::slice::from_ref(&edit2)).await),
        vec!["missing_deps"]
    );
    assert_eq!(
        codes(&env.push(&c1, &[edit1.clone(), edit2.clone()]).await),
        vec!["missing_deps", "missing_deps"]
    );
    assert_eq!(
        env.counts().await,
        (0, 0, 0),
        "nothing stored, nothing quarantined"
    );
    // Out of order within the push: the dependent waits, the rest goes in.
    assert_eq!(
        codes(
            &env.push(&c1, &[create.clone(), edit2.clone(), edit1.clone()])
                .await
        ),
        vec!["stored", "missing_deps", "stored"]
    );
    assert_eq!(codes(&env.push(&c1, &[edit2]).await), vec!["stored"]);
    assert_eq!(env.counts().await, (3, 1, 0));
    let reader = env.enrol(&w.c2).await;
    let (pulled, _) = env.pull_all(&reader).await;
    let mut copy = app_core::doc::RecordDoc::empty();
    copy.apply(
        pulled
            .iter()
            .map(|c| app_core::doc::decode_change(&c.bytes).unwrap()),
    )
    .unwrap();
    assert!(
        copy.missing_deps().is_empty(),
        "pull order is dependency order"
    );
    assert_eq!(
        copy.read::<app_core::domain::ServiceLog>()
            .unwrap()
            .farmers_served,
        2
    );
}

pub async fn one_bad_change_among_a_hundred(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 20);
    let mut changes = Vec::new();
    for i in 0..100 {
        let author = if i == 57 { &w.c2.user } else { &w.c1.user };
        let log = log_by(author, Some(w.team1.id), v[i % v.len()], T0 + i as i64);
        changes.push(Doc::create_log(&c1, &log).1);
    }
    let outcomes = env.push(&c1, &changes).await;
    let stored = outcomes.iter().filter(|o| code(o) == "stored").count();
    assert_eq!(stored, 99);
    assert_eq!(code(&outcomes[57]), "not_your_record");
    assert_eq!(env.counts().await, (99, 99, 1));

    // The refused document stays quarantined for this device.
    let bad = changes[57].clone();
    assert_eq!(
        codes(&env.push(&c1, std::slice::from_ref(&bad)).await),
        vec!["quarantined"]
    );
    // Out of the admin's county: not shown, not released.
    let elsewhere = env.enrol(&w.admin_wuchuan).await;
    let q: serde_json::Value = env
        .get(&elsewhere, "/api/v1/admin/quarantine")
        .fetch_json()
        .await;
    assert_eq!(q["items"], serde_json::json!([]));
    let release = serde_json::json!({ "device": c1.id, "doc": bad.0.to_string() });
    let resp = env
        .post(&elsewhere, "/api/v1/admin/quarantine/release")
        .json(&release)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // The county's admin releases it: both changes are checked again under
    // today's rules, and the record is still not the device user's.
    let admin = env.enrol(&w.admin_zhengan).await;
    let resp = env
        .post(&admin, "/api/v1/admin/quarantine/release")
        .json(&release)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let released: app_core::admin::Released = resp.json().await.unwrap();
    assert_eq!((released.stored, released.duplicate), (0, 0));
    let still: Vec<&str> = released
        .still_refused
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(still, ["not_your_record", "quarantined"]);
    assert!(released.still_open);
    assert_eq!(codes(&env.push(&c1, &[bad]).await), vec!["quarantined"]);
    // A commissioner has no admin endpoints.
    let resp = env
        .get(&c1, "/api/v1/admin/quarantine")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

/// Pushes are planned outside the write transaction and checked inside it:
/// two devices of one commissioner pushing edits of one record at the same
/// moment must both land in the stored document (a plan made on a snapshot
/// that the other push has since changed would drop one of them, and the
/// next edit, which depends on both, would then wait for a dependency the
/// server claims to hold).
pub async fn concurrent_pushes_to_one_document_both_land(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let tablet = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let (mut on_phone, created) =
        Doc::create_log(&phone, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    env.push(&phone, std::slice::from_ref(&created)).await;
    let mut on_tablet = Doc {
        id: on_phone.id,
        doc: on_phone.doc.clone(),
    };
    for round in 0..12 {
        let a = on_phone.edit_log(&phone, |l| {
            l.description.push_str(&format!("手机{round}。"))
        });
        let b = on_tablet.edit_log(&tablet, |l| l.farmers_served += 1);
        let (pa, pb) = tokio::join!(
            env.push(&phone, std::slice::from_ref(&a)),
            env.push(&tablet, std::slice::from_ref(&b))
        );
        assert_eq!(codes(&pa), ["stored"], "round {round}");
        assert_eq!(codes(&pb), ["stored"], "round {round}");
        // Each device receives the other's edit; the next round's edits
        // depend on both.
        let from = |bytes: &[u8]| app_core::doc::decode_change(bytes).unwrap();
        on_phone.doc.apply([from(&b.1)]).unwrap();
        on_tablet.doc.apply([from(&a.1)]).unwrap();
    }
    // The server's document holds every edit: a change on top of both
    // devices' last edits is stored, not held for missing dependencies.
    let last = on_phone.edit_log(&phone, |l| l.description.push_str("合并。"));
    assert_eq!(codes(&env.push(&phone, &[last]).await), ["stored"]);
    let stored = env.store().document(on_phone.id).await.unwrap().unwrap();
    assert_eq!(stored.changes.len(), 1 + 2 * 12 + 1);
}

/// The document the server holds, as the repair fetch serves it.
async fn served(
    env: &Env,
    device: &crate::harness::Device,
    doc: DocId,
) -> app_core::doc::RecordDoc {
    let page: protocol::PullResponse = env
        .get(device, &format!("/api/v1/sync/docs/{doc}"))
        .fetch_msgpack()
        .await;
    let mut out = app_core::doc::RecordDoc::empty();
    out.apply(
        page.changes
            .iter()
            .map(|c| app_core::doc::decode_change(&c.bytes).unwrap()),
    )
    .unwrap();
    out
}

/// A log whose count two devices of its author set at once holds both
/// values; the team lead approves it and the approval is stored without
/// touching the count (a lead may not write it), the conflict stays; the
/// author resolves it and every value is superseded on the server.
pub async fn a_conflicted_log_is_reviewed_then_resolved(env: Env) {
    use app_core::doc::{DocError, PathSegment};
    use app_core::domain::{
        DecisionId, Resolution, ResolutionId, Role, ServiceLog, Timestamp, Verdict,
    };

    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let tablet = env.enrol(&w.c1).await;
    let lead = env.enrol(&w.lead1).await;
    let village = villages(ZHENGAN, 1)[0];
    let (mut on_phone, created) =
        Doc::create_log(&phone, &log_by(&w.c1.user, Some(w.team1.id), village, T0));
    let mut on_tablet = on_phone.fork();
    let a = on_phone.edit_log(&phone, |l| l.farmers_served = 30);
    let b = on_tablet.edit_log(&tablet, |l| l.farmers_served = 45);
    assert_eq!(codes(&env.push(&phone, &[created, a]).await), ["stored"; 2]);
    assert_eq!(codes(&env.push(&tablet, &[b]).await), ["stored"]);

    let mut on_lead = Doc {
        id: on_phone.id,
        doc: served(&env, &lead, on_phone.id).await,
    };
    assert_eq!(on_lead.doc.conflicts().len(), 1);
    let heads = on_lead.doc.heads_hex();
    let approval = on_lead.edit_log(&lead, |l| {
        l.decide(
            DecisionId::new(Timestamp::from_millis(T0)),
            Verdict::Approved,
            w.lead1.user.id,
            Timestamp::from_millis(T0),
            "",
            heads,
        )
        .unwrap();
    });
    assert_eq!(codes(&env.push(&lead, &[approval]).await), ["stored"]);
    let server = served(&env, &phone, on_phone.id).await;
    assert_eq!(
        server.conflicts().len(),
        1,
        "the approval kept the conflict"
    );

    // The author resolves on the phone: 45, over both values.
    let mut doc = served(&env, &phone, on_phone.id).await;
    let path = [PathSegment::Key("farmers_served".into())];
    let edited = doc
        .resolve::<ServiceLog, (), DocError>(&phone.actor, Timestamp::from_millis(T0), &path, |l| {
            l.farmers_served = 45;
            l.resolutions.push(Resolution {
                id: ResolutionId::new(Timestamp::from_millis(T0)),
                path: "farmers_served".into(),
                chosen: "45".into(),
                superseded: vec!["30".into()],
                by: w.c1.user.id,
                role: Role::Commissioner,
                at: Timestamp::from_millis(T0),
            });
            Ok(())
        })
        .unwrap();
    let resolution = (on_phone.id, edited.change.unwrap().raw_bytes().to_vec());
    assert_eq!(codes(&env.push(&phone, &[resolution]).await), ["stored"]);
    let server = served(&env, &tablet, on_phone.id).await;
    assert!(server.conflicts().is_empty());
    let log: ServiceLog = server.read().unwrap();
    assert_eq!(log.farmers_served, 45);
    assert_eq!(log.resolutions.len(), 1);
    assert_eq!(log.reviews.len(), 1);
}

/// A provincial admin resolving a county's record is audited under the
/// record's county (and province), so the county's own admin sees it in
/// their log, not only the province.
pub async fn a_provincial_admins_write_is_audited_under_the_records_county(env: Env) {
    use app_core::doc::{DocError, PathSegment};
    use app_core::domain::{Resolution, ResolutionId, Role, ServiceLog, Timestamp};
    use sync_server::store::admin::{Area, AuditPage};

    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let tablet = env.enrol(&w.c1).await;
    let admin = env.enrol(&w.admin_guizhou).await;
    let village = villages(ZHENGAN, 1)[0];
    let (mut on_phone, created) =
        Doc::create_log(&phone, &log_by(&w.c1.user, Some(w.team1.id), village, T0));
    let mut on_tablet = on_phone.fork();
    let a = on_phone.edit_log(&phone, |l| l.farmers_served = 30);
    let b = on_tablet.edit_log(&tablet, |l| l.farmers_served = 45);
    assert_eq!(codes(&env.push(&phone, &[created, a]).await), ["stored"; 2]);
    assert_eq!(codes(&env.push(&tablet, &[b]).await), ["stored"]);

    let mut doc = served(&env, &admin, on_phone.id).await;
    let path = [PathSegment::Key("farmers_served".into())];
    let edited = doc
        .resolve::<ServiceLog, (), DocError>(&admin.actor, Timestamp::from_millis(T0), &path, |l| {
            l.farmers_served = 45;
            l.resolutions.push(Resolution {
                id: ResolutionId::new(Timestamp::from_millis(T0)),
                path: "farmers_served".into(),
                chosen: "45".into(),
                superseded: vec!["30".into()],
                by: w.admin_guizhou.user.id,
                role: Role::SyncAdmin,
                at: Timestamp::from_millis(T0),
            });
            Ok(())
        })
        .unwrap();
    let resolution = (on_phone.id, edited.change.unwrap().raw_bytes().to_vec());
    assert_eq!(codes(&env.push(&admin, &[resolution]).await), ["stored"]);

    let county = app_core::domain::CountyCode::parse(ZHENGAN).unwrap();
    let in_county = env
        .store()
        .audit_page(&AuditPage {
            area: Area {
                county: Some(county),
                province: None,
            },
            action: Some("record.admin_write".into()),
            limit: 10,
            ..AuditPage::default()
        })
        .await
        .unwrap();
    assert_eq!(in_county.len(), 1, "the county's admin sees the write");
    let entry = &in_county[0].entry;
    assert_eq!(entry.subject, on_phone.id.to_string());
    assert_eq!(entry.actor, Some(w.admin_guizhou.user.id));
    assert_eq!(entry.county, Some(county));
    assert_eq!(entry.province, Some(county.province()));
}
