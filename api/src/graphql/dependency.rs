//! Release dependencies (communication.md): `ReleaseDependency`, and the mutations that add
//! and remove them. The fields on `Release` are in `release`.

use async_graphql::{Context, ID, InputObject, Object};
use entity::{release, release_dependency};

use crate::commands;
use crate::commands::dependency::{NewDependency, Removal};
use crate::domain::validate::Text;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::command;
use crate::graphql::release::Release;
use crate::graphql::scalars::Timestamp;
use crate::ids::{self, NodeType};

/// That one release may only reach production after another.
pub struct ReleaseDependency {
    /// The release that waits.
    pub release: release::Model,
    /// The release it waits on.
    pub depends_on: release::Model,
    pub row: release_dependency::Model,
}

#[Object]
impl ReleaseDependency {
    async fn release(&self) -> Release {
        Release(self.release.clone())
    }

    async fn depends_on(&self) -> Release {
        Release(self.depends_on.clone())
    }

    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }

    async fn created_at(&self) -> Timestamp {
        Timestamp(self.row.created_at)
    }
}

#[derive(InputObject)]
pub struct AddReleaseDependencyInput {
    pub release_id: ID,
    pub depends_on_id: ID,
    pub note: Option<String>,
    pub expected_revision: Option<i32>,
}

#[derive(InputObject)]
pub struct RemoveReleaseDependencyInput {
    pub release_id: ID,
    pub depends_on_id: ID,
    pub expected_revision: Option<i32>,
}

impl TryFrom<AddReleaseDependencyInput> for NewDependency {
    type Error = ApiError;

    fn try_from(input: AddReleaseDependencyInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            depends_on_id: ids::decode(&input.depends_on_id, NodeType::Release, "dependsOnId")?,
            note: Text::optional("note", input.note.as_deref())?,
            expected_revision: input.expected_revision,
        })
    }
}

impl TryFrom<RemoveReleaseDependencyInput> for Removal {
    type Error = ApiError;

    fn try_from(input: RemoveReleaseDependencyInput) -> ApiResult<Self> {
        Ok(Self {
            release_id: ids::decode(&input.release_id, NodeType::Release, "releaseId")?,
            depends_on_id: ids::decode(&input.depends_on_id, NodeType::Release, "dependsOnId")?,
            expected_revision: input.expected_revision,
        })
    }
}

#[derive(Default)]
pub struct DependencyMutation;

#[Object]
impl DependencyMutation {
    /// RELEASE_MANAGER of the dependent release's program, or ADMIN, who must see the other
    /// release; refuses itself, repeats, cycles and CANCELLED releases (BAD_USER_INPUT).
    async fn add_release_dependency(
        &self,
        ctx: &Context<'_>,
        input: AddReleaseDependencyInput,
    ) -> ApiResult<Release> {
        let input = NewDependency::try_from(input)?;
        command!(ctx, commands::dependency::add, input).map(Release)
    }

    /// Removes a dependency (NOT_FOUND if there is none).
    async fn remove_release_dependency(
        &self,
        ctx: &Context<'_>,
        input: RemoveReleaseDependencyInput,
    ) -> ApiResult<Release> {
        let input = Removal::try_from(input)?;
        command!(ctx, commands::dependency::remove, input).map(Release)
    }
}
