//! Cloud settings, kept outside any project (the XDG config folder) because they describe the
//! user's AWS account, not the analysis. Credentials are never stored here: they come from
//! the AWS profile or the environment, through the SDK's usual chain.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CloudError;
use bna_engine::params;
use bna_engine::user_dirs::{user_dir, Convention, UserDir};

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

/// `$BNA_CLOUD_CONFIG`, else `$XDG_CONFIG_HOME/bna/cloud.json`, else `~/.config/bna/cloud.json`;
/// on Windows `%APPDATA%\bna\cloud.json` (settings roam with the user's profile).
pub fn settings_path() -> Result<PathBuf, CloudError> {
    settings_path_from(cfg!(windows), |k| std::env::var_os(k))
}

/// [`settings_path`] with the system and the environment passed in.
pub fn settings_path_from(
    windows: bool,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<PathBuf, CloudError> {
    if let Some(p) = env(SETTINGS_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let (convention, missing, example) = if windows {
        (
            Convention::Windows,
            "no APPDATA folder",
            r"C:\path\cloud.json",
        )
    } else {
        (
            Convention::Xdg,
            "no HOME or XDG_CONFIG_HOME",
            "/path/cloud.json",
        )
    };
    user_dir(UserDir::Config, convention, &env)
        .map(|d| d.join("cloud.json"))
        .ok_or_else(|| {
            CloudError::Config(format!(
                "{missing} to keep cloud settings in; set {SETTINGS_ENV}={example}"
            ))
        })
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

/// Why `value` cannot be the AWS region: AWS names regions `<area>-<place>-<n>` in lowercase
/// (`us-east-1`, `us-gov-west-1`); anything else fails only later, at the first AWS call.
fn region_problem(value: &str) -> Option<&'static str> {
    let parts: Vec<&str> = value.split('-').collect();
    let letters = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| letters(p))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    (!ok).then_some("not an AWS region; write it like us-east-1")
}

/// Why `value` cannot be an S3 bucket name (the general-purpose bucket naming rules).
fn bucket_problem(value: &str) -> Option<&'static str> {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ip_like = value.split('.').count() == 4
        && value
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let ok = (3..=63).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge_ok(value.chars().next())
        && edge_ok(value.chars().last())
        && !value.contains("..")
        && !ip_like
        && !value.starts_with("xn--")
        && !value.ends_with("-s3alias");
    (!ok).then_some(
        "not an S3 bucket name; use 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit",
    )
}

/// Why `value` cannot be the key prefix: keys are `<prefix>/<organization>/<job>/…`, and a
/// `.` or `..` part would name other objects than the job role's (the bucket's `bna/`).
fn prefix_problem(value: &str) -> Option<&'static str> {
    let trimmed = value.trim_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && !value
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    (!ok).then_some(
        "not a key prefix; use folder names without `.`, `..`, spaces or backslashes, such as bna",
    )
}

/// Why `value` cannot be the organization: it is shown and tagged as given and becomes the
/// job names' and keys' slug (letters and digits only), so a `/` or `..` could never reach
/// a key, but it would be a different organization than it looks (`a/b` and `a-b` share one
/// slug, and so one active job).
fn organization_problem(value: &str) -> Option<&'static str> {
    if super::jobs::org_slug(value).is_none() {
        return Some("needs a letter or digit: job names are made from it");
    }
    if value
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
        || value.contains("..")
    {
        return Some("must not contain `/`, `\\` or `..`; write the organization's name, such as City of Example");
    }
    (value.chars().count() > 200).then_some("is longer than 200 characters")
}

/// Why `value` cannot be a CloudWatch Logs group name.
fn log_group_problem(value: &str) -> Option<&'static str> {
    let ok = (1..=512).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
    (!ok).then_some(
        "not a log group name; use 1 to 512 letters, digits and _ - / . #, such as /aws/batch/bna",
    )
}

/// Why `value` cannot be the endpoint URL. Credentials in it would be stored in clear in the
/// settings file; they belong in the AWS credential chain.
fn endpoint_problem(value: &str) -> Option<&'static str> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    let Some(rest) = rest else {
        return Some("not an http:// or https:// URL; write it like http://127.0.0.1:5000");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Some("holds credentials; remove them and use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile in ~/.aws instead");
    }
    let host_ok = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c));
    (!host_ok || value.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then_some("has no valid host; write it like http://127.0.0.1:5000")
}

/// Why a setting's value is refused, or None.
type Problem = fn(&str) -> Option<&'static str>;

impl CloudSettings {
    /// Every value that is set has the shape AWS accepts; the error names the setting by its
    /// `bna batch configure` option and never repeats an endpoint's credentials.
    pub fn check_values(&self) -> Result<(), CloudError> {
        let filled = |v: &str| !v.is_empty();
        let checks: [(&str, &str, bool, Problem); 6] = [
            (
                "--region",
                &self.region,
                filled(&self.region),
                region_problem,
            ),
            (
                "--bucket",
                &self.bucket,
                filled(&self.bucket),
                bucket_problem,
            ),
            ("--prefix", &self.prefix, true, prefix_problem),
            (
                "--organization",
                &self.organization,
                filled(&self.organization),
                organization_problem,
            ),
            ("--log-group", &self.log_group, true, log_group_problem),
            (
                "--endpoint-url",
                self.endpoint_url.as_deref().unwrap_or(""),
                self.endpoint_url.is_some(),
                endpoint_problem,
            ),
        ];
        for (option, value, applies, problem) in checks {
            if let Some(why) = problem(value).filter(|_| applies) {
                // An endpoint with credentials is not echoed: the password would be printed.
                let shown = if option == "--endpoint-url" && why.contains("credentials") {
                    String::new()
                } else {
                    format!(" {value:?}")
                };
                return Err(CloudError::Config(format!("{option}{shown}: {why}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_engine::user_dirs::env_of;

    #[test]
    fn settings_path_per_system() {
        let all: &'static [(&str, &str)] = &[
            ("APPDATA", r"C:\Users\Zoë\AppData\Roaming"),
            ("XDG_CONFIG_HOME", "/x/config"),
            ("HOME", "/home/z"),
        ];
        let roaming = PathBuf::from(r"C:\Users\Zoë\AppData\Roaming")
            .join("bna")
            .join("cloud.json");
        // (Windows?, environment, expected: None for an error)
        type Row = (
            bool,
            &'static [(&'static str, &'static str)],
            Option<PathBuf>,
        );
        let rows: [Row; 6] = [
            (true, all, Some(roaming)),
            (false, all, Some(PathBuf::from("/x/config/bna/cloud.json"))),
            (
                false,
                &[("HOME", "/h")],
                Some(PathBuf::from("/h/.config/bna/cloud.json")),
            ),
            (
                true,
                &[("BNA_CLOUD_CONFIG", "D:/c.json"), ("APPDATA", "C:/a")],
                Some(PathBuf::from("D:/c.json")),
            ),
            // Windows does not fall back on HOME (set by some shells) or XDG_CONFIG_HOME.
            (true, &[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")], None),
            (false, &[("APPDATA", "C:/a")], None),
        ];
        for (windows, env, want) in rows {
            let got = settings_path_from(windows, env_of(env));
            match (&got, &want) {
                (Ok(g), Some(w)) => assert_eq!(g, w, "{windows} {env:?}"),
                (Err(e), None) => assert!(e.to_string().contains("set BNA_CLOUD_CONFIG="), "{e}"),
                _ => panic!("{windows} {env:?}: got {got:?}, want {want:?}"),
            }
        }
    }

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

    #[test]
    fn each_setting_is_checked_and_named() {
        // (option, value, refused with); None: accepted.
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("--region", "us-east-1", None),
            ("--region", "us-gov-west-1", None),
            ("--region", "us east 1", Some("not an AWS region")),
            ("--region", "US-EAST-1", Some("not an AWS region")),
            ("--region", "east", Some("not an AWS region")),
            ("--bucket", "bna-test", None),
            ("--bucket", "my.bucket.1", None),
            ("--bucket", "Bad Bucket", Some("not an S3 bucket name")),
            ("--bucket", "b", Some("not an S3 bucket name")),
            ("--bucket", "-abc", Some("not an S3 bucket name")),
            ("--bucket", "a..b", Some("not an S3 bucket name")),
            ("--bucket", "192.168.1.1", Some("not an S3 bucket name")),
            ("--prefix", "bna", None),
            ("--prefix", "bna/team-a/", None),
            ("--prefix", "../..", Some("not a key prefix")),
            ("--prefix", "bna/../x", Some("not a key prefix")),
            ("--prefix", "", Some("not a key prefix")),
            ("--organization", "City of Example", None),
            ("--organization", "a/b", Some("must not contain")),
            ("--organization", "../../etc", Some("must not contain")),
            ("--organization", "--", Some("needs a letter or digit")),
            ("--log-group", "/aws/batch/bna", None),
            ("--log-group", "", Some("not a log group name")),
            ("--log-group", "my group", Some("not a log group name")),
            ("--endpoint-url", "http://127.0.0.1:5000", None),
            ("--endpoint-url", "https://s3.example.com/path", None),
            (
                "--endpoint-url",
                "notaurl",
                Some("not an http:// or https:// URL"),
            ),
            (
                "--endpoint-url",
                "ftp://x",
                Some("not an http:// or https:// URL"),
            ),
            ("--endpoint-url", "http://", Some("no valid host")),
            (
                "--endpoint-url",
                "http://user:pw@host:5000",
                Some("holds credentials"),
            ),
        ];
        for &(option, value, refused) in cases {
            let mut s = CloudSettings::default();
            match option {
                "--region" => s.region = value.into(),
                "--bucket" => s.bucket = value.into(),
                "--prefix" => s.prefix = value.into(),
                "--organization" => s.organization = value.into(),
                "--log-group" => s.log_group = value.into(),
                _ => s.endpoint_url = Some(value.into()),
            }
            match (s.check_values(), refused) {
                (Ok(()), None) => {}
                (Err(e), Some(why)) => {
                    let m = e.to_string();
                    assert!(e.is_bad_input(), "{m}");
                    assert!(
                        m.starts_with(option) && m.contains(why),
                        "{option} {value:?}: {m}"
                    );
                    assert!(!m.contains("pw"), "the password is repeated: {m}");
                }
                (r, _) => panic!("{option} {value:?}: {r:?}"),
            }
        }
        // The defaults of unset fields pass: `configure` may be run one option at a time.
        CloudSettings::default().check_values().unwrap();
    }
}
