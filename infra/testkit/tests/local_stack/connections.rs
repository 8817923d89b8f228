//! Connection counts under concurrency, on DynamoDB (the local server).

use testkit::TestStack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_connects_and_disconnects_leave_the_count_exact() {
    let stack = TestStack::start().await;
    let fixture = stack.fixture().await;
    testkit::scenarios::fifty_concurrent_connects_and_disconnects(&stack.api, &fixture).await;
}
