//! Release notes in Markdown, built from a release's items grouped by kind.

use entity::enums::ItemKind;
use entity::release_item;

const SECTIONS: [(ItemKind, &str); 4] = [
    (ItemKind::Feature, "Features"),
    (ItemKind::Fix, "Fixes"),
    (ItemKind::Security, "Security"),
    (ItemKind::Chore, "Chores"),
];

/// A heading with the program, version and name, then one section per kind that has items,
/// items in the order they were added, each with its reference when it has one.
pub fn release_notes(
    program: &str,
    version: &str,
    name: &str,
    items: &[release_item::Model],
) -> String {
    let mut notes = format!("# {program} {version}: {name}\n");
    if items.is_empty() {
        notes.push_str("\nNo items.\n");
        return notes;
    }
    for (kind, heading) in SECTIONS {
        let mut section = items.iter().filter(|i| i.kind == kind).peekable();
        if section.peek().is_none() {
            continue;
        }
        notes.push_str(&format!("\n## {heading}\n\n"));
        for item in section {
            match &item.reference {
                Some(reference) => notes.push_str(&format!("- {} ({reference})\n", item.title)),
                None => notes.push_str(&format!("- {}\n", item.title)),
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, title: &str, kind: ItemKind, reference: Option<&str>) -> release_item::Model {
        release_item::Model {
            id,
            release_id: 1,
            title: title.into(),
            kind,
            reference: reference.map(Into::into),
            committed_at: None,
        }
    }

    #[test]
    fn groups_by_kind_in_a_fixed_order() {
        let items = [
            item(1, "Fix rounding", ItemKind::Fix, Some("PAY-2")),
            item(2, "Instant refunds", ItemKind::Feature, Some("PAY-1")),
            item(3, "Bump TLS", ItemKind::Security, None),
        ];
        assert_eq!(
            release_notes("Payments", "2026.11.0", "November", &items),
            "# Payments 2026.11.0: November\n\n## Features\n\n- Instant refunds (PAY-1)\n\n## Fixes\n\n- Fix rounding (PAY-2)\n\n## Security\n\n- Bump TLS\n"
        );
    }

    #[test]
    fn says_so_when_empty() {
        assert_eq!(
            release_notes("P", "1.0", "n", &[]),
            "# P 1.0: n\n\nNo items.\n"
        );
    }
}
