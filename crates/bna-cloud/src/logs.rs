//! CloudWatch Logs details that are not the SDK's business: reading a GetLogEvents answer
//! whose timestamps are floats (moto writes `1795358358367.879`, which the SDK refuses as an
//! invalid number), and saying why a job's log has no lines instead of printing nothing.

use serde::{Deserialize, Serialize};

use super::jobs::JobState;
use super::CloudError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub timestamp_ms: Option<i64>,
    pub message: String,
}

/// A GetLogEvents answer read with any JSON number as a timestamp; None when `body` is not
/// one at all.
pub fn lenient_log_events(body: &[u8]) -> Option<(Vec<LogLine>, Option<String>)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        events: Vec<Event>,
        next_forward_token: Option<String>,
    }
    #[derive(Deserialize)]
    struct Event {
        timestamp: Option<f64>,
        message: Option<String>,
    }
    let a: Answer = serde_json::from_slice(body).ok()?;
    let lines = a
        .events
        .into_iter()
        .map(|e| LogLine {
            timestamp_ms: e.timestamp.filter(|t| t.is_finite()).map(|t| t as i64),
            message: e.message.unwrap_or_default(),
        })
        .collect();
    Some((lines, a.next_forward_token))
}

/// Why a job's log has no lines to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogAbsence {
    /// The container has not started, so Batch has named no stream yet.
    NotStarted,
    /// The job ended before a container started: there never was a log.
    NeverStarted,
    /// Batch named a stream that the configured log group does not (yet) hold.
    StreamNotInGroup { group: String, stream: String },
}

/// What to tell about a job whose log stream is `stream` (None before the container
/// starts), `found` in the configured group or not: None when there is a log to read, an
/// error when there never will be one where bna looks, else a note.
pub fn absence(
    state: JobState,
    stream: Option<&str>,
    found: bool,
    group: &str,
) -> Result<Option<LogAbsence>, LogAbsence> {
    match (stream, found) {
        (None, _) if state.is_terminal() => Ok(Some(LogAbsence::NeverStarted)),
        (None, _) => Ok(Some(LogAbsence::NotStarted)),
        (Some(_), true) => Ok(None),
        (Some(s), false) => {
            let a = LogAbsence::StreamNotInGroup {
                group: group.into(),
                stream: s.into(),
            };
            // A running job's stream can lag its container; an ended job's never comes.
            if state.is_terminal() {
                Err(a)
            } else {
                Ok(Some(a))
            }
        }
    }
}

impl LogAbsence {
    pub fn message(&self, job_id: &str, state: JobState) -> String {
        match self {
            LogAbsence::NotStarted => format!(
                "job {job_id} has no log yet: it is {state} and its container has not started; try again later, or add --follow"
            ),
            LogAbsence::NeverStarted => format!(
                "job {job_id} ended ({state}) before its container started, so it has no log; `bna batch status` shows why"
            ),
            LogAbsence::StreamNotInGroup { group, stream } if state.is_terminal() => format!(
                "log group {group} has no stream {stream} for job {job_id}: the log_group setting must be the job definition's awslogs-group, set it with `bna batch configure --log-group …` (or the log has expired)"
            ),
            LogAbsence::StreamNotInGroup { group, stream } => format!(
                "job {job_id} has no lines in log group {group} yet (stream {stream}); if none come, the log_group setting differs from the job definition's awslogs-group"
            ),
        }
    }

    pub fn into_error(self, job_id: &str, state: JobState) -> CloudError {
        CloudError::NotFound(self.message(job_id, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_and_integer_timestamps_are_read() {
        let body = br#"{"events":[{"timestamp":1795358358367.879,"message":"a","ingestionTime":1795358358368.1},{"timestamp":5,"message":"b"},{"message":"c"}],"nextForwardToken":"f/1","nextBackwardToken":"b/0"}"#;
        let (lines, token) = lenient_log_events(body).unwrap();
        let got: Vec<(Option<i64>, &str)> = lines
            .iter()
            .map(|l| (l.timestamp_ms, l.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [(Some(1795358358367), "a"), (Some(5), "b"), (None, "c")]
        );
        assert_eq!(token.as_deref(), Some("f/1"));
        for not_logs in [&b"<html>"[..], b"{}", b"{\"events\":3}"] {
            assert!(lenient_log_events(not_logs).is_none());
        }
    }

    #[test]
    fn why_a_log_is_empty() {
        use JobState::*;
        let missing = LogAbsence::StreamNotInGroup {
            group: "g".into(),
            stream: "s".into(),
        };
        let cases = [
            (Runnable, None, false, Ok(Some(LogAbsence::NotStarted))),
            (Failed, None, false, Ok(Some(LogAbsence::NeverStarted))),
            (Running, Some("s"), true, Ok(None)),
            (Succeeded, Some("s"), true, Ok(None)),
            (Running, Some("s"), false, Ok(Some(missing.clone()))),
            (Succeeded, Some("s"), false, Err(missing.clone())),
            (Failed, Some("s"), false, Err(missing.clone())),
        ];
        for (state, stream, found, want) in cases {
            assert_eq!(
                absence(state, stream, found, "g"),
                want,
                "{state} {stream:?}"
            );
        }
        let m = missing.message("j1", Succeeded);
        assert!(
            m.contains("log group g") && m.contains("--log-group"),
            "{m}"
        );
        assert!(!m.contains('\n'));
        let e = missing.into_error("j1", Succeeded);
        assert!(e.is_bad_input(), "{e}");
    }
}
