//! Prints where the build script put the JS-mode runtime pair.
fn main() {
    println!("{}\n{}", env!("ORT_COMPACT_WASM"), env!("ORT_COMPACT_MJS"));
}
