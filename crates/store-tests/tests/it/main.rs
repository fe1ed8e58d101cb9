//! Storage conformance: every story runs on a fresh SQLite file and a fresh PostgreSQL database.
//! PostgreSQL comes from `SWITCHBOARD_TEST_POSTGRES_URL` (set by `scripts/test.sh`); without it
//! the PostgreSQL half fails rather than silently skipping.

mod automation;
mod contact_policy;
mod knowledge;
mod social;
mod stories;
mod webhooks;

use std::sync::Arc;
use switchboard_store::{FsBlobStore, Store};

pub struct Backend {
    pub store: Arc<dyn Store>,
    /// A raw connection to the same database, for checks below the store's surface.
    pub raw: Box<dyn switchboard_store::sql::Conn>,
    /// Where the store keeps attachment content.
    pub blobs: std::path::PathBuf,
    _dir: Option<TempDir>,
}

pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn sqlite() -> Backend {
    let dir = std::env::temp_dir().join(format!("switchboard-conformance-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("switchboard.db");
    let store = switchboard_store_sqlite::open(&path, Arc::new(FsBlobStore::new(dir.join("attachments")))).expect("open sqlite");
    let raw = Box::new(switchboard_store_sqlite::SqliteConn::open(&path, false).expect("raw sqlite"));
    Backend { store: Arc::new(store), raw, blobs: dir.join("attachments"), _dir: Some(TempDir(dir)) }
}

pub fn postgres() -> Backend {
    let admin = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .expect("SWITCHBOARD_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL");
    let name = format!("conformance_{}", uuid::Uuid::new_v4().simple());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test cluster");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("unexpected postgres url {admin}"),
    };
    let dir = std::env::temp_dir().join(format!("switchboard-conformance-{name}"));
    let store = switchboard_store_postgres::open(&url, Arc::new(FsBlobStore::new(dir.join("attachments")))).expect("open postgres");
    let raw = Box::new(switchboard_store_postgres::PgConn::connect(&url).expect("raw postgres"));
    Backend { store: Arc::new(store), raw, blobs: dir.join("attachments"), _dir: Some(TempDir(dir)) }
}

/// Declares one story as two tests, `<story>::sqlite` and `<story>::postgres`.
#[macro_export]
macro_rules! conformance {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                // The open is blocking I/O; keep it off the async workers.
                let backend = tokio::task::spawn_blocking($crate::sqlite).await.expect("open");
                $crate::stories::$story(backend).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let backend = tokio::task::spawn_blocking($crate::postgres).await.expect("open");
                $crate::stories::$story(backend).await;
            }
        }
    )*};
}

conformance!(
    intake_is_idempotent_under_concurrent_retries,
    vouched_details_link_and_unvouched_ones_suggest,
    a_case_continues_across_channels,
    returning_customers_keep_one_entry_per_channel_and_their_first_name,
    continuity_and_reopen_windows_follow_message_time,
    thread_keys_pick_and_start_conversations,
    status_rules_and_audit_history,
    replies_are_queued_and_delivered_through_the_job_queue,
    failed_jobs_back_off_and_end_dead,
    merge_moves_everything_and_undo_restores_exactly,
    workspaces_are_isolated,
    conversation_filters_and_cursor_pagination,
    attachments_are_stored_with_the_message,
    audit_log_is_append_only,
    email_threads_by_references_then_ticket_numbers_never_by_subject_alone,
    delivery_reports_mark_our_message_failed,
    mailbox_cursors_and_failed_mail_are_kept,
    automatic_replies_are_rate_limited_per_customer,
    email_replies_know_their_thread_copied_people_and_remote_images,
    accounts_sign_in_through_sessions_and_the_first_admin_through_a_one_time_link,
    administrators_invite_people_and_keep_tokens_teams_channels_customers_and_answers,
    mentions_in_notes_are_kept_as_notifications_until_read,
    a_customer_edit_changes_the_message_and_keeps_the_old_text,
    files_a_provider_keeps_are_fetched_by_a_job_after_the_commit,
    provider_reports_find_our_message_by_the_providers_id,
    widget_visitors_find_their_conversation_rate_it_once_per_solve_and_replies_can_wait,
    pieces_of_one_message_sent_apart_become_one_message,
    a_provider_id_given_twice_is_kept_once_and_both_replies_are_sent,
    a_senders_wrong_clock_never_reorders_the_timeline,
    fresh_emails_on_other_topics_start_conversations_and_continue_a_chat,
    reactions_sit_on_their_message_and_never_move_the_conversation,
    conversations_merge_and_the_undo_restores_both_exactly,
    a_customer_message_splits_off_alone_or_with_what_follows,
    a_reference_to_another_channels_message_leads_a_stranger_nowhere,
    people_whose_conversations_were_merged_after_their_merge_stay_one,
);

/// Declares the stories of one module of this suite (`knowledge`, `automation`, `contact_policy`,
/// `social`, `webhooks`) on both backends.
macro_rules! stories_of {
    ($module:ident; $($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let backend = tokio::task::spawn_blocking($crate::sqlite).await.expect("open");
                $crate::$module::$story(backend).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let backend = tokio::task::spawn_blocking($crate::postgres).await.expect("open");
                $crate::$module::$story(backend).await;
            }
        }
    )*};
}

stories_of!(
    knowledge;
    articles_keep_every_version_and_translations_left_behind_are_outdated,
    stale_drafts_and_bad_content_are_never_served_or_stored,
    bot_answers_are_delivered_and_deflection_is_counted_over_72_hours,
    the_search_change_log_names_every_change_in_its_transaction,
);

stories_of!(
    automation;
    rules_run_in_order_once_each_and_are_audited_as_the_rule,
    sla_clocks_pause_and_resume_and_their_timers_fire_once,
    rules_on_time_fire_when_their_condition_becomes_true,
    assignment_is_fair_fits_capacity_and_presence_and_hands_out_the_longest_waiting_first,
    skills_route_conversations_to_agents_who_have_them,
    macros_apply_all_or_nothing_as_the_agent,
);

stories_of!(
    contact_policy;
    the_facts_of_a_decision_are_every_complaint_priority_and_rating_of_the_customer,
    opt_outs_and_time_zones_follow_the_customer_through_merges_and_identities,
    every_answer_and_every_settings_change_is_audited,
);

stories_of!(
    social;
    public_posts_go_to_the_stream_once_and_never_to_the_inbox,
    a_known_customers_post_links_to_them_and_raises_their_open_conversations_risk,
    monitoring_rules_notify_tag_and_open_conversations_only_when_they_say_so,
);

stories_of!(
    webhooks;
    webhook_endpoints_keep_their_subscriptions_and_secrets,
    webhook_deliveries_are_written_in_the_transaction_of_their_change,
    webhook_attempts_are_retried_for_a_day_logged_and_replayed,
    rules_and_sla_timers_post_their_events,
);

#[test]
fn both_backends_ship_the_same_migration_versions() {
    let versions = |m: &[switchboard_store::migrate::Migration]| m.iter().map(|(v, n, _)| (*v, *n)).collect::<Vec<_>>();
    assert_eq!(versions(switchboard_store_sqlite::MIGRATIONS), versions(switchboard_store_postgres::MIGRATIONS));
}
