//! The cmake command line for a minimal, operator-reduced ORT WebAssembly build.

use super::{Flavor, Optimize, RuntimeOptions};
use crate::error::Result;
use crate::source::SourceTree;
use crate::toolchain::Toolchain;
use std::ffi::OsString;
use std::path::Path;

/// Linker flag every `-flto` link needs with emcc 6 + wasm-ld 21: otherwise a bitcode archive
/// member defining this symbol is not extracted and the link fails.
pub const LTO_LINK_FIX: &str = "-Wl,-u,__cxa_increment_exception_refcount";

/// Compiler flag that keeps abseil's use of Emscripten's deprecated version macros a warning.
const NO_ERROR_DEPRECATED: &str = "-Wno-error=deprecated-pragma";

/// Optimisation flags of the MinSizeRel configuration: `-Oz` rather than cmake's `-Os`
/// (2 % smaller at the same speed on this project's models).
const SIZE_FLAGS: &str = "-Oz -DNDEBUG";

/// C++ flags that let the LTO link drop virtual functions no call can reach: classes get hidden
/// (linkage-unit) visibility, so the whole program's vtables are known, and virtual function
/// elimination removes the slots nothing calls. Most of the gain is in protobuf's generated
/// message classes (serialisation and merge methods ORT never calls): 597,019 → 539,764 bytes
/// for the default model. The static library keeps the metadata, so a Rust program's LTO link
/// gets the same pruning.
const CXX_VTABLE_FLAGS: &str =
    "-fvisibility=hidden -fwhole-program-vtables -fvirtual-function-elimination";

/// The file (in the build directory) cmake includes after `project(onnxruntime)`: the
/// [`Optimize`] mode's compile options.
pub const OPTIMIZE_HOOK_FILE: &str = "ort-compact-optimize.cmake";

/// The speed hook: once ORT's top-level CMakeLists has defined every target, compile the CPU
/// kernels and MLAS with `-O2` (it comes after the configuration's `-Oz` on the command line).
/// Everything else stays `-Oz`: the session and framework code is mostly run once per session.
const SPEED_HOOK: &str = r#"# Written by ort-compact-build (Optimize::Speed).
function(ort_compact_optimize_for_speed)
  foreach(target IN ITEMS onnxruntime_mlas onnxruntime_providers)
    if(TARGET ${target})
      target_compile_options(${target} PRIVATE -O2)
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" CALL ort_compact_optimize_for_speed)
"#;

/// Kernel sources (under ORT's `onnxruntime/` source dir) that [`Optimize::Balanced`]
/// compiles with `-O2`: where compute-heavy models lose their time under `-Oz` (measured per
/// file: docs/speed.md). A kernel a model does not use is dropped at link time whatever its
/// flags, so the list costs bytes only for the kernels the op set keeps.
pub const HOT_KERNEL_SOURCES: &[&str] = &[
    "core/providers/cpu/math/element_wise_ops.cc",
    "core/providers/cpu/activation/activations.cc",
    "core/providers/cpu/math/clip.cc",
    "core/providers/cpu/nn/layer_norm_impl.cc",
    "core/mlas/lib/activate.cpp",
];

/// The balanced hook: `-O2` (after the configuration's `-Oz`) for [`HOT_KERNEL_SOURCES`] in the
/// `onnxruntime_providers` target, set once that target exists.
fn balanced_hook() -> String {
    let files: String = HOT_KERNEL_SOURCES
        .iter()
        .map(|f| format!("\n    \"${{ONNXRUNTIME_ROOT}}/{f}\""))
        .collect();
    format!(
        r#"# Written by ort-compact-build (Optimize::Balanced).
function(ort_compact_optimize_hot_kernels)
  set_source_files_properties({files}
    TARGET_DIRECTORY onnxruntime_providers
    PROPERTIES COMPILE_OPTIONS -O2)
endfunction()
cmake_language(DEFER DIRECTORY "${{CMAKE_CURRENT_SOURCE_DIR}}" CALL ort_compact_optimize_hot_kernels)
"#
    )
}

/// The size hook: nothing to change (everything stays `-Oz`).
const SIZE_HOOK: &str = "# Written by ort-compact-build (Optimize::Size): everything stays -Oz.\n";

/// The cmake file [`OPTIMIZE_HOOK_FILE`] holds for `opts`. Every mode writes one and configure
/// always names it: size and balanced share a build dir, and a `-D` left off a re-configure
/// would stay in cmake's cache, so switching to size must overwrite the balanced hook.
pub fn optimize_hook(opts: &RuntimeOptions) -> String {
    match opts.optimize {
        Optimize::Size => SIZE_HOOK.to_string(),
        Optimize::Balanced => balanced_hook(),
        Optimize::Speed => SPEED_HOOK.to_string(),
    }
}

/// Every compiler flag of the recipe for `opts`, for the runtime cache key: changing one of them
/// must not reuse runtimes built with the old flags.
pub fn recipe_flags(opts: &RuntimeOptions) -> String {
    format!(
        "{SIZE_FLAGS} | {CXX_VTABLE_FLAGS} | {NO_ERROR_DEPRECATED} | {LTO_LINK_FIX} | {}",
        optimize_hook(opts)
    )
}

fn on(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

/// `-D` definitions (name, value) for the configure step, in a fixed order.
pub fn definitions(
    tools: &Toolchain,
    sources: &SourceTree,
    opts: &RuntimeOptions,
    build_dir: &Path,
) -> Result<Vec<(String, String)>> {
    let emscripten_cmake = tools
        .emscripten_root()
        .join("cmake/Modules/Platform/Emscripten.cmake");
    // Source and build paths reach the binary through `__FILE__`: map them to fixed names so
    // the runtime's bytes do not depend on where the cache is.
    let mut common_flags = format!(
        "{NO_ERROR_DEPRECATED} -ffile-prefix-map={}=/ort-build -ffile-prefix-map={}=/ort-src",
        path(build_dir),
        path(sources.root()),
    );
    if !sources.ort_dir().starts_with(sources.root()) {
        // A user checkout (ORT_COMPACT_ORT_SOURCE_DIR) outside the assembled tree.
        common_flags += &format!(
            " -ffile-prefix-map={}=/ort-src/onnxruntime",
            path(sources.ort_dir())
        );
    }
    let mut d: Vec<(String, String)> = vec![
        ("CMAKE_BUILD_TYPE".into(), "MinSizeRel".into()),
        ("CMAKE_TOOLCHAIN_FILE".into(), path(&emscripten_cmake)),
        ("CMAKE_MAKE_PROGRAM".into(), path(&tools.ninja.path)),
        (
            "ONNX_CUSTOM_PROTOC_EXECUTABLE".into(),
            path(&tools.protoc()?.path),
        ),
        ("onnxruntime_BUILD_UNIT_TESTS".into(), "OFF".into()),
        ("onnxruntime_BUILD_SHARED_LIB".into(), "OFF".into()),
        ("onnxruntime_MINIMAL_BUILD".into(), "ON".into()),
        ("onnxruntime_REDUCED_OPS_BUILD".into(), "ON".into()),
        ("onnxruntime_DISABLE_RTTI".into(), "ON".into()),
        ("onnxruntime_DISABLE_EXCEPTIONS".into(), "OFF".into()),
        (
            "onnxruntime_DISABLE_CONTRIB_OPS".into(),
            on(!opts.contrib_ops).into(),
        ),
        ("onnxruntime_DISABLE_ML_OPS".into(), on(!opts.ml_ops).into()),
        (
            "onnxruntime_DISABLE_SPARSE_TENSORS".into(),
            on(!opts.sparse_tensors).into(),
        ),
        (
            "onnxruntime_DISABLE_OPTIONAL_TYPE".into(),
            on(!opts.optional_type).into(),
        ),
        (
            "onnxruntime_DISABLE_FLOAT8_TYPES".into(),
            on(!opts.float8_types).into(),
        ),
        // The model stage refuses external data, so the runtime never loads any.
        (
            "onnxruntime_DISABLE_EXTERNAL_INITIALIZERS".into(),
            "ON".into(),
        ),
        (
            "onnxruntime_ENABLE_WEBASSEMBLY_SIMD".into(),
            on(opts.simd).into(),
        ),
        (
            "onnxruntime_ENABLE_WEBASSEMBLY_THREADS".into(),
            on(opts.threads).into(),
        ),
        (
            "onnxruntime_ENABLE_WEBASSEMBLY_EXCEPTION_CATCHING".into(),
            "OFF".into(),
        ),
        (
            "onnxruntime_ENABLE_WEBASSEMBLY_API_EXCEPTION_CATCHING".into(),
            "OFF".into(),
        ),
        (
            "onnxruntime_ENABLE_WEBASSEMBLY_EXCEPTION_THROWING".into(),
            "ON".into(),
        ),
        (
            "onnxruntime_BUILD_WEBASSEMBLY_STATIC_LIB".into(),
            on(opts.flavor == Flavor::StaticLib).into(),
        ),
        ("onnxruntime_ENABLE_CPUINFO".into(), "OFF".into()),
        ("onnxruntime_USE_XNNPACK".into(), "OFF".into()),
        (
            "onnxruntime_EMSCRIPTEN_SETTINGS".into(),
            "MALLOC=dlmalloc;STACK_SIZE=5242880".into(),
        ),
        ("FETCHCONTENT_FULLY_DISCONNECTED".into(), "ON".into()),
        ("FETCHCONTENT_TRY_FIND_PACKAGE_MODE".into(), "NEVER".into()),
        ("CMAKE_C_FLAGS".into(), common_flags.clone()),
        (
            "CMAKE_CXX_FLAGS".into(),
            format!("{common_flags} {CXX_VTABLE_FLAGS}"),
        ),
        // emcc also takes these at the (LTO) link, where the code is generated.
        ("CMAKE_C_FLAGS_MINSIZEREL".into(), SIZE_FLAGS.into()),
        ("CMAKE_CXX_FLAGS_MINSIZEREL".into(), SIZE_FLAGS.into()),
        ("CMAKE_EXE_LINKER_FLAGS".into(), LTO_LINK_FIX.into()),
    ];
    d.push((
        "CMAKE_PROJECT_onnxruntime_INCLUDE".into(),
        path(&build_dir.join(OPTIMIZE_HOOK_FILE)),
    ));
    for (name, dir) in sources.fetchcontent_dirs() {
        if name == "safeint" {
            d.push(("safeint_SOURCE_DIR".into(), path(dir)));
        } else {
            d.push((
                format!("FETCHCONTENT_SOURCE_DIR_{}", name.to_ascii_uppercase()),
                path(dir),
            ));
        }
    }
    Ok(d)
}

/// The full configure command line (after `cmake`).
pub fn configure_args(
    tools: &Toolchain,
    sources: &SourceTree,
    opts: &RuntimeOptions,
    build_dir: &Path,
) -> Result<Vec<OsString>> {
    let mut args: Vec<OsString> = vec![
        "-S".into(),
        sources.ort_dir().join("cmake").into(),
        "-B".into(),
        build_dir.into(),
        "-G".into(),
        "Ninja".into(),
        // Command-line only (not cached): must be given on every configure, or -Werror returns.
        "--compile-no-warning-as-error".into(),
    ];
    for (k, v) in definitions(tools, sources, opts, build_dir)? {
        args.push(format!("-D{k}={v}").into());
    }
    Ok(args)
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_has_its_own_hook_in_the_key() {
        let opts = |optimize| RuntimeOptions {
            optimize,
            ..RuntimeOptions::default()
        };
        let size = optimize_hook(&opts(Optimize::Size));
        assert!(size.lines().all(|l| l.starts_with('#')), "{size}");
        let speed = optimize_hook(&opts(Optimize::Speed));
        assert!(speed.contains("target_compile_options(${target} PRIVATE -O2)"));
        assert!(speed.contains("onnxruntime_mlas onnxruntime_providers"));
        let balanced = optimize_hook(&opts(Optimize::Balanced));
        assert!(balanced
            .contains("\"${ONNXRUNTIME_ROOT}/core/providers/cpu/math/element_wise_ops.cc\""));
        assert!(balanced.contains("TARGET_DIRECTORY onnxruntime_providers"));
        assert!(balanced.contains("PROPERTIES COMPILE_OPTIONS -O2)"));
        for o in Optimize::ALL {
            let flags = recipe_flags(&opts(o));
            assert!(flags.contains(SIZE_FLAGS));
            assert!(flags.contains(&optimize_hook(&opts(o))));
        }
        assert_ne!(
            recipe_flags(&opts(Optimize::Size)),
            recipe_flags(&opts(Optimize::Balanced)),
            "a recipe change is a new runtime key"
        );
    }
}
