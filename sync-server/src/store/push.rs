//! The push sequence, written once for both backends ([`push`]): read the
//! rows the batch needs, plan outside the write transaction, open it, read
//! the same rows again, plan again only if they changed, write, commit.
//!
//! Planning ([`crate::sync::plan`]) applies and hydrates Automerge
//! documents, which is CPU work: it runs on tokio's blocking pool, and
//! outside the write transaction so that pushes plan in parallel while only
//! the short read-compare-write part is serialised (against every push on
//! SQLite; against pushes in the same county, or of the same device or
//! actor, on PostgreSQL). Because a plan is a pure
//! function of the batch and the rows read ([`PushFetched`], compared by
//! value), a plan made on rows equal to those inside the transaction is the
//! plan the transaction would have made.
//!
//! A backend supplies the three steps that speak SQL ([`PushBackend`]).

use std::future::Future;
use std::sync::Arc;

use app_core::domain::{DeviceId, Timestamp};
use app_core::sync::protocol::ChangeOutcome;

use super::{PushResult, Result, StoreError};
use crate::sync::{self, PushBatch, PushFetched, PushWrites};

/// What a backend does for [`push`]: read, open the write transaction and
/// read again, write and commit.
pub trait PushBackend: Send + Sync {
    /// An open write transaction. From [`PushBackend::begin`] until it is
    /// committed or dropped (which rolls it back), no other push writes
    /// what this one read.
    type Tx: Send;

    /// Reads what `batch` needs ([`PushBatch::needs`]) from one consistent
    /// snapshot, without holding up writers.
    fn fetch(&self, batch: Arc<PushBatch>) -> impl Future<Output = Result<PushFetched>> + Send;

    /// Opens the write transaction, serialised against every other push
    /// that could read or write the same rows, and reads what `batch` needs
    /// inside it.
    fn begin(
        &self,
        batch: Arc<PushBatch>,
    ) -> impl Future<Output = Result<(Self::Tx, PushFetched)>> + Send;

    /// Writes `writes` for `device` at `at` inside `tx` and commits.
    fn commit(
        &self,
        tx: Self::Tx,
        device: DeviceId,
        writes: PushWrites,
        at: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Validates and stores a push on `backend` (see the module's doc); `at` is
/// the server's receipt time.
pub async fn push<B: PushBackend>(
    backend: &B,
    batch: PushBatch,
    at: Timestamp,
) -> Result<PushResult> {
    let batch = Arc::new(batch);
    let seen = backend.fetch(Arc::clone(&batch)).await?;
    let planned = plan(Arc::clone(&batch), seen.clone()).await?;
    let (tx, now) = backend.begin(Arc::clone(&batch)).await?;
    let (outcomes, writes) = if now == seen {
        planned
    } else {
        // Another push touched the same documents, actors or hashes in
        // between: plan again on what is there now.
        tracing::debug!("push planned again inside the write transaction");
        plan(Arc::clone(&batch), now).await?
    };
    backend.commit(tx, batch.device, writes, at).await?;
    Ok(PushResult { outcomes })
}

/// [`sync::plan`] on the blocking pool.
async fn plan(
    batch: Arc<PushBatch>,
    fetched: PushFetched,
) -> Result<(Vec<ChangeOutcome>, PushWrites)> {
    tokio::task::spawn_blocking(move || sync::plan(&batch, fetched))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))
}
