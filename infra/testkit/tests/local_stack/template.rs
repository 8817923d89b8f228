//! `template.yaml` and the code must describe the same thing: every API
//! route in the template has a sample event and vice versa, and the table's
//! keys are the ones the adapter uses.

use serde_json::Value;
use shared::adapters::dynamo::schema::KEY_SCHEMA;
use std::collections::BTreeSet;
use testkit::events::event_files;

fn template() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    std::fs::read_to_string(path).expect("template.yaml is readable")
}

/// (function logical id, path, METHOD) for every `Type: Api` event.
fn template_routes(template: &str) -> BTreeSet<(String, String, String)> {
    let mut routes = BTreeSet::new();
    let mut function = String::new();
    let mut path = None;
    for line in template.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 2 && trimmed.ends_with(':') {
            function = trimmed.trim_end_matches(':').to_owned();
        } else if let Some(p) = trimmed.strip_prefix("Path: ") {
            path = Some(p.to_owned());
        } else if let Some(m) = trimmed.strip_prefix("Method: ")
            && let Some(p) = path.take()
        {
            routes.insert((function.clone(), p, m.to_uppercase()));
        }
    }
    routes
}

fn event_routes(folder: &str, function: &str) -> BTreeSet<(String, String, String)> {
    event_files(folder)
        .into_iter()
        .map(|(_, text)| {
            let event: Value = serde_json::from_str(&text).unwrap();
            (
                function.to_owned(),
                event["resource"].as_str().unwrap().to_owned(),
                event["httpMethod"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_api_route_in_the_template_has_a_sample_event_and_no_event_lacks_a_route() {
    let mut from_events = event_routes("assistants-api", "AssistantsApiFunction");
    from_events.extend(event_routes("workspaces-api", "WorkspacesApiFunction"));
    from_events.extend(event_routes("projects-api", "ProjectsApiFunction"));
    assert_eq!(template_routes(&template()), from_events);
}

#[test]
fn the_table_in_the_template_has_the_keys_the_adapter_uses() {
    let template = template();
    for (index, hash, range) in KEY_SCHEMA {
        for (name, key_type) in [(hash, "HASH"), (range, "RANGE")] {
            assert!(
                template.contains(&format!("{{ AttributeName: {name}, KeyType: {key_type} }}")),
                "{name} {key_type} missing"
            );
            assert!(template.contains(&format!("{{ AttributeName: {name}, AttributeType: S }}")));
        }
        if let Some(index) = index {
            assert!(template.contains(&format!("IndexName: {index}")));
        }
    }
}

#[test]
fn queues_outlive_their_workers_six_times_and_redrive_after_five_receives() {
    let template = template();
    assert!(template.contains("VisibilityTimeout: 180"));
    assert!(
        template.contains("VisibilityTimeout: 900"),
        "the ingest queue: 6 x 150 s"
    );
    assert!(template.contains("Timeout: 150"));
    assert!(template.contains("maxReceiveCount: 5"));
    assert!(
        template.contains("Timeout: 30"),
        "the worker's timeout, 180 / 6"
    );
    assert!(template.contains("ReportBatchItemFailures"));
}
