//! The statistics projection on PostgreSQL (issue 13): writing records'
//! rows in the push's transaction, the backfill of documents stored before
//! the projection, and reading rows into the engine. What a row holds is
//! [`crate::store::projection`]'s; this file has the SQL and the binary reader.
//!
//! A report reads its rows with `COPY (SELECT …) TO STDOUT (FORMAT
//! binary)`: PostgreSQL sends each row as one small binary message, which
//! costs both sides far less than a result set decoded row by row (the
//! selection's values are integers and UUIDs this code formats, inlined
//! because `COPY` takes no parameters), and only the columns the engine
//! reads (not a record's id). The rows are cut in two, each part read on a
//! connection of its own so that two database processes serve it: a
//! selection wider than a county by the tables' pages (`ctid` ranges, so
//! that each process reads half the heap rather than both reading all of
//! it), a county or less by the period (an index finds its rows). Each
//! stream's bytes go in large chunks to a blocking thread that parses them
//! and counts them into an `app_core::stats::ReportBuilder` of its own;
//! the builders are merged (`ReportBuilder::merge`, exact: sums add, sets
//! unite, answer times join) into the report. Reading, decoding and
//! counting overlap, and no one thread counts every row. Every stream
//! reads the same repeatable-read snapshot (exported by the first,
//! imported by the others), so a report never sees half a push.

use std::fmt::Write as _;
use std::sync::Arc;

use app_core::domain::{CountyCode, CountyTag};
use app_core::stats::{Area, Register, Report, ReportBuilder, StatsRequest};
use deadpool_postgres::GenericClient;
use futures_util::StreamExt;
use uuid::Uuid;

use super::{Backfill, Columns, PostgresStore, Result, StoreError, all, snapshot};
use crate::store::projection::{
    self, ConsultationColumns, Decoder, LogColumns, Selection, encode_items,
};
use crate::sync::RecordFacts;
use tokio_postgres::IsolationLevel;

/// Rows per statement when writing many records' rows.
const PROJECT_CHUNK: usize = 5_000;
/// Bytes of `COPY` output handed to the counting thread at once.
const CHUNK_BYTES: usize = 1 << 20;
/// A statement's future, boxed so that logs' and consultations' can be
/// awaited together.
type Statement<'c> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64>> + Send + 'c>>;

/// Writes (or replaces) the projection rows of `facts`, one statement per
/// table and chunk, all pipelined on the connection. A record given twice
/// keeps its last facts.
pub(super) async fn project(c: &impl GenericClient, facts: &[&RecordFacts]) -> Result<()> {
    let mut logs = Vec::new();
    let mut consultations = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in facts.iter().rev() {
        if !seen.insert(projection::doc_of(f)) {
            continue;
        }
        match f {
            RecordFacts::Log(e) => logs.push(e),
            RecordFacts::Consultation(c) => consultations.push(c),
        }
    }
    let mut statements: Vec<Statement<'_>> = Vec::new();
    for chunk in logs.chunks(PROJECT_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|e| *e.fact.id.as_uuid()).collect();
        let authors: Vec<Uuid> = chunk.iter().map(|e| *e.fact.author.as_uuid()).collect();
        let teams: Vec<Option<Uuid>> = chunk
            .iter()
            .map(|e| e.fact.team.map(|t| *t.as_uuid()))
            .collect();
        let villages: Vec<i64> = chunk
            .iter()
            .map(|e| e.fact.village.as_int() as i64)
            .collect();
        let days: Vec<i32> = chunk
            .iter()
            .map(|e| projection::day_of(e.fact.date))
            .collect();
        let activities: Vec<i16> = chunk
            .iter()
            .map(|e| projection::activity_code(e.fact.activity))
            .collect();
        let statuses: Vec<i16> = chunk
            .iter()
            .map(|e| projection::status_code(e.fact.status))
            .collect();
        let duplicates: Vec<bool> = chunk.iter().map(|e| e.fact.duplicate).collect();
        let farmers: Vec<i64> = chunk
            .iter()
            .map(|e| i64::from(e.fact.farmers_served))
            .collect();
        let trainees: Vec<Option<i64>> = chunk
            .iter()
            .map(|e| e.fact.trainees.map(i64::from))
            .collect();
        let photos: Vec<i32> = chunk
            .iter()
            .map(|e| i32::try_from(e.fact.photos).unwrap_or(i32::MAX))
            .collect();
        let items: Vec<Vec<u8>> = chunk.iter().map(|e| encode_items(e.items())).collect();
        statements.push(Box::pin(async move {
            Ok(c.execute(
                "INSERT INTO stat_logs(doc_id, author, team, village, day, activity, status,
                                       duplicate, farmers, trainees, photos, items)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[],
                                      $5::integer[], $6::smallint[], $7::smallint[],
                                      $8::boolean[], $9::bigint[], $10::bigint[],
                                      $11::integer[], $12::bytea[])
                 ON CONFLICT (doc_id) DO UPDATE SET author = excluded.author,
                   team = excluded.team, village = excluded.village, day = excluded.day,
                   activity = excluded.activity, status = excluded.status,
                   duplicate = excluded.duplicate, farmers = excluded.farmers,
                   trainees = excluded.trainees, photos = excluded.photos,
                   items = excluded.items",
                &[
                    &ids,
                    &authors,
                    &teams,
                    &villages,
                    &days,
                    &activities,
                    &statuses,
                    &duplicates,
                    &farmers,
                    &trainees,
                    &photos,
                    &items,
                ],
            )
            .await?)
        }));
    }
    for chunk in consultations.chunks(PROJECT_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|f| *f.id.as_uuid()).collect();
        let authors: Vec<Uuid> = chunk.iter().map(|f| *f.author.as_uuid()).collect();
        let teams: Vec<Option<Uuid>> = chunk.iter().map(|f| f.team.map(|t| *t.as_uuid())).collect();
        let villages: Vec<i64> = chunk.iter().map(|f| f.village.as_int() as i64).collect();
        let asked: Vec<i64> = chunk.iter().map(|f| f.asked_at.as_millis()).collect();
        let answered: Vec<Option<i64>> = chunk
            .iter()
            .map(|f| f.first_answered_at.map(|t| t.as_millis()))
            .collect();
        let duplicates: Vec<bool> = chunk.iter().map(|f| f.duplicate).collect();
        statements.push(Box::pin(async move {
            Ok(c.execute(
                "INSERT INTO stat_consultations(doc_id, author, team, village, asked_at,
                                                answered_at, duplicate)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[],
                                      $5::bigint[], $6::bigint[], $7::boolean[])
                 ON CONFLICT (doc_id) DO UPDATE SET author = excluded.author,
                   team = excluded.team, village = excluded.village,
                   asked_at = excluded.asked_at, answered_at = excluded.answered_at,
                   duplicate = excluded.duplicate",
                &[
                    &ids,
                    &authors,
                    &teams,
                    &villages,
                    &asked,
                    &answered,
                    &duplicates,
                ],
            )
            .await?)
        }));
    }
    futures_util::future::try_join_all(statements).await?;
    Ok(())
}

/// Projects the documents stored before the projection existed, if the
/// migration left that to do ([`Backfill`]).
pub(super) async fn backfill(tx: &deadpool_postgres::Transaction<'_>) -> Result<()> {
    let Some(mut walk) = Backfill::due(tx, "stat_backfill").await? else {
        return Ok(());
    };
    let mut n = 0usize;
    while let Some(facts) = walk
        .next(|doc, snapshot| {
            projection::facts_of_snapshot(doc, snapshot)
                .into_iter()
                .collect()
        })
        .await?
    {
        n += facts.len();
        project(tx, &facts.iter().collect::<Vec<_>>()).await?;
    }
    walk.done().await?;
    tracing::info!(records = n, "statistics projection backfilled");
    Ok(())
}

/// The `WHERE` conditions of a selection after its time column's, as
/// literals (integers and UUIDs formatted here).
fn conditions(sel: &Selection) -> String {
    let mut sql = String::new();
    if let Some(ranges) = &sel.villages {
        sql.push_str(" AND (");
        for (i, (lo, hi)) in ranges.iter().enumerate() {
            let or = if i == 0 { "" } else { " OR " };
            let _ = write!(sql, "{or}village BETWEEN {lo} AND {hi}");
        }
        sql.push(')');
    }
    if let Some(a) = sel.author {
        let _ = write!(sql, " AND author = '{}'", a.hyphenated());
    }
    if let Some(t) = sel.team {
        let _ = write!(sql, " AND team = '{}'", t.hyphenated());
    }
    sql
}

/// Which table a chunk of `COPY` output comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Logs,
    Consultations,
}

/// A chunk of one table's `COPY` output (the stream cut anywhere).
struct Chunk {
    table: Table,
    bytes: Vec<u8>,
}

/// Decodes the chunks of one stream and counts every row into a builder
/// of its own (merged with the other streams' at the end).
fn count_stream<'r>(
    mut chunks: tokio::sync::mpsc::Receiver<Chunk>,
    request: &StatsRequest,
    register: Option<&'r Register>,
) -> Result<ReportBuilder<'r>> {
    let mut b = ReportBuilder::new(request, register);
    let mut reader = Reader::default();
    let mut decoder = Decoder::default();
    while let Some(chunk) = chunks.blocking_recv() {
        reader.take(chunk.table, &chunk.bytes, |table, f| {
            match table {
                Table::Logs => {
                    // The engine reads no record's id: it is not sent.
                    let f = unpack_log(f[0].ok_or_else(|| corrupt("stat_logs.packed"))?)?;
                    let fact = LogColumns {
                        id: Uuid::nil(),
                        author: uuid(f[0])?,
                        team: f[1].map(|v| uuid(Some(v))).transpose()?,
                        village: int(f[2])?,
                        day: int(f[3])?,
                        activity: int(f[4])?,
                        status: int(f[5])?,
                        duplicate: flag(f[6])?,
                        farmers: int(f[7])?,
                        trainees: f[8].map(|v| int(Some(v))).transpose()?,
                        photos: int(f[9])?,
                    }
                    .fact(&mut decoder)?;
                    b.add_log(&fact, projection::items(f[10].unwrap_or_default())?);
                }
                Table::Consultations => {
                    let f = unpack_consultation(
                        f[0].ok_or_else(|| corrupt("stat_consultations.packed"))?,
                    )?;
                    let fact = ConsultationColumns {
                        id: Uuid::nil(),
                        author: uuid(f[0])?,
                        team: f[1].map(|v| uuid(Some(v))).transpose()?,
                        village: int(f[2])?,
                        asked_at: int(f[3])?,
                        answered_at: f[4].map(|v| int(Some(v))).transpose()?,
                        duplicate: flag(f[5])?,
                    }
                    .fact(&mut decoder)?;
                    b.add_consultation(&fact);
                }
            }
            Ok(())
        })?;
    }
    reader.finish()?;
    Ok(b)
}

/// Splits the inclusive range `lo..=hi` into at most `n` contiguous
/// inclusive parts.
fn split(lo: i64, hi: i64, n: usize) -> Vec<(i64, i64)> {
    let n = i64::try_from(n.max(1)).unwrap_or(1);
    let len = hi - lo + 1;
    if len <= 0 {
        return vec![(lo, hi)];
    }
    let step = (len + n - 1) / n;
    (0..n)
        .map(|i| (lo + i * step, (lo + (i + 1) * step - 1).min(hi)))
        .filter(|(a, b)| a <= b)
        .collect()
}

/// How a report's rows are cut between its streams.
enum Cuts {
    /// By the period: each stream reads its own days (logs) and instants
    /// (consultations), inclusive ranges. For a county or less, where an
    /// index finds the rows.
    Period(Vec<(i64, i64)>, Vec<(i64, i64)>),
    /// By the tables' pages: each stream reads its own part of the heap
    /// (logs' pages, consultations' pages; the last part open-ended), so
    /// that the streams of a wide selection, which the database reads
    /// whole, do not each read every page.
    Pages(Vec<(i64, Option<i64>)>, Vec<(i64, Option<i64>)>),
}

/// Cuts `n` pages into `streams` parts `[from, to)`, the last open-ended.
fn pages(n: i64, streams: usize) -> Vec<(i64, Option<i64>)> {
    let k = i64::try_from(streams.max(1)).unwrap_or(1);
    (0..k)
        .map(|i| (n * i / k, (i + 1 < k).then(|| n * (i + 1) / k)))
        .collect()
}

/// A `ctid` condition for the pages `[from, to)`.
fn ctid(from: i64, to: Option<i64>) -> String {
    match to {
        Some(to) => format!(" AND ctid >= '({from},0)'::tid AND ctid < '({to},0)'::tid"),
        None => format!(" AND ctid >= '({from},0)'::tid"),
    }
}

/// The `COPY` statements of stream `i`. Each row is its `packed` column
/// (migration 0007): the columns the engine reads in one field, since
/// PostgreSQL's cost of sending a row is mostly per field; not a record's
/// id, which no figure uses.
fn copy_queries(sel: &Selection, cuts: &Cuts, i: usize) -> Vec<(Table, String)> {
    let more = conditions(sel);
    let (days, instants) = match cuts {
        Cuts::Period(days, instants) => (
            days.get(i).map(|(a, b)| (*a, *b, String::new())),
            instants.get(i).map(|(a, b)| (*a, *b, String::new())),
        ),
        Cuts::Pages(logs, consultations) => {
            let (d0, d1) = sel.days;
            let (t0, t1) = sel.instants;
            (
                logs.get(i)
                    .map(|(a, b)| (i64::from(d0), i64::from(d1), ctid(*a, *b))),
                consultations
                    .get(i)
                    .map(|(a, b)| (t0, t1 - 1, ctid(*a, *b))),
            )
        }
    };
    let mut q = Vec::new();
    if let Some((from, to, part)) = days {
        q.push((
            Table::Logs,
            format!(
                "COPY (SELECT packed
                       FROM stat_logs WHERE day BETWEEN {from} AND {to}{more}{part})
                 TO STDOUT (FORMAT binary)"
            ),
        ));
    }
    if let Some((from, to, part)) = instants {
        q.push((
            Table::Consultations,
            format!(
                "COPY (SELECT packed
                       FROM stat_consultations
                       WHERE asked_at BETWEEN {from} AND {to}{more}{part})
                 TO STDOUT (FORMAT binary)"
            ),
        ));
    }
    q
}

/// Sends the binary output of each query, in 1 MiB chunks, to `chunks`.
async fn copy_out(
    tx: &tokio_postgres::Transaction<'_>,
    queries: Vec<(Table, String)>,
    chunks: tokio::sync::mpsc::Sender<Chunk>,
) -> Result<()> {
    for (table, sql) in queries {
        let stream = tx.copy_out(sql.as_str()).await?;
        let mut stream = std::pin::pin!(stream);
        let mut bytes = Vec::with_capacity(CHUNK_BYTES + 4096);
        while let Some(part) = stream.next().await {
            bytes.extend_from_slice(&part?);
            if bytes.len() >= CHUNK_BYTES {
                let full = std::mem::replace(&mut bytes, Vec::with_capacity(CHUNK_BYTES + 4096));
                if chunks.send(Chunk { table, bytes: full }).await.is_err() {
                    // Decoding stopped (its error is the answer).
                    return Ok(());
                }
            }
        }
        if chunks.send(Chunk { table, bytes }).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// `COPY` streams a report reads at once, each on a connection of its own
/// (all on one snapshot), so that the database's work is spread over its
/// cores; at most the pool's size.
const STREAMS: usize = 2;

impl PostgresStore {
    /// See [`super::ServerStore::stats_report`]. The period is cut in
    /// [`STREAMS`] parts, each read by its own connection and decoded by
    /// its own thread; one more thread counts every fact.
    pub(super) async fn report(
        &self,
        request: &StatsRequest,
        register: Option<Arc<Register>>,
    ) -> Result<Report> {
        let request = request.clone();
        let sel = Selection::of(&request);
        let streams = STREAMS.min(self.pool.status().max_size).max(1);
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..streams {
            let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
            senders.push(tx);
            receivers.push(rx);
        }
        // A thread per stream decodes and counts its rows into a builder
        // of its own; the builders are merged into one report.
        let counting = tokio::task::spawn_blocking(move || {
            let register = register.as_deref();
            let request = &request;
            std::thread::scope(|scope| {
                let threads: Vec<_> = receivers
                    .into_iter()
                    .map(|rx| scope.spawn(move || count_stream(rx, request, register)))
                    .collect();
                let mut merged: Option<ReportBuilder<'_>> = None;
                let mut failed = None;
                for t in threads {
                    match t.join() {
                        Ok(Ok(b)) => match &mut merged {
                            Some(m) => m.merge(b),
                            None => merged = Some(b),
                        },
                        Ok(Err(e)) => failed = failed.or(Some(e)),
                        Err(_) => {
                            failed = failed
                                .or(Some(StoreError::Task("a counting thread panicked".into())))
                        }
                    }
                }
                match (failed, merged) {
                    (Some(e), _) => Err(e),
                    (None, Some(b)) => Ok(b.finish()),
                    (None, None) => Ok(ReportBuilder::new(request, register).finish()),
                }
            })
        });
        let read = async {
            if sel.is_empty() {
                return Ok(());
            }
            // One snapshot for every stream: the first exports it, the
            // others import it before reading anything.
            let mut clients = Vec::with_capacity(streams);
            for _ in 0..streams {
                clients.push(self.client().await?);
            }
            let mut clients = clients.iter_mut();
            let first = clients.next().expect("at least one stream");
            let lead = snapshot(first).await?;
            let id: String = lead
                .query_one("SELECT pg_export_snapshot()", &[])
                .await?
                .try_get(0)?;
            let cuts = if sel.is_wide() && streams > 1 {
                // The tables' lengths in pages, after the snapshot: every
                // row it sees lies in a page that existed before it.
                let r = lead
                    .query_one(
                        "SELECT pg_relation_size('stat_logs') / current_setting('block_size')::bigint,
                                pg_relation_size('stat_consultations')
                                  / current_setting('block_size')::bigint",
                        &[],
                    )
                    .await?;
                Cuts::Pages(pages(r.try_get(0)?, streams), pages(r.try_get(1)?, streams))
            } else {
                Cuts::Period(
                    split(sel.days.0.into(), sel.days.1.into(), streams),
                    split(sel.instants.0, sel.instants.1 - 1, streams),
                )
            };
            let queries = |i: usize| copy_queries(&sel, &cuts, i);
            let mut others = Vec::new();
            for c in clients {
                let tx = c
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await?;
                // The id is PostgreSQL's own (hex digits and dashes).
                tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{id}'"))
                    .await?;
                others.push(tx);
            }
            let txs = std::iter::once(&lead).chain(others.iter());
            futures_util::future::try_join_all(
                txs.zip(senders)
                    .enumerate()
                    .map(|(i, (tx, chunks))| copy_out(tx, queries(i), chunks)),
            )
            .await?;
            for tx in others {
                tx.commit().await?;
            }
            lead.commit().await?;
            Ok::<(), StoreError>(())
        };
        let read = read.await;
        let counted = counting
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        read?;
        counted
    }
}

/// Reads PostgreSQL's binary `COPY` format from chunks cut anywhere: the
/// signature and header once per table, then tuples of fields (a 32-bit
/// length, -1 for NULL, then the bytes), then a trailer.
#[derive(Default)]
struct Reader {
    /// The table being read and whether its header is read yet.
    state: Option<(Table, bool)>,
    /// Whether the table's trailer was read.
    ended: bool,
    /// The start of an incomplete header or tuple, waiting for the next
    /// chunk.
    rest: Vec<u8>,
}

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("binary COPY: {what}"))
}

fn be<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at + N)?.try_into().ok()
}

/// The fields of one tuple (unused ones `None`).
type Fields<'a> = [Option<&'a [u8]>; 12];

impl Reader {
    /// Reads `chunk` of `table`'s output, calling `row` with the fields of
    /// each complete tuple.
    fn take(
        &mut self,
        table: Table,
        chunk: &[u8],
        mut row: impl FnMut(Table, &Fields<'_>) -> Result<()>,
    ) -> Result<()> {
        if self.state.is_none_or(|(t, _)| t != table) {
            self.finish()?;
            self.state = Some((table, false));
            self.ended = false;
        }
        if self.state == Some((table, false)) {
            self.rest.extend_from_slice(chunk);
            let Some(n) = header_len(&self.rest)? else {
                return Ok(());
            };
            self.state = Some((table, true));
            let buf = std::mem::take(&mut self.rest);
            return self.tuples(table, &buf[n..], &mut row);
        }
        if self.rest.is_empty() {
            self.tuples(table, chunk, &mut row)
        } else {
            let mut buf = std::mem::take(&mut self.rest);
            buf.extend_from_slice(chunk);
            self.tuples(table, &buf, &mut row)
        }
    }

    fn tuples(
        &mut self,
        table: Table,
        buf: &[u8],
        row: &mut impl FnMut(Table, &Fields<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut at = 0;
        let mut fields: Fields<'_> = [None; 12];
        'tuples: while let Some(n) = be::<2>(buf, at).map(i16::from_be_bytes) {
            if self.ended {
                return Err(corrupt("data after the trailer"));
            }
            if n == -1 {
                self.ended = true;
                at += 2;
                continue;
            }
            let n = usize::try_from(n)
                .ok()
                .filter(|n| *n <= fields.len())
                .ok_or_else(|| corrupt("field count"))?;
            let mut p = at + 2;
            for field in fields.iter_mut().take(n) {
                let Some(len) = be::<4>(buf, p).map(i32::from_be_bytes) else {
                    break 'tuples;
                };
                p += 4;
                if len < 0 {
                    *field = None;
                } else {
                    let len = len as usize;
                    let Some(bytes) = buf.get(p..p + len) else {
                        break 'tuples;
                    };
                    *field = Some(bytes);
                    p += len;
                }
            }
            for field in fields.iter_mut().skip(n) {
                *field = None;
            }
            row(table, &fields)?;
            at = p;
        }
        self.rest.extend_from_slice(&buf[at..]);
        Ok(())
    }

    /// Checks that the table's output (if any) ended where it should.
    fn finish(&mut self) -> Result<()> {
        if self.state.is_some() && (!self.ended || !self.rest.is_empty()) {
            return Err(corrupt("the output ended inside a tuple"));
        }
        self.rest.clear();
        Ok(())
    }
}

/// The length of the header at the start of `buf`, once it is all there.
fn header_len(buf: &[u8]) -> Result<Option<usize>> {
    let n = buf.len().min(SIGNATURE.len());
    if buf[..n] != SIGNATURE[..n] {
        return Err(corrupt("bad signature"));
    }
    let Some(ext) = be::<4>(buf, SIGNATURE.len() + 4).map(u32::from_be_bytes) else {
        return Ok(None);
    };
    let len = SIGNATURE.len() + 8 + ext as usize;
    Ok((buf.len() >= len).then_some(len))
}

/// Cuts a packed row (migration 0007) into its fields, in the order
/// `widths` gives as `(bytes, nullable)`: a nullable field stands behind a
/// presence byte (0 absent, 1 present), and a last field of width 0 is
/// the rest of the bytes. A row that does not fit the layout is corrupt.
fn unpack<'a, const N: usize>(
    mut p: &'a [u8],
    widths: [(usize, bool); N],
    what: &str,
) -> Result<[Option<&'a [u8]>; N]> {
    let mut out = [None; N];
    for (i, (width, nullable)) in widths.into_iter().enumerate() {
        if nullable {
            let (&present, rest) = p.split_first().ok_or_else(|| corrupt(what))?;
            p = rest;
            match present {
                0 => continue,
                1 => {}
                _ => return Err(corrupt(what)),
            }
        }
        let width = if i + 1 == N && width == 0 {
            p.len()
        } else {
            width
        };
        let (field, rest) = p.split_at_checked(width).ok_or_else(|| corrupt(what))?;
        out[i] = Some(field);
        p = rest;
    }
    if !p.is_empty() {
        return Err(corrupt(what));
    }
    Ok(out)
}

/// The fields of `stat_logs.packed`: author, team, village, day,
/// activity, status, duplicate, farmers, trainees, photos, items.
fn unpack_log(p: &[u8]) -> Result<[Option<&[u8]>; 11]> {
    unpack(
        p,
        [
            (16, false),
            (16, true),
            (8, false),
            (4, false),
            (2, false),
            (2, false),
            (1, false),
            (8, false),
            (8, true),
            (4, false),
            (0, false),
        ],
        "stat_logs.packed",
    )
}

/// The fields of `stat_consultations.packed`: author, team, village,
/// asked_at, answered_at, duplicate.
fn unpack_consultation(p: &[u8]) -> Result<[Option<&[u8]>; 6]> {
    unpack(
        p,
        [
            (16, false),
            (16, true),
            (8, false),
            (8, false),
            (8, true),
            (1, false),
        ],
        "stat_consultations.packed",
    )
}

fn uuid(v: Option<&[u8]>) -> Result<Uuid> {
    v.and_then(|b| Uuid::from_slice(b).ok())
        .ok_or_else(|| corrupt("uuid"))
}

/// An integer of any width (smallint, integer, bigint).
fn int(v: Option<&[u8]>) -> Result<i64> {
    match v {
        Some(b) if b.len() == 8 => Ok(i64::from_be_bytes(b.try_into().expect("8 bytes"))),
        Some(b) if b.len() == 4 => Ok(i32::from_be_bytes(b.try_into().expect("4 bytes")).into()),
        Some(b) if b.len() == 2 => Ok(i16::from_be_bytes(b.try_into().expect("2 bytes")).into()),
        _ => Err(corrupt("integer")),
    }
}

fn flag(v: Option<&[u8]>) -> Result<bool> {
    match v {
        Some([b]) => Ok(*b != 0),
        _ => Err(corrupt("boolean")),
    }
}

/// The register of `area` from the divisions table.
pub(super) async fn register(c: &impl GenericClient, area: Option<Area>) -> Result<Register> {
    let mut reg = Register::new();
    for (level, lo, hi) in projection::register_ranges(area) {
        for (code, name) in all(
            c,
            "SELECT code, name FROM divisions WHERE level = $1 AND code BETWEEN $2 AND $3",
            &[&level.code(), &lo, &hi],
            |r| Ok((r.count(0)?, r.text(1)?)),
        )
        .await?
        {
            reg.insert(level, code, name);
        }
    }
    Ok(reg)
}

/// The counties carrying every one of `tags`.
pub(super) async fn tagged(c: &impl GenericClient, tags: &[CountyTag]) -> Result<Vec<CountyCode>> {
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let codes: Vec<&str> = tags.iter().map(|t| t.code()).collect();
    let n = i64::try_from(codes.len()).unwrap_or(i64::MAX);
    all(
        c,
        "SELECT county FROM county_tags WHERE tag = ANY($1)
         GROUP BY county HAVING count(DISTINCT tag) = $2 ORDER BY county",
        &[&codes, &n],
        |r| r.county(0),
    )
    .await
}

/// Projected logs and consultations.
pub(super) async fn counts(c: &impl GenericClient) -> Result<(u64, u64)> {
    let r = c
        .query_one(
            "SELECT (SELECT count(*) FROM stat_logs), (SELECT count(*) FROM stat_consultations)",
            &[],
        )
        .await?;
    Ok((r.count(0)?, r.count(1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rows_unpack_into_their_fields() {
        let mut row = vec![7u8; 16];
        row.push(0); // no team
        row.extend(530_102_001_001i64.to_be_bytes());
        row.extend(739_000i32.to_be_bytes());
        row.extend(2i16.to_be_bytes());
        row.extend(3i16.to_be_bytes());
        row.push(1);
        row.extend(12i64.to_be_bytes());
        row.push(1);
        row.extend(40i64.to_be_bytes());
        row.extend(2i32.to_be_bytes());
        row.extend(b"items");
        let f = unpack_log(&row).unwrap();
        assert_eq!(f[0], Some(&[7u8; 16][..]));
        assert_eq!(f[1], None);
        assert_eq!(int(f[2]).unwrap(), 530_102_001_001);
        assert_eq!(int(f[3]).unwrap(), 739_000);
        assert_eq!((int(f[4]).unwrap(), int(f[5]).unwrap()), (2, 3));
        assert!(flag(f[6]).unwrap());
        assert_eq!((int(f[7]).unwrap(), int(f[8]).unwrap()), (12, 40));
        assert_eq!(int(f[9]).unwrap(), 2);
        assert_eq!(f[10], Some(&b"items"[..]));
        // Cut short anywhere, or with a presence byte that is neither 0
        // nor 1, the row is refused rather than read shifted.
        for cut in [0, 10, 16, 17, 30, 45] {
            assert!(unpack_log(&row[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = row.clone();
        bad[16] = 2;
        assert!(unpack_log(&bad).is_err());

        let mut c = vec![1u8; 16];
        c.push(1);
        c.extend([9u8; 16]);
        c.extend(530_102_001_001i64.to_be_bytes());
        c.extend(1_700_000_000_000i64.to_be_bytes());
        c.push(0); // not answered
        c.push(0);
        let f = unpack_consultation(&c).unwrap();
        assert_eq!(f[1], Some(&[9u8; 16][..]));
        assert_eq!(int(f[3]).unwrap(), 1_700_000_000_000);
        assert_eq!(f[4], None);
        assert!(!flag(f[5]).unwrap());
        c.push(0);
        assert!(unpack_consultation(&c).is_err(), "a byte too many");
    }

    /// The binary COPY output of two tuples, as PostgreSQL writes it.
    fn output() -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&3u32.to_be_bytes());
        out.extend_from_slice(b"ext");
        for (n, text) in [(7i64, Some(&b"abc"[..])), (-2, None)] {
            out.extend_from_slice(&2i16.to_be_bytes());
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&n.to_be_bytes());
            match text {
                Some(t) => {
                    out.extend_from_slice(&(t.len() as i32).to_be_bytes());
                    out.extend_from_slice(t);
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    fn read(chunks: &[&[u8]]) -> Result<Vec<(i64, Option<Vec<u8>>)>> {
        let mut r = Reader::default();
        let mut rows = Vec::new();
        for c in chunks {
            r.take(Table::Logs, c, |_, f| {
                rows.push((int(f[0])?, f[1].map(<[u8]>::to_vec)));
                Ok(())
            })?;
        }
        r.finish()?;
        Ok(rows)
    }

    #[test]
    fn tuples_are_read_whatever_the_chunks() {
        let out = output();
        let want = vec![(7, Some(b"abc".to_vec())), (-2, None)];
        assert_eq!(read(&[&out]).unwrap(), want);
        for cut in 1..out.len() {
            assert_eq!(
                read(&[&out[..cut], &out[cut..]]).unwrap(),
                want,
                "cut {cut}"
            );
        }
        let bytes: Vec<&[u8]> = out.chunks(1).collect();
        assert_eq!(read(&bytes).unwrap(), want);
    }

    #[test]
    fn a_period_splits_into_contiguous_parts() {
        assert_eq!(split(1, 365, 2), vec![(1, 183), (184, 365)]);
        assert_eq!(split(10, 10, 2), vec![(10, 10)]);
        assert_eq!(split(0, 9, 3), vec![(0, 3), (4, 7), (8, 9)]);
        assert_eq!(split(5, 4, 2), vec![(5, 4)], "an empty range stays empty");
        let parts = split(1_767_196_800_000, 1_798_732_799_999, 2);
        assert_eq!(parts[0].1 + 1, parts[1].0);
    }

    #[test]
    fn pages_split_into_parts_the_last_open_ended() {
        assert_eq!(pages(10, 2), vec![(0, Some(5)), (5, None)]);
        assert_eq!(pages(7, 3), vec![(0, Some(2)), (2, Some(4)), (4, None)]);
        assert_eq!(pages(0, 2), vec![(0, Some(0)), (0, None)], "an empty table");
        assert_eq!(pages(9, 1), vec![(0, None)]);
        assert_eq!(
            ctid(3, Some(8)),
            " AND ctid >= '(3,0)'::tid AND ctid < '(8,0)'::tid"
        );
        assert_eq!(ctid(8, None), " AND ctid >= '(8,0)'::tid");
    }

    #[test]
    fn a_cut_or_foreign_output_is_refused() {
        let out = output();
        assert!(read(&[&out[..out.len() - 5]]).is_err());
        assert!(read(&[b"PGCOPY\n\xff\r\n\x01 and more bytes than a header"]).is_err());
    }
}
