//! What leaves the map for a meeting: a scale bar on the map itself, the current map view as
//! a PNG (an eframe screenshot cropped to the map), and a one-page, print-ready HTML summary
//! for a council (the BNA score, each category with what it measures, the mileage, and that
//! picture of the map beside it).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use eframe::egui::{self, pos2, vec2, Align2, Color32, ColorImage, FontId, Painter, Rect, Stroke};

use super::file_dialog::{PathRequest, PathUse, Pick};
use super::state::{file_name, BnaApp, Status};
use bna_engine::analysis::score_text;
use bna_engine::model::ProjectData;

/// Earth's equatorial circumference (m): Web Mercator's world width at the equator.
const EQUATOR_M: f64 = 40_075_016.686;
/// Local map units per world width (zoom-0 pixels, `geometry::WORLD_SIZE`).
const WORLD_UNITS: f64 = super::geometry::WORLD_SIZE;

/// Metres per screen pixel at latitude `lat` when one local unit is `scale` pixels.
pub fn metres_per_px(lat: f64, scale: f32) -> f64 {
    EQUATOR_M * lat.to_radians().cos() / WORLD_UNITS / f64::from(scale)
}

/// The longest round length (1, 2 or 5 × 10ⁿ m) that fits in `max_px`: its metres, its
/// pixels and its label ("500 m", "2 km").
pub fn scale_bar(m_per_px: f64, max_px: f32) -> Option<(f64, f32, String)> {
    if !(m_per_px.is_finite() && m_per_px > 0.0 && max_px > 0.0) {
        return None;
    }
    let max_m = m_per_px * f64::from(max_px);
    let mut best = None;
    let mut pow = 10f64.powi(max_m.log10().floor() as i32 - 1);
    for _ in 0..3 {
        for step in [1.0, 2.0, 5.0] {
            let m = step * pow;
            if m <= max_m {
                best = Some(m);
            }
        }
        pow *= 10.0;
    }
    let m = best?;
    let label = if m >= 1000.0 {
        format!("{} km", m / 1000.0)
    } else {
        format!("{m} m")
    };
    Some((m, (m / m_per_px) as f32, label))
}

/// Paints the scale bar at the map's bottom right corner, above the attribution.
pub(crate) fn paint_scale_bar(painter: &Painter, screen: Rect, m_per_px: f64) {
    let Some((_, px, label)) = scale_bar(m_per_px, 120.0) else {
        return;
    };
    let x0 = screen.right() - px - 24.0;
    let y = screen.bottom() - 44.0;
    let bg = Rect::from_min_max(pos2(x0 - 6.0, y - 20.0), pos2(x0 + px + 6.0, y + 6.0));
    painter.rect_filled(bg, 3.0, Color32::from_white_alpha(215));
    let dark = Color32::from_gray(30);
    let stroke = Stroke::new(2.0, dark);
    painter.line_segment([pos2(x0, y), pos2(x0 + px, y)], stroke);
    for x in [x0, x0 + px] {
        painter.line_segment([pos2(x, y - 5.0), pos2(x, y + 1.0)], stroke);
    }
    painter.text(
        pos2(x0 + px / 2.0, y - 4.0),
        Align2::CENTER_BOTTOM,
        label,
        FontId::proportional(12.0),
        dark,
    );
}

/// What to do with the next screenshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShotUse {
    /// The map as a PNG.
    Picture(PathBuf),
    /// The council summary: the page and its picture of the map beside it.
    Summary { html: PathBuf, png: PathBuf },
}

/// A screenshot asked of the window: where the map was, and where the pixels go.
#[derive(Debug)]
pub struct PendingShot {
    pub what: ShotUse,
    /// The map's rectangle (points) when asked.
    pub map: Rect,
    pub image: Arc<Mutex<Option<Arc<ColorImage>>>>,
}

/// The map's pixels, cropped out of a window screenshot taken at `pixels_per_point`.
pub fn crop_to_map(image: &ColorImage, map: Rect, pixels_per_point: f32) -> ColorImage {
    let full = Rect::from_min_size(
        egui::Pos2::ZERO,
        vec2(image.size[0] as f32, image.size[1] as f32) / pixels_per_point,
    );
    image.region(&map.intersect(full), Some(pixels_per_point))
}

/// Writes `image` as an RGBA PNG.
pub fn write_png(image: &ColorImage, path: &Path) -> Result<(), String> {
    let fail =
        |e: &dyn std::fmt::Display| format!("{}: cannot write the picture ({e})", path.display());
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let mut enc = png::Encoder::new(
        std::io::BufWriter::new(file),
        image.size[0] as u32,
        image.size[1] as u32,
    );
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| fail(&e))?;
    let bytes: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect();
    w.write_image_data(&bytes).map_err(|e| fail(&e))?;
    w.finish().map_err(|e| fail(&e))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn two(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

/// The one-page summary: the BNA score, every category score (members indented) with what it
/// measures, people and mileage, and the map picture `png_name` (beside the page).
pub fn summary_html(title: &str, data: &ProjectData, png_name: &str) -> String {
    let find = |id: &str| data.overall_scores.iter().find(|r| r.score_id == id);
    let overall = find("overall_score").and_then(|r| r.score_normalized);
    let mut rows = String::new();
    for t in score_text::SCORES.iter().filter(|t| {
        t.id != "overall_score" && !t.id.starts_with("total_") && t.id != "population_total"
    }) {
        let Some(r) = find(t.id) else { continue };
        let class = if t.parent.is_some() {
            " class=\"member\""
        } else {
            ""
        };
        rows.push_str(&format!(
            "<tr{class}><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
            escape(t.label),
            two(r.score_normalized),
            escape(t.measures)
        ));
    }
    let people: f64 = data.blocks.iter().map(|b| b.population).sum();
    let miles = |id: &str| two(find(id).and_then(|r| r.score_original));
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} – Bicycle Network Analysis</title>
<style>
@page {{ size: A4 portrait; margin: 14mm; }}
body {{ font: 10.5pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; }}
h1 {{ font-size: 17pt; margin: 0 0 2mm; }}
.score {{ font-size: 40pt; font-weight: 700; margin: 0; }}
.top {{ display: flex; gap: 6mm; align-items: flex-start; }}
.top img {{ width: 105mm; border: 1px solid #999; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 3mm; }}
td, th {{ border-bottom: 1px solid #ccc; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
tr.member td:first-child {{ padding-left: 6mm; }}
.note {{ color: #444; font-size: 9pt; }}
</style></head><body>
<h1>{title}: Bicycle Network Analysis</h1>
<div class="top">
<div>
<p>BNA score (0–100)</p>
<p class="score">{overall}</p>
<p>How well people can reach everyday destinations by bike on low-stress roads.</p>
<p>{people:.0} people in {blocks} census blocks.<br>Low-stress miles: {low}<br>High-stress miles: {high}</p>
</div>
<img src="{png}" alt="Map of the study area: roads by traffic stress">
</div>
<table><thead><tr><th>Score</th><th>Value</th><th>What it measures</th></tr></thead>
<tbody>
{rows}</tbody></table>
<p class="note">{dash} {zero} Scores from bna (PeopleForBikes BNA method) on OpenStreetMap data © OpenStreetMap contributors.</p>
</body></html>
"#,
        title = escape(title),
        overall = two(overall),
        blocks = data.blocks.len(),
        low = miles("total_miles_low_stress"),
        high = miles("total_miles_high_stress"),
        png = escape(png_name),
        dash = escape(score_text::DASH_MEANS),
        zero = escape(score_text::ZERO_MEANS),
    )
}

/// The map picture written next to the summary `html`: `<stem>-map.png`.
pub fn summary_picture_path(html: &Path) -> PathBuf {
    let stem = html
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "summary".into());
    html.with_file_name(format!("{stem}-map.png"))
}

impl BnaApp {
    /// File › Export map view as PNG…
    pub fn ask_map_picture(&mut self) {
        if self.project.is_none() {
            self.status = Status::Done("Nothing to export: open a project first".into());
            return;
        }
        self.choose_path(
            PathRequest::new(PathUse::MapPicture, Pick::Save, "Save the map view as")
                .filter("PNG picture", &["png"])
                .file_name("map.png"),
        );
    }

    /// File › Council summary (one page)…
    pub fn ask_council_summary(&mut self) {
        if self.project.is_none() {
            self.status = Status::Done("Nothing to export: open a project first".into());
            return;
        }
        self.choose_path(
            PathRequest::new(
                PathUse::CouncilSummary,
                Pick::Save,
                "Save the one-page summary as",
            )
            .filter("Web page", &["html"])
            .file_name("summary.html"),
        );
    }

    /// Asks the window for a screenshot; the map part is written when it arrives.
    pub(crate) fn request_map_shot(&mut self, what: ShotUse, ctx: &egui::Context) {
        let Some(map) = self.last_view.map(|v| v.screen) else {
            self.status = Status::Failed("the map is not drawn yet; try again".into());
            return;
        };
        let image = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&image);
        let wake = ctx.clone();
        ctx.request_screenshot(move |img| {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(img);
            wake.request_repaint();
        });
        self.status = Status::Working("Taking a picture of the map".into());
        self.shot = Some(PendingShot { what, map, image });
    }

    /// Per frame: writes the picture (and the summary) once the screenshot arrived.
    pub(crate) fn map_shot_frame(&mut self, ctx: &egui::Context) {
        if let Some(what) = self.shot_asked.take() {
            self.request_map_shot(what, ctx);
        }
        let Some(shot) = &self.shot else { return };
        let Some(image) = shot.image.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        let shot = self.shot.take().expect("checked above");
        let crop = crop_to_map(&image, shot.map, ctx.pixels_per_point());
        let result = match &shot.what {
            ShotUse::Picture(png) => write_png(&crop, png).map(|()| {
                format!(
                    "Map view saved to {} ({}×{} px)",
                    png.display(),
                    crop.size[0],
                    crop.size[1]
                )
            }),
            ShotUse::Summary { html, png } => self.write_summary(html, png, &crop),
        };
        self.status = match result {
            Ok(m) => Status::Done(m),
            Err(e) => Status::Failed(e),
        };
    }

    fn write_summary(&self, html: &Path, png: &Path, map: &ColorImage) -> Result<String, String> {
        let Some(p) = &self.project else {
            return Err("no project is open".into());
        };
        write_png(map, png)?;
        let title = p
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let page = summary_html(&title, &p.data, &file_name(png));
        std::fs::write(html, page)
            .map_err(|e| format!("{}: cannot write the summary ({e})", html.display()))?;
        Ok(format!(
            "One-page summary saved to {} (with {}); open it in a browser and print",
            html.display(),
            file_name(png)
        ))
    }

    /// A path chosen for a picture or a summary: the screenshot is asked next frame.
    pub(crate) fn map_export_chosen(&mut self, purpose: PathUse, path: &Path) {
        let with_ext = |ext: &str| {
            let mut p = path.to_path_buf();
            if p.extension().is_none() {
                p.set_extension(ext);
            }
            p
        };
        let what = match purpose {
            PathUse::MapPicture => ShotUse::Picture(with_ext("png")),
            _ => {
                let html = with_ext("html");
                ShotUse::Summary {
                    png: summary_picture_path(&html),
                    html,
                }
            }
        };
        self.shot_asked = Some(what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bars_are_round_and_fit() {
        // (metres per px, max px) → (metres, label)
        let cases = [
            (1.0, 120.0, 100.0, "100 m"),
            (2.0, 120.0, 200.0, "200 m"),
            (4.0, 120.0, 200.0, "200 m"),
            (5.0, 120.0, 500.0, "500 m"),
            (10.0, 120.0, 1000.0, "1 km"),
            (30.0, 120.0, 2000.0, "2 km"),
            (0.1, 120.0, 10.0, "10 m"),
        ];
        for (mpp, max, m, label) in cases {
            let (got_m, px, got_label) = scale_bar(mpp, max).expect("a bar");
            assert_eq!((got_m, got_label.as_str()), (m, label), "{mpp}");
            assert!(px <= max && px > max / 5.0 * 0.99, "{mpp}: {px}");
        }
        assert_eq!(scale_bar(0.0, 120.0), None);
        assert_eq!(scale_bar(f64::NAN, 120.0), None);
    }

    #[test]
    fn metres_per_pixel_follow_latitude_and_zoom() {
        // Zoom 0: the world's 256 units at 1 px each → 156 km/px at the equator.
        assert!((metres_per_px(0.0, 1.0) - 156_543.03).abs() < 0.1);
        // Half as much at 60°, and halved by each zoom level.
        assert!((metres_per_px(60.0, 2.0) - 156_543.03 / 4.0).abs() < 0.1);
    }

    #[test]
    fn crop_takes_the_map_in_physical_pixels() {
        let mut img = ColorImage::filled([200, 100], Color32::WHITE);
        for y in 20..60 {
            for x in 40..140 {
                img.pixels[y * 200 + x] = Color32::RED;
            }
        }
        // The map at (20, 10)–(70, 30) points on a 2× screen.
        let map = Rect::from_min_max(pos2(20.0, 10.0), pos2(70.0, 30.0));
        let c = crop_to_map(&img, map, 2.0);
        assert_eq!(c.size, [100, 40]);
        assert!(c.pixels.iter().all(|p| *p == Color32::RED));
        // A map reaching past the window is cut to it.
        let big = Rect::from_min_max(pos2(50.0, 0.0), pos2(500.0, 500.0));
        assert_eq!(crop_to_map(&img, big, 2.0).size, [100, 100]);
    }

    #[test]
    fn png_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.png");
        let mut img = ColorImage::filled([3, 2], Color32::from_rgb(10, 20, 30));
        img.pixels[5] = Color32::from_rgb(200, 100, 0);
        write_png(&img, &p).expect("written");
        let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&p).unwrap()));
        let mut r = dec.read_info().expect("a png");
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(&buf[..4], &[10, 20, 30, 255]);
        assert_eq!(&buf[20..24], &[200, 100, 0, 255]);
    }

    #[test]
    fn summary_picture_sits_beside_the_page() {
        let cases = [
            ("/x/council.html", "/x/council-map.png"),
            ("/x/report", "/x/report-map.png"),
        ];
        for (html, png) in cases {
            assert_eq!(summary_picture_path(Path::new(html)), PathBuf::from(png));
        }
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
