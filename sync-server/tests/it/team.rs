//! The team lead's roster (`GET /api/v1/team/members`) over HTTP, as a
//! table of who asks and what they get: a team lead their own team's
//! members and when each member's devices last synced (a push or a pull
//! the server saw; a revoked device no longer counts); everyone else `403
//! forbidden`. The same device client the tablet uses reads it
//! (`SyncClient::team_members`).

use app_core::domain::{Timestamp, UserId};
use app_core::sync::{EngineOptions, SyncClient};
use app_core::team::TeamRoster;

use crate::harness::{Env, Fetch, T0, World};

/// Who asks, and the sign-in names of the members they get (`None`: 403).
#[rustfmt::skip]
fn cases(w: &World) -> Vec<(&crate::harness::Account, Option<Vec<&'static str>>)> {
    vec![
        (&w.lead1, Some(vec!["c-own", "c1", "c2", "lead1"])),
        (&w.lead2, Some(vec!["c3", "lead2"])),
        (&w.c1, None),
        (&w.c_own, None),
        (&w.c3, None),
        (&w.admin_zhengan, None),
        (&w.admin_guizhou, None),
    ]
}

pub async fn members_and_their_last_sync(env: Env) {
    let w = env.world.clone();
    // 张三 (c1) pulls at T0 + 1 h from one device and pushes nothing; a
    // second device of his pulls at T0 + 2 h and is then revoked; 王芳 (c2)
    // never syncs.
    let c1 = env.enrol(&w.c1).await;
    env.clock.advance_millis(3_600_000);
    env.pull_all(&c1).await;
    let c1_again = env.enrol(&w.c1).await;
    env.clock.advance_millis(3_600_000);
    env.pull_all(&c1_again).await;
    env.enrol(&w.c2).await;

    for (who, expected) in cases(&w) {
        let device = env.enrol(who).await;
        let name = &who.user.username;
        let req = env.get(&device, "/api/v1/team/members");
        match expected {
            None => {
                let (status, problem) = req.fetch_problem().await;
                assert_eq!(
                    (status, problem.code.as_str()),
                    (403, "forbidden"),
                    "{name}"
                );
            }
            Some(names) => {
                let roster: TeamRoster = req.fetch_json().await;
                let got: Vec<&str> = roster.members.iter().map(|m| m.username.as_str()).collect();
                assert_eq!(got, names, "{name}'s team");
                assert_eq!(roster.team, who.user.team.unwrap());
                assert_eq!(roster.at, Timestamp::from_millis(T0 + 7_200_000));
            }
        }
    }

    let lead = env.enrol(&w.lead1).await;
    let roster: TeamRoster = env.get(&lead, "/api/v1/team/members").fetch_json().await;
    let last = |user: UserId| roster.member(user).unwrap().last_sync;
    assert_eq!(
        last(w.c1.user.id),
        Some(Timestamp::from_millis(T0 + 7_200_000))
    );
    assert_eq!(last(w.c2.user.id), None, "王芳 never synced");
    assert_eq!(roster.member(w.c1.user.id).unwrap().display_name, "张三");

    // The second device is revoked: its pull no longer counts.
    let admin = env.enrol(&w.admin_zhengan).await;
    let status = env
        .post(
            &admin,
            &format!("/api/v1/admin/devices/{}/revoke", c1_again.id),
        )
        .fetch_status()
        .await;
    assert_eq!(status, 200);
    let client =
        SyncClient::new(&env.handle.url(), &lead.token, &EngineOptions::default()).unwrap();
    let roster = client.team_members().await.unwrap();
    assert_eq!(
        roster.member(w.c1.user.id).unwrap().last_sync,
        Some(Timestamp::from_millis(T0 + 3_600_000)),
        "only the device that is not revoked"
    );
}
