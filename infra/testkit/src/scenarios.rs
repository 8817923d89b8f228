//! Scenarios that run unchanged on both harnesses, so the same claim is
//! checked on the memory store (with real parallelism) and on DynamoDB.

use crate::api::{Api, Fixture};
use axum::http::{Method, StatusCode};
use serde_json::json;

/// Fifty connects and disconnects at once, from as many tasks, on ten
/// projects (half connected beforehand, so both kinds of call can succeed
/// whatever the order). The assistant's `projectCount` must equal the
/// connections before, plus the connects that answered 201, minus the
/// disconnects that answered 204; the list must agree; and deleting every
/// project (which walks the project-side halves) must bring it to zero.
pub async fn fifty_concurrent_connects_and_disconnects(api: &Api, fixture: &Fixture) {
    let owner = fixture.key("owner").to_owned();
    let ws = fixture.ws().to_owned();
    let assistant = fixture.public_assistant.clone();
    let path = format!("/api/workspaces/{ws}/assistants/{assistant}/projects");
    let count = || async {
        let (status, body) = api
            .call(
                Method::GET,
                &format!("/api/workspaces/{ws}/assistants/{assistant}"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["projectCount"].as_u64().unwrap()
    };
    let before = count().await;
    let mut projects = Vec::new();
    for i in 0..10 {
        let (status, created) = api
            .call(
                Method::POST,
                &format!("/api/workspaces/{ws}/projects"),
                Some(&owner),
                Some(json!({"name": format!("p{i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        if i % 2 == 0 {
            let (status, body) = api
                .call(
                    Method::POST,
                    &path,
                    Some(&owner),
                    Some(json!({"projectId": id})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        projects.push(id);
    }
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (api, owner, path) = (api.clone(), owner.clone(), path.clone());
        let project = projects[i % projects.len()].clone();
        let connecting = (i / projects.len()) % 2 == 0;
        calls.spawn(async move {
            let (status, body) = if connecting {
                let body = json!({"projectId": project});
                api.call(Method::POST, &path, Some(&owner), Some(body))
                    .await
            } else {
                let one = format!("{path}/{project}");
                api.call(Method::DELETE, &one, Some(&owner), None).await
            };
            match (connecting, status.as_u16()) {
                (true, 201) | (false, 204) => (connecting, true),
                (true, 409) | (false, 404) => (connecting, false),
                _ => panic!("an unexpected answer: {status} {body}"),
            }
        });
    }
    let (mut connects, mut disconnects) = (0u64, 0u64);
    while let Some(done) = calls.join_next().await {
        match done.unwrap() {
            (true, true) => connects += 1,
            (false, true) => disconnects += 1,
            _ => {}
        }
    }
    assert!(connects > 0 && disconnects > 0, "{connects} {disconnects}");
    let expected = before + 5 + connects - disconnects;
    assert_eq!(count().await, expected);
    let (_, listed) = api.call(Method::GET, &path, Some(&owner), None).await;
    assert_eq!(listed["data"].as_array().unwrap().len() as u64, expected);
    for project in &projects {
        let (status, _) = api
            .call(
                Method::DELETE,
                &format!("/api/workspaces/{ws}/projects/{project}"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert_eq!(count().await, before, "every project-side half was found");
}
