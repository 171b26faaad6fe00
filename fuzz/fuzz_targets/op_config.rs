//! Fuzz the operator-config parser: a parsed config writes text that parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ort_compact_build::ops::OpConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = OpConfig::parse(text) {
            let written = config.to_string();
            let again = OpConfig::parse(&written).expect("written config parses");
            assert_eq!(again.to_string(), written);
        }
    }
});
