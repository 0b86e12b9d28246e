//! Statistics from the projections: plain SQL over indexed tables, so a
//! year of a team's records is counted without loading a document.

use rusqlite::params;

use super::{Result, Store};
use crate::domain::{TeamId, Timestamp, UserId};
use crate::stats::{StatsQuery, WorkStats};

impl Store {
    /// The figures for `q`.
    pub fn work_stats(&self, q: &StatsQuery) -> Result<WorkStats> {
        let from = q.from.format("%Y-%m-%d").to_string();
        let to = q.to.format("%Y-%m-%d").to_string();
        let author = q.author.map(UserId::to_bytes);
        let team = q.team.map(TeamId::to_bytes);
        let county = q.county.map(|c| c.as_int() as i64);
        let conn = self.conn();
        const LOGS: &str = "FROM service_logs l
             WHERE l.status <> 'draft' AND l.date BETWEEN ?1 AND ?2
               AND (?3 IS NULL OR l.author = ?3)
               AND (?4 IS NULL OR l.team = ?4)
               AND (?5 IS NULL OR l.county = ?5)";
        let mut stats = conn.query_row(
            &format!(
                "SELECT count(DISTINCT l.date), count(*),
                        coalesce(sum(l.status = 'approved'), 0),
                        count(DISTINCT l.village), count(DISTINCT l.township),
                        coalesce(sum(l.farmers_served), 0),
                        coalesce(sum(l.activity = 'training'), 0),
                        coalesce(sum(CASE WHEN l.activity = 'training' THEN l.trainees END), 0),
                        coalesce(avg(l.photo_count), 0.0)
                 {LOGS}"
            ),
            params![from, to, author, team, county],
            |r| {
                Ok(WorkStats {
                    service_days: r.get(0)?,
                    visits: r.get(1)?,
                    approved_logs: r.get(2)?,
                    villages_covered: r.get(3)?,
                    townships_covered: r.get(4)?,
                    farmers_served: r.get::<_, i64>(5)? as u64,
                    trainings: r.get(6)?,
                    trainees: r.get::<_, i64>(7)? as u64,
                    photos_per_log: r.get(8)?,
                    ..WorkStats::default()
                })
            },
        )?;
        let distinct_items = |kind: &str| -> Result<u32> {
            Ok(conn.query_row(
                &format!(
                    "SELECT count(DISTINCT i.value) FROM record_items i
                     WHERE i.kind = ?6 AND i.record IN (SELECT l.id {LOGS})"
                ),
                params![from, to, author, team, county, kind],
                |r| r.get(0),
            )?)
        };
        stats.technologies = distinct_items("technology")?;
        stats.varieties = distinct_items("variety")?;
        stats.enterprises = distinct_items("enterprise")?;
        stats.cooperatives = distinct_items("cooperative")?;

        // Consultations asked within the period's days, China time.
        let start = Timestamp::from_china_local(q.from.and_hms_opt(0, 0, 0).expect("midnight"));
        let end = Timestamp::from_china_local(
            q.to.succ_opt()
                .unwrap_or(q.to)
                .and_hms_opt(0, 0, 0)
                .expect("midnight"),
        );
        let mut stmt = conn.prepare_cached(
            "SELECT c.first_answered_at - c.asked_at FROM consultations c
             WHERE c.asked_at >= ?1 AND c.asked_at < ?2
               AND (?3 IS NULL OR c.author = ?3)
               AND (?4 IS NULL OR c.team = ?4)
               AND (?5 IS NULL OR c.county = ?5)",
        )?;
        let waits: Vec<Option<i64>> = stmt
            .query_map(
                params![start.as_millis(), end.as_millis(), author, team, county],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        stats.consultations = waits.len() as u32;
        let mut answered: Vec<i64> = waits.into_iter().flatten().collect();
        stats.consultations_answered = answered.len() as u32;
        answered.sort_unstable();
        stats.median_minutes_to_first_answer = match answered.len() {
            0 => None,
            n if n % 2 == 1 => Some(answered[n / 2]),
            n => Some((answered[n / 2 - 1] + answered[n / 2]) / 2),
        }
        .map(|ms| (ms.max(0) / 60_000) as u32);
        Ok(stats)
    }
}
