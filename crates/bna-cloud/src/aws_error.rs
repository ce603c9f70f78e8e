//! Every way an AWS call can fail, as one sentence that names the setting, profile or
//! endpoint to fix: never the SDK's provider-chain dump or raw HTTP. Which failures count as
//! bad input (exit 2, never retried) follows `CloudError`: credentials are the
//! environment's (`Access`), a missing queue or object is the request's.

use std::error::Error;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::CloudError;

/// A named AWS profile and where it was chosen, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedProfile {
    pub name: String,
    /// "--profile", "the profile setting in …/cloud.json", …
    pub origin: String,
}

/// What a failed request was up against: who signed it, where it went.
#[derive(Debug, Clone)]
pub struct CallContext {
    profile: Option<NamedProfile>,
    endpoint_url: Option<String>,
    region: Option<String>,
}

/// How AWS answered a request it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The keys are unknown, expired or wrongly signed.
    CredentialsRejected,
    /// Valid keys without the permission.
    PermissionDenied,
    NotFound,
    /// Anything else the request got wrong (a malformed queue name, a bad parameter).
    BadRequest,
    /// Throttling or a server fault: worth another try.
    Busy,
}

const REJECTED_CODES: [&str; 13] = [
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
    "InvalidToken",
    "AuthFailure",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
];

pub fn classify(status: Option<u16>, code: Option<&str>) -> Refusal {
    let code = code.unwrap_or_default();
    if REJECTED_CODES.contains(&code) {
        return Refusal::CredentialsRejected;
    }
    if code.starts_with("AccessDenied") || status == Some(403) {
        return Refusal::PermissionDenied;
    }
    if code.contains("Throttl") || code == "SlowDown" || code == "TooManyRequestsException" {
        return Refusal::Busy;
    }
    if status == Some(404)
        || code.starts_with("NoSuch")
        || code.ends_with("NotFound")
        || code == "ResourceNotFoundException"
    {
        return Refusal::NotFound;
    }
    match status {
        Some(408) | Some(429) => Refusal::Busy,
        Some(s) if (400..500).contains(&s) => Refusal::BadRequest,
        _ => Refusal::Busy,
    }
}

/// The error's deepest cause on one short line: "Connection refused (os error 111)" rather
/// than the SDK's "dispatch failure: io error: …" chain.
pub fn one_line(e: &(dyn Error + 'static)) -> String {
    let mut deepest = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !text.trim().is_empty() {
            deepest = text;
        }
        cur = s.source();
    }
    let mut line = deepest.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        line = line.chars().take(199).collect::<String>() + "…";
    }
    line
}

fn chain_mentions(e: &(dyn Error + 'static), needle: &str) -> bool {
    let mut cur = Some(e);
    while let Some(s) = cur {
        if s.to_string().to_ascii_lowercase().contains(needle) {
            return true;
        }
        cur = s.source();
    }
    false
}

/// Whether `name` has a section in the AWS config file (`[profile NAME]`, or `[default]`)
/// or the credentials file (`[NAME]`).
pub fn profile_defined(name: &str, config: &str, credentials: &str) -> bool {
    let sections = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let l = l.trim();
                l.strip_prefix('[')?
                    .strip_suffix(']')
                    .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect()
    };
    let in_config = sections(config)
        .iter()
        .any(|s| s == &format!("profile {name}") || (name == "default" && s == "default"));
    in_config || sections(credentials).iter().any(|s| s == name)
}

/// The error when a deadline (`--timeout`) cut a call short; callers that set one turn it
/// into their own message.
pub fn past_deadline(what: &str) -> CloudError {
    CloudError::Transient(format!("{what}: stopped at the time limit"))
}

fn aws_file(var: &str, default: &str) -> (String, String) {
    match std::env::var(var).ok().filter(|v| !v.is_empty()) {
        Some(p) => (
            format!("{p} ({var})"),
            std::fs::read_to_string(&p).unwrap_or_default(),
        ),
        None => {
            let text = std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(default.trim_start_matches("~/")))
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            (default.to_string(), text)
        }
    }
}

/// The sentence for environment keys given by halves: the SDK then skips them and blames
/// the next provider (the instance metadata service), which hides the real fix.
pub fn env_keys_problem(id: Option<&str>, secret: Option<&str>) -> Option<String> {
    let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
    match (set(id), set(secret)) {
        (true, false) => Some(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both (and AWS_SESSION_TOKEN for temporary keys), or unset AWS_ACCESS_KEY_ID to use a profile".into(),
        ),
        (false, true) => Some(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both, or unset AWS_SECRET_ACCESS_KEY to use a profile".into(),
        ),
        _ => None,
    }
}

fn env_keys_from_process() -> Option<String> {
    env_keys_problem(
        std::env::var("AWS_ACCESS_KEY_ID").ok().as_deref(),
        std::env::var("AWS_SECRET_ACCESS_KEY").ok().as_deref(),
    )
}

/// The first line (1-based) an AWS profile file parser refuses: text before the first
/// `[section]`, or a line that is neither a section, `key = value`, an indented
/// continuation nor a comment. The SDK's own error names neither the file nor the line.
pub fn profile_syntax_error(text: &str) -> Option<usize> {
    let mut in_section = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') {
            if !t.ends_with(']') {
                return Some(i + 1);
            }
            in_section = true;
            continue;
        }
        let continuation = line.starts_with([' ', '\t']);
        let key_value = t.split_once('=').is_some_and(|(k, _)| !k.trim().is_empty());
        if !in_section || !(key_value || continuation) {
            return Some(i + 1);
        }
    }
    None
}

impl CallContext {
    pub fn new(
        profile: Option<NamedProfile>,
        endpoint_url: Option<String>,
        region: Option<String>,
    ) -> CallContext {
        CallContext {
            profile,
            endpoint_url,
            region,
        }
    }

    /// The profile the SDK reads: an explicit one, else `AWS_PROFILE`.
    fn selected_profile(&self) -> Option<NamedProfile> {
        self.profile.clone().or_else(|| {
            std::env::var("AWS_PROFILE")
                .ok()
                .filter(|p| !p.is_empty())
                .map(|name| NamedProfile {
                    name,
                    origin: "AWS_PROFILE".into(),
                })
        })
    }

    /// Where the SDK took the credentials from, in its order: environment keys win.
    pub fn credential_source(&self) -> String {
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|v| !v.is_empty()) {
            return "the AWS_ACCESS_KEY_ID environment variable".into();
        }
        match self.selected_profile() {
            Some(p) => format!("AWS profile \"{}\" ({})", p.name, p.origin),
            None => "the default AWS profile or instance role".into(),
        }
    }

    fn endpoint(&self) -> String {
        match (&self.endpoint_url, &self.region) {
            (Some(u), _) => u.clone(),
            (None, Some(r)) => format!("AWS in region {r}"),
            (None, None) => "AWS".into(),
        }
    }

    fn check_setting(&self) -> &'static str {
        if self.endpoint_url.is_some() {
            "the network and the endpoint_url setting"
        } else {
            "the network and the region setting"
        }
    }

    /// The sentence for a profile file the SDK could not parse, naming the file (and line
    /// when bna's reading finds it) instead of the SDK's "ProfileFile provider" text.
    fn profile_file_error(&self, e: &(dyn Error + 'static)) -> Option<CloudError> {
        if !(chain_mentions(e, "profilefile") || chain_mentions(e, "profile file")) {
            return None;
        }
        let files = [
            aws_file("AWS_CONFIG_FILE", "~/.aws/config"),
            aws_file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        ];
        let located = files
            .iter()
            .find_map(|(name, text)| Some(format!("{name}, line {}", profile_syntax_error(text)?)));
        let place = located.unwrap_or_else(|| format!("{} or {}", files[0].0, files[1].0));
        Some(CloudError::Access(format!(
            "the AWS profile file {place} cannot be read; fix its syntax (`[profile NAME]` sections of `key = value` lines) or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a valid file"
        )))
    }

    /// Credentials could not be found (`e` is the SDK's reason, when it gave one).
    pub fn no_credentials(&self, e: Option<&(dyn Error + 'static)>) -> CloudError {
        if let Some(why) = env_keys_from_process() {
            return CloudError::Access(why);
        }
        if let Some(err) = e.and_then(|e| self.profile_file_error(e)) {
            return err;
        }
        let keys_in_env = std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|v| !v.is_empty());
        let (config_name, config) = aws_file("AWS_CONFIG_FILE", "~/.aws/config");
        let (creds_name, creds) = aws_file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
        if let Some(p) = self.selected_profile().filter(|_| !keys_in_env) {
            if !profile_defined(&p.name, &config, &creds) {
                return CloudError::Access(format!(
                    "AWS profile \"{}\" ({}) is not defined in {config_name} or {creds_name}; create it with `aws configure --profile {}`, or choose another with --profile",
                    p.name, p.origin, p.name
                ));
            }
        }
        let not_found =
            e.is_none_or(|e| e.to_string() == "the credential provider was not enabled");
        if not_found {
            return CloudError::Access(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, create a profile with `aws configure`, or choose one with --profile (or `bna batch configure --profile NAME`)".into(),
            );
        }
        CloudError::Access(format!(
            "cannot get AWS credentials from {}: {}; fix them (for SSO: `aws sso login`) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            self.credential_source(),
            e.map(one_line).unwrap_or_default()
        ))
    }

    pub fn error<E>(&self, what: &str, e: &SdkError<E, HttpResponse>) -> CloudError
    where
        E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    {
        let endpoint = self.endpoint();
        let check = self.check_setting();
        match e {
            SdkError::ConstructionFailure(_) => CloudError::Config(format!(
                "{what}: the request could not be built ({}); check the region and endpoint_url settings",
                one_line(e)
            )),
            SdkError::TimeoutError(_) => CloudError::Transient(format!(
                "{what}: {endpoint} did not answer in time; check {check}, then try again"
            )),
            SdkError::DispatchFailure(d) if d.is_timeout() => CloudError::Transient(format!(
                "{what}: {endpoint} did not answer in time; check {check}, then try again"
            )),
            SdkError::DispatchFailure(d) if !d.is_io() && chain_mentions(e, "credential") => {
                if let Some(why) = env_keys_from_process() {
                    return CloudError::Access(format!("{what}: {why}"));
                }
                if let Some(err) = self.profile_file_error(e) {
                    return err;
                }
                CloudError::Access(format!(
                    "{what}: cannot get AWS credentials from {} ({}); renew them (`aws configure`, `aws sso login`) or choose others with --profile",
                    self.credential_source(),
                    one_line(e)
                ))
            }
            SdkError::DispatchFailure(_) => CloudError::Transient(format!(
                "{what}: cannot reach {endpoint} ({}); check {check}",
                one_line(e)
            )),
            SdkError::ResponseError(r) => CloudError::Transient(format!(
                "{what}: {endpoint} answered HTTP {} with something that is not an AWS response; check {check}",
                r.raw().status().as_u16()
            )),
            SdkError::ServiceError(s) => {
                let status = s.raw().status().as_u16();
                let code = e.code().unwrap_or("no error code");
                let detail = match e.message() {
                    Some(m) if !m.trim().is_empty() => {
                        format!("{code}: {}", m.split_whitespace().collect::<Vec<_>>().join(" "))
                    }
                    _ => code.to_string(),
                };
                match classify(Some(status), e.code()) {
                    Refusal::CredentialsRejected => CloudError::Access(format!(
                        "{what}: AWS rejected the credentials of {} ({code}); renew or correct them (`aws configure`, `aws sso login`), or choose others with --profile",
                        self.credential_source()
                    )),
                    Refusal::PermissionDenied => CloudError::Access(format!(
                        "{what}: {} lacks the permission for this ({code}); grant it to that user or role (README, \"Deploying to AWS Batch\", lists what bna needs)",
                        self.credential_source()
                    )),
                    Refusal::NotFound => CloudError::NotFound(format!("{what}: not found ({detail})")),
                    Refusal::BadRequest => {
                        CloudError::BadInput(format!("{what}: AWS refused the request ({detail})"))
                    }
                    Refusal::Busy => CloudError::Transient(format!(
                        "{what}: AWS could not serve the request now (HTTP {status}, {detail}); try again later"
                    )),
                }
            }
            _ => CloudError::Transient(format!("{what}: {}", one_line(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_by_status_and_code() {
        let cases = [
            (
                403,
                Some("InvalidClientTokenId"),
                Refusal::CredentialsRejected,
            ),
            (
                403,
                Some("SignatureDoesNotMatch"),
                Refusal::CredentialsRejected,
            ),
            (
                403,
                Some("InvalidAccessKeyId"),
                Refusal::CredentialsRejected,
            ),
            (
                400,
                Some("ExpiredTokenException"),
                Refusal::CredentialsRejected,
            ),
            (
                403,
                Some("UnrecognizedClientException"),
                Refusal::CredentialsRejected,
            ),
            (403, Some("AccessDenied"), Refusal::PermissionDenied),
            (
                400,
                Some("AccessDeniedException"),
                Refusal::PermissionDenied,
            ),
            (403, None, Refusal::PermissionDenied),
            (404, None, Refusal::NotFound),
            (404, Some("NoSuchKey"), Refusal::NotFound),
            (400, Some("ResourceNotFoundException"), Refusal::NotFound),
            (400, Some("ClientException"), Refusal::BadRequest),
            (400, Some("ThrottlingException"), Refusal::Busy),
            (503, Some("SlowDown"), Refusal::Busy),
            (429, None, Refusal::Busy),
            (500, Some("ServerException"), Refusal::Busy),
        ];
        for (status, code, want) in cases {
            assert_eq!(classify(Some(status), code), want, "{status} {code:?}");
        }
    }

    #[test]
    fn profiles_are_found_in_either_file() {
        let config = "[default]\nregion = us-east-1\n\n[profile  work ]\nregion=eu-west-1\n[sso-session s]\n";
        let creds = "[personal]\naws_access_key_id = x\n";
        let cases = [
            ("default", true),
            ("work", true),
            ("personal", true),
            ("s", false),
            ("profile work", false),
            ("missing", false),
        ];
        for (name, want) in cases {
            assert_eq!(profile_defined(name, config, creds), want, "{name}");
        }
        assert!(!profile_defined("default", "", ""));
        assert!(profile_defined("default", "", "[default]"));
    }

    #[test]
    fn one_line_keeps_the_deepest_cause() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("dispatch failure:\n  details follow")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other(
            "Connection   refused\n(os error 111)",
        ));
        assert_eq!(one_line(&e), "Connection refused (os error 111)");
        let long = std::io::Error::other("x".repeat(500));
        assert_eq!(one_line(&long).chars().count(), 200);
    }

    #[test]
    fn half_given_keys_name_the_missing_one() {
        let cases = [
            (
                Some("AKIAONLY"),
                None,
                Some("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
            ),
            (
                Some("AKIAONLY"),
                Some(""),
                Some("AWS_SECRET_ACCESS_KEY is not"),
            ),
            (None, Some("secret"), Some("AWS_ACCESS_KEY_ID is not")),
            (Some("AKIA"), Some("secret"), None),
            (None, None, None),
        ];
        for (id, secret, want) in cases {
            let got = env_keys_problem(id, secret);
            match want {
                None => assert_eq!(got, None, "{id:?} {secret:?}"),
                Some(w) => {
                    let got = got.unwrap_or_default();
                    assert!(got.contains(w), "{id:?} {secret:?}: {got}");
                }
            }
        }
    }

    #[test]
    fn profile_file_syntax_errors_are_located() {
        let cases = [
            ("[default]\naws_access_key_id = x\n", None),
            (
                "# comment\n\n[profile a]\nregion=eu-west-1\ns3 =\n  max_concurrent_requests = 2\n",
                None,
            ),
            ("not a profile file\n", Some(1)),
            ("[default]\nregion = x\njust words\n", Some(3)),
            ("[default\n", Some(1)),
            ("key = before any section\n[default]\n", Some(1)),
        ];
        for (text, want) in cases {
            assert_eq!(profile_syntax_error(text), want, "{text:?}");
        }
    }
}
