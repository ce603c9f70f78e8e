//! Offloading analyses to AWS Batch (issue 4). A client of `pipeline`, like the CLI: the
//! worker container runs the same `bna` binary, so cloud and local results are identical.
//!
//! - [`settings`]: account settings outside any project (`~/.config/bna/cloud.json`).
//! - [`bundle`]: the input bundle (manifest + data files) under an s3:// or file:// prefix.
//! - [`worker`]: `bna worker`: bundle → `pipeline::run` → progress.json, result.bna, exports.
//! - [`client`]: submit (one active job per organization), poll, logs, cancel, fetch.
//! - [`record`]: the `bna_cloud_jobs` table that lets a restarted program re-attach.
//! - [`jobs`]: pure rules (state timeline, RUNNABLE warning, job names, retry classes).
//! - [`logs`]: reading CloudWatch answers leniently, and why a log has no lines.
//! - `aws` (SDK clients, time limits in `limits`, one-sentence errors in `aws_error`).

mod aws;
mod aws_error;
pub mod bundle;
pub mod client;
mod error;
pub mod jobs;
mod limits;
pub mod logs;
pub mod probe;
pub mod record;
pub mod settings;
pub mod uri;
pub mod worker;

pub use aws_error::NamedProfile;
pub use client::{
    submit_local, CloudClient, ExportsTo, Fetched, JobStatus, LogChunk, LogLine, Submitted,
    SupersededJob,
};
pub use error::CloudError;
pub use jobs::{JobState, TimelineEntry};
pub use record::{Backend, JobRecord};
pub use settings::CloudSettings;
