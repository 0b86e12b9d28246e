//! Record sync: `POST /api/v1/sync/push`, `GET /api/v1/sync/pull` and its
//! streamed form `GET /api/v1/sync/pull/stream`, the
//! repair fetch `GET /api/v1/sync/docs/{id}`, and the notices a sync
//! admin's decisions leave for a device (`GET /api/v1/sync/notices`,
//! `POST /api/v1/sync/notices/ack`).
//!
//! A pull with nothing new is answered `204` with no body and no headers
//! beyond what HTTP needs (and `Ketepai-Notices` while notices wait), so
//! that a reconnect costs one small request whatever the number of
//! records on the device. Pushes and pulls record the device's sync
//! health: when it last pushed and pulled, and what it reports about its
//! outbox ([`record_sync`]).

use std::collections::BTreeSet;
use std::time::Instant;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app_core::admin::Backlog;
use app_core::domain::{DocId, Role, Timestamp};
use app_core::scope::can_read;
use app_core::sync::compact::{COMPACT_PARTS_MEDIA_TYPE, COMPACT_SEEDED_HEADER};
use app_core::sync::protocol::{
    self, ChangeOutcome, DeviceReport, MAX_PULL_CHANGES, MAX_PUSH_BODY, MAX_PUSH_CHANGES,
    MAX_PUSH_DECODED, MEDIA_TYPE, NOTICES_HEADER, NoticeAck, Notices, PullResponse, PushRequest,
    PushResponse, WireChange,
};

use crate::auth::{Authed, TOUCH_EVERY_MILLIS};
use crate::codec;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditEntry, DeviceSync, PullPage, PullQuery};
use crate::sync::PushBatch;

/// When a pull finds nothing in scope but at least this many changes of
/// others lie past the cursor, it answers `200` with no changes and a
/// cursor past them, so that the next pull does not scan them again.
pub const SKIP_AHEAD: i64 = 1_000;

/// `POST /api/v1/sync/push`.
pub async fn push(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !codec::content_type_is(&headers, MEDIA_TYPE) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "push bodies are {MEDIA_TYPE}"
        )));
    }
    codec::request_is_zstd(&headers)?;
    codec::check_length(&headers, MAX_PUSH_BODY)?;
    let raw = codec::read_body(body, MAX_PUSH_BODY).await?;
    let started = Instant::now();
    let decoded = codec::decode_content(&headers, raw, MAX_PUSH_DECODED)?;
    let request: PushRequest =
        protocol::decode(&decoded).map_err(|e| ApiError::BadRequest(format!("push body: {e}")))?;
    drop(decoded);
    if request.changes.len() > MAX_PUSH_CHANGES {
        return Err(ApiError::BodyTooLarge(format!(
            "{} changes, at most {MAX_PUSH_CHANGES} per push",
            request.changes.len()
        )));
    }
    let docs: Vec<DocId> = request.changes.iter().map(|c| c.doc).collect();
    let principal = authed.principal;
    let device = authed.device.id;
    let batch = tokio::task::spawn_blocking(move || PushBatch::decode(principal, device, request))
        .await
        .map_err(|e| ApiError::Internal(format!("decoding a push: {e}")))?;
    let now = app.clock.now();
    let result = app.store.push(batch, now).await?;
    app.metrics.push_took(started.elapsed());
    app.metrics.outcomes(&result.outcomes);

    let count = |f: fn(&ChangeOutcome) -> bool| result.outcomes.iter().filter(|o| f(o)).count();
    tracing::info!(
        device = %device,
        user = %authed.user.username,
        changes = result.outcomes.len(),
        stored = count(|o| matches!(o, ChangeOutcome::Stored)),
        duplicate = count(|o| matches!(o, ChangeOutcome::Duplicate)),
        missing_deps = count(|o| matches!(o, ChangeOutcome::MissingDeps)),
        refused = count(|o| matches!(o, ChangeOutcome::Refused { .. })),
        "push"
    );
    for (doc, outcome) in docs.iter().zip(&result.outcomes) {
        if let ChangeOutcome::Refused { code, reason } = outcome {
            tracing::warn!(device = %device, %doc, code = code.as_str(), ?reason, "change refused");
        }
    }
    record_sync(&app, &authed, &headers, Request::Push, now).await?;
    if authed.user.role == Role::SyncAdmin {
        // A sync admin writing someone's record (resolving a conflict) is
        // recorded, document by document.
        let written: BTreeSet<DocId> = docs
            .iter()
            .zip(&result.outcomes)
            .filter(|(_, o)| matches!(o, ChangeOutcome::Stored))
            .map(|(d, _)| *d)
            .collect();
        for doc in written {
            // Under the record's county (and its province), so the county's
            // admin sees a provincial admin's write of a county record too.
            let county = app.store.document(doc).await?.map(|d| d.placement.county);
            let (county, province) = match (county, authed.user.scope) {
                (Some(c), _) => (Some(c), Some(c.province())),
                (None, app_core::domain::Scope::County(c)) => (Some(c), None),
                (None, app_core::domain::Scope::Province(p)) => (None, Some(p)),
                _ => (None, None),
            };
            app.store
                .audit(
                    &AuditEntry::new(
                        now,
                        Some(authed.user.id),
                        "record.admin_write",
                        doc.to_string(),
                        serde_json::json!({ "device": device.to_string() }),
                    )
                    .from_device(Some(device))
                    .within(county, province),
                )
                .await?;
        }
    }
    let body = protocol::encode(&PushResponse {
        outcomes: result.outcomes,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(codec::encoded(&headers, MEDIA_TYPE, body))
}

/// Query of a pull.
#[derive(Debug, Deserialize)]
pub struct PullParams {
    /// `"{epoch}.{seq}"`; absent on the first pull.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// Streamed pull of compact parts only: the cursor a broken stream
    /// started from (empty for none), whose tables the device kept; the
    /// server rebuilds them by reading that stream's parts up to `cursor`
    /// again, and says so with `Ketepai-Compact-Seeded: 1`.
    pub tables_from: Option<String>,
}

/// A pull's page size: as asked, within `1..=MAX_PULL_CHANGES` (the most
/// when not asked).
pub fn pull_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(MAX_PULL_CHANGES).clamp(1, MAX_PULL_CHANGES)
}

/// Parses `"{epoch}.{seq}"`.
pub fn parse_cursor(text: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::BadCursor(text.chars().take(40).collect());
    let (epoch, seq) = text.split_once('.').ok_or_else(bad)?;
    let epoch: i64 = epoch.parse().map_err(|_| bad())?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    if epoch < 0 || seq < 0 {
        return Err(bad());
    }
    Ok((epoch, seq))
}

fn cursor(epoch: i64, seq: i64) -> String {
    format!("{epoch}.{seq}")
}

/// `GET /api/v1/sync/pull?cursor=&limit=`.
pub async fn pull(
    State(app): State<AppState>,
    authed: Authed,
    Query(params): Query<PullParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let (query, page) = first_page(&app, &authed, &params).await?;
    app.metrics.pull_took(started.elapsed());
    record_sync(&app, &authed, &headers, Request::Pull, app.clock.now()).await?;
    let notices = authed.device.sync.notices_pending;
    let Some((response, _)) = answer_of(page, query.after, authed.scope_epoch) else {
        return Ok(announce(StatusCode::NO_CONTENT.into_response(), notices));
    };
    let body = protocol::encode(&response).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(announce(
        codec::encoded(&headers, MEDIA_TYPE, body),
        notices,
    ))
}

/// The query of a pull's first page and that page. A cursor from before a
/// change of scope, or ahead of the server (a database restored from a
/// backup), starts from the beginning: applying known changes again is
/// harmless.
async fn first_page(
    app: &AppState,
    authed: &Authed,
    params: &PullParams,
) -> Result<(PullQuery, PullPage), ApiError> {
    let limit = pull_limit(params.limit);
    let epoch = authed.scope_epoch;
    let after = match params.cursor.as_deref() {
        None | Some("") => 0,
        Some(text) => {
            let (e, seq) = parse_cursor(text)?;
            // A cursor from before a change of scope restarts from the
            // beginning: documents may have entered the scope behind it.
            if e == epoch { seq } else { 0 }
        }
    };
    let mut query = PullQuery {
        principal: authed.principal,
        device: authed.device.id,
        after,
        limit,
    };
    let mut page = app.store.pull(&query).await?;
    if after > page.high_water {
        query.after = 0;
        page = app.store.pull(&query).await?;
    }
    Ok((query, page))
}

/// What a page read after `after` answers: `None` when nothing is new
/// (`204`); no changes but a cursor past them when at least [`SKIP_AHEAD`]
/// changes of others lie past the cursor; else the changes with the cursor
/// after them (the page's last change while more wait, else the high-water
/// mark).
/// Also the sequence number the cursor names.
fn answer_of(page: PullPage, after: i64, epoch: i64) -> Option<(PullResponse, i64)> {
    if page.changes.is_empty() {
        if page.high_water - after < SKIP_AHEAD {
            return None;
        }
        let answer = PullResponse {
            changes: Vec::new(),
            cursor: cursor(epoch, page.high_water),
            more: false,
        };
        return Some((answer, page.high_water));
    }
    let next = if page.more {
        page.changes.last().map_or(after, |c| c.seq)
    } else {
        page.high_water
    };
    let answer = PullResponse {
        changes: page
            .changes
            .into_iter()
            .map(|c| WireChange {
                doc: c.doc,
                bytes: c.bytes,
            })
            .collect(),
        cursor: cursor(epoch, next),
        more: page.more,
    };
    Some((answer, next))
}

/// Parts a streamed pull's producer may have ready ahead of the
/// connection: with pages of at most about 4 MiB, the memory one stream
/// holds is a few pages, whatever the size of the whole answer.
const STREAM_AHEAD: usize = 2;

/// `GET /api/v1/sync/pull/stream?cursor=&limit=`: everything after the
/// cursor in one answer, whose body is parts (each the page the paged
/// route would answer, as [`protocol::encode_part`] frames it) in one zstd
/// stream when the client accepts zstd, so that the compression's window
/// spans parts. `204` as the paged route when nothing is new. Pages are
/// read from the store one at a time as the connection takes them (a
/// channel of [`STREAM_AHEAD`] parts), so a province's pull never sits in
/// memory whole; each part is flushed whole, so a client can apply it
/// before the next arrives. A client whose `Accept` lists
/// [`COMPACT_PARTS_MEDIA_TYPE`] gets compact parts
/// ([`app_core::sync::compact`]), named in the `Content-Type`, while fewer
/// than [`codec::MAX_COMPACT_STREAMS`] are being served; any other gets
/// plain parts.
pub async fn pull_stream(
    State(app): State<AppState>,
    authed: Authed,
    Query(params): Query<PullParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let (query, page) = first_page(&app, &authed, &params).await?;
    app.metrics.pull_took(started.elapsed());
    record_sync(&app, &authed, &headers, Request::Pull, app.clock.now()).await?;
    let notices = authed.device.sync.notices_pending;
    let epoch = authed.scope_epoch;
    let Some(first) = answer_of(page, query.after, epoch) else {
        return Ok(announce(StatusCode::NO_CONTENT.into_response(), notices));
    };
    let zstd = codec::accepts_zstd(&headers);
    // Each compact stream holds a large compression context: past the cap,
    // a client that asked for compact parts gets plain ones, which it reads
    // as well (the `Content-Type` says which).
    let permit = codec::accepts(&headers, COMPACT_PARTS_MEDIA_TYPE)
        .then(|| app.compact_streams.clone().try_acquire_owned().ok())
        .flatten();
    let compact = permit.is_some();
    let mut writer =
        codec::PartWriter::new(zstd, compact).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut seeded = false;
    if compact && let Some(from) = &params.tables_from {
        (writer, seeded) = seed_tables(&app, &authed, &params, from, writer).await?;
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(STREAM_AHEAD);
    tokio::spawn(async move {
        produce_parts(app, query, epoch, first, writer, tx).await;
        drop(permit);
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if compact {
            COMPACT_PARTS_MEDIA_TYPE
        } else {
            protocol::PARTS_MEDIA_TYPE
        }),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("accept, accept-encoding"),
    );
    if zstd {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("zstd"));
    }
    if seeded {
        h.insert(COMPACT_SEEDED_HEADER, HeaderValue::from_static("1"));
    }
    Ok(announce(resp, notices))
}

/// Rebuilds the compact tables of a broken stream that started at `from`
/// by reading its parts again, up to the one that ends at the request's
/// cursor (where the device's saved parts end), without sending them.
/// Gives the writer with those tables and `true`; or, when the parts read
/// again do not end exactly there (the scope changed, or the device named
/// another stream), a writer with new tables and `false`. The device
/// decodes with its own tables only when told `true`, and each part's
/// digest still guards what it saves.
async fn seed_tables(
    app: &AppState,
    authed: &Authed,
    params: &PullParams,
    from: &str,
    fresh: codec::PartWriter,
) -> Result<(codec::PartWriter, bool), ApiError> {
    let Some(until) = params.cursor.as_deref() else {
        return Ok((fresh, false));
    };
    let epoch = authed.scope_epoch;
    let replay = PullParams {
        cursor: (!from.is_empty()).then(|| from.to_string()),
        limit: params.limit,
        tables_from: None,
    };
    let Ok((mut query, page)) = first_page(app, authed, &replay).await else {
        return Ok((fresh, false));
    };
    let mut writer =
        codec::PartWriter::new(false, true).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut next = answer_of(page, query.after, epoch);
    while let Some((part, after)) = next {
        let (done, more) = (part.cursor == until, part.more);
        writer = writer
            .observe(part)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if done {
            return Ok((fresh.with_tables_of(writer), true));
        }
        if !more {
            break;
        }
        query.after = after;
        next = answer_of(app.store.pull(&query).await?, query.after, epoch);
    }
    Ok((fresh, false))
}

/// Writes a streamed pull's parts into `tx`, starting with `first`, page
/// after page until one says nothing more waits; stops when the client
/// has gone. A store failure part-way ends the body with an error, so the
/// client sees a cut (and resumes from its last whole part), never a
/// clean end.
async fn produce_parts(
    app: AppState,
    mut query: PullQuery,
    epoch: i64,
    first: (PullResponse, i64),
    writer: codec::PartWriter,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let mut writer = Some(writer);
    let (mut part, mut next_after) = first;
    loop {
        let more = part.more;
        let Some(w) = writer.take() else { return };
        let framed = match w.write(part).await {
            Ok((bytes, w)) => {
                writer = Some(w);
                bytes
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        if tx.send(Ok(framed)).await.is_err() {
            return;
        }
        if !more {
            break;
        }
        query.after = next_after;
        let page = match app.store.pull(&query).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "a streamed pull stopped part-way");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
        };
        match answer_of(page, query.after, epoch) {
            Some(next) => (part, next_after) = next,
            None => break,
        }
    }
    if let Some(w) = writer {
        match w.finish() {
            Ok(tail) if !tail.is_empty() => {
                let _ = tx.send(Ok(Bytes::from(tail))).await;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Err(e)).await;
            }
        }
    }
}

/// Adds [`NOTICES_HEADER`] to a pull's answer while notices wait.
fn announce(mut resp: Response, notices: u64) -> Response {
    if notices > 0
        && let Ok(v) = HeaderValue::from_str(&notices.to_string())
    {
        resp.headers_mut().insert(NOTICES_HEADER, v);
    }
    resp
}

/// Which sync request a device made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// A push.
    Push,
    /// A pull.
    Pull,
}

/// Records a device's sync health after a successful push or pull: its
/// time, and what the request's headers report (the outbox, the app
/// version; see [`DeviceReport`]).
async fn record_sync(
    app: &AppState,
    authed: &Authed,
    headers: &HeaderMap,
    request: Request,
    at: Timestamp,
) -> Result<(), ApiError> {
    let report = DeviceReport::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()));
    if let Some(new) = health_after(&authed.device.sync, report.as_ref(), request, at) {
        app.store.record_sync(authed.device.id, &new, at).await?;
    }
    Ok(())
}

/// A device's sync health after a successful `request` at `at` carrying
/// `report`, or `None` when nothing needs writing: a pull writes only when
/// something changed or the last write is older than
/// [`TOUCH_EVERY_MILLIS`], so a reconnect with nothing new costs no write.
/// The one rule for the route and the demo seed (`crate::demo`).
pub(crate) fn health_after(
    old: &DeviceSync,
    report: Option<&DeviceReport>,
    request: Request,
    at: Timestamp,
) -> Option<DeviceSync> {
    let mut new = old.clone();
    if let Some(report) = report {
        if report.app_version.is_some() {
            new.app_version = report.app_version.clone();
        }
        new.backlog = Some(Backlog::after_report(old.backlog.as_ref(), report, at));
    }
    let stale = |t: Option<Timestamp>| t.is_none_or(|t| at.millis_since(t) > TOUCH_EVERY_MILLIS);
    let write = match request {
        Request::Push => {
            new.last_push_at = Some(at);
            true
        }
        Request::Pull => {
            let changed = new.app_version != old.app_version
                || new
                    .backlog
                    .map(|b| (b.changes, b.oldest_at, b.rises, b.growing))
                    != old
                        .backlog
                        .map(|b| (b.changes, b.oldest_at, b.rises, b.growing));
            let write = changed || stale(old.last_pull_at);
            if write {
                new.last_pull_at = Some(at);
            }
            write
        }
    };
    write.then_some(new)
}

/// `GET /api/v1/sync/notices`: what sync admins decided about this
/// device's refused changes, until acknowledged (JSON).
pub async fn notices(
    State(app): State<AppState>,
    authed: Authed,
) -> Result<Json<Notices>, ApiError> {
    Ok(Json(Notices {
        notices: app.store.notices(authed.device.id).await?,
    }))
}

/// `POST /api/v1/sync/notices/ack` with `{"up_to": id}`: the device keeps
/// the notices up to `up_to`; `204`.
pub async fn ack_notices(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    if !codec::content_type_is(&headers, "application/json") {
        return Err(ApiError::UnsupportedMediaType("application/json".into()));
    }
    let raw = codec::read_body(body, 1024).await?;
    let ack: NoticeAck =
        serde_json::from_slice(&raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    app.store
        .ack_notices(authed.device.id, ack.up_to, app.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/sync/docs/{id}`: every change of one document in scope.
pub async fn document(
    State(app): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let doc: DocId = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("document id {id:?}")))?;
    let Some(found) = app.store.document(doc).await? else {
        return Err(ApiError::NotFound);
    };
    if !can_read(&authed.principal, &found.placement) {
        return Err(ApiError::NotFound);
    }
    let response = PullResponse {
        changes: found
            .changes
            .into_iter()
            .map(|c| WireChange {
                doc: c.doc,
                bytes: c.bytes,
            })
            .collect(),
        cursor: String::new(),
        more: false,
    };
    let body = protocol::encode(&response).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(codec::encoded(&headers, MEDIA_TYPE, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_or_are_bad() {
        assert_eq!(parse_cursor("3.120").unwrap(), (3, 120));
        for bad in ["", "3", "a.b", "3.-1", "-1.3", "3.4.5"] {
            assert!(
                matches!(parse_cursor(bad), Err(ApiError::BadCursor(_))),
                "{bad:?}"
            );
        }
    }
}
