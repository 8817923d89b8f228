//! The OpenAPI 3.1 document of every route, built with utoipa: answers
//! from the views' derived schemas, bodies from the domain's limits
//! (`bodies`), operations declared beside their routes by each module
//! (gathered in `http::api_document`, which nothing here imports, so no
//! module's routes and this builder import each other).

pub(crate) mod bodies;
pub mod kinds;
pub(crate) mod route_table;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
};
use utoipa::{PartialSchema, ToSchema};

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// One operation being described.
pub struct Op {
    pub method: HttpMethod,
    pub path: String,
    pub(crate) operation: OperationBuilder,
    pub(crate) responses: Vec<(String, ResponseBuilder)>,
    pub(crate) schemas: Vec<(String, RefOr<Schema>)>,
}

fn schema_ref<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn error_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What went wrong, for a person")),
        )
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("`<type>:<context>`, e.g. `not_found:api`")),
        )
        .property(
            "details",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("Field name -> what is wrong with it (400s only)"))
                .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::RefOr(
                    ObjectBuilder::new().schema_type(Type::String).into(),
                ))),
        )
        .required("error")
        .required("code")
        .into()
}

fn content(schema: impl Into<RefOr<Schema>>) -> ContentBuilder {
    ContentBuilder::new().schema(Some(schema))
}

fn parameter(
    name: &str,
    place: ParameterIn,
    required: bool,
    schema: impl Into<RefOr<Schema>>,
) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .schema(Some(schema))
}

fn error_response(status: u16) -> ResponseBuilder {
    let description = match status {
        400 => "The request is malformed; `details` names each bad field",
        401 => "No valid credentials",
        403 => "Authenticated, but not allowed",
        404 => "Nothing there the caller may see",
        406 => "None of the accepted media types can be answered",
        409 => "The request conflicts with what is stored",
        413 => "The body is too large",
        429 => "Too many requests; try again after `Retry-After` when given",
        502 => "An outside service answered something unusable",
        503 => "A dependency is unavailable; try again after `Retry-After`",
        _ => "An error",
    };
    let response = ResponseBuilder::new()
        .description(description)
        .content(JSON, content(Ref::from_schema_name("Error")).build());
    let seconds = || {
        HeaderBuilder::new().schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1.0)),
        ))
    };
    match status {
        503 => response.header("Retry-After", seconds().build()),
        429 => response.header("Retry-After", seconds().build()),
        401 => response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        ),
        _ => response,
    }
}

/// The schema of a path parameter, by its name in the route.
fn path_parameter(name: &str) -> RefOr<Schema> {
    use crate::domain::ids::*;
    match name {
        "workspace_id" => WorkspaceId::schema(),
        "assistant_id" => AssistantId::schema(),
        "project_id" => ProjectId::schema(),
        "document_id" => DocumentId::schema(),
        "conversation_id" => ConversationId::schema(),
        "user_id" => UserId::schema(),
        "key_id" => ApiKeyId::schema(),
        "webhook_id" => WebhookId::schema(),
        "delivery_id" => DeliveryId::schema(),
        // E.164, its + URL-encoded (%2B).
        "phone_number" => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^\\+[1-9][0-9]{7,14}$"))
            .into(),
        other => unreachable!("no schema for the path parameter {other}"),
    }
}

fn list_of<T: ToSchema>() -> RefOr<Schema> {
    ArrayBuilder::new().items(schema_ref::<T>()).into()
}

/// `{data: ...}`: the envelope of unpaged lists and of the SMS answers.
fn in_data(schema: RefOr<Schema>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("data", schema)
        .required("data")
}

impl Op {
    pub(crate) fn new(method: HttpMethod, path: &str, id: &str, summary: &str) -> Self {
        // Grouped by what the path is about: its first named segment after
        // the workspace, if it goes past the workspace.
        let within = path
            .strip_prefix(super::path::WORKSPACE)
            .and_then(|rest| rest.strip_prefix('/'));
        let tag = within
            .unwrap_or(path.trim_start_matches("/api/"))
            .split('/')
            .next()
            .unwrap_or("workspaces")
            .to_owned();
        let mut operation = OperationBuilder::new()
            .operation_id(Some(id))
            .summary(Some(summary))
            .tag(tag);
        for name in path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        {
            operation = operation.parameter(parameter(
                name,
                ParameterIn::Path,
                true,
                path_parameter(name),
            ));
        }
        Self {
            method,
            path: path.to_owned(),
            operation,
            responses: Vec::new(),
            schemas: Vec::new(),
        }
    }

    pub(crate) fn respond(mut self, status: u16, response: ResponseBuilder) -> Self {
        self.responses.push((status.to_string(), response));
        self
    }

    pub fn errors(mut self, statuses: &[u16]) -> Self {
        for status in statuses {
            self = self.respond(*status, error_response(*status));
        }
        self
    }

    /// Any valid API key (`Authorization: Bearer ic_...`).
    pub(crate) fn signed_in(mut self) -> Self {
        self.operation = self
            .operation
            .security(SecurityRequirement::new("apiKey", Vec::<String>::new()));
        self.errors(&[401, 429, 503])
    }

    /// An active member of the workspace in the path.
    pub(crate) fn member(self) -> Self {
        self.signed_in().errors(&[404])
    }

    /// Owners and admins only (or what the route's rules allow).
    pub(crate) fn managed(self) -> Self {
        self.errors(&[403])
    }

    /// The public widget: the assistant must serve it to the request's
    /// origin.
    pub(crate) fn widget(self) -> Self {
        self.errors(&[403, 404, 429, 503])
    }

    /// A visitor's widget session token.
    pub(crate) fn visitor(mut self) -> Self {
        self.operation = self.operation.security(SecurityRequirement::new(
            "widgetToken",
            Vec::<String>::new(),
        ));
        self.errors(&[401])
    }

    /// Twilio's signed form posts.
    pub(crate) fn twilio(mut self) -> Self {
        self.operation = self.operation.parameter(parameter(
            "X-Twilio-Signature",
            ParameterIn::Header,
            true,
            ObjectBuilder::new().schema_type(Type::String),
        ));
        self = self.body(
            "application/x-www-form-urlencoded",
            bodies::twilio_form(),
            true,
        );
        self.errors(&[400, 403, 404, 413, 503])
    }

    pub(crate) fn query(mut self, name: &str, schema: impl Into<RefOr<Schema>>) -> Self {
        self.operation =
            self.operation
                .parameter(parameter(name, ParameterIn::Query, false, schema));
        self
    }

    /// `limit` (default 25, above 100 taken as 100) and `offset`.
    pub(crate) fn paged(self) -> Self {
        let count = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0.0))
                .maximum(Some(crate::http::paging::MAX_NUMBER as f64))
        };
        self.query("limit", count())
            .query("offset", count())
            .errors(&[400])
    }

    pub(crate) fn query_enum(self, name: &str, values: &[&str]) -> Self {
        self.query(
            name,
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied())),
        )
    }

    pub(crate) fn query_string(self, name: &str) -> Self {
        self.query(name, ObjectBuilder::new().schema_type(Type::String))
    }

    pub(crate) fn body(
        mut self,
        content_type: &str,
        schema: RefOr<Schema>,
        required: bool,
    ) -> Self {
        self.operation = self.operation.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(if required {
                    Required::True
                } else {
                    Required::False
                }))
                .content(content_type, content(schema).build())
                .build(),
        ));
        self
    }

    pub(crate) fn json(self, schema: RefOr<Schema>) -> Self {
        self.body(JSON, schema, true).errors(&[400, 413])
    }

    pub(crate) fn optional_json(self, schema: RefOr<Schema>) -> Self {
        self.body(JSON, schema, false)
    }

    pub(crate) fn multipart(self, schema: RefOr<Schema>) -> Self {
        self.body("multipart/form-data", schema, true)
    }

    pub(crate) fn register<T: ToSchema>(&mut self) {
        self.schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(&mut self.schemas);
    }

    pub(crate) fn json_answer(self, status: u16, description: &str, schema: RefOr<Schema>) -> Self {
        self.respond(
            status,
            ResponseBuilder::new()
                .description(description)
                .content(JSON, content(schema).build()),
        )
    }

    pub(crate) fn ok<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        self.json_answer(200, "OK", schema_ref::<T>())
    }

    pub(crate) fn created<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        self.json_answer(201, "Created", schema_ref::<T>())
    }

    /// The list envelope `{data, total, limit, offset}`.
    pub(crate) fn ok_page<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        let count = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0.0))
        };
        let page = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("data", list_of::<T>())
            .property("total", count())
            .property("limit", count())
            .property("offset", count())
            .required("data")
            .required("total")
            .required("limit")
            .required("offset");
        self.json_answer(200, "One page of the list", page.into())
    }

    /// The SMS routes' envelope, `{data: T}`, as the seed shows it.
    pub(crate) fn ok_data<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        self.json_answer(200, "OK, in `data`", in_data(schema_ref::<T>()).into())
    }

    /// `{data: [...]}`, unpaged.
    pub(crate) fn ok_list<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        self.json_answer(200, "The list", in_data(list_of::<T>()).into())
    }

    pub(crate) fn ok_as<T: ToSchema>(mut self, description: &str) -> Self {
        self.register::<T>();
        self.json_answer(200, description, schema_ref::<T>())
    }

    pub(crate) fn created_as<T: ToSchema>(mut self, description: &str) -> Self {
        self.register::<T>();
        self.json_answer(201, description, schema_ref::<T>())
    }

    /// 202: taken, and done in the background.
    pub(crate) fn accepted<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        self.json_answer(202, "Accepted; done in the background", schema_ref::<T>())
    }

    pub(crate) fn no_content(self) -> Self {
        self.no_content_as("Done; no body")
    }

    pub(crate) fn no_content_as(self, description: &str) -> Self {
        self.respond(204, ResponseBuilder::new().description(description))
    }

    /// Twilio's expected answer: empty TwiML (nothing texted back here).
    pub(crate) fn twiml(self, description: &str) -> Self {
        self.respond(
            200,
            ResponseBuilder::new().description(description).content(
                "text/xml",
                content(ObjectBuilder::new().schema_type(Type::String)).build(),
            ),
        )
    }

    /// An answer: streamed as Server-Sent Events (200), or whole as JSON
    /// (201) when the request accepts only `application/json`.
    pub(crate) fn answered<T: ToSchema>(mut self) -> Self {
        self.register::<T>();
        let stream = ResponseBuilder::new()
            .description(
                "The answer as it is written: `sources`, `delta`..., then `done` (or `error`)",
            )
            .content(
                EVENT_STREAM,
                content(ObjectBuilder::new().schema_type(Type::String)).build(),
            );
        self.respond(200, stream).json_answer(
            201,
            "The question and the answer, both stored",
            schema_ref::<T>(),
        )
    }

    /// A link from the first success answer to another operation.
    pub(crate) fn link(mut self, operation_id: &str, parameters: &[(&str, &str)]) -> Self {
        let mut link = LinkBuilder::new().operation_id(operation_id);
        for (name, value) in parameters {
            link = link.parameter(*name, *value);
        }
        let (_, success) = self
            .responses
            .iter_mut()
            .find(|(status, _)| status.starts_with('2'))
            .expect("a link follows a success answer");
        *success =
            std::mem::replace(success, ResponseBuilder::new()).link(operation_id, link.build());
        self
    }
}

pub fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Head => "HEAD",
        HttpMethod::Trace => "TRACE",
    }
}

/// The document of `ops`.
pub(crate) fn build(ops: Vec<Op>) -> OpenApi {
    let mut paths = Paths::new();
    let mut components = ComponentsBuilder::new()
        .schema("Error", error_schema())
        .security_scheme(
            "apiKey",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .security_scheme(
            "widgetToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Widget <token>`, the token `init` answered",
            ))),
        );
    for op in ops {
        for (name, schema) in op.schemas {
            components = components.schema(name, schema);
        }
        let mut operation = op.operation;
        for (status, response) in op.responses {
            operation = operation.response(status, response.build());
        }
        paths.add_path_operation(&op.path, vec![op.method], operation.build());
    }
    let info = InfoBuilder::new()
        .title("IllumiChat API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Assistants, knowledge projects, conversations and their SMS and widget channels. \
             Every route but the widget's and Twilio's needs `Authorization: Bearer <API key>`.",
        ))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components.build()))
        .build()
}
