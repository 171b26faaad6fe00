//! When an `.ort` buffer fails verification: find the node whose graph attribute (subgraph) is
//! the invalid part, so the error can name it.
//!
//! The buffer is verified again "shallowly" — session, model, graph, nodes (name) and attributes
//! (name, and only the offset words of `g`/`graphs`) — and each attribute subgraph is then
//! verified on its own, descending into the innermost failing one.

use super::ort::{verifier_options, Graph, Le, VResult};
use super::ort_schema as s;
use flatbuffers::{Follow, ForwardsUOffset, Table, Vector, Verifiable, Verifier, VerifierOptions};

type Tables<'a, T> = ForwardsUOffset<Vector<'a, ForwardsUOffset<T>>>;
type Str<'a> = ForwardsUOffset<&'a str>;

macro_rules! shallow {
    ($name:ident) => {
        #[derive(Clone, Copy)]
        struct $name<'a> {
            t: Table<'a>,
        }
        impl<'a> Follow<'a> for $name<'a> {
            type Inner = $name<'a>;
            unsafe fn follow(buf: &'a [u8], loc: usize) -> Self::Inner {
                // SAFETY: forwarded contract of `Follow::follow`.
                Self {
                    t: unsafe { Table::new(buf, loc) },
                }
            }
        }
        #[allow(dead_code)]
        impl<'a> $name<'a> {
            fn sub<T: Follow<'a, Inner = T> + 'a>(&self, slot: u16) -> Option<T> {
                // SAFETY: only called for slots verified as tables of type `T`.
                unsafe { self.t.get::<ForwardsUOffset<T>>(slot, None) }
            }
            fn list<T: Follow<'a, Inner = T> + 'a>(&self, slot: u16) -> Vec<T> {
                // SAFETY: only called for slots verified as vectors of tables `T`.
                unsafe { self.t.get::<Tables<T>>(slot, None) }
                    .map(|v| v.iter().collect())
                    .unwrap_or_default()
            }
            fn name(&self, slot: u16) -> &'a str {
                // SAFETY: only called for slots verified as strings.
                unsafe { self.t.get::<Str>(slot, None) }.unwrap_or("")
            }
        }
    };
}

shallow!(Session);
shallow!(Model);
shallow!(SGraph);
shallow!(Node);
shallow!(Attr);

impl Verifiable for Session<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Model>>("model", s::inference_session::MODEL, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Model<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<SGraph>>("graph", s::model::GRAPH, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for SGraph<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<Tables<Node>>("nodes", s::graph::NODES, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Node<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<Str>("name", s::node::NAME, false)?
            .visit_field::<Le<4>>("index", s::node::INDEX, false)?
            .visit_field::<Tables<Attr>>("attributes", s::node::ATTRIBUTES, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Attr<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<Str>("name", s::attribute::NAME, false)?
            .visit_field::<Le<4>>("g", s::attribute::G, false)?
            .visit_field::<ForwardsUOffset<Vector<Le<4>>>>("graphs", s::attribute::GRAPHS, false)?
            .finish();
        Ok(())
    }
}

impl<'a> Attr<'a> {
    /// Buffer positions of the offset words that point at this attribute's subgraphs.
    fn graph_offset_positions(&self) -> Vec<usize> {
        let buf = self.t.buf();
        let mut out = Vec::new();
        let g = self.t.vtable().get(s::attribute::G) as usize;
        if g != 0 {
            out.push(self.t.loc() + g);
        }
        // SAFETY: `graphs` was verified as a vector of 4-byte values.
        let graphs = unsafe {
            self.t
                .get::<ForwardsUOffset<Vector<'a, Le<4>>>>(s::attribute::GRAPHS, None)
        };
        if let Some(v) = graphs {
            let start = (v.bytes().as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
            out.extend((0..v.len()).map(|i| start + 4 * i));
        }
        out
    }
}

fn read_u32(buf: &[u8], pos: usize) -> Option<usize> {
    let bytes = buf.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
}

/// The innermost node whose graph attribute fails verification: (node, reason).
pub(super) fn diagnose(buf: &[u8]) -> Option<(String, String)> {
    let opts = verifier_options(buf.len());
    let session = flatbuffers::root_with_opts::<Session>(&opts, buf).ok()?;
    let graph = session
        .sub::<Model>(s::inference_session::MODEL)?
        .sub::<SGraph>(s::model::GRAPH)?;
    diagnose_graph(buf, &opts, graph, 0)
}

fn diagnose_graph(
    buf: &[u8],
    opts: &VerifierOptions,
    graph: SGraph<'_>,
    depth: usize,
) -> Option<(String, String)> {
    if depth > 64 {
        return None;
    }
    for node in graph.list::<Node>(s::graph::NODES) {
        for attr in node.list::<Attr>(s::node::ATTRIBUTES) {
            for field_pos in attr.graph_offset_positions() {
                let mut v = Verifier::new(opts, buf);
                let Err(e) = <ForwardsUOffset<Graph>>::run_verifier(&mut v, field_pos) else {
                    continue;
                };
                let sub_pos = read_u32(buf, field_pos).and_then(|o| field_pos.checked_add(o));
                if let Some(sub_pos) = sub_pos {
                    let mut v = Verifier::new(opts, buf);
                    if SGraph::run_verifier(&mut v, sub_pos).is_ok() {
                        // SAFETY: verified as a shallow graph just above.
                        let sub = unsafe { SGraph::follow(buf, sub_pos) };
                        if let Some(inner) = diagnose_graph(buf, opts, sub, depth + 1) {
                            return Some(inner);
                        }
                    }
                }
                let name = match node.name(s::node::NAME) {
                    "" => {
                        // SAFETY: `index` was verified as a 4-byte scalar.
                        let index = unsafe { node.t.get::<Le<4>>(s::node::INDEX, None) };
                        format!("#{}", index.map_or(0, u32::from_le_bytes))
                    }
                    n => n.to_owned(),
                };
                let reason = e.to_string();
                let first = reason.lines().next().unwrap_or("").trim();
                return Some((
                    name,
                    format!(
                        "graph attribute '{}' is not a valid ORT-format graph: {first}",
                        attr.name(s::attribute::NAME)
                    ),
                ));
            }
        }
    }
    None
}
