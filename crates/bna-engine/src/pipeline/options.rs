//! Choices of method, as opposed to inputs: how the analysis treats the inputs where the
//! reference BNA and the legacy PFB analysis differ (docs/methodology.md, "OSM clip").

use serde::{Deserialize, Serialize};

/// Which part of the OSM extract the network is built from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsmClip {
    /// The reference's cuts (brokenspoke-analyzer 3.2.4): the extract cut to the boundary
    /// polygon (osmium `complete_ways`), then to the bounding box of the kept census blocks
    /// (osmconvert `--drop-broken-refs`). The same network, so the same scores, as the BNA.
    #[default]
    Boundary,
    /// Legacy PFB: every imported way within 2680 m of the boundary, so routes may leave the
    /// city and come back (methodology deviation 1).
    Buffer,
}

impl OsmClip {
    pub const ALL: [OsmClip; 2] = [OsmClip::Boundary, OsmClip::Buffer];

    /// The name used on the command line, in bundles and in the project's parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            OsmClip::Boundary => "boundary",
            OsmClip::Buffer => "buffer",
        }
    }

    /// One line for people: what the network was cut to.
    pub fn describe(self) -> &'static str {
        match self {
            OsmClip::Boundary => {
                "boundary (the reference BNA's cut: boundary polygon, then the census blocks' bounding box)"
            }
            OsmClip::Buffer => "buffer (legacy: every road within 2680 m of the boundary)",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_default_is_the_references_cut() {
        for c in OsmClip::ALL {
            assert_eq!(OsmClip::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        assert_eq!(OsmClip::parse("ring"), None);
        assert_eq!(OsmClip::default(), OsmClip::Boundary);
    }
}
