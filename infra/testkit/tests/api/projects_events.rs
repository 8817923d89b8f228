//! Every sample event in `events/projects-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use shared::http::projects_router;
use testkit::events::assert_every_event_answers;

const EXPECTED: &[(&str, u16)] = &[
    // The fixture's document was uploaded through the API, so the route
    // answers that its upload is complete already.
    ("complete-direct-upload.json", 409),
    ("connect-project.json", 201),
    ("create-project.json", 201),
    ("delete-document.json", 204),
    ("delete-project.json", 204),
    ("disconnect-project.json", 204),
    ("get-document.json", 200),
    ("get-project.json", 200),
    ("grant-project-access.json", 200),
    ("list-assistant-projects.json", 200),
    ("list-documents.json", 200),
    ("list-project-access.json", 200),
    ("list-projects.json", 200),
    ("revoke-project-access.json", 204),
    ("search-assistant.json", 200),
    ("start-direct-upload.json", 201),
    ("update-project.json", 200),
    ("upload-document.json", 201),
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
