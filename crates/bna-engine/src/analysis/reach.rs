//! Which blocks one block reaches (spec §5.5): the pairs of `neighborhood_connected_census_blocks`
//! seen from one source, split by network. The app draws these when a block is clicked.

use crate::model::BlockPair;

/// Blocks reached from one source block, as indices into `ProjectData::blocks`, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockReach {
    /// Connected on the low-stress network (the pair's `low_stress` flag, §5.5).
    pub low_stress: Vec<u32>,
    /// Connected on the full network within the trip distance: every pair of the source.
    pub full: Vec<u32>,
}

/// The blocks `source` reaches; the source itself is left out (it always reaches itself).
pub fn reach_from(pairs: &[BlockPair], source: u32) -> BlockReach {
    let mut r = BlockReach::default();
    for p in pairs
        .iter()
        .filter(|p| p.source == source && p.target != source)
    {
        r.full.push(p.target);
        if p.low_stress {
            r.low_stress.push(p.target);
        }
    }
    r.full.sort_unstable();
    r.low_stress.sort_unstable();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(source: u32, target: u32, low_stress: bool) -> BlockPair {
        BlockPair {
            source,
            target,
            low_stress,
            low_stress_cost: low_stress.then_some(100),
            high_stress_cost: Some(90),
        }
    }

    #[test]
    fn reach_splits_by_network_and_ignores_other_sources() {
        let pairs = [
            pair(0, 0, true),
            pair(0, 3, false),
            pair(0, 1, true),
            pair(1, 2, true),
            pair(0, 2, false),
        ];
        // (source, low-stress targets, full-network targets)
        let rows: [(u32, &[u32], &[u32]); 3] =
            [(0, &[1], &[1, 2, 3]), (1, &[2], &[2]), (5, &[], &[])];
        for (source, low, full) in rows {
            let r = reach_from(&pairs, source);
            assert_eq!(r.low_stress, low, "{source}");
            assert_eq!(r.full, full, "{source}");
        }
    }
}
