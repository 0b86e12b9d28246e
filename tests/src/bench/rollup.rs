//! The statistics roll-up of issue 13: how long the server takes to answer
//! the figures of a county's year and of a province's, with their storage
//! (the projection on PostgreSQL, read into `app_core::stats`), as
//! `sync_server::store::stats::answer` computes them for the JSON endpoint
//! and the annual sheet (every row: commissioners, teams, counties, cities,
//! the province, the villages not covered).
//!
//! The records are projection rows written directly
//! (`ServerStore::project`), as the issue allows: pushing ten million
//! records through the sync path would measure ingest, not the roll-up.
//! They are synthetic but shaped like a year's work: a province's counties
//! (real codes and villages of Yunnan, 53, from the register the server
//! imports), 300 commissioners in 10 teams per county (some move team in
//! July), four logs for each consultation, the activity and review mix of a
//! county team, names of technologies, varieties, enterprises and
//! cooperatives written with the variants people type, a few villages
//! outside the register and a few logs of the year before. Counties load
//! interleaved, a thousand records at a time, as devices across the
//! province sync in the evening, so no county's rows lie together on disk.
//!
//! Timed: a county alone in the database; then the same county and the
//! whole province once every county is loaded. Each is the median of a few
//! runs, after the tables are analysed. The answers are checked against
//! what was generated (counted logs and consultations).

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use app_core::domain::{
    ActivityType, ConsultationId, CountyCode, DivisionLevel, ProvinceCode, ServiceLogId, TeamId,
    UserId, VillageCode,
};
use app_core::stats::{ConsultationFact, FactStatus, ItemKind, Levels, LogEntry, LogFact, Period};
use chrono::{Datelike as _, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sync_server::store::DivisionImport;
use sync_server::store::stats::{self, Ask, Subject};
use sync_server::sync::RecordFacts;
use tokio::runtime::Handle;

use super::ketepai::KetepaiServer;

/// The province whose counties the records are in: Yunnan.
pub const PROVINCE: &str = "53";
/// The year counted.
pub const YEAR: i32 = 2026;

/// How large the roll-up is.
#[derive(Debug, Clone, Copy)]
pub struct RollupSizes {
    /// Counties of the province.
    pub counties: usize,
    /// Commissioners per county.
    pub commissioners: usize,
    /// Records (logs and consultations) per county.
    pub records: usize,
    /// Timed runs of each question.
    pub runs: usize,
}

impl RollupSizes {
    /// The sizes of issue 13: 100 counties of 300 commissioners and
    /// 100,000 records each.
    pub fn full() -> RollupSizes {
        RollupSizes {
            counties: 100,
            commissioners: 300,
            records: 100_000,
            runs: 3,
        }
    }

    /// A tiny province (the CI test).
    pub fn quick() -> RollupSizes {
        RollupSizes {
            counties: 3,
            commissioners: 12,
            records: 600,
            runs: 2,
        }
    }
}

/// The timings of one question.
#[derive(Debug, Clone)]
pub struct Timed {
    /// Seconds of each run.
    pub runs: Vec<f64>,
    /// Counted logs the answer found (服务次数 of the total).
    pub visits: u64,
    /// Counted consultations it found.
    pub consultations: u64,
    /// Rows of the answer: commissioners, teams, counties.
    pub rows: (usize, usize, usize),
}

impl Timed {
    /// The median run, in seconds.
    pub fn median(&self) -> f64 {
        let mut v = self.runs.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }

    /// The fastest and the slowest run.
    pub fn range(&self) -> (f64, f64) {
        let min = self.runs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.runs.iter().copied().fold(0.0, f64::max);
        (min, max)
    }
}

/// What the roll-up measured.
#[derive(Debug, Clone)]
pub struct Rollup {
    /// `SQLite` or `PostgreSQL`.
    pub backend: &'static str,
    /// Sizes.
    pub sizes: RollupSizes,
    /// Logs and consultations in the projection.
    pub projected: (u64, u64),
    /// Seconds to write the projection rows (all counties).
    pub load_seconds: f64,
    /// The machine's one-minute load average when the county among the
    /// province's and the province were timed.
    pub load_at_timing: f64,
    /// The first county, alone in the database.
    pub county_alone: Timed,
    /// The same county among the whole province.
    pub county: Timed,
    /// The province.
    pub province: Timed,
    /// The province's division rows only (`levels=divisions`: no
    /// commissioner or team rows).
    pub province_divisions: Timed,
    /// Whether the province was already loaded in a kept schema
    /// (`--rollup-keep`): then nothing was written and the county was
    /// never alone in the database.
    pub reused: bool,
}

/// What the generator made, to check answers against.
#[derive(Debug, Clone, Copy, Default)]
struct Made {
    counted_logs: u64,
    consultations: u64,
}

/// A county to fill: its code and its register villages.
#[derive(Debug, Clone)]
struct County {
    code: CountyCode,
    villages: Vec<VillageCode>,
}

/// The register rows of the roll-up's counties (every province, prefecture
/// and county; the townships and villages of the first `n` counties of
/// Yunnan that have villages), and those counties.
pub fn register(n: usize) -> anyhow::Result<Vec<DivisionImport>> {
    let source = sync_server::ops::embedded_register();
    let province = ProvinceCode::parse(PROVINCE)?;
    let mut counties: Vec<CountyCode> = Vec::new();
    source.for_each(DivisionLevel::County, |row| -> anyhow::Result<()> {
        let c = CountyCode::from_int(row.code)?;
        if c.province() == province {
            counties.push(c);
        }
        Ok(())
    })?;
    let rows = sync_server::ops::register_rows(&source, Some(&counties))?;
    let with_villages: std::collections::BTreeSet<u64> = rows
        .iter()
        .filter(|r| r.level == DivisionLevel::Village)
        .map(|r| r.code / 1_000_000)
        .collect();
    let chosen: Vec<CountyCode> = counties
        .into_iter()
        .filter(|c| with_villages.contains(&c.as_int()))
        .take(n)
        .collect();
    ensure!(
        chosen.len() == n,
        "Yunnan has only {} counties with villages",
        chosen.len()
    );
    Ok(sync_server::ops::register_rows(&source, Some(&chosen))?)
}

fn counties_of(rows: &[DivisionImport]) -> Vec<County> {
    let mut by: BTreeMap<u64, Vec<VillageCode>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.level == DivisionLevel::Village) {
        if let Ok(v) = VillageCode::from_int(r.code) {
            by.entry(r.code / 1_000_000).or_default().push(v);
        }
    }
    by.into_iter()
        .filter_map(|(c, villages)| {
            Some(County {
                code: CountyCode::from_int(c).ok()?,
                villages,
            })
        })
        .collect()
}

/// Names as people type them: the same name now and then with full-width
/// digits or stray spaces (they count once).
fn typed(rng: &mut StdRng, name: String) -> String {
    match rng.random_range(0..20) {
        0 => format!(" {name}\u{3000}"),
        1 => name.replace('1', "１").replace('2', "２"),
        _ => name,
    }
}

/// Sixteen random bytes for an ID.
fn id(rng: &mut StdRng) -> [u8; 16] {
    rng.random()
}

/// The people of one county: commissioners and their teams (a few move to
/// another team in July).
struct People {
    authors: Vec<UserId>,
    teams: Vec<TeamId>,
}

fn people(county: CountyCode, sizes: RollupSizes) -> People {
    let mut rng = StdRng::seed_from_u64(county.as_int());
    People {
        authors: (0..sizes.commissioners)
            .map(|_| UserId::from_bytes(id(&mut rng)))
            .collect(),
        teams: (0..10).map(|_| TeamId::from_bytes(id(&mut rng))).collect(),
    }
}

/// The `part`-th thousand (or so) of a county's records.
fn records(
    county: &County,
    who: &People,
    part: usize,
    count: usize,
    made: &mut Made,
) -> Vec<RecordFacts> {
    let mut rng = StdRng::seed_from_u64(county.code.as_int() * 1_000 + part as u64);
    let jan1 = NaiveDate::from_ymd_opt(YEAR, 1, 1).expect("a date");
    let (start, _) = Period::year(YEAR).expect("a year").instants();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let a = rng.random_range(0..who.authors.len());
        let author = who.authors[a];
        let day = rng.random_range(0..365u64);
        let date = jan1 + chrono::Days::new(day);
        // One commissioner in twenty moves to the next team in July.
        let moved = a % 20 == 0 && day >= 181;
        let team = Some(who.teams[(a + usize::from(moved)) % who.teams.len()]);
        let village = if rng.random_range(0..100) == 0 {
            // A code the register does not hold.
            VillageCode::from_int(
                county.code.as_int() * 1_000_000 + 999_000 + rng.random_range(0..50),
            )
            .expect("a village code")
        } else {
            county.villages[rng.random_range(0..county.villages.len())]
        };
        if rng.random_range(0..5) == 0 {
            let asked = start.add_millis(day as i64 * 86_400_000 + rng.random_range(0..86_400_000));
            let answered =
                match rng.random_range(0..100) {
                    0..15 => None,
                    15 => Some(asked.add_millis(-rng.random_range(60_000..3_600_000))),
                    _ => Some(asked.add_millis(
                        rng.random_range(0..3 * 86_400_000i64).pow(2) / (3 * 86_400_000),
                    )),
                };
            made.consultations += 1;
            out.push(RecordFacts::Consultation(ConsultationFact {
                id: ConsultationId::from_bytes(id(&mut rng)),
                author,
                team,
                village,
                asked_at: asked,
                first_answered_at: answered,
                duplicate: false,
            }));
            continue;
        }
        let activity = match rng.random_range(0..100) {
            0..40 => ActivityType::TechnicalGuidance,
            40..60 => ActivityType::Training,
            60..72 => ActivityType::Demonstration,
            72..84 => ActivityType::Consultation,
            84..88 => ActivityType::Entrepreneurship,
            88..96 => ActivityType::Project,
            _ => ActivityType::Other,
        };
        let status = match rng.random_range(0..100) {
            0..4 => FactStatus::Draft,
            4..30 => FactStatus::Submitted,
            30..94 => FactStatus::Approved,
            _ => FactStatus::Returned,
        };
        // A few logs of the year before, entered late.
        let date = if rng.random_range(0..50) == 0 {
            date - chrono::Days::new(365)
        } else {
            date
        };
        if status.counts() && date.year() == YEAR {
            made.counted_logs += 1;
        }
        let mut items = Vec::new();
        for _ in 0..rng.random_range(0..3) {
            let n = rng.random_range(0..60);
            items.push((ItemKind::Technology, typed(&mut rng, format!("技术{n}号"))));
        }
        if rng.random_range(0..3) == 0 {
            let n = rng.random_range(0..40);
            items.push((ItemKind::Variety, typed(&mut rng, format!("品种{n}号"))));
        }
        if rng.random_range(0..4) == 0 {
            let n = rng.random_range(0..30);
            items.push((
                ItemKind::Enterprise,
                typed(&mut rng, format!("{}农业有限公司{n}", county.code)),
            ));
        }
        if rng.random_range(0..3) == 0 {
            let n = rng.random_range(0..40);
            items.push((
                ItemKind::Cooperative,
                typed(&mut rng, format!("{}专业合作社{n}", county.code)),
            ));
        }
        out.push(RecordFacts::Log(LogEntry {
            fact: LogFact {
                id: ServiceLogId::from_bytes(id(&mut rng)),
                author,
                team,
                village,
                date,
                activity,
                status,
                duplicate: false,
                farmers_served: rng.random_range(1..60),
                trainees: (activity == ActivityType::Training && rng.random_range(0..20) > 0)
                    .then(|| rng.random_range(10..120)),
                photos: rng.random_range(0..6),
            },
            items,
        }));
    }
    out
}

/// Records per part of a county (the interleaving grain).
const PART: usize = 1_000;
/// Records written per call of `project`.
const WRITE: usize = 20_000;

/// Writes the records of `counties`, interleaved a part at a time.
/// With `write` false, only generates them (to know what was made, when a
/// kept schema holds them already).
async fn load(
    server: &KetepaiServer,
    counties: &[County],
    sizes: RollupSizes,
    made: &mut BTreeMap<CountyCode, Made>,
    write: bool,
) -> anyhow::Result<()> {
    let store = server.store();
    let parts = sizes.records.div_ceil(PART);
    let who: Vec<People> = counties.iter().map(|c| people(c.code, sizes)).collect();
    let mut buffer = Vec::with_capacity(WRITE + PART);
    for part in 0..parts {
        let count = PART.min(sizes.records - part * PART);
        for (c, w) in counties.iter().zip(&who) {
            let m = made.entry(c.code).or_default();
            buffer.extend(records(c, w, part, count, m));
            if !write {
                buffer.clear();
            } else if buffer.len() >= WRITE {
                store.project(std::mem::take(&mut buffer)).await?;
            }
        }
    }
    if !buffer.is_empty() {
        store.project(buffer).await?;
    }
    Ok(())
}

async fn time(
    server: &KetepaiServer,
    subject: Subject,
    levels: Levels,
    runs: usize,
    made: Made,
) -> anyhow::Result<Timed> {
    let store = server.store();
    let mut ask = Ask::new(subject, Period::year(YEAR).context("a year")?);
    ask.levels = levels;
    let mut timed = Timed {
        runs: Vec::new(),
        visits: 0,
        consultations: 0,
        rows: (0, 0, 0),
    };
    for _ in 0..runs {
        let started = Instant::now();
        let computed = stats::answer(&*store, &ask).await?;
        timed.runs.push(started.elapsed().as_secs_f64());
        let r = &computed.answer.report;
        timed.visits = r.total.visits.into();
        timed.consultations = r.total.consultations.into();
        timed.rows = (r.commissioners.len(), r.teams.len(), r.counties.len());
    }
    ensure!(
        timed.visits == made.counted_logs && timed.consultations == made.consultations,
        "{subject}: the answer counts {} logs and {} consultations, {} and {} were made",
        timed.visits,
        timed.consultations,
        made.counted_logs,
        made.consultations
    );
    Ok(timed)
}

fn sum(made: &BTreeMap<CountyCode, Made>) -> Made {
    made.values().fold(Made::default(), |a, m| Made {
        counted_logs: a.counted_logs + m.counted_logs,
        consultations: a.consultations + m.consultations,
    })
}

/// Runs the roll-up on PostgreSQL (`postgres`) or, without it, SQLite.
/// With `keep` (PostgreSQL only), in that schema: loaded on the first run
/// and kept, reused as it is by the next (the same sizes), which then
/// times the county and the province without writing.
pub async fn run(
    rt: &Handle,
    postgres: Option<&str>,
    sizes: RollupSizes,
    keep: Option<&str>,
    progress: impl Fn(&str),
) -> anyhow::Result<Rollup> {
    let rows = tokio::task::spawn_blocking(move || register(sizes.counties)).await??;
    let counties = counties_of(&rows);
    let keep = keep.filter(|_| postgres.is_some());
    let server = KetepaiServer::start_in(rt, postgres, &rows, keep).await?;
    if keep.is_some() && server.store().projected().await? != (0, 0) {
        return rerun(&server, &counties, sizes, progress).await;
    }
    let backend = if server.backend() == "postgres" {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut made = BTreeMap::new();
    let first = counties.first().context("a county")?.clone();
    progress(&format!(
        "roll-up on {backend}: one county ({} records)",
        sizes.records
    ));
    let started = Instant::now();
    load(
        &server,
        std::slice::from_ref(&first),
        sizes,
        &mut made,
        true,
    )
    .await?;
    let mut load_seconds = started.elapsed().as_secs_f64();
    server.analyze().await?;
    let county_alone = time(
        &server,
        Subject::County(first.code),
        Levels::ALL,
        sizes.runs,
        made[&first.code],
    )
    .await?;
    progress(&format!(
        "roll-up: {} more counties ({} records)",
        counties.len() - 1,
        (counties.len() - 1) * sizes.records
    ));
    let started = Instant::now();
    load(&server, &counties[1..], sizes, &mut made, true).await?;
    load_seconds += started.elapsed().as_secs_f64();
    server.analyze().await?;
    let load_at_timing = super::load_average();
    progress(&format!(
        "roll-up: the county and the province (load average {load_at_timing:.2})"
    ));
    let county = time(
        &server,
        Subject::County(first.code),
        Levels::ALL,
        sizes.runs,
        made[&first.code],
    )
    .await?;
    let province_code = Subject::Province(ProvinceCode::parse(PROVINCE)?);
    let province = time(&server, province_code, Levels::ALL, sizes.runs, sum(&made)).await?;
    let province_divisions = time(
        &server,
        province_code,
        Levels::DIVISIONS,
        sizes.runs,
        sum(&made),
    )
    .await?;
    let projected = server.store().projected().await?;
    server.stop().await?;
    Ok(Rollup {
        backend,
        sizes,
        projected,
        load_seconds,
        load_at_timing,
        county_alone,
        county,
        province,
        province_divisions,
        reused: false,
    })
}

/// The timings on a kept schema that holds the province already (a
/// `--rollup-keep` run after the first): what was made is generated again,
/// not written.
async fn rerun(
    server: &KetepaiServer,
    counties: &[County],
    sizes: RollupSizes,
    progress: impl Fn(&str),
) -> anyhow::Result<Rollup> {
    let mut made = BTreeMap::new();
    load(server, counties, sizes, &mut made, false).await?;
    let projected = server.store().projected().await?;
    let total = sum(&made);
    ensure!(
        projected.0 + projected.1 == (sizes.records * sizes.counties) as u64,
        "the kept schema holds {} records, not this run's {}: drop it or keep another",
        projected.0 + projected.1,
        sizes.records * sizes.counties
    );
    let first = counties.first().context("a county")?.code;
    server.analyze().await?;
    let load_at_timing = super::load_average();
    progress(&format!(
        "roll-up (kept schema): the county and the province (load average {load_at_timing:.2})"
    ));
    let county = time(
        server,
        Subject::County(first),
        Levels::ALL,
        sizes.runs,
        made[&first],
    )
    .await?;
    let province_code = Subject::Province(ProvinceCode::parse(PROVINCE)?);
    let province = time(server, province_code, Levels::ALL, sizes.runs, total).await?;
    let province_divisions =
        time(server, province_code, Levels::DIVISIONS, sizes.runs, total).await?;
    Ok(Rollup {
        backend: "PostgreSQL",
        sizes,
        projected,
        load_seconds: 0.0,
        load_at_timing,
        county_alone: county.clone(),
        county,
        province,
        province_divisions,
        reused: true,
    })
}

/// Seconds with two decimals.
fn s(x: f64) -> String {
    format!("{x:.2} s")
}

/// The roll-up's table and details as Markdown (the generated block of its
/// section in `docs/benchmarks.md`).
pub fn markdown(r: &Rollup, stamp: &str) -> String {
    use super::report::count;
    use std::fmt::Write as _;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "{stamp} Other work on the machine slows the timed figures.\n"
    );
    let _ = writeln!(
        md,
        "| Question | Records | Median (range) | Target | Verdict |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    let sz = r.sizes;
    let pg = r.backend == "PostgreSQL";
    for (what, t, records, target) in [
        (
            "A county's year, alone in the database",
            &r.county_alone,
            sz.records,
            None,
        ),
        (
            "A county's year, among the province's",
            &r.county,
            sz.records,
            Some(1.0),
        ),
        (
            "The province's year",
            &r.province,
            sz.records * sz.counties,
            Some(10.0),
        ),
        (
            "The province's year, division rows only (`levels=divisions`)",
            &r.province_divisions,
            sz.records * sz.counties,
            None,
        ),
    ] {
        let (lo, hi) = t.range();
        let (target, verdict) = match target {
            Some(limit) if pg => (format!("≤ {limit:.0} s"), verdict(t.median(), limit)),
            Some(limit) => (
                format!("≤ {limit:.0} s (on PostgreSQL)"),
                "not measured".into(),
            ),
            None => (String::new(), String::new()),
        };
        let _ = writeln!(
            md,
            "| {what} ({}, {} commissioners a county) | {} | {} ({}–{}) | {target} | {verdict} |",
            r.backend,
            sz.commissioners,
            count(records as f64),
            s(t.median()),
            s(lo),
            s(hi)
        );
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "- Load average when the province was loaded and the last three questions \
         were timed: {:.2} (other work on this 2-core machine).",
        r.load_at_timing
    );
    if r.reused {
        let _ = writeln!(
            md,
            "- A rerun on a kept schema (`--rollup-keep`): nothing written, and the \
             \"alone\" row is the county among the province's."
        );
    }
    if r.reused {
        // Nothing was written by this run: no writing rate to give.
        let _ = writeln!(
            md,
            "- The projection held {} logs and {} consultations ({} counties), \
             written by an earlier run.",
            count(r.projected.0 as f64),
            count(r.projected.1 as f64),
            sz.counties,
        );
    } else {
        let _ = writeln!(
            md,
            "- The projection held {} logs and {} consultations ({} counties), written \
             directly in {} ({} records/s).",
            count(r.projected.0 as f64),
            count(r.projected.1 as f64),
            sz.counties,
            super::report::secs(r.load_seconds),
            count((r.projected.0 + r.projected.1) as f64 / r.load_seconds.max(1e-9)),
        );
    }
    for (what, t) in [("county", &r.county), ("province", &r.province)] {
        let _ = writeln!(
            md,
            "- The {what}'s answer: {} counted logs and {} consultations (as generated), \
             rows for {} commissioners, {} teams and {} counties; each run is \
             `store::stats::answer` (register, projection read, every row of the report).",
            count(t.visits as f64),
            count(t.consultations as f64),
            count(t.rows.0 as f64),
            count(t.rows.1 as f64),
            count(t.rows.2 as f64),
        );
    }
    md
}

fn verdict(value: f64, limit: f64) -> String {
    if value <= limit {
        "PASS".into()
    } else {
        format!("MISS ({:.2}× off)", value / limit)
    }
}

/// Missed targets, one line each.
pub fn misses(r: &Rollup) -> Vec<String> {
    if r.backend != "PostgreSQL" {
        return Vec::new();
    }
    [
        ("a county's year", r.county.median(), 1.0),
        ("the province's year", r.province.median(), 10.0),
    ]
    .into_iter()
    .filter(|(_, v, limit)| v > limit)
    .map(|(what, v, limit)| format!("roll-up, {what}: {v:.2} s against ≤ {limit:.0} s"))
    .collect()
}
