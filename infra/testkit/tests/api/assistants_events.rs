//! Every sample event in `events/assistants-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use shared::http::assistants_router;
use testkit::MemoryStack;
use testkit::events::{Expected, assert_every_event_answers, event_files, replay_event};

const EXPECTED: &[Expected] = &[
    Expected::new(
        "create-assistant.json",
        201,
        &[
            ("/name", r#""Support Bot""#),
            ("/visibility", r#""public""#),
            ("/workspaceId", r#""{workspace}""#),
        ],
    ),
    Expected::new("delete-assistant.json", 204, &[]),
    Expected::new(
        "get-assistant.json",
        200,
        &[("/id", r#""{assistant}""#), ("/name", r#""private bot""#)],
    ),
    Expected::new(
        "grant-access.json",
        200,
        &[
            ("/assistantId", r#""{assistant}""#),
            ("/userId", r#""{member}""#),
        ],
    ),
    Expected::new(
        "list-access.json",
        200,
        &[("/total", "1"), ("/data/0/userId", r#""{member}""#)],
    ),
    Expected::new("list-assistants.json", 200, &[("/total", "2")]),
    Expected::new("revoke-access.json", 204, &[]),
    Expected::new(
        "update-assistant.json",
        200,
        &[
            ("/id", r#""{assistant}""#),
            ("/temperature", "0.3"),
            (
                "/instructions",
                r#""You are a technical support specialist. Always ask clarifying questions.""#,
            ),
        ],
    ),
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
