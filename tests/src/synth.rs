//! Synthetic but realistic field records for scenarios and benchmarks:
//! DOMAIN.md's fields, Chinese text of field-note lengths, the activity mix
//! of a county team, villages from the real register of 正安县.

use app_core::domain::service_log::ServedPartyInput;
use app_core::domain::{ConsultationInput, GeoPoint, ServiceLogInput};
use app_core::store::RegisterSlice;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

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
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).expect("date")
            - chrono::Days::new(u64::from(self.rng.random_range(0..days.max(1))));
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
        ConsultationInput {
            farmer_name: ["王德明", "李秀英", "张国强", "刘桂兰", "陈建华"]
                .choose(&mut self.rng)
                .expect("names")
                .to_string(),
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
            asked_at: format!(
                "2026-11-{day:02} {:02}:{:02}",
                self.rng.random_range(7..20),
                self.rng.random_range(0..60)
            ),
            photos: vec![],
        }
    }

    /// A sentence to append to a description in an edit.
    pub fn sentence(&mut self) -> &'static str {
        SENTENCES.choose(&mut self.rng).expect("sentences")
    }
}
