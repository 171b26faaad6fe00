//! Splitting a kernel registration source (`cpu_execution_provider.cc`, …) into plain lines and
//! `BuildKernelCreateInfo<ONNX_OPERATOR_…_KERNEL_CLASS_NAME(…)>` entries.
//!
//! The rules are the ones ORT's own reduction tool applies, so that our output equals its output:
//! - an entry starts on a line whose trimmed text begins with `BuildKernelCreateInfo<ONNX`;
//! - it continues over following lines until a trimmed line ends with one of the terminators
//!   `);`, `)>`, `)>,`, `)>,};`, `)>};` (tested in that order);
//! - the macro is recognised by substring, in the order of [`MACROS`]; its arguments are the
//!   comma-separated text between the macro's `(` and the terminator, of which the *last* ones are
//!   used (domain constant, versions, type(s), operator);
//! - an entry with none of the known macros is passed through unchanged.
//!
//! Preprocessor conditions are not evaluated: an entry inside `#if …` is kept or disabled like any
//! other, exactly as ORT's tool does (the C++ preprocessor then decides whether it is compiled).

use crate::error::{Error, Result};
use std::path::Path;

/// Line terminators of an entry, in the order they are tested.
const END_MARKS: [&str; 5] = [");", ")>", ")>,", ")>,};", ")>};"];

/// Argument layout of one registration macro.
#[derive(Debug, Clone, Copy)]
struct MacroShape {
    name: &'static str,
    versioned: bool,
    types: usize,
}

/// The registration macros, in the order they are matched.
const MACROS: [MacroShape; 6] = [
    MacroShape {
        name: "ONNX_OPERATOR_KERNEL_CLASS_NAME",
        versioned: false,
        types: 0,
    },
    MacroShape {
        name: "ONNX_OPERATOR_TYPED_KERNEL_CLASS_NAME",
        versioned: false,
        types: 1,
    },
    MacroShape {
        name: "ONNX_OPERATOR_VERSIONED_KERNEL_CLASS_NAME",
        versioned: true,
        types: 0,
    },
    MacroShape {
        name: "ONNX_OPERATOR_VERSIONED_TYPED_KERNEL_CLASS_NAME",
        versioned: true,
        types: 1,
    },
    MacroShape {
        name: "ONNX_OPERATOR_TWO_TYPED_KERNEL_CLASS_NAME",
        versioned: false,
        types: 2,
    },
    MacroShape {
        name: "ONNX_OPERATOR_VERSIONED_TWO_TYPED_KERNEL_CLASS_NAME",
        versioned: true,
        types: 2,
    },
];

/// One kernel registration entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registration {
    /// ORT's domain constant as written (`kOnnxDomain`, `kMSDomain`, …).
    pub domain_constant: String,
    /// Operator type.
    pub op_type: String,
    /// First opset of the kernel.
    pub since: i64,
    /// Last opset of the kernel; `None` when unbounded.
    pub end: Option<i64>,
    /// The type argument(s); two-typed kernels give `"T1, T2"`.
    pub type_string: Option<String>,
    /// The enclosing preprocessor conditions, outermost first (`#ifndef DISABLE_ML_OPS`, …;
    /// an `#else` branch shows as `#else of #if …`). Empty when unconditional.
    pub conditions: Vec<String>,
}

impl Registration {
    /// Whether `opset` lies in this registration's version range.
    pub fn covers(&self, opset: i64) -> bool {
        opset >= self.since && self.end.is_none_or(|end| opset <= end)
    }
}

/// A piece of a registration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// Lines that are passed through unchanged (each with its line ending).
    Other(&'a str),
    /// A registration entry and its original lines (each with its line ending).
    Entry {
        /// The parsed registration.
        registration: Registration,
        /// The original lines.
        lines: Vec<&'a str>,
        /// 1-based line number of the first line.
        line_number: usize,
    },
}

/// Splits `text` into lines that keep their `\n`.
fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Parses a registration file's text. `path` is only used in error messages.
pub(crate) fn parse<'a>(path: &Path, text: &'a str) -> Result<Vec<Segment<'a>>> {
    let lines = split_lines(text);
    let mut segments = Vec::with_capacity(lines.len());
    let mut conditions: Vec<String> = Vec::new();
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        if !line.trim().starts_with("BuildKernelCreateInfo<ONNX") {
            track_condition(&mut conditions, line);
            segments.push(Segment::Other(line));
            index += 1;
            continue;
        }
        let first = index;
        let end_mark = loop {
            let Some(current) = lines.get(index) else {
                return Err(source_error(
                    path,
                    first,
                    "kernel registration entry has no terminating `)>,` before the end of the file",
                ));
            };
            let stripped = current.trim();
            if let Some(mark) = END_MARKS.iter().find(|mark| stripped.ends_with(**mark)) {
                break *mark;
            }
            index += 1;
        };
        let entry_lines: Vec<&str> = lines.get(first..=index).unwrap_or_default().to_vec();
        index += 1;
        let code: String = entry_lines.iter().map(|l| l.trim()).collect();
        match parse_entry(&code, end_mark).map_err(|reason| source_error(path, first, &reason))? {
            Some(mut registration) => segments.push(Segment::Entry {
                registration: {
                    registration.conditions = conditions.clone();
                    registration
                },
                lines: entry_lines,
                line_number: first + 1,
            }),
            None => segments.extend(entry_lines.into_iter().map(Segment::Other)),
        }
    }
    Ok(segments)
}

/// Follows `#if`/`#ifdef`/`#ifndef` … `#elif`/`#else` … `#endif` nesting.
fn track_condition(stack: &mut Vec<String>, line: &str) {
    let Some(directive) = line.trim().strip_prefix('#') else {
        return;
    };
    let directive = directive.trim_start();
    let keyword = directive
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or("");
    let text = directive.split("//").next().unwrap_or("").trim();
    match keyword {
        "if" | "ifdef" | "ifndef" => stack.push(format!("#{text}")),
        "elif" | "else" => {
            if let Some(top) = stack.last_mut() {
                let base = top
                    .rsplit_once(" of ")
                    .map_or(top.as_str(), |(_, base)| base)
                    .to_string();
                *top = format!("#{text} of {base}");
            }
        }
        "endif" => {
            stack.pop();
        }
        _ => {}
    }
}

fn source_error(path: &Path, zero_based_line: usize, reason: &str) -> Error {
    Error::RegistrationSource {
        path: path.to_path_buf(),
        line: zero_based_line + 1,
        reason: reason.to_string(),
    }
}

/// Parses the joined, trimmed text of one entry. `Ok(None)`: no known macro (kept as is).
fn parse_entry(code: &str, end_mark: &str) -> std::result::Result<Option<Registration>, String> {
    let Some((shape, at)) = MACROS
        .iter()
        .find_map(|shape| code.find(shape.name).map(|at| (shape, at)))
    else {
        return Ok(None);
    };
    let start = at + shape.name.len() + 1;
    let stop = code.len().saturating_sub(end_mark.len());
    let inner = code.get(start..stop.max(start)).unwrap_or("");
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    let wanted = 3 + usize::from(shape.versioned) + shape.types;
    let Some(tail) = args
        .len()
        .checked_sub(wanted)
        .and_then(|from| args.get(from..))
    else {
        return Err(format!(
            "{} has {} arguments, expected at least {wanted}: `{code}`",
            shape.name,
            args.len()
        ));
    };
    let mut it = tail.iter().copied();
    let mut next = || it.next().unwrap_or_default();
    let domain_constant = next().to_string();
    let since = parse_version(next(), code)?;
    let end = if shape.versioned {
        Some(parse_version(next(), code)?)
    } else {
        None
    };
    let type_string = match shape.types {
        0 => None,
        1 => Some(next().to_string()),
        _ => {
            let first = next();
            let second = next();
            Some(format!("{first}, {second}"))
        }
    };
    let op_type = next().to_string();
    Ok(Some(Registration {
        domain_constant,
        op_type,
        since,
        end,
        type_string,
        conditions: Vec::new(),
    }))
}

fn parse_version(text: &str, code: &str) -> std::result::Result<i64, String> {
    text.parse()
        .map_err(|_| format!("opset version `{text}` is not a number in `{code}`"))
}

/// Maps ORT's domain constant (`include/onnxruntime/core/graph/constants.h`) to the domain name
/// used in models and op configs.
pub(crate) fn domain_of_constant(constant: &str) -> Option<&'static str> {
    Some(match constant {
        "kOnnxDomain" => "ai.onnx",
        "kMLDomain" => "ai.onnx.ml",
        "kMSDomain" => "com.microsoft",
        "kPytorchAtenDomain" => "org.pytorch.aten",
        "kMSExperimentalDomain" => "com.microsoft.experimental",
        "kMSNchwcDomain" => "com.microsoft.nchwc",
        "kMSInternalNHWCDomain" => "com.ms.internal.nhwc",
        "kMSDmlDomain" => "com.microsoft.dml",
        "kNGraphDomain" => "com.intel.ai",
        "kVitisAIDomain" => "com.xilinx",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<Registration> {
        parse(Path::new("x.cc"), text)
            .unwrap()
            .into_iter()
            .filter_map(|s| match s {
                Segment::Entry { registration, .. } => Some(registration),
                Segment::Other(_) => None,
            })
            .collect()
    }

    #[test]
    fn all_macro_shapes() {
        let text = "\
  BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(kCpuExecutionProvider, kOnnxDomain, 7, Cos)>,
  BuildKernelCreateInfo<ONNX_OPERATOR_TYPED_KERNEL_CLASS_NAME(kCpuExecutionProvider, kOnnxDomain, 7, double, Sin)>,
  BuildKernelCreateInfo<ONNX_OPERATOR_VERSIONED_KERNEL_CLASS_NAME(kCpuExecutionProvider, kOnnxDomain, 1, 10,
                                                                  Hardmax)>,
  BuildKernelCreateInfo<ONNX_OPERATOR_VERSIONED_TYPED_KERNEL_CLASS_NAME(kCpuExecutionProvider, kOnnxDomain, 1, 10, float, LogSoftmax)>,
  BuildKernelCreateInfo<ONNX_OPERATOR_TWO_TYPED_KERNEL_CLASS_NAME(kCpuExecutionProvider, kMSDomain, 1, float, uint8_t, QuantizeLinear)>,
  BuildKernelCreateInfo<ONNX_OPERATOR_VERSIONED_TWO_TYPED_KERNEL_CLASS_NAME(kCpuExecutionProvider, kOnnxDomain, 19, 20, float, uint8_t, Q)>};
";
        let regs = entries(text);
        assert_eq!(regs.len(), 6);
        assert_eq!(regs[0].op_type, "Cos");
        assert_eq!(
            (regs[1].since, regs[1].type_string.as_deref()),
            (7, Some("double"))
        );
        assert_eq!(
            (regs[2].op_type.as_str(), regs[2].end),
            ("Hardmax", Some(10))
        );
        assert_eq!(regs[3].type_string.as_deref(), Some("float"));
        assert_eq!(regs[4].type_string.as_deref(), Some("float, uint8_t"));
        assert_eq!(regs[4].domain_constant, "kMSDomain");
        assert_eq!((regs[5].end, regs[5].op_type.as_str()), (Some(20), "Q"));
        assert!(regs[2].covers(10) && !regs[2].covers(11) && regs[0].covers(99));
    }

    #[test]
    fn preprocessor_conditions_are_recorded() {
        let text = "\
#ifndef DISABLE_ML_OPS
#if defined(A)  // comment
  BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(kCpuExecutionProvider, kMLDomain, 1, X)>,
#else
  BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(kCpuExecutionProvider, kMLDomain, 1, Y)>,
#endif
#endif
  BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(kCpuExecutionProvider, kMLDomain, 1, Z)>,
";
        let regs = entries(text);
        assert_eq!(
            regs[0].conditions,
            ["#ifndef DISABLE_ML_OPS", "#if defined(A)"]
        );
        assert_eq!(
            regs[1].conditions,
            ["#ifndef DISABLE_ML_OPS", "#else of #if defined(A)"]
        );
        assert!(regs[2].conditions.is_empty());
    }

    #[test]
    fn unknown_macro_passes_through_and_unterminated_is_an_error() {
        let text = "BuildKernelCreateInfo<ONNX_SOMETHING_ELSE(a, b)>,\nfoo\n";
        let segs = parse(Path::new("x.cc"), text).unwrap();
        assert_eq!(
            segs,
            vec![Segment::Other(segs_line(text, 0)), Segment::Other("foo\n")]
        );
        let err = parse(
            Path::new("x.cc"),
            "x\n BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(\n",
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::RegistrationSource { line: 2, .. }),
            "{err}"
        );
        let err = parse(
            Path::new("x.cc"),
            "BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(a, kOnnxDomain, x, Cos)>,\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a number"), "{err}");
    }

    fn segs_line(text: &str, i: usize) -> &str {
        text.split_inclusive('\n').nth(i).unwrap()
    }
}
