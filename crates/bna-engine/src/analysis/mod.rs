//! Connectivity and scoring on the built network: block ↔ road association (§5.3), bounded
//! Dijkstra and block pairs (§5.4–5.5), destinations (§6), scores (§7).

pub mod bike_shed;
pub mod block_roads;
pub mod connectivity;
pub mod destinations;
pub mod reach;
pub mod score_inputs;
pub mod score_text;
pub mod scoring;
