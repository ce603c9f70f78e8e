//! What each city score is called and what it measures, in plain words, for every place a
//! person reads scores: the app's tooltips, the scenario report's "What it measures" column
//! and the exported web page. The rows are in reading order, each group before its members.

use crate::model::DestinationCategory;

/// One city score (`neighborhood_overall_scores.score_id`) as people read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreText {
    pub id: &'static str,
    /// A short human label ("Core services", "Grocery stores").
    pub label: &'static str,
    /// The group this score is a member of; `None` for the overall score, the six
    /// categories and the totals.
    pub parent: Option<&'static str>,
    /// One sentence: what it measures.
    pub measures: &'static str,
    /// The destinations it counts; empty for people, jobs, trails and the totals.
    pub destinations: &'static [DestinationCategory],
}

/// What a dash means where a score is shown.
pub const DASH_MEANS: &str =
    "– means there are no destinations of this kind in the study area: there is nothing to reach.";
/// What a zero means where a score is shown.
pub const ZERO_MEANS: &str =
    "0 means destinations of this kind exist, but none can be reached on low-stress roads.";

const fn score(
    id: &'static str,
    label: &'static str,
    parent: Option<&'static str>,
    measures: &'static str,
    destinations: &'static [DestinationCategory],
) -> ScoreText {
    ScoreText {
        id,
        label,
        parent,
        measures,
        destinations,
    }
}

use DestinationCategory as D;

/// Every city score, in reading order: overall, then each category followed by its members,
/// then the totals.
pub const SCORES: [ScoreText; 23] = [
    score("overall_score", "BNA score", None,
        "How well people can reach everyday destinations by bike on low-stress roads, 0 to 100: the population-weighted average of the scores of the census blocks that reach at least one other block.", &[]),
    score("people", "People", None,
        "How many of the people living within biking distance each block can reach on low-stress roads.", &[]),
    score("opportunity", "Opportunity", None,
        "Low-stress access to jobs and education: employment, K-12 schools, technical and vocational colleges and universities.", &[D::Schools, D::Colleges, D::Universities]),
    score("opportunity_employment", "Employment", Some("opportunity"),
        "Low-stress access to jobs within biking distance.", &[]),
    score("opportunity_k12_education", "K-12 schools", Some("opportunity"),
        "Low-stress access to K-12 schools.", &[D::Schools]),
    score("opportunity_technical_vocational_college", "Technical and vocational colleges", Some("opportunity"),
        "Low-stress access to technical and vocational colleges.", &[D::Colleges]),
    score("opportunity_higher_education", "Universities", Some("opportunity"),
        "Low-stress access to universities.", &[D::Universities]),
    score("core_services", "Core services", None,
        "Low-stress access to doctors, dentists, hospitals, pharmacies, grocery stores and social services.",
        &[D::Doctors, D::Dentists, D::Hospitals, D::Pharmacies, D::Supermarkets, D::SocialServices]),
    score("core_services_doctors", "Doctors", Some("core_services"),
        "Low-stress access to doctors.", &[D::Doctors]),
    score("core_services_dentists", "Dentists", Some("core_services"),
        "Low-stress access to dentists.", &[D::Dentists]),
    score("core_services_hospitals", "Hospitals", Some("core_services"),
        "Low-stress access to hospitals.", &[D::Hospitals]),
    score("core_services_pharmacies", "Pharmacies", Some("core_services"),
        "Low-stress access to pharmacies.", &[D::Pharmacies]),
    score("core_services_grocery", "Grocery stores", Some("core_services"),
        "Low-stress access to grocery stores.", &[D::Supermarkets]),
    score("core_services_social_services", "Social services", Some("core_services"),
        "Low-stress access to social services.", &[D::SocialServices]),
    score("retail", "Retail", None,
        "Low-stress access to shops and other retail areas.", &[D::Retail]),
    score("recreation", "Recreation", None,
        "Low-stress access to parks, recreational trails and community centers.", &[D::Parks, D::CommunityCenters]),
    score("recreation_parks", "Parks", Some("recreation"),
        "Low-stress access to parks.", &[D::Parks]),
    score("recreation_trails", "Recreational trails", Some("recreation"),
        "Low-stress access to recreational trails.", &[]),
    score("recreation_community_centers", "Community centers", Some("recreation"),
        "Low-stress access to community centers.", &[D::CommunityCenters]),
    score("transit", "Transit", None,
        "Low-stress access to transit stations.", &[D::Transit]),
    score("population_total", "Population", None,
        "Total population of the census blocks in the boundary.", &[]),
    score("total_miles_low_stress", "Low-stress miles", None,
        "Low-stress road miles inside the boundary, each direction of travel counted.", &[]),
    score("total_miles_high_stress", "High-stress miles", None,
        "High-stress road miles inside the boundary, each direction of travel counted.", &[]),
];

/// The text of score `id`, if it is one of the BNA's.
pub fn find(id: &str) -> Option<&'static ScoreText> {
    SCORES.iter().find(|s| s.id == id)
}

/// The human label of score `id`, or the id itself for a score this table does not know.
pub fn label(id: &str) -> &str {
    find(id).map_or(id, |s| s.label)
}

/// Where score `id` comes in reading order ([`SCORES`]); unknown scores come last.
pub fn reading_position(id: &str) -> usize {
    SCORES
        .iter()
        .position(|s| s.id == id)
        .unwrap_or(SCORES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_comes_before_its_members() {
        for (i, s) in SCORES.iter().enumerate() {
            if let Some(parent) = s.parent {
                let p = reading_position(parent);
                assert!(p < i, "{} before its group {parent}", s.id);
                assert!(find(parent).expect("parent listed").parent.is_none());
            }
        }
    }

    #[test]
    fn ids_are_unique_and_texts_are_sentences() {
        let mut ids: Vec<&str> = SCORES.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SCORES.len());
        for s in &SCORES {
            assert!(s.measures.ends_with('.'), "{}", s.id);
            assert!(s.label.chars().next().is_some_and(char::is_uppercase));
        }
        assert_eq!(label("no_such_score"), "no_such_score");
    }
}
