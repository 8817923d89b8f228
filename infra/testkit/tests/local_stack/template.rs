//! `template.yaml` and the code must describe the same thing, read as the
//! YAML it is (tags and all), resource by resource: every API route in the
//! template has a sample event and vice versa, the table's keys are the ones
//! the adapter uses, and each worker's queue outlives it and redrives after
//! as many receives as the worker gives up at.

use serde_json::Value;
use serde_norway::Value as Yaml;
use shared::adapters::dynamo::schema::KEY_SCHEMA;
use shared::ingest::worker::LAST_DELIVERY;
use std::collections::BTreeSet;
use testkit::events::event_files;

fn template() -> Yaml {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

fn resources(template: &Yaml) -> Vec<(String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

fn of_type(template: &Yaml, kind: &str) -> Vec<(String, Yaml)> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .collect()
}

/// The target of `!GetAtt Name.Arn` (or `!Ref Name`).
fn referenced(value: &Yaml) -> String {
    match value {
        Yaml::Tagged(tagged) => tagged
            .value
            .as_str()
            .unwrap()
            .trim_end_matches(".Arn")
            .to_owned(),
        other => panic!("not a reference: {other:?}"),
    }
}

fn number(value: &Yaml) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a number: {value:?}"))
}

/// (function logical id, path, METHOD) for every `Type: Api` event.
fn template_routes(template: &Yaml) -> BTreeSet<(String, String, String)> {
    let mut routes = BTreeSet::new();
    for (function, resource) in of_type(template, "AWS::Serverless::Function") {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() == Some("Api") {
                routes.insert((
                    function.clone(),
                    event["Properties"]["Path"].as_str().unwrap().to_owned(),
                    event["Properties"]["Method"]
                        .as_str()
                        .unwrap()
                        .to_uppercase(),
                ));
            }
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
    from_events.extend(event_routes("sms-api", "SmsApiFunction"));
    from_events.extend(event_routes("chat-api", "ChatApiFunction"));
    from_events.extend(event_routes("widget-api", "WidgetApiFunction"));
    from_events.extend(event_routes("webhooks-api", "WebhooksApiFunction"));
    assert_eq!(template_routes(&template()), from_events);
}

#[test]
fn every_chat_and_widget_route_is_invoked_with_response_streaming() {
    let template = template();
    for (function, routes) in [("ChatApiFunction", 7), ("WidgetApiFunction", 14)] {
        let (_, chat) = of_type(&template, "AWS::Serverless::Function")
            .into_iter()
            .find(|(name, _)| name == function)
            .expect("the function");
        let events = chat["Properties"]["Events"].as_mapping().unwrap();
        assert_eq!(events.len(), routes, "{function}");
        // Its runtime writes every answer in the streaming format, so every
        // route must be invoked with InvokeWithResponseStream.
        for (name, event) in events {
            assert_eq!(
                event["Properties"]["ResponseTransferMode"].as_str(),
                Some("RESPONSE_STREAM"),
                "{name:?}"
            );
        }
        assert!(
            number(&chat["Properties"]["Timeout"]) >= 150,
            "{function} outlasts the answer lease"
        );
    }
}

#[test]
fn the_table_in_the_template_has_the_keys_the_adapter_uses() {
    let template = template();
    let [(_, table)] = of_type(&template, "AWS::DynamoDB::Table")
        .try_into()
        .unwrap();
    let table = &table["Properties"];
    let keys_of = |schema: &Yaml| -> (String, String) {
        let find = |kind: &str| {
            schema
                .as_sequence()
                .unwrap()
                .iter()
                .find(|k| k["KeyType"].as_str() == Some(kind))
                .map(|k| k["AttributeName"].as_str().unwrap().to_owned())
                .unwrap()
        };
        (find("HASH"), find("RANGE"))
    };
    let mut declared = vec![(None, keys_of(&table["KeySchema"]))];
    for index in table["GlobalSecondaryIndexes"].as_sequence().unwrap() {
        let name = index["IndexName"].as_str().unwrap().to_owned();
        declared.push((Some(name), keys_of(&index["KeySchema"])));
        assert_eq!(index["Projection"]["ProjectionType"].as_str(), Some("ALL"));
    }
    let expected: Vec<_> = KEY_SCHEMA
        .iter()
        .map(|(index, hash, range)| {
            (
                index.map(str::to_owned),
                ((*hash).to_owned(), (*range).to_owned()),
            )
        })
        .collect();
    assert_eq!(declared, expected);
    let attributes: BTreeSet<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_owned(),
                a["AttributeType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let key_attributes: BTreeSet<(String, String)> = KEY_SCHEMA
        .iter()
        .flat_map(|(_, hash, range)| [*hash, *range])
        .map(|name| (name.to_owned(), "S".to_owned()))
        .collect();
    assert_eq!(attributes, key_attributes);
}

#[test]
fn each_workers_queue_outlives_it_six_times_and_redrives_when_it_gives_up() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    let queues = of_type(&template, "AWS::SQS::Queue");
    let queue = |name: &str| {
        queues
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no queue {name}"))
            .1
            .clone()
    };
    let mut workers = 0;
    for (function, resource) in of_type(&template, "AWS::Serverless::Function") {
        let properties = &resource["Properties"];
        let Some(events) = properties["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() != Some("SQS") {
                continue;
            }
            workers += 1;
            let timeout = number(if properties["Timeout"].is_null() {
                &globals["Timeout"]
            } else {
                &properties["Timeout"]
            });
            let source = queue(&referenced(&event["Properties"]["Queue"]));
            let visibility = number(&source["Properties"]["VisibilityTimeout"]);
            // AWS's advice for SQS event sources: six times the timeout.
            assert!(
                visibility >= 6 * timeout,
                "{function}: visibility {visibility} s for a {timeout} s function"
            );
            let redrive = &source["Properties"]["RedrivePolicy"];
            if redrive.is_null() {
                // A dead-letter queue read by the worker that fed it: what
                // fails there stays there.
                let source_name = referenced(&event["Properties"]["Queue"]);
                assert!(
                    queues.iter().any(|(_, q)| {
                        let target = &q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"];
                        !target.is_null() && referenced(target) == source_name
                    }),
                    "{function} reads {source_name}, which has no dead-letter queue"
                );
            } else {
                assert_eq!(
                    number(&redrive["maxReceiveCount"]),
                    u64::from(LAST_DELIVERY),
                    "{function}: the worker's last delivery is the redrive count"
                );
                let dead_letters = queue(&referenced(&redrive["deadLetterTargetArn"]));
                assert_eq!(
                    number(&dead_letters["Properties"]["MessageRetentionPeriod"]),
                    14 * 24 * 3600,
                    "{function}: dead letters are kept for the maximum"
                );
            }
            let responses = event["Properties"]["FunctionResponseTypes"]
                .as_sequence()
                .unwrap();
            assert!(
                responses
                    .iter()
                    .any(|r| r.as_str() == Some("ReportBatchItemFailures")),
                "{function} reports partial batch failures"
            );
        }
    }
    assert_eq!(
        workers, 6,
        "the ingest (and its dead letters), reply, cleanup and webhook (two lanes) workers"
    );
}

/// Every bucket refuses plain HTTP in its policy, no browser origin is
/// `*`, and no function may set an object's ACL.
#[test]
fn buckets_take_only_tls_from_named_origins_and_no_function_touches_acls() {
    let template = template();
    let policies = of_type(&template, "AWS::S3::BucketPolicy");
    for (bucket, resource) in of_type(&template, "AWS::S3::Bucket") {
        let policy = policies
            .iter()
            .find(|(_, p)| referenced(&p["Properties"]["Bucket"]) == bucket)
            .unwrap_or_else(|| panic!("{bucket} has no bucket policy"));
        let statements = policy.1["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        assert!(
            statements
                .iter()
                .any(|s| s["Effect"].as_str() == Some("Deny")
                    && s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")),
            "{bucket} must deny requests without TLS"
        );
        let cors = serde_json::to_string(&resource["Properties"]["CorsConfiguration"]).unwrap();
        assert!(
            !cors.contains("\"*\""),
            "{bucket} allows every origin: {cors}"
        );
    }
    let functions =
        serde_json::to_string(&of_type(&template, "AWS::Serverless::Function")).unwrap();
    assert!(
        !functions.contains("PutObjectAcl"),
        "a function may set ACLs"
    );
    assert!(
        !functions.contains("S3CrudPolicy"),
        "SAM's S3CrudPolicy grants PutObjectAcl"
    );
}

#[test]
fn staged_uploads_expire_and_the_ingest_worker_reads_its_dead_letters_one_at_a_time() {
    let template = template();
    let bucket = &template["Resources"]["DocumentsBucket"]["Properties"];
    let rules = bucket["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .unwrap();
    assert!(rules.iter().any(|rule| {
        rule["Prefix"].as_str() == Some(shared::domain::document::STAGING_PREFIX)
            && rule["ExpirationInDays"].as_u64() == Some(1)
            && rule["Status"].as_str() == Some("Enabled")
    }));
    // The copy's check compares entity tags, which are content hashes only
    // under S3-managed keys.
    assert_eq!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .as_str(),
        Some("AES256")
    );
    let worker = &template["Resources"]["IngestWorkerFunction"]["Properties"];
    let queues: Vec<(String, u64)> = worker["Events"]
        .as_mapping()
        .unwrap()
        .values()
        .map(|event| {
            (
                serde_json::to_string(&event["Properties"]["Queue"]).unwrap(),
                event["Properties"]["BatchSize"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(queues.len(), 2);
    assert!(queues.iter().all(|(_, batch)| *batch == 1), "{queues:?}");
    assert!(
        queues
            .iter()
            .any(|(q, _)| q.contains("IngestDeadLetterQueue"))
    );
    let dead_letters =
        serde_json::to_string(&worker["Environment"]["Variables"]["INGEST_DEAD_LETTER_QUEUE_ARN"])
            .unwrap();
    assert!(
        dead_letters.contains("IngestDeadLetterQueue"),
        "{dead_letters}"
    );
}

#[test]
fn the_api_stage_throttles_every_route_by_the_stacks_parameters() {
    let template = template();
    let [(_, api)] = of_type(&template, "AWS::Serverless::Api")
        .try_into()
        .unwrap();
    let settings = api["Properties"]["MethodSettings"].as_sequence().unwrap();
    let all = settings
        .iter()
        .find(|s| s["ResourcePath"].as_str() == Some("/*") && s["HttpMethod"].as_str() == Some("*"))
        .expect("a setting for every route");
    assert_eq!(
        referenced(&all["ThrottlingRateLimit"]),
        "ApiThrottlingRateLimit"
    );
    assert_eq!(
        referenced(&all["ThrottlingBurstLimit"]),
        "ApiThrottlingBurstLimit"
    );
    for parameter in ["ApiThrottlingRateLimit", "ApiThrottlingBurstLimit"] {
        assert!(
            template["Parameters"][parameter]["Default"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
}

/// No key is in any function's configuration (where anyone who may read
/// the configuration could read it): each function that calls a provider
/// names the secret, may read that secret alone, and reads it at start.
#[test]
fn provider_keys_are_read_from_the_secret_store_never_from_the_configuration() {
    let template = template();
    for (name, function) in of_type(&template, "AWS::Serverless::Function") {
        let text = serde_json::to_string(&function).unwrap();
        assert!(
            !text.contains("resolve:secretsmanager"),
            "{name} carries a key in its configuration"
        );
        let variables = &function["Properties"]["Environment"]["Variables"];
        let calls_providers = ["EMBEDDINGS_BASE_URL", "CHAT_BASE_URL"]
            .iter()
            .any(|v| !variables[*v].is_null());
        if calls_providers {
            assert_eq!(
                referenced(&variables["PROVIDER_KEYS_SECRET_ID"]),
                "ProviderKeysSecretName",
                "{name}"
            );
            assert!(
                text.contains("AWSSecretsManagerGetSecretValuePolicy"),
                "{name}"
            );
            assert!(
                text.contains("secret:${ProviderKeysSecretName}-??????"),
                "{name}"
            );
        }
    }
}

/// A claim on a part is never taken over while its worker may still be
/// sending (the lease outlasts the invocation), and a job is redelivered
/// only once its claim has lapsed (the visibility timeout outlasts the
/// invocation and the lease together): see `app/reply.rs`.
#[test]
fn a_reply_job_comes_back_only_after_its_claim_on_a_send_has_lapsed() {
    let template = template();
    let worker = &template["Resources"]["ReplyWorkerFunction"]["Properties"];
    let timeout = number(&worker["Timeout"]);
    let visibility =
        number(&template["Resources"]["ReplyQueue"]["Properties"]["VisibilityTimeout"]);
    let lease = shared::app::reply::CLAIM_LEASE.as_secs();
    assert!(
        timeout < lease,
        "a live worker ({timeout} s) could hold a claim past the lease ({lease} s)"
    );
    assert!(
        visibility > timeout + lease,
        "a job redelivered after {visibility} s could meet a claim ({timeout} s + {lease} s) not yet lapsed"
    );
    // The webhook delays by the window the worker merges by.
    for function in ["SmsWebhookFunction", "ReplyWorkerFunction"] {
        let variables = &template["Resources"][function]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            referenced(&variables["SMS_BURST_WINDOW_MS"]),
            "SmsBurstWindowMs",
            "{function}"
        );
    }
}

/// One client cannot use up the stage's throttle for every tenant: the web
/// ACL on the stage limits each address, and the managed rules it adds
/// leave uploads and questions alone.
#[test]
fn the_api_stage_has_a_rate_limit_per_address_and_rules_that_let_its_own_traffic_through() {
    let template = template();
    let acls = of_type(&template, "AWS::WAFv2::WebACL");
    assert_eq!(acls.len(), 1);
    let (acl_name, acl) = &acls[0];
    let rules = acl["Properties"]["Rules"].as_sequence().unwrap();
    let rate = rules
        .iter()
        .find_map(|r| r["Statement"]["RateBasedStatement"].as_mapping().map(|_| r))
        .expect("a rate-based rule");
    let statement = &rate["Statement"]["RateBasedStatement"];
    assert_eq!(statement["AggregateKeyType"].as_str(), Some("IP"));
    assert_eq!(referenced(&statement["Limit"]), "WafRequestsPerFiveMinutes");
    assert_eq!(
        number(&template["Parameters"]["WafRequestsPerFiveMinutes"]["Default"]),
        1000
    );
    assert_eq!(
        number(&rate["Action"]["Block"]["CustomResponse"]["ResponseCode"]),
        429
    );
    // Managed rules never refuse a body for its size or its bytes.
    for rule in rules {
        let managed = &rule["Statement"]["ManagedRuleGroupStatement"];
        if managed.is_null() {
            continue;
        }
        let counted: BTreeSet<&str> = managed["RuleActionOverrides"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter(|o| !o["ActionToUse"]["Count"].is_null())
            .map(|o| o["Name"].as_str().unwrap())
            .collect();
        if managed["Name"].as_str() == Some("AWSManagedRulesCommonRuleSet") {
            for body_rule in [
                "SizeRestrictions_BODY",
                "CrossSiteScripting_BODY",
                "GenericLFI_BODY",
                "GenericRFI_BODY",
                "EC2MetaDataSSRF_BODY",
            ] {
                assert!(counted.contains(body_rule), "{body_rule} only counts");
            }
        }
    }
    let association = &of_type(&template, "AWS::WAFv2::WebACLAssociation")[0].1;
    assert_eq!(
        referenced(&association["Properties"]["WebACLArn"]),
        *acl_name
    );
    let stage = format!("{:?}", association["Properties"]["ResourceArn"]);
    assert!(
        stage.contains("${Api}") && stage.contains("${Api.Stage}"),
        "{stage}"
    );
    // Logging is one parameter away, and off by default.
    assert_eq!(
        template["Parameters"]["WafLogging"]["Default"].as_str(),
        Some("off")
    );
    for (name, resource) in of_type(&template, "AWS::WAFv2::LoggingConfiguration")
        .into_iter()
        .chain(
            of_type(&template, "AWS::Logs::LogGroup")
                .into_iter()
                .filter(|(n, _)| n.contains("Waf")),
        )
    {
        assert_eq!(
            resource["Condition"].as_str(),
            Some("WafLoggingOn"),
            "{name}"
        );
    }
}

/// A flood on one public function or worker cannot starve the others, and
/// what is reserved leaves the account's unreserved floor.
#[test]
fn public_functions_and_workers_reserve_their_concurrency_within_the_account() {
    let template = template();
    let mut reserved = 0;
    for function in [
        "WidgetApiFunction",
        "SmsWebhookFunction",
        "IngestWorkerFunction",
        "ReplyWorkerFunction",
        "CleanupWorkerFunction",
        "WebhookWorkerFunction",
    ] {
        let properties = &template["Resources"][function]["Properties"];
        let parameter = referenced(&properties["ReservedConcurrentExecutions"]);
        let default = number(&template["Parameters"][parameter.as_str()]["Default"]);
        reserved += default;
        // A worker's batches are never throttled back to its queue.
        let sources: u64 = properties["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(_, e)| e["Type"].as_str() == Some("SQS"))
            .map(|(_, e)| number(&e["Properties"]["ScalingConfig"]["MaximumConcurrency"]))
            .sum();
        assert!(
            sources <= default,
            "{function}: {sources} concurrent batches, {default} reserved"
        );
    }
    // The default regional limit is 1,000, and 100 must stay unreserved.
    assert!(reserved <= 900, "{reserved} reserved");
}

/// Each secret sealed under the key is sealed by one function and opened
/// by those that use it, each only under its own purpose: the webhooks API
/// cannot open a Twilio token, nor the reply worker a webhook's secret.
#[test]
fn the_key_seals_and_opens_each_kind_of_secret_only_for_the_functions_that_use_it() {
    let template = template();
    let statements = template["Resources"]["SmsKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_sequence()
        .expect("the key's statements")
        .clone();
    let mut uses = BTreeSet::new();
    for statement in &statements {
        let action = statement["Action"].as_str().unwrap_or_default();
        if !matches!(action, "kms:Encrypt" | "kms:Decrypt") {
            continue;
        }
        let principals = match &statement["Principal"]["AWS"] {
            Yaml::Sequence(many) => many.iter().map(referenced).collect(),
            one => vec![referenced(one)],
        };
        let purpose = statement["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"]
            .as_str()
            .unwrap_or_else(|| panic!("{action} for {principals:?} names no purpose"))
            .to_owned();
        for principal in principals {
            let function = principal.trim_end_matches("Role").to_owned();
            uses.insert((function, action.to_owned(), purpose.clone()));
        }
    }
    let expected: BTreeSet<(String, String, String)> = [
        ("SmsApiFunction", "kms:Encrypt", "twilio-auth-token"),
        ("SmsWebhookFunction", "kms:Decrypt", "twilio-auth-token"),
        ("ReplyWorkerFunction", "kms:Decrypt", "twilio-auth-token"),
        ("WebhooksApiFunction", "kms:Encrypt", "webhook-secret"),
        ("WebhookWorkerFunction", "kms:Decrypt", "webhook-secret"),
    ]
    .into_iter()
    .map(|(f, a, p)| (f.to_owned(), a.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(uses, expected);
}

/// Events are made from the table's stream: it carries both images (what
/// the feed decides from), as the local table's does, and the feed reads
/// it from its start, reports the record it failed at, and names what it
/// gave up on in a dead-letter queue kept for the maximum.
#[test]
fn the_table_streams_both_images_to_an_event_feed_that_loses_nothing() {
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_AND_OLD_IMAGES")
    );
    let feed = &template["Resources"]["EventFeedFunction"]["Properties"];
    let source = &feed["Events"]["TableChanges"]["Properties"];
    assert_eq!(referenced(&source["Stream"]), "Table.StreamArn");
    assert_eq!(source["StartingPosition"].as_str(), Some("TRIM_HORIZON"));
    assert_eq!(
        source["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
    let dead_letters = referenced(&source["DestinationConfig"]["OnFailure"]["Destination"]);
    let queue = &template["Resources"][dead_letters.as_str()]["Properties"];
    assert_eq!(number(&queue["MessageRetentionPeriod"]), 14 * 24 * 3600);
    let filter = source["FilterCriteria"]["Filters"][0]["Pattern"]
        .as_str()
        .unwrap();
    for prefix in ["WS#", "CONV#", "SMS#"] {
        assert!(filter.contains(prefix), "{filter}");
    }
}

/// The alarms of a resource, by the dimension value that names it.
fn alarms_naming(template: &Yaml, namespace: &str, metric: &str, resource: &str) -> usize {
    of_type(template, "AWS::CloudWatch::Alarm")
        .iter()
        .filter(|(_, alarm)| {
            let p = &alarm["Properties"];
            p["Namespace"].as_str() == Some(namespace)
                && p["MetricName"].as_str() == Some(metric)
                && p["Dimensions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|d| matches!(&d["Value"], Yaml::Tagged(t) if t.value.as_str().is_some_and(|v| v.split('.').next() == Some(resource))))
                && p["AlarmActions"].as_sequence().is_some_and(|a| !a.is_empty())
        })
        .count()
}

#[test]
fn every_queue_has_a_dead_letter_queue_and_every_dead_letter_queue_alarms_on_its_first_message() {
    let template = template();
    let queues = of_type(&template, "AWS::SQS::Queue");
    let dead: BTreeSet<String> = queues
        .iter()
        .filter_map(|(_, q)| {
            let policy = &q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"];
            (!policy.is_null()).then(|| referenced(policy))
        })
        .collect();
    // The event feed's DLQ takes failed stream batches, not a queue's.
    let feed_dlq = "EventFeedDeadLetterQueue".to_owned();
    for (name, _) in &queues {
        if dead.contains(name) || *name == feed_dlq {
            assert_eq!(
                alarms_naming(
                    &template,
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    name
                ),
                1,
                "{name} holds failed jobs: one alarm on its first"
            );
        } else {
            assert!(
                !queues.iter().find(|(n, _)| n == name).unwrap().1["Properties"]["RedrivePolicy"]
                    .is_null(),
                "{name} has no dead-letter queue"
            );
        }
    }
    for worked in ["ReplyQueue", "IngestQueue", "CleanupQueue", "WebhookQueue"] {
        assert_eq!(
            alarms_naming(
                &template,
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                worked
            ),
            1,
            "{worked}: an alarm on its oldest job's age"
        );
    }
}

#[test]
fn every_function_alarms_on_its_errors_and_throttles() {
    let template = template();
    for (function, _) in of_type(&template, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            assert_eq!(
                alarms_naming(&template, "AWS/Lambda", metric, &function),
                1,
                "{function}: an alarm on its {metric}"
            );
        }
    }
}

#[test]
fn alarms_on_business_metrics_name_only_bounded_dimensions() {
    let template = template();
    let bounded = ["Function", "Channel", "Outcome", "Budget", "ErrorCode"];
    for (name, alarm) in of_type(&template, "AWS::CloudWatch::Alarm") {
        let p = &alarm["Properties"];
        if p["Namespace"].as_str() != Some(shared::metrics::NAMESPACE) {
            continue;
        }
        for dimension in p["Dimensions"].as_sequence().unwrap() {
            let key = dimension["Name"].as_str().unwrap();
            assert!(
                bounded.contains(&key),
                "{name}: {key} is not a bounded dimension"
            );
        }
    }
    let dashboard = &of_type(&template, "AWS::CloudWatch::Dashboard")[0].1;
    let Yaml::Tagged(body) = &dashboard["Properties"]["DashboardBody"] else {
        panic!("the dashboard body is a !Sub");
    };
    // The page as CloudWatch reads it: JSON, once `!Sub` has filled in the
    // region and the stack's name.
    let page: Value = serde_json::from_str(
        &body
            .value
            .as_str()
            .unwrap()
            .replace("${AWS::Region}", "us-east-1")
            .replace("${AWS::StackName}", "stack"),
    )
    .expect("the dashboard body is JSON");
    let text: String = page["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["properties"]["metrics"].as_array().unwrap().clone())
        .map(|m| m[0]["expression"].as_str().unwrap().to_owned())
        .collect();
    for metric in [
        "Answers",
        "TimeToFirstToken",
        "ModelTokens",
        "SmsSegmentsSent",
        "SmsSendFailures",
        "OptOuts",
        "IngestDuration",
        "IngestChunks",
        "WebhookDeliveries",
        "BudgetRefusals",
    ] {
        assert!(
            text.contains(&format!("MetricName=\"{metric}\"")),
            "the dashboard shows {metric}"
        );
    }
}

#[test]
fn the_deployment_chapter_names_every_parameter_and_output_of_the_template() {
    let template = template();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src/deployment.md");
    let deploying = std::fs::read_to_string(path).expect("docs/src/deployment.md is readable");
    for section in ["Parameters", "Outputs"] {
        for (name, _) in template[section].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            assert!(
                deploying.contains(&format!("`{name}`")),
                "the deployment chapter names {section} {name}"
            );
        }
    }
}
