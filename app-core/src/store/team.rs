//! The team lead's tablet: the team dashboard (团队看板), the team's
//! assessment scores and annual sheet, the roster fetched from the server
//! (kept for offline use), and the full photos of the review queue that
//! are not on the device yet (for the engine's background prefetch).
//!
//! Every figure comes from the one engine ([`crate::stats`]) fed from the
//! projection tables by [`Store::read_facts`]; the rules of the dashboard
//! that are not figures (silence, waiting too long, the chart's buckets,
//! coverage per township) are [`crate::team`]'s.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rusqlite::params;

use super::stats::Fact;
use super::{Result, Store, StoreError};
use crate::domain::{ConsultationId, CountyCode, PhotoHash, Role, TeamId, Timestamp, UserId};
use crate::scope::Principal;
use crate::stats::assess::builtin_schemes;
use crate::stats::sheet::{Names, Table, annual_workbook};
use crate::stats::{Filter, Levels, Period, Report, ReportBuilder, StatsRequest};
use crate::team::{
    self, Coverage, DashboardQuery, MemberRow, TeamDashboard, TeamRoster, TeamScores,
    WaitingConsultation,
};

/// Meta key of the last roster fetched from the server (JSON).
pub const META_ROSTER: &str = "team.roster";

fn blob_id<T>(row: &rusqlite::Row<'_>, i: usize, f: fn([u8; 16]) -> T) -> rusqlite::Result<T> {
    let bytes: Vec<u8> = row.get(i)?;
    let arr: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Blob,
            format!("id of {} bytes", bytes.len()).into(),
        )
    })?;
    Ok(f(arr))
}

/// The team of a lead, or why not: the dashboard, scores and sheets are
/// the lead's (a commissioner reads the team's records, but reviews and
/// reports nothing).
fn lead_team(who: &Principal) -> Result<TeamId> {
    match (who.role, who.team) {
        (Role::TeamLead, Some(team)) => Ok(team),
        _ => Err(StoreError::NotAllowed("only a team lead reports on a team")),
    }
}

impl Store {
    /// The last roster fetched from the server, if any.
    pub fn team_roster(&self) -> Result<Option<TeamRoster>> {
        Ok(self
            .meta_get(META_ROSTER)?
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Keeps a roster fetched from the server, for offline use.
    pub fn keep_team_roster(&self, roster: &TeamRoster) -> Result<()> {
        let json = serde_json::to_string(roster)
            .map_err(|e| StoreError::Corrupt(format!("roster as JSON: {e}")))?;
        self.meta_set(META_ROSTER, &json)
    }

    /// The dashboard of `who`'s team (a team lead) over `q`'s days.
    pub fn team_dashboard_as(&self, who: &Principal, q: &DashboardQuery) -> Result<TeamDashboard> {
        let team = lead_team(who)?;
        self.team_dashboard(team, who.county, Period::new(q.from, q.to))
    }

    /// The dashboard of `team` over `period`, with coverage of `county`
    /// when its register is on the device, as of the store's clock.
    pub fn team_dashboard(
        &self,
        team: TeamId,
        county: Option<CountyCode>,
        period: Period,
    ) -> Result<TeamDashboard> {
        let now = self.clock.now();
        let today = now.china_date().unwrap_or(period.to);
        let register = self.stats_register()?;
        let filter = Filter {
            team: Some(team),
            ..Filter::default()
        };
        let members_only = Levels {
            commissioners: true,
            teams: false,
        };
        let request = StatsRequest {
            period,
            filter: filter.clone(),
            levels: members_only,
            training_sizes: Vec::new(),
        };
        let (unit, buckets) = team::buckets(period);
        let bucket_requests: Vec<StatsRequest> = buckets
            .iter()
            .map(|b| StatsRequest {
                period: *b,
                ..request.clone()
            })
            .collect();
        let mut main = ReportBuilder::new(&request, Some(&register));
        let mut per_bucket: Vec<ReportBuilder<'_>> = bucket_requests
            .iter()
            .map(|r| ReportBuilder::new(r, None))
            .collect();
        self.read_facts(period, None, Some(team), &mut |fact| match fact {
            Fact::Log(log, items) => {
                main.add_log(log, items.iter().map(|(k, v)| (*k, v.as_str())));
                if let Some(i) = team::bucket_of(&buckets, log.date) {
                    per_bucket[i]
                        .add_log(log, std::iter::empty::<(crate::stats::ItemKind, &str)>());
                }
            }
            Fact::Consultation(c) => main.add_consultation(c),
        })?;
        let report = main.finish();
        let by_bucket: Vec<Report> = per_bucket.into_iter().map(ReportBuilder::finish).collect();

        let last_logs = self.last_logs(team)?;
        let waiting = self.waiting_consultations(team, now)?;
        let roster = self.team_roster()?.filter(|r| r.team == team);

        let mut ids: BTreeSet<UserId> = report.commissioners.iter().map(|r| r.key).collect();
        ids.extend(last_logs.keys().copied());
        if let Some(r) = &roster {
            ids.extend(
                r.members
                    .iter()
                    .filter(|m| m.role != Role::SyncAdmin)
                    .map(|m| m.user),
            );
        }
        let mut members: Vec<MemberRow> = ids
            .into_iter()
            .map(|user| {
                let member = roster.as_ref().and_then(|r| r.member(user));
                let figures = report.commissioner(user).cloned().unwrap_or_default();
                let last_log = last_logs.get(&user).copied();
                MemberRow {
                    user,
                    name: member.map(|m| m.display_name.clone()),
                    role: member.map(|m| m.role),
                    on_roster: member.is_some(),
                    open_consultations: figures
                        .consultations
                        .saturating_sub(figures.consultations_answered),
                    figures,
                    last_log,
                    last_sync: member.and_then(|m| m.last_sync),
                    silent: team::is_silent(last_log, today),
                    activity: by_bucket
                        .iter()
                        .map(|r| r.commissioner(user).map_or(0, |f| f.visits))
                        .collect(),
                }
            })
            .collect();
        members
            .sort_by(|a, b| (!a.on_roster, &a.name, a.user).cmp(&(!b.on_roster, &b.name, b.user)));

        let coverage = county
            .filter(|c| register.villages_of(*c).next().is_some())
            .map(|c| {
                let f = report.county(c).cloned().unwrap_or_default();
                Coverage {
                    county: c,
                    county_name: register.county_name(c).map(str::to_owned),
                    villages_covered: f.register_villages_covered.unwrap_or(0),
                    villages: f.register_villages.unwrap_or(0),
                    townships_covered: f.register_townships_covered.unwrap_or(0),
                    townships: f.register_townships.unwrap_or(0),
                    by_township: team::township_coverage(&register, c, &report.uncovered_villages),
                }
            });

        Ok(TeamDashboard {
            period,
            today,
            team,
            team_name: roster.as_ref().map(|r| r.name.clone()),
            members,
            total: report.total,
            coverage,
            unit,
            buckets,
            waiting,
            roster_at: roster.map(|r| r.at),
        })
    }

    /// The work date of each author's latest log for `team` that is not a
    /// draft and not a duplicate.
    fn last_logs(&self, team: TeamId) -> Result<BTreeMap<UserId, NaiveDate>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT author, max(date) FROM service_logs
             WHERE team = ?1 AND review_state <> 'draft' AND duplicate_of IS NULL
             GROUP BY author",
        )?;
        let rows = stmt.query_map([team.to_bytes()], |r| {
            let date: String = r.get(1)?;
            Ok((blob_id(r, 0, UserId::from_bytes)?, date))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (user, date) = row?;
            if let Ok(d) = NaiveDate::parse_from_str(&date, "%Y-%m-%d") {
                out.insert(user, d);
            }
        }
        Ok(out)
    }

    /// `team`'s consultations without a first answer, not closed, not
    /// duplicates, that have waited too long at `now` (`team::WAITING_DAYS`),
    /// by author, oldest first.
    fn waiting_consultations(
        &self,
        team: TeamId,
        now: Timestamp,
    ) -> Result<Vec<WaitingConsultation>> {
        let before = now.add_millis(-team::WAITING_DAYS * 86_400_000);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.author, c.farmer_name, c.subject, v.name, c.asked_at
             FROM consultations c
             LEFT JOIN div_villages v ON v.code = c.village
             WHERE c.team = ?1 AND c.asked_at <= ?2 AND c.first_answered_at IS NULL
               AND c.status <> 'closed' AND c.duplicate_of IS NULL
             ORDER BY c.author, c.asked_at, c.id",
        )?;
        let rows = stmt.query_map(params![team.to_bytes(), before.as_millis()], |r| {
            let asked_at = Timestamp::from_millis(r.get(5)?);
            Ok(WaitingConsultation {
                id: blob_id(r, 0, ConsultationId::from_bytes)?,
                author: blob_id(r, 1, UserId::from_bytes)?,
                farmer_name: r.get(2)?,
                subject: r.get(3)?,
                village_name: r.get(4)?,
                asked_at,
                days: now.millis_since(asked_at) / 86_400_000,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Who the team's sheets name: the roster's members (and the team).
    fn team_names(&self, team: TeamId) -> Result<Names> {
        let mut names = Names::default();
        if let Some(r) = self.team_roster()?.filter(|r| r.team == team) {
            names.teams.insert(team, r.name.clone());
            for m in &r.members {
                names.users.insert(m.user, m.display_name.clone());
            }
        }
        Ok(names)
    }

    /// The roster's commissioners and leads: every one of them is scored,
    /// with zeros when they recorded nothing.
    fn team_roll(&self, team: TeamId) -> Result<Vec<UserId>> {
        Ok(self
            .team_roster()?
            .filter(|r| r.team == team)
            .map(|r| {
                r.members
                    .iter()
                    .filter(|m| m.role != Role::SyncAdmin)
                    .map(|m| m.user)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The assessment (考核) of `who`'s team (a team lead) for `year` under
    /// every scheme the app carries, each member with the breakdown per
    /// indicator.
    pub fn team_scores_as(&self, who: &Principal, year: i32) -> Result<TeamScores> {
        let team = lead_team(who)?;
        let register = self.stats_register()?;
        let roll = self.team_roll(team)?;
        let mut sheets = Vec::new();
        for scheme in builtin_schemes() {
            let Some(period) = scheme.period_for(year) else {
                continue;
            };
            let filter = Filter {
                team: Some(team),
                ..Filter::default()
            };
            let report =
                self.stats_report(&scheme.stats_request(period, filter), Some(&register))?;
            sheets.push(scheme.score_report(&report, &roll));
        }
        let names = self.team_names(team)?.users.into_iter().collect();
        Ok(TeamScores { sheets, names })
    }

    /// The annual sheet (年度统计表) of `who`'s team (a team lead) for
    /// `year`, as tables: the county rows and their roll-ups, the team, its
    /// members, the villages not covered, and the scores under the first
    /// carried scheme. The team's name comes with them, for file names.
    pub fn team_workbook_as(&self, who: &Principal, year: i32) -> Result<(String, Vec<Table>)> {
        let team = lead_team(who)?;
        let period =
            Period::year(year).ok_or(StoreError::NotAllowed("a year chrono cannot represent"))?;
        let register = self.stats_register()?;
        let names = self.team_names(team)?;
        let filter = Filter {
            team: Some(team),
            ..Filter::default()
        };
        let scheme = builtin_schemes().into_iter().next();
        let mut request = StatsRequest::new(period);
        request.filter = filter.clone();
        if let Some(s) = &scheme {
            request.training_sizes = s.training_sizes();
        }
        let report = self.stats_report(&request, Some(&register))?;
        let scores = match &scheme {
            Some(s) => {
                let scored =
                    self.stats_report(&s.stats_request(period, filter), Some(&register))?;
                Some(s.score_report(&scored, &self.team_roll(team)?))
            }
            None => None,
        };
        let name = names
            .teams
            .get(&team)
            .cloned()
            .unwrap_or_else(|| team.to_string());
        Ok((
            name,
            annual_workbook(&report, &register, &names, scores.as_ref()),
        ))
    }

    /// Photos of `who`'s review queue (a team lead's: the team's logs
    /// waiting for review, not their own) that are not on this device:
    /// thumbnails first, then full photos, newest logs first, at most
    /// `limit`. Empty for anyone but a team lead.
    pub fn review_photos_to_fetch(&self, who: &Principal, limit: u32) -> Result<Vec<PhotoHash>> {
        let Ok(team) = lead_team(who) else {
            return Ok(Vec::new());
        };
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT which, h FROM (
                 SELECT 0 AS which, rp.thumb AS h, l.date AS date, l.id AS id
                 FROM service_logs l JOIN record_photos rp ON rp.record = l.id
                 WHERE l.team = ?1 AND l.author <> ?2
                   AND l.review_state IN ('submitted', 'changed_since_approval')
                   AND l.duplicate_of IS NULL
                 UNION ALL
                 SELECT 1, rp.hash, l.date, l.id
                 FROM service_logs l JOIN record_photos rp ON rp.record = l.id
                 WHERE l.team = ?1 AND l.author <> ?2
                   AND l.review_state IN ('submitted', 'changed_since_approval')
                   AND l.duplicate_of IS NULL)
             WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.hash = h)
             GROUP BY h
             ORDER BY min(which), max(date) DESC, min(id), h
             LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![team.to_bytes(), who.user.to_bytes(), i64::from(limit)],
            |r| r.get::<_, Vec<u8>>(1),
        )?;
        let mut out = Vec::new();
        for bytes in rows {
            let bytes = bytes?;
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("photo hash of {} bytes", bytes.len())))?;
            out.push(PhotoHash::from_bytes(arr));
        }
        Ok(out)
    }
}
