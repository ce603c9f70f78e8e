//! The AWS side: one tokio runtime per client object (the rest of the program is
//! synchronous), SDK clients with time limits (`limits`), and every SDK error turned into
//! one sentence (`aws_error`). Blocking calls must not be made from inside another tokio
//! runtime.

use std::future::Future;
use std::path::Path;
use std::time::Instant;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::aws_error::{self, CallContext, NamedProfile};
use super::limits;
use super::uri::Location;
use super::CloudError;

/// How to reach AWS; everything unset falls back to the SDK's environment chain
/// (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`, the ECS/EC2 role in a Batch container).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<NamedProfile>,
    pub endpoint_url: Option<String>,
}

pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub s3: aws_sdk_s3::Client,
    pub batch: aws_sdk_batch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    context: CallContext,
    /// Every call gives up at this instant (`bna batch status --wait --timeout`).
    deadline: Option<Instant>,
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// The HTTPS client every AWS call goes through: rustls on ring, as `bna fetch` uses, rather
/// than the SDK's default on aws-lc.
fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

impl Aws {
    /// Builds the clients and checks that credentials can be found, so a missing profile
    /// or key is reported before anything is uploaded.
    pub fn connect(opts: &AwsOptions) -> Result<Aws, CloudError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                CloudError::Transient(format!("cannot start the AWS client runtime: {e}"))
            })?;
        let conf = rt.block_on(async {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .http_client(https_client())
                .timeout_config(limits::calls())
                .stalled_stream_protection(limits::stalled_streams());
            if let Some(r) = &opts.region {
                loader = loader.region(Region::new(r.clone()));
            }
            if let Some(p) = &opts.profile {
                loader = loader.profile_name(&p.name);
            }
            if let Some(u) = &opts.endpoint_url {
                loader = loader.endpoint_url(u);
            }
            loader.load().await
        });
        let context = CallContext::new(
            opts.profile.clone(),
            conf.endpoint_url()
                .map(String::from)
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
                .filter(|u| !u.is_empty()),
            conf.region().map(|r| r.to_string()),
        );
        rt.block_on(check_credentials(&conf, &context))?;
        // Emulators on 127.0.0.1/localhost cannot resolve virtual-host bucket names.
        let endpoint_override = opts.endpoint_url.is_some()
            || ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
                .iter()
                .any(|v| env_set(v));
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(endpoint_override)
                .build(),
        );
        Ok(Aws {
            s3,
            batch: aws_sdk_batch::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            rt,
            context,
            deadline: None,
        })
    }

    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Runs `fut` to completion, or until the deadline.
    fn bounded<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        match self.deadline {
            None => self.rt.block_on(fut),
            Some(at) => self
                .rt
                .block_on(async { tokio::time::timeout_at(at.into(), fut).await })
                .unwrap_or_else(|_| Err(aws_error::past_deadline(what))),
        }
    }

    /// One SDK call: bounded, and its error turned into one sentence about `what`.
    pub fn call<T, E>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, CloudError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.bounded(what, async {
            fut.await.map_err(|e| self.context.error(what, &e))
        })
    }

    /// Like `call`, but hands back the SDK error itself (for the few answers that are not
    /// failures to the caller, like a log stream that does not exist yet).
    pub fn call_raw<T, E>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<Result<T, SdkError<E, HttpResponse>>, CloudError> {
        self.bounded(what, async { Ok(fut.await) })
    }

    pub fn error<E>(&self, what: &str, e: &SdkError<E, HttpResponse>) -> CloudError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.context.error(what, e)
    }

    pub fn read(&self, bucket: &str, key: &str) -> Result<Vec<u8>, CloudError> {
        let what = format!("s3://{bucket}/{key}");
        self.bounded(&what, async {
            let out = self
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| self.context.error(&what, &e))?;
            let bytes = out.body.collect().await.map_err(|e| {
                CloudError::Transient(format!(
                    "{what}: the download broke off ({}); try again",
                    aws_error::one_line(&e)
                ))
            })?;
            Ok(bytes.into_bytes().to_vec())
        })
    }

    /// Streams the object to `dest` (OSM extracts can be gigabytes).
    pub fn download(&self, bucket: &str, key: &str, dest: &Path) -> Result<u64, CloudError> {
        use std::io::Write;
        let what = format!("s3://{bucket}/{key}");
        self.bounded(&what, async {
            let mut out = self
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| self.context.error(&what, &e))?;
            let mut f = std::fs::File::create(dest).map_err(|e| CloudError::io(dest, e))?;
            let mut n = 0u64;
            while let Some(chunk) = out.body.try_next().await.map_err(|e| {
                CloudError::Transient(format!(
                    "{what}: the download broke off ({}); try again",
                    aws_error::one_line(&e)
                ))
            })? {
                f.write_all(&chunk).map_err(|e| CloudError::io(dest, e))?;
                n += chunk.len() as u64;
            }
            f.flush().map_err(|e| CloudError::io(dest, e))?;
            Ok(n)
        })
    }

    pub fn put_bytes(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), CloudError> {
        let what = format!("s3://{bucket}/{key}");
        self.call(
            &what,
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(bytes))
                .send(),
        )
        .map(|_| ())
    }

    pub fn upload(&self, src: &Path, bucket: &str, key: &str) -> Result<(), CloudError> {
        let what = format!("s3://{bucket}/{key}");
        let size = std::fs::metadata(src)
            .map_err(|e| CloudError::BadInput(format!("{}: cannot read: {e}", src.display())))?
            .len();
        self.bounded(&what, async {
            let body = ByteStream::from_path(src).await.map_err(|e| {
                CloudError::BadInput(format!("{}: cannot read: {e}", src.display()))
            })?;
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body)
                .customize()
                .config_override(
                    aws_sdk_s3::config::Builder::default().timeout_config(limits::upload(size)),
                )
                .send()
                .await
                .map_err(|e| self.context.error(&what, &e))?;
            Ok(())
        })
    }

    /// Deletes every object under `prefix` (a folder: it should end with '/'); returns how
    /// many were deleted.
    pub fn delete_prefix(&self, bucket: &str, prefix: &str) -> Result<usize, CloudError> {
        let what = format!("s3://{bucket}/{prefix}");
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.call(
                &format!("listing {what}"),
                self.s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .set_continuation_token(token.clone())
                    .send(),
            )?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            token = page.next_continuation_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        for key in &keys {
            self.call(
                &format!("deleting s3://{bucket}/{key}"),
                self.s3.delete_object().bucket(bucket).key(key).send(),
            )?;
        }
        Ok(keys.len())
    }
}

/// Fails with one sentence when no credentials can be found, naming the profile.
async fn check_credentials(
    conf: &aws_config::SdkConfig,
    context: &CallContext,
) -> Result<(), CloudError> {
    let Some(provider) = conf.credentials_provider() else {
        return Err(context.no_credentials(None));
    };
    match tokio::time::timeout(limits::CREDENTIALS, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(context.no_credentials(Some(&e))),
        Err(_) => Err(CloudError::Access(format!(
            "finding AWS credentials took over {} s ({}); check the profile's SSO or credential_process setup, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            limits::CREDENTIALS.as_secs(),
            context.credential_source()
        ))),
    }
}

/// Reads a whole object or file.
pub fn read_location(aws: Option<&Aws>, loc: &Location) -> Result<Vec<u8>, CloudError> {
    match loc {
        Location::File(p) => std::fs::read(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                CloudError::NotFound(format!("{}: not found", p.display()))
            }
            _ => CloudError::io(p, e),
        }),
        Location::S3 { bucket, key } => need(aws, loc)?.read(bucket, key),
    }
}

pub fn download_location(aws: Option<&Aws>, loc: &Location, dest: &Path) -> Result<(), CloudError> {
    match loc {
        Location::File(p) => std::fs::copy(p, dest)
            .map(|_| ())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    CloudError::NotFound(format!("{}: not found", p.display()))
                }
                _ => CloudError::io(p, e),
            }),
        Location::S3 { bucket, key } => need(aws, loc)?.download(bucket, key, dest).map(|_| ()),
    }
}

pub fn write_location(aws: Option<&Aws>, loc: &Location, bytes: Vec<u8>) -> Result<(), CloudError> {
    match loc {
        Location::File(p) => {
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(|e| CloudError::io(d, e))?;
            }
            // Write then rename, so a reader (status polling) never sees half a file.
            let tmp = p.with_extension("partial");
            std::fs::write(&tmp, bytes).map_err(|e| CloudError::io(&tmp, e))?;
            std::fs::rename(&tmp, p).map_err(|e| CloudError::io(p, e))
        }
        Location::S3 { bucket, key } => need(aws, loc)?.put_bytes(bucket, key, bytes),
    }
}

pub fn upload_location(aws: Option<&Aws>, src: &Path, loc: &Location) -> Result<(), CloudError> {
    match loc {
        Location::File(p) => {
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(|e| CloudError::io(d, e))?;
            }
            std::fs::copy(src, p)
                .map(|_| ())
                .map_err(|e| CloudError::io(src, e))
        }
        Location::S3 { bucket, key } => need(aws, loc)?.upload(src, bucket, key),
    }
}

/// Removes everything under a folder location (a failed submission's uploads).
pub fn remove_location(aws: Option<&Aws>, loc: &Location) -> Result<(), CloudError> {
    match loc {
        Location::File(p) => match std::fs::remove_dir_all(p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CloudError::io(p, e)),
            _ => Ok(()),
        },
        Location::S3 { bucket, key } => {
            let folder = format!("{}/", key.trim_end_matches('/'));
            need(aws, loc)?.delete_prefix(bucket, &folder).map(|_| ())
        }
    }
}

fn need<'a>(aws: Option<&'a Aws>, loc: &Location) -> Result<&'a Aws, CloudError> {
    aws.ok_or_else(|| {
        CloudError::Config(format!(
            "{loc}: an s3:// location needs AWS settings; run `bna batch configure` or use file:// for local jobs"
        ))
    })
}
