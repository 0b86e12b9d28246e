//! The service log form (服务日志): its fields as typed, the conversion to
//! the core's [`ServiceLogInput`], and back from a saved log for editing.

use app_core::api::FieldIssue;
use app_core::domain::service_log::ServedPartyInput;
use app_core::domain::{GeoPoint, PhotoMeta, ServiceLog, ServiceLogInput};
use serde::{Deserialize, Serialize};

use super::{FormData, join_list, parse_count, split_list};

/// The form's content; also what its draft keeps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogForm {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM` or empty.
    pub start_time: String,
    /// `HH:MM` or empty.
    pub end_time: String,
    /// Township code.
    pub township: String,
    /// Village code.
    pub village: String,
    /// Activity code.
    pub activity: String,
    /// Industry.
    pub industry: String,
    /// Farmers served, as typed.
    pub farmers_served: String,
    /// Trainees, as typed.
    pub trainees: String,
    /// Cooperatives, one line.
    pub cooperatives: String,
    /// Enterprises, one line.
    pub enterprises: String,
    /// Technologies, one line.
    pub technologies: String,
    /// Varieties, one line.
    pub varieties: String,
    /// What was done.
    pub description: String,
    /// Attached photos.
    pub photos: Vec<PhotoMeta>,
    /// The device's position.
    pub location: Option<GeoPoint>,
    /// Named parties of the log being edited (their IDs are kept).
    pub parties: Vec<ServedPartyInput>,
}

/// A text field of [`LogForm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogField {
    /// Date.
    Date,
    /// Start time.
    StartTime,
    /// End time.
    EndTime,
    /// Village code typed by hand (no register on the device).
    VillageCode,
    /// Activity code.
    Activity,
    /// Industry.
    Industry,
    /// Farmers served.
    FarmersServed,
    /// Trainees.
    Trainees,
    /// Cooperatives.
    Cooperatives,
    /// Enterprises.
    Enterprises,
    /// Technologies.
    Technologies,
    /// Varieties.
    Varieties,
    /// Description.
    Description,
}

impl FormData for LogForm {
    type Field = LogField;

    fn set(&mut self, field: LogField, value: String) {
        let slot = match field {
            LogField::Date => &mut self.date,
            LogField::StartTime => &mut self.start_time,
            LogField::EndTime => &mut self.end_time,
            LogField::VillageCode => &mut self.village,
            LogField::Activity => &mut self.activity,
            LogField::Industry => &mut self.industry,
            LogField::FarmersServed => &mut self.farmers_served,
            LogField::Trainees => &mut self.trainees,
            LogField::Cooperatives => &mut self.cooperatives,
            LogField::Enterprises => &mut self.enterprises,
            LogField::Technologies => &mut self.technologies,
            LogField::Varieties => &mut self.varieties,
            LogField::Description => &mut self.description,
        };
        *slot = value;
    }

    fn place_mut(&mut self) -> (&mut String, &mut String) {
        (&mut self.township, &mut self.village)
    }

    fn photos_mut(&mut self) -> &mut Vec<PhotoMeta> {
        &mut self.photos
    }

    fn set_location(&mut self, at: GeoPoint) {
        self.location = Some(at);
    }
}

impl LogForm {
    /// A new log at `date` and `time` (from the core's clock).
    pub fn new_at(date: &str, time: &str) -> Self {
        LogForm {
            date: date.to_owned(),
            start_time: time.to_owned(),
            activity: "technical_guidance".to_owned(),
            ..LogForm::default()
        }
    }

    /// The form for editing `log`.
    pub fn from_log(log: &ServiceLog) -> Self {
        let input = log.to_input();
        let names = |kind: &str| {
            join_list(
                &input
                    .served
                    .iter()
                    .filter(|p| p.kind == kind)
                    .map(|p| p.name.clone())
                    .collect::<Vec<_>>(),
            )
        };
        LogForm {
            date: input.date.clone(),
            start_time: input.start_time.clone().unwrap_or_default(),
            end_time: input.end_time.clone().unwrap_or_default(),
            township: input.village.get(..9).unwrap_or_default().to_owned(),
            village: input.village.clone(),
            activity: input.activity.clone(),
            industry: input.industry.clone(),
            farmers_served: input.farmers_served.to_string(),
            trainees: input.trainees.map(|n| n.to_string()).unwrap_or_default(),
            cooperatives: names("cooperative"),
            enterprises: names("enterprise"),
            technologies: join_list(&input.technologies),
            varieties: join_list(&input.varieties),
            description: input.description.clone(),
            photos: input.photos.clone(),
            location: input.location,
            parties: input.served,
        }
    }

    /// Whether the activity is a training (which asks for trainees).
    pub fn is_training(&self) -> bool {
        self.activity == "training"
    }

    /// The core's input, or the fields the interface already knows are wrong.
    pub fn to_input(&self) -> Result<ServiceLogInput, Vec<FieldIssue>> {
        let mut errors = Vec::new();
        let farmers = parse_count("farmers_served", &self.farmers_served, &mut errors);
        let trainees = if self.is_training() {
            parse_count("trainees", &self.trainees, &mut errors)
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        // Named farmers and the like are kept; cooperatives and enterprises
        // come from their lines, keeping the ID of a name already there.
        let mut served: Vec<ServedPartyInput> = self
            .parties
            .iter()
            .filter(|p| p.kind != "cooperative" && p.kind != "enterprise")
            .cloned()
            .collect();
        for (kind, line) in [
            ("cooperative", &self.cooperatives),
            ("enterprise", &self.enterprises),
        ] {
            for name in split_list(line) {
                let id = self
                    .parties
                    .iter()
                    .find(|p| p.kind == kind && p.name == name)
                    .and_then(|p| p.id);
                served.push(ServedPartyInput {
                    id,
                    kind: kind.to_owned(),
                    name,
                });
            }
        }
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(ServiceLogInput {
            date: self.date.trim().to_owned(),
            start_time: opt(&self.start_time),
            end_time: opt(&self.end_time),
            village: self.village.trim().to_owned(),
            location: self.location,
            activity: self.activity.clone(),
            industry: self.industry.trim().to_owned(),
            farmers_served: farmers.unwrap_or(0),
            trainees,
            served,
            technologies: split_list(&self.technologies),
            varieties: split_list(&self.varieties),
            description: self.description.clone(),
            photos: self.photos.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use yew::Reducible;

    use super::*;
    use crate::forms::{FormAction, FormState};

    fn filled() -> LogForm {
        let mut f = LogForm::new_at("2026-11-29", "09:30");
        f.township = "520324001".into();
        f.village = "520324001001".into();
        f.industry = "茶叶".into();
        f.farmers_served = "12".into();
        f.cooperatives = "正安县茶叶合作社、桴焉茶业合作社".into();
        f.technologies = "绿色防控，测土配方".into();
        f.description = "茶园秋冬管理".into();
        f
    }

    fn reduce(s: FormState<LogForm>, a: FormAction<LogForm>) -> FormState<LogForm> {
        (*Rc::new(s).reduce(a)).clone()
    }

    #[test]
    fn a_filled_form_becomes_the_cores_input() {
        let input = filled().to_input().unwrap();
        assert_eq!(input.date, "2026-11-29");
        assert_eq!(input.start_time.as_deref(), Some("09:30"));
        assert_eq!(input.end_time, None);
        assert_eq!(input.village, "520324001001");
        assert_eq!(input.activity, "technical_guidance");
        assert_eq!(input.farmers_served, 12);
        assert_eq!(input.trainees, None, "not a training: no trainees sent");
        assert_eq!(input.technologies, vec!["绿色防控", "测土配方"]);
        let coops: Vec<_> = input
            .served
            .iter()
            .filter(|p| p.kind == "cooperative")
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(coops, vec!["正安县茶叶合作社", "桴焉茶业合作社"]);
    }

    #[test]
    fn trainees_count_only_for_trainings_and_must_be_numbers() {
        let mut f = filled();
        f.trainees = "三十".into();
        assert!(f.to_input().is_ok(), "ignored when not a training");
        f.activity = "training".into();
        let errors = f.to_input().unwrap_err();
        assert_eq!(errors[0].field, "trainees");
        f.trainees = "30".into();
        assert_eq!(f.to_input().unwrap().trainees, Some(30));
    }

    #[test]
    fn editing_keeps_the_ids_of_parties_already_there() {
        let mut f = filled();
        let id = "0192f000-0000-7000-8000-0000000000c1".parse().unwrap();
        f.parties = vec![
            ServedPartyInput {
                id: Some(id),
                kind: "cooperative".into(),
                name: "正安县茶叶合作社".into(),
            },
            ServedPartyInput {
                id: None,
                kind: "farmer".into(),
                name: "李大爷".into(),
            },
        ];
        let input = f.to_input().unwrap();
        let kept = input
            .served
            .iter()
            .find(|p| p.name == "正安县茶叶合作社")
            .unwrap();
        assert_eq!(kept.id, Some(id));
        assert!(input.served.iter().any(|p| p.kind == "farmer"));
        assert_eq!(input.served.len(), 3);
    }

    #[test]
    fn the_draft_round_trips_through_json() {
        let f = filled();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<LogForm>(&json).unwrap(), f);
        // A draft from an older app with fewer fields still loads.
        let old: LogForm = serde_json::from_str(r#"{"industry":"茶叶"}"#).unwrap();
        assert_eq!(old.industry, "茶叶");
    }

    #[test]
    fn typing_marks_the_form_dirty_and_loading_does_not() {
        let s = reduce(
            FormState::default(),
            FormAction::Loaded {
                form: filled(),
                restored: true,
            },
        );
        assert!(s.loaded && s.restored && !s.dirty);
        let s = reduce(s, FormAction::Set(LogField::Industry, "猕猴桃".into()));
        assert!(s.dirty);
        assert_eq!(s.form.industry, "猕猴桃");
    }

    #[test]
    fn picking_a_place_clears_its_error_and_photos_are_kept_once() {
        let s = FormState::<LogForm> {
            errors: vec![FieldIssue {
                field: "village".into(),
                code: "required".into(),
            }],
            ..FormState::default()
        };
        assert_eq!(s.error("village"), Some("required"));
        let s = reduce(
            s,
            FormAction::PickPlace {
                township: "520324001".into(),
                village: "520324001002".into(),
            },
        );
        assert_eq!(s.error("village"), None);
        assert_eq!(s.form.village, "520324001002");

        let meta = PhotoMeta {
            hash: app_core::domain::PhotoHash::from_bytes([1; 32]),
            thumb: app_core::domain::PhotoHash::from_bytes([2; 32]),
            size_bytes: 100,
            width: 10,
            height: 10,
            taken_at: None,
            location: None,
            caption: String::new(),
        };
        let s = reduce(s, FormAction::AddPhoto(meta.clone()));
        let s = reduce(s, FormAction::AddPhoto(meta.clone()));
        assert_eq!(s.form.photos.len(), 1);
        let s = reduce(s, FormAction::RemovePhoto(meta.hash));
        assert!(s.form.photos.is_empty());
    }

    #[test]
    fn a_failed_save_shows_field_errors_and_allows_another_try() {
        let s = reduce(FormState::<LogForm>::default(), FormAction::Saving);
        assert!(s.saving);
        let s = reduce(
            s,
            FormAction::Failed(vec![FieldIssue {
                field: "served.name".into(),
                code: "too_long".into(),
            }]),
        );
        assert!(!s.saving);
        assert_eq!(s.error("served"), Some("too_long"));
    }
}
