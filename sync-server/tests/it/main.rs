//! The sync server's conformance suite, written once and run against both
//! backends: every test below exists as `sqlite::<module>::<test>` and
//! `postgres::<module>::<test>`. Each test starts a real server on
//! 127.0.0.1:0 with a manual clock and talks HTTP to it with reqwest (and,
//! where the point is bytes on the wire, a raw socket); the `store` module
//! is the store suite, which calls the `ServerStore` trait directly.
//!
//! PostgreSQL: set `KETEPAI_TEST_DATABASE_URL` (see
//! `sync-server/scripts/ci-postgres.sh`); without it the PostgreSQL tests
//! print SKIP and pass, unless `KETEPAI_REQUIRE_POSTGRES=1`. The `s3` tests
//! need s3s-fs installed (see `s3.rs`; `KETEPAI_REQUIRE_S3=1` likewise).

mod admin;
mod admin_device;
mod budget;
mod cli;
mod client;
mod demo;
mod harness;
mod limits;
mod matrix;
mod matrix_admin;
mod multi;
mod operations;
mod operator;
mod photos;
mod pull;
mod push;
mod reference;
mod rules;
mod s3;
mod stats;
mod store;
mod team;
mod tokens;

macro_rules! conformance {
    ($backend:ident, $kind:expr, { $($module:ident: [$($test:ident),* $(,)?]),* $(,)? }) => {
        mod $backend {
            $(
                mod $module {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                        async fn $test() {
                            crate::harness::run($kind, crate::$module::$test).await;
                        }
                    )*
                }
            )*
        }
    };
}

macro_rules! suite {
    ($($body:tt)*) => {
        conformance!(sqlite, crate::harness::Kind::Sqlite, { $($body)* });
        conformance!(postgres, crate::harness::Kind::Postgres, { $($body)* });
    };
}

suite! {
    matrix: [writes, reads],
    matrix_admin: [admin_actions],
    admin: [
        users_and_teams,
        devices_and_their_health,
        the_quarantine_is_filtered_in_the_query,
        a_change_refused_before_a_move_is_released_after_it,
        a_discarded_change_is_archived_and_its_device_told,
        the_audit_log_filters_pages_and_exports,
        an_unknown_user_is_not_found,
        records_with_conflicts_list_each_value_with_its_source,
    ],
    admin_device: [
        the_device_hears_of_a_discard_and_reports_its_outbox,
        a_reconnect_with_nothing_new_stays_small_with_reports,
    ],
    cli: [operator_subcommands],
    push: [
        replays_store_nothing_twice,
        a_push_cut_mid_body_stores_nothing,
        undecodable_bytes_are_refused,
        missing_dependencies_wait,
        one_bad_change_among_a_hundred,
        concurrent_pushes_to_one_document_both_land,
        a_conflicted_log_is_reviewed_then_resolved,
        a_provincial_admins_write_is_audited_under_the_records_county,
    ],
    limits: [oversized_bodies_are_refused, a_zstd_bomb_is_refused, wrong_media_types_and_versions],
    tokens: [
        wrong_expired_and_revoked_tokens,
        enrolment_and_its_rate_limit,
        a_revoked_device_enrols_again_in_its_own_place,
    ],
    pull: [
        pages_and_the_204_reconnect,
        many_changes_out_of_scope_are_skipped,
        a_reconnect_with_nothing_new_is_small,
        concurrent_pushes_are_never_skipped,
        two_instances_share_one_database,
        changes_are_served_uncompressed,
        the_stream_holds_the_pages,
    ],
    photos: [
        upload_resumes_from_the_last_chunk,
        offset_and_hash_mismatches,
        photo_limits,
        an_upload_is_its_devices_own,
        a_photo_is_read_through_the_records_in_scope,
        photo_references_are_backfilled_from_stored_documents,
        unfinished_uploads_have_quotas_and_expire,
        a_chunk_written_during_the_sweep_leaves_no_orphan,
    ],
    reference: [county_slice_with_etag],
    s3: [photos_live_in_the_object_store],
    rules: [records_breaking_the_device_rules_are_refused,
        a_record_stored_before_a_rule_can_still_be_reviewed],
    budget: [
        password_work_in_flight_is_bounded,
        sign_in_attempts_are_limited_per_address,
        a_guesser_does_not_lock_a_user_out_elsewhere,
        refused_bytes_keep_only_their_head,
        slow_and_silent_connections_are_closed,
    ],
    client: [
        the_device_engine_round_trips,
        an_engine_past_its_upload_quota_waits_and_retries,
        a_streamed_first_sync_equals_the_paged_one_and_resumes_after_a_cut,
        a_compact_part_that_does_not_match_its_digest_is_refused,
    ],
    stats: [
        device_and_server_give_the_same_figures,
        scope_refusals_and_narrowing,
        county_tag_filters_through_the_client,
        exports_match_the_json_figures,
        the_projection_is_rebuilt_from_stored_documents,
    ],
    team: [members_and_their_last_sync],
    operations: [health_metrics_demo_and_shutdown],
    demo: [the_demo_fills_every_roles_screens],
    operator: [metrics_need_the_operator_token_and_errors_are_problems],
    store: [
        pull_pages_at_their_limits,
        concurrent_pushes_to_one_document_both_land,
        a_push_planned_on_changed_rows_is_planned_again,
        a_replayed_push_stores_nothing_twice,
        photo_start_creates_resumes_restarts_and_completes,
        replacing_a_device_moves_actors_and_quarantines,
    ],
}

/// Several instances on one PostgreSQL database (issue 14): PostgreSQL
/// only (SQLite is one server's file).
mod postgres_multi {
    use crate::harness::{Kind, run};
    use crate::multi;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_skip_and_repeat_nothing() {
        run(Kind::Postgres, |env| {
            multi::several_instances_skip_and_repeat_nothing(env, 2)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_instances_skip_and_repeat_nothing() {
        run(Kind::Postgres, |env| {
            multi::several_instances_skip_and_repeat_nothing(env, 4)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_commit_is_not_skipped() {
        run(Kind::Postgres, multi::a_late_commit_is_not_skipped).await;
    }

    /// Photos in one S3 bucket, an upload begun on one instance and
    /// finished on another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_upload_moves_between_instances() {
        run(Kind::Postgres, crate::s3::an_upload_moves_between_instances).await;
    }
}
