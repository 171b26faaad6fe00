//! The matched pair: a JS-mode runtime's `.wasm` and `.mjs` only work together (Emscripten's
//! glue and the module it instantiates agree on imports, exports and function tables). Both get
//! the same build id: the `.wasm` as a custom section, the `.mjs` as a guard appended to
//! Emscripten's module that checks it before instantiating, so a mismatched deployment fails
//! with a message naming both ids instead of a LinkError.

use crate::error::{Error, Result};
use crate::util::sha256_bytes;

/// Name of the wasm custom section holding the build id.
pub const BUILD_ID_SECTION: &str = "ort_compact.build_id";

const GUARD: &str = include_str!("guard.mjs");

/// A runtime pair carrying its build id.
#[derive(Debug, Clone)]
pub struct StampedPair {
    /// The `.wasm`, with the build-id section appended.
    pub wasm: Vec<u8>,
    /// 16 hex digits of sha256 over the unstamped pair.
    pub build_id: String,
    /// Emscripten's module, without its `export default`.
    glue: String,
    /// The name of Emscripten's factory function.
    factory: String,
}

impl StampedPair {
    /// The `.mjs`: Emscripten's module with the guard. `wasm_name` is the file the guard loads
    /// (next to the `.mjs`) when its importer gives neither `wasmBinary` nor `locateFile`.
    pub fn mjs(&self, wasm_name: &str) -> Vec<u8> {
        let guard: String = GUARD
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .map(|l| format!("{l}\n"))
            .collect();
        let guard = guard
            .replace("@BUILD_ID@", &self.build_id)
            .replace("@WASM_NAME@", wasm_name)
            .replace("@FACTORY@", &self.factory);
        format!("{}\n{guard}", self.glue).into_bytes()
    }
}

/// Stamp a freshly built pair with its build id.
pub fn stamp(wasm: &[u8], mjs: &[u8]) -> Result<StampedPair> {
    if build_id(wasm)?.is_some() {
        return Err(pair_error("the .wasm already carries a build id"));
    }
    let (glue, factory) = split_export(mjs)?;
    let mut material = wasm.to_vec();
    material.extend_from_slice(mjs);
    let id = sha256_bytes(&material)[..16].to_string();
    let mut stamped = wasm.to_vec();
    stamped.extend(custom_section(BUILD_ID_SECTION, id.as_bytes()));
    Ok(StampedPair {
        wasm: stamped,
        build_id: id,
        glue,
        factory,
    })
}

/// The build id a `.wasm` carries (`None`: unstamped); an error if it is not WebAssembly.
pub fn build_id(wasm: &[u8]) -> Result<Option<String>> {
    let mut at = match wasm {
        [0x00, b'a', b's', b'm', 1, 0, 0, 0, ..] => 8,
        _ => return Err(pair_error("the .wasm is not a WebAssembly module")),
    };
    while at < wasm.len() {
        let id = wasm[at];
        let (size, n) = leb128(&wasm[at + 1..]).ok_or_else(|| pair_error("truncated section"))?;
        let body = at + 1 + n;
        let end = body
            .checked_add(size)
            .filter(|&e| e <= wasm.len())
            .ok_or_else(|| pair_error("truncated section"))?;
        if id == 0 {
            let (len, m) =
                leb128(&wasm[body..end]).ok_or_else(|| pair_error("bad custom section"))?;
            let name = body + m;
            if name + len <= end && &wasm[name..name + len] == BUILD_ID_SECTION.as_bytes() {
                let value = String::from_utf8_lossy(&wasm[name + len..end]).into_owned();
                return Ok(Some(value));
            }
        }
        at = end;
    }
    Ok(None)
}

/// The build id a guarded `.mjs` checks for (`None`: no guard).
#[cfg(test)]
pub fn mjs_build_id(mjs: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(mjs).ok()?;
    let rest = &text[text.find("const ortCompactBuildId = \"")? + 27..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Emscripten's ES module split into the code before its final `export default <factory>;`
/// and the factory's name.
fn split_export(mjs: &[u8]) -> Result<(String, String)> {
    let text = std::str::from_utf8(mjs).map_err(|_| pair_error("the .mjs is not UTF-8"))?;
    let trimmed = text.trim_end();
    let at = trimmed
        .rfind("export default ")
        .ok_or_else(|| pair_error("the .mjs has no `export default`"))?;
    let factory = trimmed[at + 15..].trim_end_matches(';').trim();
    if factory.is_empty()
        || !factory
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(pair_error(
            "the .mjs does not end with `export default <factory>;`",
        ));
    }
    Ok((trimmed[..at].to_string(), factory.to_string()))
}

fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = leb128_bytes(name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = vec![0u8];
    out.extend(leb128_bytes(body.len()));
    out.extend(body);
    out
}

fn leb128_bytes(mut v: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// An unsigned LEB128 (at most 5 bytes, as wasm sizes are u32) and its length.
fn leb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut v = 0usize;
    for (i, b) in bytes.iter().take(5).enumerate() {
        v |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn pair_error(what: &str) -> Error {
    Error::Pair(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal module: header, a type section, a custom section of another name.
    fn module() -> Vec<u8> {
        let mut m = vec![0x00, b'a', b's', b'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0];
        m.extend(custom_section("name", b"xyz"));
        m
    }

    const GLUE: &str =
        "async function ortWasm(moduleArg={}){return moduleArg}export default ortWasm;\n";

    #[test]
    fn both_files_carry_the_same_id_and_the_guard_wraps_the_factory() {
        let p = stamp(&module(), GLUE.as_bytes()).unwrap();
        assert_eq!(p.build_id.len(), 16);
        assert_eq!(build_id(&p.wasm).unwrap().as_deref(), Some(&*p.build_id));
        let mjs = p.mjs("ort-wasm.abc.wasm");
        assert_eq!(mjs_build_id(&mjs).as_deref(), Some(&*p.build_id));
        assert!(
            p.wasm.starts_with(&module()),
            "appended, nothing else moved"
        );
        let mjs = String::from_utf8(mjs).unwrap();
        assert!(mjs.starts_with("async function ortWasm("), "{mjs}");
        assert!(mjs.contains("return Promise.race([ortWasm(arg), failed]);"));
        assert!(mjs.contains("\"ort-wasm.abc.wasm\""));
        assert!(mjs
            .trim_end()
            .ends_with("export default ortCompactFactory;"));
        assert_eq!(mjs.matches("export default").count(), 1);
        assert!(!mjs.contains("\n//"), "comment lines dropped");
    }

    #[test]
    fn the_id_follows_both_files_and_is_reproducible() {
        let a = stamp(&module(), GLUE.as_bytes()).unwrap();
        assert_eq!(
            a.build_id,
            stamp(&module(), GLUE.as_bytes()).unwrap().build_id
        );
        let other_glue = GLUE.replace("return moduleArg", "return 1");
        assert_ne!(
            a.build_id,
            stamp(&module(), other_glue.as_bytes()).unwrap().build_id
        );
        let mut other_wasm = module();
        other_wasm.extend(custom_section("x", b""));
        assert_ne!(
            a.build_id,
            stamp(&other_wasm, GLUE.as_bytes()).unwrap().build_id
        );
    }

    #[test]
    fn unusable_inputs_are_refused() {
        let stamped = stamp(&module(), GLUE.as_bytes()).unwrap();
        for (wasm, glue, what) in [
            (b"not wasm".to_vec(), GLUE, "not a WebAssembly module"),
            (stamped.wasm, GLUE, "already carries a build id"),
            (module(), "var x = 1;", "no `export default`"),
            (
                module(),
                "export default (() => 1);",
                "export default <factory>;",
            ),
        ] {
            let err = stamp(&wasm, glue.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(what), "{err}");
        }
        let mut truncated = module();
        truncated.truncate(truncated.len() - 1);
        assert!(build_id(&truncated).is_err());
        assert_eq!(build_id(&module()).unwrap(), None);
    }
}
