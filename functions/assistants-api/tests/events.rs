//! Every sample event in `events/assistants-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use devtools::testing::{TestStack, assert_every_event_answers, event_files};
use shared::http::assistants_router;

const EXPECTED: &[(&str, u16)] = &[
    ("create-assistant.json", 201),
    ("delete-assistant.json", 204),
    ("get-assistant.json", 200),
    ("grant-access.json", 200),
    ("list-access.json", 200),
    ("list-assistants.json", 200),
    ("revoke-access.json", 204),
    ("update-assistant.json", 200),
];

#[tokio::test]
async fn every_sample_event_reaches_its_route_and_succeeds() {
    assert_every_event_answers(
        "assistants-api",
        |stack| assistants_router(stack.state.clone()),
        EXPECTED,
    )
    .await;
}

#[tokio::test]
async fn this_function_does_not_answer_the_workspace_routes() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    let (_, event) = event_files("workspaces-api")
        .into_iter()
        .find(|(name, _)| name == "list-workspaces.json")
        .unwrap();
    let (status, body) = stack
        .replay_event(assistants_router(stack.state.clone()), &event, &fixture)
        .await;
    assert_eq!(status.as_u16(), 404);
    assert_eq!(body["code"], "not_found:api");
}
