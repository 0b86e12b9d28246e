//! The query strings the server's routes take, through the same extractor
//! (axum's `Query`, serde_urlencoded into the routes' typed queries) and
//! the same functions the routes then run: the pull (`PullParams`,
//! `pull_limit`, `parse_cursor`), the statistics (`ask_of` over the
//! path's level and code and the query's pairs), and every admin listing
//! (`UserQuery`, `TeamQuery`, `DeviceQuery`, `QuarantineQuery`,
//! `ConflictListQuery`, `AuditQuery` through `admin::query`, then
//! `page_limit` and the listing's cursor). The input is the rest of a
//! statistics URI, `level/code?query`; the other routes take its query.
//!
//! Asserts: nothing panics; every refusal is a `400` problem document
//! (`bad_request`, or `bad_cursor` for a cursor); a page size is within
//! its bounds and is the one asked for, clamped; a cursor that decodes
//! prints back to the same cursor; the statistics' tags are the ones
//! asked for, each once, and a `year=` is that calendar year.
#![no_main]

use app_core::admin::{
    AuditQuery, ConflictListQuery, DEFAULT_PAGE, DeviceQuery, MAX_PAGE, QuarantineQuery, TeamQuery,
    UserQuery,
};
use app_core::domain::{CountyTag, DeviceId, DocId, TeamId, Timestamp};
use app_core::sync::protocol::MAX_PULL_CHANGES;
use axum::extract::Query;
use axum::http::Uri;
use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use sync_server::error::{ApiError, PROBLEM_MEDIA_TYPE};
use sync_server::routes::parsers::{
    PullParams, StatsParams, ask_of, conflict_cursor, page_cursor, page_limit, parse_cursor,
    pull_limit, query,
};

fn seeds() -> Vec<Vec<u8>> {
    let doc = ketepai_fuzz::stored_log().1;
    let team = app_core::testing::team_id(1);
    let device = app_core::testing::device_id(1);
    let user = app_core::testing::user_id(1);
    [
        "county/520324?year=2026".to_string(),
        "county/520324?from=2026-01-01&to=2026-06-30&tag=poverty_alleviated,national_key&levels=divisions".into(),
        format!("team/{team}?year=2025&tag=national_key&tag=national_key&scheme=seed-2021"),
        format!("commissioner/{user}?year=2026&levels=all"),
        "province/52?cursor=7.1234&limit=500".into(),
        format!("prefecture/5203?cursor={team}&limit=20&county=520324"),
        format!("county/520324?cursor={device}&state=revoked&flag=silent&user={user}&team={team}"),
        format!("county/520324?cursor=1700000000000:{doc}&kind=service_log&before=1700000000000"),
        format!("county/520324?state=open&device={device}&doc={doc}&code=rule_length&since=1&until=99&cursor=123&limit=0"),
        "county/520324?actor=x&action=user.&subject=%E5%BC%A0&cursor=-1&limit=4294967295&q=%E5%BC%A0&role=commissioner&active=true".into(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// A refusal as the client sees it: `400`, a problem document, `code`.
fn refused(e: ApiError, code: &str) {
    assert_eq!(e.code(), code, "{e:?}");
    let resp = e.into_response();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["content-type"].as_bytes(),
        PROBLEM_MEDIA_TYPE.as_bytes()
    );
}

/// An admin listing's query, as its route reads it.
fn listing<T: DeserializeOwned>(uri: &Uri) -> Option<T> {
    match query(Query::<T>::try_from_uri(uri)) {
        Ok(q) => Some(q),
        Err(e) => {
            refused(e, "bad_request");
            None
        }
    }
}

fn limit_checked(asked: Option<u32>) {
    let limit = page_limit(asked);
    assert!((1..=MAX_PAGE).contains(&limit));
    assert_eq!(limit, asked.map_or(DEFAULT_PAGE, |l| l.clamp(1, MAX_PAGE)));
}

/// A listing's cursor of key `T`: absent, or it prints back, or
/// `bad_cursor`.
fn cursor_checked<T>(cursor: Option<&str>)
where
    T: std::str::FromStr + ToString + PartialEq + std::fmt::Debug,
{
    match page_cursor::<T>(cursor) {
        Ok(None) => assert!(cursor.is_none_or(str::is_empty)),
        Ok(Some(key)) => {
            let again = page_cursor::<T>(Some(&key.to_string())).unwrap();
            assert_eq!(again, Some(key));
        }
        Err(e) => refused(e.into(), "bad_cursor"),
    }
}

fuzz_target!(
    init: ketepai_fuzz::write_seeds(seeds),
    |data: &[u8]| {
        let Ok(uri) = Uri::try_from([&b"/api/v1/stats/"[..], data].concat()) else {
            return; // not a request line hyper would hand to the router
        };

        // The pull: axum's rejection becomes a problem in the router's
        // layer (`layer_problems`), so it must be a client error.
        match Query::<PullParams>::try_from_uri(&uri) {
            Ok(Query(p)) => {
                let limit = pull_limit(p.limit);
                assert!((1..=MAX_PULL_CHANGES).contains(&limit));
                assert_eq!(limit, p.limit.map_or(MAX_PULL_CHANGES, |l| l.clamp(1, MAX_PULL_CHANGES)));
                match p.cursor.as_deref() {
                    None | Some("") => {}
                    Some(text) => match parse_cursor(text) {
                        Ok((epoch, seq)) => {
                            assert!(epoch >= 0 && seq >= 0);
                            assert_eq!(parse_cursor(&format!("{epoch}.{seq}")).unwrap(), (epoch, seq));
                        }
                        Err(e) => refused(e, "bad_cursor"),
                    },
                }
            }
            Err(rejection) => assert!(rejection.status().is_client_error(), "{rejection:?}"),
        }

        // The statistics: the path's level and code, the query's pairs.
        if let Ok(Query(params)) = Query::<StatsParams>::try_from_uri(&uri) {
            let path = uri.path().strip_prefix("/api/v1/stats/").unwrap_or_default();
            let (level, code) = path.split_once('/').unwrap_or((path, ""));
            match ask_of(level, code, &params) {
                Ok(ask) => {
                    let asked: Vec<CountyTag> = params
                        .iter()
                        .filter(|(k, _)| k == "tag")
                        .flat_map(|(_, v)| v.split(',').filter_map(CountyTag::from_code))
                        .collect();
                    for (i, tag) in ask.tags.iter().enumerate() {
                        assert!(asked.contains(tag));
                        assert!(!ask.tags[..i].contains(tag), "a tag once");
                    }
                    assert!(asked.iter().all(|t| ask.tags.contains(t)));
                    if let Some((_, y)) = params.iter().rev().find(|(k, _)| k == "year") {
                        let year: i32 = y.parse().unwrap();
                        assert_eq!(ask.period, app_core::stats::Period::year(year).unwrap());
                    }
                }
                Err(e) => refused(e, "bad_request"),
            }
        }

        // The admin listings.
        if let Some(q) = listing::<UserQuery>(&uri) {
            limit_checked(q.limit);
        }
        if let Some(q) = listing::<TeamQuery>(&uri) {
            limit_checked(q.limit);
            cursor_checked::<TeamId>(q.cursor.as_deref());
        }
        if let Some(q) = listing::<DeviceQuery>(&uri) {
            limit_checked(q.limit);
            cursor_checked::<DeviceId>(q.cursor.as_deref());
        }
        if let Some(q) = listing::<QuarantineQuery>(&uri) {
            limit_checked(q.limit);
            cursor_checked::<i64>(q.cursor.as_deref());
        }
        if let Some(q) = listing::<AuditQuery>(&uri) {
            limit_checked(q.limit);
            cursor_checked::<i64>(q.cursor.as_deref());
        }
        if let Some(q) = listing::<ConflictListQuery>(&uri) {
            limit_checked(q.limit);
            match conflict_cursor(q.cursor.as_deref()) {
                Ok(None) => assert!(q.cursor.as_deref().is_none_or(str::is_empty)),
                Ok(Some((at, doc))) => {
                    let printed = format!("{}:{doc}", at.as_millis());
                    let again: Option<(Timestamp, DocId)> = conflict_cursor(Some(&printed)).unwrap();
                    assert_eq!(again, Some((at, doc)));
                }
                Err(e) => refused(e.into(), "bad_cursor"),
            }
        }
    }
);
