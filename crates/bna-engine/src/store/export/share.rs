//! The layers that shared results show (the MBTiles tile set and the web page): roads with
//! their stress, census blocks with their scores, and the boundary. Each is a small subset of a
//! reference table's columns, the ones a legend or a popup needs, so the shared files stay small.

use geo::Geometry;
use serde_json::{Map, Value as J};

use super::geojson_out::property;
use super::{decode_geometry, for_each_row};
use crate::store::error::StoreError;
use crate::store::project::Project;
use crate::store::schema::{self, ColKind, TableDef, MEASURES};

/// Layer names, as they appear in tiles (MVT layer ids) and in the web page's data.
pub(crate) const NETWORK_LAYER: &str = "network";
pub(crate) const BLOCKS_LAYER: &str = "blocks";
pub(crate) const BOUNDARY_LAYER: &str = "boundary";

/// Attribute added to roads: the worse direction's segment stress (what the desktop app and
/// the web page colour by); absent when bikes may use the road in neither direction.
pub(crate) const STRESS_FIELD: &str = "stress";

pub(crate) struct ShareFeature {
    pub id: u64,
    pub geometry: Geometry<f64>,
    pub props: Map<String, J>,
}

pub(crate) struct ShareLayer {
    pub name: &'static str,
    pub description: &'static str,
    /// Field name and its kind, in a stable order (MBTiles `vector_layers.fields`).
    pub fields: Vec<(String, ColKind)>,
    pub features: Vec<ShareFeature>,
}

const NETWORK_COLUMNS: [&str; 11] = [
    "road_id",
    "name",
    "functional_class",
    "speed_limit",
    "ft_seg_stress",
    "tf_seg_stress",
    "ft_int_stress",
    "tf_int_stress",
    "ft_bike_infra",
    "tf_bike_infra",
    "one_way",
];

fn block_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
        "id",
        "geoid20",
        "pop20",
        "jobs",
        "overall_score",
        "opportunity_score",
        "core_services_score",
        "recreation_score",
        "reachable_blocks",
    ]
    .map(String::from)
    .to_vec();
    cols.extend(MEASURES.iter().map(|m| format!("{m}_score")));
    cols
}

/// Boundary, blocks and network, in drawing order (bottom first).
pub(crate) fn read_layers(project: &Project) -> Result<Vec<ShareLayer>, StoreError> {
    let network = read_layer(
        project,
        NETWORK_LAYER,
        "Road segments with their level of traffic stress (1 low, 3 high) in each direction",
        &schema::ways(),
        &NETWORK_COLUMNS.map(String::from),
        "road_id",
    )?;
    let network = with_worse_stress(network);
    Ok(vec![
        read_layer(
            project,
            BOUNDARY_LAYER,
            "The study area",
            &schema::boundary(),
            &[],
            "",
        )?,
        read_layer(
            project,
            BLOCKS_LAYER,
            "Census blocks with their BNA scores (0-100)",
            &schema::blocks(),
            &block_columns(),
            "id",
        )?,
        network,
    ])
}

fn read_layer(
    project: &Project,
    name: &'static str,
    description: &'static str,
    table: &TableDef,
    columns: &[String],
    id_column: &str,
) -> Result<ShareLayer, StoreError> {
    let mut def = table.clone();
    def.columns.retain(|c| columns.contains(&c.name));
    let geom = table.geoms[0].name;
    let fields: Vec<(String, ColKind)> = def
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.kind))
        .collect();
    let mut features = Vec::new();
    let extra = [format!("AsBinary({})", schema::quote(geom))];
    for_each_row(project, &def, &extra, |values| {
        let (attrs, g) = values.split_at(def.columns.len());
        let Some(geometry) = decode_geometry(project, &def.name, &g[0])? else {
            return Ok(());
        };
        let mut props = Map::new();
        for (col, v) in def.columns.iter().zip(attrs) {
            let p = property(col.kind, v);
            if !p.is_null() {
                props.insert(col.name.clone(), p);
            }
        }
        let id = props
            .get(id_column)
            .and_then(J::as_u64)
            .unwrap_or(features.len() as u64);
        features.push(ShareFeature {
            id,
            geometry,
            props,
        });
        Ok(())
    })?;
    Ok(ShareLayer {
        name,
        description,
        fields,
        features,
    })
}

fn with_worse_stress(mut layer: ShareLayer) -> ShareLayer {
    layer.fields.push((STRESS_FIELD.to_string(), ColKind::Int));
    for f in &mut layer.features {
        let ft = f.props.get("ft_seg_stress").and_then(J::as_i64);
        let tf = f.props.get("tf_seg_stress").and_then(J::as_i64);
        if let Some(s) = worse_stress(ft, tf) {
            f.props.insert(STRESS_FIELD.to_string(), J::from(s));
        }
    }
    layer
}

/// The more stressful direction, or the only one bikes may use.
pub(crate) fn worse_stress(ft: Option<i64>, tf: Option<i64>) -> Option<i64> {
    match (ft, tf) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worse_stress_table() {
        let cases = [
            (Some(1), Some(3), Some(3)),
            (Some(3), Some(1), Some(3)),
            (Some(1), Some(1), Some(1)),
            (None, Some(1), Some(1)),
            (Some(3), None, Some(3)),
            (None, None, None),
        ];
        for (ft, tf, want) in cases {
            assert_eq!(worse_stress(ft, tf), want, "{ft:?} {tf:?}");
        }
    }

    #[test]
    fn block_columns_exist_in_the_reference_table() {
        let table = schema::blocks();
        for c in block_columns() {
            assert!(table.columns.iter().any(|t| t.name == c), "{c}");
        }
        let ways = schema::ways();
        for c in NETWORK_COLUMNS {
            assert!(ways.columns.iter().any(|t| t.name == c), "{c}");
        }
    }
}
