//! DynamoDB round trips of every route for every kind of caller, with the
//! key cached as in a warm container, counted by an SDK interceptor and held
//! to the exact figures of `testkit::routes`.

use axum::http::Method;
use testkit::TestStack;
use testkit::routes::{ROLES, Route, routes};

/// Counts one route's calls as every role, each on a fixture it cannot
/// have changed for the others (allowed writes get a fresh one).
async fn count_route(stack: &TestStack, route: &Route) -> [usize; 5] {
    let mut counts = [0; 5];
    let mut shared = None;
    for (i, role) in ROLES.iter().enumerate() {
        let writes = route.statuses[i] < 300 && route.method != Method::GET;
        let fixture = match (writes, shared.take()) {
            (false, Some(fixture)) => fixture,
            _ => stack.fixture().await,
        };
        // The caller's key is cached, as in a warm container.
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
                &(route.path)(&fixture),
                Some(fixture.key(role)),
                route.body.map(|b| b(&fixture)),
            )
            .await;
        assert_eq!(
            status.as_u16(),
            route.statuses[i],
            "{} as {role}: {body}",
            route.name
        );
        counts[i] = stack.round_trips.count();
        if !writes {
            shared = Some(fixture);
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_costs_each_caller_exactly_its_round_trips() {
    // A table per route: the local server copies a whole table on every
    // transaction, so one table for all of them grows slow.
    let mut checks = tokio::task::JoinSet::new();
    for route in routes() {
        checks.spawn(async move {
            let counted = count_route(&TestStack::start().await, &route).await;
            (counted != route.round_trips).then(|| {
                format!(
                    "{}: expected {:?}, counted {counted:?}",
                    route.name, route.round_trips
                )
            })
        });
    }
    let mut mismatches = Vec::new();
    while let Some(result) = checks.join_next().await {
        mismatches.extend(result.expect("a route count does not panic"));
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}
