//! The server's schema must cover the public contract (docs/contract/schema.graphql, a copy
//! of the shared contract), and its SDL is snapshotted in docs/schema.graphql so that any
//! change to the public surface is reviewed.

use std::collections::HashMap;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

/// Everything a schema declares, flattened to comparable lines:
/// `Type` → kind, `Type.field` → type, `Type.field(arg)` → type and default,
/// `Type implements I`, `Enum.VALUE`.
fn surface(sdl: &str) -> HashMap<String, String> {
    let document = parse_schema(sdl).unwrap_or_else(|e| panic!("unparsable SDL: {e}"));
    let mut out = HashMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        let kind = match &ty.node.kind {
            TypeKind::Scalar => "scalar",
            TypeKind::Object(o) => {
                for field in &o.fields {
                    let f = &field.node;
                    out.insert(format!("{name}.{}", f.name.node), f.ty.node.to_string());
                    for arg in &f.arguments {
                        let default = arg.node.default_value.as_ref().map(|d| d.node.to_string());
                        out.insert(
                            format!("{name}.{}({})", f.name.node, arg.node.name.node),
                            format!("{} = {default:?}", arg.node.ty.node),
                        );
                    }
                }
                for interface in &o.implements {
                    out.insert(
                        format!("{name} implements {}", interface.node),
                        String::new(),
                    );
                }
                "type"
            }
            TypeKind::Interface(i) => {
                for field in &i.fields {
                    out.insert(
                        format!("{name}.{}", field.node.name.node),
                        field.node.ty.node.to_string(),
                    );
                }
                "interface"
            }
            TypeKind::Union(_) => "union",
            TypeKind::Enum(e) => {
                for value in &e.values {
                    out.insert(format!("{name}.{}", value.node.value.node), "value".into());
                }
                "enum"
            }
            TypeKind::InputObject(i) => {
                for field in &i.fields {
                    let default = field
                        .node
                        .default_value
                        .as_ref()
                        .map(|d| d.node.to_string());
                    out.insert(
                        format!("{name}.{}", field.node.name.node),
                        format!("{} = {default:?}", field.node.ty.node),
                    );
                }
                "input"
            }
        };
        out.insert(name, kind.into());
    }
    out
}

/// Sections of the contract the server does not serve yet, by their heading comment.
/// Everything before the first of them must be covered; remove a heading here when its
/// section lands.
const PENDING_SECTIONS: &[&str] = &[];

/// The contract without its pending sections.
fn served_contract() -> &'static str {
    let contract = include_str!("../../docs/contract/schema.graphql");
    PENDING_SECTIONS
        .iter()
        .filter_map(|heading| contract.find(heading))
        .min()
        .map_or(contract, |start| &contract[..start])
}

#[test]
fn pending_sections_are_still_in_the_contract() {
    let contract = include_str!("../../docs/contract/schema.graphql");
    for heading in PENDING_SECTIONS {
        assert!(
            contract.contains(heading),
            "{heading} is no longer in the contract"
        );
    }
}

#[test]
fn the_server_covers_the_contract() {
    let contract = surface(served_contract());
    let server = surface(&api::graphql::sdl());
    let mut problems = Vec::new();
    for (entry, expected) in &contract {
        match server.get(entry) {
            None => problems.push(format!("missing: {entry}")),
            Some(actual) if actual != expected => problems.push(format!(
                "differs: {entry}: contract {expected}, server {actual}"
            )),
            Some(_) => {}
        }
    }
    problems.sort();
    assert!(
        problems.is_empty(),
        "the server does not cover the contract:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_contract_copy_matches_the_shared_contract_when_present() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/contract/schema.graphql");
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(
            include_str!("../../docs/contract/schema.graphql"),
            shared,
            "docs/contract is out of date"
        );
    }
}

#[test]
fn the_sdl_matches_its_snapshot() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.graphql");
    let sdl = api::graphql::sdl();
    if std::env::var_os("RELM_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, &sdl).unwrap();
    }
    let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        snapshot == sdl,
        "the schema changed; review it and run the tests with RELM_UPDATE_SNAPSHOT=1 to accept"
    );
}
