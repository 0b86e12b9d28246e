//! The sync admin's console against a real server, through the device's
//! own client (`SyncClient`'s admin methods and the shared wire types of
//! `app_core::admin`): teams and users with one-time passwords, devices
//! with their reported backlog and silence, the quarantine filtered in
//! the query with what each refused change writes, release after a move,
//! discard with the device told, and the audit log with its filters, CSV
//! and append-only table.

use app_core::admin::{
    AuditQuery, ChangeScope, DeviceFlag, DeviceQuery, DeviceState, Discard, MoveUser, NewTeam,
    NewUser, Page, QuarantineQuery, QuarantineState, QuarantineTarget, QuarantinedDoc, UserQuery,
};
use app_core::domain::{CountyCode, DocId, LogStatus, Role, Scope, Timestamp, UserId};
use app_core::sync::protocol::{NoticeKind, Notices, PasswordChange};
use app_core::sync::{EngineOptions, SyncClient, SyncError};

use crate::harness::{
    Account, DAY, Device, Doc, Env, Fetch, T0, WUCHUAN, ZHENGAN, code, log_by, problem, villages,
};

fn console(env: &Env, device: &Device) -> SyncClient {
    SyncClient::new(&env.handle.url(), &device.token, &EngineOptions::default()).unwrap()
}

/// The status and code of a refused call.
fn refused<T: std::fmt::Debug>(r: Result<T, SyncError>) -> (u16, String) {
    match r {
        Err(SyncError::Server { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn zhengan() -> CountyCode {
    CountyCode::parse(ZHENGAN).unwrap()
}

async fn problem_of(resp: reqwest::Response) -> (u16, String) {
    let (status, p) = problem(resp).await;
    (status, p.code)
}

pub async fn users_and_teams(env: Env) {
    let w = env.world.clone();
    let admin_device = env.enrol(&w.admin_zhengan).await;
    let admin = console(&env, &admin_device);

    // A new commissioner: the server makes a one-time password.
    let created = admin
        .admin_create_user(&NewUser {
            username: "lin".into(),
            display_name: "林一".into(),
            role: Role::Commissioner,
            scope: None,
            team: Some(w.team1.id),
        })
        .await
        .unwrap();
    let otp = created.one_time_password.clone();
    assert_eq!(otp.len(), 14, "{otp}");
    assert!(created.user.must_change_password);
    assert_eq!(created.user.county, Some(zhengan()));
    let lin = created.user.user.id;

    // A team led by them: they move to it as its team lead.
    let team = admin
        .admin_create_team(&NewTeam {
            county: zhengan(),
            name: "正安县白茶科技特派团".into(),
            leading_industry: "白茶".into(),
            lead: Some(lin),
        })
        .await
        .unwrap();
    assert_eq!((team.team.lead, team.members), (Some(lin), 1));
    let province = console(&env, &env.enrol(&w.admin_guizhou).await);
    for (by, county, name, code) in [
        (&admin, zhengan(), "  ", "invalid_name"),
        (
            &admin,
            CountyCode::parse("520399").unwrap(),
            "别县团",
            "out_of_scope",
        ),
        (
            &province,
            CountyCode::parse("520399").unwrap(),
            "不存在县团",
            "unknown_county",
        ),
    ] {
        let status = if code == "out_of_scope" { 403 } else { 422 };
        let r = by
            .admin_create_team(&NewTeam {
                county,
                name: name.into(),
                leading_industry: "茶叶".into(),
                lead: None,
            })
            .await;
        assert_eq!(refused(r), (status, code.to_string()), "{name}");
    }
    let view = admin.admin_user(lin).await.unwrap();
    assert_eq!(view.user.role, Role::TeamLead);
    assert_eq!(view.user.team, Some(team.team.id));
    assert_eq!(view.user.scope, Scope::Team(team.team.id));
    assert_eq!(view.team_name.as_deref(), Some("正安县白茶科技特派团"));

    // The one-time password enrols nothing: it sets a new password, once.
    assert_eq!(
        problem_of(env.enrol_raw("lin", &otp).await).await,
        (403, "password_change_required".into())
    );
    let change = |password: &str, new_password: &str| PasswordChange {
        username: "lin".into(),
        password: password.into(),
        new_password: new_password.into(),
    };
    let options = EngineOptions::default();
    let url = env.handle.url();
    for (new, code) in [("short", "weak_password"), (otp.as_str(), "same_password")] {
        let r = SyncClient::change_password(&url, &change(&otp, new), &options).await;
        assert_eq!(refused(r), (422, code.to_string()));
    }
    SyncClient::change_password(&url, &change(&otp, "林的新密码-2026"), &options)
        .await
        .unwrap();
    assert_eq!(
        problem_of(env.enrol_raw("lin", &otp).await).await,
        (401, "bad_credentials".into())
    );
    assert_eq!(env.enrol_raw("lin", "林的新密码-2026").await.status(), 201);
    assert!(!admin.admin_user(lin).await.unwrap().must_change_password);
    let changed = admin
        .admin_audit(&AuditQuery {
            actor: Some(lin),
            action: Some("user.password_change".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(changed.items.len(), 1, "the user's own change is recorded");

    // Bad input is refused with a code and its field, and changes nothing.
    let users_before = env.store().stats().await.unwrap().users;
    let bad = |username: &str, role: Role, scope: Option<Scope>, team| NewUser {
        username: username.into(),
        display_name: "某人".into(),
        role,
        scope,
        team,
    };
    let t1 = Some(w.team1.id);
    for (new, status, code) in [
        (
            bad("has space", Role::Commissioner, None, t1),
            422,
            "invalid_username",
        ),
        (
            bad("c1", Role::Commissioner, None, t1),
            409,
            "username_taken",
        ),
        (
            bad("no-team", Role::Commissioner, None, None),
            422,
            "team_required",
        ),
        (
            bad(
                "own-county",
                Role::Commissioner,
                Some(Scope::County(zhengan())),
                t1,
            ),
            422,
            "invalid_scope",
        ),
        (
            bad(
                "admin-team",
                Role::SyncAdmin,
                Some(Scope::Team(w.team1.id)),
                None,
            ),
            422,
            "invalid_scope",
        ),
    ] {
        let r = admin.admin_create_user(&new).await;
        assert_eq!(refused(r), (status, code.to_string()), "{}", new.username);
    }
    let resp = env
        .post(&admin_device, "/api/v1/admin/users")
        .json(&serde_json::json!({"username": "x y", "display_name": "某", "role": "commissioner", "team": w.team1.id}))
        .send()
        .await
        .unwrap();
    let (_, p) = problem(resp).await;
    assert_eq!(p.field.as_deref(), Some("username"));
    assert_eq!(env.store().stats().await.unwrap().users, users_before);

    // Move a commissioner; then their scope.
    let c2 = w.c2.user.id;
    let moved = admin
        .admin_move_user(c2, &MoveUser { team: team.team.id })
        .await
        .unwrap();
    assert_eq!(
        (moved.user.team, moved.user.scope),
        (Some(team.team.id), Scope::Team(team.team.id))
    );
    let own = admin
        .admin_change_scope(c2, &ChangeScope { scope: Scope::Own })
        .await
        .unwrap();
    assert_eq!(own.user.scope, Scope::Own);
    let r = admin
        .admin_change_scope(
            c2,
            &ChangeScope {
                scope: Scope::Team(w.team1.id),
            },
        )
        .await;
    assert_eq!(refused(r), (422, "invalid_scope".into()), "not their team");

    // Disabled: the account's devices stop syncing, with a clear code.
    let phone = env.enrol(&w.c2).await;
    assert!(!admin.admin_disable_user(c2).await.unwrap().user.active);
    let (status, p) = env.get(&phone, "/api/v1/sync/pull").fetch_problem().await;
    assert_eq!((status, p.code.as_str()), (403, "account_disabled"));
    assert_eq!(
        problem_of(env.enrol_raw("c2", &w.c2.password).await).await,
        (403, "account_disabled".into())
    );
    assert!(admin.admin_enable_user(c2).await.unwrap().user.active);
    assert!(env.get(&phone, "/api/v1/sync/pull").fetch_status().await < 300);
    let r = admin.admin_disable_user(w.admin_zhengan.user.id).await;
    assert_eq!(refused(r), (409, "cannot_disable_self".into()));

    // A reset: the old password stops working, the one-time password
    // only sets a new one; devices already enrolled keep syncing.
    let c1_phone = env.enrol(&w.c1).await;
    let reset = admin.admin_reset_password(w.c1.user.id).await.unwrap();
    assert!(reset.user.must_change_password);
    assert_eq!(
        problem_of(env.enrol_raw("c1", &w.c1.password).await).await,
        (401, "bad_credentials".into())
    );
    assert_eq!(
        problem_of(env.enrol_raw("c1", &reset.one_time_password).await).await,
        (403, "password_change_required".into())
    );
    assert!(env.get(&c1_phone, "/api/v1/sync/pull").fetch_status().await < 300);

    // Lists: the admin's county only, filters in the query, pages by cursor.
    let mut seen = Vec::new();
    let mut q = UserQuery {
        limit: Some(2),
        ..UserQuery::default()
    };
    loop {
        let page = admin.admin_users(&q).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|u| u.user.username));
        match page.next {
            Some(next) => q.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["admin-zhengan", "c-own", "c1", "c2", "lead1", "lin"]);
    let leads = admin
        .admin_users(&UserQuery {
            role: Some(Role::TeamLead),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    let names: Vec<_> = leads
        .items
        .iter()
        .map(|u| u.user.username.as_str())
        .collect();
    assert_eq!(names, ["lead1", "lin"]);
    let by_text = admin
        .admin_users(&UserQuery {
            q: Some("林".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_text.items.len(), 1);
    let members = admin
        .admin_users(&UserQuery {
            team: Some(team.team.id),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(members.items.len(), 2, "lin and c2");
    let r = admin
        .admin_users(&UserQuery {
            cursor: Some(String::new()),
            ..UserQuery::default()
        })
        .await;
    assert!(r.is_ok(), "an empty cursor is the first page");
    let teams = admin.admin_teams(&Default::default()).await.unwrap();
    assert_eq!(teams.items.len(), 2);

    // Every change is in the audit log: who, from which device, before and
    // after.
    let log = admin
        .admin_audit(&AuditQuery {
            action: Some("user.".into()),
            actor: Some(w.admin_zhengan.user.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.password_reset",
            "user.enable",
            "user.disable",
            "user.scope",
            "user.move",
            "user.move",
            "user.create",
        ]
    );
    let admin_device_id = admin_device.id.parse().unwrap();
    assert!(log.items.iter().all(|e| e.device == Some(admin_device_id)));
    let disabled = &log.items[2];
    assert_eq!(disabled.subject, c2.to_string());
    assert_eq!(disabled.before.as_ref().unwrap()["active"], true);
    assert_eq!(disabled.after.as_ref().unwrap()["active"], false);
    let reset_entry = serde_json::to_string(&log.items[0]).unwrap();
    assert!(
        !reset_entry.contains(&reset.one_time_password),
        "never logged"
    );
}

/// A pull carrying an outbox report, as the device engine sends it.
async fn pull_reporting(env: &Env, device: &Device, outbox: u64, oldest_secs: Option<u64>) -> u16 {
    let mut req = env
        .get(device, "/api/v1/sync/pull")
        .header("ketepai-outbox", outbox.to_string())
        .header("ketepai-app-version", "0.1.0");
    if let Some(s) = oldest_secs {
        req = req.header("ketepai-outbox-oldest", s.to_string());
    }
    req.fetch_status().await
}

pub async fn devices_and_their_health(env: Env) {
    let w = env.world.clone();
    let admin_device = env.enrol(&w.admin_zhengan).await;
    let admin = console(&env, &admin_device);
    let quiet = env.enrol(&w.c2).await;
    let phone = env.enrol(&w.c1).await;
    let phone_id = phone.id.parse().unwrap();
    let of = |page: &app_core::admin::Page<app_core::admin::DeviceView>| {
        page.items.iter().find(|d| d.id == phone_id).cloned()
    };
    let listed =
        || async { of(&admin.admin_devices(&DeviceQuery::default()).await.unwrap()).unwrap() };

    // A push reports the outbox as the round found it.
    let v = villages(ZHENGAN, 1)[0];
    let (_, change) = Doc::create_log(&phone, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    let resp = env
        .push_request(&phone, &[change])
        .header("ketepai-outbox", "3")
        .header("ketepai-outbox-oldest", "60")
        .header("ketepai-app-version", "0.1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let d = listed().await;
    assert_eq!(d.app_version.as_deref(), Some("0.1.0"));
    assert_eq!(d.last_push_at, Some(Timestamp::from_millis(T0)));
    let b = d.backlog.unwrap();
    assert_eq!(
        (b.changes, b.oldest_at),
        (3, Some(Timestamp::from_millis(T0 - 60_000)))
    );
    assert!(!d.flags.growing_backlog);

    // Rounds whose pushes do not get through: the outbox grows at three
    // reports in a row.
    for (i, outbox) in [4, 5, 6].into_iter().enumerate() {
        env.clock.advance_millis(60 * 60 * 1000);
        assert!(pull_reporting(&env, &phone, outbox, Some(3600 * (i as u64 + 2))).await < 300);
    }
    let d = listed().await;
    assert_eq!(d.last_pull_at, Some(app_core::Clock::now(&env.clock)));
    assert!(d.flags.growing_backlog, "{d:?}");
    let flagged = admin
        .admin_devices(&DeviceQuery {
            flag: Some(DeviceFlag::Backlog),
            ..DeviceQuery::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = flagged.items.iter().map(|d| d.id).collect();
    assert_eq!(ids, [phone_id]);
    // Once it gets through, the flag goes.
    assert!(pull_reporting(&env, &phone, 0, None).await < 300);
    assert!(!listed().await.flags.growing_backlog);
    // One change waiting three days is a backlog too.
    assert!(pull_reporting(&env, &phone, 1, Some(3 * 24 * 3600)).await < 300);
    assert!(listed().await.flags.growing_backlog);

    // Silent for more than 7 days.
    env.clock.advance_millis(8 * DAY);
    assert!(pull_reporting(&env, &phone, 0, None).await < 300);
    let silent = admin
        .admin_devices(&DeviceQuery {
            flag: Some(DeviceFlag::Silent),
            ..DeviceQuery::default()
        })
        .await
        .unwrap();
    let quiet_id = quiet.id.parse().unwrap();
    let silent_ids: Vec<_> = silent.items.iter().map(|d| d.id).collect();
    assert!(silent_ids.contains(&quiet_id));
    assert!(!silent_ids.contains(&phone_id));

    // Paging covers every device once.
    let mut q = DeviceQuery {
        limit: Some(1),
        ..DeviceQuery::default()
    };
    let mut all = Vec::new();
    loop {
        let page = admin.admin_devices(&q).await.unwrap();
        all.extend(page.items.iter().map(|d| d.id));
        match page.next {
            Some(n) => q.cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(all.len(), 3, "the admin's, the quiet one, the phone");
    let r = admin
        .admin_devices(&DeviceQuery {
            cursor: Some("not-a-cursor".into()),
            ..DeviceQuery::default()
        })
        .await;
    assert_eq!(refused(r), (400, "bad_cursor".into()));

    // Revoked: the device is refused and its user told to enrol it again.
    assert!(admin.admin_revoke_device(phone_id).await.unwrap().revoked);
    assert!(!admin.admin_revoke_device(phone_id).await.unwrap().revoked);
    let (status, p) = env.get(&phone, "/api/v1/sync/pull").fetch_problem().await;
    assert_eq!((status, p.code.as_str()), (401, "token_revoked"));
    let revoked = admin
        .admin_devices(&DeviceQuery {
            state: Some(DeviceState::Revoked),
            ..DeviceQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(revoked.items.len(), 1);
    assert!(!revoked.items[0].flags.silent && !revoked.items[0].flags.growing_backlog);
    let audit = admin
        .admin_audit(&AuditQuery {
            action: Some("device.revoke".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 2, "both revocations are recorded");
    let e = &audit.items[1];
    assert!(e.before.as_ref().unwrap()["revoked_at"].is_null());
    assert!(!e.after.as_ref().unwrap()["revoked_at"].is_null());
}

/// Quarantines `n` documents for `account`'s new device: logs it creates
/// in another's name (`not_your_record`).
async fn quarantine(
    env: &Env,
    account: &Account,
    other: &Account,
    county: &str,
    n: usize,
) -> Device {
    let device = env.enrol(account).await;
    let vs = villages(county, n);
    for (i, v) in vs.into_iter().enumerate() {
        let log = log_by(&other.user, account.user.team, v, T0 + i as i64);
        let (_, change) = Doc::create_log(&device, &log);
        assert_eq!(
            code(&env.push(&device, &[change]).await[0]),
            "not_your_record"
        );
    }
    device
}

pub async fn the_quarantine_is_filtered_in_the_query(env: Env) {
    let w = env.world.clone();
    let zhengan_admin = console(&env, &env.enrol(&w.admin_zhengan).await);
    let guizhou_admin = console(&env, &env.enrol(&w.admin_guizhou).await);
    // Three in 正安, then five newer ones in 务川.
    quarantine(&env, &w.c1, &w.c2, ZHENGAN, 3).await;
    quarantine(&env, &w.c3, &w.lead2, WUCHUAN, 5).await;

    // The county admin's pages are full of 正安 documents, newest first,
    // although the newest refusals of all are 务川's.
    let mut q = QuarantineQuery {
        limit: Some(2),
        ..QuarantineQuery::default()
    };
    let first = zhengan_admin.admin_quarantine(&q).await.unwrap();
    assert_eq!(first.items.len(), 2);
    q.cursor = first.next.clone();
    let second = zhengan_admin.admin_quarantine(&q).await.unwrap();
    assert_eq!((second.items.len(), second.next.clone()), (1, None));
    let docs: Vec<_> = first.items.iter().chain(&second.items).collect();
    assert!(
        docs.iter()
            .all(|d| d.username == "c1" && d.county.is_none())
    );
    assert!(docs.windows(2).all(|p| p[0].last_at >= p[1].last_at));
    let c = &docs[0].changes[0];
    assert_eq!(
        (c.code.as_str(), c.state),
        ("not_your_record", QuarantineState::Open)
    );
    assert_eq!(c.words, "无权修改他人的记录");
    let writes = c.writes.as_ref().unwrap();
    assert!(
        writes
            .iter()
            .any(|f| f.field == "author" && f.after == Some(serde_json::json!(w.c2.user.id)))
    );
    // The console reads the IDs and codes the values mention by name.
    let name = |key: String| docs[0].names.get(&key).cloned();
    assert_eq!(
        name(w.c2.user.id.to_string()),
        Some(w.c2.user.display_name.clone())
    );
    assert_eq!(name(w.team1.id.to_string()), Some(w.team1.name.clone()));

    // The province admin sees both counties; filters run in the query.
    let all = guizhou_admin
        .admin_quarantine(&QuarantineQuery::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 8);
    let of_c3 = guizhou_admin
        .admin_quarantine(&QuarantineQuery {
            user: Some(w.c3.user.id),
            ..QuarantineQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(of_c3.items.len(), 5);
    for (state, n) in [
        (QuarantineState::Open, 8),
        (QuarantineState::Released, 0),
        (QuarantineState::Discarded, 0),
    ] {
        let page = guizhou_admin
            .admin_quarantine(&QuarantineQuery {
                state: Some(state),
                ..QuarantineQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.items.len(), n, "{state:?}");
    }
    let none = guizhou_admin
        .admin_quarantine(&QuarantineQuery {
            since: Some(Timestamp::from_millis(T0 + 1)),
            ..QuarantineQuery::default()
        })
        .await
        .unwrap();
    assert!(none.items.is_empty(), "all were refused at T0");

    // An edit refused on a stored record shows the fields and values it
    // tried to write over the server's copy.
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let (doc, created) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    env.push(&c1, &[created]).await;
    let mate = env.enrol(&w.c2).await;
    let edit = doc.fork().edit_log(&mate, |l| {
        l.farmers_served = 99;
        l.description = "别人改的".into();
    });
    assert_eq!(code(&env.push(&mate, &[edit]).await[0]), "not_your_record");
    let page = zhengan_admin
        .admin_quarantine(&QuarantineQuery {
            doc: Some(doc.id),
            ..QuarantineQuery::default()
        })
        .await
        .unwrap();
    let item = &page.items[0];
    assert_eq!(
        (item.username.as_str(), item.county),
        ("c2", Some(zhengan()))
    );
    let writes = item.changes[0].writes.as_ref().unwrap();
    let fields: Vec<&str> = writes.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["description", "farmers_served"]);
    assert_eq!(writes[1].after, Some(serde_json::json!(99)));
    assert_eq!(writes[1].before, Some(serde_json::json!(12)));

    // Names stop at the area: a log of 正安 made in the name of a user of
    // 务川 leaves that user unnamed for 正安's admin, named for the
    // province's.
    quarantine(&env, &w.c1, &w.c3, ZHENGAN, 1).await;
    let foreign = w.c3.user.id.to_string();
    let mentions = |page: &Page<QuarantinedDoc>| {
        page.items
            .iter()
            .filter(|d| {
                d.changes
                    .iter()
                    .flat_map(|c| c.writes.iter().flatten())
                    .any(|f| f.after == Some(serde_json::json!(foreign)))
            })
            .map(|d| d.names.get(&foreign).cloned())
            .collect::<Vec<_>>()
    };
    let county = zhengan_admin
        .admin_quarantine(&QuarantineQuery::default())
        .await
        .unwrap();
    assert_eq!(mentions(&county), vec![None]);
    let province = guizhou_admin
        .admin_quarantine(&QuarantineQuery::default())
        .await
        .unwrap();
    assert_eq!(
        mentions(&province),
        vec![Some(w.c3.user.display_name.clone())]
    );
}

/// The scenario of the issue: a commissioner filed under the wrong team
/// logs a visit for the team they really work in; the server refuses it
/// and quarantines the record; the admin moves them to the right team and
/// releases the record: the change is checked again under today's rules
/// and stored, the team's lead pulls it, and the device is told. A record
/// that is still wrong after the move stays quarantined, with today's
/// reason.
pub async fn a_change_refused_before_a_move_is_released_after_it(env: Env) {
    let w = env.world.clone();
    let ops = env.handle.server().ops();
    let x = ops
        .add_user(sync_server::ops::NewUser {
            username: "xu".into(),
            display_name: "徐".into(),
            role: Role::Commissioner,
            scope: None,
            team: Some(w.team1.id),
            password: "pw-xu-2026".into(),
        })
        .await
        .unwrap();
    let xu = Account {
        user: x.clone(),
        password: "pw-xu-2026".into(),
    };
    let phone = env.enrol(&xu).await;
    let wuchuan = villages(WUCHUAN, 2);
    // A visit in 务川 for the 务川 team, which Xu really works for.
    let (mut right, created) =
        Doc::create_log(&phone, &log_by(&x, Some(w.team2.id), wuchuan[0], T0));
    assert_eq!(code(&env.push(&phone, &[created]).await[0]), "out_of_scope");
    // An edit made offline afterwards waits behind it.
    let later = right.edit_log(&phone, |l| l.farmers_served = 30);
    assert_eq!(code(&env.push(&phone, &[later]).await[0]), "quarantined");
    // A record that stays wrong: a 务川 visit filed under team 1.
    let (_, wrong) = Doc::create_log(&phone, &log_by(&x, Some(w.team1.id), wuchuan[1], T0 + 1));
    assert_eq!(
        code(&env.push(&phone, std::slice::from_ref(&wrong)).await[0]),
        "out_of_scope"
    );

    let admin_device = env.enrol(&w.admin_guizhou).await;
    let admin = console(&env, &admin_device);
    let phone_id = phone.id.parse().unwrap();
    // Before the move, a release finds it still out of scope.
    let r = admin
        .admin_release(&QuarantineTarget {
            device: phone_id,
            doc: right.id,
        })
        .await
        .unwrap();
    assert_eq!((r.stored, r.still_open), (0, true));
    assert_eq!(r.still_refused[0].code, "out_of_scope");

    // The admin moves Xu to the 务川 team, then releases.
    admin
        .admin_move_user(x.id, &MoveUser { team: w.team2.id })
        .await
        .unwrap();
    let r = admin
        .admin_release(&QuarantineTarget {
            device: phone_id,
            doc: right.id,
        })
        .await
        .unwrap();
    assert_eq!(
        (r.stored, r.duplicate, r.still_open),
        (2, 0, false),
        "{r:?}"
    );
    let r = admin
        .admin_release(&QuarantineTarget {
            device: phone_id,
            doc: wrong.0,
        })
        .await
        .unwrap();
    assert!(r.still_open);
    assert_eq!(r.still_refused[0].code, "out_of_scope");
    assert!(
        r.still_refused[0].reason.contains("team"),
        "{:?}",
        r.still_refused
    );
    let again = admin
        .admin_release(&QuarantineTarget {
            device: phone_id,
            doc: right.id,
        })
        .await;
    assert_eq!(refused(again), (409, "not_quarantined".into()));

    // The 务川 lead pulls the record with the later edit.
    let lead2 = env.enrol(&w.lead2).await;
    let (changes, _) = env.pull_all(&lead2).await;
    assert_eq!(changes.iter().filter(|c| c.doc == right.id).count(), 2);
    // The device is no longer refused for it, and is told.
    let more = right.edit_log(&phone, |l| l.status = LogStatus::Draft);
    assert_eq!(code(&env.push(&phone, &[more]).await[0]), "stored");
    let resp = env.get(&phone, "/api/v1/sync/pull").send().await.unwrap();
    assert_eq!(
        resp.headers()
            .get("ketepai-notices")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let notices: Notices = env.get(&phone, "/api/v1/sync/notices").fetch_json().await;
    let kinds: Vec<_> = notices.notices.iter().map(|n| (n.kind, n.doc)).collect();
    assert_eq!(
        kinds,
        [
            (NoticeKind::Released, right.id),
            (NoticeKind::Released, right.id)
        ]
    );
    // The listing shows the released changes as such.
    let released = admin
        .admin_quarantine(&QuarantineQuery {
            state: Some(QuarantineState::Released),
            ..QuarantineQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(released.items.len(), 1);
    assert_eq!(released.items[0].changes.len(), 2);
    let admin_id = w.admin_guizhou.user.id;
    assert!(
        released.items[0]
            .changes
            .iter()
            .all(|c| c.resolved_by == Some(admin_id))
    );
    let audit = admin
        .admin_audit(&AuditQuery {
            action: Some("quarantine.release".into()),
            subject: Some(right.id.to_string()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit.items.len(),
        2,
        "the release before the move and after it"
    );
}

pub async fn a_discarded_change_is_archived_and_its_device_told(env: Env) {
    let w = env.world.clone();
    let phone = quarantine(&env, &w.c1, &w.c2, ZHENGAN, 1).await;
    let admin = console(&env, &env.enrol(&w.admin_zhengan).await);
    let listed = admin
        .admin_quarantine(&QuarantineQuery::default())
        .await
        .unwrap();
    let doc: DocId = listed.items[0].doc;
    let hash = listed.items[0].changes[0].hash.clone().unwrap();
    let phone_id = phone.id.parse().unwrap();
    let discard = |reason: &str| Discard {
        device: phone_id,
        doc,
        reason: reason.into(),
    };
    assert_eq!(
        refused(admin.admin_discard(&discard("  ")).await),
        (422, "reason_required".into())
    );
    assert_eq!(
        admin
            .admin_discard(&discard("记录作者填错，请重新录入"))
            .await
            .unwrap()
            .discarded,
        1
    );
    assert_eq!(
        refused(admin.admin_discard(&discard("again")).await),
        (409, "not_quarantined".into())
    );
    // Archived, never deleted.
    assert_eq!(env.counts().await.2, 1);
    let archived = admin
        .admin_quarantine(&QuarantineQuery {
            state: Some(QuarantineState::Discarded),
            ..QuarantineQuery::default()
        })
        .await
        .unwrap();
    let c = &archived.items[0].changes[0];
    assert_eq!(
        c.discard_reason.as_deref(),
        Some("记录作者填错，请重新录入")
    );
    assert_eq!(c.resolved_by, Some(w.admin_zhengan.user.id));

    // The device learns of it on its next sync.
    let resp = env.get(&phone, "/api/v1/sync/pull").send().await.unwrap();
    assert_eq!(resp.headers().get("ketepai-notices").unwrap(), "1");
    let notices: Notices = env.get(&phone, "/api/v1/sync/notices").fetch_json().await;
    let n = &notices.notices[0];
    assert_eq!(
        (n.kind, n.doc, n.hash.as_deref()),
        (NoticeKind::Discarded, doc, Some(hash.as_str()))
    );
    assert_eq!(n.reason, "记录作者填错，请重新录入");
    let ack = env
        .post(&phone, "/api/v1/sync/notices/ack")
        .json(&serde_json::json!({ "up_to": n.id }))
        .fetch_status()
        .await;
    assert_eq!(ack, 204);
    let resp = env.get(&phone, "/api/v1/sync/pull").send().await.unwrap();
    assert!(resp.headers().get("ketepai-notices").is_none());
    let notices: Notices = env.get(&phone, "/api/v1/sync/notices").fetch_json().await;
    assert!(notices.notices.is_empty());
    // Only its own device is told.
    let other: Notices = env
        .get(&env.enrol(&w.c1).await, "/api/v1/sync/notices")
        .fetch_json()
        .await;
    assert!(other.notices.is_empty());
}

pub async fn the_audit_log_filters_pages_and_exports(env: Env) {
    let w = env.world.clone();
    let admin_device = env.enrol(&w.admin_zhengan).await;
    let admin = console(&env, &admin_device);
    // Actions to find: a few by the admin, in time.
    for (i, name) in ["=SUM(A1)", "王,五", "赵\"六\""].iter().enumerate() {
        env.clock.advance_millis(1_000);
        admin
            .admin_create_user(&NewUser {
                username: format!("u{i}"),
                display_name: (*name).into(),
                role: Role::Commissioner,
                scope: None,
                team: Some(w.team1.id),
            })
            .await
            .unwrap();
    }
    let by_admin = AuditQuery {
        actor: Some(w.admin_zhengan.user.id),
        action: Some("user.create".into()),
        ..AuditQuery::default()
    };
    let all = admin.admin_audit(&by_admin).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert!(
        all.items.windows(2).all(|p| p[0].id > p[1].id),
        "newest first"
    );
    // Time range.
    let mid = admin
        .admin_audit(&AuditQuery {
            since: Some(Timestamp::from_millis(T0 + 2_000)),
            until: Some(Timestamp::from_millis(T0 + 3_000)),
            ..by_admin.clone()
        })
        .await
        .unwrap();
    assert_eq!(mid.items.len(), 1);
    assert_eq!(
        mid.items[0].after.as_ref().unwrap()["display_name"],
        "王,五"
    );
    // Pages.
    let mut q = AuditQuery {
        limit: Some(2),
        ..by_admin.clone()
    };
    let p1 = admin.admin_audit(&q).await.unwrap();
    q.cursor = p1.next.clone();
    let p2 = admin.admin_audit(&q).await.unwrap();
    assert_eq!(
        (p1.items.len(), p2.items.len(), p2.next.as_deref()),
        (2, 1, None)
    );
    // The subject and the team are named for the console.
    let newest = &all.items[0];
    assert_eq!(
        newest.names.get(&newest.subject).map(String::as_str),
        Some("赵\"六\"")
    );
    assert_eq!(
        newest.names.get(&w.team1.id.to_string()),
        Some(&w.team1.name)
    );
    // Another county's admin sees none of it.
    let other = console(&env, &env.enrol(&w.admin_wuchuan).await);
    assert!(other.admin_audit(&by_admin).await.unwrap().items.is_empty());

    // The CSV: a byte-order mark, a header, one row per entry, Chinese as
    // written, formulas defused, quotes doubled.
    let csv = admin.admin_audit_csv(&by_admin).await.unwrap();
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("id,time,actor,"), "{}", lines[0]);
    assert_eq!(lines.len(), 4);
    assert!(text.contains(r#"赵\""六\"""#), "{text}");
    assert!(text.contains("admin-zhengan"));
    let resp = env
        .get(&admin_device, "/api/v1/admin/audit.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );

    // The log cannot be edited, not even by SQL.
    edit_the_audit_log(&env).await;
    assert_eq!(admin.admin_audit(&by_admin).await.unwrap().items.len(), 3);
}

/// Tries to change and delete audit rows directly in the database: both
/// must fail.
async fn edit_the_audit_log(env: &Env) {
    match &env.config.database_url {
        None => sqlite_edits(&env.config.data_dir.join("server.sqlite")),
        Some(url) => postgres_edits(url).await,
    }
}

#[allow(
    clippy::disallowed_types,
    reason = "the test edits the store's file directly to show the table refuses it"
)]
fn sqlite_edits(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let update = c.execute("UPDATE audit SET action = 'x'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = c.execute("DELETE FROM audit", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[allow(
    clippy::disallowed_methods,
    reason = "the test edits the store's schema directly to show the table refuses it"
)]
async fn postgres_edits(url: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    for sql in [
        "UPDATE audit SET action = 'x'",
        "DELETE FROM audit",
        "TRUNCATE audit",
    ] {
        let e = client.batch_execute(sql).await.unwrap_err();
        let text = e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_default();
        assert!(text.contains("append-only"), "{sql}: {e}");
    }
    drop(client);
    let _ = task.await;
}

/// Unused account IDs stay unknown.
pub async fn an_unknown_user_is_not_found(env: Env) {
    let w = env.world.clone();
    let admin = console(&env, &env.enrol(&w.admin_guizhou).await);
    let nobody: UserId = "0192f000-0000-7000-8000-0000000000ff".parse().unwrap();
    assert_eq!(
        refused(admin.admin_user(nobody).await),
        (404, "not_found".into())
    );
    let resp = env
        .get(&env.enrol(&w.admin_guizhou).await, "/api/v1/admin/users")
        .query(&[("role", "emperor")])
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(resp).await, (400, "bad_request".into()));
}

/// Records with fields to resolve: the area's records whose fields hold
/// concurrent values, each value with the device and person it came from,
/// filtered in the query (county, team, kind, age), paged; a resolution
/// pushed by the admin takes the record off the list.
pub async fn records_with_conflicts_list_each_value_with_its_source(env: Env) {
    use app_core::admin::ConflictListQuery;
    use app_core::doc::{DocError, PathSegment};
    use app_core::domain::{RecordKind, Resolution, ResolutionId, ServiceLog};

    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let tablet = env.enrol(&w.c1).await;
    let village = villages(ZHENGAN, 1)[0];
    let mut docs = Vec::new();
    for n in 0..3 {
        let (mut on_phone, created) = Doc::create_log(
            &phone,
            &log_by(&w.c1.user, Some(w.team1.id), village, T0 + n),
        );
        let mut on_tablet = on_phone.fork();
        let a = on_phone.edit_log(&phone, |l| l.farmers_served = 30);
        let b = on_tablet.edit_log(&tablet, |l| l.farmers_served = 45);
        env.push(&phone, &[created, a]).await;
        env.push(&tablet, &[b]).await;
        docs.push(on_phone.id);
        env.clock.advance_millis(60_000);
    }
    // A record without concurrent values is not listed.
    let (_, calm) = Doc::create_log(
        &phone,
        &log_by(&w.c1.user, Some(w.team1.id), village, T0 + 9),
    );
    env.push(&phone, &[calm]).await;

    let admin_device = env.enrol(&w.admin_zhengan).await;
    let admin = console(&env, &admin_device);
    let all = admin
        .admin_conflicts(&ConflictListQuery::default())
        .await
        .unwrap();
    assert_eq!(
        all.items.iter().map(|r| r.doc).collect::<Vec<_>>(),
        docs,
        "oldest conflict first"
    );
    let first = &all.items[0];
    assert_eq!(first.kind, RecordKind::ServiceLog);
    assert_eq!(
        first.author_name.as_deref(),
        Some(w.c1.user.display_name.as_str())
    );
    assert_eq!(first.team_name.as_deref(), Some(w.team1.name.as_str()));
    assert!(
        first.village_name.is_some(),
        "the register names the village"
    );
    let field = &first.fields[0];
    assert_eq!(field.path, "farmers_served");
    let mut seen: Vec<(serde_json::Value, Option<String>, Option<String>)> = field
        .values
        .iter()
        .map(|v| {
            (
                v.value.clone(),
                v.device.map(|d| d.to_string()),
                v.display_name.clone(),
            )
        })
        .collect();
    seen.sort_by_key(|(v, _, _)| v.to_string());
    let name = Some(w.c1.user.display_name.clone());
    assert_eq!(
        seen,
        [
            (30.into(), Some(phone.id.clone()), name.clone()),
            (45.into(), Some(tablet.id.clone()), name),
        ],
        "each value with the device and person it came from"
    );

    // Paged by cursor; filters in the query.
    let page = admin
        .admin_conflicts(&ConflictListQuery {
            limit: Some(2),
            ..ConflictListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = admin
        .admin_conflicts(&ConflictListQuery {
            limit: Some(2),
            cursor: page.next.clone(),
            ..ConflictListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|r| r.doc).collect::<Vec<_>>(),
        [docs[2]]
    );
    assert_eq!(rest.next, None);
    let older = admin
        .admin_conflicts(&ConflictListQuery {
            before: Some(Timestamp::from_millis(first.since.unwrap().as_millis() + 1)),
            ..ConflictListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(older.items.len(), 1, "only the one waiting longest");
    for (q, n) in [
        (
            ConflictListQuery {
                team: Some(w.team2.id),
                ..Default::default()
            },
            0,
        ),
        (
            ConflictListQuery {
                kind: Some(RecordKind::Consultation),
                ..Default::default()
            },
            0,
        ),
        (
            ConflictListQuery {
                county: Some(zhengan()),
                ..Default::default()
            },
            3,
        ),
        (
            ConflictListQuery {
                county: Some(CountyCode::parse(WUCHUAN).unwrap()),
                ..Default::default()
            },
            0,
        ),
    ] {
        assert_eq!(
            admin.admin_conflicts(&q).await.unwrap().items.len(),
            n,
            "{q:?}"
        );
    }
    let other = console(&env, &env.enrol(&w.admin_wuchuan).await);
    assert!(
        other
            .admin_conflicts(&ConflictListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "another county's admin sees none"
    );
    assert_eq!(
        refused(
            admin
                .admin_conflicts(&ConflictListQuery {
                    cursor: Some("nonsense".into()),
                    ..Default::default()
                })
                .await
        ),
        (400, "bad_cursor".into())
    );

    // The admin resolves the first record: it leaves the list.
    let served: app_core::sync::protocol::PullResponse = env
        .get(&admin_device, &format!("/api/v1/sync/docs/{}", docs[0]))
        .fetch_msgpack()
        .await;
    let mut doc = app_core::doc::RecordDoc::empty();
    doc.apply(
        served
            .changes
            .iter()
            .map(|c| app_core::doc::decode_change(&c.bytes).unwrap()),
    )
    .unwrap();
    let path = [PathSegment::Key("farmers_served".into())];
    let edited = doc
        .resolve::<ServiceLog, (), DocError>(
            &admin_device.actor,
            Timestamp::from_millis(T0),
            &path,
            |l| {
                l.farmers_served = 45;
                l.resolutions.push(Resolution {
                    id: ResolutionId::new(Timestamp::from_millis(T0)),
                    path: "farmers_served".into(),
                    chosen: "45".into(),
                    superseded: vec!["30".into(), "45".into()],
                    by: w.admin_zhengan.user.id,
                    role: Role::SyncAdmin,
                    at: Timestamp::from_millis(T0),
                });
                Ok(())
            },
        )
        .unwrap();
    let change = (docs[0], edited.change.unwrap().raw_bytes().to_vec());
    assert_eq!(code(&env.push(&admin_device, &[change]).await[0]), "stored");
    let left = admin
        .admin_conflicts(&ConflictListQuery::default())
        .await
        .unwrap();
    assert_eq!(
        left.items.iter().map(|r| r.doc).collect::<Vec<_>>(),
        docs[1..]
    );

    // Nobody else lists them.
    for account in [&w.c1, &w.lead1] {
        let who = console(&env, &env.enrol(account).await);
        assert_eq!(
            refused(who.admin_conflicts(&ConflictListQuery::default()).await),
            (403, "forbidden".into())
        );
    }
}
