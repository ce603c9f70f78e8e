//! The AWS side: one tokio runtime per client object (the rest of the program is
//! synchronous), SDK clients, and the mapping of SDK errors to bad input vs transient.
//! Blocking calls must not be made from inside another tokio runtime.

use std::path::Path;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::uri::Location;
use super::CloudError;

/// How to reach AWS; everything unset falls back to the SDK's environment chain
/// (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`, the ECS/EC2 role in a Batch container).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub s3: aws_sdk_s3::Client,
    pub batch: aws_sdk_batch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Aws {
    pub fn connect(opts: &AwsOptions) -> Result<Aws, CloudError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                CloudError::Transient(format!("cannot start the AWS client runtime: {e}"))
            })?;
        let conf = rt.block_on(async {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(r) = &opts.region {
                loader = loader.region(Region::new(r.clone()));
            }
            if let Some(p) = &opts.profile {
                loader = loader.profile_name(p);
            }
            if let Some(u) = &opts.endpoint_url {
                loader = loader.endpoint_url(u);
            }
            loader.load().await
        });
        // Emulators on 127.0.0.1/localhost cannot resolve virtual-host bucket names.
        let endpoint_override = opts.endpoint_url.is_some()
            || ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
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
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn read(&self, bucket: &str, key: &str) -> Result<Vec<u8>, CloudError> {
        let what = format!("s3://{bucket}/{key}");
        self.block_on(async {
            let out = self
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| sdk_error(&what, e))?;
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| CloudError::Transient(format!("{what}: download failed: {e}")))?;
            Ok(bytes.into_bytes().to_vec())
        })
    }

    /// Streams the object to `dest` (OSM extracts can be gigabytes).
    pub fn download(&self, bucket: &str, key: &str, dest: &Path) -> Result<u64, CloudError> {
        use std::io::Write;
        let what = format!("s3://{bucket}/{key}");
        self.block_on(async {
            let mut out = self
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| sdk_error(&what, e))?;
            let mut f = std::fs::File::create(dest).map_err(|e| CloudError::io(dest, e))?;
            let mut n = 0u64;
            while let Some(chunk) = out
                .body
                .try_next()
                .await
                .map_err(|e| CloudError::Transient(format!("{what}: download failed: {e}")))?
            {
                f.write_all(&chunk).map_err(|e| CloudError::io(dest, e))?;
                n += chunk.len() as u64;
            }
            f.flush().map_err(|e| CloudError::io(dest, e))?;
            Ok(n)
        })
    }

    pub fn put_bytes(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), CloudError> {
        let what = format!("s3://{bucket}/{key}");
        self.block_on(async {
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map_err(|e| sdk_error(&what, e))?;
            Ok(())
        })
    }

    pub fn upload(&self, src: &Path, bucket: &str, key: &str) -> Result<(), CloudError> {
        let what = format!("s3://{bucket}/{key}");
        self.block_on(async {
            let body = ByteStream::from_path(src).await.map_err(|e| {
                CloudError::BadInput(format!("{}: cannot read: {e}", src.display()))
            })?;
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body)
                .send()
                .await
                .map_err(|e| sdk_error(&what, e))?;
            Ok(())
        })
    }
}

/// HTTP 4xx (except throttling and timeouts) means the request itself is wrong: a missing
/// object, bucket or queue, or permissions; 5xx and no response at all are worth a retry.
pub fn sdk_error<E>(what: &str, e: SdkError<E, HttpResponse>) -> CloudError
where
    E: std::error::Error + Send + Sync + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let msg = format!("{what}: {}", DisplayErrorContext(&e));
    match (&e, status) {
        (SdkError::ConstructionFailure(_), _) => CloudError::Config(msg),
        (_, Some(404)) => CloudError::NotFound(format!("{msg} (not found)")),
        (_, Some(s)) if (400..500).contains(&s) && s != 408 && s != 429 => {
            CloudError::BadInput(msg)
        }
        _ => CloudError::Transient(msg),
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

fn need<'a>(aws: Option<&'a Aws>, loc: &Location) -> Result<&'a Aws, CloudError> {
    aws.ok_or_else(|| {
        CloudError::Config(format!(
            "{loc}: an s3:// location needs AWS settings; run `bna batch configure` or use file:// for local jobs"
        ))
    })
}
