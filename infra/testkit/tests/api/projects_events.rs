//! Every sample event in `events/projects-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use shared::http::projects_router;
use testkit::events::{Expected, assert_every_event_answers};

const EXPECTED: &[Expected] = &[
    Expected::new(
        "complete-direct-upload.json",
        409,
        &[("/code", r#""conflict:api""#)],
    ),
    Expected::new(
        "connect-project.json",
        201,
        &[("/id", r#""{spare_project}""#), ("/name", r#""Spare""#)],
    ),
    Expected::new(
        "create-project.json",
        201,
        &[
            ("/name", r#""Product Documentation""#),
            ("/visibility", r#""workspace""#),
            ("/description", r#""Manuals and FAQs""#),
        ],
    ),
    Expected::new("delete-document.json", 204, &[]),
    Expected::new("delete-project.json", 204, &[]),
    Expected::new("disconnect-project.json", 204, &[]),
    Expected::new(
        "get-document.json",
        200,
        &[
            ("/id", r#""{document}""#),
            ("/name", r#""faq.md""#),
            ("/status", r#""completed""#),
        ],
    ),
    Expected::new(
        "get-project.json",
        200,
        &[("/id", r#""{project}""#), ("/documentCount", "1")],
    ),
    Expected::new(
        "grant-project-access.json",
        200,
        &[
            ("/projectId", r#""{project}""#),
            ("/userId", r#""{member}""#),
        ],
    ),
    Expected::new(
        "list-assistant-projects.json",
        200,
        &[("/data/0/id", r#""{project}""#)],
    ),
    Expected::new(
        "list-documents.json",
        200,
        &[("/total", "1"), ("/data/0/id", r#""{document}""#)],
    ),
    Expected::new(
        "list-project-access.json",
        200,
        &[("/total", "1"), ("/data/0/userId", r#""{member}""#)],
    ),
    Expected::new("list-projects.json", 200, &[("/total", "2")]),
    Expected::new("revoke-project-access.json", 204, &[]),
    Expected::new(
        "search-assistant.json",
        200,
        &[
            ("/data/0/documentId", r#""{document}""#),
            ("/data/0/projectId", r#""{project}""#),
        ],
    ),
    Expected::new(
        "start-direct-upload.json",
        201,
        &[
            ("/document/name", r#""employee-handbook.pdf""#),
            ("/document/status", r#""uploading""#),
            ("/upload/method", r#""PUT""#),
        ],
    ),
    Expected::new(
        "update-project.json",
        200,
        &[("/description", r#""Manuals, FAQs and release notes""#)],
    ),
    Expected::new(
        "upload-document.json",
        201,
        &[("/name", r#""refunds.md""#), ("/status", r#""pending""#)],
    ),
];

#[tokio::test]
async fn every_sample_event_reaches_its_route_and_answers_as_expected() {
    assert_every_event_answers(
        "projects-api",
        |stack| projects_router(stack.backends.projects(), stack.backends.search()),
        EXPECTED,
    )
    .await;
}
