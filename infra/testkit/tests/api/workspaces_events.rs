//! Every sample event in `events/workspaces-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use shared::http::workspaces_router;
use testkit::events::{Expected, assert_every_event_answers};

const EXPECTED: &[Expected] = &[
    Expected::new(
        "add-member.json",
        201,
        &[
            ("/email", r#""new.member@example.com""#),
            ("/role", r#""member""#),
        ],
    ),
    Expected::new(
        "change-member.json",
        200,
        &[("/userId", r#""{member}""#), ("/role", r#""admin""#)],
    ),
    Expected::new("create-api-key.json", 201, &[("/name", r#""ci""#)]),
    Expected::new(
        "create-workspace.json",
        201,
        &[
            ("/name", r#""Acme Support""#),
            ("/role", r#""owner""#),
            ("/defaultModel", r#""grok-2""#),
        ],
    ),
    // The demo workspace still has its assistants: the owner is told what
    // to delete first.
    Expected::new(
        "delete-workspace.json",
        409,
        &[("/code", r#""conflict:api""#)],
    ),
    Expected::new(
        "get-assistant-budget.json",
        200,
        &[
            ("/monthlyTokenLimit", "null"),
            ("/alertThresholds", "[80,100]"),
        ],
    ),
    Expected::new(
        "get-usage.json",
        200,
        &[
            ("/data/from", r#""2026-12-01""#),
            ("/data/to", r#""2026-12-07""#),
        ],
    ),
    Expected::new(
        "get-workspace-budget.json",
        200,
        &[("/monthlySmsSegmentLimit", "null")],
    ),
    Expected::new(
        "get-workspace.json",
        200,
        &[("/id", r#""{workspace}""#), ("/role", r#""owner""#)],
    ),
    Expected::new(
        "list-api-keys.json",
        200,
        &[("/data/0/name", r#""bootstrap""#), ("/limit", "25")],
    ),
    Expected::new("list-members.json", 200, &[("/total", "4")]),
    Expected::new(
        "list-workspaces.json",
        200,
        &[
            ("/data/0/name", r#""Demo Workspace""#),
            ("/data/0/role", r#""owner""#),
        ],
    ),
    Expected::new(
        "put-assistant-budget.json",
        200,
        &[
            ("/monthlyTokenLimit", "200000"),
            (
                "/exhaustedMessage",
                r#""Our assistant is resting until next month.""#,
            ),
        ],
    ),
    Expected::new(
        "put-workspace-budget.json",
        200,
        &[("/monthlyTokenLimit", "5000000")],
    ),
    Expected::new("remove-member.json", 204, &[]),
    Expected::new("revoke-api-key.json", 204, &[]),
    Expected::new(
        "update-workspace.json",
        200,
        &[("/name", r#""Acme Customer Support""#)],
    ),
];

#[tokio::test]
async fn every_sample_event_reaches_its_route_and_answers_as_expected() {
    assert_every_event_answers(
        "workspaces-api",
        |stack| workspaces_router(stack.backends.workspaces()),
        EXPECTED,
    )
    .await;
}
