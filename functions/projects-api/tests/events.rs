//! Every sample event in `events/projects-api/` goes through lambda_http's
//! deserialization and this function's router, stage prefix and all.

use devtools::testing::assert_every_event_answers;
use shared::http::projects_router;

const EXPECTED: &[(&str, u16)] = &[
    ("connect-project.json", 201),
    ("create-project.json", 201),
    ("delete-project.json", 204),
    ("disconnect-project.json", 204),
    ("get-project.json", 200),
    ("grant-project-access.json", 200),
    ("list-assistant-projects.json", 200),
    ("list-project-access.json", 200),
    ("list-projects.json", 200),
    ("revoke-project-access.json", 204),
    ("update-project.json", 200),
];

#[tokio::test]
async fn every_sample_event_reaches_its_route_and_succeeds() {
    assert_every_event_answers("projects-api", projects_router, EXPECTED).await;
}
