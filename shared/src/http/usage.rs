//! `/api/workspaces/{ws}/usage` and the budgets
//! (`/api/workspaces/{ws}/budget`, `/api/workspaces/{ws}/assistants/{id}/budget`),
//! for owners and admins.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::WorkspacesState;
use crate::app::usage::{self, UsagePorts, UsageReport};
use crate::domain::ids::AssistantId;
use crate::domain::usage::{Budget, Counted, Spend};
use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Serialize;
use std::collections::HashMap;

pub const USAGE: &str = workspace_path!("/usage");
pub const WORKSPACE_BUDGET: &str = workspace_path!("/budget");
pub const ASSISTANT_BUDGET: &str = workspace_path!("/assistants/{assistant_id}/budget");

pub fn routes() -> Router<WorkspacesState> {
    Router::new()
        .route(USAGE, get(read_usage))
        .route(
            WORKSPACE_BUDGET,
            get(workspace_budget).put(set_workspace_budget),
        )
        .route(
            ASSISTANT_BUDGET,
            get(assistant_budget).put(set_assistant_budget),
        )
}

/// What a month has counted against a budget.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct MonthUsageView {
    /// `YYYY-MM`, UTC.
    month: String,
    /// Model and embedding tokens.
    tokens: u64,
    /// Segments received and sent.
    sms_segments: u64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct BudgetView {
    /// Tokens a month may use; null for no cap.
    monthly_token_limit: Option<u64>,
    /// SMS segments a month may use; null for no cap.
    monthly_sms_segment_limit: Option<u64>,
    /// Percentages of a cap at which a `usage.threshold_reached` event is
    /// sent, once a month each.
    alert_thresholds: Vec<u32>,
    /// What a widget visitor or a texter is told once the cap is reached;
    /// null for the default (and no text to texters).
    exhausted_message: Option<String>,
    usage: MonthUsageView,
}

impl BudgetView {
    fn of(budget: Budget, spend: Spend, month: String) -> Self {
        Self {
            monthly_token_limit: budget.monthly_token_limit,
            monthly_sms_segment_limit: budget.monthly_sms_segment_limit,
            alert_thresholds: budget.alert_thresholds,
            exhausted_message: budget.exhausted_message,
            usage: MonthUsageView {
                month,
                tokens: spend.tokens,
                sms_segments: spend.sms_segments,
            },
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelUsageView {
    model: String,
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnswersView {
    api: u64,
    widget: u64,
    sms: u64,
}

/// Counts over some days.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct CountsView {
    /// The chat models' prompt tokens, as their providers reported them.
    prompt_tokens: u64,
    completion_tokens: u64,
    /// Of those, the ones counted with the tokenizer because the provider
    /// reported none.
    estimated_tokens: u64,
    /// Tokens embedding the questions answers retrieved for.
    question_embedding_tokens: u64,
    sms_segments_in: u64,
    sms_segments_out: u64,
    /// Answers completed, per channel.
    answers: AnswersView,
    by_model: Vec<ModelUsageView>,
}

impl From<&Counted> for CountsView {
    fn from(counted: &Counted) -> Self {
        Self {
            prompt_tokens: counted.prompt_tokens(),
            completion_tokens: counted.completion_tokens(),
            estimated_tokens: counted.estimated_tokens,
            question_embedding_tokens: counted.question_embedding_tokens,
            sms_segments_in: counted.segments_in,
            sms_segments_out: counted.segments_out,
            answers: AnswersView {
                api: counted.answers_api,
                widget: counted.answers_widget,
                sms: counted.answers_sms,
            },
            by_model: counted
                .models
                .iter()
                .map(|(model, tokens)| ModelUsageView {
                    model: model.clone(),
                    prompt_tokens: tokens.prompt,
                    completion_tokens: tokens.completion,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssistantUsageView {
    assistant_id: AssistantId,
    #[serde(flatten)]
    counts: CountsView,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct DayUsageView {
    /// `YYYY-MM-DD`, UTC.
    date: String,
    #[serde(flatten)]
    counts: CountsView,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocumentUsageView {
    /// Tokens embedding the workspace's documents (charged to it, not to
    /// an assistant).
    embedding_tokens: u64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageReportView {
    /// `YYYY-MM-DD`, the first day counted.
    from: String,
    /// `YYYY-MM-DD`, the last day counted.
    to: String,
    /// Every assistant's answers (the documents apart).
    totals: CountsView,
    by_assistant: Vec<AssistantUsageView>,
    /// Every day of the period, in order.
    by_day: Vec<DayUsageView>,
    documents: DocumentUsageView,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct WorkspaceUsageView {
    data: UsageReportView,
}

impl From<UsageReport> for WorkspaceUsageView {
    fn from(report: UsageReport) -> Self {
        Self {
            data: UsageReportView {
                from: report.period.from.to_string(),
                to: report.period.to.to_string(),
                totals: CountsView::from(&report.totals),
                by_assistant: report
                    .by_assistant
                    .iter()
                    .map(|(id, counted)| AssistantUsageView {
                        assistant_id: id.clone(),
                        counts: counted.into(),
                    })
                    .collect(),
                by_day: report
                    .by_day
                    .iter()
                    .map(|(day, counted)| DayUsageView {
                        date: day.to_string(),
                        counts: counted.into(),
                    })
                    .collect(),
                documents: DocumentUsageView {
                    embedding_tokens: report.documents.document_embedding_tokens,
                },
            },
        }
    }
}

fn ports(state: &WorkspacesState) -> UsagePorts<'_> {
    UsagePorts {
        usage: state.usage.as_ref(),
        assistants: state.assistants.as_ref(),
    }
}

async fn read_usage(
    State(state): State<WorkspacesState>,
    member: Member,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<WorkspaceUsageView>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::bad_request("the query string is malformed"))?;
    let report = usage::usage_report(
        ports(&state),
        &member.workspace.id,
        &member.actor,
        &query,
        state.clock.timestamp(),
    )
    .await?;
    Ok(Json(report.into()))
}

async fn workspace_budget(
    State(state): State<WorkspacesState>,
    member: Member,
) -> Result<Json<BudgetView>, ApiError> {
    budget_of(&state, &member, None).await
}

async fn assistant_budget(
    State(state): State<WorkspacesState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
) -> Result<Json<BudgetView>, ApiError> {
    budget_of(&state, &member, Some(&assistant_id)).await
}

async fn budget_of(
    state: &WorkspacesState,
    member: &Member,
    assistant: Option<&str>,
) -> Result<Json<BudgetView>, ApiError> {
    let month = state.month();
    let (budget, spend) = usage::budget(
        ports(state),
        &member.workspace.id,
        &member.actor,
        assistant,
        month,
    )
    .await?;
    Ok(Json(BudgetView::of(budget, spend, month.to_string())))
}

async fn set_workspace_budget(
    State(state): State<WorkspacesState>,
    member: Member,
    JsonBody(body): JsonBody,
) -> Result<Json<BudgetView>, ApiError> {
    replace_budget(&state, &member, None, body).await
}

async fn set_assistant_budget(
    State(state): State<WorkspacesState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<BudgetView>, ApiError> {
    replace_budget(&state, &member, Some(&assistant_id), body).await
}

async fn replace_budget(
    state: &WorkspacesState,
    member: &Member,
    assistant: Option<&str>,
    body: serde_json::Value,
) -> Result<Json<BudgetView>, ApiError> {
    let month = state.month();
    let (budget, spend) = usage::set_budget(
        ports(state),
        &member.workspace.id,
        &member.actor,
        assistant,
        body,
        month,
    )
    .await?;
    Ok(Json(BudgetView::of(budget, spend, month.to_string())))
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::PartialSchema;
    use utoipa::openapi::HttpMethod::{Get, Put};
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let date = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
    };
    vec![
        Op::new(
            Get,
            USAGE,
            "getUsage",
            "Tokens, SMS segments and answers, per assistant and day (at most 92 days; the current month by default)",
        )
        .member()
        .managed()
        .query("from", date())
        .query("to", date())
        .query("assistantId", AssistantId::schema())
        .errors(&[400])
        .ok::<WorkspaceUsageView>(),
        Op::new(
            Get,
            WORKSPACE_BUDGET,
            "getWorkspaceBudget",
            "The workspace's monthly budget, with this month's usage",
        )
        .member()
        .managed()
        .ok::<BudgetView>(),
        Op::new(
            Put,
            WORKSPACE_BUDGET,
            "putWorkspaceBudget",
            "Replace the workspace's monthly budget (every assistant and the documents count)",
        )
        .member()
        .managed()
        .json(bodies::budget())
        .ok::<BudgetView>(),
        Op::new(
            Get,
            ASSISTANT_BUDGET,
            "getAssistantBudget",
            "The assistant's monthly budget, with this month's usage",
        )
        .member()
        .managed()
        .ok::<BudgetView>(),
        Op::new(
            Put,
            ASSISTANT_BUDGET,
            "putAssistantBudget",
            "Replace the assistant's monthly budget",
        )
        .member()
        .managed()
        .json(bodies::budget())
        .ok::<BudgetView>(),
    ]
}
