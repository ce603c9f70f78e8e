"""Creates what `bna batch` needs in a moto server: bucket, IAM role, compute environment,
job queue, and the job definition from packaging/aws/job-definition.json with the container
command replaced by a local `bna` binary (the fake Docker engine runs it as a process).

usage: python setup_batch.py ENDPOINT BUCKET QUEUE JOBDEF BNA_BINARY
"""
import json
import os
import sys

import boto3

endpoint, bucket, queue, jobdef, bna = sys.argv[1:6]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
here = os.path.dirname(os.path.abspath(__file__))

boto3.client("s3", **kw).create_bucket(Bucket=bucket)
role = boto3.client("iam", **kw).create_role(
    RoleName=f"{queue}-service",
    AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
)["Role"]["Arn"]
batch = boto3.client("batch", **kw)
ce = batch.create_compute_environment(
    computeEnvironmentName=f"{queue}-ce", type="UNMANAGED", serviceRole=role)["computeEnvironmentArn"]
batch.create_job_queue(jobQueueName=queue, state="ENABLED", priority=1,
                       computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}])

with open(os.path.join(here, "..", "..", "aws", "job-definition.json")) as f:
    jd = json.load(f)
jd["jobDefinitionName"] = jobdef
cp = jd["containerProperties"]
cp["image"] = "bna-worker:test"
# The image's ENTRYPOINT is ["bna", "worker"]; a process needs the full command.
cp["command"] = [bna, "worker"] + cp["command"]
cp["environment"] = [{"name": k, "value": v} for k, v in {
    "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
}.items()]
for k in ("mountPoints", "volumes"):
    cp.pop(k, None)
print(json.dumps(batch.register_job_definition(**jd)["jobDefinitionArn"]))
