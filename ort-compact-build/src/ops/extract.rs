//! Operator (and type) extraction from ONNX and ORT-format models.
//!
//! Every graph is visited, including subgraphs in node attributes (If/Loop/Scan bodies, nested
//! to any depth); values of outer graphs are visible in subgraphs. Domains are normalised (an
//! empty domain is `ai.onnx`).
//!
//! - `.ort`: the opset written is each node's since-version, exactly as ORT 1.21.0's
//!   `convert_onnx_models_to_ort` does; types come from the graph's node args.
//! - `.onnx`: the opset written is the model's imported version of the node's domain; calls of
//!   model-local functions are expanded into the function body's operators; types come from
//!   graph inputs, outputs, `value_info` and initializers (run ONNX shape inference first when
//!   intermediate values have no `value_info`).

use super::config::{OpConfig, TypeUsage};
use super::type_rules::{rule, TypeRule};
use crate::error::{Error, Result};
use crate::model::onnx::{type_proto, FunctionProto, GraphProto, OperatorSetIdProto, TypeProto};
use crate::model::ort::{Graph, TypeInfo, TypeValue};
use crate::model::{node_display_name, ElementType, ModelFile, OnnxModel, OrtModel};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Operator domains ONNX Runtime 1.21.0 has CPU kernels for.
pub const KNOWN_DOMAINS: [&str; 3] = ["ai.onnx", "ai.onnx.ml", "com.microsoft"];

/// Deepest subgraph / function nesting accepted.
const MAX_DEPTH: usize = 64;

/// The normalised domain name (`""` → `ai.onnx`).
pub fn normalize_domain(domain: &str) -> &str {
    if domain.is_empty() {
        "ai.onnx"
    } else {
        domain
    }
}

/// Loads every model and returns the union of their required operators (with type usage when
/// `with_types`).
#[cfg(test)]
pub fn required_ops_of_files<P: AsRef<Path>>(paths: &[P], with_types: bool) -> Result<OpConfig> {
    let mut collector = Collector::new(with_types);
    for path in paths {
        let model = ModelFile::load(path.as_ref())?;
        collector.add_model(&model)?;
    }
    Ok(collector.finish())
}

/// The required operators of one loaded model.
#[cfg(any(test, feature = "fuzzing"))]
pub fn required_ops(model: &ModelFile, with_types: bool) -> Result<OpConfig> {
    let mut collector = Collector::new(with_types);
    collector.add_model(model)?;
    Ok(collector.finish())
}

/// Accumulates operators and type usage over several models (type usage is shared across
/// models and opsets per operator, as in ORT's tool).
#[derive(Debug, Default)]
pub struct Collector {
    config: OpConfig,
    types: Option<BTreeMap<(String, String), TypeUsage>>,
}

impl Collector {
    /// A collector; `with_types` turns on type-usage tracking.
    pub fn new(with_types: bool) -> Self {
        Collector {
            config: OpConfig::new(),
            types: with_types.then(BTreeMap::new),
        }
    }

    /// Adds a model of either format.
    pub fn add_model(&mut self, model: &ModelFile) -> Result<()> {
        match model {
            ModelFile::Onnx(m) => self.add_onnx(m),
            ModelFile::Ort(m) => self.add_ort(m),
        }
    }

    /// The accumulated config.
    pub fn finish(mut self) -> OpConfig {
        if let Some(types) = self.types.take() {
            for ((domain, op), usage) in types {
                self.config.set_type_usage(&domain, &op, &usage);
            }
        }
        self.config
    }

    fn record_types(
        &mut self,
        ctx: &NodeCtx<'_>,
        inputs: &[&str],
        outputs: &[&str],
        type_of: &dyn Fn(&str) -> Option<std::result::Result<String, String>>,
    ) -> Result<()> {
        let Some(types) = self.types.as_mut() else {
            return Ok(());
        };
        let Some(r) = rule(ctx.domain, ctx.op) else {
            return Ok(());
        };
        let lookup = |name: &str| -> Result<String> {
            match type_of(name) {
                Some(Ok(t)) => Ok(t),
                Some(Err(reason)) => Err(ctx.error(format!("value '{name}': {reason}"))),
                None => Err(Error::TypeInference {
                    path: ctx.path.to_owned(),
                    node: ctx.node.clone(),
                    value: name.to_owned(),
                }),
            }
        };
        let usage = types
            .entry((ctx.domain.to_owned(), ctx.op.to_owned()))
            .or_default();
        match r {
            TypeRule::Args {
                inputs: tracked_in,
                outputs: tracked_out,
                ..
            } => {
                for &i in tracked_in {
                    // Older opsets of some operators have fewer inputs (e.g. Slice-1).
                    if let Some(name) = inputs.get(i) {
                        let t = lookup(name)?;
                        usage.inputs.entry(i).or_default().insert(t);
                    }
                }
                for &o in tracked_out {
                    let name = outputs.get(o).ok_or_else(|| {
                        ctx.error(format!(
                            "has {} outputs; output {o} expected",
                            outputs.len()
                        ))
                    })?;
                    let t = lookup(name)?;
                    usage.outputs.entry(o).or_default().insert(t);
                }
            }
            TypeRule::OneHot => {
                let get = |i: usize| {
                    inputs
                        .get(i)
                        .ok_or_else(|| {
                            ctx.error(format!("has {} inputs; 3 expected", inputs.len()))
                        })
                        .and_then(|n| lookup(n))
                };
                let (t0, t1, t2) = (get(0)?, get(1)?, get(2)?);
                usage.custom.insert(vec![t0, t2, t1]);
            }
        }
        Ok(())
    }

    // ---- .ort ---------------------------------------------------------------------------

    /// Adds an ORT-format model.
    pub fn add_ort(&mut self, model: &OrtModel) -> Result<()> {
        let graph = model.graph().ok_or_else(|| Error::InvalidOrtFormat {
            path: model.path().to_owned(),
            reason: "the model has no graph".into(),
        })?;
        self.ort_graph(model.path(), graph, &HashMap::new(), 0)
    }

    fn ort_graph<'a>(
        &mut self,
        path: &Path,
        graph: Graph<'a>,
        outer: &HashMap<&'a str, Option<TypeInfo<'a>>>,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::InvalidOrtFormat {
                path: path.to_owned(),
                reason: format!("subgraphs nested deeper than {MAX_DEPTH} levels"),
            });
        }
        let mut values = outer.clone();
        for arg in graph.node_args() {
            values.insert(arg.name(), arg.type_info());
        }
        for node in graph.nodes() {
            let name = node.display_name();
            let op =
                node.op_type()
                    .filter(|o| !o.is_empty())
                    .ok_or_else(|| Error::InvalidNode {
                        path: path.to_owned(),
                        node: name.clone(),
                        reason: "the node has no op_type".into(),
                    })?;
            let domain = normalize_domain(node.domain());
            let ctx = NodeCtx {
                path,
                node: name,
                domain,
                op,
            };
            ctx.check_domain()?;
            self.config
                .add_op(domain, i64::from(node.since_version()), op);
            if self.types.is_some() {
                let type_of = |n: &str| {
                    values.get(n).map(|t| {
                        t.ok_or_else(|| "has no type".to_owned())
                            .and_then(ort_type_str)
                    })
                };
                self.record_types(&ctx, &node.inputs(), &node.outputs(), &type_of)?;
            }
            for attr in node.attributes() {
                for sub in attr.g().into_iter().chain(attr.graphs()) {
                    self.ort_graph(path, sub, &values, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    // ---- .onnx --------------------------------------------------------------------------

    /// Adds an ONNX model.
    pub fn add_onnx(&mut self, model: &OnnxModel) -> Result<()> {
        let path = model.path();
        let graph = model.graph().ok_or_else(|| Error::InvalidOnnx {
            path: path.to_owned(),
            reason: "the model has no graph".into(),
        })?;
        let functions: HashMap<(&str, &str), &FunctionProto> = model
            .proto
            .functions
            .iter()
            .map(|f| ((normalize_domain(&f.domain), f.name.as_str()), f))
            .collect();
        let scope = OnnxScope {
            path,
            opsets: opset_map(&model.proto.opset_import),
            functions: &functions,
        };
        self.onnx_graph(&scope, graph, &OnnxValues::default(), 0)
    }

    fn onnx_graph<'a>(
        &mut self,
        scope: &OnnxScope<'a>,
        graph: &'a GraphProto,
        outer: &OnnxValues<'a>,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::InvalidOnnx {
                path: scope.path.to_owned(),
                reason: format!("subgraphs nested deeper than {MAX_DEPTH} levels"),
            });
        }
        let mut values = outer.clone();
        for t in &graph.initializer {
            values.initializers.insert(&t.name, t.data_type);
        }
        for vi in graph
            .input
            .iter()
            .chain(&graph.output)
            .chain(&graph.value_info)
        {
            if let Some(t) = &vi.r#type {
                values.types.insert(&vi.name, t);
            }
        }
        self.onnx_nodes(scope, &graph.node, &values, depth)
    }

    fn onnx_nodes<'a>(
        &mut self,
        scope: &OnnxScope<'a>,
        nodes: &'a [crate::model::onnx::NodeProto],
        values: &OnnxValues<'a>,
        depth: usize,
    ) -> Result<()> {
        for (index, node) in nodes.iter().enumerate() {
            let name = node_display_name(&node.name, index);
            if node.op_type.is_empty() {
                return Err(Error::InvalidNode {
                    path: scope.path.to_owned(),
                    node: name,
                    reason: "the node has no op_type".into(),
                });
            }
            let domain = normalize_domain(&node.domain);
            let op = node.op_type.as_str();
            if let Some(function) = scope.functions.get(&(domain, op)) {
                self.onnx_function(scope, function, &name, depth)?;
                continue;
            }
            let ctx = NodeCtx {
                path: scope.path,
                node: name.clone(),
                domain,
                op,
            };
            ctx.check_domain()?;
            let opset = *scope.opsets.get(domain).ok_or_else(|| {
                ctx.error(format!(
                    "the model does not import an opset of domain '{domain}'"
                ))
            })?;
            self.config.add_op(domain, opset, op);
            if self.types.is_some() {
                let type_of = |n: &str| {
                    if let Some(t) = values.types.get(n) {
                        Some(onnx_type_str(t))
                    } else {
                        values.initializers.get(n).map(|code| elem_name(*code))
                    }
                };
                let inputs: Vec<&str> = node.input.iter().map(String::as_str).collect();
                let outputs: Vec<&str> = node.output.iter().map(String::as_str).collect();
                self.record_types(&ctx, &inputs, &outputs, &type_of)?;
            }
            for attr in &node.attribute {
                for sub in attr.g.iter().chain(&attr.graphs) {
                    self.onnx_graph(scope, sub, values, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn onnx_function<'a>(
        &mut self,
        scope: &OnnxScope<'a>,
        function: &'a FunctionProto,
        caller: &str,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::InvalidNode {
                path: scope.path.to_owned(),
                node: caller.to_owned(),
                reason: format!(
                    "function '{}' calls functions nested deeper than {MAX_DEPTH} levels",
                    function.name
                ),
            });
        }
        let mut opsets = scope.opsets.clone();
        opsets.extend(opset_map(&function.opset_import));
        let inner = OnnxScope {
            path: scope.path,
            opsets,
            functions: scope.functions,
        };
        let values = OnnxValues {
            types: function
                .value_info
                .iter()
                .filter_map(|vi| vi.r#type.as_ref().map(|t| (vi.name.as_str(), t)))
                .collect(),
            initializers: HashMap::new(),
        };
        self.onnx_nodes(&inner, &function.node, &values, depth + 1)
    }
}

/// Known types of the values visible in an ONNX graph (own and outer scopes).
#[derive(Clone, Default)]
struct OnnxValues<'a> {
    types: HashMap<&'a str, &'a TypeProto>,
    initializers: HashMap<&'a str, i32>,
}

struct OnnxScope<'a> {
    path: &'a Path,
    opsets: HashMap<String, i64>,
    functions: &'a HashMap<(&'a str, &'a str), &'a FunctionProto>,
}

fn opset_map(imports: &[OperatorSetIdProto]) -> HashMap<String, i64> {
    imports
        .iter()
        .map(|o| (normalize_domain(&o.domain).to_owned(), o.version))
        .collect()
}

struct NodeCtx<'a> {
    path: &'a Path,
    node: String,
    domain: &'a str,
    op: &'a str,
}

impl NodeCtx<'_> {
    fn error(&self, reason: String) -> Error {
        Error::InvalidNode {
            path: PathBuf::from(self.path),
            node: self.node.clone(),
            reason: format!("{}:{}: {reason}", self.domain, self.op),
        }
    }

    fn check_domain(&self) -> Result<()> {
        if KNOWN_DOMAINS.contains(&self.domain) {
            Ok(())
        } else {
            Err(Error::UnknownDomain {
                path: self.path.to_owned(),
                node: self.node.clone(),
                domain: self.domain.to_owned(),
            })
        }
    }
}

fn elem_name(code: i32) -> std::result::Result<String, String> {
    ElementType::from_code(code)
        .and_then(ElementType::ort_name)
        .map(str::to_owned)
        .ok_or_else(|| format!("element type {code} has no ONNX Runtime kernel type"))
}

/// ORT's type string of a `.ort` type: the element type of a tensor, the element's string
/// for a sequence, `std::map<K,V>` for a map.
fn ort_type_str(t: TypeInfo<'_>) -> std::result::Result<String, String> {
    ort_type_str_depth(t, 0)
}

fn ort_type_str_depth(t: TypeInfo<'_>, depth: usize) -> std::result::Result<String, String> {
    if depth > MAX_DEPTH {
        return Err("type nested too deeply".into());
    }
    match t.value() {
        TypeValue::Tensor(tt) => elem_name(tt.elem_type()),
        TypeValue::Sequence(seq) => match seq.elem_type() {
            Some(e) => ort_type_str_depth(e, depth + 1),
            None => Err("sequence type without element type".into()),
        },
        TypeValue::Map(map) => {
            let key = elem_name(map.key_type())?;
            let value = match map.value_type() {
                Some(v) => ort_type_str_depth(v, depth + 1)?,
                None => return Err("map type without value type".into()),
            };
            Ok(format!("std::map<{key},{value}>"))
        }
        TypeValue::None => Err("unknown or missing value type".into()),
    }
}

/// The same type string for an ONNX type (optional types show their contained type).
fn onnx_type_str(t: &TypeProto) -> std::result::Result<String, String> {
    let mut t = t;
    for _ in 0..MAX_DEPTH {
        match &t.value {
            Some(type_proto::Value::TensorType(tt)) => return elem_name(tt.elem_type),
            Some(type_proto::Value::SparseTensorType(st)) => return elem_name(st.elem_type),
            Some(type_proto::Value::SequenceType(seq)) => match &seq.elem_type {
                Some(e) => t = e,
                None => return Err("sequence type without element type".into()),
            },
            Some(type_proto::Value::OptionalType(opt)) => match &opt.elem_type {
                Some(e) => t = e,
                None => return Err("optional type without element type".into()),
            },
            Some(type_proto::Value::MapType(map)) => {
                let key = elem_name(map.key_type)?;
                let value = match &map.value_type {
                    Some(v) => onnx_type_str(v)?,
                    None => return Err("map type without value type".into()),
                };
                return Ok(format!("std::map<{key},{value}>"));
            }
            Some(type_proto::Value::OpaqueType(_)) | None => {
                return Err("unknown or missing value type".into())
            }
        }
    }
    Err("type nested too deeply".into())
}
