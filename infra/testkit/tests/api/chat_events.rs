//! The chat function's sample events (API Gateway REST, as the `STREAM`
//! transfer mode delivers them: the same request format) through its
//! router, streamed and not.

use shared::http::chat_router;
use testkit::events::{Expected, assert_every_event_answers};

#[tokio::test]
async fn every_chat_api_event_reaches_its_route_and_answers_as_expected() {
    assert_every_event_answers(
        "chat-api",
        |stack| chat_router(stack.backends.chat()),
        &[
            Expected::new(
                "ask-json.json",
                201,
                &[
                    ("/userMessage/content", "\"How long do refunds take?\""),
                    ("/assistantMessage/status", "\"completed\""),
                    ("/assistantMessage/sources/0/documentName", "\"faq.md\""),
                ],
            ),
            Expected::new(
                "ask-streaming.json",
                200,
                &[
                    ("/0/event", "\"message\""),
                    ("/1/event", "\"sources\""),
                    ("/2/event", "\"delta\""),
                ],
            ),
            Expected::new(
                "create-conversation.json",
                201,
                &[
                    ("/assistantId", "\"{assistant}\""),
                    ("/title", "\"Refunds\""),
                ],
            ),
            Expected::new("delete-conversation.json", 204, &[]),
            Expected::new("get-conversation.json", 200, &[("/channel", "\"api\"")]),
            Expected::new("list-assistant-conversations.json", 200, &[("/total", "2")]),
            Expected::new(
                "list-conversations.json",
                200,
                &[("/total", "1"), ("/limit", "10")],
            ),
            Expected::new(
                "list-messages.json",
                200,
                &[("/total", "0"), ("/limit", "50")],
            ),
        ],
    )
    .await;
}
