//! What the passes can know of a graph's values without running it: element types (`types`)
//! and shapes (`shapes`), from what the model states and what each operator implies, with what
//! is known of the small integer vectors computed from shapes (`values`).

mod shapes;
mod types;
mod values;

pub(super) use shapes::{broadcast, shapes, Shape};
pub(super) use types::elem_types;
