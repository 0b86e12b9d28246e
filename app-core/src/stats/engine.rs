//! The roll-up: facts in, [`Figures`] out for every commissioner, team,
//! county, prefecture and province, and for everything selected.
//!
//! Every fact is read once. Counts are added; distinct counts keep their sets
//! (village codes, interned team and name indexes, and per commissioner a
//! bitmap of the period's days) and are counted at each level after the sets
//! are united, so a
//! village served by two teams of a county counts once for the county;
//! medians keep every value. Counties are counted from the facts; a
//! prefecture is the union of its counties, a province of its prefectures, the
//! total of the provinces. Commissioner and team rows are counted from the
//! facts directly (a team is not inside one county, nor a commissioner inside
//! one team).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::facts::{ConsultationFact, ItemKind, LogEntry, LogFact, normalise_name};
use super::figures::Figures;
use super::hash::{FastMap, FastSet};
use super::register::{CountyTotals, Register};
use super::{Period, StatsQuery};
use crate::domain::{
    ActivityType, CountyCode, PrefectureCode, ProvinceCode, TeamId, Timestamp, UserId, VillageCode,
};

/// An area of the division hierarchy a filter can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum Area {
    /// A province (省).
    Province(ProvinceCode),
    /// A prefecture (市).
    Prefecture(PrefectureCode),
    /// A county (县).
    County(CountyCode),
}

impl Area {
    /// Whether the county with this integer code is inside the area.
    pub fn contains_county(&self, county: u64) -> bool {
        match self {
            Area::Province(p) => county / 10_000 == p.as_int(),
            Area::Prefecture(p) => county / 100 == p.as_int(),
            Area::County(c) => county == c.as_int(),
        }
    }
}

/// Which facts count towards the report. A fact is selected when it passes
/// every condition that is set. The county is always the county of the
/// record's village.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Only this author's records.
    pub author: Option<UserId>,
    /// Only records made for this team (the team recorded on the record).
    pub team: Option<TeamId>,
    /// Only records whose village is in this area.
    pub area: Option<Area>,
    /// Only records whose village is in one of these counties (how a caller
    /// applies the 832 / 160 county tags).
    pub counties: Option<BTreeSet<CountyCode>>,
}

impl Filter {
    /// Whether a county passes the area and county conditions.
    pub fn admits_county(&self, county: u64) -> bool {
        self.area.is_none_or(|a| a.contains_county(county))
            && self
                .counties
                .as_ref()
                .is_none_or(|set| set.iter().any(|c| c.as_int() == county))
    }
}

/// A [`Filter`] prepared for one test per fact.
#[derive(Debug)]
struct Admit {
    author: Option<UserId>,
    team: Option<TeamId>,
    area: Option<Area>,
    counties: Option<FastSet<u64>>,
}

impl Admit {
    fn new(f: &Filter) -> Self {
        Admit {
            author: f.author,
            team: f.team,
            area: f.area,
            counties: f
                .counties
                .as_ref()
                .map(|set| set.iter().map(|c| c.as_int()).collect()),
        }
    }

    fn county(&self, county: u64) -> bool {
        self.area.is_none_or(|a| a.contains_county(county))
            && self
                .counties
                .as_ref()
                .is_none_or(|set| set.contains(&county))
    }

    fn record(&self, author: UserId, team: Option<TeamId>, county: u64) -> bool {
        self.author.is_none_or(|a| a == author)
            && self.team.is_none_or(|t| team == Some(t))
            && self.county(county)
    }
}

/// Which per-person and per-team rows to compute (division rows and the
/// total always are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Levels {
    /// A row per commissioner (特派员).
    pub commissioners: bool,
    /// A row per team (科技特派团).
    pub teams: bool,
}

impl Levels {
    /// Every level.
    pub const ALL: Levels = Levels {
        commissioners: true,
        teams: true,
    };
    /// Division rows and the total only.
    pub const DIVISIONS: Levels = Levels {
        commissioners: false,
        teams: false,
    };
}

impl Default for Levels {
    fn default() -> Self {
        Levels::ALL
    }
}

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRequest {
    /// The period.
    pub period: Period,
    /// Which facts count.
    pub filter: Filter,
    /// Which rows besides divisions and the total.
    pub levels: Levels,
    /// Trainee thresholds for [`Figures::trainings_with_min_trainees`] (what
    /// an assessment scheme's `min_trainees` asks for).
    pub training_sizes: Vec<u32>,
}

impl StatsRequest {
    /// Every row, no filter, for `period`.
    pub fn new(period: Period) -> Self {
        StatsRequest {
            period,
            filter: Filter::default(),
            levels: Levels::ALL,
            training_sizes: Vec::new(),
        }
    }

    /// The device's question: only the total matters.
    pub fn from_query(q: &StatsQuery) -> Self {
        StatsRequest {
            period: q.period(),
            filter: q.filter(),
            levels: Levels::DIVISIONS,
            training_sizes: Vec::new(),
        }
    }
}

/// One row of a report: whose figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row<K> {
    /// The commissioner, team or division.
    pub key: K,
    /// Their figures.
    pub figures: Figures,
}

/// The figures of a period at every level, each row counted from the facts
/// under the rules of docs/statistics.md. Rows are in key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The period.
    pub period: Period,
    /// Everything the filter selected.
    pub total: Figures,
    /// Per author with a counted log or a counted consultation.
    pub commissioners: Vec<Row<UserId>>,
    /// Per team recorded on a counted log or consultation.
    pub teams: Vec<Row<TeamId>>,
    /// Per county with a counted record, plus every county of the register
    /// the filter admits (with zeros when nobody served there).
    pub counties: Vec<Row<CountyCode>>,
    /// Per prefecture of those counties.
    pub prefectures: Vec<Row<PrefectureCode>>,
    /// Per province of those counties.
    pub provinces: Vec<Row<ProvinceCode>>,
    /// Register villages of the admitted counties that no counted log
    /// covered (未覆盖行政村), in code order. Empty without a register.
    pub uncovered_villages: Vec<VillageCode>,
}

fn find<'a, K: Ord>(rows: &'a [Row<K>], key: &K) -> Option<&'a Figures> {
    rows.binary_search_by(|r| r.key.cmp(key))
        .ok()
        .map(|i| &rows[i].figures)
}

impl Report {
    /// A commissioner's figures, if they have any counted record.
    pub fn commissioner(&self, id: UserId) -> Option<&Figures> {
        find(&self.commissioners, &id)
    }
    /// A team's figures.
    pub fn team(&self, id: TeamId) -> Option<&Figures> {
        find(&self.teams, &id)
    }
    /// A county's figures.
    pub fn county(&self, code: CountyCode) -> Option<&Figures> {
        find(&self.counties, &code)
    }
    /// A prefecture's figures.
    pub fn prefecture(&self, code: PrefectureCode) -> Option<&Figures> {
        find(&self.prefectures, &code)
    }
    /// A province's figures.
    pub fn province(&self, code: ProvinceCode) -> Option<&Figures> {
        find(&self.provinces, &code)
    }
}

/// Running counts of one group.
#[derive(Debug, Default)]
struct Acc {
    visits: u32,
    approved: u32,
    farmers: u64,
    trainings: u32,
    trainees: u64,
    trainings_no_trainees: u32,
    sized_trainings: Vec<u32>,
    demonstrations: u32,
    photos: u64,
    outside_register: u32,
    teams: FastSet<u32>,
    /// Per author (interned) with a counted log: the days of the period they
    /// served, one bit per day. Its keys are the active commissioners; the
    /// union of its bits the days with service; its bit count the person-days.
    person_days: FastMap<u32, Box<[u64]>>,
    /// Words per day bitmap.
    day_words: usize,
    villages: FastSet<u64>,
    items: [FastSet<u32>; 4],
    consultations: u32,
    answered: u32,
    before_asked: u32,
    answer_ms: Vec<i64>,
}

/// What one counted log adds, computed once for all its groups.
struct LogView<'a> {
    author: u32,
    team: Option<u32>,
    day: u32,
    village: u64,
    outside_register: bool,
    approved: bool,
    training: bool,
    trainees: Option<u32>,
    /// How many of the (ascending) training sizes this training reaches.
    sizes_reached: usize,
    demonstration: bool,
    farmers: u32,
    photos: u32,
    items: &'a [(usize, u32)],
}

fn or_days(into: &mut FastMap<u32, Box<[u64]>>, from: FastMap<u32, Box<[u64]>>) {
    for (author, bits) in from {
        match into.get_mut(&author) {
            Some(mine) => {
                for (a, b) in mine.iter_mut().zip(bits.iter()) {
                    *a |= b;
                }
            }
            None => {
                into.insert(author, bits);
            }
        }
    }
}

fn union<T: Copy + Eq + std::hash::Hash>(into: &mut FastSet<T>, mut from: FastSet<T>) {
    if from.len() > into.len() {
        std::mem::swap(into, &mut from);
    }
    into.extend(from);
}

impl Acc {
    fn add_log(&mut self, v: &LogView<'_>) {
        self.visits += 1;
        self.approved += u32::from(v.approved);
        self.farmers += u64::from(v.farmers);
        self.photos += u64::from(v.photos);
        self.outside_register += u32::from(v.outside_register);
        if v.training {
            self.trainings += 1;
            match v.trainees {
                Some(n) => self.trainees += u64::from(n),
                None => self.trainings_no_trainees += 1,
            }
            for c in &mut self.sized_trainings[..v.sizes_reached] {
                *c += 1;
            }
        }
        self.demonstrations += u32::from(v.demonstration);
        if let Some(t) = v.team {
            self.teams.insert(t);
        }
        let words = self.day_words;
        let days = self
            .person_days
            .entry(v.author)
            .or_insert_with(|| vec![0; words].into_boxed_slice());
        days[v.day as usize / 64] |= 1 << (v.day % 64);
        self.villages.insert(v.village);
        for &(kind, name) in v.items {
            self.items[kind].insert(name);
        }
    }

    fn add_consultation(&mut self, answered: bool, ms: Option<i64>) {
        self.consultations += 1;
        if answered {
            self.answered += 1;
            match ms {
                Some(ms) => self.answer_ms.push(ms),
                None => self.before_asked += 1,
            }
        }
    }

    /// The same counts with its interned ids (authors, teams, names)
    /// translated through the given tables (old id → new id).
    fn remapped(mut self, authors: &[u32], teams: &[u32], names: &[u32]) -> Acc {
        self.teams = self.teams.iter().map(|t| teams[*t as usize]).collect();
        self.person_days = self
            .person_days
            .drain()
            .map(|(a, bits)| (authors[a as usize], bits))
            .collect();
        for set in &mut self.items {
            *set = set.iter().map(|n| names[*n as usize]).collect();
        }
        self
    }

    /// Adds another group's counts and unites its sets (consuming it).
    fn absorb(&mut self, o: Acc) {
        self.visits += o.visits;
        self.approved += o.approved;
        self.farmers += o.farmers;
        self.trainings += o.trainings;
        self.trainees += o.trainees;
        self.trainings_no_trainees += o.trainings_no_trainees;
        for (a, b) in self.sized_trainings.iter_mut().zip(&o.sized_trainings) {
            *a += b;
        }
        self.demonstrations += o.demonstrations;
        self.photos += o.photos;
        self.outside_register += o.outside_register;
        union(&mut self.teams, o.teams);
        if o.person_days.len() > self.person_days.len() {
            let mine = std::mem::replace(&mut self.person_days, o.person_days);
            or_days(&mut self.person_days, mine);
        } else {
            or_days(&mut self.person_days, o.person_days);
        }
        union(&mut self.villages, o.villages);
        for (a, b) in self.items.iter_mut().zip(o.items) {
            union(a, b);
        }
        self.consultations += o.consultations;
        self.answered += o.answered;
        self.before_asked += o.before_asked;
        self.answer_ms.extend(o.answer_ms);
    }

    /// The figures of this group. `area` is the register's totals for a
    /// division row, `None` for a commissioner or a team.
    fn figures(
        &mut self,
        register: Option<&Register>,
        area: Option<CountyTotals>,
        sizes: &[u32],
    ) -> Figures {
        let mut any = vec![0u64; self.day_words];
        let mut person_days = 0u32;
        for bits in self.person_days.values() {
            for (a, b) in any.iter_mut().zip(bits.iter()) {
                *a |= b;
                person_days += b.count_ones();
            }
        }
        let service_days: u32 = any.iter().map(|w| w.count_ones()).sum();
        let townships: FastSet<u64> = self.villages.iter().map(|v| v / 1_000).collect();
        let share = |part: u32, whole: u32| (whole > 0).then(|| f64::from(part) / f64::from(whole));
        let (reg_villages, reg_townships) = match register {
            Some(r) => {
                let covered: Vec<u64> = self
                    .villages
                    .iter()
                    .copied()
                    .filter(|v| r.has_village(*v))
                    .collect();
                let townships: FastSet<u64> = covered
                    .iter()
                    .map(|v| v / 1_000)
                    .filter(|t| r.has_township(*t))
                    .collect();
                (Some(covered.len() as u32), Some(townships.len() as u32))
            }
            None => (None, None),
        };
        let area = area.filter(|_| register.is_some());
        Figures {
            active_commissioners: self.person_days.len() as u32,
            teams: self.teams.len() as u32,
            service_days,
            person_days,
            visits: self.visits,
            approved_logs: self.approved,
            approval_share: share(self.approved, self.visits),
            farmers_served: self.farmers,
            trainings: self.trainings,
            trainees: self.trainees,
            trainings_without_trainees: self.trainings_no_trainees,
            trainings_with_min_trainees: sizes
                .iter()
                .copied()
                .zip(self.sized_trainings.iter().copied())
                .collect(),
            demonstrations: self.demonstrations,
            villages_covered: self.villages.len() as u32,
            townships_covered: townships.len() as u32,
            register_villages_covered: reg_villages,
            register_villages: area.map(|a| a.villages),
            village_coverage: area.and_then(|a| share(reg_villages?, a.villages)),
            register_townships_covered: reg_townships,
            register_townships: area.map(|a| a.townships),
            township_coverage: area.and_then(|a| share(reg_townships?, a.townships)),
            logs_outside_register: register.map(|_| self.outside_register),
            technologies: self.items[ItemKind::Technology.index()].len() as u32,
            varieties: self.items[ItemKind::Variety.index()].len() as u32,
            enterprises: self.items[ItemKind::Enterprise.index()].len() as u32,
            cooperatives: self.items[ItemKind::Cooperative.index()].len() as u32,
            photos: self.photos,
            photos_per_log: (self.visits > 0).then(|| self.photos as f64 / f64::from(self.visits)),
            consultations: self.consultations,
            consultations_answered: self.answered,
            answers_before_asked: self.before_asked,
            median_minutes_to_first_answer: median_minutes(&mut self.answer_ms),
        }
    }
}

/// The median of `ms` in minutes (milliseconds / 60 000, not rounded): the
/// middle value, or with an even count the mean of the two middle values.
pub fn median_minutes(ms: &mut [i64]) -> Option<f64> {
    let n = ms.len();
    if n == 0 {
        return None;
    }
    let (_, upper, _) = ms.select_nth_unstable(n / 2);
    let upper = *upper as f64;
    let value = if n % 2 == 1 {
        upper
    } else {
        // The largest of the lower half is the other middle value.
        let lower = *ms[..n / 2].iter().max().expect("n >= 2") as f64;
        (lower + upper) / 2.0
    };
    Some(value / 60_000.0)
}

/// The id of a spelling that normalises to nothing (never in a set).
const NO_NAME: u32 = u32::MAX;

/// Whether `raw` is already its own normal form ([`normalise_name`]).
fn is_normal(raw: &str) -> bool {
    let mut prev_space = true;
    for c in raw.chars() {
        if c.is_whitespace() {
            if prev_space {
                return false;
            }
            if c != ' ' {
                return false;
            }
            prev_space = true;
        } else if c.is_ascii_uppercase() || ('\u{FF01}'..='\u{FF5E}').contains(&c) {
            return false;
        } else {
            prev_space = false;
        }
    }
    !prev_space || raw.is_empty()
}

/// Counts facts into a [`Report`], one fact at a time: how the server
/// streams a province's rows without holding them.
#[derive(Debug)]
pub struct ReportBuilder<'r> {
    period: Period,
    /// The period's first day (days from the common era).
    first_day: i32,
    /// Words of a day bitmap over the period.
    day_words: usize,
    instants: (Timestamp, Timestamp),
    filter: Admit,
    levels: Levels,
    sizes: Vec<u32>,
    register: Option<&'r Register>,
    authors: FastMap<UserId, u32>,
    author_ids: Vec<UserId>,
    teams: FastMap<TeamId, u32>,
    team_ids: Vec<TeamId>,
    names: FastMap<Box<str>, u32>,
    /// Each spelling met so far, as written (bytes), to its normal form's
    /// id in `names` ([`NO_NAME`] for one that normalises to nothing): the
    /// same few spellings recur in millions of logs, so each is decoded and
    /// normalised once.
    spellings: FastMap<Box<[u8]>, u32>,
    name_buf: String,
    item_buf: Vec<(usize, u32)>,
    counties: FastMap<u64, Acc>,
    commissioners: Vec<Acc>,
    team_accs: Vec<Acc>,
}

impl<'r> ReportBuilder<'r> {
    /// A builder for `request`, measuring coverage against `register` when
    /// one is given.
    pub fn new(request: &StatsRequest, register: Option<&'r Register>) -> Self {
        let mut sizes = request.training_sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        ReportBuilder {
            first_day: request.period.from.num_days_from_ce(),
            day_words: (request.period.days() as usize).div_ceil(64),
            period: request.period,
            instants: request.period.instants(),
            filter: Admit::new(&request.filter),
            levels: request.levels,
            sizes,
            register,
            authors: FastMap::default(),
            author_ids: Vec::new(),
            teams: FastMap::default(),
            team_ids: Vec::new(),
            names: FastMap::default(),
            spellings: FastMap::default(),
            name_buf: String::new(),
            item_buf: Vec::new(),
            counties: FastMap::default(),
            commissioners: Vec::new(),
            team_accs: Vec::new(),
        }
    }

    fn new_acc(&self) -> Acc {
        Acc {
            sized_trainings: vec![0; self.sizes.len()],
            day_words: self.day_words,
            ..Acc::default()
        }
    }

    fn author(&mut self, id: UserId) -> u32 {
        if let Some(i) = self.authors.get(&id) {
            return *i;
        }
        let i = self.author_ids.len() as u32;
        self.authors.insert(id, i);
        self.author_ids.push(id);
        if self.levels.commissioners {
            self.commissioners.push(self.new_acc());
        }
        i
    }

    fn team(&mut self, id: TeamId) -> u32 {
        if let Some(i) = self.teams.get(&id) {
            return *i;
        }
        let i = self.team_ids.len() as u32;
        self.teams.insert(id, i);
        self.team_ids.push(id);
        if self.levels.teams {
            self.team_accs.push(self.new_acc());
        }
        i
    }

    fn county_acc(&mut self, county: u64) -> &mut Acc {
        if !self.counties.contains_key(&county) {
            let acc = self.new_acc();
            self.counties.insert(county, acc);
        }
        self.counties.get_mut(&county).expect("just inserted")
    }

    /// The id of the normal form of a name written as `raw` (UTF-8; a
    /// byte that is not is read as U+FFFD), or [`NO_NAME`] when nothing is
    /// left of it.
    fn name_id(&mut self, raw: &[u8]) -> u32 {
        if let Some(id) = self.spellings.get(raw) {
            return *id;
        }
        let text = String::from_utf8_lossy(raw);
        let mut buf = std::mem::take(&mut self.name_buf);
        let name = if is_normal(&text) {
            &*text
        } else {
            normalise_name(&text, &mut buf);
            buf.as_str()
        };
        let id = if name.is_empty() {
            NO_NAME
        } else {
            match self.names.get(name) {
                Some(id) => *id,
                None => {
                    let id = self.names.len() as u32;
                    self.names.insert(name.into(), id);
                    id
                }
            }
        };
        self.name_buf = buf;
        self.spellings.insert(raw.into(), id);
        id
    }

    /// Counts one log with its named items (technologies, varieties,
    /// enterprises, cooperatives, as written, `&str` or UTF-8 bytes: they
    /// are normalised here). A log that does not count (draft, returned,
    /// duplicate, outside the period or the filter) changes nothing.
    pub fn add_log<'a, S: AsRef<[u8]> + ?Sized + 'a>(
        &mut self,
        fact: &LogFact,
        items: impl IntoIterator<Item = (ItemKind, &'a S)>,
    ) {
        let county = fact.village.county().as_int();
        if !fact.counts()
            || !self.period.contains_date(fact.date)
            || !self.filter.record(fact.author, fact.team, county)
        {
            return;
        }
        let author = self.author(fact.author);
        let team = fact.team.map(|t| self.team(t));
        let mut item_buf = std::mem::take(&mut self.item_buf);
        item_buf.clear();
        for (kind, raw) in items {
            let id = self.name_id(raw.as_ref());
            if id != NO_NAME {
                item_buf.push((kind.index(), id));
            }
        }
        let training = fact.activity == ActivityType::Training;
        let trainees = fact.trainees.unwrap_or(0);
        let view = LogView {
            author,
            team,
            day: (fact.date.num_days_from_ce() - self.first_day) as u32,
            village: fact.village.as_int(),
            outside_register: self
                .register
                .is_some_and(|r| !r.has_village(fact.village.as_int())),
            approved: fact.status == super::FactStatus::Approved,
            training,
            trainees: fact.trainees,
            sizes_reached: if training {
                self.sizes.partition_point(|min| *min <= trainees)
            } else {
                0
            },
            demonstration: fact.activity == ActivityType::Demonstration,
            farmers: fact.farmers_served,
            photos: fact.photos,
            items: &item_buf,
        };
        self.county_acc(county).add_log(&view);
        if self.levels.commissioners {
            self.commissioners[author as usize].add_log(&view);
        }
        if let (true, Some(t)) = (self.levels.teams, team) {
            self.team_accs[t as usize].add_log(&view);
        }
        self.item_buf = item_buf;
    }

    /// Counts one log entry.
    pub fn add_entry(&mut self, entry: &LogEntry) {
        self.add_log(&entry.fact, entry.items());
    }

    /// Counts one consultation. A duplicate, or one asked outside the period
    /// (China time) or the filter, changes nothing.
    pub fn add_consultation(&mut self, fact: &ConsultationFact) {
        let county = fact.village.county().as_int();
        let (start, end) = self.instants;
        if fact.duplicate
            || self.period.is_empty()
            || fact.asked_at < start
            || fact.asked_at >= end
            || !self.filter.record(fact.author, fact.team, county)
        {
            return;
        }
        let author = self.author(fact.author);
        let team = fact.team.map(|t| self.team(t));
        let answered = fact.first_answered_at.is_some();
        let ms = fact.answer_millis();
        self.county_acc(county).add_consultation(answered, ms);
        if self.levels.commissioners {
            self.commissioners[author as usize].add_consultation(answered, ms);
        }
        if let (true, Some(t)) = (self.levels.teams, team) {
            self.team_accs[t as usize].add_consultation(answered, ms);
        }
    }

    /// Adds everything `other` counted, as if its facts had been given to
    /// this builder: counts add up, sets (commissioners, days, villages,
    /// teams, named items) unite, answer times join, so every figure stays
    /// exact (a distinct count stays distinct, a median is still of all
    /// answers). How the server counts a report's rows on several threads:
    /// each with its own builder for the same request, then one merged.
    pub fn merge(&mut self, mut other: ReportBuilder<'_>) {
        // Other's interned ids in this builder.
        let authors: Vec<u32> = other.author_ids.iter().map(|a| self.author(*a)).collect();
        let teams: Vec<u32> = other.team_ids.iter().map(|t| self.team(*t)).collect();
        let mut names = vec![0u32; other.names.len()];
        for (name, id) in other.names.drain() {
            let next = self.names.len() as u32;
            names[id as usize] = *self.names.entry(name).or_insert(next);
        }
        let remap = |acc: Acc| acc.remapped(&authors, &teams, &names);
        for (county, acc) in other.counties.drain() {
            let acc = remap(acc);
            match self.counties.get_mut(&county) {
                Some(mine) => mine.absorb(acc),
                None => {
                    self.counties.insert(county, acc);
                }
            }
        }
        for (i, acc) in std::mem::take(&mut other.commissioners)
            .into_iter()
            .enumerate()
        {
            let acc = remap(acc);
            if let Some(mine) = self.commissioners.get_mut(authors[i] as usize) {
                mine.absorb(acc);
            }
        }
        for (i, acc) in std::mem::take(&mut other.team_accs).into_iter().enumerate() {
            let acc = remap(acc);
            if let Some(mine) = self.team_accs.get_mut(teams[i] as usize) {
                mine.absorb(acc);
            }
        }
    }

    /// The report.
    pub fn finish(mut self) -> Report {
        let register = self.register;
        let sizes = self.sizes.clone();
        let totals: BTreeMap<u64, CountyTotals> =
            register.map(Register::county_totals).unwrap_or_default();
        let mut counties: BTreeMap<u64, Acc> = self.counties.drain().collect();
        for county in totals.keys() {
            if self.filter.county(*county) {
                counties.entry(*county).or_insert_with(|| self.new_acc());
            }
        }

        let area_of = |county: u64| totals.get(&county).copied().unwrap_or_default();
        let add = |a: CountyTotals, b: CountyTotals| CountyTotals {
            townships: a.townships + b.townships,
            villages: a.villages + b.villages,
        };

        let mut uncovered = Vec::new();
        let mut county_rows = Vec::with_capacity(counties.len());
        let mut prefectures: BTreeMap<u64, (Acc, CountyTotals)> = BTreeMap::new();
        for (code, mut acc) in counties {
            let Ok(key) = CountyCode::from_int(code) else {
                continue;
            };
            let area = area_of(code);
            if let Some(r) = register {
                uncovered.extend(
                    r.villages_of(key)
                        .filter(|(v, _)| !acc.villages.contains(v))
                        .filter_map(|(v, _)| VillageCode::from_int(v).ok()),
                );
            }
            county_rows.push(Row {
                key,
                figures: acc.figures(register, Some(area), &sizes),
            });
            let (p, t) = prefectures
                .entry(code / 100)
                .or_insert_with(|| (self.new_acc(), CountyTotals::default()));
            p.absorb(acc);
            *t = add(*t, area);
        }

        let mut prefecture_rows = Vec::with_capacity(prefectures.len());
        let mut provinces: BTreeMap<u64, (Acc, CountyTotals)> = BTreeMap::new();
        for (code, (mut acc, area)) in prefectures {
            let Ok(key) = PrefectureCode::from_int(code) else {
                continue;
            };
            prefecture_rows.push(Row {
                key,
                figures: acc.figures(register, Some(area), &sizes),
            });
            let (p, t) = provinces
                .entry(code / 100)
                .or_insert_with(|| (self.new_acc(), CountyTotals::default()));
            p.absorb(acc);
            *t = add(*t, area);
        }

        let mut province_rows = Vec::with_capacity(provinces.len());
        let mut total = self.new_acc();
        let mut total_area = CountyTotals::default();
        for (code, (mut acc, area)) in provinces {
            let Ok(key) = ProvinceCode::from_int(code) else {
                continue;
            };
            province_rows.push(Row {
                key,
                figures: acc.figures(register, Some(area), &sizes),
            });
            total.absorb(acc);
            total_area = add(total_area, area);
        }

        let mut commissioners: Vec<Row<UserId>> = self
            .commissioners
            .iter_mut()
            .zip(&self.author_ids)
            .map(|(acc, id)| Row {
                key: *id,
                figures: acc.figures(register, None, &sizes),
            })
            .collect();
        commissioners.sort_by_key(|r| r.key);
        let mut teams: Vec<Row<TeamId>> = self
            .team_accs
            .iter_mut()
            .zip(&self.team_ids)
            .map(|(acc, id)| Row {
                key: *id,
                figures: acc.figures(register, None, &sizes),
            })
            .collect();
        teams.sort_by_key(|r| r.key);

        Report {
            period: self.period,
            total: total.figures(register, Some(total_area), &sizes),
            commissioners,
            teams,
            counties: county_rows,
            prefectures: prefecture_rows,
            provinces: province_rows,
            uncovered_villages: uncovered,
        }
    }
}

/// Computes a report from owned entries and consultation facts.
pub fn compute<'a>(
    request: &StatsRequest,
    register: Option<&Register>,
    logs: impl IntoIterator<Item = &'a LogEntry>,
    consultations: impl IntoIterator<Item = &'a ConsultationFact>,
) -> Report {
    let mut b = ReportBuilder::new(request, register);
    for l in logs {
        b.add_entry(l);
    }
    for c in consultations {
        b.add_consultation(c);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let min = 60_000;
        assert_eq!(median_minutes(&mut []), None);
        assert_eq!(median_minutes(&mut [7 * min]), Some(7.0));
        assert_eq!(median_minutes(&mut [30 * min, 10 * min]), Some(20.0));
        assert_eq!(
            median_minutes(&mut [3 * min, 10 * min, 1, 4 * min]),
            Some(3.5)
        );
        // Not rounded to the minute: 1 and 2 minutes give 1.5.
        assert_eq!(median_minutes(&mut [min, 2 * min]), Some(1.5));
        assert_eq!(median_minutes(&mut [0, 90_000]), Some(0.75));
    }

    #[test]
    fn clean_names_are_recognised_as_normal() {
        let mut buf = String::new();
        for raw in [
            "测土配方施肥",
            "bt 抗虫棉",
            "Bt 抗虫棉",
            " 黔茶1号",
            "黔茶1号 ",
            "黔茶１号",
            "a  b",
            "a\tb",
            "\u{3000}",
            "",
        ] {
            normalise_name(raw, &mut buf);
            assert_eq!(is_normal(raw), buf == raw, "{raw:?}");
        }
    }

    #[test]
    fn an_area_holds_its_counties() {
        let c = 520_324;
        assert!(Area::Province(ProvinceCode::parse("52").unwrap()).contains_county(c));
        assert!(Area::Prefecture(PrefectureCode::parse("5203").unwrap()).contains_county(c));
        assert!(!Area::Prefecture(PrefectureCode::parse("5204").unwrap()).contains_county(c));
        assert!(Area::County(CountyCode::parse("520324").unwrap()).contains_county(c));
    }
}
