//! The erasure scenarios (see `testkit::erasure`) on DynamoDB: after each
//! delete and its cleanup, a scan of the whole table finds nothing of the
//! person.

use shared::adapters::memory::MemoryQueue;
use shared::jobs::ReplyJob;
use std::sync::Arc;
use testkit::erasure::Harness;
use testkit::sms::SmsRig;
use testkit::{Api, Fixture, TestStack};

struct OnDynamo {
    stack: TestStack,
    rig: SmsRig,
    replies: Arc<MemoryQueue<ReplyJob>>,
}

#[async_trait::async_trait]
impl Harness for OnDynamo {
    fn api(&self) -> &Api {
        &self.stack.api
    }

    fn sms(&self) -> (&SmsRig, &MemoryQueue<ReplyJob>) {
        (&self.rig, &self.replies)
    }

    async fn fixture(&self) -> Fixture {
        self.stack.fixture().await
    }

    async fn run_cleanup(&self) {
        self.stack.run_cleanup().await;
    }

    async fn raw(&self) -> String {
        self.stack.raw_table().await
    }
}

async fn harness() -> OnDynamo {
    let stack = TestStack::start().await;
    let (rig, replies) = stack.sms_rig().await;
    OnDynamo {
        stack,
        rig,
        replies,
    }
}

testkit::erasure_tests!(harness());

#[tokio::test]
async fn the_table_names_a_texter_by_a_keyed_hash_of_their_number_and_never_a_bare_one() {
    use sha2::Digest;
    let h = harness().await;
    let f = h.stack.fixture().await;
    h.stack.set_up_sms(&f, &f.private_assistant).await;
    let texter = "+15550106161";
    let sid = testkit::sms::message_sid();
    let (status, _) = h
        .rig
        .text(&f.private_assistant, &sid, texter, "Hello")
        .await;
    assert_eq!(status, 200);

    let raw = h.stack.raw_table().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&h.stack.local.aws);
    let keys = shared::adapters::secrets::contact_keys(&secrets, &h.stack.local.contact_secret)
        .await
        .unwrap();
    let phone = shared::domain::sms::PhoneNumber::parse(texter).unwrap();
    let named = keys.texter(&phone);
    assert!(
        raw.contains(&format!("CONTACT#{}", named.as_str())),
        "{raw}"
    );
    // What anyone holding the table alone could compute from a number.
    let digest = sha2::Sha256::digest(texter.as_bytes());
    for bytes in [12, 16, 32] {
        let bare: String = digest[..bytes].iter().map(|b| format!("{b:02x}")).collect();
        assert!(!raw.contains(&bare), "a bare hash of the number is stored");
    }
}
