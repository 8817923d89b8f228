//! Deleting a workspace on DynamoDB while a request that passed its
//! membership check before the members went adds an assistant to it, as
//! the members go or just before the workspace itself would: the deletion
//! is refused and the members are back as they were, so its owners can
//! still delete the assistant, and then the workspace.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::json;
use shared::adapters::dynamo::DynamoStore;
use shared::domain::assistant::AssistantChanges;
use shared::domain::ids::UserId;
use shared::domain::member::{Email, User};
use shared::domain::role::Role;
use shared::domain::time::Timestamp;
use shared::domain::workspace::{NewWorkspace, Workspace, WorkspaceDeletion};
use shared::ports::{AssistantStore, WorkspaceStore};
use std::sync::atomic::{AtomicBool, Ordering};
use testkit::TestStack;

/// Creates an assistant in `workspace` the moment the deletion first
/// sends `operation` (its first batch write deletes members; its one
/// transaction deletes the workspace), as a request already past its
/// membership check would, and waits until it is stored.
#[derive(Debug)]
struct AssistantAddedMidway {
    operation: &'static str,
    aws: aws_config::SdkConfig,
    table: String,
    workspace: Workspace,
    creator: UserId,
    fired: AtomicBool,
}

impl Intercept for AssistantAddedMidway {
    fn name(&self) -> &'static str {
        "AssistantAddedMidway"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if target.rsplit('.').next() != Some(self.operation)
            || self.fired.swap(true, Ordering::SeqCst)
        {
            return Ok(());
        }
        let (aws, table) = (self.aws.clone(), self.table.clone());
        let (workspace, creator) = (self.workspace.clone(), self.creator.clone());
        // A runtime and client of its own: the deletion's is parked here
        // until the assistant is in.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
                let config = AssistantChanges {
                    name: Some("Made midway".into()),
                    ..AssistantChanges::default()
                }
                .into_new_config(&workspace.models);
                store
                    .create_assistant(&workspace.id, config, &creator)
                    .await
                    .unwrap();
            });
        })
        .join()
        .expect("the assistant is created midway");
        Ok(())
    }
}

fn person(name: &str) -> User {
    let id = UserId::generate();
    User {
        email: Email::parse(&format!("{name}.{id}@example.com")).unwrap(),
        id,
        name: name.into(),
        created_at: Timestamp::now(),
    }
}

#[tokio::test]
async fn on_dynamodb_an_assistant_added_while_the_members_go_refuses_the_deletion_and_brings_them_back()
 {
    deletion_meets_an_assistant_added_at("BatchWriteItem").await;
}

#[tokio::test]
async fn on_dynamodb_an_assistant_added_just_before_the_workspace_goes_refuses_the_deletion_and_brings_the_members_back()
 {
    deletion_meets_an_assistant_added_at("TransactWriteItems").await;
}

async fn deletion_meets_an_assistant_added_at(operation: &'static str) {
    let stack = TestStack::start().await;
    let store = stack.local.store.clone();
    let owner = person("owner");
    let owner = store.create_user(owner.email, owner.name).await.unwrap();
    let name = format!("Midway {}", owner.id);
    let workspace = store
        .create_workspace(
            NewWorkspace::from_json(json!({ "name": name })).unwrap(),
            &owner,
        )
        .await
        .unwrap();
    let admin = person("admin");
    store
        .add_member(&workspace.id, &admin, true, Role::Admin)
        .await
        .unwrap();
    let before = store.list_members(&workspace.id).await.unwrap();

    let midway = AssistantAddedMidway {
        operation,
        aws: stack.local.aws.clone(),
        table: stack.local.table.clone(),
        workspace: workspace.clone(),
        creator: admin.id.clone(),
        fired: AtomicBool::new(false),
    };
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&stack.local.aws)
            .interceptor(midway)
            .build(),
    );
    let deleting = DynamoStore::new(client, stack.local.table.clone());
    let deletion = deleting.delete_workspace(&workspace.id).await.unwrap();
    assert_eq!(
        deletion,
        WorkspaceDeletion::Refused {
            assistants: 1,
            projects: 0,
            webhooks: 0
        }
    );
    assert_eq!(
        store.list_members(&workspace.id).await.unwrap(),
        before,
        "the members are back as they were"
    );
    for user in [&owner.id, &admin.id] {
        let theirs = store.list_workspaces_of(user).await.unwrap();
        assert!(
            theirs.iter().any(|c| c.workspace.id == workspace.id),
            "{user} still has the workspace"
        );
    }
}
