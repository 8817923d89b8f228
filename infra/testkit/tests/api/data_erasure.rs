//! Deleting a conversation, an SMS channel or a texter, then reading every
//! record of the memory store (people shown whole): nothing of the person
//! is left. The same scenarios run on DynamoDB in `local_stack`.

use shared::adapters::memory::MemoryQueue;
use shared::jobs::ReplyJob;
use testkit::erasure::Harness;
use testkit::sms::SmsRig;
use testkit::{Api, Fixture, MemoryStack};

struct InMemory(MemoryStack);

#[async_trait::async_trait]
impl Harness for InMemory {
    fn api(&self) -> &Api {
        &self.0.api
    }

    fn sms(&self) -> (&SmsRig, &MemoryQueue<ReplyJob>) {
        (&self.0.sms, &self.0.replies)
    }

    async fn fixture(&self) -> Fixture {
        self.0.fixture().await
    }

    async fn run_cleanup(&self) {
        self.0.run_cleanup().await;
    }

    async fn raw(&self) -> String {
        self.0.store.audit_dump()
    }
}

async fn harness() -> InMemory {
    InMemory(MemoryStack::start().await)
}

testkit::erasure_tests!(harness());
