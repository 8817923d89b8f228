//! The admin CLI: what has no API route because it comes before any key
//! exists, or is the operator's (a workspace's deletion on request, the
//! dead letters). Prints JSON. Talks to whatever the standard AWS settings
//! name (the local stack by default; a real account when configured).
//!
//!   admin bootstrap --workspace-name "Acme" --owner-email ann@acme.com
//!   admin issue-key --email ann@acme.com [--name laptop]
//!   admin add-member --workspace ws_... --email bob@acme.com --role admin
//!   admin delete-workspace --workspace ws_...
//!   admin dlq list [--prefix <stack>] | admin dlq redrive <queue>

use clap::{Parser, Subcommand};
use devtools::admin::{AdminError, add_member_with_key, bootstrap_workspace, issue_key};
use devtools::dead_letters;
use shared::adapters::dynamo::DynamoStore;
use shared::domain::ids::WorkspaceId;
use shared::domain::member::Email;
use shared::domain::role::{MemberStatus, Role};
use shared::domain::workspace::WorkspaceDeletion;
use shared::ports::{StoreError, WorkspaceStore};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "admin", about = "IllumiChat administration (prints JSON)")]
struct Cli {
    /// The DynamoDB table (the deployed stack's TableName output).
    #[arg(long, env = "TABLE_NAME", default_value = "illumichat")]
    table: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a workspace owned by the user with this email (created if
    /// new) and issues that owner an API key.
    Bootstrap {
        #[arg(long)]
        workspace_name: String,
        #[arg(long)]
        owner_email: String,
    },
    /// Issues a new API key to an existing user.
    IssueKey {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "admin-cli")]
        name: String,
    },
    /// Adds a user (created if new) to a workspace and issues them a key.
    AddMember {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["owner", "admin", "member", "guest"])]
        role: String,
    },
    /// Deletes a workspace whose assistants, projects and webhooks are gone
    /// (deleted through the API, which runs their cascades): its members,
    /// its usage history, budgets and alerts, its slug and itself.
    /// Refused, deleting nothing, while any of those is left.
    DeleteWorkspace {
        #[arg(long)]
        workspace: String,
    },
    /// The dead-letter queues: what failed, and sending it back.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Each dead-letter queue of the stack: its count, its oldest message,
    /// and each shown message's ids (never a body, a number or a token).
    List {
        /// What the stack's queue names start with (its stack name in AWS;
        /// `illumichat` for the dev stack).
        #[arg(long, env = "QUEUE_PREFIX", default_value = "illumichat")]
        prefix: String,
    },
    /// Moves a dead-letter queue's messages back to the queue they failed
    /// on (SQS's message move task), and waits for it to empty.
    Redrive {
        /// The dead-letter queue's name or URL.
        queue: String,
        /// How long to wait for the queue to empty, in seconds.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
}

fn parse_email(value: &str) -> Result<Email, AdminError> {
    Email::parse(value)
        .ok_or_else(|| AdminError::Invalid(format!("'{value}' is not an email address")))
}

async fn dead_letter_command(
    aws: &aws_config::SdkConfig,
    command: DlqCommand,
) -> Result<serde_json::Value, AdminError> {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let answer = match command {
        DlqCommand::List { prefix } => dead_letters::list(&sqs, &prefix)
            .await
            .map(|queues| serde_json::json!({ "queues": queues })),
        DlqCommand::Redrive { queue, wait } => {
            dead_letters::redrive(&sqs, &queue, std::time::Duration::from_secs(wait))
                .await
                .map(|redriven| serde_json::to_value(redriven).expect("serializable"))
        }
    };
    answer.map_err(|error| AdminError::Invalid(error.to_string()))
}

async fn run(cli: Cli) -> Result<serde_json::Value, AdminError> {
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), cli.table);
    match cli.command {
        Command::Dlq { command } => dead_letter_command(&aws, command).await,
        Command::Bootstrap {
            workspace_name,
            owner_email,
        } => {
            let email = parse_email(&owner_email)?;
            let (workspace, key) =
                bootstrap_workspace(&store, &workspace_name, &email, None).await?;
            Ok(serde_json::json!({ "workspaceId": workspace.id, "owner": key }))
        }
        Command::IssueKey { email, name } => {
            let email = parse_email(&email)?;
            let user = store.find_user_by_email(&email).await?.ok_or_else(|| {
                AdminError::Invalid(format!("no user has the email {}", email.as_str()))
            })?;
            Ok(serde_json::to_value(issue_key(&store, &user, &name).await?).expect("serializable"))
        }
        Command::DeleteWorkspace { workspace } => {
            let id = WorkspaceId::parse(&workspace).ok_or_else(|| {
                AdminError::Invalid(format!("'{workspace}' is not a workspace id"))
            })?;
            match store.delete_workspace(&id).await {
                Ok(WorkspaceDeletion::Deleted { records }) => Ok(
                    serde_json::json!({ "workspaceId": id, "deleted": true, "records": records }),
                ),
                Ok(refused) => Err(AdminError::Invalid(format!(
                    "{id}: {}",
                    refused.refusal().unwrap_or_default()
                ))),
                Err(StoreError::NotFound(_)) => Err(AdminError::Invalid(format!(
                    "there is no workspace {id} (already deleted?)"
                ))),
                Err(error) => Err(error.into()),
            }
        }
        Command::AddMember {
            workspace,
            email,
            role,
        } => {
            let email = parse_email(&email)?;
            let role = Role::parse(&role).expect("clap allows only the four roles");
            let id = WorkspaceId::parse(&workspace).ok_or_else(|| {
                AdminError::Invalid(format!("'{workspace}' is not a workspace id"))
            })?;
            let key = add_member_with_key(&store, &id, &email, role).await?;
            Ok(
                serde_json::json!({ "workspaceId": id, "role": role, "status": MemberStatus::Active, "member": key }),
            )
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(output) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&output).expect("serializable")
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{}", serde_json::json!({ "error": message }));
            ExitCode::FAILURE
        }
    }
}
