//! The service log (服务日志): one visit or activity by a commissioner.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::validate::{self, Context, FieldError, ValidationError, Warning};
use super::{
    Decision, DuplicateMark, GeoPoint, PartyId, PhotoMeta, Resolution, ServiceLogId, TeamId,
    Timestamp, UserId, VillageCode,
};

code_enum! {
    /// The kind of activity (活动类型).
    pub enum ActivityType {
        /// 技术指导.
        TechnicalGuidance = ("technical_guidance", "技术指导"),
        /// 技术培训: carries a number of trainees (培训人次).
        Training = ("training", "技术培训"),
        /// 示范推广.
        Demonstration = ("demonstration", "示范推广"),
        /// 咨询服务.
        Consultation = ("consultation", "咨询服务"),
        /// 创业带动.
        Entrepreneurship = ("entrepreneurship", "创业带动"),
        /// 项目实施.
        Project = ("project", "项目实施"),
        /// 其他.
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// Where a log is in review (状态).
    pub enum LogStatus {
        /// 草稿: saved, not yet handed in for review.
        Draft = ("draft", "草稿"),
        /// 已提交: waiting for the team lead.
        Submitted = ("submitted", "已提交"),
        /// 已通过.
        Approved = ("approved", "已通过"),
        /// 已退回: returned with the team lead's comment.
        Returned = ("returned", "已退回"),
    }
}

code_enum! {
    /// Who was served (服务对象类型).
    pub enum PartyKind {
        /// 农户.
        Farmer = ("farmer", "农户"),
        /// 农民专业合作社.
        Cooperative = ("cooperative", "合作社"),
        /// 家庭农场.
        FamilyFarm = ("family_farm", "家庭农场"),
        /// 龙头企业 or other enterprise.
        Enterprise = ("enterprise", "企业"),
        /// 村集体.
        VillageCollective = ("village_collective", "村集体"),
    }
}

/// A named farmer, cooperative or enterprise served (服务对象). Keyed by `id`
/// so concurrent additions on two devices both survive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ServedParty {
    /// Stable ID of this entry.
    #[cfg_attr(feature = "doc", key)]
    pub id: PartyId,
    /// Farmer, cooperative, enterprise …
    pub kind: PartyKind,
    /// The name as the commissioner wrote it.
    pub name: String,
}

/// The team lead's review (审核) of a log: only these fields and the status
/// may be written by a team lead.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Review {
    /// 审核意见: the comment, as collaborative text.
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::text"))]
    pub comment: String,
    /// Who reviewed last.
    pub by: Option<UserId>,
    /// When, by the reviewer's device clock.
    pub at: Option<Timestamp>,
}

/// Service log (服务日志 / 工作日志): one visit or activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ServiceLog {
    /// Stable ID, also the document's ID.
    pub id: ServiceLogId,
    /// The commissioner who owns the log. Never changes.
    pub author: UserId,
    /// The author's team when the log was made.
    pub team: Option<TeamId>,
    /// The day of the work (China time).
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::domain::time::doc_date"))]
    pub date: NaiveDate,
    /// Start time, if recorded.
    #[cfg_attr(
        feature = "doc",
        autosurgeon(with = "crate::domain::time::doc_time_opt")
    )]
    pub start_time: Option<NaiveTime>,
    /// End time, if recorded; never before the start.
    #[cfg_attr(
        feature = "doc",
        autosurgeon(with = "crate::domain::time::doc_time_opt")
    )]
    pub end_time: Option<NaiveTime>,
    /// The administrative village served (from the register).
    pub village: VillageCode,
    /// Where the device was, when it knew.
    pub location: Option<GeoPoint>,
    /// What kind of work.
    pub activity: ActivityType,
    /// 产业: the industry served (茶叶, 猕猴桃 …).
    pub industry: String,
    /// 服务农户数: farmers served.
    pub farmers_served: u32,
    /// 培训人次: trainees, for trainings.
    pub trainees: Option<u32>,
    /// Named farmers, cooperatives and enterprises served.
    pub served: Vec<ServedParty>,
    /// 新技术: technologies promoted.
    pub technologies: Vec<String>,
    /// 新品种: varieties promoted.
    pub varieties: Vec<String>,
    /// 工作内容: what was done, as collaborative text.
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::text"))]
    pub description: String,
    /// Photos of the work.
    pub photos: Vec<PhotoMeta>,
    /// Where the log is in review.
    pub status: LogStatus,
    /// The team lead's latest review, mirrored from the last decision so
    /// that schema-1 readers see it.
    pub review: Review,
    /// When the log was first saved, by the author's device clock.
    pub created_at: Timestamp,
    /// 审核记录: every review decision, oldest first; append-only (schema 2).
    #[serde(default)]
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::append_only"))]
    pub reviews: Vec<Decision>,
    /// 冲突处理记录: every conflict resolution; append-only (schema 2).
    #[serde(default)]
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::append_only"))]
    pub resolutions: Vec<Resolution>,
    /// 重复标记: set when this log duplicates another (schema 2).
    #[serde(default)]
    #[cfg_attr(feature = "doc", autosurgeon(missing = "Default::default"))]
    pub duplicate: Option<DuplicateMark>,
}

/// A named party as a form sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServedPartyInput {
    /// The entry's ID when editing an existing one; none for a new entry.
    pub id: Option<PartyId>,
    /// A [`PartyKind`] code.
    pub kind: String,
    /// The name.
    pub name: String,
}

/// A service log as a form or command sends it: nothing here is trusted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceLogInput {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`, or empty.
    pub start_time: Option<String>,
    /// `HH:MM`, or empty.
    pub end_time: Option<String>,
    /// A 12-digit village code.
    pub village: String,
    /// The device's position, if it has one.
    pub location: Option<GeoPoint>,
    /// An [`ActivityType`] code.
    pub activity: String,
    /// The industry served.
    pub industry: String,
    /// Farmers served.
    pub farmers_served: i64,
    /// Trainees, for trainings.
    pub trainees: Option<i64>,
    /// Named parties served.
    pub served: Vec<ServedPartyInput>,
    /// Technologies promoted.
    pub technologies: Vec<String>,
    /// Varieties promoted.
    pub varieties: Vec<String>,
    /// Free-text description.
    pub description: String,
    /// Photos already stored on the device.
    pub photos: Vec<PhotoMeta>,
}

/// The validated content of an input, before it is put on a record.
struct Parsed {
    date: NaiveDate,
    start_time: Option<NaiveTime>,
    end_time: Option<NaiveTime>,
    village: VillageCode,
    location: Option<GeoPoint>,
    activity: ActivityType,
    industry: String,
    farmers_served: u32,
    trainees: Option<u32>,
    served: Vec<ServedParty>,
    technologies: Vec<String>,
    varieties: Vec<String>,
    description: String,
    photos: Vec<PhotoMeta>,
}

/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Longest short text (industry, a name, a technology), in characters.
pub const MAX_SHORT_CHARS: usize = 100;

impl ServiceLogInput {
    fn parse(&self, ctx: &Context<'_>) -> Result<(Parsed, Vec<Warning>), ValidationError> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();

        let date = validate::date("date", &self.date, &mut errors);
        let start_time = validate::time_opt("start_time", self.start_time.as_deref(), &mut errors);
        let end_time = validate::time_opt("end_time", self.end_time.as_deref(), &mut errors);
        if let (Some(Some(start)), Some(Some(end))) = (start_time, end_time)
            && end < start
        {
            errors.push(FieldError::EndBeforeStart { start, end });
        }
        if let Some(date) = date {
            validate::date_plausible(date, ctx, &mut warnings);
        }
        let village = validate::village("village", &self.village, ctx, &mut errors, &mut warnings);
        validate::location(self.location.as_ref(), &mut errors, &mut warnings);
        let activity = validate::code(
            "activity",
            &self.activity,
            ActivityType::from_code,
            &mut errors,
        );
        let industry = validate::short_text("industry", &self.industry, true, &mut errors);
        let farmers_served = validate::count("farmers_served", self.farmers_served, &mut errors);
        let trainees = match self.trainees {
            Some(n) => validate::count("trainees", n, &mut errors).map(Some),
            None => Some(None),
        };
        if activity == Some(ActivityType::Training) && self.trainees.is_none() {
            warnings.push(Warning::TrainingWithoutTrainees);
        }
        let mut served = Vec::with_capacity(self.served.len());
        for party in &self.served {
            let kind = validate::code(
                "served.kind",
                &party.kind,
                PartyKind::from_code,
                &mut errors,
            );
            let name = validate::short_text("served.name", &party.name, true, &mut errors);
            if let (Some(kind), Some(name)) = (kind, name) {
                let id = party.id.unwrap_or_else(|| ctx.new_party_id());
                served.push(ServedParty { id, kind, name });
            }
        }
        let technologies = validate::short_list("technologies", &self.technologies, &mut errors);
        let varieties = validate::short_list("varieties", &self.varieties, &mut errors);
        let description = validate::long_text(
            "description",
            &self.description,
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );

        if !errors.is_empty() {
            return Err(ValidationError::new(errors));
        }
        let parsed = Parsed {
            date: date.expect("no errors"),
            start_time: start_time.expect("no errors"),
            end_time: end_time.expect("no errors"),
            village: village.expect("no errors"),
            location: self.location,
            activity: activity.expect("no errors"),
            industry: industry.expect("no errors"),
            farmers_served: farmers_served.expect("no errors"),
            trainees: trainees.expect("no errors"),
            served,
            technologies,
            varieties,
            description: description.expect("no errors"),
            photos: self.photos.clone(),
        };
        Ok((parsed, warnings))
    }

    /// Validates the input into a new log owned by `author`, in status
    /// [`LogStatus::Draft`] or [`LogStatus::Submitted`].
    pub fn into_new(
        &self,
        id: ServiceLogId,
        author: UserId,
        team: Option<TeamId>,
        submit: bool,
        ctx: &Context<'_>,
    ) -> Result<super::Checked<ServiceLog>, ValidationError> {
        let (p, warnings) = self.parse(ctx)?;
        let log = ServiceLog {
            id,
            author,
            team,
            date: p.date,
            start_time: p.start_time,
            end_time: p.end_time,
            village: p.village,
            location: p.location,
            activity: p.activity,
            industry: p.industry,
            farmers_served: p.farmers_served,
            trainees: p.trainees,
            served: p.served,
            technologies: p.technologies,
            varieties: p.varieties,
            description: p.description,
            photos: p.photos,
            status: if submit {
                LogStatus::Submitted
            } else {
                LogStatus::Draft
            },
            review: Review::default(),
            created_at: ctx.now,
            reviews: Vec::new(),
            resolutions: Vec::new(),
            duplicate: None,
        };
        Ok(super::Checked {
            value: log,
            warnings,
        })
    }

    /// Validates the input and, only if it is valid, writes its fields onto
    /// `log`. Identity, status and review are untouched.
    pub fn apply_to(
        &self,
        log: &mut ServiceLog,
        ctx: &Context<'_>,
    ) -> Result<Vec<Warning>, ValidationError> {
        let (p, warnings) = self.parse(ctx)?;
        log.date = p.date;
        log.start_time = p.start_time;
        log.end_time = p.end_time;
        log.village = p.village;
        log.location = p.location;
        log.activity = p.activity;
        log.industry = p.industry;
        log.farmers_served = p.farmers_served;
        log.trainees = p.trainees;
        log.served = p.served;
        log.technologies = p.technologies;
        log.varieties = p.varieties;
        log.description = p.description;
        log.photos = p.photos;
        Ok(warnings)
    }
}

impl ServiceLog {
    /// Checks the log's content against the same rules as a form's input
    /// (a value typed to resolve a conflict must pass them too).
    pub fn validate(&self, ctx: &Context<'_>) -> Result<Vec<Warning>, ValidationError> {
        let mut copy = self.clone();
        self.to_input().apply_to(&mut copy, ctx)
    }

    /// The input that would reproduce this log's editable fields: what an edit
    /// form starts from.
    pub fn to_input(&self) -> ServiceLogInput {
        ServiceLogInput {
            date: self.date.format("%Y-%m-%d").to_string(),
            start_time: self.start_time.map(|t| t.format("%H:%M").to_string()),
            end_time: self.end_time.map(|t| t.format("%H:%M").to_string()),
            village: self.village.to_string(),
            location: self.location,
            activity: self.activity.code().to_string(),
            industry: self.industry.clone(),
            farmers_served: i64::from(self.farmers_served),
            trainees: self.trainees.map(i64::from),
            served: self
                .served
                .iter()
                .map(|p| ServedPartyInput {
                    id: Some(p.id),
                    kind: p.kind.code().to_string(),
                    name: p.name.clone(),
                })
                .collect(),
            technologies: self.technologies.clone(),
            varieties: self.varieties.clone(),
            description: self.description.clone(),
            photos: self.photos.clone(),
        }
    }
}
