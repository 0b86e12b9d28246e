//! The sync admin's console (同步管理员控制台) over [`Core`]: each method is a
//! few lines over app-core — a `SyncClient` admin call with the device's
//! own token (the server decides who may do what, within which area, and
//! audits it), or a store operation on behalf of the signed-in principal
//! (conflicts, duplicates: record edits, offline). It also carries what a
//! device is told about its refused changes (notices) and the files the
//! console exports into the data directory's `exports/` folder (the audit
//! log, the area's annual statistics sheet).

use std::path::Path;

use app_core::admin::{
    AuditQuery, AuditView, ChangeScope, ConflictListQuery, CreatedUser, DeviceQuery, DeviceView,
    Discard, Discarded, MoveUser, NewTeam, NewUser, Page, PasswordReset, QuarantineQuery,
    QuarantineTarget, QuarantinedDoc, Released, Revoked, TeamQuery, TeamView, UserQuery, UserView,
};
use app_core::api::{AdminStatsExport, AdminStatsQuery};
use app_core::api::{
    ChangeScopeInput, ConflictDetail, ConflictPage, DeviceRef, Exported, ListSource,
    MarkedDuplicate, MoveUserInput, NoticeView, UserRef,
};
use app_core::domain::{DocId, Scope};
use app_core::stats::assess::{ScoreSheet, builtin_schemes};
use app_core::stats::export::file_stem;
use app_core::stats::{Answer, Period, StatsParams, StatsSubject};
use app_core::sync::{SyncClient, SyncError};
use app_core::team::{ExportFormat, Exported as StatsExported};

use crate::core::Core;
use crate::error::CommandError;

type Result<T, E = CommandError> = std::result::Result<T, E>;

/// The folder under the data directory where exports are written.
pub const EXPORTS_DIR: &str = "exports";

impl Core {
    /// A client for the admin endpoints, with this device's token; only a
    /// signed-in user may use it.
    async fn admin_client(&self) -> Result<SyncClient> {
        self.principal()?;
        let enrolment = self.stored_enrolment()?.ok_or(CommandError::NotEnrolled)?;
        Ok(SyncClient::new(
            &enrolment.server,
            &enrolment.token,
            self.engine_options(),
        )?)
    }

    // --- Teams and users ------------------------------------------------

    /// Teams of the area.
    pub async fn admin_teams(&self, query: &TeamQuery) -> Result<Page<TeamView>> {
        Ok(self.admin_client().await?.admin_teams(query).await?)
    }

    /// Creates a team.
    pub async fn admin_create_team(&self, team: &NewTeam) -> Result<TeamView> {
        Ok(self.admin_client().await?.admin_create_team(team).await?)
    }

    /// Users of the area.
    pub async fn admin_users(&self, query: &UserQuery) -> Result<Page<UserView>> {
        Ok(self.admin_client().await?.admin_users(query).await?)
    }

    /// Creates an account; the answer holds its one-time password.
    pub async fn admin_create_user(&self, user: &NewUser) -> Result<CreatedUser> {
        Ok(self.admin_client().await?.admin_create_user(user).await?)
    }

    /// Moves a user to another team.
    pub async fn admin_move_user(&self, input: &MoveUserInput) -> Result<UserView> {
        let to = MoveUser { team: input.team };
        Ok(self
            .admin_client()
            .await?
            .admin_move_user(input.id, &to)
            .await?)
    }

    /// Changes how far a user reads.
    pub async fn admin_change_scope(&self, input: &ChangeScopeInput) -> Result<UserView> {
        let scope = ChangeScope { scope: input.scope };
        Ok(self
            .admin_client()
            .await?
            .admin_change_scope(input.id, &scope)
            .await?)
    }

    /// Disables (`active` false) or enables an account.
    pub async fn admin_set_active(&self, user: &UserRef, active: bool) -> Result<UserView> {
        let client = self.admin_client().await?;
        Ok(if active {
            client.admin_enable_user(user.id).await?
        } else {
            client.admin_disable_user(user.id).await?
        })
    }

    /// Resets a password; the answer holds the one-time password.
    pub async fn admin_reset_password(&self, user: &UserRef) -> Result<PasswordReset> {
        Ok(self
            .admin_client()
            .await?
            .admin_reset_password(user.id)
            .await?)
    }

    // --- Devices, quarantine, audit ---------------------------------------

    /// Devices of the area with their sync health.
    pub async fn admin_devices(&self, query: &DeviceQuery) -> Result<Page<DeviceView>> {
        Ok(self.admin_client().await?.admin_devices(query).await?)
    }

    /// Revokes a device.
    pub async fn admin_revoke_device(&self, device: &DeviceRef) -> Result<Revoked> {
        Ok(self
            .admin_client()
            .await?
            .admin_revoke_device(device.id)
            .await?)
    }

    /// Quarantined documents with their refused changes, decoded.
    pub async fn admin_quarantine(&self, query: &QuarantineQuery) -> Result<Page<QuarantinedDoc>> {
        Ok(self.admin_client().await?.admin_quarantine(query).await?)
    }

    /// Checks a document's refused changes again under today's rules.
    pub async fn admin_release(&self, target: &QuarantineTarget) -> Result<Released> {
        Ok(self.admin_client().await?.admin_release(target).await?)
    }

    /// Discards a document's refused changes with a reason.
    pub async fn admin_discard(&self, discard: &Discard) -> Result<Discarded> {
        Ok(self.admin_client().await?.admin_discard(discard).await?)
    }

    /// A page of the audit log.
    pub async fn admin_audit(&self, query: &AuditQuery) -> Result<Page<AuditView>> {
        Ok(self.admin_client().await?.admin_audit(query).await?)
    }

    /// Writes the audit entries `query` matches as a CSV file (as the
    /// server makes it: UTF-8 with a byte-order mark) into `exports`,
    /// named by the time (China time), and says where.
    pub async fn admin_export_audit(&self, query: &AuditQuery, exports: &Path) -> Result<Exported> {
        let (bytes, truncated) = self
            .admin_client()
            .await?
            .admin_audit_csv_file(query)
            .await?;
        let name = format!("audit-{}.csv", self.file_stamp());
        let path = write_export(exports, &name, &bytes)?;
        Ok(Exported {
            path,
            bytes: bytes.len() as u64,
            truncated,
        })
    }

    /// The time by the core's clock for a file name: `20261129-090000`.
    pub fn file_stamp(&self) -> String {
        self.store()
            .clock()
            .now()
            .to_china()
            .map(|t| t.format("%Y%m%d-%H%M%S").to_string())
            .unwrap_or_else(|| "export".into())
    }

    // --- Statistics (统计), from the server ------------------------------------

    /// Whose figures and with which parameters: the query's subject, or the
    /// area the admin's scope holds (a county, a province).
    fn stats_question(&self, query: &AdminStatsQuery) -> Result<(StatsSubject, StatsParams)> {
        let me = self.principal()?;
        let subject = query.subject.unwrap_or(match me.scope {
            Scope::County(c) => StatsSubject::County(c),
            Scope::Province(p) => StatsSubject::Province(p),
            Scope::Team(t) => StatsSubject::Team(t),
            Scope::Own => StatsSubject::Commissioner(me.user),
        });
        let params = StatsParams {
            period: Period::new(query.from, query.to),
            tags: query.tags.clone(),
            divisions_only: false,
            scheme: query.scheme.clone(),
        };
        Ok((subject, params))
    }

    /// The figures of the area (or of a county, team or commissioner in
    /// it) for a period: every level's rows, as the server computes them.
    pub async fn admin_stats_report(&self, query: &AdminStatsQuery) -> Result<Answer> {
        let (subject, params) = self.stats_question(query)?;
        Ok(self
            .admin_client()
            .await?
            .stats_report(&subject, &params)
            .await?)
    }

    /// The scores of the area's commissioners under the query's scheme, or
    /// under each scheme the app carries when it names none.
    pub async fn admin_stats_scores(&self, query: &AdminStatsQuery) -> Result<Vec<ScoreSheet>> {
        let (subject, mut params) = self.stats_question(query)?;
        let schemes = match &query.scheme {
            Some(id) => vec![id.clone()],
            None => builtin_schemes().into_iter().map(|s| s.id).collect(),
        };
        let client = self.admin_client().await?;
        let mut sheets = Vec::with_capacity(schemes.len());
        for id in schemes {
            params.scheme = Some(id);
            sheets.push(client.stats_scores(&subject, &params).await?);
        }
        Ok(sheets)
    }

    /// Writes the annual sheet (年度统计表) of the question into `exports`,
    /// as the server makes it: XLSX, the whole workbook (with the scores
    /// sheet when the query names a scheme); CSV, the annual sheet and the
    /// villages not yet covered (and the scores), one file each. Says
    /// which files.
    pub async fn admin_export_stats(
        &self,
        export: &AdminStatsExport,
        exports: &Path,
    ) -> Result<StatsExported> {
        let (subject, params) = self.stats_question(&export.query)?;
        let client = self.admin_client().await?;
        let stem = format!(
            "统计-{}-{}-{}",
            subject.path().replace('/', "-"),
            params.period.from.format("%Y%m%d"),
            params.period.to.format("%Y%m%d"),
        );
        let sheets: Vec<(&str, &str)> = match export.format {
            ExportFormat::Xlsx => vec![("workbook.xlsx", "年度统计.xlsx")],
            ExportFormat::Csv => {
                let mut s = vec![
                    ("annual.csv", "年度统计.csv"),
                    ("uncovered.csv", "未覆盖行政村.csv"),
                ];
                if params.scheme.is_some() {
                    s.push(("scores.csv", "考核得分.csv"));
                }
                s
            }
        };
        let mut files = Vec::with_capacity(sheets.len());
        for (file, suffix) in sheets {
            let bytes = client.stats_export(&subject, &params, file).await?;
            let name = format!("{}-{suffix}", file_stem(&stem));
            files.push(write_export(exports, &name, &bytes)?);
        }
        Ok(StatsExported {
            dir: exports.display().to_string(),
            files,
        })
    }

    // --- Conflicts and duplicates (record edits, offline) -------------------

    /// Records of the area with fields to resolve, from the server (with
    /// who wrote each value on which device). Offline the interface lists
    /// this device's records instead (`list_conflicts`).
    pub async fn admin_conflicts(&self, query: &ConflictListQuery) -> Result<ConflictPage> {
        let page = self.admin_client().await?.admin_conflicts(query).await?;
        Ok(ConflictPage {
            source: ListSource::Server,
            items: page.items,
            next: page.next,
        })
    }

    /// Opens a record with fields to resolve: fetched from the server first
    /// when it can be reached (a provincial admin's device does not hold
    /// every record), then read from this device's store, where the
    /// resolution is written as an ordinary change.
    pub async fn admin_open_conflict(&self, id: DocId) -> Result<ConflictDetail> {
        let me = self.principal()?;
        let fetched = match self.engine().fetch_document(id).await {
            Ok(fetched) => fetched,
            // Offline: this device's copy, which the detail says.
            Err(SyncError::Network(_) | SyncError::Protocol(_)) => false,
            Err(e) => return Err(e.into()),
        };
        let mut detail = self.store().conflict_detail_as(&me, id)?;
        detail.fetched = fetched;
        Ok(detail)
    }

    /// Records on this device marked as duplicates whose mark the user may
    /// clear.
    pub fn admin_marked_duplicates(&self) -> Result<Vec<MarkedDuplicate>> {
        let me = self.principal()?;
        Ok(self.store().marked_duplicates_as(&me, 200, 0)?)
    }

    // --- Notices on this device ------------------------------------------------

    /// What sync admins decided about this device's refused changes, newest
    /// first, each with its record and the edits lost with a discard.
    pub fn notices(&self) -> Result<Vec<NoticeView>> {
        let notices = self.engine().notices()?;
        Ok(self.store().notice_views(notices)?)
    }

    /// Forgets a notice the user has read.
    pub fn dismiss_notice(&self, id: i64) -> Result<Vec<NoticeView>> {
        self.engine().dismiss_notice(id)?;
        self.notices()
    }
}

/// Writes `bytes` as `dir/name` through a temporary file
/// (`app_core::stats::export::write_file`); returns the path as text.
pub fn write_export(dir: &Path, name: &str, bytes: &[u8]) -> Result<String> {
    let path = app_core::stats::export::write_file(dir, name, bytes)?;
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CommandError::DataDirNotUtf8(path.clone()))
}

#[cfg(test)]
mod tests {
    use app_core::api::EnrolInput;
    use app_core::clock::SystemClock;
    use app_core::domain::Role;
    use app_core::sync::EngineOptions;

    use super::*;

    /// A real server on loopback over a temporary directory, with the
    /// demo county's accounts.
    struct Loopback {
        dir: tempfile::TempDir,
        server: sync_server::ServerHandle,
        url: String,
    }

    impl Loopback {
        async fn demo() -> Loopback {
            let dir = tempfile::tempdir().unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let config = sync_server::Config::with_data_dir(dir.path().join("server"));
            let server = sync_server::launch(config, listener).await.unwrap();
            server.server().ops().demo_accounts().await.unwrap();
            let url = server.url();
            Loopback { dir, server, url }
        }
    }

    /// A device's core with its store in `dir`.
    fn open_core(dir: &std::path::Path, name: &str) -> Core {
        Core::open(
            &dir.join(name),
            SystemClock::shared(),
            EngineOptions::default(),
        )
        .unwrap()
    }

    fn code(e: CommandError) -> String {
        e.to_ipc().code
    }

    fn enrol_input(server: &str, username: &str, password: &str) -> EnrolInput {
        EnrolInput {
            server: server.into(),
            username: username.into(),
            password: password.into(),
            device_name: String::new(),
            new_password: None,
        }
    }

    /// With a real server on loopback: an admin's device creates an account
    /// through the console; the new user's device, given the one-time
    /// password, is asked for a new one, sets it, enrols and signs in with
    /// it offline; a commissioner's token is refused the console; the audit
    /// log shows it all and exports as CSV.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_one_time_password_sets_a_new_one_and_the_console_runs_on_the_devices_token() {
        let Loopback { dir, server, url } = Loopback::demo().await;
        let open = |name: &str| open_core(dir.path(), name);

        let admin = open("admin.sqlite");
        admin
            .enrol(
                enrol_input(&url, "zhengan-admin", "demo-admin-520324"),
                "linux",
            )
            .await
            .unwrap();
        let teams = admin.admin_teams(&TeamQuery::default()).await.unwrap();
        let team = teams.items[0].team.id;
        let created = admin
            .admin_create_user(&NewUser {
                username: "zhengan-li".into(),
                display_name: "李四".into(),
                role: Role::Commissioner,
                scope: None,
                team: Some(team),
            })
            .await
            .unwrap();
        assert!(created.user.must_change_password);
        let otp = created.one_time_password;

        let field = open("field.sqlite");
        let first = enrol_input(&url, "zhengan-li", &otp);
        let asked = field.enrol(first.clone(), "android").await.unwrap_err();
        assert_eq!(code(asked), "sync.password_change_required");
        assert!(
            field.session_state().unwrap().profile.is_none(),
            "nothing saved"
        );
        let weak = EnrolInput {
            new_password: Some("短".into()),
            ..first.clone()
        };
        assert_eq!(
            code(field.enrol(weak, "android").await.unwrap_err()),
            "sync.weak_password"
        );
        let new = EnrolInput {
            new_password: Some("新的密码-2026".into()),
            ..first
        };
        let session = field.enrol(new, "android").await.unwrap();
        assert!(session.signed_in);
        assert_eq!(session.profile.unwrap().display_name, "李四");
        field.sign_out().unwrap();
        assert_eq!(
            code(field.sign_in(&otp).unwrap_err()),
            "session.wrong_password"
        );
        assert!(field.sign_in("新的密码-2026").unwrap().signed_in);

        // The console is the server's to refuse: a commissioner's token.
        assert_eq!(
            code(field.admin_users(&UserQuery::default()).await.unwrap_err()),
            "sync.forbidden"
        );

        let audit = admin.admin_audit(&AuditQuery::default()).await.unwrap();
        let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
        for action in ["user.create", "user.password_change", "device.enrol"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        let exports = dir.path().join(EXPORTS_DIR);
        let exported = admin
            .admin_export_audit(&AuditQuery::default(), &exports)
            .await
            .unwrap();
        let csv = std::fs::read(&exported.path).unwrap();
        assert!(
            csv.starts_with(b"\xEF\xBB\xBF"),
            "a byte-order mark for spreadsheets"
        );
        assert!(String::from_utf8_lossy(&csv).contains("user.password_change"));
        assert_eq!(exported.bytes, csv.len() as u64);
        assert!(!exported.truncated);

        // Offline, the console says so with the network's code.
        server.shutdown().await.unwrap();
        assert_eq!(
            code(
                admin
                    .admin_devices(&DeviceQuery::default())
                    .await
                    .unwrap_err()
            ),
            "sync.network"
        );
    }

    /// With a real server on loopback: a commissioner's log reaches the
    /// server through the device's sync; the admin's console then shows the
    /// county's figures exactly as the server's report gives them (and as
    /// the commissioner's own device counts them), scores under each
    /// carried scheme, and writes the annual sheet as an XLSX that opens
    /// with the same numbers and as CSV files; unreachable, it says so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_consoles_statistics_are_the_servers_and_the_sheet_opens() {
        use app_core::api::SaveLogInput;
        use app_core::domain::ServiceLogInput;
        use app_core::stats::Figure;
        use app_core::stats::sheet::group_header;
        use calamine::{Data, Reader as _};

        let Loopback { dir, server, url } = Loopback::demo().await;
        let open = |name: &str| open_core(dir.path(), name);
        let admin = open("admin.sqlite");
        admin
            .enrol(
                enrol_input(&url, "zhengan-admin", "demo-admin-520324"),
                "linux",
            )
            .await
            .unwrap();
        let query = AdminStatsQuery {
            from: "2026-01-01".parse().unwrap(),
            to: "2026-12-31".parse().unwrap(),
            subject: None,
            tags: Vec::new(),
            scheme: None,
        };
        let before = admin.admin_stats_report(&query).await.unwrap();
        assert_eq!(before.subject, "county:520324", "the admin's own county");
        assert_eq!(before.report.total.visits, 0);
        let village = before.report.uncovered_villages[0];
        let villages = before.report.total.register_villages.unwrap();
        assert!(villages > 1, "the register's villages: {villages}");

        let field = open("field.sqlite");
        field
            .enrol(
                enrol_input(&url, "zhengan-zhang", "demo-zhang-520324"),
                "android",
            )
            .await
            .unwrap();
        field
            .save_service_log(&SaveLogInput {
                input: ServiceLogInput {
                    date: "2026-11-29".into(),
                    start_time: Some("09:00".into()),
                    village: village.to_string(),
                    activity: "technical_guidance".into(),
                    industry: "茶叶".into(),
                    farmers_served: 12,
                    description: "茶园秋冬管理：修剪、施基肥".into(),
                    ..ServiceLogInput::default()
                },
                ..SaveLogInput::default()
            })
            .unwrap();
        let sent = field.engine().sync_once().await.unwrap();
        assert_eq!(sent.refused, 0, "{sent:?}");

        let answer = admin.admin_stats_report(&query).await.unwrap();
        // What the server itself answers for the admin's token.
        let enrolment = admin.stored_enrolment().unwrap().unwrap();
        let direct = SyncClient::new(&url, &enrolment.token, &EngineOptions::default())
            .unwrap()
            .stats_report(
                &StatsSubject::County("520324".parse().unwrap()),
                &StatsParams::new(Period::new(query.from, query.to)),
            )
            .await
            .unwrap();
        assert_eq!(answer, direct);
        let total = &answer.report.total;
        assert_eq!((total.visits, total.service_days), (1, 1));
        assert_eq!(total.farmers_served, 12);
        assert_eq!(total.register_villages_covered, Some(1));
        assert_eq!(total.register_villages, Some(villages));
        assert_eq!(answer.report.commissioners.len(), 1);
        let zhang = answer.report.commissioners[0].key;
        assert_eq!(
            answer.names.users.get(&zhang).map(String::as_str),
            Some("张三")
        );
        assert_eq!(answer.report.teams.len(), 1);
        assert!(!answer.report.uncovered_villages.contains(&village));
        // The commissioner's own device counts the same.
        let mine = field
            .my_stats(&app_core::api::Period {
                from: query.from,
                to: query.to,
            })
            .unwrap();
        assert_eq!(
            (mine.visits, mine.service_days, mine.farmers_served),
            (total.visits, total.service_days, total.farmers_served)
        );

        let sheets = admin.admin_stats_scores(&query).await.unwrap();
        let ids: Vec<&str> = sheets.iter().map(|s| s.scheme_id.as_str()).collect();
        assert_eq!(ids, ["seed-2021", "provincial-points"]);
        for sheet in &sheets {
            let row = sheet.scores.iter().find(|s| s.commissioner == zhang);
            assert!(row.is_some_and(|r| r.total > 0.0), "{sheet:?}");
        }
        let chosen = AdminStatsQuery {
            scheme: Some("provincial-points".into()),
            ..query.clone()
        };
        let one = admin.admin_stats_scores(&chosen).await.unwrap();
        assert_eq!(one, vec![sheets[1].clone()]);

        // The annual sheet, as XLSX: it opens, and the county's row holds
        // the report's figures.
        let exports = dir.path().join(EXPORTS_DIR);
        let xlsx = admin
            .admin_export_stats(
                &AdminStatsExport {
                    query: chosen.clone(),
                    format: ExportFormat::Xlsx,
                },
                &exports,
            )
            .await
            .unwrap();
        assert_eq!(xlsx.files.len(), 1);
        assert!(xlsx.files[0].ends_with(".xlsx"), "{:?}", xlsx.files);
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx.files[0]).unwrap();
        assert!(book.sheet_names().contains(&"考核得分".to_owned()));
        // The scores sheet is the chosen scheme's (the second carried, not
        // the first): its indicators' columns and its total for 张三.
        let scores_sheet = |book: &mut calamine::Xlsx<_>| {
            let range = book.worksheet_range("考核得分").unwrap();
            range.rows().map(|r| r.to_vec()).collect::<Vec<Vec<Data>>>()
        };
        let headers = |sheet: &app_core::stats::assess::ScoreSheet| {
            let mut h = vec!["排名".to_owned(), "特派员".into(), "用户编号".into()];
            for (_, name) in &sheet.indicators {
                h.push(format!("{name}（数值）"));
                h.push(format!("{name}（得分）"));
            }
            h.push("总分".into());
            h.into_iter().map(Data::String).collect::<Vec<_>>()
        };
        assert_ne!(headers(&sheets[0]), headers(&sheets[1]), "two schemes");
        let rows = scores_sheet(&mut book);
        assert_eq!(rows[0], headers(&sheets[1]), "the chosen scheme's columns");
        let zhang_total = sheets[1]
            .scores
            .iter()
            .find(|s| s.commissioner == zhang)
            .unwrap()
            .total;
        let row = rows
            .iter()
            .find(|r| r.get(1) == Some(&Data::String("张三".into())))
            .expect("张三's scores");
        assert_eq!(row.last(), Some(&Data::Float(zhang_total)));
        let annual = book.worksheet_range("年度统计").unwrap();
        let rows: Vec<&[Data]> = annual.rows().collect();
        let col = |figure: Figure| {
            rows[0]
                .iter()
                .position(|c| *c == Data::String(group_header(figure)))
                .unwrap_or_else(|| panic!("a column for {figure:?}"))
        };
        let county = rows
            .iter()
            .find(|r| r.get(1) == Some(&Data::String("520324".into())))
            .expect("the county's row");
        let county_figures = answer.report.county("520324".parse().unwrap()).unwrap();
        for figure in [
            Figure::Visits,
            Figure::FarmersServed,
            Figure::RegisterVillagesCovered,
            Figure::RegisterVillages,
        ] {
            let want = figure.raw(county_figures).unwrap();
            assert_eq!(county[col(figure)], Data::Float(want), "{figure:?}");
        }
        let share = figure_share(county_figures);
        assert_eq!(
            county[col(Figure::VillageCoverage)],
            Data::Float(share),
            "the share of villages covered"
        );

        // As CSV: the annual sheet, the villages not yet covered, the scores.
        let csv = admin
            .admin_export_stats(
                &AdminStatsExport {
                    query: chosen,
                    format: ExportFormat::Csv,
                },
                &exports,
            )
            .await
            .unwrap();
        assert_eq!(csv.files.len(), 3, "{:?}", csv.files);
        for file in &csv.files {
            let bytes = std::fs::read(file).unwrap();
            assert!(
                bytes.starts_with(b"\xEF\xBB\xBF"),
                "{file}: a byte-order mark"
            );
        }
        let annual = std::fs::read_to_string(&csv.files[0]).unwrap();
        assert!(annual.contains("正安县"), "{annual}");

        // Choosing the other scheme changes the sheet.
        let seed = admin
            .admin_export_stats(
                &AdminStatsExport {
                    query: AdminStatsQuery {
                        scheme: Some("seed-2021".into()),
                        ..query.clone()
                    },
                    format: ExportFormat::Xlsx,
                },
                &exports,
            )
            .await
            .unwrap();
        let mut seed_book: calamine::Xlsx<_> = calamine::open_workbook(&seed.files[0]).unwrap();
        assert_eq!(scores_sheet(&mut seed_book)[0], headers(&sheets[0]));

        // Unreachable: the console's statistics say so with the network's code.
        server.shutdown().await.unwrap();
        assert_eq!(
            code(admin.admin_stats_report(&query).await.unwrap_err()),
            "sync.network"
        );
    }

    fn figure_share(f: &app_core::stats::Figures) -> f64 {
        f64::from(f.register_villages_covered.unwrap()) / f64::from(f.register_villages.unwrap())
    }

    #[test]
    fn an_export_is_written_whole_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let exports = dir.path().join(EXPORTS_DIR);
        let path = write_export(
            &exports,
            "audit-20261129-090000.csv",
            b"\xEF\xBB\xBFid\n1\n",
        )
        .unwrap();
        assert!(
            path.ends_with("exports/audit-20261129-090000.csv"),
            "{path}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"\xEF\xBB\xBFid\n1\n");
        let names: Vec<_> = std::fs::read_dir(&exports)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no partial file left: {names:?}");
    }
}
