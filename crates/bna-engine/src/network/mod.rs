//! From OSM ways to the routable network: segments and intersections (spec §3), attributes and
//! stress rules (§3.4, §4), trail clusters (§3.5) and the line graph (§5.1–5.2).

pub mod attributes;
pub mod edits;
pub mod graph;
pub mod intersections;
pub mod paths;
pub mod route;
pub mod segments;
pub mod stress;
pub mod stress_assignment;
