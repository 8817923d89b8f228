//! The contract every store implementation keeps: uniqueness, conditions,
//! counters and cascades hold at the port, whatever calls it. One module
//! per port, each check generic over the ports it exercises (so a fake of
//! one port can be held to its part); [`store_contract!`](crate::store_contract)
//! runs each check as its own test against one implementation (the
//! DynamoDB adapter on the local server, the memory store), and a last test
//! fails if a check written here is not in its list.

pub mod assistants;
pub mod connections;
pub mod conversations;
pub mod deliveries;
pub mod documents;
mod fixtures;
pub mod grants;
pub mod keys;
pub mod projects;
pub mod sms;
pub mod usage;
pub mod webhooks;
pub mod widget;
pub mod workspaces;

use std::collections::BTreeSet;
use std::path::Path;

/// Every check of the suite, as `#[tokio::test]`s (on a multi-threaded
/// runtime, so the concurrent ones really race) over the store `$make`
/// builds (an expression of type `Arc<dyn Store>`, awaited), and
/// `every_contract_check_is_registered_for_this_store`.
#[macro_export]
macro_rules! store_contract {
    ($make:expr) => {
        $crate::store_contract!(@ports $make;
            workspaces: [
                one_email_is_one_user,
                a_chosen_slug_is_unique_and_a_derived_one_gets_a_suffix,
                members_are_counted_and_the_last_active_owner_stays,
                a_change_to_a_member_read_before_another_change_is_a_conflict,
                a_workspace_is_deleted_whole_once_nothing_hangs_off_it_and_refused_before,
            ],
            keys: [
                a_key_authenticates_until_revoked_and_only_its_owner_can_revoke_it,
            ],
            grants: [
                grants_need_both_the_target_and_the_member_and_the_cascade_removes_them_all,
                granting_again_answers_the_grant_as_first_stored,
                removing_a_member_removes_their_grants_in_that_workspace,
            ],
            assistants: [
                assistant_counts_follow_creates_and_deletes_and_never_go_negative,
                an_update_writes_only_the_fields_it_names,
                each_role_lists_the_assistants_it_may_see_newest_first_through_every_change,
                concurrent_visibility_changes_leave_one_place_and_exact_totals,
                a_read_in_context_brings_the_readers_membership_and_grant,
            ],
            connections: [
                a_connection_is_counted_once_and_both_halves_go_with_either_side,
                concurrent_connects_and_disconnects_leave_the_count_exact,
            ],
            documents: [
                documents_are_counted_and_a_deleted_one_cannot_come_back,
                a_direct_upload_completes_once,
                documents_are_listed_newest_first_a_page_at_a_time,
                a_document_written_again_as_stored_is_taken_as_written_once,
            ],
            projects: [
                a_project_is_seen_with_the_callers_grant,
                a_deleted_project_leaves_a_tombstone_and_the_cascade_spares_a_live_one,
            ],
            sms: [
                one_number_serves_one_assistant_and_deleting_frees_it,
                an_inbound_message_is_recorded_once_however_concurrent,
                a_session_continues_up_to_its_timeout_and_not_a_millisecond_after,
                keywords_set_the_opt_out_and_join_no_conversation,
                a_reply_is_decided_once_and_parts_move_only_from_their_state,
                the_cascade_removes_an_assistants_sms_traffic,
                deleting_a_texters_conversation_closes_their_session,
                texts_within_the_burst_window_are_answered_together_and_a_taken_one_alone,
                limits_count_each_answer_once_and_refuse_over_them_until_the_window_ends,
                concurrent_replies_to_one_text_store_one,
                two_texts_from_one_texter_at_one_instant_join_one_session,
                analytics_count_the_days_and_texters_of_7_30_and_90_days,
            ],
            conversations: [
                a_conversation_needs_its_assistant_and_lists_newest_first,
                one_answer_at_a_time_and_every_message_counted_in_order,
                a_lapsed_lease_can_be_taken_and_a_given_back_one_at_once,
                a_deleted_conversation_is_gone_at_once_and_purged_after,
                the_cascade_removes_an_assistants_conversations_and_their_messages,
            ],
            webhooks: [
                a_webhook_is_stored_with_its_secret_and_listed_newest_first_in_its_workspace_only,
                a_workspace_holds_twenty_webhooks_however_many_are_created_at_once,
                a_change_writes_only_what_it_names_and_a_missing_webhook_is_not_found,
                a_rotated_secret_signs_beside_the_new_one_until_its_day_ends,
                deleting_a_webhook_forgets_it_and_frees_its_place,
            ],
            deliveries: [
                a_delivery_is_kept_whole_and_only_for_a_webhook_that_is_there,
                deliveries_are_listed_newest_first_a_page_at_a_time_to_the_last,
                an_attempt_is_recorded_once_however_many_workers_hold_the_job,
                an_attempts_decision_moves_its_webhooks_failing_run_and_can_turn_it_off,
                deleting_a_webhook_deletes_its_deliveries,
                a_failed_delivery_can_be_retried_and_a_succeeded_one_cannot,
                an_events_deliveries_are_recorded_all_at_once_or_not_at_all,
                a_job_reads_its_webhook_and_delivery_at_once_and_only_in_their_workspace,
            ],
            usage: [
                a_charge_is_counted_in_its_day_and_months_and_read_back_by_period,
                an_answer_is_counted_with_it_and_only_if_it_is_stored,
                a_budget_is_replaced_whole_and_read_with_its_assistant,
                an_alert_is_claimed_once_a_month_however_many_claim_it_at_once,
            ],
            widget: [
                an_assistant_has_default_widget_settings_until_they_are_saved,
                a_session_is_stored_with_its_conversation_and_takes_a_lead_and_feedback,
                a_limit_holds_under_concurrent_uses_and_counts_all_windows_or_none,
                the_cascade_removes_an_assistants_widget_and_its_sessions,
            ],
        );
    };
    (@ports $make:expr; $($port:ident: [$($check:ident),* $(,)?]),* $(,)?) => {
        $($(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                $crate::contract::$port::$check($make.await).await;
            }
        )*)*

        #[test]
        fn every_contract_check_is_registered_for_this_store() {
            $crate::contract::assert_every_check_registered(&[
                $($(concat!(stringify!($port), "::", stringify!($check))),*),*
            ]);
        }
    };
}

/// Fails naming each check written in a port's module (a `pub async fn`)
/// that `registered` leaves out, and each registered one that is not
/// written: read from the modules' sources, so a new check or a new
/// port's module is seen without a list kept by hand.
pub fn assert_every_check_registered(registered: &[&str]) {
    let written = written_checks(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/contract"));
    let registered: BTreeSet<String> = registered.iter().map(|c| (*c).to_owned()).collect();
    let unregistered: Vec<_> = written.difference(&registered).collect();
    let unwritten: Vec<_> = registered.difference(&written).collect();
    assert!(
        unregistered.is_empty() && unwritten.is_empty(),
        "checks written but not run on this store: {unregistered:?}; \
         run but not written: {unwritten:?} (store_contract! in contract/mod.rs)"
    );
}

fn written_checks(dir: &Path) -> BTreeSet<String> {
    let mut checks = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("the contract modules") {
        let path = entry.expect("a contract module").path();
        let port = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if port == "mod" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("a contract module's source");
        checks.extend(source.lines().filter_map(|line| {
            let name = line.strip_prefix("pub async fn ")?;
            let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
            Some(format!("{port}::{}", &name[..end]))
        }));
    }
    checks
}
