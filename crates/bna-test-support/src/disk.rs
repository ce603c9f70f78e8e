//! Small and read-only disks for tests, without root or a real device: a tmpfs in a private user
//! and mount namespace (`unshare -rm`, util-linux).

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `script` in `sh` with `$MNT` a fresh tmpfs of `size` (`"4k"`, `"64m"`) and the given
/// environment (`("BNA", path of the binary under test)`, …).
pub fn in_tmpfs(size: &str, script: &str, env: &[(&str, PathBuf)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let full = format!("mount -t tmpfs -o size={size} tmpfs \"$MNT\" && {script}");
    let mut c = Command::new("unshare");
    c.args(["-rm", "sh", "-c", &full]).env("MNT", &mnt);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c
        .output()
        .expect("unshare (util-linux) is needed for this test");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("unshare failed"),
        "user namespaces are needed for this test: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_full_tmpfs_refuses_more_bytes() {
        let o = super::in_tmpfs("4k", "head -c 65536 /dev/zero > \"$MNT/f\"", &[]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("No space left"));
    }
}
