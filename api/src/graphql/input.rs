//! Turning GraphQL input values into the plain values commands take.

use async_graphql::MaybeUndefined;

use crate::commands::Patch;
use crate::error::ApiResult;

/// Left out keeps a field, null clears it, a value sets it.
pub fn patch<T, U>(value: MaybeUndefined<T>, convert: impl FnOnce(T) -> U) -> Patch<U> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(value) => Patch::Set(convert(value)),
    }
}

/// [`patch`] for text checked by `parse` (e.g. `Text::optional`): a blank value clears
/// the field like null.
pub fn checked_patch<U>(
    field: &str,
    value: MaybeUndefined<String>,
    parse: impl FnOnce(&str, Option<&str>) -> ApiResult<Option<U>>,
) -> ApiResult<Patch<U>> {
    Ok(match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(value) => match parse(field, Some(&value))? {
            Some(checked) => Patch::Set(checked),
            None => Patch::Clear,
        },
    })
}
