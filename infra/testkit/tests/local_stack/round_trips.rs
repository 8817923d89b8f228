//! DynamoDB round trips of every route for every kind of caller, with the
//! key cached as in a warm container, counted by an SDK interceptor and held
//! to the exact figures of `testkit::routes`.

use axum::http::Method;
use testkit::routes::{ROLES, Route, routes};
use testkit::{Fixture, TestStack};

/// Fixtures fresh local-server data costs (the local server is the slow
/// part): reads and refusals, which change nothing (the authorization suite
/// proves it), share one; writes that can be repeated share another; a
/// write that succeeds only once gets a fixture of its own.
struct Fixtures {
    untouched: Fixture,
    scratch: Fixture,
}

/// Counts one route's calls as every role.
async fn count_route(stack: &TestStack, fixtures: &Fixtures, route: &Route) -> [usize; 5] {
    let mut counts = [0; 5];
    for (i, role) in ROLES.iter().enumerate() {
        let writes = route.statuses[i] < 300 && route.method != Method::GET;
        let fresh;
        let fixture = match (writes, route.once) {
            (false, _) => &fixtures.untouched,
            (true, false) => &fixtures.scratch,
            (true, true) => {
                fresh = stack.fixture().await;
                &fresh
            }
        };
        // The caller's key is cached, as in a warm container: one of its
        // own, so no entry cached a minute ago expires mid-count.
        let stack = &stack.with_backends(shared::http::Backends {
            auth: std::sync::Arc::new(shared::app::authentication::Authenticator::new(
                stack.local.store.clone(),
            )),
            ..stack.backends.clone()
        });
        stack
            .call(
                Method::GET,
                "/api/workspaces",
                Some(fixture.key(role)),
                None,
            )
            .await;
        stack.round_trips.reset();
        let (status, body) = stack
            .call(
                route.method.clone(),
                &(route.path)(fixture),
                Some(fixture.key(role)),
                route.body.map(|b| b(fixture)),
            )
            .await;
        assert_eq!(
            status.as_u16(),
            route.statuses[i],
            "{} as {role}: {body}",
            route.name
        );
        counts[i] = stack.round_trips.count();
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_costs_each_caller_exactly_its_round_trips() {
    // A few tables, each for a share of the routes: the local server copies
    // a whole table on every transaction, so one table for all grows slow.
    const TABLES: usize = 4;
    let mut groups: Vec<Vec<Route>> = (0..TABLES).map(|_| Vec::new()).collect();
    for (i, route) in routes().into_iter().enumerate() {
        groups[i % TABLES].push(route);
    }
    let mut checks = tokio::task::JoinSet::new();
    for group in groups {
        checks.spawn(async move {
            let stack = TestStack::start().await;
            let fixtures = Fixtures {
                untouched: stack.fixture().await,
                scratch: stack.fixture().await,
            };
            let mut mismatches = Vec::new();
            for route in group {
                let counted = count_route(&stack, &fixtures, &route).await;
                if counted != route.round_trips {
                    mismatches.push(format!(
                        "{}: expected {:?}, counted {counted:?}",
                        route.name, route.round_trips
                    ));
                }
            }
            mismatches
        });
    }
    let mut mismatches = Vec::new();
    while let Some(result) = checks.join_next().await {
        mismatches.extend(result.expect("a route count does not panic"));
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

#[tokio::test]
async fn a_made_up_key_costs_one_read_and_no_write() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    let made_up = shared::domain::api_key::ApiKeySecret::generate().reveal_once();
    let path = format!("/api/workspaces/{}", fixture.ws());
    for _ in 0..3 {
        stack.round_trips.reset();
        let (status, _) = stack.call(Method::GET, &path, Some(&made_up), None).await;
        assert_eq!(status.as_u16(), 401);
        assert_eq!(
            stack.round_trips.operations(),
            ["DynamoDB_20120810.GetItem"],
            "one read, no write"
        );
    }
    // A real key's use is recorded, but at most once an hour.
    let fresh = stack.fixture().await;
    let key = fresh.key("guest").to_owned();
    let other_path = format!("/api/workspaces/{}", fresh.ws());
    let uncached = stack.with_backends(shared::http::Backends {
        auth: std::sync::Arc::new(shared::app::authentication::Authenticator::new(
            stack.local.store.clone(),
        )),
        ..stack.backends.clone()
    });
    uncached
        .call(Method::GET, &other_path, Some(&key), None)
        .await;
    let again = stack.with_backends(shared::http::Backends {
        auth: std::sync::Arc::new(shared::app::authentication::Authenticator::new(
            stack.local.store.clone(),
        )),
        ..stack.backends.clone()
    });
    stack.round_trips.reset();
    let (status, _) = again.call(Method::GET, &other_path, Some(&key), None).await;
    assert_eq!(status.as_u16(), 200);
    let writes = stack
        .round_trips
        .operations()
        .into_iter()
        .filter(|op| op.ends_with("UpdateItem"))
        .count();
    assert_eq!(writes, 0, "a use within the hour writes nothing");
}

#[tokio::test]
async fn a_warm_read_of_an_assistant_or_a_project_is_one_batch_read() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    let paths = [
        format!(
            "/api/workspaces/{}/assistants/{}",
            fixture.ws(),
            fixture.private_assistant
        ),
        format!(
            "/api/workspaces/{}/projects/{}",
            fixture.ws(),
            fixture.project
        ),
    ];
    for path in &paths {
        for role in ["owner", "member", "guest", "outsider"] {
            let key = fixture.key(role);
            stack
                .call(Method::GET, "/api/workspaces", Some(key), None)
                .await;
            stack.round_trips.reset();
            stack.call(Method::GET, path, Some(key), None).await;
            assert_eq!(
                stack.round_trips.operations(),
                ["DynamoDB_20120810.BatchGetItem"],
                "{path} as {role}: the membership and the item in one read"
            );
        }
    }
}
