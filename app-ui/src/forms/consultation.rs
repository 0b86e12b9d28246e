//! The consultation form (农户咨询): the farmer, the problem and photos, and
//! the conversion to the core's [`ConsultationInput`].

use app_core::api::FieldIssue;
use app_core::domain::{Consultation, ConsultationInput, PhotoMeta};
use serde::{Deserialize, Serialize};

use super::FormData;

/// The form's content; also what its draft keeps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsultationForm {
    /// Farmer's name.
    pub farmer_name: String,
    /// Farmer's phone.
    pub farmer_phone: String,
    /// Township code of the farmer's village.
    pub township: String,
    /// The farmer's village code.
    pub village: String,
    /// Crop or livestock.
    pub subject: String,
    /// The problem.
    pub problem: String,
    /// Channel code.
    pub channel: String,
    /// Day asked, `YYYY-MM-DD`.
    pub asked_date: String,
    /// Time asked, `HH:MM`.
    pub asked_time: String,
    /// Photos.
    pub photos: Vec<PhotoMeta>,
}

/// A text field of [`ConsultationForm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsultationField {
    /// Farmer's name.
    FarmerName,
    /// Farmer's phone.
    FarmerPhone,
    /// Village code typed by hand.
    VillageCode,
    /// Crop or livestock.
    Subject,
    /// Problem.
    Problem,
    /// Channel code.
    Channel,
    /// Day asked.
    AskedDate,
    /// Time asked.
    AskedTime,
}

impl FormData for ConsultationForm {
    type Field = ConsultationField;

    fn set(&mut self, field: ConsultationField, value: String) {
        let slot = match field {
            ConsultationField::FarmerName => &mut self.farmer_name,
            ConsultationField::FarmerPhone => &mut self.farmer_phone,
            ConsultationField::VillageCode => &mut self.village,
            ConsultationField::Subject => &mut self.subject,
            ConsultationField::Problem => &mut self.problem,
            ConsultationField::Channel => &mut self.channel,
            ConsultationField::AskedDate => &mut self.asked_date,
            ConsultationField::AskedTime => &mut self.asked_time,
        };
        *slot = value;
    }

    fn place_mut(&mut self) -> (&mut String, &mut String) {
        (&mut self.township, &mut self.village)
    }

    fn photos_mut(&mut self) -> &mut Vec<PhotoMeta> {
        &mut self.photos
    }
}

impl ConsultationForm {
    /// A new consultation asked on site at `date` `time`.
    pub fn new_at(date: &str, time: &str) -> Self {
        ConsultationForm {
            channel: "on_site".to_owned(),
            asked_date: date.to_owned(),
            asked_time: time.to_owned(),
            ..ConsultationForm::default()
        }
    }

    /// The form for editing `c`.
    pub fn from_consultation(c: &Consultation) -> Self {
        let asked = c.asked_at.to_china();
        ConsultationForm {
            farmer_name: c.farmer.name.clone(),
            farmer_phone: c.farmer.phone.clone(),
            township: c
                .farmer
                .village
                .to_string()
                .get(..9)
                .unwrap_or_default()
                .to_owned(),
            village: c.farmer.village.to_string(),
            subject: c.subject.clone(),
            problem: c.problem.clone(),
            channel: c.channel.code().to_owned(),
            asked_date: asked
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            asked_time: asked
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            photos: c.photos.clone(),
        }
    }

    /// The core's input (the core validates everything here).
    pub fn to_input(&self) -> Result<ConsultationInput, Vec<FieldIssue>> {
        let date = self.asked_date.trim();
        let time = match self.asked_time.trim() {
            "" => "00:00",
            t => t,
        };
        Ok(ConsultationInput {
            farmer_name: self.farmer_name.trim().to_owned(),
            farmer_phone: self.farmer_phone.trim().to_owned(),
            farmer_village: self.village.trim().to_owned(),
            subject: self.subject.trim().to_owned(),
            problem: self.problem.clone(),
            channel: self.channel.clone(),
            asked_at: if date.is_empty() {
                String::new()
            } else {
                format!("{date} {time}")
            },
            photos: self.photos.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_time_is_sent_as_local_date_and_time() {
        let mut f = ConsultationForm::new_at("2026-11-29", "08:15");
        f.farmer_name = " 王大姐 ".into();
        f.village = "520324001001".into();
        f.subject = "茶树".into();
        f.problem = "新叶发黄卷曲".into();
        let input = f.to_input().unwrap();
        assert_eq!(input.asked_at, "2026-11-29 08:15");
        assert_eq!(input.farmer_name, "王大姐");
        assert_eq!(input.channel, "on_site");
        f.asked_date.clear();
        assert_eq!(f.to_input().unwrap().asked_at, "", "empty means now");
    }
}
