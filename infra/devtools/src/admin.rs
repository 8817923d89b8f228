//! Administrative operations with no API route: bootstrapping a workspace
//! and its owner, issuing a key for any user. Used by the admin CLI and the
//! demo seed.

use shared::domain::ids::{UserId, WorkspaceId};
use shared::domain::member::{Email, User};
use shared::domain::role::Role;
use shared::domain::workspace::{ModelSettings, NewWorkspace, Workspace};
use shared::ports::{KeyStore, StoreError, WorkspaceStore};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// A user with a freshly issued key, as the CLI prints it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedKey {
    pub user_id: UserId,
    pub email: String,
    pub key_id: String,
    pub api_key: String,
}

/// Finds the user with this email or creates one.
pub async fn user_with_email<S: WorkspaceStore + KeyStore + ?Sized>(
    store: &S,
    email: &Email,
) -> Result<User, StoreError> {
    if let Some(user) = store.find_user_by_email(email).await? {
        return Ok(user);
    }
    match store
        .create_user(email.clone(), email.local_part().to_owned())
        .await
    {
        Err(StoreError::Conflict(_)) => store
            .find_user_by_email(email)
            .await?
            .ok_or(StoreError::NotFound("user")),
        other => other,
    }
}

pub async fn issue_key<S: WorkspaceStore + KeyStore + ?Sized>(
    store: &S,
    user: &User,
    name: &str,
) -> Result<IssuedKey, StoreError> {
    let (key, secret) = store.create_api_key(&user.id, name.to_owned()).await?;
    Ok(IssuedKey {
        user_id: user.id.clone(),
        email: user.email.as_str().to_owned(),
        key_id: key.id.to_string(),
        api_key: secret.reveal_once(),
    })
}

/// A new workspace owned by the user with `owner_email` (created if new),
/// and a key for that owner.
pub async fn bootstrap_workspace<S: WorkspaceStore + KeyStore + ?Sized>(
    store: &S,
    name: &str,
    owner_email: &Email,
    models: Option<ModelSettings>,
) -> Result<(Workspace, IssuedKey), AdminError> {
    let owner = user_with_email(store, owner_email).await?;
    let defaults =
        NewWorkspace::from_json(serde_json::json!({ "name": name })).map_err(|errors| {
            let problems: Vec<String> = errors.iter().map(|(f, m)| format!("{f} {m}")).collect();
            AdminError::Invalid(problems.join("; "))
        })?;
    let new = NewWorkspace {
        models: models.unwrap_or(defaults.models),
        ..defaults
    };
    let workspace = store.create_workspace(new, &owner).await?;
    let key = issue_key(store, &owner, "bootstrap").await?;
    Ok((workspace, key))
}

/// Adds an existing or new user to a workspace with a role, and issues a key.
pub async fn add_member_with_key<S: WorkspaceStore + KeyStore + ?Sized>(
    store: &S,
    workspace: &WorkspaceId,
    email: &Email,
    role: Role,
) -> Result<IssuedKey, StoreError> {
    let user = user_with_email(store, email).await?;
    store.add_member(workspace, &user, false, role).await?;
    issue_key(store, &user, "bootstrap").await
}
