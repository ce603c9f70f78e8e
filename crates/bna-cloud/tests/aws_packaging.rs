//! The AWS deployment files parse and say what the worker relies on: retries only for
//! transient exits, scale-to-zero, a private encrypted bucket, the worker entrypoint.

use bna_cloud::jobs::{retry_action, RetryAction};
use bna_cloud::CloudSettings;
use serde_json::Value;

fn load(p: &str) -> Value {
    let path = bna_test_support::repo_root().join(p);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// AWS Batch glob: exact, or a prefix ending in '*'.
fn glob(pattern: &str, value: Option<&str>) -> bool {
    let Some(v) = value else { return false };
    match pattern.strip_suffix('*') {
        Some(prefix) => v.starts_with(prefix),
        None => v == pattern,
    }
}

/// Batch's evaluation of `evaluateOnExit`: the first rule whose every condition matches
/// decides; when none matches, the job is retried.
fn batch_decision(rules: &[Value], exit: Option<i32>, status_reason: Option<&str>) -> RetryAction {
    let exit_s = exit.map(|c| c.to_string());
    for r in rules {
        let conds = [
            ("onExitCode", exit_s.as_deref()),
            ("onStatusReason", status_reason),
            ("onReason", None),
        ];
        let present: Vec<_> = conds
            .iter()
            .filter_map(|(k, v)| r.get(*k).map(|p| (p.as_str().unwrap(), *v)))
            .collect();
        assert!(!present.is_empty(), "rule without a condition: {r}");
        if present.iter().all(|(p, v)| glob(p, *v)) {
            return match r["action"].as_str().unwrap().to_ascii_uppercase().as_str() {
                "RETRY" => RetryAction::Retry,
                "EXIT" => RetryAction::Exit,
                other => panic!("unknown action {other}"),
            };
        }
    }
    RetryAction::Retry
}

#[test]
fn job_definition_retries_only_transient_failures() {
    let jd = load("packaging/aws/job-definition.json");
    let rs = &jd["retryStrategy"];
    let attempts = rs["attempts"].as_u64().unwrap();
    assert!((2..=10).contains(&attempts));
    let rules = rs["evaluateOnExit"].as_array().unwrap();
    assert!(rules.len() <= 5, "Batch allows at most 5 rules");
    let last = rules.last().unwrap();
    assert_eq!(last["action"], "EXIT");
    assert!(last.as_object().unwrap().values().any(|v| v == "*"));
    for (exit, reason) in [
        (Some(75), None),
        (Some(2), None),
        (Some(1), None),
        (Some(101), None),
        (Some(137), Some("superseded by job x")),
        (Some(0), None),
        (None, Some("Host EC2 (instance i-0abc) terminated.")),
        (None, Some("Essential container in task exited")),
    ] {
        assert_eq!(
            batch_decision(rules, exit, reason),
            retry_action(exit, reason),
            "exit {exit:?} reason {reason:?}"
        );
    }

    let c = &jd["containerProperties"];
    assert_eq!(
        c["command"],
        serde_json::json!(["--input", "Ref::input", "--output", "Ref::output"])
    );
    assert!(jd["parameters"]["input"].is_string() && jd["parameters"]["output"].is_string());
    assert_eq!(c["logConfiguration"]["logDriver"], "awslogs");
    assert!(jd["timeout"]["attemptDurationSeconds"].as_u64().unwrap() >= 60);
    let kinds: Vec<&str> = c["resourceRequirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["VCPU", "MEMORY"]);
}

#[test]
fn cloudformation_scales_to_zero_with_a_private_encrypted_bucket() {
    let t = load("packaging/aws/cloudformation.json");
    let r = &t["Resources"];
    let ce = &r["ComputeEnvironment"]["Properties"];
    assert_eq!(ce["Type"], "MANAGED");
    assert_eq!(ce["ComputeResources"]["MinvCpus"], 0);
    assert!(ce["ComputeResources"]["LaunchTemplate"].is_object());
    let lt = &r["ScratchLaunchTemplate"]["Properties"]["LaunchTemplateData"];
    assert_eq!(lt["BlockDeviceMappings"][0]["Ebs"]["Encrypted"], true);

    let b = &r["ResultsBucket"]["Properties"];
    let pab = &b["PublicAccessBlockConfiguration"];
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(pab[k], true, "{k}");
    }
    assert!(
        b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .is_string()
    );

    for (name, ty) in [
        ("JobQueue", "AWS::Batch::JobQueue"),
        ("LogGroup", "AWS::Logs::LogGroup"),
        ("BatchServiceRole", "AWS::IAM::Role"),
        ("InstanceRole", "AWS::IAM::Role"),
        ("JobRole", "AWS::IAM::Role"),
        ("ExecutionRole", "AWS::IAM::Role"),
    ] {
        assert_eq!(r[name]["Type"], ty, "{name}");
    }
    // The job definition points at what the template creates.
    let jd = load("packaging/aws/job-definition.json");
    assert_eq!(
        jd["containerProperties"]["logConfiguration"]["options"]["awslogs-group"],
        r["LogGroup"]["Properties"]["LogGroupName"]
    );
    for (role, jd_key) in [
        ("JobRole", "jobRoleArn"),
        ("ExecutionRole", "executionRoleArn"),
    ] {
        let name = r[role]["Properties"]["RoleName"].as_str().unwrap();
        let arn = jd["containerProperties"][jd_key].as_str().unwrap();
        assert!(arn.ends_with(&format!(":role/{name}")), "{arn} vs {name}");
    }
}

#[test]
fn dockerfile_runs_the_worker_with_spatialite() {
    let d = std::fs::read_to_string(bna_test_support::repo_root().join("packaging/aws/Dockerfile"))
        .unwrap();
    assert!(d.contains("AS builder") && d.contains("FROM debian:bookworm-slim"));
    assert!(d.contains("libsqlite3-mod-spatialite"));
    assert!(d.contains(r#"ENTRYPOINT ["bna", "worker"]"#));
}

/// The statements of the job role's inline policy.
fn job_role_statements(t: &Value) -> Vec<Value> {
    t["Resources"]["JobRole"]["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
        .collect()
}

#[test]
fn job_role_reaches_only_the_bna_prefix_of_the_bucket() {
    let t = load("packaging/aws/cloudformation.json");
    let prefix = CloudSettings::default().prefix;
    assert_eq!(prefix, "bna", "the template scopes the job role to bna/");
    let statements = job_role_statements(&t);
    assert!(!statements.is_empty());
    let mut object_access = 0;
    let mut listing = 0;
    for st in &statements {
        assert_eq!(st["Effect"], "Allow", "{st}");
        let actions: Vec<&str> = match &st["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
            other => panic!("Action {other}"),
        };
        for a in &actions {
            assert!(!a.contains('*'), "wildcard action {a} in {st}");
            assert!(a.starts_with("s3:"), "{a}");
        }
        if actions.contains(&"s3:ListBucket") {
            assert_eq!(actions, ["s3:ListBucket"], "{st}");
            assert_eq!(
                st["Resource"],
                serde_json::json!({ "Fn::GetAtt": ["ResultsBucket", "Arn"] })
            );
            assert_eq!(
                st["Condition"]["StringLike"]["s3:prefix"],
                serde_json::json!([format!("{prefix}/*")]),
                "listing must be limited to {prefix}/: {st}"
            );
            listing += 1;
        } else {
            assert_eq!(
                st["Resource"],
                serde_json::json!({ "Fn::Sub": format!("${{ResultsBucket.Arn}}/{prefix}/*") }),
                "object access must be limited to {prefix}/: {st}"
            );
            object_access += 1;
        }
    }
    assert_eq!((object_access, listing), (1, 1), "{statements:?}");
}

#[test]
fn default_log_group_is_the_one_the_job_definition_writes_to() {
    let jd = load("packaging/aws/job-definition.json");
    let t = load("packaging/aws/cloudformation.json");
    let group = jd["containerProperties"]["logConfiguration"]["options"]["awslogs-group"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(CloudSettings::default().log_group, group);
    assert_eq!(
        t["Resources"]["LogGroup"]["Properties"]["LogGroupName"],
        group.as_str()
    );
}

/// The "Deploying to AWS Batch" section of the README.
fn readme_aws_section() -> String {
    let readme = std::fs::read_to_string(bna_test_support::repo_root().join("README.md")).unwrap();
    let start = readme
        .find("## Deploying to AWS Batch")
        .expect("README has a Deploying to AWS Batch section");
    let rest = &readme[start + 3..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// `aws.batch.submit_job()` → "batch:SubmitJob": every AWS operation the code calls.
fn iam_actions_called_by_the_code() -> Vec<String> {
    let dir = bna_test_support::repo_root().join("crates/bna-cloud/src");
    let mut actions = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for (client, service) in [(".batch.", "batch"), (".logs.", "logs"), (".s3.", "s3")] {
            for (i, _) in flat.match_indices(client) {
                let tail = &flat[i + client.len()..];
                let Some(op) = tail.split("()").next() else {
                    continue;
                };
                if op.is_empty()
                    || !op
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                {
                    continue;
                }
                let camel: String = op
                    .split('_')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect();
                // S3's IAM names differ from its API names here.
                let action = match camel.as_str() {
                    "ListObjectsV2" => "ListBucket".to_string(),
                    _ => camel,
                };
                actions.push(format!("{service}:{action}"));
            }
        }
        if flat.contains(".tags(\"bna:organization\"") {
            actions.push("batch:TagResource".into());
        }
    }
    actions.sort();
    actions.dedup();
    actions
}

#[test]
fn readme_lists_the_permissions_the_code_needs_and_the_real_stack_outputs() {
    let section = readme_aws_section();
    let actions = iam_actions_called_by_the_code();
    for must in [
        "batch:SubmitJob",
        "batch:DescribeJobs",
        "batch:TerminateJob",
        "batch:ListJobs",
        "logs:GetLogEvents",
        "s3:PutObject",
        "s3:GetObject",
    ] {
        assert!(
            actions.iter().any(|a| a == must),
            "scan missed {must}: {actions:?}"
        );
    }
    for a in &actions {
        assert!(
            section.contains(a.as_str()),
            "README does not list {a} (called by crates/bna-cloud)"
        );
    }

    let t = load("packaging/aws/cloudformation.json");
    let outputs = t["Outputs"].as_object().unwrap();
    let mut used = 0;
    for (i, _) in section.match_indices("$(out ") {
        let name: String = section[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            outputs.contains_key(&name),
            "README reads a stack output {name} the template lacks"
        );
        used += 1;
    }
    assert!(used >= 4, "README reads {used} stack outputs");
    for (flag, output) in [
        ("--queue", "JobQueue"),
        ("--bucket", "Bucket"),
        ("--region", "Region"),
        ("--log-group", "LogGroup"),
    ] {
        assert!(
            section.contains(&format!("{flag} \"$(out {output})\"")),
            "README's configure example must pass {flag} the {output} output"
        );
    }
    for step in [
        "aws ecr create-repository",
        "docker login",
        "--profile",
        "run_moto.py",
    ] {
        assert!(section.contains(step), "README lacks {step}");
    }
}
