//! The farmer consultation (农户咨询 / 问题诊断): a farmer's question, the
//! advice given, and the follow-ups until it is closed.

use serde::{Deserialize, Serialize};

use super::validate::{self, Context, FieldError, ValidationError, Warning};
use super::{
    ConsultationId, DuplicateMark, FollowUpId, PhotoMeta, Resolution, TeamId, Timestamp, UserId,
    VillageCode,
};

code_enum! {
    /// How the question came in (渠道).
    pub enum Channel {
        /// 现场.
        OnSite = ("on_site", "现场"),
        /// 电话.
        Phone = ("phone", "电话"),
        /// 微信或短信.
        Message = ("message", "消息"),
    }
}

code_enum! {
    /// Where a consultation stands (状态).
    pub enum ConsultationStatus {
        /// 待答复.
        Open = ("open", "待答复"),
        /// 已答复.
        Answered = ("answered", "已答复"),
        /// 需回访.
        FollowUpNeeded = ("follow_up_needed", "需回访"),
        /// 已关闭.
        Closed = ("closed", "已关闭"),
    }
}

/// The farmer who asked (农户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct FarmerContact {
    /// Name.
    pub name: String,
    /// Phone, digits only; empty when not given.
    pub phone: String,
    /// The farmer's village.
    pub village: VillageCode,
}

/// A dated follow-up note (回访记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct FollowUp {
    /// Stable ID; list items merge by it.
    #[cfg_attr(feature = "doc", key)]
    pub id: FollowUpId,
    /// When, by the writer's device clock.
    pub at: Timestamp,
    /// Who wrote it.
    pub by: UserId,
    /// The note, as collaborative text.
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::text"))]
    pub note: String,
}

/// Farmer consultation (农户咨询 / 问题诊断).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Consultation {
    /// Stable ID, also the document's ID.
    pub id: ConsultationId,
    /// The commissioner who owns it. Never changes.
    pub author: UserId,
    /// The author's team when it was made.
    pub team: Option<TeamId>,
    /// Who asked.
    pub farmer: FarmerContact,
    /// 作物或畜禽: the crop or livestock concerned.
    pub subject: String,
    /// The problem in the farmer's words, as collaborative text.
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::text"))]
    pub problem: String,
    /// How it came in.
    pub channel: Channel,
    /// When the farmer asked.
    pub asked_at: Timestamp,
    /// 诊断与建议: diagnosis and advice, as collaborative text.
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::text"))]
    pub advice: String,
    /// When the first answer was given; the time from `asked_at` to this is a
    /// service-quality figure.
    pub first_answered_at: Option<Timestamp>,
    /// Where it stands.
    pub status: ConsultationStatus,
    /// Follow-up notes, oldest first.
    pub follow_ups: Vec<FollowUp>,
    /// Photos (a sick leaf, a lame cow).
    pub photos: Vec<PhotoMeta>,
    /// When it was first saved, by the author's device clock.
    pub created_at: Timestamp,
    /// 冲突处理记录: every conflict resolution; append-only (schema 2).
    #[serde(default)]
    #[cfg_attr(feature = "doc", autosurgeon(with = "crate::doc::append_only"))]
    pub resolutions: Vec<Resolution>,
    /// 重复标记: set when this consultation duplicates another (schema 2).
    #[serde(default)]
    #[cfg_attr(feature = "doc", autosurgeon(missing = "Default::default"))]
    pub duplicate: Option<DuplicateMark>,
}

/// A consultation as a form sends it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConsultationInput {
    /// Farmer's name.
    pub farmer_name: String,
    /// Farmer's phone, may be empty.
    pub farmer_phone: String,
    /// A 12-digit village code.
    pub farmer_village: String,
    /// Crop or livestock.
    pub subject: String,
    /// The problem.
    pub problem: String,
    /// A [`Channel`] code.
    pub channel: String,
    /// When asked: `YYYY-MM-DD HH:MM` China time, or empty for now.
    pub asked_at: String,
    /// Photos already stored on the device.
    pub photos: Vec<PhotoMeta>,
}

/// Longest problem, advice or note, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;

struct Parsed {
    farmer: FarmerContact,
    subject: String,
    problem: String,
    channel: Channel,
    asked_at: Timestamp,
    photos: Vec<PhotoMeta>,
}

fn parse_local_datetime(
    field: &str,
    s: &str,
    now: Timestamp,
    errors: &mut Vec<FieldError>,
) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return Some(now);
    }
    let normalized = s.replacen('T', " ", 1);
    match chrono::NaiveDateTime::parse_from_str(&normalized, "%Y-%m-%d %H:%M") {
        Ok(at) => Some(Timestamp::from_china_local(at)),
        Err(_) => {
            errors.push(FieldError::BadDate {
                field: field.into(),
                value: s.into(),
            });
            None
        }
    }
}

impl ConsultationInput {
    fn parse(&self, ctx: &Context<'_>) -> Result<(Parsed, Vec<Warning>), ValidationError> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let name = validate::short_text("farmer_name", &self.farmer_name, true, &mut errors);
        let phone = validate::phone(&self.farmer_phone, &mut errors);
        let village = validate::village(
            "farmer_village",
            &self.farmer_village,
            ctx,
            &mut errors,
            &mut warnings,
        );
        let subject = validate::short_text("subject", &self.subject, true, &mut errors);
        let problem =
            validate::long_text("problem", self.problem.trim(), MAX_NOTE_CHARS, &mut errors);
        if self.problem.trim().is_empty() {
            errors.push(FieldError::Required {
                field: "problem".into(),
            });
        }
        let channel = validate::code("channel", &self.channel, Channel::from_code, &mut errors);
        let asked_at = parse_local_datetime("asked_at", &self.asked_at, ctx.now, &mut errors);
        if let Some(date) = asked_at.and_then(Timestamp::china_date) {
            validate::date_plausible(date, ctx, &mut warnings);
        }
        if !errors.is_empty() {
            return Err(ValidationError::new(errors));
        }
        Ok((
            Parsed {
                farmer: FarmerContact {
                    name: name.expect("no errors"),
                    phone: phone.expect("no errors"),
                    village: village.expect("no errors"),
                },
                subject: subject.expect("no errors"),
                problem: problem.expect("no errors"),
                channel: channel.expect("no errors"),
                asked_at: asked_at.expect("no errors"),
                photos: self.photos.clone(),
            },
            warnings,
        ))
    }

    /// Validates the input into a new open consultation owned by `author`.
    pub fn into_new(
        &self,
        id: ConsultationId,
        author: UserId,
        team: Option<TeamId>,
        ctx: &Context<'_>,
    ) -> Result<super::Checked<Consultation>, ValidationError> {
        let (p, warnings) = self.parse(ctx)?;
        Ok(super::Checked {
            value: Consultation {
                id,
                author,
                team,
                farmer: p.farmer,
                subject: p.subject,
                problem: p.problem,
                channel: p.channel,
                asked_at: p.asked_at,
                advice: String::new(),
                first_answered_at: None,
                status: ConsultationStatus::Open,
                follow_ups: Vec::new(),
                photos: p.photos,
                created_at: ctx.now,
                resolutions: Vec::new(),
                duplicate: None,
            },
            warnings,
        })
    }

    /// Validates the input and, only if valid, writes its fields onto `c`.
    pub fn apply_to(
        &self,
        c: &mut Consultation,
        ctx: &Context<'_>,
    ) -> Result<Vec<Warning>, ValidationError> {
        let (p, warnings) = self.parse(ctx)?;
        if let Some(first) = c.first_answered_at
            && first < p.asked_at
        {
            return Err(ValidationError::new(vec![FieldError::OutOfOrder {
                field: "asked_at".into(),
                before: "first_answered_at".into(),
            }]));
        }
        c.farmer = p.farmer;
        c.subject = p.subject;
        c.problem = p.problem;
        c.channel = p.channel;
        c.asked_at = p.asked_at;
        c.photos = p.photos;
        Ok(warnings)
    }
}

impl Consultation {
    /// The input that would reproduce this consultation's editable fields.
    pub fn to_input(&self) -> ConsultationInput {
        ConsultationInput {
            farmer_name: self.farmer.name.clone(),
            farmer_phone: self.farmer.phone.clone(),
            farmer_village: self.farmer.village.to_string(),
            subject: self.subject.clone(),
            problem: self.problem.clone(),
            channel: self.channel.code().to_string(),
            asked_at: self
                .asked_at
                .to_china()
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            photos: self.photos.clone(),
        }
    }

    /// Checks the consultation against the same rules as a form's input and
    /// its answer and notes against their limits (a value typed to resolve
    /// a conflict must pass them too).
    pub fn validate(&self, ctx: &Context<'_>) -> Result<Vec<Warning>, ValidationError> {
        let mut copy = self.clone();
        let result = self.to_input().apply_to(&mut copy, ctx);
        let mut errors = match &result {
            Ok(_) => Vec::new(),
            Err(e) => e.errors.clone(),
        };
        validate::long_text("advice", &self.advice, MAX_NOTE_CHARS, &mut errors);
        for f in &self.follow_ups {
            validate::long_text("note", &f.note, MAX_NOTE_CHARS, &mut errors);
        }
        if errors.is_empty() {
            result
        } else {
            Err(ValidationError::new(errors))
        }
    }

    /// Records the diagnosis and advice. The first answer fixes
    /// `first_answered_at`; an open consultation becomes answered.
    pub fn answer(&mut self, advice: &str, at: Timestamp) -> Result<(), ValidationError> {
        let mut errors = Vec::new();
        let advice = advice.trim();
        if advice.is_empty() {
            errors.push(FieldError::Required {
                field: "advice".into(),
            });
        }
        validate::long_text("advice", advice, MAX_NOTE_CHARS, &mut errors);
        if !errors.is_empty() {
            return Err(ValidationError::new(errors));
        }
        self.advice = advice.to_string();
        if self.first_answered_at.is_none() {
            // A device clock behind the question's time must not make a
            // negative response time.
            self.first_answered_at = Some(at.max(self.asked_at));
        }
        if self.status == ConsultationStatus::Open {
            self.status = ConsultationStatus::Answered;
        }
        Ok(())
    }

    /// Adds a follow-up note; `needs_more` keeps the consultation open for
    /// another visit, otherwise it counts as answered.
    pub fn add_follow_up(
        &mut self,
        id: FollowUpId,
        by: UserId,
        note: &str,
        needs_more: bool,
        at: Timestamp,
    ) -> Result<(), ValidationError> {
        let mut errors = Vec::new();
        let note = note.trim();
        if note.is_empty() {
            errors.push(FieldError::Required {
                field: "note".into(),
            });
        }
        validate::long_text("note", note, MAX_NOTE_CHARS, &mut errors);
        if !errors.is_empty() {
            return Err(ValidationError::new(errors));
        }
        self.follow_ups.push(FollowUp {
            id,
            at,
            by,
            note: note.to_string(),
        });
        self.status = if needs_more {
            ConsultationStatus::FollowUpNeeded
        } else if self.first_answered_at.is_some() {
            ConsultationStatus::Answered
        } else {
            self.status
        };
        Ok(())
    }

    /// Closes the consultation.
    pub fn close(&mut self) {
        self.status = ConsultationStatus::Closed;
    }

    /// Milliseconds from the question to the first answer, if answered.
    pub fn time_to_first_answer_millis(&self) -> Option<i64> {
        self.first_answered_at
            .map(|a| a.millis_since(self.asked_at))
    }
}
