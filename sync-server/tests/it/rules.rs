//! The device's record rules on the server: a pushed record that breaks
//! them (a text over its length, a count out of range, a village outside
//! the register the server holds) is refused as `invalid_record` naming
//! the field, quarantined, and stored nowhere; a release checks it again.

use app_core::admin::QuarantineTarget;
use app_core::domain::{ServiceLog, VillageCode};
use app_core::sync::protocol::ChangeOutcome;
use app_core::sync::{EngineOptions, SyncClient};

use crate::harness::{Doc, Env, T0, ZHENGAN, code, log_by, villages};

fn reason(o: &ChangeOutcome) -> &str {
    match o {
        ChangeOutcome::Refused { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub async fn records_breaking_the_device_rules_are_refused(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let log = |n: i64, f: &dyn Fn(&mut ServiceLog)| {
        let mut l = log_by(&w.c1.user, Some(w.team1.id), v, T0 + n);
        f(&mut l);
        Doc::create_log(&c1, &l)
    };
    let (_, long) = log(1, &|l| l.description = "长".repeat(10_001));
    let (_, many) = log(2, &|l| l.farmers_served = 4_000_000_000);
    let (_, nowhere) = log(3, &|l| {
        l.village = VillageCode::parse("520324999999").unwrap()
    });
    let (_, blank) = log(4, &|l| l.industry = String::new());
    let (mut good, created) = log(5, &|l| l.description = "长".repeat(10_000));
    let outcomes = env
        .push(&c1, &[long, many, nowhere, blank.clone(), created])
        .await;
    let codes: Vec<&str> = outcomes.iter().map(code).collect();
    assert_eq!(
        codes,
        [
            "invalid_record",
            "invalid_record",
            "invalid_record",
            "invalid_record",
            "stored"
        ]
    );
    for (o, field) in outcomes
        .iter()
        .zip(["description", "farmers_served", "village", "industry"])
    {
        assert!(reason(o).starts_with(field), "{field}: {o:?}");
    }
    // Only the valid record is stored; the four refusals are kept.
    assert_eq!(env.counts().await, (1, 1, 4));

    // An edit that breaks a rule of a stored record is refused too, and
    // the record stays as it was for everyone.
    let edit = good.edit_log(&c1, |l| l.description.push('长'));
    let out = env.push(&c1, std::slice::from_ref(&edit)).await;
    assert_eq!(code(&out[0]), "invalid_record");
    assert_eq!(env.counts().await, (1, 1, 5));
    let c2 = env.enrol(&w.c2).await;
    let (pulled, _) = env.pull_all(&c2).await;
    assert_eq!(pulled.len(), 1);

    // A release checks the change again under the same rules.
    let admin = env.enrol(&w.admin_zhengan).await;
    let console =
        SyncClient::new(&env.handle.url(), &admin.token, &EngineOptions::default()).unwrap();
    let r = console
        .admin_release(&QuarantineTarget {
            device: c1.id.parse().unwrap(),
            doc: blank.0,
        })
        .await
        .unwrap();
    assert_eq!((r.stored, r.still_open), (0, true), "{r:?}");
    assert_eq!(r.still_refused[0].code, "invalid_record");
    assert_eq!(env.counts().await.0, 1);
}

/// A record stored before the server could check a rule (its village was
/// written while the county's register was not loaded) is not frozen: the
/// lead still approves it. A change that adds a new breakage is refused.
pub async fn a_record_stored_before_a_rule_can_still_be_reviewed(env: Env) {
    use app_core::domain::{DecisionId, Timestamp, Verdict};

    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let lead = env.enrol(&w.lead1).await;
    let hide = |from: &str, to: &str| {
        format!("UPDATE divisions SET level = '{to}' WHERE level = '{from}' AND code = 520324")
    };
    let mut l = log_by(&w.c1.user, Some(w.team1.id), villages(ZHENGAN, 1)[0], T0);
    l.village = VillageCode::parse("520324999999").unwrap();
    env.raw_sql(&hide("county", "hidden")).await;
    let (mut doc, created) = Doc::create_log(&c1, &l);
    assert_eq!(code(&env.push(&c1, &[created]).await[0]), "stored");
    env.raw_sql(&hide("hidden", "county")).await;

    // The lead's approval leaves the village as it was: stored.
    let mut on_lead = doc.fork();
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
    assert_eq!(code(&env.push(&lead, &[approval]).await[0]), "stored");

    // The author's edit that breaks another rule is refused.
    let edit = doc.edit_log(&c1, |l| l.farmers_served = 4_000_000_000);
    let out = env.push(&c1, &[edit]).await;
    assert_eq!(code(&out[0]), "invalid_record");
    assert!(reason(&out[0]).starts_with("farmers_served"), "{out:?}");
}
