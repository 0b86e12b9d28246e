//! An honest demonstration of the core on a real SQLite file: a commissioner's
//! phone and a tablet log work offline, edit the same record, and merge.
//!
//! `cargo run --release -p app-core --example demo [data-dir]`

use std::time::Instant;

use app_core::clock::SystemClock;
use app_core::domain::{CountyCode, GeoPoint, ServiceLog, ServiceLogInput};
use app_core::reference::{CountyList, RegisterSource};
use app_core::store::{Identity, LogQuery, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ketepai-demo"));
    std::fs::create_dir_all(&dir)?;
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let county = CountyCode::parse("520324")?;

    let phone = Store::open(dir.join("phone.sqlite"), SystemClock::shared())?;
    let tablet = Store::open(dir.join("tablet.sqlite"), SystemClock::shared())?;
    let started = Instant::now();
    let source = RegisterSource::from_dir(data.join("divisions"))?;
    let stats = phone.import_register(&source, Some(&[county]))?;
    phone.import_county_lists(&CountyList::from_dir(data.join("counties"))?)?;
    tablet.import_slice(&phone.export_slice(county)?.expect("county loaded"))?;
    println!(
        "正安县 register: {} townships, {} villages, tags {:?} ({:.2} s)",
        stats.townships,
        stats.villages,
        phone.county_tags(county)?,
        started.elapsed().as_secs_f64()
    );

    let me = Identity {
        user: "0192f000-0000-7000-8000-000000000001".parse()?,
        team: None,
    };
    let township = &phone.townships_of(county)?[2];
    let village = &phone.villages_of(township.code.parse()?)?[0];
    let input = ServiceLogInput {
        date: "2026-11-28".into(),
        start_time: Some("09:00".into()),
        end_time: Some("11:30".into()),
        village: village.code.clone(),
        location: Some(GeoPoint {
            lat: 28.55,
            lon: 107.44,
            accuracy_m: Some(15.0),
        }),
        activity: "training".into(),
        industry: "茶叶".into(),
        farmers_served: 30,
        trainees: Some(42),
        served: vec![],
        technologies: vec!["茶园绿色防控".into()],
        varieties: vec!["白叶1号".into()],
        description: "茶园冬季管理培训。".into(),
        photos: vec![],
    };
    let log = phone.create_service_log(&me, &input, true)?.value;
    println!(
        "phone saved a log in {}{} ({})",
        township.name, village.name, log.id
    );

    // The tablet gets the log, then both edit it while apart.
    tablet.apply_changes(&phone.changes_for_peer(&tablet.heads()?)?)?;
    phone.edit_record::<ServiceLog, _>(log.id.into(), |l, _| {
        l.description.push_str("会后现场查看两户茶园。");
        l.farmers_served = 32;
        Ok(())
    })?;
    tablet.edit_record::<ServiceLog, _>(log.id.into(), |l, _| {
        l.description = format!("【上午】{}", l.description);
        l.farmers_served = 35;
        Ok(())
    })?;
    tablet.apply_changes(&phone.changes_for_peer(&tablet.heads()?)?)?;
    phone.apply_changes(&tablet.changes_for_peer(&phone.heads()?)?)?;

    let merged = phone.service_log(log.id)?;
    assert_eq!(merged, tablet.service_log(log.id)?);
    println!("merged description: {}", merged.description);
    for c in phone.conflicts(log.id.into())? {
        let values: Vec<String> = c.values.iter().map(|v| v.value.to_string()).collect();
        println!(
            "conflict on {}: {} (shown: {})",
            c.path_string(),
            values.join(" / "),
            values[0]
        );
    }
    let listed = phone.list_service_logs(&LogQuery::default())?;
    println!(
        "phone lists {} log(s); outbox holds {} change(s); store at {}",
        listed.len(),
        phone.outbox_stats()?.changes,
        phone.path().display()
    );
    Ok(())
}
