//! The widget function's sample events (API Gateway REST, as the `STREAM`
//! transfer mode delivers them) through its router: the settings, the
//! preflights, and a visitor's calls from the allowed origin.

use axum::http::Method;
use serde_json::json;
use shared::http::widget_router;
use testkit::events::{
    EVENT_MESSAGE, EVENT_WIDGET_TOKEN, Expected, assert_every_prepared_event_answers,
};
use testkit::widget::{SHOP, WidgetRequest};

#[tokio::test]
async fn every_widget_api_event_reaches_its_route_and_answers_as_expected() {
    let preflight = |file| Expected::new(file, 204, &[]);
    assert_every_prepared_event_answers(
        "widget-api",
        |stack| widget_router(stack.backends.widget()),
        &[
            Expected::new(
                "chat-json.json",
                201,
                &[
                    ("/userMessage/content", "\"How long do refunds take?\""),
                    ("/assistantMessage/sources/0/documentName", "\"faq.md\""),
                ],
            ),
            Expected::new(
                "chat-streaming.json",
                200,
                &[("/0/event", "\"message\""), ("/1/event", "\"sources\"")],
            ),
            Expected::new("config.json", 200, &[("/assistantId", "\"{assistant}\"")]),
            Expected::new("feedback.json", 200, &[("/rating", "\"up\"")]),
            Expected::new(
                "get-settings.json",
                200,
                &[("/allowedOrigins/0", "\"https://shop.example.com\"")],
            ),
            Expected::new("history.json", 200, &[("/total", "2"), ("/limit", "50")]),
            Expected::new("init.json", 201, &[("/resumed", "false")]),
            Expected::new("lead.json", 200, &[("/email", "\"ada@example.com\"")]),
            preflight("preflight-chat.json"),
            preflight("preflight-config.json"),
            preflight("preflight-feedback.json"),
            preflight("preflight-history.json"),
            preflight("preflight-init.json"),
            preflight("preflight-lead.json"),
            Expected::new(
                "put-settings.json",
                200,
                &[("/title", "\"Ask Acme\""), ("/position", "\"left\"")],
            ),
        ],
        |stack, f| {
            Box::pin(async move {
                let ast = f.private_assistant.clone();
                stack.open_widget(f, &ast, &[SHOP], json!({})).await;
                let (_, token) = stack.widget_session(&ast).await;
                let answered = stack
                    .widget(
                        WidgetRequest::new(Method::POST, &ast, "chat")
                            .token(&token)
                            .body(json!({"content": "How long do refunds take?"})),
                    )
                    .await;
                let answer = answered.body["assistantMessage"]["id"]
                    .as_str()
                    .expect("an answer")
                    .to_owned();
                vec![(EVENT_WIDGET_TOKEN, token), (EVENT_MESSAGE, answer)]
            })
        },
    )
    .await;
}
