//! Time limits on every AWS call, so an endpoint that accepts a connection and never answers
//! (a wrong `endpoint_url`, a proxy, a black-holed network) cannot hang `bna batch` or the
//! app's cloud thread. Calls are retried by the SDK (3 attempts, `AWS_MAX_ATTEMPTS`), so
//! each limit is per attempt unless it says otherwise.

use std::time::Duration;

use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::StalledStreamProtectionConfig;

/// AWS endpoints connect in milliseconds; this only catches an address that drops packets.
pub const CONNECT: Duration = Duration::from_secs(5);
/// Batch, CloudWatch Logs and small S3 objects answer in well under a second.
pub const CALL_ATTEMPT: Duration = Duration::from_secs(10);
/// All attempts of one such call together.
pub const CALL: Duration = Duration::from_secs(30);
/// Uploads and downloads fail when no byte moved for this long.
pub const STALL_GRACE: Duration = Duration::from_secs(20);
/// An upload attempt may take this long plus the file at `UPLOAD_FLOOR_BYTES_PER_SEC`: a
/// bound for a connection that took the whole body and never answered, lenient enough for
/// a slow uplink (stalls are caught sooner by `STALL_GRACE`).
pub const UPLOAD_BASE: Duration = Duration::from_secs(20);
pub const UPLOAD_FLOOR_BYTES_PER_SEC: u64 = 64 * 1024;
/// Resolving credentials (profile files, SSO, the instance or container role).
pub const CREDENTIALS: Duration = Duration::from_secs(30);

/// Limits of every call that moves little data: the SDK default for all clients.
pub fn calls() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT)
        .read_timeout(CALL_ATTEMPT)
        .operation_attempt_timeout(CALL_ATTEMPT)
        .operation_timeout(CALL)
        .build()
}

/// Limits of one upload of `bytes`. The read timeout is off because the SDK's covers the
/// whole request, body included; the attempt limit grows with the size instead.
pub fn upload(bytes: u64) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT)
        .disable_read_timeout()
        .operation_attempt_timeout(upload_attempt(bytes))
        .disable_operation_timeout()
        .build()
}

pub fn upload_attempt(bytes: u64) -> Duration {
    UPLOAD_BASE + Duration::from_secs(bytes / UPLOAD_FLOOR_BYTES_PER_SEC)
}

pub fn stalled_streams() -> StalledStreamProtectionConfig {
    StalledStreamProtectionConfig::enabled()
        .grace_period(STALL_GRACE)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_limit_grows_with_the_file() {
        let cases = [
            (0, 20),
            (64 * 1024 - 1, 20),
            (64 * 1024, 21),
            (1 << 30, 20 + (1 << 30) / (64 * 1024)),
        ];
        for (bytes, secs) in cases {
            assert_eq!(upload_attempt(bytes), Duration::from_secs(secs), "{bytes}");
        }
        let t = upload(1 << 20);
        assert_eq!(t.read_timeout(), None);
        assert_eq!(t.operation_timeout(), None);
        assert_eq!(t.connect_timeout(), Some(CONNECT));
        let c = calls();
        assert!(c.operation_timeout() >= c.operation_attempt_timeout());
        assert_eq!(c.read_timeout(), Some(CALL_ATTEMPT));
    }
}
