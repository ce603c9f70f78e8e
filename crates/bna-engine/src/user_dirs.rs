//! Where bna keeps a user's files, by the conventions of their system: XDG base directories
//! (Linux, the BSDs, and macOS for now), or `%LOCALAPPDATA%` / `%APPDATA%` on Windows. The app
//! (projects, recent list, tiles), downloads (the shared cache) and the cloud settings all
//! ask here, so that the three never disagree about a folder.
//!
//! Every function takes the environment as a lookup, so each convention is tested on any
//! system.

use std::ffi::OsString;
use std::path::PathBuf;

/// `$VAR/bna`, or `$HOME/<fallback>/bna` when the variable is unset or not absolute (the XDG
/// spec says relative values are invalid and must be ignored).
pub fn xdg_dir(var: Option<OsString>, home: Option<OsString>, fallback: &str) -> Option<PathBuf> {
    let from_var = var
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .map(|p| p.join("bna"));
    from_var.or_else(|| {
        home.map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|h| h.join(fallback).join("bna"))
    })
}

/// Whose conventions the user folders follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// XDG base directories (Linux, the BSDs, and macOS for now).
    Xdg,
    /// `%LOCALAPPDATA%` for data and caches (large, never roamed), `%APPDATA%` for settings.
    Windows,
}

impl Convention {
    pub const CURRENT: Convention = if cfg!(windows) {
        Convention::Windows
    } else {
        Convention::Xdg
    };
}

/// The kinds of folder the app keeps files in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserDir {
    Data,
    Config,
    Cache,
}

/// Where the app keeps `kind` under `convention`, reading the environment through `env`:
/// XDG: `$XDG_DATA_HOME/bna`, `$XDG_CONFIG_HOME/bna`, `$XDG_CACHE_HOME/bna` (see [`xdg_dir`]);
/// Windows: `%LOCALAPPDATA%\bna`, `%APPDATA%\bna`, `%LOCALAPPDATA%\bna\cache`.
pub fn user_dir(
    kind: UserDir,
    convention: Convention,
    env: impl Fn(&str) -> Option<OsString>,
) -> Option<PathBuf> {
    match convention {
        Convention::Xdg => {
            let (var, fallback) = match kind {
                UserDir::Data => ("XDG_DATA_HOME", ".local/share"),
                UserDir::Config => ("XDG_CONFIG_HOME", ".config"),
                UserDir::Cache => ("XDG_CACHE_HOME", ".cache"),
            };
            xdg_dir(env(var), env("HOME"), fallback)
        }
        Convention::Windows => {
            let var = match kind {
                UserDir::Data | UserDir::Cache => "LOCALAPPDATA",
                UserDir::Config => "APPDATA",
            };
            let base = env(var)
                .filter(|v| is_windows_absolute(&v.to_string_lossy()))
                .map(|v| PathBuf::from(v).join("bna"))?;
            Some(match kind {
                UserDir::Cache => base.join("cache"),
                UserDir::Data | UserDir::Config => base,
            })
        }
    }
}

/// `C:\…`, `C:/…` or `\\server\share…`: a relative value would put files wherever the app was
/// started from.
pub fn is_windows_absolute(s: &str) -> bool {
    let b = s.as_bytes();
    s.starts_with(r"\\")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

/// An environment given as (name, value) pairs, for [`user_dir`] and the callers' own
/// `*_from` functions: tests, or resolving a folder for another system.
pub fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
    move |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| OsString::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_dir_rules() {
        let os = |s: &str| Some(OsString::from(s));
        // (variable, HOME, expected)
        let rows: [(Option<OsString>, Option<OsString>, Option<&str>); 5] = [
            (os("/x/data"), os("/home/u"), Some("/x/data/bna")),
            (None, os("/home/u"), Some("/home/u/.local/share/bna")),
            (
                os("relative"),
                os("/home/u"),
                Some("/home/u/.local/share/bna"),
            ),
            (None, None, None),
            (None, os("relative-home"), None),
        ];
        for (var, home, want) in rows {
            assert_eq!(
                xdg_dir(var.clone(), home.clone(), ".local/share"),
                want.map(PathBuf::from),
                "{var:?} {home:?}"
            );
        }
    }

    #[test]
    fn user_dir_follows_each_convention() {
        let win: &'static [(&str, &str)] = &[
            ("LOCALAPPDATA", r"C:\Users\Zoë\AppData\Local"),
            ("APPDATA", r"C:\Users\Zoë\AppData\Roaming"),
            ("HOME", "/home/z"),
            ("XDG_CACHE_HOME", "/x/cache"),
        ];
        let local = PathBuf::from(r"C:\Users\Zoë\AppData\Local").join("bna");
        let roaming = PathBuf::from(r"C:\Users\Zoë\AppData\Roaming").join("bna");
        // (kind, convention, environment, expected)
        type Row = (
            UserDir,
            Convention,
            &'static [(&'static str, &'static str)],
            Option<PathBuf>,
        );
        let rows: [Row; 8] = [
            (UserDir::Data, Convention::Windows, win, Some(local.clone())),
            (
                UserDir::Cache,
                Convention::Windows,
                win,
                Some(local.join("cache")),
            ),
            (UserDir::Config, Convention::Windows, win, Some(roaming)),
            // XDG variables mean nothing on Windows; a relative AppData is refused.
            (
                UserDir::Cache,
                Convention::Windows,
                &[("XDG_CACHE_HOME", "/x")],
                None,
            ),
            (
                UserDir::Data,
                Convention::Windows,
                &[("LOCALAPPDATA", r"AppData\Local")],
                None,
            ),
            (
                UserDir::Cache,
                Convention::Xdg,
                win,
                Some(PathBuf::from("/x/cache/bna")),
            ),
            (
                UserDir::Config,
                Convention::Xdg,
                win,
                Some(PathBuf::from("/home/z/.config/bna")),
            ),
            (
                UserDir::Data,
                Convention::Xdg,
                win,
                Some(PathBuf::from("/home/z/.local/share/bna")),
            ),
        ];
        for (kind, convention, vars, want) in rows {
            assert_eq!(
                user_dir(kind, convention, env_of(vars)),
                want,
                "{kind:?} {convention:?} {vars:?}"
            );
        }
    }

    #[test]
    fn windows_absolute_paths() {
        for (s, want) in [
            (r"C:\Users", true),
            ("d:/x", true),
            (r"\\server\share", true),
            (r"Users\x", false),
            ("C:", false),
            ("/home/u", false),
            ("", false),
        ] {
            assert_eq!(is_windows_absolute(s), want, "{s}");
        }
    }
}
