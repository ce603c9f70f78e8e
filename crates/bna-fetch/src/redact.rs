//! Credentials never leave the request: a URL shown in a message, a progress line, a log or
//! a cache manifest has its user-info and its secret-looking query values replaced by `***`.
//!
//! Base URLs may carry a password (`https://user:pw@mirror/…`) or a token (`?token=…`) for a
//! private mirror; the request needs them, nothing else does.

/// What replaces a credential.
const HIDDEN: &str = "***";

/// Query parameter names whose values are credentials: any name containing one of these
/// (case-insensitive), e.g. `token`, `access_token`, `api_key`, `X-Amz-Signature`, `sig`.
const SECRET_NAME_PARTS: [&str; 9] = [
    "token",
    "key",
    "pass",
    "pwd",
    "secret",
    "sig",
    "auth",
    "credential",
    "session",
];

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|p| name.contains(p))
}

/// `url` with user-info and secret query values hidden; anything else is kept as written, so
/// the URL stays recognisable.
pub fn url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = hide_userinfo(base);
    if let Some(q) = query {
        out.push('?');
        out.push_str(&hide_query_values(q));
    }
    if let Some(f) = fragment {
        out.push('#');
        // A fragment is never sent, but OAuth-style `#access_token=` ones are still secrets.
        out.push_str(&hide_query_values(f));
    }
    out
}

fn hide_userinfo(base: &str) -> String {
    let (scheme, rest) = match base.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, base),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("{HIDDEN}@{host}"),
        None => authority.to_owned(),
    };
    match scheme {
        Some(s) => format!("{s}://{authority}{path}"),
        None => format!("{authority}{path}"),
    }
}

fn hide_query_values(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}={HIDDEN}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `text` with every URL in it redacted: for messages that quote a URL inside other words
/// (a library's error, a server's answer).
pub fn in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url_start(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        // A sentence's closing punctuation is not part of the URL.
        let end = tail[..end].trim_end_matches([')', ',', ';', '.']).len();
        out.push_str(&url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn find_url_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    ["http://", "https://"]
        .iter()
        .filter_map(|s| lower.find(s))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_and_nothing_else() {
        let cases = [
            // (given, shown)
            (
                "https://www2.census.gov/geo/tiger/TIGER2020/x.zip",
                "https://www2.census.gov/geo/tiger/TIGER2020/x.zip",
            ),
            (
                "https://user:hunter2@mirror.example/tiger",
                "https://***@mirror.example/tiger",
            ),
            ("http://ghp_abc@127.0.0.1:8080/x", "http://***@127.0.0.1:8080/x"),
            // An @ in the path is not user-info.
            (
                "https://host/a@b/c?x=1",
                "https://host/a@b/c?x=1",
            ),
            (
                "https://host/f.zip?token=s3cr3t&year=2021",
                "https://host/f.zip?token=***&year=2021",
            ),
            (
                "https://host/f?api_key=1&Password=2&X-Amz-Signature=3&sig=4&X-Amz-Credential=5",
                "https://host/f?api_key=***&Password=***&X-Amz-Signature=***&sig=***&X-Amz-Credential=***",
            ),
            (
                "https://u:p@host/f?access_token=t#frag",
                "https://***@host/f?access_token=***#frag",
            ),
            ("https://host/cb#access_token=t", "https://host/cb#access_token=***"),
            ("not a url", "not a url"),
            ("", ""),
        ];
        for (given, shown) in cases {
            assert_eq!(url(given), shown, "{given}");
            assert!(!url(given).contains("hunter2"));
        }
    }

    #[test]
    fn urls_inside_sentences_are_redacted() {
        let cases = [
            (
                "cannot reach http://u:pw@127.0.0.1:9/x?token=abc (connection refused)",
                "cannot reach http://***@127.0.0.1:9/x?token=*** (connection refused)",
            ),
            (
                "redirected to \"HTTPS://h/x?key=k\", then https://h/y?secret=s.",
                "redirected to \"HTTPS://h/x?key=***\", then https://h/y?secret=***.",
            ),
            ("no URL here", "no URL here"),
        ];
        for (given, shown) in cases {
            assert_eq!(in_text(given), shown, "{given}");
        }
    }
}
