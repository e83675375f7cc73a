//! Users, groups and tenants: map every source principal ID to a target ID.
//!
//! Users, groups and tenants are created separately in each environment, so the same person,
//! group or tenant has different numeric IDs in the source and the target. [`resolve`] gives
//! every principal of the source [`Principals`] an entry in [`PrincipalMaps`], trying in order:
//!
//! 1. the [`MappingFile`] (CSV `kind,source,target`), when the pipeline names one;
//! 2. automatic matching: tenants by name; users by username and groups by name, each inside
//!    the *mapped* tenant of the source row's tenant (a NULL tenant matches a NULL tenant);
//! 3. the policy for what is still unmapped ([`UnmappedPrincipal`](bptmig_model::pipeline::UnmappedPrincipal)): fail, NULL, or one named
//!    target user or group. Tenants have no policy: an unmapped tenant is always an error,
//!    because tenant isolation must not be guessed.
//!
//! Every problem of a kind is collected and reported at once: all problems of the mapping file
//! (parse and resolution alike, each with its line), all unmapped tenants, all unmapped users.
//!
//! Names are compared exactly (case and spaces included); only the mapping file's fields are
//! trimmed. A user or group name may be written `name@tenant` to pick one of several
//! principals with the same name; a name that itself contains `@` (an e-mail username) still
//! matches as a whole.
//!
//! Here: the inputs ([`Principals`] of each environment) and [`Kind`]. In `mapping_file.rs`,
//! the CSV file and its problems ([`MappingFile`], [`MappingProblem`]); in `resolve.rs` (with
//! the lookups in `index.rs`), [`resolve()`], which yields a [`Resolution`]; in `error.rs`,
//! [`MappingError`].
//!
//! ```
//! use std::path::Path;
//! use bptmig_model::pipeline::UnmappedPrincipal;
//! use bptmig_transform::principals::{resolve, MappingFile, Principals, TenantRow, UserRow};
//!
//! let tenant = |id, name: &str| TenantRow { id, name: name.to_owned() };
//! let user = |id, username: &str, tenant_id| UserRow { id, username: username.to_owned(), tenant_id };
//! let source = Principals {
//!     tenants: vec![tenant(1, "Users")],
//!     users: vec![user(10, "ann", Some(1)), user(11, "bob", Some(1))],
//!     groups: vec![],
//! };
//! let target = Principals {
//!     tenants: vec![tenant(5, "Users")],
//!     users: vec![user(50, "ann", Some(5)), user(51, "robert", Some(5))],
//!     groups: vec![],
//! };
//! let file = MappingFile::parse("kind,source,target\nuser,bob,robert\n", Path::new("m.csv"))?;
//! let fail = UnmappedPrincipal::Fail;
//! let resolution = resolve(&source, &target, Some(&file), &fail, &fail)?;
//! assert_eq!(resolution.maps.tenants.get(1), Some(Some(5)));
//! assert_eq!(resolution.maps.users.get(10), Some(Some(50))); // automatic
//! assert_eq!(resolution.maps.users.get(11), Some(Some(51))); // mapping file
//! assert_eq!(resolution.maps.users.get(99), None); // not a source user
//! # Ok::<(), bptmig_transform::principals::MappingError>(())
//! ```

use std::fmt;

pub use error::MappingError;
pub use mapping_file::{MappingEntry, MappingFile, MappingProblem, Ref, MAPPING_HEADER};
pub use resolution::{
    How, HowCounts, Mapped, PrincipalMap, PrincipalMaps, Resolution, ResolutionStats, Unmapped,
};
pub use resolve::resolve;
pub(crate) use resolve::resolve_lenient;

mod error;
mod index;
mod mapping_file;
mod resolution;
mod resolve;

/// One `OSSYS_TENANT` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    /// `ID`.
    pub id: i64,
    /// `NAME`.
    pub name: String,
}

/// One `OSSYS_USER` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// `ID`.
    pub id: i64,
    /// `USERNAME`.
    pub username: String,
    /// `TENANT_ID`.
    pub tenant_id: Option<i64>,
}

/// One `OSSYS_GROUP` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// `ID`.
    pub id: i64,
    /// `NAME`.
    pub name: String,
    /// `TENANT_ID`.
    pub tenant_id: Option<i64>,
}

/// The principals of one environment. A row whose ID repeats an earlier row's is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// `OSSYS_TENANT`.
    pub tenants: Vec<TenantRow>,
    /// `OSSYS_USER`.
    pub users: Vec<UserRow>,
    /// `OSSYS_GROUP`.
    pub groups: Vec<GroupRow>,
}

/// What a principal is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `OSSYS_USER`, named by `USERNAME`.
    User,
    /// `OSSYS_GROUP`, named by `NAME`.
    Group,
    /// `OSSYS_TENANT`, named by `NAME`.
    Tenant,
}

impl Kind {
    /// The spelling used in the mapping file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Tenant => "tenant",
        }
    }

    /// Parses a mapping-file `kind` (ASCII case ignored).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::User, Self::Group, Self::Tenant]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
    }

    fn plural(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Group => "groups",
            Self::Tenant => "tenants",
        }
    }

    /// What a name of this kind is called in messages.
    fn name_word(self) -> &'static str {
        match self {
            Self::User => "username",
            Self::Group | Self::Tenant => "name",
        }
    }

    /// Whether `name@tenant` qualifies a name of this kind (tenants are not in a tenant).
    fn has_tenant(self) -> bool {
        self != Self::Tenant
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
