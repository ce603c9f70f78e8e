//! `s3://bucket/key` and `file:///path` locations: where bundles and results live.

use std::path::PathBuf;

use super::CloudError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    S3 { bucket: String, key: String },
    File(PathBuf),
}

impl Location {
    pub fn parse(uri: &str) -> Result<Location, CloudError> {
        if let Some(rest) = uri.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(CloudError::BadInput(format!(
                    "{uri}: no bucket; write s3://BUCKET/KEY"
                )));
            }
            return Ok(Location::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
        if let Some(path) = uri.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(CloudError::BadInput(format!(
                    "{uri}: file URIs need an absolute path (file:///…)"
                )));
            }
            return Ok(Location::File(PathBuf::from(path)));
        }
        Err(CloudError::BadInput(format!(
            "{uri}: unsupported location; use s3://BUCKET/KEY or file:///PATH"
        )))
    }

    /// `name` below this location, treated as a folder (prefix).
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::S3 { bucket, key } => {
                let key = if key.is_empty() || key.ends_with('/') {
                    format!("{key}{name}")
                } else {
                    format!("{key}/{name}")
                };
                Location::S3 {
                    bucket: bucket.clone(),
                    key,
                }
            }
            Location::File(p) => Location::File(p.join(name)),
        }
    }

    pub fn uri(&self) -> String {
        match self {
            Location::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
            Location::File(p) => format!("file://{}", p.display()),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.uri())
    }
}

/// `file://` URI of an absolute local path.
pub fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_join() {
        let l = Location::parse("s3://b/jobs/x").unwrap();
        assert_eq!(
            l,
            Location::S3 {
                bucket: "b".into(),
                key: "jobs/x".into()
            }
        );
        assert_eq!(l.join("bundle.json").uri(), "s3://b/jobs/x/bundle.json");
        assert_eq!(
            Location::parse("s3://b/jobs/x/").unwrap().join("a").uri(),
            "s3://b/jobs/x/a"
        );
        assert_eq!(
            Location::parse("s3://b").unwrap().join("a").uri(),
            "s3://b/a"
        );
        assert_eq!(
            Location::parse("file:///tmp/x").unwrap().join("a"),
            Location::File("/tmp/x/a".into())
        );
        for bad in ["s3:///k", "file://rel/x", "https://x/y", "/tmp/x"] {
            let e = Location::parse(bad).unwrap_err();
            assert!(e.is_bad_input() && e.to_string().contains(bad), "{e}");
        }
    }
}
