//! Labels of the core's code enums in the interface language. Chinese
//! comes from the core (`label_zh`), so the two never disagree; English is
//! here. Also the common industries the log form offers, whose names are
//! in `texts.rs`.

use app_core::domain::{ActivityType, Channel, ConsultationStatus, LogStatus, ReviewState, Role};

use super::{Key, Lang, t};

/// Common industries, one tap each in the log form. A record saves the
/// industry's Chinese name (what teams, reports and statistics group by)
/// whatever the interface language; the interface shows it in its own.
pub const INDUSTRIES: [Key; 6] = [
    Key::IndustryTea,
    Key::IndustryKiwifruit,
    Key::IndustryPotato,
    Key::IndustryBeefCattle,
    Key::IndustryMedicinalHerbs,
    Key::IndustryVegetables,
];

/// The value a record saves for one of [`INDUSTRIES`].
pub fn industry_value(key: Key) -> &'static str {
    t(Lang::ZhCn, key)
}

/// A saved industry in `lang`: one of [`INDUSTRIES`] translated, anything
/// else (typed by the user) as it was typed.
pub fn industry(value: &str, lang: Lang) -> &str {
    INDUSTRIES
        .iter()
        .find(|&&key| industry_value(key) == value.trim())
        .map_or(value, |&key| t(lang, key))
}

/// A code enum the interface shows by name.
pub trait Label: Copy {
    /// The Chinese label, from the core.
    fn zh(self) -> &'static str;
    /// The English label.
    fn en(self) -> &'static str;
    /// The label in `lang`.
    fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh(),
            Lang::En => self.en(),
        }
    }
}

impl Label for ActivityType {
    fn zh(self) -> &'static str {
        self.label_zh()
    }
    fn en(self) -> &'static str {
        match self {
            ActivityType::TechnicalGuidance => "Technical guidance",
            ActivityType::Training => "Training",
            ActivityType::Demonstration => "Demonstration",
            ActivityType::Consultation => "Consultation",
            ActivityType::Entrepreneurship => "Entrepreneurship",
            ActivityType::Project => "Project work",
            ActivityType::Other => "Other",
        }
    }
}

impl Label for LogStatus {
    fn zh(self) -> &'static str {
        self.label_zh()
    }
    fn en(self) -> &'static str {
        match self {
            LogStatus::Draft => "Draft",
            LogStatus::Submitted => "Submitted",
            LogStatus::Approved => "Approved",
            LogStatus::Returned => "Returned",
        }
    }
}

impl Label for ReviewState {
    fn zh(self) -> &'static str {
        self.label_zh()
    }
    fn en(self) -> &'static str {
        match self {
            ReviewState::Draft => "Draft",
            ReviewState::Submitted => "Waiting for review",
            ReviewState::Approved => "Approved",
            ReviewState::Returned => "Returned",
            ReviewState::ChangedSinceApproval => "Changed since approval",
        }
    }
}

impl Label for ConsultationStatus {
    fn zh(self) -> &'static str {
        self.label_zh()
    }
    fn en(self) -> &'static str {
        match self {
            ConsultationStatus::Open => "Waiting",
            ConsultationStatus::Answered => "Answered",
            ConsultationStatus::FollowUpNeeded => "Follow-up needed",
            ConsultationStatus::Closed => "Closed",
        }
    }
}

impl Label for Channel {
    fn zh(self) -> &'static str {
        self.label_zh()
    }
    fn en(self) -> &'static str {
        match self {
            Channel::OnSite => "On site",
            Channel::Phone => "Phone",
            Channel::Message => "Message",
        }
    }
}

impl Label for Role {
    fn zh(self) -> &'static str {
        self.label_zh()
    }
    fn en(self) -> &'static str {
        match self {
            Role::Commissioner => "Commissioner",
            Role::TeamLead => "Team lead",
            Role::SyncAdmin => "Sync admin",
        }
    }
}

/// A division's official name made short for a small screen:
/// 北苑社区居民委员会 → 北苑社区, 新华村村民委员会 → 新华村.
pub fn short_place(name: &str) -> &str {
    for suffix in ["村民委员会", "居民委员会", "委员会"] {
        if let Some(short) = name.strip_suffix(suffix)
            && !short.is_empty()
        {
            return short;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_english_label() {
        for &a in ActivityType::ALL {
            assert!(!a.en().is_empty() && a.label(Lang::ZhCn) == a.label_zh());
        }
        assert_eq!(ConsultationStatus::Open.label(Lang::ZhCn), "待答复");
        assert_eq!(
            ConsultationStatus::FollowUpNeeded.label(Lang::ZhCn),
            "需回访"
        );
    }

    #[test]
    fn common_industries_save_chinese_and_show_the_interface_language() {
        assert_eq!(industry_value(Key::IndustryTea), "茶叶");
        assert_eq!(industry("茶叶", Lang::En), "Tea");
        assert_eq!(industry("茶叶", Lang::ZhCn), "茶叶");
        assert_eq!(industry("肉牛", Lang::En), "Beef cattle");
        assert_eq!(
            industry("烤烟", Lang::En),
            "烤烟",
            "typed text stays as typed"
        );
        let values: std::collections::BTreeSet<_> =
            INDUSTRIES.iter().map(|&k| industry_value(k)).collect();
        assert_eq!(values.len(), INDUSTRIES.len());
    }

    #[test]
    fn official_names_are_shortened_for_display() {
        assert_eq!(short_place("北苑社区居民委员会"), "北苑社区");
        assert_eq!(short_place("新华村村民委员会"), "新华村");
        assert_eq!(short_place("凤仪街道"), "凤仪街道");
        assert_eq!(short_place("委员会"), "委员会");
    }
}
