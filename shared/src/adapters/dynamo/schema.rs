//! The table's definition, for the local stack and tests. `template.yaml`
//! declares the same table for AWS; a test checks the two agree.

use super::keys::{GSI1, GSI1PK, GSI1SK, PK, SK};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};

/// Key attributes of the table and its indexes, as (index, hash, range).
/// `None` is the table itself.
pub const KEY_SCHEMA: &[(Option<&str>, &str, &str)] =
    &[(None, PK, SK), (Some(GSI1), GSI1PK, GSI1SK)];

fn element(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("attribute name and key type are set")
}

fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute name and type are set")
}

/// Creates the table unless it exists. Local use only: in AWS the template
/// owns the table.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), super::StoreError> {
    if client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let index = GlobalSecondaryIndex::builder()
        .index_name(GSI1)
        .key_schema(element(GSI1PK, KeyType::Hash))
        .key_schema(element(GSI1SK, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index name, keys and projection are set");
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(element(PK, KeyType::Hash))
        .key_schema(element(SK, KeyType::Range))
        .attribute_definitions(attribute(PK))
        .attribute_definitions(attribute(SK))
        .attribute_definitions(attribute(GSI1PK))
        .attribute_definitions(attribute(GSI1SK))
        .global_secondary_indexes(index)
        // What webhooks' events are made from: every committed change,
        // with what the item was and what it is.
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("enabled, with a view type"),
        )
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        // Made meanwhile: by another process starting on the same server,
        // or by this request's first attempt, which the SDK resent after
        // its answer came too late.
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(super::classify(error)),
    }
}
