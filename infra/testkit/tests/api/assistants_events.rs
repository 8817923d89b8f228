//! Every sample event in `events/assistants-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use shared::http::assistants_router;
use testkit::MemoryStack;
use testkit::events::{assert_every_event_answers, event_files, replay_event};

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
        |stack| assistants_router(stack.backends.assistants()),
        EXPECTED,
    )
    .await;
}

#[tokio::test]
async fn this_function_does_not_answer_the_workspace_routes() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let (_, event) = event_files("workspaces-api")
        .into_iter()
        .find(|(name, _)| name == "list-workspaces.json")
        .unwrap();
    let router = assistants_router(stack.backends.assistants());
    let (status, body) = replay_event(router, &event, &fixture).await;
    assert_eq!(status.as_u16(), 404);
    assert_eq!(body["code"], "not_found:api");
}
