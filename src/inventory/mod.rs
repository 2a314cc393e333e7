//! The inventory: which objects a set of manifests owns in the cluster, kept in a ConfigMap in cli-utils'
//! format, and the ownership policy deciding what a run may apply and prune. Pure: no I/O, no client.
//!
//! # Where the inventory comes from
//! [`split_inventory`] takes the inventory template (the one object labelled
//! `cli-utils.sigs.k8s.io/inventory-id`) out of the loaded manifests and returns its [`InventoryInfo`];
//! without a template the caller falls back to [`InventoryInfo::from_flags`]. `kapply init` writes a
//! template with [`init_template`] in the namespace [`choose_init_namespace`] picks.
//!
//! # The format
//! An [`Inventory`] is a ConfigMap labelled with the inventory id, whose `data` has one key per object,
//! `<namespace>_<name>_<group>_<kind>` (see [`crate::ObjRef::to_inventory_key`]), valued `""`.
//! [`Inventory::from_configmap`] reads one as written by cli-utils or kapply, reporting undecodable keys
//! instead of failing; [`Inventory::to_configmap`] gives the body to write. A ConfigMap is limited in
//! size: [`Inventory::check_writable`] refuses, before any write, an inventory that would not fit
//! (about 10,000–15,000 objects; see `size.rs`).
//!
//! # Finding and writing the live inventory (for the cluster-facing code)
//! - Find it by label `cli-utils.sigs.k8s.io/inventory-id=<id>` in the inventory's namespace, not by
//!   name: that is how cli-utils finds it, and old cli-utils versions suffixed the name with a hash.
//!   Several matches are an error, as in cli-utils.
//! - Write the union of old and new sets before applying ([`union`]) and the [`final_set`] after.
//! - A ConfigMap last written by cli-utils has its keys owned by cli-utils' field manager: a server-side
//!   apply by kapply would not remove keys it never wrote. Replace it instead (an update carrying the
//!   live `resourceVersion`), or take over its fields first.
//!
//! # The policy
//! [`check_apply`] and [`check_prune`] compare a live object's `config.k8s.io/owning-inventory`
//! annotation with this inventory's id under an [`InventoryPolicy`] (the table is in `policy.rs`).
//! Refusals are per-object outcomes ([`PolicyError`], [`PruneSkip`]) reported as events; only
//! [`InventoryError`] aborts. [`PruneFilters`] adds the safety filters needing the whole run: an object
//! just applied under another reference, a namespace still in use.
//!
//! # Or kubectl's ApplySet
//! With [`InventoryFormat::ApplySet`] the inventory is a KEP-3659 ApplySet instead: a parent Secret or
//! ConfigMap and a label on every member (`applyset.rs`, where the format and why it is as safe are
//! described). The policy is the same: [`owner_of`] reads a member's part-of label when it has no
//! owning-inventory annotation, so a set kubectl applied is this inventory's own.
//!
//! Files: `info` (identity, flags), `applyset` (kubectl's format), `configmap` (the format), `size` (limits), `template` (template and
//! init), `id` (name rules), `policy` (ownership decisions), `outcome` (what a run did, folded from its
//! events), `prune` (set arithmetic and filters), `error`.

mod applyset;
mod configmap;
mod digest;
mod error;
mod id;
mod info;
mod outcome;
mod policy;
mod prune;
mod size;
mod template;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use applyset::{
    APPLYSET_GROUP_KINDS, APPLYSET_ID_LABEL, APPLYSET_NAMESPACES, APPLYSET_PART_OF_LABEL, APPLYSET_TOOLING,
    ApplySetParent, ApplySetRecord, KAPPLY_TOOL, KUBECTL_TOOL, ParentKind, applyset_id, kapply_tooling,
    member_label_problem, parent_body, tool_name,
};
pub use configmap::{InvalidEntry, Inventory};
pub use digest::{AppliedDigest, Digest, config_digest, state_digest};
pub use error::{InventoryError, Result};
pub(crate) use id::configmap_key_problem;
pub use id::{MAX_ID_LEN, MIN_ID_LEN, validate_id};
pub use info::{InventoryFormat, InventoryInfo, NAME_PREFIX};
pub use outcome::Outcome;
pub use policy::{InventoryPolicy, Ownership, PolicyError, PruneSkip, check_apply, check_prune, owner_of};
pub use prune::{PruneFilters, final_set, local_namespaces, prune_candidates, union};
pub use size::{CONFIGMAP_DATA_LIMIT, ETCD_REQUEST_LIMIT, MAX_DATA_BYTES, MAX_STORED_BYTES, SizeEstimate};
pub use template::{
    TEMPLATE_FILE, choose_init_namespace, init_template, is_inventory_template, split_inventory,
};
