//! A self-contained HTML report of one comparison (tables and an inline SVG map, no external
//! resources) that a planner can hand to a council.

use std::fmt::Write;
use std::path::Path;

use geo::{BoundingRect, LineString, Polygon};

use super::{compare_loaded, Comparison, ScenarioError};
use crate::analysis::score_text;
use crate::model::ProjectData;
use crate::pipeline;

const MAP_WIDTH: f64 = 900.0;

/// How a report's title starts; an existing file whose `<title>` starts so is an earlier report
/// that may be replaced.
const TITLE_PREFIX: &str = "BNA scenario report: ";

/// Whether the file at `path` is a report written by bna (see [`TITLE_PREFIX`]).
pub fn is_report(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(1024).read_to_end(&mut head));
    read.is_ok()
        && String::from_utf8_lossy(&head).contains(&format!("<title>{}", esc(TITLE_PREFIX)))
}

/// The report of scenario `b` against `a` for the project at `project`.
pub fn report_html(project: &Path, a: &str, b: &str) -> Result<String, ScenarioError> {
    let base = pipeline::load_results(project)?;
    let c = compare_loaded(&base, project, a, b)?;
    Ok(render(project, &base, &c))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn signed(x: Option<f64>) -> String {
    match x {
        Some(v) if v.abs() < 5e-5 => "0".to_owned(),
        Some(v) => format!("{v:+.4}"),
        None => "–".to_owned(),
    }
}

/// Diverging colour for `t` in −1..1: red (worse), light grey (0), blue (better).
pub(crate) fn diverging(t: f64) -> String {
    let t = t.clamp(-1.0, 1.0);
    let (end, mid) = if t >= 0.0 {
        ((33.0, 102.0, 172.0), (247.0, 247.0, 247.0))
    } else {
        ((178.0, 24.0, 43.0), (247.0, 247.0, 247.0))
    };
    let k = t.abs();
    let mix = |e: f64, m: f64| (m + (e - m) * k).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(end.0, mid.0),
        mix(end.1, mid.1),
        mix(end.2, mid.2)
    )
}

struct Frame {
    min_x: f64,
    max_y: f64,
    kx: f64,
    ky: f64,
    height: f64,
}

impl Frame {
    fn new(base: &ProjectData) -> Option<Frame> {
        let r = base.boundary_ll.bounding_rect()?;
        let lat0 = (r.min().y + r.max().y) / 2.0;
        let w = (r.max().x - r.min().x) * lat0.to_radians().cos();
        let h = r.max().y - r.min().y;
        if w <= 0.0 || h <= 0.0 {
            return None;
        }
        let k = MAP_WIDTH / w;
        Some(Frame {
            min_x: r.min().x,
            max_y: r.max().y,
            kx: k * lat0.to_radians().cos(),
            ky: k,
            height: h * k,
        })
    }

    fn path(&self, ls: &LineString<f64>, close: bool, out: &mut String) {
        for (i, c) in ls.coords().enumerate() {
            let x = (c.x - self.min_x) * self.kx;
            let y = (self.max_y - c.y) * self.ky;
            let _ = write!(out, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
        }
        if close {
            out.push('Z');
        }
    }

    fn polygon(&self, p: &Polygon<f64>, out: &mut String) {
        self.path(p.exterior(), true, out);
        for r in p.interiors() {
            self.path(r, true, out);
        }
    }
}

fn svg_map(base: &ProjectData, c: &Comparison) -> String {
    let Some(f) = Frame::new(base) else {
        return String::from("<p>(no map: the boundary is empty)</p>");
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="-10 -10 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="Map of changed blocks and segments">"#,
        w = MAP_WIDTH + 20.0,
        h = f.height + 20.0
    );
    s.push_str(r##"<rect x="-10" y="-10" width="100%" height="100%" fill="#ffffff"/>"##);
    let max_abs = c
        .blocks
        .iter()
        .map(|b| b.delta.abs())
        .fold(0.0_f64, f64::max);
    s.push_str(r##"<g id="blocks" stroke="#999" stroke-width="0.3">"##);
    for b in &c.blocks {
        let t = if max_abs > 0.0 {
            b.delta / max_abs
        } else {
            0.0
        };
        let mut d = String::new();
        for p in &base.blocks[b.block as usize].geom_ll {
            f.polygon(p, &mut d);
        }
        let _ = write!(
            s,
            r#"<path d="{d}" fill="{}"><title>block {} score {:.2} → {:.2} ({:+.2})</title></path>"#,
            diverging(t),
            esc(&b.geoid),
            b.a,
            b.b,
            b.delta
        );
    }
    s.push_str("</g>");
    let mut d = String::new();
    for seg in &base.segments {
        f.path(&seg.geom_ll, false, &mut d);
    }
    let _ = write!(
        s,
        r##"<path id="network" d="{d}" fill="none" stroke="#bbbbbb" stroke-width="0.6"/>"##
    );
    s.push_str(r#"<g id="segments" fill="none" stroke-width="3" stroke-linecap="round">"#);
    for sd in &c.segments {
        let mut d = String::new();
        f.path(&base.segments[sd.road_id as usize].geom_ll, false, &mut d);
        let t = (-sd.high_stress_change as f64 / 2.0).clamp(-1.0, 1.0);
        let colour = if sd.high_stress_change == 0 {
            "#7b3294".to_owned()
        } else {
            diverging(if t.abs() < 0.6 { t.signum() * 0.6 } else { t })
        };
        let _ = write!(
            s,
            r#"<path d="{d}" stroke="{colour}"><title>road {} {}: high-stress directions {:+}</title></path>"#,
            sd.road_id,
            esc(sd.name.as_deref().unwrap_or("")),
            sd.high_stress_change
        );
    }
    s.push_str("</g></svg>");
    s
}

fn render(project: &Path, base: &ProjectData, c: &Comparison) -> String {
    let mut h = String::new();
    let title = format!("{TITLE_PREFIX}{} vs {}", c.b, c.a);
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 1000px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.up {{ color: #21669c; font-weight: bold; }} .down {{ color: #b2182b; font-weight: bold; }}
.legend span {{ display: inline-block; width: 1.2em; height: 0.9em; vertical-align: middle; }}
</style></head><body>
<h1>{t}</h1>
<p>Project <code>{p}</code>, analysis of {when}. Scores are 0–100; a delta is <em>{b}</em> minus <em>{a}</em>.</p>
"#,
        t = esc(&title),
        p = esc(&project.display().to_string()),
        when = esc(&base.metadata.finished_at),
        a = esc(&c.a),
        b = esc(&c.b),
    );
    let overall = c.scores.iter().find(|s| s.score_id == "overall_score");
    let _ = write!(
        h,
        r#"<h2>Summary</h2><ul>
<li>Overall score: {} → {} (<strong>{}</strong>)</li>
<li>People who gain a low-stress connection: <strong>{:.0}</strong> in {} blocks</li>
<li>People who lose one: {:.0} in {} blocks</li>
<li>Blocks whose score changed: {}; segments edited or changed: {}</li></ul>
"#,
        num(overall.and_then(|s| s.a), 2),
        num(overall.and_then(|s| s.b), 2),
        signed(c.overall_delta()),
        c.people_gaining,
        c.blocks_gaining,
        c.people_losing,
        c.blocks_losing,
        c.blocks.iter().filter(|b| b.delta != 0.0).count(),
        c.segments.len()
    );
    h.push_str("<h2>Map</h2>\n");
    h.push_str(&svg_map(base, c));
    let _ = write!(
        h,
        r#"<p class="legend">Blocks: <span style="background:{}"></span> score fell
<span style="background:{}"></span> unchanged <span style="background:{}"></span> score rose (scaled to the largest change).
Segments: <span style="background:{}"></span> fewer high-stress directions <span style="background:{}"></span> more
<span style="background:#7b3294"></span> edited, stress unchanged.</p>
"#,
        diverging(-1.0),
        diverging(0.0),
        diverging(1.0),
        diverging(1.0),
        diverging(-1.0)
    );
    h.push_str(r#"<h2 id="scores">Scores</h2><table id="score-table"><tr><th>Score</th><th>"#);
    let _ = writeln!(
        h,
        "{}</th><th>{}</th><th>Delta</th><th>What it measures</th></tr>",
        esc(&c.a),
        esc(&c.b)
    );
    for s in &c.scores {
        let class = match s.delta {
            Some(d) if d > 5e-5 => "up",
            Some(d) if d < -5e-5 => "down",
            _ => "",
        };
        let _ = writeln!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="{class}">{}</td><td style="text-align:left">{}</td></tr>"#,
            esc(&s.score_id),
            num(s.a, 4),
            num(s.b, 4),
            signed(s.delta),
            esc(score_text::find(&s.score_id).map_or(s.human_explanation.as_str(), |t| t.measures))
        );
    }
    h.push_str("</table>\n<h2>Segments</h2><table><tr><th>Road</th><th>Name</th><th>Edited</th><th>Stress before (ft/tf seg, ft/tf crossing)</th><th>Stress after</th></tr>\n");
    let st = |s: &crate::model::SegmentStress| {
        [s.ft_seg, s.tf_seg, s.ft_int, s.tf_int]
            .iter()
            .map(|x| x.map_or("–".to_owned(), |v| v.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for sd in &c.segments {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            sd.road_id,
            esc(sd.name.as_deref().unwrap_or("")),
            match (sd.edited_in_a, sd.edited_in_b) {
                (true, true) => "both",
                (true, false) => "a",
                (false, true) => "b",
                _ => "",
            },
            st(&sd.stress_a),
            st(&sd.stress_b)
        );
    }
    h.push_str("</table>\n<h2>Blocks whose score changed</h2><table><tr><th>Block</th><th>Population</th><th>Score before</th><th>after</th><th>Delta</th><th>Low-stress reach before</th><th>after</th></tr>\n");
    let mut blocks: Vec<_> = c.blocks.iter().collect();
    blocks.sort_by(|x, y| y.delta.total_cmp(&x.delta).then(x.block.cmp(&y.block)));
    for b in blocks {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{:.0}</td><td>{:.2}</td><td>{:.2}</td><td>{:+.2}</td><td>{}</td><td>{}</td></tr>",
            esc(&b.geoid),
            b.population,
            b.a,
            b.b,
            b.delta,
            b.reach_a,
            b.reach_b
        );
    }
    h.push_str("</table>\n<p>Method: PeopleForBikes BNA re-scored on the edited network; see docs/methodology.md, “Scenarios”.</p>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_runs_red_through_grey_to_blue() {
        assert_eq!(diverging(-1.0), "#b2182b");
        assert_eq!(diverging(0.0), "#f7f7f7");
        assert_eq!(diverging(1.0), "#2166ac");
        assert_eq!(diverging(7.0), diverging(1.0));
        assert_ne!(diverging(0.5), diverging(-0.5));
    }

    #[test]
    fn reports_are_recognised_by_their_title() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                format!("<html><head><title>{TITLE_PREFIX}b vs a</title>"),
                true,
            ),
            ("<html><head><title>My page</title>".to_string(), false),
            (String::new(), false),
        ];
        for (i, (text, expected)) in cases.into_iter().enumerate() {
            let p = dir.path().join(format!("{i}.html"));
            std::fs::write(&p, &text).unwrap();
            assert_eq!(is_report(&p), expected, "{text}");
        }
        assert!(!is_report(&dir.path().join("missing.html")));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc(r#"<a href="x">&"#), "&lt;a href=&quot;x&quot;&gt;&amp;");
        assert_eq!(signed(Some(0.00001)), "0");
        assert_eq!(signed(Some(1.5)), "+1.5000");
        assert_eq!(num(None, 2), "–");
    }
}
