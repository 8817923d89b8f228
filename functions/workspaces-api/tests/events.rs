//! Every sample event in `events/workspaces-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use devtools::testing::{TestStack, event_files};
use shared::http::workspaces_router;

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
    let stack = TestStack::start().await;
    let files = event_files("workspaces-api");
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let expected_names: Vec<&str> = EXPECTED.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, expected_names, "every event file has an expectation");
    for (name, event) in &files {
        let fixture = stack.fixture().await;
        let (status, body) = stack
            .replay_event(workspaces_router(stack.state.clone()), event, &fixture)
            .await;
        let expected = EXPECTED.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(status.as_u16(), expected, "{name}: {body}");
    }
}
