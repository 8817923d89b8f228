//! What every contract check starts from: users, a workspace of its own
//! (its slug unique to the run), members, an assistant and a project.

use serde_json::json;
use shared::domain::assistant::{Assistant, AssistantChanges};
use shared::domain::ids::{AssistantId, UserId};
use shared::domain::member::{Email, User};
use shared::domain::project::{Project, ProjectChanges, ProjectVisibility};
use shared::domain::role::Role;
use shared::domain::time::Timestamp;
use shared::domain::workspace::{NewWorkspace, Workspace};
use shared::ports::{AssistantStore, ProjectStore, WorkspaceStore};

pub(crate) fn email(name: &str) -> Email {
    Email::parse(&format!("{name}@contract.test")).unwrap()
}

pub(crate) fn new_workspace(name: &str, slug: Option<&str>) -> NewWorkspace {
    let mut body = json!({ "name": name });
    if let Some(slug) = slug {
        body["slug"] = json!(slug);
    }
    NewWorkspace::from_json(body).unwrap()
}

/// A workspace whose slug is unique to this run, and its owner.
pub(crate) async fn workspace<S: ?Sized + WorkspaceStore>(store: &S) -> (Workspace, User) {
    let unique = UserId::generate().to_string();
    let owner = store
        .create_user(email(&unique), "Owner".into())
        .await
        .unwrap();
    let workspace = store
        .create_workspace(new_workspace(&format!("Contract {unique}"), None), &owner)
        .await
        .unwrap();
    (workspace, owner)
}

pub(crate) async fn member<S: ?Sized + WorkspaceStore>(
    store: &S,
    ws: &Workspace,
    role: Role,
) -> User {
    let user = User {
        id: UserId::generate(),
        email: email(&UserId::generate().to_string()),
        name: "Member".into(),
        created_at: Timestamp::now(),
    };
    store.add_member(&ws.id, &user, true, role).await.unwrap();
    user
}

pub(crate) async fn assistant<S: ?Sized + WorkspaceStore + AssistantStore>(
    store: &S,
    ws: &Workspace,
    creator: &User,
) -> Assistant {
    let config = AssistantChanges {
        name: Some("Contract bot".into()),
        ..AssistantChanges::default()
    }
    .into_new_config(&ws.models);
    store
        .create_assistant(&ws.id, config, &creator.id)
        .await
        .unwrap()
}

pub(crate) async fn project<S: ?Sized + WorkspaceStore + ProjectStore>(
    store: &S,
    ws: &Workspace,
    creator: &User,
) -> Project {
    let changes = ProjectChanges {
        name: Some("Contract docs".into()),
        description: None,
        visibility: Some(ProjectVisibility::Private),
    };
    store
        .create_project(&ws.id, changes, &creator.id)
        .await
        .unwrap()
}

pub(crate) async fn project_count<S: ?Sized + WorkspaceStore + AssistantStore>(
    store: &S,
    ws: &Workspace,
    who: &User,
    id: &AssistantId,
) -> u32 {
    store
        .get_assistant_for(&ws.id, id, &who.id)
        .await
        .unwrap()
        .unwrap()
        .item
        .project_count
}

pub(crate) async fn counts<S: ?Sized + WorkspaceStore>(
    store: &S,
    ws: &Workspace,
    who: &User,
) -> (u32, u32) {
    let context = store
        .workspace_context(&ws.id, &who.id)
        .await
        .unwrap()
        .unwrap();
    (
        context.workspace.member_count,
        context.workspace.assistant_count,
    )
}
