//! Cloud settings, kept outside any project (the XDG config folder) because they describe the
//! user's AWS account, not the analysis. Credentials are never stored here: they come from
//! the AWS profile or the environment, through the SDK's usual chain.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CloudError;
use crate::params;

/// Overrides where the settings file is (tests, several accounts).
pub const SETTINGS_ENV: &str = "BNA_CLOUD_CONFIG";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudSettings {
    pub region: String,
    /// AWS named profile; None: environment variables, then the default chain.
    #[serde(default)]
    pub profile: Option<String>,
    pub bucket: String,
    /// Key prefix for bundles and results inside the bucket.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    pub job_queue: String,
    pub job_definition: String,
    /// One active job per organization: a new submission terminates the older ones.
    pub organization: String,
    /// The job definition's `awslogs-group`: where Batch writes the worker's log.
    #[serde(default = "default_log_group")]
    pub log_group: String,
    /// An S3/Batch/Logs emulator (e.g. moto); `AWS_ENDPOINT_URL` works as well.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    #[serde(default = "default_runnable_warning")]
    pub runnable_warning_secs: u64,
}

fn default_prefix() -> String {
    "bna".into()
}
/// The group `packaging/aws/job-definition.json` logs to (tests/aws_packaging.rs checks).
fn default_log_group() -> String {
    "/aws/batch/bna".into()
}
fn default_runnable_warning() -> u64 {
    params::CLOUD_RUNNABLE_WARNING_SECS
}

impl Default for CloudSettings {
    fn default() -> Self {
        CloudSettings {
            region: String::new(),
            profile: None,
            bucket: String::new(),
            prefix: default_prefix(),
            job_queue: String::new(),
            job_definition: String::new(),
            organization: String::new(),
            log_group: default_log_group(),
            endpoint_url: None,
            runnable_warning_secs: default_runnable_warning(),
        }
    }
}

/// `$BNA_CLOUD_CONFIG`, else `$XDG_CONFIG_HOME/bna/cloud.json`, else `~/.config/bna/cloud.json`.
pub fn settings_path() -> Result<PathBuf, CloudError> {
    if let Some(p) = std::env::var_os(SETTINGS_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            CloudError::Config(format!(
                "no HOME or XDG_CONFIG_HOME to keep cloud settings in; set {SETTINGS_ENV}=/path/cloud.json"
            ))
        })?;
    Ok(base.join("bna").join("cloud.json"))
}

impl CloudSettings {
    /// The saved settings, or `Config` naming the file and how to create it.
    pub fn load() -> Result<CloudSettings, CloudError> {
        Self::load_from(&settings_path()?)
    }

    /// The saved settings, or None when the file does not exist yet (the app's first run).
    pub fn load_optional() -> Result<Option<CloudSettings>, CloudError> {
        let path = settings_path()?;
        if !path.exists() {
            return Ok(None);
        }
        Self::load_from(&path).map(Some)
    }

    pub fn load_from(path: &Path) -> Result<CloudSettings, CloudError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CloudError::Config(format!(
                    "{}: no cloud settings yet; create them with `bna batch configure --region … --bucket … --queue … --job-definition … --organization …`",
                    path.display()
                ))
            } else {
                CloudError::io(path, e)
            }
        })?;
        serde_json::from_str(&text).map_err(|e| {
            CloudError::Config(format!(
                "{}: {e}; fix the file or rewrite it with `bna batch configure` (credentials do not belong there: use an AWS profile or environment variables)",
                path.display()
            ))
        })
    }

    pub fn save(&self) -> Result<PathBuf, CloudError> {
        let path = settings_path()?;
        self.save_to(&path)?;
        Ok(path)
    }

    pub fn save_to(&self, path: &Path) -> Result<(), CloudError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| CloudError::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CloudError::Config(format!("{}: {e}", path.display())))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(|e| CloudError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| CloudError::io(path, e))
    }

    /// Every field that AWS needs is set; names the missing ones and the command to set them.
    pub fn check_complete(&self) -> Result<(), CloudError> {
        let missing: Vec<&str> = [
            ("region", &self.region),
            ("bucket", &self.bucket),
            ("job_queue", &self.job_queue),
            ("job_definition", &self.job_definition),
            ("organization", &self.organization),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(CloudError::Config(format!(
            "{}: cloud settings lack {}; set them with `bna batch configure`",
            settings_path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "cloud settings".into()),
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refuse_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bna/cloud.json");
        let s = CloudSettings {
            region: "eu-west-1".into(),
            bucket: "b".into(),
            job_queue: "q".into(),
            job_definition: "d".into(),
            organization: "Acme".into(),
            ..Default::default()
        };
        s.save_to(&path).unwrap();
        assert_eq!(CloudSettings::load_from(&path).unwrap(), s);
        s.check_complete().unwrap();

        std::fs::write(
            &path,
            r#"{"region":"r","bucket":"b","job_queue":"q","job_definition":"d","organization":"o","aws_secret_access_key":"x"}"#,
        )
        .unwrap();
        let e = CloudSettings::load_from(&path).unwrap_err();
        assert!(e.to_string().contains("aws_secret_access_key"), "{e}");

        let e = CloudSettings::load_from(&dir.path().join("none.json")).unwrap_err();
        assert!(
            e.is_bad_input() && e.to_string().contains("bna batch configure"),
            "{e}"
        );

        let e = CloudSettings::default().check_complete().unwrap_err();
        assert!(e.to_string().contains("region, bucket"), "{e}");
    }
}
