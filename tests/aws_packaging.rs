//! The AWS deployment files parse and say what the worker relies on: retries only for
//! transient exits, scale-to-zero, a private encrypted bucket, the worker entrypoint.

use std::path::Path;

use bna::cloud::jobs::{retry_action, RetryAction};
use serde_json::Value;

fn load(p: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
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
    let d = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/aws/Dockerfile"),
    )
    .unwrap();
    assert!(d.contains("AS builder") && d.contains("FROM debian:bookworm-slim"));
    assert!(d.contains("libsqlite3-mod-spatialite"));
    assert!(d.contains(r#"ENTRYPOINT ["bna", "worker"]"#));
}
