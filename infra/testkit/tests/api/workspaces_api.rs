//! Workspaces, members and API keys as a user of the API sees them.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::MemoryStack;

#[tokio::test]
async fn a_new_workspace_makes_its_creator_owner_with_a_derived_slug_and_default_models() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let key = Some(fixture.key("guest"));
    let (status, created) = stack
        .call(
            Method::POST,
            "/api/workspaces",
            key,
            Some(json!({"name": "Acme Corp Support"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["id"].as_str().unwrap().starts_with("ws_"));
    assert_eq!(created["slug"], "acme-corp-support");
    assert_eq!(created["role"], "owner");
    assert_eq!(created["memberCount"], 1);
    assert_eq!(created["assistantCount"], 0);
    assert_eq!(
        created["allowedModels"],
        json!(["gpt-4o", "gpt-4o-mini", "grok-2"])
    );
    assert_eq!(created["defaultModel"], "gpt-4o");

    let (status, again) = stack
        .call(
            Method::POST,
            "/api/workspaces",
            key,
            Some(json!({"name": "Acme Corp Support"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(
        again["slug"], created["slug"],
        "a derived slug that is taken gets a suffix"
    );

    let (status, conflict) = stack
        .call(
            Method::POST,
            "/api/workspaces",
            key,
            Some(json!({"name": "Other", "slug": "acme-corp-support"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");

    let (_, listed) = stack.call(Method::GET, "/api/workspaces", key, None).await;
    assert_eq!(
        listed["total"], 3,
        "the demo workspace and the two new ones"
    );
    let roles: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["guest", "owner", "owner"]);
}

#[tokio::test]
async fn workspace_settings_validate_models_and_assistants_follow_them() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let path = format!("/api/workspaces/{}", fixture.ws());
    let admin = Some(fixture.key("admin"));
    for (body, field) in [
        (json!({"allowedModels": []}), "allowedModels"),
        (json!({"allowedModels": ["a", "a"]}), "allowedModels"),
        (json!({"defaultModel": "not-allowed"}), "defaultModel"),
        (json!({"memberCount": 9}), "memberCount"),
        (json!({"slug": "Bad Slug"}), "slug"),
        (json!({"name": ""}), "name"),
    ] {
        let (status, error) = stack
            .call(Method::PATCH, &path, admin, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error["details"][field].is_string(), "{error}");
    }
    let (status, updated) = stack
        .call(
            Method::PATCH,
            &path,
            admin,
            Some(json!({"allowedModels": ["llama-3"], "slug": "renamed-demo"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["defaultModel"], "llama-3");
    assert_eq!(updated["slug"], "renamed-demo");
    let (status, created) = stack
        .call(
            Method::POST,
            &format!("{path}/assistants"),
            admin,
            Some(json!({"name": "Local"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["model"], "llama-3");
    let (_, workspace) = stack.call(Method::GET, &path, admin, None).await;
    assert_eq!(workspace["assistantCount"], 3);
    assert_eq!(workspace["memberCount"], 4);
}

#[tokio::test]
async fn members_are_added_by_email_and_counted() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let members = format!("/api/workspaces/{}/members", fixture.ws());
    let admin = Some(fixture.key("admin"));
    let (status, added) = stack
        .call(
            Method::POST,
            &members,
            admin,
            Some(json!({"email": "New.Person@Example.com", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["email"], "new.person@example.com");
    assert_eq!(added["role"], "member");
    assert_eq!(added["status"], "active");
    let (status, _) = stack
        .call(
            Method::POST,
            &members,
            admin,
            Some(json!({"email": "new.person@example.com", "role": "guest"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, error) = stack
        .call(
            Method::POST,
            &members,
            admin,
            Some(json!({"email": "x", "role": "king"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["details"]["email"].is_string() && error["details"]["role"].is_string());
    let (status, _) = stack
        .call(
            Method::POST,
            &members,
            admin,
            Some(json!({"email": "boss@example.com", "role": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins cannot make owners");

    // The outsider, an existing user, joins with the key they already have.
    let (status, _) = stack
        .call(
            Method::POST,
            &members,
            admin,
            Some(json!({"email": "outsider@demo.illumichat.local", "role": "guest"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}/assistants", fixture.ws()),
            Some(fixture.key("outsider")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = stack.call(Method::GET, &members, admin, None).await;
    assert_eq!(listed["total"], 6);
    let (_, workspace) = stack
        .call(
            Method::GET,
            &format!("/api/workspaces/{}", fixture.ws()),
            admin,
            None,
        )
        .await;
    assert_eq!(workspace["memberCount"], 6);
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_suspended_nor_removed() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    let me = format!(
        "/api/workspaces/{}/members/{}",
        fixture.ws(),
        fixture.user("owner")
    );
    for body in [json!({"role": "admin"}), json!({"status": "suspended"})] {
        let (status, error) = stack.call(Method::PATCH, &me, owner, Some(body)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{error}");
        assert!(error["error"].as_str().unwrap().contains("owner"));
    }
    let (status, _) = stack.call(Method::DELETE, &me, owner, None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // With a second owner the first may step down.
    let admin_path = format!(
        "/api/workspaces/{}/members/{}",
        fixture.ws(),
        fixture.user("admin")
    );
    let (status, _) = stack
        .call(
            Method::PATCH,
            &admin_path,
            Some(fixture.key("admin")),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin cannot promote themselves"
    );
    let (status, _) = stack
        .call(
            Method::PATCH,
            &admin_path,
            owner,
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, demoted) = stack
        .call(Method::PATCH, &me, owner, Some(json!({"role": "member"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(demoted["role"], "member");
    let (status, _) = stack
        .call(
            Method::DELETE,
            &admin_path,
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the new owner is now the last one"
    );
}

#[tokio::test]
async fn a_removed_member_loses_access_at_once() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let assistants = format!("/api/workspaces/{}/assistants", fixture.ws());
    let (status, _) = stack
        .call(Method::GET, &assistants, Some(fixture.key("member")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!(
                "/api/workspaces/{}/members/{}",
                fixture.ws(),
                fixture.user("member")
            ),
            Some(fixture.key("admin")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .call(Method::GET, &assistants, Some(fixture.key("member")), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_keys_are_shown_once_listed_without_secrets_and_die_when_revoked() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let member = Some(fixture.key("member"));
    let (status, created) = stack
        .call(
            Method::POST,
            "/api/api-keys",
            member,
            Some(json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ic_") && secret.len() == 43);
    assert_eq!(created["prefix"], &secret[..7]);

    let (status, _) = stack
        .call(Method::GET, "/api/workspaces", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = stack.call(Method::GET, "/api/api-keys", member, None).await;
    let listed_text = listed.to_string();
    assert!(
        !listed_text.contains(&secret[3..]),
        "a listing never carries a secret"
    );
    assert!(!listed_text.contains(&fixture.key("member")[3..]));
    assert_eq!(listed["total"], 2);
    let fresh = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == created["id"])
        .unwrap();
    assert!(fresh["lastUsedAt"].is_string(), "use is recorded: {fresh}");
    assert_eq!(fresh["revokedAt"], Value::Null);

    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/api/api-keys/{}", created["id"].as_str().unwrap()),
            member,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .call(Method::GET, "/api/workspaces", Some(&secret), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "dead at once where it was revoked"
    );
    let (_, listed) = stack.call(Method::GET, "/api/api-keys", member, None).await;
    let revoked = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == created["id"])
        .unwrap();
    assert!(revoked["revokedAt"].is_string());

    let (status, _) = stack
        .call(Method::POST, "/api/api-keys", member, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_key_revoked_elsewhere_dies_once_the_cache_forgets_it() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    // Another container: its own state, so its own key cache.
    let other = stack.another_container();
    let guest = fixture.key("guest");
    let (status, _) = other
        .call(Method::GET, "/api/workspaces", Some(guest), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, keys) = stack
        .call(Method::GET, "/api/api-keys", Some(guest), None)
        .await;
    let id = keys["data"][0]["id"].as_str().unwrap();
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/api/api-keys/{id}"),
            Some(guest),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = other
        .call(Method::GET, "/api/workspaces", Some(guest), None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "still cached in the other container"
    );
    let fresh = stack.another_container();
    let (status, _) = fresh
        .call(Method::GET, "/api/workspaces", Some(guest), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a container without it in cache refuses it"
    );
}

#[tokio::test]
async fn a_guest_sees_members_names_and_roles_but_not_their_emails() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let members = format!("/api/workspaces/{}/members", fixture.ws());
    for (role, sees_emails) in [
        ("owner", true),
        ("admin", true),
        ("member", true),
        ("guest", false),
    ] {
        let (status, page) = stack
            .call(Method::GET, &members, Some(fixture.key(role)), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let data = page["data"].as_array().unwrap();
        assert_eq!(data.len(), 4, "{page}");
        for member in data {
            assert!(member["name"].is_string() && member["role"].is_string());
            assert_eq!(
                member.get("email").is_some(),
                sees_emails,
                "{role}: {member}"
            );
        }
    }
}

#[tokio::test]
async fn removing_a_member_removes_their_grants_so_adding_them_back_grants_nothing() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let ws = f.ws();
    let owner = f.key("owner");
    let member = f.user("member").to_owned();
    let private = format!("/api/workspaces/{ws}/assistants/{}", f.private_assistant);
    let project = format!("/api/workspaces/{ws}/projects/{}", f.project);
    for path in [&private, &project] {
        let (status, _) = stack
            .call(Method::GET, path, Some(f.key("member")), None)
            .await;
        assert_eq!(status, StatusCode::OK, "the grant works: {path}");
    }
    let (status, _) = stack
        .call(
            Method::DELETE,
            &format!("/api/workspaces/{ws}/members/{member}"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = stack
        .call(
            Method::POST,
            &format!("/api/workspaces/{ws}/members"),
            Some(owner),
            Some(json!({"email": "member@demo.illumichat.local", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["userId"], member.as_str(), "the same person");
    for path in [&private, &project] {
        let (status, _) = stack
            .call(Method::GET, path, Some(f.key("member")), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no old grant: {path}");
        let (_, grants) = stack
            .call(Method::GET, &format!("{path}/access"), Some(owner), None)
            .await;
        assert!(
            grants["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|g| g["userId"] != member.as_str()),
            "{grants}"
        );
    }
}

#[tokio::test]
async fn an_owner_deletes_a_workspace_once_it_is_emptied_and_its_members_lose_it_at_once() {
    let stack = MemoryStack::start().await;
    let fixture = stack.fixture().await;
    let owner = Some(fixture.key("owner"));
    let (status, created) = stack
        .call(
            Method::POST,
            "/api/workspaces",
            owner,
            Some(json!({"name": "Pop-up shop", "slug": "pop-up-shop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/api/workspaces/{}", created["id"].as_str().unwrap());
    // The outsider of the demo workspace is this one's admin.
    let admin = Some(fixture.key("outsider"));
    let (status, _) = stack
        .call(
            Method::POST,
            &format!("{path}/members"),
            owner,
            Some(json!({"email": "outsider@demo.illumichat.local", "role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, bot) = stack
        .call(
            Method::POST,
            &format!("{path}/assistants"),
            admin,
            Some(json!({"name": "Pop-up helper"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bot}");

    let (status, refused) = stack.call(Method::DELETE, &path, admin, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("only owners"));
    let (status, refused) = stack.call(Method::DELETE, &path, owner, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "conflict:api");
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("still has 1 assistant:") && error.contains("nothing was deleted"),
        "{error}"
    );
    let (status, kept) = stack.call(Method::GET, &path, admin, None).await;
    assert_eq!(status, StatusCode::OK, "a refusal deletes nothing");
    assert_eq!(kept["memberCount"], 2);

    let bot = format!("{path}/assistants/{}", bot["id"].as_str().unwrap());
    let (status, _) = stack.call(Method::DELETE, &bot, admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = stack.call(Method::DELETE, &path, owner, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for caller in [owner, admin] {
        let (status, _) = stack.call(Method::GET, &path, caller, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, theirs) = stack
            .call(Method::GET, "/api/workspaces", caller, None)
            .await;
        assert_eq!(status, StatusCode::OK, "their keys still work");
        assert!(
            theirs["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|w| w["slug"] != "pop-up-shop"),
            "{theirs}"
        );
    }
    let (status, _) = stack.call(Method::DELETE, &path, owner, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone is gone");
    let (status, again) = stack
        .call(
            Method::POST,
            "/api/workspaces",
            owner,
            Some(json!({"name": "Pop-up shop", "slug": "pop-up-shop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the slug is free: {again}");
}
