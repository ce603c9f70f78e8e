//! Drawing a study-area boundary on the map: the corners the user placed, with undo. Whether
//! the shape is acceptable is decided by the engine (`ingest::boundary::boundary_from_corners`),
//! never here, so a drawn boundary is refused for exactly the reasons a file would be.

use std::path::{Path, PathBuf};

use eframe::egui::Pos2;
use geo::MultiPolygon;

use bna_engine::ingest::boundary;

/// Pointer distance (px) within which a corner is grabbed, deleted or closes the shape.
pub const GRAB_RADIUS_PX: f32 = 9.0;

/// A boundary being drawn: corners in (lon, lat), an open ring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawing {
    pub corners: Vec<(f64, f64)>,
    history: Vec<Vec<(f64, f64)>>,
    /// The corner being dragged.
    pub dragging: Option<usize>,
    /// Why the last attempt to close the shape was refused.
    pub refused: Option<String>,
}

impl Drawing {
    fn snapshot(&mut self) {
        self.history.push(self.corners.clone());
        self.refused = None;
    }

    pub fn add(&mut self, c: (f64, f64)) {
        self.snapshot();
        self.corners.push(c);
    }

    pub fn remove(&mut self, i: usize) {
        if i < self.corners.len() {
            self.snapshot();
            self.corners.remove(i);
        }
    }

    pub fn begin_drag(&mut self, i: usize) {
        if i < self.corners.len() {
            self.snapshot();
            self.dragging = Some(i);
        }
    }

    pub fn drag_to(&mut self, c: (f64, f64)) {
        if let Some(v) = self.dragging.and_then(|i| self.corners.get_mut(i)) {
            *v = c;
        }
    }

    pub fn end_drag(&mut self) {
        self.dragging = None;
    }

    pub fn can_undo(&self) -> bool {
        !self.history.is_empty()
    }

    /// Reverts the last add, move or delete.
    pub fn undo(&mut self) {
        if let Some(prev) = self.history.pop() {
            self.corners = prev;
            self.dragging = None;
            self.refused = None;
        }
    }

    /// The corner nearest to screen point `p` within [`GRAB_RADIUS_PX`].
    pub fn corner_near(&self, to_screen: impl Fn((f64, f64)) -> Pos2, p: Pos2) -> Option<usize> {
        self.corners
            .iter()
            .enumerate()
            .map(|(i, &c)| (i, to_screen(c).distance(p)))
            .filter(|(_, d)| *d <= GRAB_RADIUS_PX)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// The boundary if the engine accepts the shape; otherwise the reason is kept for display.
    pub fn close(&mut self) -> Option<MultiPolygon<f64>> {
        match boundary::boundary_from_corners(&self.corners) {
            Ok(b) => {
                self.refused = None;
                Some(b)
            }
            Err(reason) => {
                self.refused = Some(reason);
                None
            }
        }
    }
}

/// Where a drawn boundary is saved: next to the project being set up (`out`), else in `dir`.
pub fn boundary_file(out: Option<&Path>, dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(out) = out.filter(|o| o.parent().is_some_and(|p| p.is_dir())) {
        let stem = out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = if stem.is_empty() {
            "drawn".to_owned()
        } else {
            stem
        };
        return Some(out.with_file_name(format!("{stem}-boundary.geojson")));
    }
    dir.map(|d| d.join("drawn-boundary.geojson"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use eframe::egui::pos2;

    #[test]
    fn edits_undo_in_order() {
        let mut d = Drawing::default();
        d.add((0.0, 0.0));
        d.add((1.0, 0.0));
        d.add((1.0, 1.0));
        d.begin_drag(2);
        d.drag_to((2.0, 2.0));
        d.drag_to((1.5, 1.5));
        d.end_drag();
        d.remove(0);
        assert_eq!(d.corners, vec![(1.0, 0.0), (1.5, 1.5)]);
        d.undo();
        assert_eq!(d.corners, vec![(0.0, 0.0), (1.0, 0.0), (1.5, 1.5)]);
        d.undo();
        assert_eq!(d.corners[2], (1.0, 1.0), "a whole drag is one step");
        d.undo();
        d.undo();
        d.undo();
        assert!(d.corners.is_empty() && !d.can_undo());
        d.undo();
    }

    #[test]
    fn corner_near_picks_the_closest_within_reach() {
        let mut d = Drawing::default();
        d.add((0.0, 0.0));
        d.add((10.0, 0.0));
        let s = |c: (f64, f64)| pos2(c.0 as f32, c.1 as f32);
        assert_eq!(d.corner_near(s, pos2(7.0, 1.0)), Some(1));
        assert_eq!(d.corner_near(s, pos2(2.0, 0.0)), Some(0));
        assert_eq!(d.corner_near(s, pos2(5.0, 30.0)), None);
    }

    #[test]
    fn close_keeps_the_engines_reason() {
        let mut d = Drawing::default();
        d.add((-77.0, 38.9));
        d.add((-76.99, 38.9));
        assert!(d.close().is_none());
        assert!(d
            .refused
            .as_deref()
            .is_some_and(|r| r.contains("at least 3")));
        d.add((-76.99, 38.91));
        assert!(d.close().is_some());
        assert_eq!(d.refused, None);
    }

    #[test]
    fn boundary_file_goes_next_to_the_project() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("city.bna");
        assert_eq!(
            boundary_file(Some(&out), None),
            Some(dir.path().join("city-boundary.geojson"))
        );
        let missing = dir.path().join("nope/city.bna");
        assert_eq!(
            boundary_file(Some(&missing), Some(dir.path())),
            Some(dir.path().join("drawn-boundary.geojson"))
        );
        assert_eq!(boundary_file(None, None), None);
    }
}
