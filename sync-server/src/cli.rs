//! The operator command line: parses arguments, sets up logging and calls the
//! library. `serve` runs the server; the other subcommands are operator
//! actions on the configured store (see [`crate::ops`]), the same actions
//! a sync admin has in the API (teams, users, devices, quarantine, audit),
//! without an area limit and audited with no actor. A user is named by
//! sign-in name or ID. The `sync-server` binary and the end-to-end
//! harness's server process both run [`main`]. A refused action prints
//! its stable code (`error [code]: …`) and exits with status 2.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;

use crate::config::{Config, LogFormat};
use crate::ops::{Actor, Ops, OpsError};
use crate::store::stats;
use crate::{Server, ServerHandle};
use app_core::admin as wire;
use app_core::clock::SystemClock;
use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DocId, ProvinceCode, Role, Scope, TeamId, Timestamp, UserId,
};
use app_core::stats::Period;

/// Ketepai (科特派) sync server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file (settings from KETEPAI_* variables win).
    #[arg(long, global = true, env = "KETEPAI_CONFIG")]
    config: Option<PathBuf>,
    /// What to do; `serve` when absent.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Commissioner,
    TeamLead,
    SyncAdmin,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScopeArg {
    Own,
    Team,
    County,
    Province,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TagArg {
    PovertyAlleviated,
    NationalKey,
    Designated,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or Ctrl-C.
    Serve,
    /// Create the data directory and the database schema.
    Init,
    /// Add a team (科技特派团).
    AddTeam {
        /// Team name, e.g. 正安县科技特派团.
        #[arg(long)]
        name: String,
        /// The county it serves (6 digits).
        #[arg(long)]
        county: String,
        /// Leading industry (主导产业), e.g. 茶叶.
        #[arg(long)]
        industry: String,
        /// An existing user (name or ID) who moves to it as its team lead.
        #[arg(long)]
        lead: Option<String>,
    },
    /// Add a user.
    AddUser {
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// Shown name.
        #[arg(long)]
        display_name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Team ID (commissioners and team leads).
        #[arg(long)]
        team: Option<String>,
        /// Scope level; defaults to the team for commissioners and leads.
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// County (6 digits) or province (2 digits) code of the scope.
        #[arg(long)]
        scope_code: Option<String>,
        /// Password (prefer --password-stdin: arguments show in `ps`).
        /// Without either, a one-time password is made and printed: the
        /// user sets their own at first sign-in.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users: name, ID, role, scope, team, county, state.
    ListUsers {
        /// Only this county's.
        #[arg(long)]
        county: Option<String>,
        /// Only this team's (ID).
        #[arg(long)]
        team: Option<String>,
        /// Only disabled accounts.
        #[arg(long)]
        disabled: bool,
    },
    /// List teams: ID, name, county, leading industry, lead, members.
    ListTeams {
        /// Only this county's.
        #[arg(long)]
        county: Option<String>,
    },
    /// Move a commissioner or team lead to another team.
    MoveUser {
        /// The user (name or ID).
        user: String,
        /// The team's ID.
        #[arg(long)]
        team: String,
    },
    /// Change how far a user reads.
    SetScope {
        /// The user (name or ID).
        user: String,
        /// Scope level.
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// County (6 digits) or province (2 digits) code of the scope.
        #[arg(long)]
        scope_code: Option<String>,
    },
    /// Disable an account: its devices stop syncing.
    DisableUser {
        /// The user (name or ID).
        user: String,
    },
    /// Enable a disabled account.
    EnableUser {
        /// The user (name or ID).
        user: String,
    },
    /// Reset a password: prints a one-time password; the user sets a new
    /// one at next sign-in.
    ResetPassword {
        /// The user (name or ID).
        user: String,
    },
    /// List quarantined changes: row, state, device, user, document, code,
    /// time, reason.
    Quarantine {
        /// Only open ones.
        #[arg(long)]
        open: bool,
        /// Only this device's.
        #[arg(long)]
        device: Option<String>,
    },
    /// Check a document's quarantined changes from a device again under
    /// today's rules.
    Release {
        /// The device's ID.
        device: String,
        /// The document's ID.
        doc: String,
    },
    /// Discard a document's quarantined changes from a device, with a
    /// reason its user will see (archived, never deleted).
    Discard {
        /// The device's ID.
        device: String,
        /// The document's ID.
        doc: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Print the audit log, newest first (or as CSV).
    Audit {
        /// This action, or a family ending in `.` (`user.`).
        #[arg(long)]
        action: Option<String>,
        /// By this user (name or ID).
        #[arg(long)]
        actor: Option<String>,
        /// On this subject.
        #[arg(long)]
        subject: Option<String>,
        /// At most this many entries (not with --csv).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Every matching entry as CSV (UTF-8 with BOM).
        #[arg(long)]
        csv: bool,
    },
    /// Import the embedded division register and county lists.
    ImportDivisions {
        /// Only these counties' townships and villages (all when absent).
        #[arg(long = "county")]
        counties: Vec<String>,
    },
    /// List enrolled devices.
    ListDevices,
    /// Revoke a device; it is refused on its next request.
    RevokeDevice {
        /// Device ID.
        id: String,
    },
    /// Set or clear a county tag.
    TagCounty {
        /// County code (6 digits).
        county: String,
        /// The tag.
        #[arg(value_enum)]
        tag: TagArg,
        /// Clear the tag instead of setting it.
        #[arg(long)]
        off: bool,
    },
    /// Seed the demo county 正安县 (520324): its team, accounts, devices and
    /// a month of records ending today; print the accounts.
    Demo {
        /// Only the register, the team and the accounts: no devices, no
        /// records (what the end-to-end scenarios start from).
        #[arg(long)]
        accounts_only: bool,
    },
    /// Statistics and the annual sheet (统计与考核) for operators.
    #[command(subcommand)]
    Stats(StatsCommand),
}

/// `sync-server stats …`.
#[derive(Debug, Subcommand)]
enum StatsCommand {
    /// Print the figures (the report as JSON) of a division, team or
    /// commissioner.
    Report(StatsArgs),
    /// Write the annual sheet and the other tables as XLSX or CSV.
    Export {
        /// Whose figures and over which days.
        #[command(flatten)]
        args: StatsArgs,
        /// File format.
        #[arg(long, value_enum, default_value = "xlsx")]
        format: FormatArg,
        /// Only these sheets (annual, counties, prefectures, provinces,
        /// teams, commissioners, uncovered, scores); all when absent.
        #[arg(long = "sheet", value_delimiter = ',')]
        sheets: Vec<String>,
        /// Also score the commissioners under this carried scheme
        /// (seed-2021, provincial-points): adds the scores sheet.
        #[arg(long)]
        scheme: Option<String>,
        /// The file to write (XLSX, or CSV of one sheet), or the directory
        /// to write one CSV file per sheet into.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, clap::Args)]
struct StatsArgs {
    /// Whose figures: province:52, prefecture:5203, county:520324,
    /// team:<id> or commissioner:<user id>.
    #[arg(long)]
    scope: String,
    /// A calendar year (China time).
    #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
    year: Option<i32>,
    /// First day (YYYY-MM-DD), with --to.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Only counties carrying this tag (repeat for several: all must hold).
    #[arg(long = "tag", value_enum)]
    tags: Vec<TagArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Xlsx,
    Csv,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr; stdout carries what a subcommand prints.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn tag_of(tag: TagArg) -> CountyTag {
    match tag {
        TagArg::PovertyAlleviated => CountyTag::PovertyAlleviated,
        TagArg::NationalKey => CountyTag::NationalKey,
        TagArg::Designated => CountyTag::Designated,
    }
}

/// The question of `sync-server stats … --scope … --year …`.
fn stats_ask(args: &StatsArgs) -> anyhow::Result<stats::Ask> {
    let subject: stats::Subject = args.scope.parse().map_err(|e: String| anyhow!(e))?;
    let date = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("date {d:?} (YYYY-MM-DD)"))
    };
    let period = match (args.year, &args.from, &args.to) {
        (Some(y), _, _) => Period::year(y).with_context(|| format!("year {y}"))?,
        (None, Some(from), Some(to)) => Period::new(date(from)?, date(to)?),
        _ => bail!("give --year, or --from and --to"),
    };
    let mut ask = stats::Ask::new(subject, period);
    ask.tags = args.tags.iter().map(|t| tag_of(*t)).collect();
    Ok(ask)
}

/// `sync-server stats …`: an operator's statistics, over the whole store
/// (no scope but the one asked for).
async fn stats_command(server: &Server, cmd: StatsCommand) -> anyhow::Result<()> {
    let store = server.store();
    match cmd {
        StatsCommand::Report(args) => {
            let computed = stats::answer(&*store, &stats_ask(&args)?).await?;
            println!("{}", serde_json::to_string_pretty(&computed.answer)?);
        }
        StatsCommand::Export {
            args,
            format,
            sheets,
            scheme,
            out,
        } => {
            let ask = stats_ask(&args)?;
            let sheets = sheets
                .iter()
                .map(|s| stats::Sheet::from_stem(s).with_context(|| format!("no sheet {s:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (computed, scores) = match scheme {
                Some(name) => {
                    let scheme = stats::scheme(&name)?;
                    let (c, s) = stats::scores(&*store, &ask, &scheme).await?;
                    (c, Some(s))
                }
                None => (stats::answer(&*store, &ask).await?, None),
            };
            let tables = stats::tables(&computed, scores.as_ref());
            let format = match format {
                FormatArg::Xlsx => stats::Format::Xlsx,
                FormatArg::Csv => stats::Format::Csv,
            };
            let chosen = (!sheets.is_empty()).then_some(&sheets[..]);
            if format == stats::Format::Csv && sheets.len() != 1 {
                // One file per sheet, in the directory `out`.
                std::fs::create_dir_all(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                let wanted: Vec<stats::Sheet> = if sheets.is_empty() {
                    stats::Sheet::ALL
                        .into_iter()
                        .filter(|s| tables.iter().any(|t| t.name == s.table_name()))
                        .collect()
                } else {
                    sheets.clone()
                };
                for sheet in wanted {
                    let bytes = stats::export(tables.clone(), Some(&[sheet]), format)?;
                    let path = out.join(format!("{}.csv", sheet.stem()));
                    std::fs::write(&path, bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("wrote {}", path.display());
                }
            } else {
                let bytes = stats::export(tables, chosen, format)?;
                std::fs::write(&out, bytes)
                    .with_context(|| format!("writing {}", out.display()))?;
                println!("wrote {}", out.display());
            }
        }
    }
    Ok(())
}

fn county(code: &str) -> anyhow::Result<CountyCode> {
    CountyCode::parse(code).with_context(|| format!("county code {code:?}"))
}

fn parsed<T: std::str::FromStr>(text: &str, what: &str) -> anyhow::Result<T> {
    text.parse()
        .ok()
        .with_context(|| format!("{what} {text:?}"))
}

/// A scope from its level and code (the team's for `team`).
fn scope_of(level: ScopeArg, code: Option<&str>, team: Option<TeamId>) -> anyhow::Result<Scope> {
    Ok(match level {
        ScopeArg::Own => Scope::Own,
        ScopeArg::Team => Scope::Team(team.context("--scope team needs the user's team")?),
        ScopeArg::County => {
            Scope::County(county(code.context("--scope county needs --scope-code")?)?)
        }
        ScopeArg::Province => {
            let c = code.context("--scope province needs --scope-code")?;
            Scope::Province(ProvinceCode::parse(c).with_context(|| format!("province code {c:?}"))?)
        }
    })
}

/// A user named by sign-in name or ID.
async fn user_ref(ops: &Ops, text: &str) -> anyhow::Result<UserId> {
    if let Ok(id) = text.parse::<UserId>() {
        return Ok(id);
    }
    Ok(ops
        .find_username(&Actor::Operator, text)
        .await?
        .record
        .user
        .id)
}

fn time(t: Option<Timestamp>) -> String {
    t.and_then(Timestamp::to_china)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Own => "own".into(),
        Scope::Team(_) => "team".into(),
        Scope::County(c) => format!("county:{c}"),
        Scope::Province(p) => format!("province:{p}"),
    }
}

fn print_user(u: &wire::UserView) {
    println!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        u.user.username,
        u.user.id,
        u.user.role.code(),
        scope_text(&u.user.scope),
        u.team_name.as_deref().unwrap_or("-"),
        u.county
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
        if u.user.active { "active" } else { "disabled" },
        if u.must_change_password {
            "must-change-password"
        } else {
            "-"
        },
    );
}

/// Runs the command line given to this process; a refused action exits
/// with status 2 after printing its code.
pub async fn main() -> anyhow::Result<()> {
    match run().await {
        Err(e) => {
            if let Some(ops) = e.downcast_ref::<OpsError>() {
                eprintln!("error [{}]: {ops}", ops.code());
                std::process::exit(2);
            }
            Err(e)
        }
        ok => ok,
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref()).context("configuration")?;
    init_logging(config.log_format);
    let server = Server::open(config.clone(), SystemClock::shared())
        .await
        .context("opening the store")?;
    let ops = server.ops();
    let disable = matches!(cli.command, Some(Command::DisableUser { .. }));
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let mut handle: ServerHandle = server.serve(listener).await?;
            println!("ketepai sync server on http://{}", handle.local_addr());
            shutdown_signal().await;
            tracing::info!("shutting down");
            handle.signal_shutdown();
            handle.wait().await?;
        }
        Command::Init => {
            println!(
                "initialised {} store in {}",
                server.store().backend(),
                config.data_dir.display()
            );
        }
        Command::AddTeam {
            name,
            county: code,
            industry,
            lead,
        } => {
            let lead = match lead {
                Some(l) => Some(user_ref(&ops, &l).await?),
                None => None,
            };
            let team = ops
                .create_team(
                    &Actor::Operator,
                    &wire::NewTeam {
                        county: county(&code)?,
                        name,
                        leading_industry: industry,
                        lead,
                    },
                )
                .await?;
            println!("team {} {}", team.team.id, team.team.name);
        }
        Command::AddUser {
            username,
            display_name,
            role,
            team,
            scope,
            scope_code,
            password,
            password_stdin,
        } => {
            let password = match (password, password_stdin) {
                (Some(p), _) => Some(p),
                (None, true) => {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    Some(s.trim_end_matches(['\n', '\r']).to_string())
                }
                (None, false) => None,
            };
            let team: Option<TeamId> = team.map(|t| parsed(&t, "team id")).transpose()?;
            let scope = scope
                .map(|s| scope_of(s, scope_code.as_deref(), team))
                .transpose()?;
            let role = match role {
                RoleArg::Commissioner => Role::Commissioner,
                RoleArg::TeamLead => Role::TeamLead,
                RoleArg::SyncAdmin => Role::SyncAdmin,
            };
            let new = wire::NewUser {
                username,
                display_name,
                role,
                scope,
                team,
            };
            let (row, otp) = ops.create_user(&Actor::Operator, &new, password).await?;
            let user = &row.record.user;
            println!("user {} {} ({})", user.id, user.username, user.role.code());
            if let Some(otp) = otp {
                println!("one-time password: {otp}");
            }
        }
        Command::ListUsers {
            county: code,
            team,
            disabled,
        } => {
            let mut q = wire::UserQuery {
                county: code.as_deref().map(county).transpose()?,
                team: team.map(|t| parsed(&t, "team id")).transpose()?,
                active: disabled.then_some(false),
                limit: Some(wire::MAX_PAGE),
                ..wire::UserQuery::default()
            };
            loop {
                let page = ops.users(&Actor::Operator, &q).await?;
                page.items.iter().for_each(print_user);
                match page.next {
                    Some(next) => q.cursor = Some(next),
                    None => break,
                }
            }
        }
        Command::ListTeams { county: code } => {
            let mut q = wire::TeamQuery {
                county: code.as_deref().map(county).transpose()?,
                limit: Some(wire::MAX_PAGE),
                ..wire::TeamQuery::default()
            };
            loop {
                let page = ops.teams(&Actor::Operator, &q).await?;
                for t in &page.items {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        t.team.id,
                        t.team.name,
                        t.team.county,
                        t.team.leading_industry,
                        t.team
                            .lead
                            .map(|l| l.to_string())
                            .unwrap_or_else(|| "-".into()),
                        t.members
                    );
                }
                match page.next {
                    Some(next) => q.cursor = Some(next),
                    None => break,
                }
            }
        }
        Command::MoveUser { user, team } => {
            let id = user_ref(&ops, &user).await?;
            let row = ops
                .move_user(&Actor::Operator, id, parsed(&team, "team id")?)
                .await?;
            print_user(&crate::ops::user_view(&row));
        }
        Command::SetScope {
            user,
            scope,
            scope_code,
        } => {
            let id = user_ref(&ops, &user).await?;
            let team = ops.find_user(&Actor::Operator, id).await?.record.user.team;
            let scope = scope_of(scope, scope_code.as_deref(), team)?;
            let row = ops.change_scope(&Actor::Operator, id, scope).await?;
            print_user(&crate::ops::user_view(&row));
        }
        Command::DisableUser { user } | Command::EnableUser { user } => {
            let active = !disable;
            let id = user_ref(&ops, &user).await?;
            let row = ops.set_active(&Actor::Operator, id, active).await?;
            print_user(&crate::ops::user_view(&row));
        }
        Command::ResetPassword { user } => {
            let id = user_ref(&ops, &user).await?;
            let (row, otp) = ops.reset_password(&Actor::Operator, id).await?;
            println!("user {} {}", row.record.user.id, row.record.user.username);
            println!("one-time password: {otp}");
        }
        Command::Quarantine { open, device } => {
            let mut q = wire::QuarantineQuery {
                state: open.then_some(wire::QuarantineState::Open),
                device: device.map(|d| parsed(&d, "device id")).transpose()?,
                limit: Some(wire::MAX_PAGE),
                ..wire::QuarantineQuery::default()
            };
            loop {
                let page = ops.quarantine(&Actor::Operator, &q).await?;
                for d in &page.items {
                    for c in &d.changes {
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                            c.id,
                            c.state.as_str(),
                            d.device,
                            d.username,
                            d.doc,
                            c.code,
                            time(Some(c.at)),
                            c.reason
                        );
                    }
                }
                match page.next {
                    Some(next) => q.cursor = Some(next),
                    None => break,
                }
            }
        }
        Command::Release { device, doc } => {
            let target = wire::QuarantineTarget {
                device: parsed::<DeviceId>(&device, "device id")?,
                doc: parsed::<DocId>(&doc, "document id")?,
            };
            let r = ops.release(&Actor::Operator, &target).await?;
            println!(
                "stored {}, already stored {}, still refused {}",
                r.stored,
                r.duplicate,
                r.still_refused.len()
            );
            for s in &r.still_refused {
                println!("{}\t{}\t{}", s.id, s.code, s.reason);
            }
        }
        Command::Discard {
            device,
            doc,
            reason,
        } => {
            let discard = wire::Discard {
                device: parsed(&device, "device id")?,
                doc: parsed(&doc, "document id")?,
                reason,
            };
            let r = ops.discard(&Actor::Operator, &discard).await?;
            println!("discarded {}", r.discarded);
        }
        Command::Audit {
            action,
            actor,
            subject,
            limit,
            csv,
        } => {
            let actor = match actor {
                Some(a) => Some(user_ref(&ops, &a).await?),
                None => None,
            };
            let q = wire::AuditQuery {
                actor,
                action,
                subject,
                limit: Some(limit),
                ..wire::AuditQuery::default()
            };
            if csv {
                let (text, truncated) = ops.audit_csv(&Actor::Operator, &q).await?;
                print!("{text}");
                if truncated {
                    eprintln!("(only the newest {} entries)", crate::ops::MAX_CSV_ROWS);
                }
            } else {
                for e in ops.audit_log(&Actor::Operator, &q).await?.items {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.id,
                        time(Some(e.at)),
                        e.actor_name.as_deref().unwrap_or("operator"),
                        e.action,
                        e.subject,
                        e.detail
                    );
                }
            }
        }
        Command::ImportDivisions { counties } => {
            let only = counties
                .iter()
                .map(|c| county(c))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let report = ops
                .import_divisions((!only.is_empty()).then_some(&only[..]))
                .await?;
            println!(
                "imported {} divisions and {} county tags",
                report.divisions, report.tags
            );
        }
        Command::ListDevices => {
            for line in ops.list_devices().await? {
                let d = &line.device;
                println!(
                    "{}\t{}\t{}\t{}\tlast seen {}\t{}",
                    d.id,
                    line.username,
                    d.name,
                    d.platform,
                    d.last_seen_at
                        .to_utc()
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default(),
                    if d.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                );
            }
        }
        Command::RevokeDevice { id } => {
            let id: DeviceId = id.parse().with_context(|| format!("device id {id:?}"))?;
            if ops.revoke_device(id).await? {
                println!("device {id} revoked");
            } else {
                println!("device {id} was already revoked");
            }
        }
        Command::TagCounty {
            county: code,
            tag,
            off,
        } => {
            let tag = match tag {
                TagArg::PovertyAlleviated => CountyTag::PovertyAlleviated,
                TagArg::NationalKey => CountyTag::NationalKey,
                TagArg::Designated => CountyTag::Designated,
            };
            ops.tag_county(county(&code)?, tag, !off).await?;
            println!(
                "county {code}: {} {}",
                tag.code(),
                if off { "cleared" } else { "set" }
            );
        }
        Command::Stats(cmd) => stats_command(&server, cmd).await?,
        Command::Demo { accounts_only } => {
            let demo = if accounts_only {
                ops.demo_accounts().await?
            } else {
                ops.demo().await?
            };
            println!("demo county 正安县 (520324), team 正安县科技特派团 (茶叶)");
            println!("{:<16} {:<10} {:<14} password", "username", "name", "role");
            for a in demo.accounts {
                println!(
                    "{:<16} {:<10} {:<14} {}",
                    a.username,
                    a.display_name,
                    a.role.code(),
                    a.password
                );
            }
            match demo.seeded {
                Some(seeded) => println!("{seeded}"),
                None => println!("accounts only: no devices or records seeded"),
            }
        }
    }
    Ok(())
}
