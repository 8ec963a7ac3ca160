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

/// Sections of the contract the server does not serve yet, by their heading comment. Each
/// is left out of the coverage check from its heading to the next one; remove a heading
/// here when its section lands.
const PENDING_SECTIONS: &[&str] = &[];

/// The start of every section heading of the contract.
const HEADING: &str = "\n# ----------------";

/// The contract without its pending sections.
fn served_contract(contract: &str) -> String {
    let mut served = String::with_capacity(contract.len());
    let mut rest = contract;
    while let Some(start) = PENDING_SECTIONS
        .iter()
        .filter_map(|heading| rest.find(heading))
        .min()
    {
        served.push_str(&rest[..start]);
        let after = start + 1;
        rest = rest[after..]
            .find(HEADING)
            .map_or("", |next| &rest[after + next + 1..]);
    }
    served.push_str(rest);
    served
}

fn contract() -> &'static str {
    include_str!("../../docs/contract/schema.graphql")
}

#[test]
fn every_pending_section_is_a_heading_of_the_contract() {
    let headings: Vec<&str> = contract()
        .lines()
        .filter(|line| line.starts_with(HEADING.trim_start()))
        .collect();
    assert!(
        headings.len() > 10,
        "the contract's headings were not found"
    );
    for heading in PENDING_SECTIONS {
        assert!(
            headings.contains(heading),
            "{heading} is no longer a heading of the contract"
        );
    }
}

#[test]
fn leaving_out_a_section_keeps_the_sections_around_it() {
    let contract = contract();
    let served = served_contract(contract);
    for heading in PENDING_SECTIONS {
        assert!(!served.contains(heading), "{heading} was not left out");
    }
    // Every other section is still there, in full.
    for section in contract.split(HEADING).skip(1) {
        let heading = format!(
            "{}{}",
            HEADING.trim_start(),
            section.lines().next().unwrap_or_default()
        );
        if !PENDING_SECTIONS.contains(&heading.as_str()) {
            assert!(served.contains(section), "{heading} was cut");
        }
    }
}

#[test]
fn the_server_covers_the_contract() {
    let contract = surface(&served_contract(contract()));
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

/// Each file of the shared contract, when it is beside the checkout, has its copy here.
#[test]
fn the_contract_copy_matches_the_shared_contract_when_present() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Ok(shared) = std::fs::read_dir(root.join("../shared/contract")) else {
        return;
    };
    for file in shared.flatten() {
        let name = file.file_name();
        let copy = std::fs::read_to_string(root.join("docs/contract").join(&name));
        assert_eq!(
            copy.ok(),
            std::fs::read_to_string(file.path()).ok(),
            "docs/contract/{} is out of date",
            name.to_string_lossy()
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
