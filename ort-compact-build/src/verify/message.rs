//! Reading ONNX Runtime's error messages: which operator a runtime lacks a kernel for.
//!
//! ONNX Runtime 1.21 refuses a node that no execution provider took with the message
//! `Could not find an implementation for <OpType>(<since version>) node with name '<node>'`
//! (status NOT_IMPLEMENTED, raised while the session is initialised). Python prefixes it with
//! `[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : `; onnxruntime-web and the bare C exports pass
//! it through as is. The parser below finds the sentence anywhere in a longer text.

/// ORT's status code for "not implemented" (`ORT_NOT_IMPLEMENTED` in the C API).
pub const ORT_NOT_IMPLEMENTED: i64 = 9;

/// A node the runtime has no kernel for, as named in ORT's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKernel {
    /// Operator type, e.g. `Relu`.
    pub op_type: String,
    /// The operator's since-version (opset) that was looked up, e.g. 14.
    pub since_version: i64,
    /// Name of the node (may be empty: ONNX node names are optional).
    pub node: String,
}

impl std::fmt::Display for MissingKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.op_type, self.since_version)?;
        if self.node.is_empty() {
            write!(f, " (unnamed node)")
        } else {
            write!(f, " (node '{}')", self.node)
        }
    }
}

const LEAD: &str = "Could not find an implementation for ";
const NODE_PART: &str = " node with name '";

/// Finds ORT's "no kernel for this node" sentence in `message` and returns what it names.
///
/// Returns `None` when the message is about something else.
pub fn parse_missing_kernel(message: &str) -> Option<MissingKernel> {
    let start = message.find(LEAD)? + LEAD.len();
    let rest = message.get(start..)?;
    let open = rest.find('(')?;
    let op_type = rest.get(..open)?;
    if op_type.is_empty() || op_type.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    let after_open = rest.get(open + 1..)?;
    let close = after_open.find(')')?;
    let since_version = after_open.get(..close)?.trim().parse::<i64>().ok()?;
    let after_close = after_open.get(close + 1..)?;
    let name_start = after_close.strip_prefix(NODE_PART)?;
    // The name runs to the closing quote; ORT puts nothing after it but a line end or the
    // next message of a nested status, so take the last quote on the same line.
    let line = name_start.lines().next().unwrap_or("");
    let node = match line.rfind('\'') {
        Some(end) => line.get(..end).unwrap_or(""),
        None => line,
    };
    Some(MissingKernel {
        op_type: op_type.to_string(),
        since_version,
        node: node.to_string(),
    })
}

/// True when the message says a kernel rejected an element type: what a type-reduced runtime
/// answers when a model feeds a type its kernels were not built for.
pub fn is_unsupported_type(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("unsupported data type")
        || lower.contains("unsupported tensor type")
        || lower.contains("type is not supported")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bare_message() {
        let m = parse_missing_kernel(
            "Could not find an implementation for Relu(14) node with name 'relu_1'",
        )
        .unwrap();
        assert_eq!(m.op_type, "Relu");
        assert_eq!(m.since_version, 14);
        assert_eq!(m.node, "relu_1");
        assert_eq!(m.to_string(), "Relu(14) (node 'relu_1')");
    }

    #[test]
    fn parses_python_prefixed_message() {
        let m = parse_missing_kernel(
            "[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : Could not find an implementation for \
             QuantizeLinear(19) node with name 'node_token_12'",
        )
        .unwrap();
        assert_eq!(m.op_type, "QuantizeLinear");
        assert_eq!(m.since_version, 19);
        assert_eq!(m.node, "node_token_12");
    }

    #[test]
    fn parses_web_prefixed_message_and_empty_name() {
        let m = parse_missing_kernel(
            "Can't create a session. ERROR_CODE: 9, ERROR_MESSAGE: Could not find an \
             implementation for FusedGemm(1) node with name ''",
        )
        .unwrap();
        assert_eq!(m.op_type, "FusedGemm");
        assert_eq!(m.since_version, 1);
        assert_eq!(m.node, "");
        assert_eq!(m.to_string(), "FusedGemm(1) (unnamed node)");
    }

    #[test]
    fn node_names_with_slashes_and_quotes() {
        let m = parse_missing_kernel(
            "Could not find an implementation for Conv(11) node with name '/enc/conv'1''\nnext",
        )
        .unwrap();
        assert_eq!(m.node, "/enc/conv'1'");
    }

    #[test]
    fn other_messages_are_not_missing_kernels() {
        for msg in [
            "",
            "inference_session.cc:1452 LoadOrtModelWithLoader ORT model verification failed.",
            "Could not find an implementation for ",
            "Could not find an implementation for Relu node with name 'x'",
            "Could not find an implementation for Relu(x) node with name 'x'",
            "Could not find an implementation for Relu(13) in 'x'",
        ] {
            assert_eq!(parse_missing_kernel(msg), None, "{msg}");
        }
    }

    #[test]
    fn unsupported_type_messages() {
        assert!(is_unsupported_type("Unsupported data type: 11"));
        assert!(!is_unsupported_type("Input X must have 3 dimensions only."));
    }
}
