//! A real sync-server process for scenarios: its own data directory, a free
//! loopback port, its log kept in a file and printed if a test fails.
//!
//! The process is this crate's `ketepai-server` binary, which is the sync
//! server's own command line (`sync_server::cli`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app_core::clock::SystemClock;
use app_core::domain::{CountyCode, Role, TeamId};
use sync_server::Server;
use sync_server::config::{Config, PasswordCost};
use sync_server::ops::NewUser;

/// A running (or stopped) server process.
pub struct ServerProcess {
    exe: PathBuf,
    data_dir: PathBuf,
    child: Option<Child>,
    addr: Option<SocketAddr>,
    log: PathBuf,
    database_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl ServerProcess {
    /// A server on a fresh data directory seeded with the demo county's
    /// accounts (正安县 520324, its team, lead, six commissioners and a sync
    /// admin), without the demo's devices and records.
    pub fn demo(exe: &Path) -> ServerProcess {
        ServerProcess::demo_on(exe, None)
    }

    /// [`ServerProcess::demo`] on PostgreSQL at `database_url` (a schema of
    /// its own, say: [`crate::pg::Schema`]), or on embedded SQLite.
    pub fn demo_on(exe: &Path, database_url: Option<String>) -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("server");
        let mut server = ServerProcess {
            exe: exe.to_path_buf(),
            data_dir,
            child: None,
            addr: None,
            log: dir.path().join("server.log"),
            database_url,
            _dir: Some(dir),
        };
        server.run_to_end(&["demo", "--accounts-only"]);
        server
    }

    /// Another instance of this server on the same PostgreSQL database
    /// (its own data directory and log, not yet started), as a deployment
    /// of several stateless instances runs.
    pub fn another_instance(&self) -> ServerProcess {
        assert!(
            self.database_url.is_some(),
            "instances share a PostgreSQL database, not a SQLite file"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        ServerProcess {
            exe: self.exe.clone(),
            data_dir: dir.path().join("server"),
            child: None,
            addr: None,
            log: dir.path().join("server.log"),
            database_url: self.database_url.clone(),
            _dir: Some(dir),
        }
    }

    /// Adds teams to the (stopped) server's store, each in 正安县 with the
    /// given members; a member's password is `password-<username>`. Returns the
    /// team IDs. Hashing uses a cheap argon2 cost: these are test accounts.
    pub async fn add_teams(&mut self, teams: &[(&str, &[(&str, Role)])]) -> Vec<TeamId> {
        assert!(self.child.is_none(), "add teams before starting the server");
        let mut config = Config::with_data_dir(&self.data_dir);
        config.database_url = self.database_url.clone();
        config.password_cost = PasswordCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        {
            let server = Server::open(config, SystemClock::shared())
                .await
                .expect("open server store");
            let ops = server.ops();
            let county = CountyCode::parse("520324").expect("county");
            let mut ids = Vec::new();
            for (name, members) in teams {
                let team = ops.add_team(name, county, "茶叶").await.expect("add team");
                for (username, role) in *members {
                    ops.add_user(NewUser {
                        username: (*username).into(),
                        display_name: (*username).into(),
                        role: *role,
                        scope: None,
                        team: Some(team.id),
                        password: format!("password-{username}"),
                    })
                    .await
                    .expect("add user");
                }
                ids.push(team.id);
            }
            ids
        }
    }

    /// The data directory (SQLite database and photos).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn command(&self, args: &[&str]) -> Command {
        // Every test device enrols from 127.0.0.1, several at once: the
        // sign-in budget (docs/protocol.md) is for a real network.
        let config = self.data_dir.join("e2e-server.toml");
        std::fs::create_dir_all(&self.data_dir).expect("data directory");
        std::fs::write(
            &config,
            "[password_hashing]\nconcurrent = 2\nqueue = 100000\n\
             per_address = 1000000\nper_address_refill_secs = 1\n",
        )
        .expect("write the e2e server configuration");
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .env("KETEPAI_CONFIG", &config)
            .env("KETEPAI_DATA_DIR", &self.data_dir)
            .env(
                "KETEPAI_LISTEN",
                self.addr
                    .map_or("127.0.0.1:0".to_string(), |a| a.to_string()),
            )
            .env("RUST_LOG", "info")
            .env_remove("KETEPAI_DATABASE_URL");
        if let Some(url) = &self.database_url {
            cmd.env("KETEPAI_DATABASE_URL", url);
        }
        cmd
    }

    /// Runs an operator subcommand to completion; panics with its output if
    /// it fails. Returns its standard output.
    pub fn run_to_end(&mut self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run sync server");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`ketepai-server {}` failed:\n{stdout}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Starts serving (again on the same port after a stop).
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut child = self
            .command(&["serve"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start sync server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("ketepai sync server on http://") {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start; log:\n{}", self.log_text()));
        self.addr = Some(addr.parse().expect("address"));
        self.child = Some(child);
    }

    /// Stops the process (SIGKILL: the harshest stop, as a crash or power
    /// cut would).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the process gracefully (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("server started")
    }

    /// `http://` URL of the server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- sync server log ----\n{}", self.log_text());
        }
    }
}

/// The demo accounts the `demo` subcommand seeds, as (username, password).
pub mod demo {
    /// 张三, commissioner.
    pub const ZHANG: (&str, &str) = ("zhengan-zhang", "demo-zhang-520324");
    /// 王芳, commissioner.
    pub const WANG: (&str, &str) = ("zhengan-wang", "demo-wang-520324");
    /// 李明, team lead.
    pub const LEAD: (&str, &str) = ("zhengan-lead", "demo-lead-520324");
    /// 赵敏, county sync admin.
    pub const ADMIN: (&str, &str) = ("zhengan-admin", "demo-admin-520324");
}
