//! Ketepai's side: the real sync server in this process
//! (`sync_server::Server` over SQLite or PostgreSQL, serving on the
//! benchmark's server runtime), its operator actions to add teams and
//! users, and seeding records by pushing them as their authors' devices
//! would (real pushes, checked change by change).

use std::net::SocketAddr;

use anyhow::Context as _;
use app_core::clock::SystemClock;
use app_core::domain::{CountyCode, Role, Team, User};
use app_core::store::RegisterSlice;
use app_core::sync::protocol::{ChangeOutcome, EnrolRequest, WireChange};
use app_core::sync::{self, EngineOptions, SyncClient};
use rand::Rng;
use sync_server::config::{Config, PasswordCost};
use sync_server::ops::NewUser;
use sync_server::store::DivisionImport;
use sync_server::{Server, ServerHandle};
use tokio::runtime::Handle;

use super::corpus::{SeedDoc, Writer};

/// The demo county, 正安县.
pub const COUNTY: &str = "520324";

/// Password hashing for benchmark accounts: cheap, these are test users.
pub const CHEAP: PasswordCost = PasswordCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// The rows of the register the benchmark imports: every province,
/// prefecture and county, and the townships and villages of 正安县.
pub fn register_rows() -> anyhow::Result<Vec<DivisionImport>> {
    let county = CountyCode::parse(COUNTY)?;
    Ok(sync_server::ops::register_rows(
        &sync_server::ops::embedded_register(),
        Some(&[county]),
    )?)
}

/// A user who signs in with a password.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user.
    pub user: User,
    /// Sign-in name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A PostgreSQL schema made for one run, dropped at the end.
#[derive(Debug)]
struct Schema {
    base: String,
    name: String,
    /// A `--rollup-keep` schema: analysed like any, never dropped.
    kept: bool,
}

/// A running Ketepai sync server.
#[derive(Debug)]
pub struct KetepaiServer {
    handle: Option<ServerHandle>,
    server: Server,
    config: Config,
    schema: Option<Schema>,
    _dir: tempfile::TempDir,
}

#[allow(
    clippy::disallowed_methods,
    reason = "creating and dropping the benchmark's own schema is not the server's SQL"
)]
async fn admin_sql(url: &str, sql: &str) -> anyhow::Result<()> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connecting to PostgreSQL")?;
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

impl KetepaiServer {
    /// A server on a fresh data directory (and, with `postgres`, a fresh
    /// schema in that database), with the register rows imported, serving
    /// on the runtime `rt`.
    pub async fn start(
        rt: &Handle,
        postgres: Option<&str>,
        rows: &[DivisionImport],
    ) -> anyhow::Result<KetepaiServer> {
        KetepaiServer::start_in(rt, postgres, rows, None).await
    }

    /// [`KetepaiServer::start`], but with `postgres` in the schema `keep`
    /// (created when missing, its rows kept, never dropped): what the
    /// roll-up's `--rollup-keep` reuses between runs.
    pub async fn start_in(
        rt: &Handle,
        postgres: Option<&str>,
        rows: &[DivisionImport],
        keep: Option<&str>,
    ) -> anyhow::Result<KetepaiServer> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::with_data_dir(dir.path().join("server"));
        config.password_cost = CHEAP;
        // Every simulated device enrols from 127.0.0.1, many at once: the
        // sign-in budget (docs/protocol.md) is for a real network.
        config.password_hashing = sync_server::config::HashingBudget {
            queue: 1_000_000,
            per_address: 1_000_000,
            ..Default::default()
        };
        let mut schema = None;
        if let Some(base) = postgres {
            let sep = if base.contains('?') { '&' } else { '?' };
            if let Some(name) = keep {
                anyhow::ensure!(
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "a kept schema's name is lower-case letters, digits and _: {name:?}"
                );
                admin_sql(base, &format!("CREATE SCHEMA IF NOT EXISTS {name}")).await?;
                config.database_url = Some(format!("{base}{sep}options=-csearch_path%3D{name}"));
                schema = Some(Schema {
                    base: base.to_string(),
                    name: name.to_string(),
                    kept: true,
                });
            } else {
                let name = format!("kt_bench_{:016x}", rand::rng().random::<u64>());
                admin_sql(base, &format!("CREATE SCHEMA {name}")).await?;
                config.database_url = Some(format!("{base}{sep}options=-csearch_path%3D{name}"));
                schema = Some(Schema {
                    base: base.to_string(),
                    name,
                    kept: false,
                });
            }
        }
        let server = Server::open(config.clone(), SystemClock::shared())
            .await
            .context("opening the sync server's store")?;
        server.ops().import_rows(rows.to_vec()).await?;
        let serving = server.clone();
        let handle = rt
            .spawn(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                anyhow::Ok(serving.serve(listener).await?)
            })
            .await??;
        Ok(KetepaiServer {
            handle: Some(handle),
            server,
            config,
            schema,
            _dir: dir,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.handle.as_ref().expect("serving").local_addr()
    }

    /// `http://` URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.server.store().backend()
    }

    /// The server's store.
    pub fn store(&self) -> std::sync::Arc<dyn sync_server::ServerStore> {
        self.server.store()
    }

    /// Updates the planner's statistics of the run's PostgreSQL schema
    /// (after a bulk load, as an operator would); nothing on SQLite.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if let Some(schema) = &self.schema {
            admin_sql(
                &schema.base,
                &format!(
                    "ANALYZE {0}.stat_logs, {0}.stat_consultations, {0}.divisions",
                    schema.name
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// The county's register slice as devices receive it.
    pub async fn slice(&self) -> anyhow::Result<RegisterSlice> {
        self.server
            .store()
            .register_slice(CountyCode::parse(COUNTY)?)
            .await?
            .context("the county register was imported")
    }

    /// Adds a team in 正安县 and its members; a member's password is
    /// `password-<username>`.
    pub async fn add_team(
        &self,
        name: &str,
        members: &[(String, Role)],
    ) -> anyhow::Result<(Team, Vec<Account>)> {
        self.add_team_in(CountyCode::parse(COUNTY)?, name, members)
            .await
    }

    /// Adds a team in `county` and its members, as [`Self::add_team`].
    pub async fn add_team_in(
        &self,
        county: CountyCode,
        name: &str,
        members: &[(String, Role)],
    ) -> anyhow::Result<(Team, Vec<Account>)> {
        let ops = self.server.ops();
        let team = ops.add_team(name, county, "茶叶").await?;
        let mut accounts = Vec::new();
        for (username, role) in members {
            let password = format!("password-{username}");
            let user = ops
                .add_user(NewUser {
                    username: username.clone(),
                    display_name: username.clone(),
                    role: *role,
                    scope: None,
                    team: Some(team.id),
                    password: password.clone(),
                })
                .await?;
            accounts.push(Account {
                user,
                username: username.clone(),
                password,
            });
        }
        Ok((team, accounts))
    }

    /// Another instance of the server on the same database, serving on
    /// `rt` (the server keeps no state of its own); shut it down before
    /// [`Self::stop`].
    pub async fn another_instance(&self, rt: &Handle) -> anyhow::Result<ServerHandle> {
        let server = Server::open(self.config.clone(), SystemClock::shared())
            .await
            .context("opening another instance")?;
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            anyhow::Ok(server.serve(listener).await?)
        })
        .await?
    }

    /// Stops serving and drops the run's PostgreSQL schema.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await?;
        }
        if let Some(schema) = self.schema.take().filter(|s| !s.kept) {
            admin_sql(
                &schema.base,
                &format!("DROP SCHEMA {} CASCADE", schema.name),
            )
            .await?;
        }
        Ok(())
    }
}

/// Enrols a device for `account` and returns its token.
pub async fn enrol_token(url: &str, account: &Account, device: &str) -> anyhow::Result<String> {
    let answer = sync::enrol(
        url,
        &EnrolRequest {
            username: account.username.clone(),
            password: account.password.clone(),
            device_name: device.into(),
            platform: "linux".into(),
            replaces: None,
        },
        &EngineOptions::default(),
    )
    .await
    .with_context(|| format!("enrolling {device}"))?;
    Ok(answer.token)
}

/// Most changes per seeding push (the protocol allows 5,000).
const SEED_BATCH: usize = 2_000;
/// About how many change bytes per seeding push (the protocol allows
/// 16 MiB decoded).
const SEED_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Pushes a corpus as its authors' devices (and the lead's) would: each
/// member's changes from a device of their own, then the lead's approvals.
/// Fails if the server does not store every change.
pub async fn seed(
    url: &str,
    members: &[Account],
    lead: Option<&Account>,
    docs: &[SeedDoc],
) -> anyhow::Result<u64> {
    let mut by_writer: Vec<Vec<WireChange>> = vec![Vec::new(); members.len() + 1];
    for d in docs {
        for (writer, bytes) in &d.changes {
            let slot = match writer {
                Writer::Member(i) => *i,
                Writer::Lead => members.len(),
            };
            by_writer[slot].push(WireChange {
                doc: d.id,
                bytes: bytes.clone(),
            });
        }
    }
    let mut stored = 0u64;
    for (slot, changes) in by_writer.into_iter().enumerate() {
        if changes.is_empty() {
            continue;
        }
        let account = if slot < members.len() {
            &members[slot]
        } else {
            lead.context("approvals need a lead")?
        };
        let token = enrol_token(url, account, &format!("{}-seed", account.username)).await?;
        let client = SyncClient::new(url, &token, &EngineOptions::default())?;
        let mut rest = changes.as_slice();
        while !rest.is_empty() {
            let mut size = 0;
            let n = rest
                .iter()
                .take(SEED_BATCH)
                .take_while(|c| {
                    size += c.bytes.len();
                    size <= SEED_BATCH_BYTES
                })
                .count()
                .max(1);
            let (batch, tail) = rest.split_at(n);
            rest = tail;
            let answer = client.push(batch.to_vec()).await?;
            for (c, o) in batch.iter().zip(&answer.outcomes) {
                match o {
                    ChangeOutcome::Stored => stored += 1,
                    ChangeOutcome::Duplicate => {}
                    other => anyhow::bail!(
                        "seeding {}: change of {} answered {other:?}",
                        account.username,
                        c.doc
                    ),
                }
            }
        }
    }
    Ok(stored)
}

/// Every record in a device store, as `id → JSON` in the comparison form.
pub fn store_records(
    store: &app_core::store::Store,
) -> anyhow::Result<std::collections::BTreeMap<app_core::domain::DocId, String>> {
    let mut out = std::collections::BTreeMap::new();
    for id in store.heads()?.into_keys() {
        let (_, json) = super::corpus::record_json(&store.load_doc(id)?)?;
        out.insert(id, json);
    }
    Ok(out)
}
