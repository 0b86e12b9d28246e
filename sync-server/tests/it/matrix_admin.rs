//! The sync admin's authorisation matrix over HTTP, as a table: every
//! admin action on a subject in 正安 (a fresh one per case), by everyone
//! of the world. Commissioners and team leads get `403 forbidden` for
//! every action; each row says what the admins of 正安, 务川, Guizhou and
//! Yunnan get: a success (for a list, whether it shows the subject, or for
//! the conflict list a record of 正安 with concurrent values), `404`
//! for a subject that exists outside their area, `403 out_of_scope` for a
//! request to create or widen something beyond it. After each case the
//! audit log holds exactly one more entry by the caller for a successful
//! change and none for a refusal or a read.

use app_core::domain::{CountyCode, DeviceId, ProvinceCode, Role, Scope, Team, UserId};
use sync_server::ops::NewUser;
use sync_server::store::{Area, AuditPage};

use crate::harness::{Account, Device, Doc, Env, T0, ZHENGAN, code, log_by, villages};

/// What an admin gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exp {
    /// A change succeeds.
    Done,
    /// A list answers, showing the subject or not.
    Sees(bool),
    /// A refusal: status and code.
    No(u16, &'static str),
}

use Exp::*;

const NOT_FOUND: Exp = No(404, "not_found");
const OUT: Exp = No(403, "out_of_scope");

/// What is done, to a fresh subject.
#[derive(Debug, Clone, Copy)]
enum Act {
    ListUsers,
    ListTeams,
    ListDevices,
    ListQuarantine,
    ListAudit,
    AuditCsv,
    ListConflicts,
    GetUser,
    CreateTeam,
    CreateCommissioner,
    CreateCountyAdmin,
    CreateProvincialAdmin,
    MoveWithinCounty,
    MoveToAnotherCounty,
    ChangeScope,
    WidenAdminToProvince,
    Disable,
    Enable,
    ResetPassword,
    Revoke,
    Release,
    Discard,
    TagCounty,
}

impl Act {
    fn changes(self) -> bool {
        !matches!(
            self,
            Act::ListUsers
                | Act::ListTeams
                | Act::ListDevices
                | Act::ListQuarantine
                | Act::ListAudit
                | Act::AuditCsv
                | Act::ListConflicts
                | Act::GetUser
        )
    }
}

/// Rows: the action and what the admins of [正安, 务川, Guizhou, Yunnan]
/// get.
#[rustfmt::skip]
fn rows() -> Vec<(&'static str, Act, [Exp; 4])> {
    use Act::*;
    vec![
        ("list users", ListUsers, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("list teams", ListTeams, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("list devices", ListDevices, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("list the quarantine", ListQuarantine, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("read the audit log", ListAudit, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("export the audit log", AuditCsv, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("list records with conflicts", ListConflicts, [Sees(true), Sees(false), Sees(true), Sees(false)]),
        ("read a user", GetUser, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("create a team in 正安", CreateTeam, [Done, OUT, Done, OUT]),
        ("create a commissioner in a 正安 team", CreateCommissioner, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("create a county admin of 正安", CreateCountyAdmin, [Done, OUT, Done, OUT]),
        ("create a provincial admin of Guizhou", CreateProvincialAdmin, [OUT, OUT, Done, OUT]),
        ("move a user within 正安", MoveWithinCounty, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("move a user from 正安 to 务川", MoveToAnotherCounty, [NOT_FOUND, NOT_FOUND, Done, NOT_FOUND]),
        ("change a user's scope", ChangeScope, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("widen a county admin to the province", WidenAdminToProvince, [OUT, NOT_FOUND, Done, NOT_FOUND]),
        ("disable an account", Disable, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("enable an account", Enable, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("reset a password", ResetPassword, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("revoke a device", Revoke, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("release a quarantined document", Release, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("discard a quarantined document", Discard, [Done, NOT_FOUND, Done, NOT_FOUND]),
        ("tag the county", TagCounty, [Done, NOT_FOUND, Done, NOT_FOUND]),
    ]
}

/// A fresh subject in 正安: a commissioner of team 1 with a device, whose
/// push of someone else's record is quarantined.
struct Subject {
    user: UserId,
    username: String,
    device: DeviceId,
    doc: app_core::domain::DocId,
}

async fn subject(env: &Env, n: usize, disabled: bool) -> Subject {
    let w = &env.world;
    let ops = env.handle.server().ops();
    let username = format!("subject-{n}");
    let password = format!("pw-{username}-2026");
    let user = ops
        .add_user(NewUser {
            username: username.clone(),
            display_name: "受试".into(),
            role: Role::Commissioner,
            scope: None,
            team: Some(w.team1.id),
            password: password.clone(),
        })
        .await
        .unwrap();
    let account = Account {
        user: user.clone(),
        password,
    };
    let device = env.enrol(&account).await;
    let v = villages(ZHENGAN, 1)[0];
    let theirs = log_by(&w.c2.user, Some(w.team1.id), v, T0 + n as i64);
    let (_, change) = Doc::create_log(&device, &theirs);
    let doc = change.0;
    assert_eq!(
        code(&env.push(&device, &[change]).await[0]),
        "not_your_record"
    );
    if disabled {
        let actor = sync_server::ops::Actor::Operator;
        ops.set_active(&actor, user.id, false).await.unwrap();
    }
    Subject {
        user: user.id,
        username,
        device: device.id.parse().unwrap(),
        doc,
    }
}

fn zhengan() -> CountyCode {
    CountyCode::parse(ZHENGAN).unwrap()
}

fn guizhou() -> ProvinceCode {
    ProvinceCode::parse("52").unwrap()
}

impl Act {
    /// The request, and for a list what shows the subject in the answer.
    fn request(
        self,
        env: &Env,
        by: &Device,
        s: &Subject,
        n: usize,
        second_team: &Team,
    ) -> reqwest::RequestBuilder {
        let w = &env.world;
        let user = |path: &str| format!("/api/v1/admin/users/{}/{path}", s.user);
        match self {
            Act::ListUsers => env
                .get(by, "/api/v1/admin/users")
                .query(&[("q", s.username.as_str())]),
            Act::ListTeams => env
                .get(by, "/api/v1/admin/teams")
                .query(&[("county", ZHENGAN)]),
            Act::ListDevices => env
                .get(by, "/api/v1/admin/devices")
                .query(&[("user", s.user.to_string())]),
            Act::ListQuarantine => env
                .get(by, "/api/v1/admin/quarantine")
                .query(&[("user", s.user.to_string())]),
            Act::ListAudit => env
                .get(by, "/api/v1/admin/audit")
                .query(&[("subject", s.user.to_string())]),
            Act::AuditCsv => env
                .get(by, "/api/v1/admin/audit.csv")
                .query(&[("subject", s.user.to_string())]),
            Act::ListConflicts => env
                .get(by, "/api/v1/admin/conflicts")
                .query(&[("county", ZHENGAN)]),
            Act::GetUser => env.get(by, &format!("/api/v1/admin/users/{}", s.user)),
            Act::CreateTeam => env.post(by, "/api/v1/admin/teams").json(&serde_json::json!({
                "county": ZHENGAN, "name": format!("正安县第{n}团"), "leading_industry": "茶叶",
            })),
            Act::CreateCommissioner => env.post(by, "/api/v1/admin/users").json(&serde_json::json!({
                "username": format!("new-c-{n}"), "display_name": "新人", "role": "commissioner",
                "team": w.team1.id,
            })),
            Act::CreateCountyAdmin => env.post(by, "/api/v1/admin/users").json(&serde_json::json!({
                "username": format!("new-ca-{n}"), "display_name": "县管", "role": "sync_admin",
                "scope": Scope::County(zhengan()),
            })),
            Act::CreateProvincialAdmin => env.post(by, "/api/v1/admin/users").json(&serde_json::json!({
                "username": format!("new-pa-{n}"), "display_name": "省管", "role": "sync_admin",
                "scope": Scope::Province(guizhou()),
            })),
            Act::MoveWithinCounty => env
                .post(by, &user("team"))
                .json(&serde_json::json!({ "team": second_team.id })),
            Act::MoveToAnotherCounty => env
                .post(by, &user("team"))
                .json(&serde_json::json!({ "team": w.team2.id })),
            Act::ChangeScope => env
                .post(by, &user("scope"))
                .json(&serde_json::json!({ "scope": Scope::Own })),
            Act::WidenAdminToProvince => env
                .post(by, &format!("/api/v1/admin/users/{}/scope", w.admin_zhengan.user.id))
                .json(&serde_json::json!({ "scope": Scope::Province(guizhou()) })),
            Act::Disable => env.post(by, &user("disable")),
            Act::Enable => env.post(by, &user("enable")),
            Act::ResetPassword => env.post(by, &user("password-reset")),
            Act::Revoke => env.post(by, &format!("/api/v1/admin/devices/{}/revoke", s.device)),
            Act::Release => env
                .post(by, "/api/v1/admin/quarantine/release")
                .json(&serde_json::json!({ "device": s.device, "doc": s.doc })),
            Act::Discard => env
                .post(by, "/api/v1/admin/quarantine/discard")
                .json(&serde_json::json!({ "device": s.device, "doc": s.doc, "reason": "重复提交" })),
            Act::TagCounty => env.put(by, &format!("/api/v1/admin/counties/{ZHENGAN}/tags/designated")),
        }
    }
}

trait Put {
    fn put(&self, device: &Device, path: &str) -> reqwest::RequestBuilder;
}

impl Put for Env {
    fn put(&self, device: &Device, path: &str) -> reqwest::RequestBuilder {
        self.http
            .put(self.url(path))
            .bearer_auth(&device.token)
            .header(crate::harness::PROTOCOL.0, crate::harness::PROTOCOL.1)
    }
}

/// Audit entries by `user`.
async fn audited_by(env: &Env, user: UserId) -> usize {
    env.store()
        .audit_page(&AuditPage {
            area: Area::ALL,
            actor: Some(user),
            limit: 100_000,
            ..AuditPage::default()
        })
        .await
        .unwrap()
        .len()
}

/// What the answer shows: the outcome, compared with the row's.
async fn outcome(act: Act, resp: reqwest::Response, s: &Subject) -> Exp {
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        let (_, p) = crate::harness::problem(resp).await;
        return match (status, p.code.as_str()) {
            (404, "not_found") => NOT_FOUND,
            (403, "out_of_scope") => OUT,
            (403, "forbidden") => No(403, "forbidden"),
            (s, c) => panic!("unexpected refusal {s} {c}"),
        };
    }
    match act {
        Act::AuditCsv => {
            let text = resp.text().await.unwrap();
            Sees(text.contains(&s.user.to_string()))
        }
        Act::ListUsers
        | Act::ListTeams
        | Act::ListDevices
        | Act::ListQuarantine
        | Act::ListAudit
        | Act::ListConflicts => {
            let page: serde_json::Value = resp.json().await.unwrap();
            Sees(!page["items"].as_array().unwrap().is_empty())
        }
        _ => Done,
    }
}

pub async fn admin_actions(env: Env) {
    let w = env.world.clone();
    let ops = env.handle.server().ops();
    let second_team = ops
        .add_team("正安县第二科技特派团", zhengan(), "白茶")
        .await
        .unwrap();
    let people: Vec<(&str, &Account, Option<usize>)> = vec![
        ("commissioner", &w.c1, None),
        ("team lead", &w.lead1, None),
        ("other county's commissioner", &w.c3, None),
        ("other county's lead", &w.lead2, None),
        ("正安 admin", &w.admin_zhengan, Some(0)),
        ("务川 admin", &w.admin_wuchuan, Some(1)),
        ("Guizhou admin", &w.admin_guizhou, Some(2)),
        ("Yunnan admin", &w.admin_yunnan, Some(3)),
    ];
    // A record of 正安 whose count two devices of its author set at once.
    let phone = env.enrol(&w.c1).await;
    let tablet = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let (mut on_phone, created) =
        Doc::create_log(&phone, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    let mut on_tablet = on_phone.fork();
    let a = on_phone.edit_log(&phone, |l| l.farmers_served = 30);
    let b = on_tablet.edit_log(&tablet, |l| l.farmers_served = 45);
    env.push(&phone, &[created, a]).await;
    env.push(&tablet, &[b]).await;
    let mut devices = Vec::new();
    for (_, account, _) in &people {
        devices.push(env.enrol(account).await);
    }
    let mut failures = Vec::new();
    let mut n = 0;
    for (label, act, expected) in rows() {
        for ((who, account, column), device) in people.iter().zip(&devices) {
            n += 1;
            let s = subject(&env, n, matches!(act, Act::Enable)).await;
            let want = column.map_or(No(403, "forbidden"), |c| expected[c]);
            let before = audited_by(&env, account.user.id).await;
            let resp = act
                .request(&env, device, &s, n, &second_team)
                .send()
                .await
                .unwrap();
            let got = outcome(act, resp, &s).await;
            if got != want {
                failures.push(format!("{label} by {who}: expected {want:?}, got {got:?}"));
            }
            let wrote = audited_by(&env, account.user.id).await - before;
            let should = usize::from(act.changes() && want == Done);
            if wrote != should {
                failures.push(format!(
                    "{label} by {who}: {wrote} audit entries, expected {should}"
                ));
            }
            // Put back what a case changed that the next ones rely on.
            if matches!(act, Act::WidenAdminToProvince) && want == Done {
                ops.change_scope(
                    &sync_server::ops::Actor::Operator,
                    w.admin_zhengan.user.id,
                    Scope::County(zhengan()),
                )
                .await
                .unwrap();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "admin matrix failures:\n{}",
        failures.join("\n")
    );
}
