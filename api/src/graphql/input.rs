//! Turning GraphQL input values into the plain values commands take.

use async_graphql::MaybeUndefined;

use crate::commands::Patch;

/// Left out keeps a field, null clears it, a value sets it.
pub fn patch<T, U>(value: MaybeUndefined<T>, convert: impl FnOnce(T) -> U) -> Patch<U> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(value) => Patch::Set(convert(value)),
    }
}
