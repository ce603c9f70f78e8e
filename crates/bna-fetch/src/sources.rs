//! Where each input comes from (base URLs, configurable) and where it lives in the cache.

use std::path::PathBuf;

use super::download::Entry;
use super::verify::Content;
use bna_engine::params;

/// Base URLs of the sources; the defaults are the real ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// TIGER/Line 2020 folder (holds `TABBLOCK20/`, `PLACE/`, `COUSUB/`).
    pub tiger: String,
    /// LODES 8 folder (holds `{st}/wac/`).
    pub lodes: String,
    /// Overpass API interpreter endpoint.
    pub overpass: String,
}

pub const DEFAULT_TIGER_URL: &str = "https://www2.census.gov/geo/tiger/TIGER2020";
pub const DEFAULT_LODES_URL: &str = "https://lehd.ces.census.gov/data/lodes/LODES8";
pub const DEFAULT_OVERPASS_URL: &str = "https://overpass-api.de/api/interpreter";

impl Default for Sources {
    fn default() -> Self {
        Self {
            tiger: DEFAULT_TIGER_URL.into(),
            lodes: DEFAULT_LODES_URL.into(),
            overpass: DEFAULT_OVERPASS_URL.into(),
        }
    }
}

/// `rest` appended to the base URL's path; a query on the base (a mirror's `?token=`) stays
/// at the end, where the server looks for it.
fn join(base: &str, rest: &str) -> String {
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    let joined = format!("{}/{rest}", path.trim_end_matches('/'));
    match query {
        Some(q) => format!("{joined}?{q}"),
        None => joined,
    }
}

/// The TIGER layers `bna fetch` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TigerLayer {
    Blocks,
    Places,
    CountySubdivisions,
}

impl Sources {
    pub fn tiger(&self, layer: TigerLayer, state: &State) -> Entry {
        let (folder, name, what) = match layer {
            TigerLayer::Blocks => ("TABBLOCK20", "tabblock20", "census blocks"),
            TigerLayer::Places => ("PLACE", "place", "place boundaries"),
            TigerLayer::CountySubdivisions => ("COUSUB", "cousub", "county subdivisions"),
        };
        let file = format!("tl_2020_{}_{name}.zip", state.fips);
        Entry {
            what: format!("TIGER 2020 {what} for {}", state.name),
            url: join(&self.tiger, &format!("{folder}/{file}")),
            form: None,
            rel: PathBuf::from("tiger2020").join(folder).join(file),
            max_bytes: params::FETCH_MAX_TIGER_BYTES,
            content: Content::ShapefileZip,
        }
    }

    pub fn lodes_wac(&self, state: &State, year: u16) -> Entry {
        let st = state.abbr.to_ascii_lowercase();
        let file = format!("{st}_wac_S000_JT00_{year}.csv.gz");
        Entry {
            what: format!("LODES 8 jobs ({year}) for {}", state.name),
            url: join(&self.lodes, &format!("{st}/wac/{file}")),
            form: None,
            rel: PathBuf::from("lodes8").join(&st).join(file),
            max_bytes: params::FETCH_MAX_LODES_BYTES,
            content: Content::LodesCsvGz,
        }
    }
}

/// A US state (or DC, Puerto Rico) as TIGER and LODES name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub fips: &'static str,
    pub abbr: &'static str,
    pub name: &'static str,
}

const fn st(fips: &'static str, abbr: &'static str, name: &'static str) -> State {
    State { fips, abbr, name }
}

pub const STATES: [State; 52] = [
    st("01", "AL", "Alabama"),
    st("02", "AK", "Alaska"),
    st("04", "AZ", "Arizona"),
    st("05", "AR", "Arkansas"),
    st("06", "CA", "California"),
    st("08", "CO", "Colorado"),
    st("09", "CT", "Connecticut"),
    st("10", "DE", "Delaware"),
    st("11", "DC", "District of Columbia"),
    st("12", "FL", "Florida"),
    st("13", "GA", "Georgia"),
    st("15", "HI", "Hawaii"),
    st("16", "ID", "Idaho"),
    st("17", "IL", "Illinois"),
    st("18", "IN", "Indiana"),
    st("19", "IA", "Iowa"),
    st("20", "KS", "Kansas"),
    st("21", "KY", "Kentucky"),
    st("22", "LA", "Louisiana"),
    st("23", "ME", "Maine"),
    st("24", "MD", "Maryland"),
    st("25", "MA", "Massachusetts"),
    st("26", "MI", "Michigan"),
    st("27", "MN", "Minnesota"),
    st("28", "MS", "Mississippi"),
    st("29", "MO", "Missouri"),
    st("30", "MT", "Montana"),
    st("31", "NE", "Nebraska"),
    st("32", "NV", "Nevada"),
    st("33", "NH", "New Hampshire"),
    st("34", "NJ", "New Jersey"),
    st("35", "NM", "New Mexico"),
    st("36", "NY", "New York"),
    st("37", "NC", "North Carolina"),
    st("38", "ND", "North Dakota"),
    st("39", "OH", "Ohio"),
    st("40", "OK", "Oklahoma"),
    st("41", "OR", "Oregon"),
    st("42", "PA", "Pennsylvania"),
    st("44", "RI", "Rhode Island"),
    st("45", "SC", "South Carolina"),
    st("46", "SD", "South Dakota"),
    st("47", "TN", "Tennessee"),
    st("48", "TX", "Texas"),
    st("49", "UT", "Utah"),
    st("50", "VT", "Vermont"),
    st("51", "VA", "Virginia"),
    st("53", "WA", "Washington"),
    st("54", "WV", "West Virginia"),
    st("55", "WI", "Wisconsin"),
    st("56", "WY", "Wyoming"),
    st("72", "PR", "Puerto Rico"),
];

/// A state by 2-digit FIPS, postal abbreviation or name (case-insensitive).
pub fn find_state(s: &str) -> Option<State> {
    let s = s.trim();
    STATES.iter().copied().find(|st| {
        st.fips == s || st.abbr.eq_ignore_ascii_case(s) || st.name.eq_ignore_ascii_case(s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_states_every_way() {
        for q in ["50", "VT", "vt", "Vermont", " vermont "] {
            assert_eq!(find_state(q).map(|s| s.fips), Some("50"), "{q}");
        }
        assert_eq!(find_state("11").map(|s| s.abbr), Some("DC"));
        assert_eq!(find_state("03"), None, "03 is not a state FIPS");
        assert_eq!(find_state("Atlantis"), None);
    }

    #[test]
    fn urls_follow_the_census_layout() {
        let s = Sources::default();
        let dc = find_state("DC").unwrap();
        assert_eq!(
            s.tiger(TigerLayer::Blocks, &dc).url,
            "https://www2.census.gov/geo/tiger/TIGER2020/TABBLOCK20/tl_2020_11_tabblock20.zip"
        );
        assert_eq!(
            s.tiger(TigerLayer::CountySubdivisions, &dc).url,
            "https://www2.census.gov/geo/tiger/TIGER2020/COUSUB/tl_2020_11_cousub.zip"
        );
        assert_eq!(
            s.lodes_wac(&dc, 2021).url,
            "https://lehd.ces.census.gov/data/lodes/LODES8/dc/wac/dc_wac_S000_JT00_2021.csv.gz"
        );
        let custom = Sources {
            tiger: "http://127.0.0.1:9/t/".into(),
            ..Sources::default()
        };
        assert_eq!(
            custom.tiger(TigerLayer::Places, &dc).url,
            "http://127.0.0.1:9/t/PLACE/tl_2020_11_place.zip"
        );
        let with_token = Sources {
            lodes: "https://mirror/lodes/?token=t".into(),
            ..Sources::default()
        };
        assert_eq!(
            with_token.lodes_wac(&dc, 2021).url,
            "https://mirror/lodes/dc/wac/dc_wac_S000_JT00_2021.csv.gz?token=t"
        );
    }
}
