//! Statistics and assessment (`/api/v1/stats/{level}/{code}…`): the
//! figures of a division, a team or a commissioner for a period as JSON,
//! their scores under an assessment scheme, and the annual sheet and the
//! villages not yet covered as XLSX or CSV. Computed by
//! [`crate::store::stats`] (hence by `app_core::stats`); this module decides
//! who may ask for what:
//!
//! - a province, prefecture or county: sync admins whose scope holds it;
//! - a team: its lead, and sync admins whose scope holds its county (only
//!   the team's records inside their scope);
//! - a commissioner: themselves; their team lead (only the records made
//!   for that team); sync admins whose scope holds the commissioner's
//!   county (only records inside their scope).
//!
//! A role that may never ask at a level is refused `403 forbidden`; a
//! division, team or person outside the caller's scope is `404 not_found`,
//! as if it did not exist.

use axum::extract::{Path, Query, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use app_core::domain::{CountyTag, Role, Scope};
use app_core::scope::covers_county;
use app_core::stats::assess::ScoreSheet;
use app_core::stats::{Area, Levels, Period};

use crate::auth::{Authed, principal_county};
use crate::codec;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::stats::{self, Answer, Ask, Format, Sheet, StatsError, Subject, area_within};

/// Query parameters, as pairs (so that a malformed one is a problem
/// document, and `tag` may repeat).
pub type Params = Vec<(String, String)>;

fn one<'p>(params: &'p Params, key: &str) -> Option<&'p str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn date(params: &Params, key: &str) -> Result<Option<NaiveDate>, ApiError> {
    one(params, key)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| ApiError::BadRequest(format!("{key}={v:?}: a date YYYY-MM-DD")))
        })
        .transpose()
}

/// The period of `year=2026`, or `from=2026-01-01&to=2026-06-30`.
fn period(params: &Params) -> Result<Period, ApiError> {
    match (
        one(params, "year"),
        date(params, "from")?,
        date(params, "to")?,
    ) {
        (Some(y), None, None) => y
            .parse::<i32>()
            .ok()
            .and_then(Period::year)
            .ok_or_else(|| ApiError::BadRequest(format!("year={y:?}"))),
        (None, Some(from), Some(to)) => Ok(Period::new(from, to)),
        _ => Err(ApiError::BadRequest(
            "give year=YYYY, or from=YYYY-MM-DD and to=YYYY-MM-DD".into(),
        )),
    }
}

/// The question of a request: whose figures, the period, the county tags
/// (`tag=poverty_alleviated&tag=national_key`, each may be a comma list),
/// and `levels=divisions` to leave out the commissioner and team rows.
pub fn ask_of(level: &str, code: &str, params: &Params) -> Result<Ask, ApiError> {
    let subject = Subject::parse(level, code).map_err(ApiError::BadRequest)?;
    let mut ask = Ask::new(subject, period(params)?);
    for (k, v) in params {
        match k.as_str() {
            "tag" => {
                for t in v.split(',').filter(|t| !t.is_empty()) {
                    let tag = CountyTag::from_code(t)
                        .ok_or_else(|| ApiError::BadRequest(format!("county tag {t:?}")))?;
                    if !ask.tags.contains(&tag) {
                        ask.tags.push(tag);
                    }
                }
            }
            "levels" => {
                ask.levels = match v.as_str() {
                    "all" => Levels::ALL,
                    "divisions" => Levels::DIVISIONS,
                    other => {
                        return Err(ApiError::BadRequest(format!(
                            "levels={other:?}: all or divisions"
                        )));
                    }
                }
            }
            "year" | "from" | "to" | "scheme" => {}
            other => return Err(ApiError::BadRequest(format!("unknown parameter {other:?}"))),
        }
    }
    Ok(ask)
}

/// The area a sync admin's scope holds.
fn admin_area(who: &Authed) -> Option<Area> {
    match who.user.scope {
        Scope::County(c) => Some(Area::County(c)),
        Scope::Province(p) => Some(Area::Province(p)),
        Scope::Own | Scope::Team(_) => None,
    }
}

/// Checks that `who` may ask `ask` and narrows it to what they read.
async fn authorize(app: &AppState, who: &Authed, ask: &mut Ask) -> Result<(), ApiError> {
    let role = who.user.role;
    match ask.subject {
        Subject::Province(_) | Subject::Prefecture(_) | Subject::County(_) => {
            if role != Role::SyncAdmin {
                return Err(ApiError::Forbidden(
                    "statistics of a division are for sync admins".into(),
                ));
            }
            let area = ask.subject.area().expect("a division");
            if !admin_area(who).is_some_and(|mine| area_within(area, mine)) {
                return Err(ApiError::NotFound);
            }
        }
        Subject::Team(t) => {
            let team = app.store.team(t).await?.ok_or(ApiError::NotFound)?;
            match role {
                Role::SyncAdmin => {
                    if !covers_county(&who.principal, team.county) {
                        return Err(ApiError::NotFound);
                    }
                    ask.within = admin_area(who);
                }
                Role::TeamLead => {
                    if who.user.team != Some(t) {
                        return Err(ApiError::NotFound);
                    }
                }
                Role::Commissioner => {
                    return Err(ApiError::Forbidden(
                        "a team's statistics are for its lead and sync admins".into(),
                    ));
                }
            }
        }
        Subject::Commissioner(u) => {
            if u == who.user.id {
                return Ok(());
            }
            let user = app.store.user(u).await?.ok_or(ApiError::NotFound)?.user;
            match role {
                Role::SyncAdmin => {
                    let team = match user.team {
                        Some(t) => app.store.team(t).await?,
                        None => None,
                    };
                    let covered = principal_county(&user, team.as_ref())
                        .is_some_and(|c| covers_county(&who.principal, c));
                    if !covered {
                        return Err(ApiError::NotFound);
                    }
                    ask.within = admin_area(who);
                }
                Role::TeamLead => {
                    if who.user.team.is_none() || user.team != who.user.team {
                        return Err(ApiError::NotFound);
                    }
                    ask.team = who.user.team;
                }
                Role::Commissioner => return Err(ApiError::NotFound),
            }
        }
    }
    Ok(())
}

fn api_error(e: StatsError) -> ApiError {
    match e {
        StatsError::Store(e) => e.into(),
        StatsError::NoSuchTeam(_) | StatsError::NoSuchUser(_) => ApiError::NotFound,
        e @ (StatsError::UnknownScheme(..) | StatsError::BadExport(_)) => {
            ApiError::BadRequest(e.to_string())
        }
        StatsError::Export(e) => ApiError::Internal(e.to_string()),
    }
}

fn json<T: serde::Serialize>(headers: &HeaderMap, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(codec::encoded(headers, "application/json", body))
}

/// `GET /api/v1/stats/{level}/{code}`: the report ([`Answer`]) as JSON.
pub async fn report(
    State(app): State<AppState>,
    authed: Authed,
    Path((level, code)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut ask = ask_of(&level, &code, &params)?;
    authorize(&app, &authed, &mut ask).await?;
    let computed = stats::answer(&*app.store, &ask).await.map_err(api_error)?;
    let answer: &Answer = &computed.answer;
    json(&headers, answer)
}

/// `GET /api/v1/stats/{level}/{code}/scores?scheme=…`: the scores
/// ([`ScoreSheet`]) of the subject's commissioners, as JSON.
pub async fn scores(
    State(app): State<AppState>,
    authed: Authed,
    Path((level, code)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut ask = ask_of(&level, &code, &params)?;
    let scheme = stats::scheme(one(&params, "scheme").unwrap_or("seed-2021")).map_err(api_error)?;
    authorize(&app, &authed, &mut ask).await?;
    let (_, sheet) = stats::scores(&*app.store, &ask, &scheme)
        .await
        .map_err(api_error)?;
    let sheet: &ScoreSheet = &sheet;
    json(&headers, sheet)
}

/// `GET /api/v1/stats/{level}/{code}/export/{file}`: `workbook.xlsx`
/// (every sheet; scores too with `scheme=`), or one sheet as
/// `<sheet>.xlsx` or `<sheet>.csv` (`annual`, `counties`, `prefectures`,
/// `provinces`, `teams`, `commissioners`, `uncovered`, `scores`).
pub async fn export(
    State(app): State<AppState>,
    authed: Authed,
    Path((level, code, file)): Path<(String, String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let mut ask = ask_of(&level, &code, &params)?;
    let (stem, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| ApiError::BadRequest(format!("file {file:?}: name.xlsx or name.csv")))?;
    let format = Format::from_extension(ext)
        .ok_or_else(|| ApiError::BadRequest(format!("file {file:?}: xlsx or csv")))?;
    let sheet = match (stem, format) {
        ("workbook", Format::Xlsx) => None,
        _ => Some(
            Sheet::from_stem(stem)
                .ok_or_else(|| ApiError::BadRequest(format!("no sheet {stem:?}")))?,
        ),
    };
    let scheme = match one(&params, "scheme") {
        Some(name) => Some(stats::scheme(name).map_err(api_error)?),
        None if sheet == Some(Sheet::Scores) => {
            Some(stats::scheme("seed-2021").map_err(api_error)?)
        }
        None => None,
    };
    authorize(&app, &authed, &mut ask).await?;
    let (computed, scores) = match &scheme {
        Some(s) => {
            let (c, sheet) = stats::scores(&*app.store, &ask, s)
                .await
                .map_err(api_error)?;
            (c, Some(sheet))
        }
        None => (
            stats::answer(&*app.store, &ask).await.map_err(api_error)?,
            None,
        ),
    };
    let tables = stats::tables(&computed, scores.as_ref());
    let bytes = tokio::task::spawn_blocking(move || {
        stats::export(tables, sheet.as_ref().map(std::slice::from_ref), format)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(api_error)?;
    let name = format!(
        "ketepai-{}-{}-{}.{}",
        ask.subject.to_string().replace(':', "-"),
        ask.period.from.format("%Y%m%d"),
        ask.period.to.format("%Y%m%d"),
        format.extension()
    );
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The statistics routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/stats/{level}/{code}", get(report))
        .route("/stats/{level}/{code}/scores", get(scores))
        .route("/stats/{level}/{code}/export/{file}", get(export))
}
