//! The real PostgreSQL the scenarios run against (`KETEPAI_TEST_DATABASE_URL`,
//! set up by sync-server/scripts/ci-postgres.sh): a schema of a scenario's
//! own, and the server itself restarted under a running sync server.

use std::process::Command;

use anyhow::{Context, bail};
use rand::Rng;

/// The test database's URL, if one is set up. With
/// `KETEPAI_REQUIRE_POSTGRES=1` a missing one is an error, not a skip.
pub fn test_database() -> anyhow::Result<Option<String>> {
    match std::env::var("KETEPAI_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Ok(Some(url)),
        _ if std::env::var("KETEPAI_REQUIRE_POSTGRES").as_deref() == Ok("1") => bail!(
            "KETEPAI_REQUIRE_POSTGRES=1 but KETEPAI_TEST_DATABASE_URL is not set \
             (run sync-server/scripts/ci-postgres.sh)"
        ),
        _ => Ok(None),
    }
}

/// A schema of its own in the test database, for one scenario's server.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    /// Creates a fresh schema in the database at `base`.
    pub async fn create(base: &str) -> anyhow::Result<Schema> {
        let name = format!("kt_e2e_{:016x}", rand::rng().random::<u64>());
        admin_sql(base, &format!("CREATE SCHEMA {name}")).await?;
        Ok(Schema {
            base: base.to_string(),
            name,
        })
    }

    /// The URL a server uses to keep its tables in this schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{}", self.base, self.name)
    }

    /// Drops the schema and everything in it.
    pub async fn drop_all(self) -> anyhow::Result<()> {
        admin_sql(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name)).await
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "creating and dropping a scenario's own schema is not the server's SQL"
)]
async fn admin_sql(url: &str, sql: &str) -> anyhow::Result<()> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connecting to KETEPAI_TEST_DATABASE_URL")?;
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Restarts the PostgreSQL cluster that serves `url` the hard way
/// (`pg_ctlcluster … restart -m immediate`: no checkpoint, every connection
/// cut, crash recovery at start), as a crash of the database machine would.
/// Needs root (or password-less sudo), as CI has. Every other user of the
/// cluster sees its connections cut too: call it only from a test binary
/// of its own.
pub fn restart_cluster(url: &str) -> anyhow::Result<()> {
    let port = url
        .rsplit_once('@')
        .and_then(|(_, host)| host.split(['/', '?']).next())
        .and_then(|host| host.rsplit_once(':'))
        .map_or("5432", |(_, port)| port)
        .to_string();
    let clusters = Command::new("pg_lsclusters")
        .arg("-h")
        .output()
        .context("pg_lsclusters")?;
    let listing = String::from_utf8_lossy(&clusters.stdout);
    let Some((version, name)) = listing.lines().find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.len() >= 3 && cols[2] == port).then(|| (cols[0].to_string(), cols[1].to_string()))
    }) else {
        bail!("no PostgreSQL cluster on port {port} in `pg_lsclusters`:\n{listing}");
    };
    let root = Command::new("id").arg("-u").output()?.stdout == b"0\n";
    let mut cmd = if root {
        Command::new("pg_ctlcluster")
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "pg_ctlcluster"]);
        c
    };
    let out = cmd
        .args([
            version.as_str(),
            name.as_str(),
            "restart",
            "-m",
            "immediate",
        ])
        .output()
        .context("pg_ctlcluster")?;
    if !out.status.success() {
        bail!(
            "pg_ctlcluster {version} {name} restart failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
