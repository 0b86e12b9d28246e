//! Synthetic but realistic field records (feature `demo`): DOMAIN.md's
//! fields, Chinese text of field-note lengths, the activity mix of a county
//! team, villages from a county's real register. One generator for the
//! server's demo seed (`sync-server demo`), the end-to-end scenarios and the
//! benchmarks (`tests`).

use chrono::{NaiveDate, NaiveDateTime};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::domain::service_log::ServedPartyInput;
use crate::domain::{ConsultationInput, GeoPoint, ServiceLogInput};
use crate::store::RegisterSlice;

/// The day the undated generators count back from: 2026-11-28.
pub const REFERENCE_DAY: (i32, u32, u32) = (2026, 11, 28);

const INDUSTRIES: &[&str] = &[
    "茶叶",
    "猕猴桃",
    "马铃薯",
    "肉牛",
    "中药材",
    "辣椒",
    "食用菌",
    "生猪",
];
const ACTIVITIES: &[(&str, u32)] = &[
    ("technical_guidance", 40),
    ("training", 20),
    ("demonstration", 12),
    ("consultation", 12),
    ("entrepreneurship", 4),
    ("project", 8),
    ("other", 4),
];
const TECHNOLOGIES: &[&str] = &[
    "茶园绿色防控",
    "测土配方施肥",
    "水肥一体化",
    "茶园机械修剪",
    "病虫害统防统治",
    "秸秆还田",
    "稻渔综合种养",
    "青贮饲料加工",
    "林下种植",
];
const VARIETIES: &[&str] = &[
    "白叶1号",
    "黄金芽",
    "福鼎大白",
    "青薯9号",
    "红阳猕猴桃",
    "西门塔尔牛",
    "天麻",
];
const PARTIES: &[(&str, &str)] = &[
    ("cooperative", "正安县白茶专业合作社"),
    ("cooperative", "瑞溪镇种养殖专业合作社"),
    ("enterprise", "贵州正安茶业有限公司"),
    ("family_farm", "安场镇李家家庭农场"),
    ("farmer", "王德明"),
    ("farmer", "李秀英"),
    ("village_collective", "新州村村集体经济合作社"),
];
const FARMERS: &[&str] = &[
    "王德明",
    "李秀英",
    "张国强",
    "刘桂兰",
    "陈建华",
    "杨光荣",
    "赵春梅",
    "黄永福",
    "吴玉芬",
    "罗开贵",
];
const ADVICE: &[&str] = &[
    "建议及时清除病叶并集中销毁，发病初期喷施生物农药，七天后复查。",
    "土壤偏酸，建议每亩撒施石灰五十公斤，配合施用有机肥改良土壤。",
    "可在圈舍内定期消毒，犊牛饮用温水，腹泻严重时请兽医站上门诊治。",
    "建议采用色板诱杀和灯光诱杀，减少化学农药使用，注意采摘安全间隔期。",
    "修剪高度控制在六十厘米左右，剪后及时追施有机肥。",
];
const SENTENCES: &[&str] = &[
    "到村开展茶园冬季管理技术指导，讲解修剪高度和留养方法。",
    "查看了农户茶园的病虫害发生情况，发现小绿叶蝉危害较重。",
    "建议采用色板诱杀结合生物农药防治，减少化学农药使用。",
    "现场演示了测土配方施肥的取样方法，指导农户按配方施肥。",
    "与合作社负责人交流了产业发展计划和技术需求。",
    "组织村民在村委会会议室集中培训，发放技术资料。",
    "培训后进行了田间实地操作示范，农户反映效果较好。",
    "对去年推广的新品种进行了跟踪调查，长势良好。",
    "协调解决了部分农户有机肥购买渠道问题。",
    "下一步将继续跟踪指导，做好春茶采摘前的准备工作。",
    "针对牛犊腹泻问题讲解了饲养管理和消毒防疫要点。",
    "指导猕猴桃园冬季清园，剪除病枝并集中处理。",
];

/// Draws records from a seeded generator over one county's register.
pub struct Synth {
    rng: StdRng,
    villages: Vec<String>,
    codes: Vec<String>,
}

impl Synth {
    /// A generator over `slice`'s villages.
    pub fn new(rng: StdRng, slice: &RegisterSlice) -> Self {
        let villages: Vec<String> = slice.villages.iter().map(|v| v.name.clone()).collect();
        let codes = slice
            .villages
            .iter()
            .map(|v| format!("{:012}", v.code))
            .collect();
        Synth {
            rng,
            villages,
            codes,
        }
    }

    /// The generator's random source.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    fn text(&mut self, sentences: std::ops::Range<usize>) -> String {
        let n = self.rng.random_range(sentences);
        (0..n)
            .map(|_| *SENTENCES.choose(&mut self.rng).expect("sentences"))
            .collect()
    }

    /// A random village of the county: its code and name.
    pub fn village(&mut self) -> (String, String) {
        let i = self.rng.random_range(0..self.codes.len());
        (self.codes[i].clone(), self.villages[i].clone())
    }

    /// A service log of a typical length (about 60–250 characters of text,
    /// a few list items), dated within `days` before 2026-11-28.
    pub fn service_log(&mut self, days: u32) -> ServiceLogInput {
        self.log_input(|rng| {
            let (y, m, d) = REFERENCE_DAY;
            NaiveDate::from_ymd_opt(y, m, d).expect("date")
                - chrono::Days::new(u64::from(rng.random_range(0..days.max(1))))
        })
    }

    /// A service log of a typical length dated `date`, in a random village
    /// of the generator's.
    pub fn service_log_on(&mut self, date: NaiveDate) -> ServiceLogInput {
        self.log_input(|_| date)
    }

    fn log_input(&mut self, date: impl FnOnce(&mut StdRng) -> NaiveDate) -> ServiceLogInput {
        let weights: u32 = ACTIVITIES.iter().map(|a| a.1).sum();
        let mut pick = self.rng.random_range(0..weights);
        let activity = ACTIVITIES
            .iter()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map_or("other", |a| a.0);
        let (village, _) = self.village();
        let date = date(&mut self.rng);
        let start = self.rng.random_range(8..15);
        let (n_tech, n_var, n_party) = (
            self.rng.random_range(0..3),
            self.rng.random_range(0..2),
            self.rng.random_range(0..3),
        );
        let technologies = TECHNOLOGIES
            .choose_multiple(&mut self.rng, n_tech)
            .map(|s| s.to_string())
            .collect();
        let varieties = VARIETIES
            .choose_multiple(&mut self.rng, n_var)
            .map(|s| s.to_string())
            .collect();
        let served = PARTIES
            .choose_multiple(&mut self.rng, n_party)
            .map(|(kind, name)| ServedPartyInput {
                id: None,
                kind: kind.to_string(),
                name: name.to_string(),
            })
            .collect();
        ServiceLogInput {
            date: date.format("%Y-%m-%d").to_string(),
            start_time: Some(format!(
                "{start:02}:{:02}",
                self.rng.random_range(0..4) * 15
            )),
            end_time: Some(format!("{:02}:00", start + self.rng.random_range(1..4))),
            village,
            location: self.rng.random_bool(0.8).then(|| GeoPoint {
                lat: 28.3 + self.rng.random::<f64>() * 0.6,
                lon: 107.2 + self.rng.random::<f64>() * 0.6,
                accuracy_m: Some(f64::from(self.rng.random_range(5..80))),
            }),
            activity: activity.to_string(),
            industry: INDUSTRIES
                .choose(&mut self.rng)
                .expect("industries")
                .to_string(),
            farmers_served: self.rng.random_range(1..60),
            trainees: (activity == "training").then(|| self.rng.random_range(15..120)),
            served,
            technologies,
            varieties,
            description: self.text(2..6),
            photos: vec![],
        }
    }

    /// A farmer consultation asked on 2026-11-28 or before.
    pub fn consultation(&mut self) -> ConsultationInput {
        let (village, _) = self.village();
        let day = self.rng.random_range(1..28);
        let mut input = self.consultation_in(village, String::new());
        let (y, m, _) = REFERENCE_DAY;
        input.asked_at = format!(
            "{y}-{m:02}-{day:02} {:02}:{:02}",
            self.rng.random_range(7..20),
            self.rng.random_range(0..60)
        );
        input
    }

    /// A farmer consultation asked at `asked` (China time), from a random
    /// village of the generator's.
    pub fn consultation_at(&mut self, asked: NaiveDateTime) -> ConsultationInput {
        let (village, _) = self.village();
        self.consultation_in(village, asked.format("%Y-%m-%d %H:%M").to_string())
    }

    fn consultation_in(&mut self, village: String, asked_at: String) -> ConsultationInput {
        ConsultationInput {
            farmer_name: self.farmer(),
            farmer_phone: format!("139{:08}", self.rng.random_range(0..100_000_000)),
            farmer_village: village,
            subject: INDUSTRIES
                .choose(&mut self.rng)
                .expect("industries")
                .to_string(),
            problem: self.text(1..3),
            channel: ["on_site", "phone", "message"]
                .choose(&mut self.rng)
                .expect("channels")
                .to_string(),
            asked_at,
            photos: vec![],
        }
    }

    /// A farmer's name.
    pub fn farmer(&mut self) -> String {
        FARMERS.choose(&mut self.rng).expect("names").to_string()
    }

    /// An answer to a farmer's question, one or two sentences of advice.
    pub fn advice(&mut self) -> String {
        let n = self.rng.random_range(1..3);
        ADVICE.choose_multiple(&mut self.rng, n).copied().collect()
    }

    /// Keeps only the villages `keep` accepts (by code): the generator then
    /// draws only from them. At least one must remain.
    pub fn only_villages(mut self, keep: impl Fn(u64) -> bool) -> Self {
        let (codes, villages): (Vec<String>, Vec<String>) = self
            .codes
            .iter()
            .zip(&self.villages)
            .filter(|(c, _)| c.parse().is_ok_and(&keep))
            .map(|(c, v)| (c.clone(), v.clone()))
            .unzip();
        assert!(!codes.is_empty(), "no village left to draw from");
        self.codes = codes;
        self.villages = villages;
        self
    }

    /// A sentence to append to a description in an edit.
    pub fn sentence(&mut self) -> &'static str {
        SENTENCES.choose(&mut self.rng).expect("sentences")
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::api::Identity;
    use crate::clock::ManualClock;
    use crate::store::{SliceDivision, Store};
    use crate::testing;

    fn division(code: u64, name: &str) -> SliceDivision {
        SliceDivision {
            code,
            name: name.into(),
        }
    }

    /// Two townships of 正安县 with three villages each.
    fn slice() -> RegisterSlice {
        RegisterSlice {
            version: "test".into(),
            province: division(52, "贵州省"),
            prefecture: division(5203, "遵义市"),
            county: division(520_324, "正安县"),
            townships: vec![
                division(520_324_100, "凤仪街道"),
                division(520_324_101, "安场镇"),
            ],
            villages: (1..=3)
                .flat_map(|n| {
                    [
                        division(520_324_100_000 + n, "凤仪村"),
                        division(520_324_101_000 + n, "安场村"),
                    ]
                })
                .collect(),
            tags: vec![],
        }
    }

    #[test]
    fn records_drawn_for_a_day_save_and_stay_in_their_villages() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(testing::T0);
        let store = Store::open(dir.path().join("d.sqlite"), clock.shared()).unwrap();
        let who = Identity {
            user: testing::user_id(1),
            team: Some(testing::team_id(1)),
        };
        let mut synth = Synth::new(StdRng::seed_from_u64(7), &slice())
            .only_villages(|v| v / 1000 == 520_324_101);
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let asked = day.and_hms_opt(9, 30, 0).unwrap();
        let mut trainings = 0;
        for _ in 0..40 {
            let log = synth.service_log_on(day);
            assert_eq!(log.date, "2026-11-20");
            assert!(log.village.starts_with("520324101"), "{}", log.village);
            trainings += u32::from(log.activity == "training");
            assert_eq!(log.activity == "training", log.trainees.is_some());
            store.create_service_log(&who, &log, true).unwrap();
            let c = synth.consultation_at(asked);
            assert_eq!(c.asked_at, "2026-11-20 09:30");
            assert!(c.farmer_village.starts_with("520324101"));
            store.create_consultation(&who, &c).unwrap();
        }
        assert!(trainings > 0);
        assert!(!synth.advice().is_empty());
    }
}
