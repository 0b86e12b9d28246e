//! The operator's command line: the server's own binary, run as an
//! operator's script would, against the test's database (SQLite file or
//! PostgreSQL schema) while the server serves it. The same actions as the
//! admin API (one implementation), without an area limit, with a refusal
//! printed as its stable code and exit status 2.

use std::process::Command;

use crate::harness::{Doc, Env, T0, ZHENGAN, code, log_by, problem, villages};

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

async fn run(env: &Env, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sync-server"));
    cmd.args(args)
        .env("KETEPAI_DATA_DIR", &env.config.data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("KETEPAI_CONFIG");
    match &env.config.database_url {
        Some(url) => cmd.env("KETEPAI_DATABASE_URL", url),
        None => cmd.env_remove("KETEPAI_DATABASE_URL"),
    };
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn ok(env: &Env, args: &[&str]) -> String {
    let r = run(env, args).await;
    assert_eq!(r.status, 0, "{args:?}: {}\n{}", r.stdout, r.stderr);
    r.stdout
}

fn one_time_password(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("one-time password: "))
        .unwrap_or_else(|| panic!("no one-time password in {stdout}"))
        .to_owned()
}

pub async fn operator_subcommands(env: Env) {
    let w = env.world.clone();
    let team1 = w.team1.id.to_string();
    let team2 = w.team2.id.to_string();

    // A user without a password gets a one-time password.
    let out = ok(
        &env,
        &[
            "add-user",
            "--username",
            "zhou",
            "--display-name",
            "周",
            "--role",
            "commissioner",
            "--team",
            &team1,
        ],
    )
    .await;
    let otp = one_time_password(&out);
    let (status, p) = problem(env.enrol_raw("zhou", &otp).await).await;
    assert_eq!((status, p.code.as_str()), (403, "password_change_required"));
    let again = one_time_password(&ok(&env, &["reset-password", "zhou"]).await);
    assert_ne!(again, otp);

    // Teams and users, listed as lines.
    let teams = ok(&env, &["list-teams", "--county", ZHENGAN]).await;
    assert!(teams.contains(&team1) && !teams.contains(&team2), "{teams}");
    let disabled = ok(&env, &["disable-user", "c2"]).await;
    assert!(disabled.contains("\tdisabled"), "{disabled}");
    let listed = ok(&env, &["list-users", "--disabled"]).await;
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with("c2\t"), "{listed}");
    ok(&env, &["enable-user", "c2"]).await;
    assert_eq!(ok(&env, &["list-users", "--disabled"]).await, "");
    let moved = ok(&env, &["move-user", "c1", "--team", &team2]).await;
    assert!(moved.contains("务川县科技特派团"), "{moved}");
    let scoped = ok(&env, &["set-scope", "c1", "--scope", "own"]).await;
    assert!(scoped.contains("\town\t"), "{scoped}");

    // The quarantine: listed, then discarded with a reason.
    let phone = env.enrol(&w.c3).await;
    let v = villages(ZHENGAN, 1)[0];
    let (_, change) = Doc::create_log(&phone, &log_by(&w.c3.user, Some(w.team2.id), v, T0));
    assert_eq!(
        code(&env.push(&phone, std::slice::from_ref(&change)).await[0]),
        "out_of_scope"
    );
    let listed = ok(&env, &["quarantine", "--open"]).await;
    assert!(
        listed.contains(&change.0.to_string()) && listed.contains("out_of_scope"),
        "{listed}"
    );
    let out = ok(
        &env,
        &[
            "discard",
            &phone.id,
            &change.0.to_string(),
            "--reason",
            "村庄选错",
        ],
    )
    .await;
    assert_eq!(out.trim(), "discarded 1");
    assert_eq!(ok(&env, &["quarantine", "--open"]).await, "");

    // Everything above is in the audit log, by the operator.
    let audit = ok(&env, &["audit", "--action", "user."]).await;
    for action in [
        "user.create",
        "user.password_reset",
        "user.disable",
        "user.enable",
        "user.move",
        "user.scope",
    ] {
        assert!(
            audit.contains(&format!("\toperator\t{action}\t")),
            "{action}: {audit}"
        );
    }
    let csv = run(&env, &["audit", "--csv", "--action", "quarantine.discard"]).await;
    assert!(csv.stdout.starts_with('\u{feff}'));
    assert!(csv.stdout.contains("村庄选错"), "{}", csv.stdout);

    // A refusal prints its code and exits with 2, changing nothing.
    for (args, expected) in [
        (vec!["disable-user", "nobody"], "not_found"),
        (
            vec![
                "add-user",
                "--username",
                "c1",
                "--display-name",
                "重名",
                "--role",
                "commissioner",
                "--team",
                &team1,
            ],
            "username_taken",
        ),
        (
            vec![
                "set-scope",
                "c3",
                "--scope",
                "county",
                "--scope-code",
                ZHENGAN,
            ],
            "invalid_scope",
        ),
    ] {
        let r = run(&env, &args).await;
        assert_eq!(r.status, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("error [{expected}]")),
            "{args:?}: {}",
            r.stderr
        );
    }
}
