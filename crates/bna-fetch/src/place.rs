//! Place search: "Burlington, VT" or a 7-digit FIPS → the place's boundary polygon, read from
//! the TIGER place file of its state (county subdivisions as the fallback, for the New England
//! towns and townships that are not incorporated places), as the reference does.

use std::path::Path;

use geo::MultiPolygon;
use shapefile::dbase::{FieldValue, Record};

use super::sources::{find_state, State};
use super::FetchError;
use bna_engine::ingest::boundary::{find_column, open_vector, polygons_from_shape, VectorFile};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceQuery {
    /// 7 digits: state FIPS (2) + place or county subdivision FIPS (5).
    Fips { state: State, fips: String },
    /// A name within a state ("Burlington", "Burlington city").
    Name { state: State, name: String },
}

impl PlaceQuery {
    pub fn state(&self) -> State {
        match self {
            PlaceQuery::Fips { state, .. } | PlaceQuery::Name { state, .. } => *state,
        }
    }
}

impl std::fmt::Display for PlaceQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceQuery::Fips { fips, .. } => write!(f, "FIPS {fips}"),
            PlaceQuery::Name { state, name } => write!(f, "\"{name}, {}\"", state.abbr),
        }
    }
}

/// Parses "Name, ST" (or "Name, State name").
pub fn parse_place(s: &str) -> Result<PlaceQuery, FetchError> {
    let bad = |why: &str| FetchError::Input(format!("place \"{s}\": {why}"));
    let (name, state) = s
        .rsplit_once(',')
        .ok_or_else(|| bad("add the state after a comma, e.g. \"Burlington, VT\""))?;
    let state =
        find_state(state).ok_or_else(|| bad(&format!("\"{}\" is not a US state", state.trim())))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the place name is empty"));
    }
    Ok(PlaceQuery::Name {
        state,
        name: name.to_owned(),
    })
}

/// Parses a 7-digit place FIPS (state + place), e.g. 5010675 for Burlington, VT.
pub fn parse_fips(s: &str) -> Result<PlaceQuery, FetchError> {
    let s = s.trim();
    if s.len() != 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FetchError::Input(format!(
            "FIPS \"{s}\": expected 7 digits, state (2) + place (5), e.g. 5010675"
        )));
    }
    let state = find_state(&s[..2]).ok_or_else(|| {
        FetchError::Input(format!(
            "FIPS \"{s}\": {} is not a US state FIPS code",
            &s[..2]
        ))
    })?;
    Ok(PlaceQuery::Fips {
        state,
        fips: s.to_owned(),
    })
}

/// One matching record of a TIGER file.
#[derive(Debug, Clone)]
pub struct FoundPlace {
    pub geoid: String,
    pub name: String,
    /// Name with its legal/statistical description ("Burlington city").
    pub name_lsad: String,
    pub geom: MultiPolygon<f64>,
}

/// Every record of a TIGER place or county-subdivision file (zip or .shp) that matches.
///
/// Columns are found case-insensitively, with or without the vintage suffix (`GEOID` or
/// `GEOID20`), so any TIGER polygon layer can be searched. A FIPS matches `GEOID`, or, for
/// county subdivisions (whose GEOID also holds the county), `STATEFP` + `COUSUBFP`.
pub fn search_tiger(path: &Path, query: &PlaceQuery) -> Result<Vec<FoundPlace>, FetchError> {
    let invalid =
        |reason: String| FetchError::Ingest(bna_engine::ingest::IngestError::invalid(path, reason));
    let VectorFile::Shapefile(mut shp) = open_vector(path)? else {
        return Err(invalid(
            "expected a TIGER/Line shapefile (.zip or .shp)".into(),
        ));
    };
    let mut table = shp
        .attribute_table("a TIGER place file needs its GEOID and NAME")
        .map_err(invalid)?;
    let columns = &table.columns;
    let col = |c: &[&str]| find_column(columns, c).map(str::to_owned);
    let geoid_col = col(&["GEOID", "GEOID20", "GEOID10"])
        .ok_or_else(|| invalid(format!("{}: no GEOID column", shp.member)))?;
    let name_col = col(&["NAME", "NAME20", "NAME10"])
        .ok_or_else(|| invalid(format!("{}: no NAME column", shp.member)))?;
    let lsad_col = col(&["NAMELSAD", "NAMELSAD20", "NAMELSAD10"]);
    let state_col = col(&["STATEFP", "STATEFP20", "STATEFP10"]);
    let cousub_col = col(&["COUSUBFP", "COUSUBFP20", "COUSUBFP10"]);

    let matches = |r: &Record| -> bool {
        let t = |c: &Option<String>| c.as_deref().map(|c| text(r, c)).unwrap_or_default();
        match query {
            PlaceQuery::Fips { fips, .. } => {
                text(r, &geoid_col) == *fips
                    || (cousub_col.is_some()
                        && format!("{}{}", t(&state_col), t(&cousub_col)) == *fips)
            }
            PlaceQuery::Name { name, .. } => {
                text(r, &name_col).eq_ignore_ascii_case(name)
                    || t(&lsad_col).eq_ignore_ascii_case(name)
            }
        }
    };
    let reader = &mut table.reader;
    let mut found = Vec::new();
    for (i, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) =
            item.map_err(|e| invalid(format!("{}: record {i}: {e}", shp.member)))?;
        if !matches(&record) {
            continue;
        }
        let polygons = polygons_from_shape(shape, i, "a place boundary").map_err(invalid)?;
        let geom = MultiPolygon::new(polygons.into_iter().map(|p| p.into_geo()).collect());
        found.push(FoundPlace {
            geoid: text(&record, &geoid_col),
            name: text(&record, &name_col),
            name_lsad: lsad_col
                .as_deref()
                .map(|c| text(&record, c))
                .unwrap_or_else(|| text(&record, &name_col)),
            geom,
        });
    }
    Ok(found)
}

fn text(r: &Record, col: &str) -> String {
    match r.get(col) {
        Some(FieldValue::Character(Some(s))) | Some(FieldValue::Memo(s)) => s.trim().to_owned(),
        Some(FieldValue::Numeric(Some(n))) => n.to_string(),
        _ => String::new(),
    }
}

/// The boundary as a one-feature GeoJSON FeatureCollection, with where it came from.
pub fn boundary_geojson(p: &FoundPlace, source: &str) -> String {
    let mut props = serde_json::Map::new();
    props.insert("GEOID".into(), p.geoid.clone().into());
    props.insert("NAME".into(), p.name.clone().into());
    props.insert("NAMELSAD".into(), p.name_lsad.clone().into());
    props.insert("source".into(), source.into());
    let fc = geojson::FeatureCollection {
        bbox: None,
        features: vec![geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::Value::from(&p.geom))),
            id: None,
            properties: Some(props),
            foreign_members: None,
        }],
        foreign_members: None,
    };
    geojson::GeoJson::FeatureCollection(fc).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_fips() {
        let q = parse_place("Burlington, VT").unwrap();
        assert_eq!(q.state().fips, "50");
        assert_eq!(q.to_string(), "\"Burlington, VT\"");
        assert!(
            matches!(parse_place("St. Paul, Minnesota").unwrap(), PlaceQuery::Name { name, .. } if name == "St. Paul")
        );
        assert!(parse_place("Burlington")
            .unwrap_err()
            .to_string()
            .contains("after a comma"));
        assert!(parse_place("Burlington, XX")
            .unwrap_err()
            .to_string()
            .contains("not a US state"));
        assert_eq!(parse_fips("5010675").unwrap().state().abbr, "VT");
        assert!(parse_fips("501067")
            .unwrap_err()
            .to_string()
            .contains("7 digits"));
        assert!(parse_fips("0310675")
            .unwrap_err()
            .to_string()
            .contains("not a US state"));
    }
}
