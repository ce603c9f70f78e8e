//! The pure tag → attribute and stress rules of `src/network`.

#[path = "../../crates/bna-engine/src/network/attributes.rs"]
pub mod attributes;
#[path = "../../crates/bna-engine/src/network/stress.rs"]
pub mod stress;
