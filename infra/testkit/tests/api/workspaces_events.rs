//! Every sample event in `events/workspaces-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use shared::http::workspaces_router;
use testkit::events::assert_every_event_answers;

const EXPECTED: &[(&str, u16)] = &[
    ("add-member.json", 201),
    ("change-member.json", 200),
    ("create-api-key.json", 201),
    ("create-workspace.json", 201),
    ("get-workspace.json", 200),
    ("list-api-keys.json", 200),
    ("list-members.json", 200),
    ("list-workspaces.json", 200),
    ("remove-member.json", 204),
    ("revoke-api-key.json", 204),
    ("update-workspace.json", 200),
];

#[tokio::test]
async fn every_sample_event_reaches_its_route_and_succeeds() {
    assert_every_event_answers(
        "workspaces-api",
        |stack| workspaces_router(stack.backends.workspaces()),
        EXPECTED,
    )
    .await;
}
