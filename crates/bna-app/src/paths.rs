//! Where the app keeps its files (`bna_engine::user_dirs`: XDG base directories, on Windows the
//! user's AppData folders) and the recent-projects list.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many recent projects the File menu offers.
pub const MAX_RECENT: usize = 10;

pub use bna_engine::user_dirs::{user_dir, xdg_dir, Convention, UserDir};

fn current(kind: UserDir) -> Option<PathBuf> {
    user_dir(kind, Convention::CURRENT, |k| std::env::var_os(k))
}

/// `$XDG_DATA_HOME/bna` (default `~/.local/share/bna`; Windows `%LOCALAPPDATA%\bna`): the demo
/// project lives here.
pub fn data_home() -> Option<PathBuf> {
    current(UserDir::Data)
}

/// `$XDG_CONFIG_HOME/bna` (default `~/.config/bna`; Windows `%APPDATA%\bna`): the
/// recent-projects list.
pub fn config_home() -> Option<PathBuf> {
    current(UserDir::Config)
}

/// `$XDG_CACHE_HOME/bna` (default `~/.cache/bna`; Windows `%LOCALAPPDATA%\bna\cache`): the
/// basemap tile cache.
pub fn cache_home() -> Option<PathBuf> {
    current(UserDir::Cache)
}

/// Most recently used `.bna` projects, newest first; and the panels the user folded, the
/// only other thing the app remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentProjects {
    pub projects: Vec<PathBuf>,
    #[serde(default)]
    pub layout: super::layout::PanelLayout,
}

impl RecentProjects {
    /// A missing or unreadable file is an empty list: losing the list must never stop the app.
    pub fn load(file: &Path) -> Self {
        std::fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, file: &Path) -> std::io::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(file, json)
    }

    /// Moves `path` to the front, dropping duplicates and the oldest beyond [`MAX_RECENT`].
    pub fn touch(&mut self, path: &Path) {
        self.projects.retain(|p| p != path);
        self.projects.insert(0, path.to_path_buf());
        self.projects.truncate(MAX_RECENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_moves_to_front_dedups_and_caps() {
        let mut r = RecentProjects::default();
        for i in 0..12 {
            r.touch(Path::new(&format!("/p/{i}.bna")));
        }
        assert_eq!(r.projects.len(), MAX_RECENT);
        assert_eq!(r.projects[0], PathBuf::from("/p/11.bna"));
        r.touch(Path::new("/p/5.bna"));
        assert_eq!(r.projects[0], PathBuf::from("/p/5.bna"));
        assert_eq!(
            r.projects.iter().filter(|p| p.ends_with("5.bna")).count(),
            1
        );
    }

    #[test]
    fn recent_round_trip_and_corrupt_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sub/recent.json");
        let mut r = RecentProjects::default();
        r.touch(Path::new("/a.bna"));
        r.save(&file).expect("save");
        assert_eq!(RecentProjects::load(&file), r);
        std::fs::write(&file, b"{not json").expect("write");
        assert_eq!(RecentProjects::load(&file), RecentProjects::default());
    }
}
