//! The pure tag → attribute and stress rules of `src/network`.

#[path = "../../src/network/attributes.rs"]
pub mod attributes;
#[path = "../../src/network/stress.rs"]
pub mod stress;
