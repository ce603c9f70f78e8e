//! How often each node is used, as osm2pgrouting 2.3.8 counts it to decide where ways are cut
//! into segments (spec §3.2; the reference runs 2.3.8 on the cut extract).
//!
//! osm2pgrouting counts while it parses, before it knows a way's tags
//! (`OSMDocumentParserCallback::StartElement` → `OSMDocument::add_node` → `Node::incrementUse`
//! for every `<nd>` of every `<way>`), so a node shared with a building, a landuse area, a
//! barrier, an untagged way or a `highway=construction` way is "used twice" and cuts the road
//! there. A node whose own tags match the mapconfig (`highway=` one of the imported values,
//! e.g. `motorway_junction`) gets 2 more (`Node::tag_config`). Confirmed by running
//! osm2pgrouting 2.3.8 with the reference's `mapconfig_highway.xml` on a crafted file
//! (`docs/methodology.md`, "Way splitting").

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Use counts of the nodes of imported highway ways: one per reference in any way of the
/// extract (`all_ways`, the highway ways included), plus 2 for each node in `configured`.
/// Nodes that no highway way references are left out: nothing is ever cut there.
pub fn count_node_uses<'a>(
    highway_ways: impl Iterator<Item = &'a [i64]>,
    all_ways: impl Iterator<Item = &'a [i64]>,
    configured: &HashSet<i64>,
) -> HashMap<i64, u32, IdHash> {
    let mut uses: HashMap<i64, u32, IdHash> = HashMap::default();
    for nodes in highway_ways {
        for n in nodes {
            uses.entry(*n).or_default();
        }
    }
    for nodes in all_ways {
        for n in nodes {
            if let Some(c) = uses.get_mut(n) {
                *c += 1;
            }
        }
    }
    for n in configured {
        if let Some(c) = uses.get_mut(n) {
            *c += 2;
        }
    }
    uses
}

/// Ways osm2pgrouting exports per chunk (`--chunk`, default 20000 in 2.3.8,
/// `src/utilities/prog_options.cpp:60`; the reference does not pass it).
pub const OSM2PGROUTING_CHUNK_WAYS: usize = 20_000;

/// The export chunk of each of `wanted`, as osm2pgrouting 2.3.8 cuts `exportWays`
/// (`src/database/Export2DB.cpp:408-426`): every way of the file counts, in file order, which
/// for the sorted extracts the reference reads (osmium, osmconvert, Geofabrik) is id order.
/// Before a chunk is inserted, its pieces identical to a piece already in the table (an
/// earlier chunk) are deleted (`Export2DB::process_section`); identical pieces within one
/// chunk are all kept.
pub fn export_chunks(
    all_way_ids: impl Iterator<Item = i64>,
    wanted: impl Iterator<Item = i64>,
) -> HashMap<i64, u32, IdHash> {
    let mut ids: Vec<i64> = all_way_ids.collect();
    ids.sort_unstable();
    ids.dedup();
    wanted
        .filter_map(|id| {
            let rank = ids.binary_search(&id).ok()?;
            Some((id, (rank / OSM2PGROUTING_CHUNK_WAYS) as u32))
        })
        .collect()
}

/// Multiplicative (Fx-style) hashing for OSM ids and node lists. std's SipHash resists
/// adversarial keys, which a local extract does not need, and it was the larger part of
/// splitting a city's ways.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type IdHash = BuildHasherDefault<IdHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_count_every_way_in_id_order() {
        let all = (1..=40_001).rev().chain([7, 7]);
        let chunks = export_chunks(all, [1, 20_000, 20_001, 40_001, 50_000].into_iter());
        let got: Vec<Option<u32>> = [1, 20_000, 20_001, 40_001, 50_000]
            .iter()
            .map(|id| chunks.get(id).copied())
            .collect();
        assert_eq!(got, [Some(0), Some(0), Some(1), Some(2), None]);
    }

    #[test]
    fn every_way_counts_whatever_its_tags() {
        // Road 1-2-3-4-5; the other ways stand for a building, a landuse area, a
        // highway=construction way and an untagged way: their tags do not matter.
        let road: &[i64] = &[1, 2, 3, 4, 5];
        /// What, the other ways, the configured nodes, (node, uses) wanted.
        type Case<'a> = (&'a str, Vec<&'a [i64]>, &'a [i64], Vec<(i64, u32)>);
        let cases: [Case; 5] = [
            ("road alone", vec![], &[], vec![(1, 1), (3, 1), (5, 1)]),
            (
                "closed building sharing 3 (its first and last reference)",
                vec![&[3, 10, 11, 3]],
                &[],
                vec![(3, 3), (10, 0)],
            ),
            (
                "two areas, one at the road's end",
                vec![&[4, 13, 4], &[5, 20]],
                &[],
                vec![(4, 3), (5, 2)],
            ),
            (
                "a way cut to one node still counts",
                vec![&[2]],
                &[],
                vec![(2, 2)],
            ),
            (
                "configured node tag adds two",
                vec![],
                &[3, 99],
                vec![(3, 3), (99, 0)],
            ),
        ];
        for (what, others, configured, want) in cases {
            let configured: HashSet<i64> = configured.iter().copied().collect();
            let all = std::iter::once(road).chain(others.iter().copied());
            let uses = count_node_uses(std::iter::once(road), all, &configured);
            for (node, n) in want {
                assert_eq!(
                    uses.get(&node).copied().unwrap_or(0),
                    n,
                    "{what}: node {node}"
                );
            }
            assert!(!uses.contains_key(&10) && !uses.contains_key(&99), "{what}");
        }
        // A way through one node twice is cut there too.
        let looped: &[i64] = &[1, 2, 3, 2, 4];
        let uses = count_node_uses(
            std::iter::once(looped),
            std::iter::once(looped),
            &HashSet::new(),
        );
        assert_eq!((uses[&2], uses[&3]), (2, 1));
    }
}
