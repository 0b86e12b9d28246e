//! The annual sheet written to XLSX and CSV and read back: every cell is
//! checked against the report's figures (not against the tables that wrote
//! it), headers are Chinese, the header row is frozen, numbers are numbers.

use std::collections::BTreeMap;
use std::io::Read;

use app_core::domain::{ActivityType, CountyCode, DivisionLevel, PrefectureCode, ProvinceCode};
use app_core::stats::assess::{SEED_SCHEME, Scheme};
use app_core::stats::export::{UTF8_BOM, to_csv, to_xlsx};
use app_core::stats::sheet::{ANNUAL_FIGURES, COMMISSIONER_FIGURES, Names, annual_workbook};
use app_core::stats::{
    ConsultationFact, FactStatus, Figure, Figures, ItemKind, LogEntry, Report, StatsRequest,
    compute,
};
use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::figures::{VILLAGES, consultation, log, register, tid, uid, year};

/// A year of varied records over the test world, made deterministically.
fn records() -> (Vec<LogEntry>, Vec<ConsultationFact>) {
    let mut logs = Vec::new();
    let mut x: u64 = 7;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    for i in 0..300 {
        let v = VILLAGES[next(VILLAGES.len() as u64) as usize];
        let date = format!("2026-{:02}-{:02}", 1 + next(12), 1 + next(28));
        let mut l = log(next(5) as u8, Some(next(3) as u8), v, &date);
        l.fact.activity = ActivityType::ALL[next(7) as usize];
        l.fact.trainees = (next(4) > 0).then(|| next(90) as u32);
        l.fact.farmers_served = next(60) as u32;
        l.fact.photos = next(6) as u32;
        l.fact.status = FactStatus::ALL[next(5) as usize];
        l.fact.duplicate = i % 17 == 0;
        l.items = (0..next(3))
            .map(|k| {
                (
                    ItemKind::ALL[next(4) as usize],
                    format!("名称{}", (k + next(9)) % 7),
                )
            })
            .collect();
        logs.push(l);
    }
    let mut cs = Vec::new();
    for i in 0..80 {
        let asked = format!(
            "2026-{:02}-{:02} {:02}:{:02}:00",
            1 + next(12),
            1 + next(28),
            next(24),
            next(60)
        );
        let mut c = consultation(next(5) as u8, &asked, None);
        if next(5) > 0 {
            c.first_answered_at = Some(
                c.asked_at
                    .add_millis(next(5_000) as i64 * 60_000 + i * 1_000),
            );
        }
        c.village = crate::figures::village(VILLAGES[next(VILLAGES.len() as u64) as usize]);
        cs.push(c);
    }
    (logs, cs)
}

fn report() -> (Report, app_core::stats::Register) {
    let (logs, cs) = records();
    let reg = register();
    let mut req: StatsRequest = year(2026);
    req.training_sizes = Scheme::parse(SEED_SCHEME).unwrap().training_sizes();
    (compute(&req, Some(&reg), &logs, &cs), reg)
}

fn names() -> Names {
    Names {
        users: (0..5).map(|i| (uid(i), format!("特派员{i}"))).collect(),
        teams: (0..3).map(|i| (tid(i), format!("科技特派团{i}"))).collect(),
    }
}

/// The figures a division row of the annual sheet stands for.
fn division<'r>(report: &'r Report, level: &str, code: &str) -> &'r Figures {
    match level {
        "县" => report.county(CountyCode::parse(code).unwrap()),
        "市小计" | "市" => report.prefecture(PrefectureCode::parse(code).unwrap()),
        "省合计" | "省" => report.province(ProvinceCode::parse(code).unwrap()),
        other => panic!("unknown level {other}"),
    }
    .unwrap_or_else(|| panic!("no figures for {level} {code}"))
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        other => panic!("expected text, got {other:?}"),
    }
}

fn check_number(cell: &Data, figure: Figure, f: &Figures, at: &str) {
    match (figure.raw(f), cell) {
        (None, Data::Empty) => {}
        (Some(want), Data::Float(got)) => {
            assert!(
                (got - want).abs() < 1e-9,
                "{at}: {figure:?} {got} != {want}"
            )
        }
        (Some(want), Data::Int(got)) => assert_eq!(*got as f64, want, "{at}: {figure:?}"),
        (want, got) => panic!("{at}: {figure:?} wanted {want:?}, cell {got:?}"),
    }
}

fn headers_of(figures: &[Figure]) -> Vec<String> {
    figures
        .iter()
        .map(|f| {
            if *f == Figure::ServiceDays {
                "有服务的天数（天）".to_string()
            } else {
                format!("{}（{}）", f.label_zh(), f.unit().label_zh())
            }
        })
        .collect()
}

#[test]
fn the_xlsx_annual_sheet_reads_back_cell_for_cell() {
    let (report, reg) = report();
    let scheme = Scheme::parse(SEED_SCHEME).unwrap();
    let scores = scheme.score_report(&report, &[uid(4)]);
    let tables = annual_workbook(&report, &reg, &names(), Some(&scores));
    let bytes = to_xlsx(&tables).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("年度统计.xlsx");
    std::fs::write(&path, &bytes).unwrap();

    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "年度统计",
            "县",
            "市",
            "省",
            "团队",
            "特派员",
            "未覆盖行政村",
            "考核得分"
        ]
    );

    // 年度统计: counties, each prefecture's subtotal after its counties, each
    // province's total after its prefectures.
    let sheet = book.worksheet_range("年度统计").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let mut want_header = vec!["级别".to_string(), "代码".into(), "名称".into()];
    want_header.extend(headers_of(ANNUAL_FIGURES));
    assert_eq!(rows[0].iter().map(text).collect::<Vec<_>>(), want_header);
    for h in [
        "服务人天（人天）",
        "行政村覆盖率（%）",
        "首次答复用时中位数（分钟）",
        "活跃特派员（人）",
    ] {
        assert!(want_header.iter().any(|x| x == h), "{h}");
    }
    let mut order = Vec::new();
    for (i, row) in rows[1..].iter().enumerate() {
        let (level, code) = (text(&row[0]), text(&row[1]));
        let f = division(&report, &level, &code);
        let name = text(&row[2]);
        let want_name = match level.as_str() {
            "县" => reg.name(DivisionLevel::County, code.parse().unwrap()),
            "市小计" => reg.name(DivisionLevel::Prefecture, code.parse().unwrap()),
            _ => reg.name(DivisionLevel::Province, code.parse().unwrap()),
        };
        assert_eq!(Some(name.as_str()), want_name.or(Some(&code)));
        for (j, figure) in ANNUAL_FIGURES.iter().enumerate() {
            check_number(
                &row[3 + j],
                *figure,
                f,
                &format!("年度统计 row {} {level} {code}", i + 2),
            );
        }
        order.push((level, code));
    }
    let mut want_order = Vec::new();
    for prov in &report.provinces {
        for pref in report
            .prefectures
            .iter()
            .filter(|p| p.key.province() == prov.key)
        {
            for county in report
                .counties
                .iter()
                .filter(|c| c.key.prefecture() == pref.key)
            {
                want_order.push(("县".to_string(), county.key.to_string()));
            }
            want_order.push(("市小计".to_string(), pref.key.to_string()));
        }
        want_order.push(("省合计".to_string(), prov.key.to_string()));
    }
    assert_eq!(order, want_order);
    assert!(report.counties.len() >= 5 && report.provinces.len() == 2);

    // One sheet per division level.
    for (name, n) in [
        ("县", report.counties.len()),
        ("市", report.prefectures.len()),
        ("省", report.provinces.len()),
    ] {
        let sheet = book.worksheet_range(name).unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows.len(), n + 1, "{name}");
        for row in &rows[1..] {
            let f = division(&report, &text(&row[0]), &text(&row[1]));
            for (j, figure) in ANNUAL_FIGURES.iter().enumerate() {
                check_number(&row[3 + j], *figure, f, name);
            }
        }
    }

    // Commissioners.
    let sheet = book.worksheet_range("特派员").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), report.commissioners.len() + 1);
    let mut want_header = vec!["特派员".to_string(), "用户编号".into()];
    want_header.extend(
        COMMISSIONER_FIGURES
            .iter()
            .map(|f| format!("{}（{}）", f.label_zh(), f.unit().label_zh())),
    );
    assert_eq!(rows[0].iter().map(text).collect::<Vec<_>>(), want_header);
    for row in &rows[1..] {
        let id = text(&row[1]).parse().unwrap();
        assert_eq!(text(&row[0]), names().users[&id]);
        let f = report.commissioner(id).unwrap();
        for (j, figure) in COMMISSIONER_FIGURES.iter().enumerate() {
            check_number(&row[2 + j], *figure, f, "特派员");
        }
    }

    // Teams: names and the number of rows.
    let sheet = book.worksheet_range("团队").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), report.teams.len() + 1);
    for row in &rows[1..] {
        let id = text(&row[1]).parse().unwrap();
        assert_eq!(text(&row[0]), names().teams[&id]);
        assert_eq!(
            row[5],
            Data::Float(f64::from(report.team(id).unwrap().visits)),
            "团队 服务次数"
        );
    }

    // Uncovered villages, with names, in code order.
    let sheet = book.worksheet_range("未覆盖行政村").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert!(!report.uncovered_villages.is_empty());
    assert_eq!(rows.len(), report.uncovered_villages.len() + 1);
    for (row, v) in rows[1..].iter().zip(&report.uncovered_villages) {
        assert_eq!(text(&row[4]), v.to_string());
        assert_eq!(text(&row[0]), v.county().to_string());
        assert_eq!(
            Some(text(&row[5]).as_str()),
            reg.name(DivisionLevel::Village, v.as_int())
        );
    }

    // Scores: rank, total, and each indicator's score.
    let sheet = book.worksheet_range("考核得分").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), scores.scores.len() + 1);
    assert_eq!(text(&rows[0][rows[0].len() - 1]), "总分");
    for (i, (row, s)) in rows[1..].iter().zip(&scores.scores).enumerate() {
        assert_eq!(row[0], Data::Float((i + 1) as f64));
        assert_eq!(text(&row[2]), s.commissioner.to_string());
        for (k, ind) in s.indicators.iter().enumerate() {
            match ind.value {
                Some(v) => assert_eq!(row[3 + 2 * k], Data::Float(v)),
                None => assert_eq!(row[3 + 2 * k], Data::Empty),
            }
            assert_eq!(row[4 + 2 * k], Data::Float(ind.score));
        }
        assert_eq!(row[row.len() - 1], Data::Float(s.total));
    }

    // The header row is frozen on every sheet, and shares and decimals carry
    // their number formats.
    let mut zip = zip_entries(&bytes);
    for i in 1..=8 {
        let xml = zip.remove(&format!("xl/worksheets/sheet{i}.xml")).unwrap();
        assert!(
            xml.contains(r#"ySplit="1""#) && xml.contains(r#"state="frozen""#),
            "sheet {i} has no frozen header row"
        );
    }
    let styles = &zip["xl/styles.xml"];
    assert!(styles.contains(r#"formatCode="0.00%""#), "{styles}");
    assert!(styles.contains(r#"formatCode="0.00""#), "{styles}");
}

/// The text files inside an XLSX (a zip), read with calamine's own zip reader.
fn zip_entries(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut s = String::new();
        if f.read_to_string(&mut s).is_ok() {
            out.insert(f.name().unwrap().to_string(), s);
        }
    }
    out
}

#[test]
fn the_csv_annual_sheet_has_a_bom_and_the_figures() {
    let (report, reg) = report();
    let tables = annual_workbook(&report, &reg, &names(), None);
    let annual = &tables[0];
    let bytes = to_csv(annual).unwrap();
    assert!(bytes.starts_with(UTF8_BOM));
    let mut reader = csv::Reader::from_reader(&bytes[UTF8_BOM.len()..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..3], ["级别", "代码", "名称"]);
    assert_eq!(header[3..], headers_of(ANNUAL_FIGURES));
    let mut n = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let f = division(&report, &record[0], &record[1]);
        for (j, figure) in ANNUAL_FIGURES.iter().enumerate() {
            let want = match (figure.raw(f), figure.unit()) {
                (None, _) => String::new(),
                (Some(v), app_core::stats::Unit::Percent) => format!("{:.2}", v * 100.0),
                (Some(v), app_core::stats::Unit::Minutes) => format!("{v:.2}"),
                (Some(v), _) => format!("{}", v as u64),
            };
            assert_eq!(
                &record[3 + j],
                want,
                "{} {} {figure:?}",
                &record[0],
                &record[1]
            );
        }
        n += 1;
    }
    assert_eq!(
        n,
        report.counties.len() + report.prefectures.len() + report.provinces.len()
    );
    // Every table writes as CSV.
    for t in &tables {
        let bytes = to_csv(t).unwrap();
        let rows = csv::Reader::from_reader(&bytes[UTF8_BOM.len()..])
            .records()
            .count();
        assert_eq!(rows, t.rows.len(), "{}", t.name);
    }
}

#[test]
fn files_land_in_the_folder_with_names_a_person_can_read() {
    let (report, register) = report();
    let tables = app_core::stats::sheet::annual_workbook(&report, &register, &names(), None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exports");
    let written =
        app_core::stats::export::write_files(&out, "正安县科技特派团 2026/年度", &tables, true)
            .unwrap();
    assert_eq!(written, [out.join("正安县科技特派团 2026_年度.xlsx")]);
    assert!(std::fs::read(&written[0]).unwrap().starts_with(b"PK"));
    let csvs = app_core::stats::export::write_files(&out, "团队", &tables, false).unwrap();
    assert_eq!(csvs.len(), tables.len());
    assert_eq!(csvs[0], out.join("团队-年度统计.csv"));
    for path in &csvs {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            bytes.starts_with(app_core::stats::export::UTF8_BOM),
            "{path:?}"
        );
    }
}
