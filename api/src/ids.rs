//! Opaque global ids: base64url of `Type:number`, so clients never build ids themselves and
//! `node(id:)` knows which table to read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use strum::IntoEnumIterator;

use crate::error::{ApiError, ApiResult};

/// Every type that implements `Node`, named as in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
pub enum NodeType {
    Program,
    Environment,
    Release,
    ReleaseItem,
    QualityGate,
    Approval,
    Deployment,
    Incident,
    ImprovementAction,
    FreezeWindow,
    ReleaseEvent,
    IngestSource,
    Delivery,
    CalendarFeed,
    NotificationChannel,
    NotificationDelivery,
}

impl NodeType {
    fn name(self) -> &'static str {
        self.into()
    }
}

/// The global id of row `id` of type `ty`.
pub fn encode(ty: NodeType, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", ty.name()))
}

/// Splits a global id into its type and row id; anything this server did not issue is
/// `BAD_USER_INPUT`.
pub fn decode_any(id: &str) -> ApiResult<(NodeType, i64)> {
    let invalid = || ApiError::BadUserInput(format!("id: '{id}' is not a valid id"));
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (name, number) = text.split_once(':').ok_or_else(invalid)?;
    let ty = NodeType::iter()
        .find(|t| t.name() == name)
        .ok_or_else(invalid)?;
    let row = number.parse::<i64>().map_err(|_| invalid())?;
    Ok((ty, row))
}

/// Decodes an id that must be of type `expected`; `field` names the input in the error.
pub fn decode(id: &str, expected: NodeType, field: &str) -> ApiResult<i64> {
    match decode_any(id) {
        Ok((ty, row)) if ty == expected => Ok(row),
        Ok(_) => Err(ApiError::bad_input(
            field,
            format!("expected the id of {}", with_article(expected.name())),
        )),
        Err(_) => Err(ApiError::bad_input(field, "not a valid id")),
    }
}

/// "a Release", "an Incident".
fn with_article(name: &str) -> String {
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_types() {
        let id = encode(NodeType::Release, 42);
        assert_eq!(decode_any(&id).ok(), Some((NodeType::Release, 42)));
        assert_eq!(decode(&id, NodeType::Release, "releaseId").ok(), Some(42));
        assert!(decode(&id, NodeType::Program, "programId").is_err());
    }

    #[test]
    fn rejects_forged_ids() {
        for forged in ["", "!!!", "UmVsZWFzZQ", "TmFkYTox", "UmVsZWFzZTp4"] {
            assert!(decode_any(forged).is_err(), "{forged}");
        }
    }
}
