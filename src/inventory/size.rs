//! How big an inventory ConfigMap gets, checked before any write: [`Inventory::check_writable`].
//!
//! Two limits bind, and the second one first:
//! 1. **The API server** refuses a ConfigMap whose data keys and values total more than 1 MiB
//!    (1,048,576 bytes). kapply's budget is [`MAX_DATA_BYTES`] = 1,000,000.
//! 2. **etcd** refuses a write larger than its request limit, 1.5 MiB (1,572,864 bytes) by default. The
//!    stored object holds every key twice: once in `data`, once in `metadata.managedFields`, where
//!    server-side apply records that kapply's field manager owns it (`"f:<key>":{}`). And the API
//!    server does not drop managedFields to make an *apply* fit (it does for updates). kapply's budget is
//!    [`MAX_STORED_BYTES`] = 1,450,000, estimated as two copies of each key plus 14 bytes of framing per
//!    entry plus 8 KiB for metadata.
//!
//! With keys of 40–60 bytes that is about 10,000–15,000 objects per inventory. Larger sets must be split
//! into several inventories; the error says so, before anything is written.

use super::configmap::Inventory;
use super::error::{InventoryError, Result};
use super::id::configmap_key_problem;

/// The API server's limit on a ConfigMap's data (keys plus values).
pub const CONFIGMAP_DATA_LIMIT: usize = 1 << 20;
/// kapply's budget for the data: the API limit less room for a margin of error.
pub const MAX_DATA_BYTES: usize = 1_000_000;
/// etcd's default request size limit (`--max-request-bytes`).
pub const ETCD_REQUEST_LIMIT: usize = 1_572_864;
/// kapply's budget for the stored object: etcd's limit less room for metadata we do not count.
pub const MAX_STORED_BYTES: usize = 1_450_000;

// The budgets leave a margin under the real limits.
const _: () = assert!(MAX_DATA_BYTES < CONFIGMAP_DATA_LIMIT && MAX_STORED_BYTES < ETCD_REQUEST_LIMIT);

/// Bytes per data entry in storage beyond twice the key: protobuf framing of the map entry (about 6)
/// and the managedFields JSON around the key (`"f:` `":{},`, 8).
const STORED_BYTES_PER_ENTRY: usize = 14;
/// Bytes of the stored object besides its entries: metadata, labels, managedFields header.
const STORED_FIXED_BYTES: usize = 8 * 1024;

/// The estimated size of an inventory ConfigMap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeEstimate {
    /// How many objects the inventory records (one data entry each).
    pub objects: usize,
    /// Bytes of keys plus values, as the API server counts them (values are empty).
    pub data_bytes: usize,
    /// Bytes of the stored object, with the field-ownership record of server-side apply (an estimate).
    pub stored_bytes: usize,
}

impl Inventory {
    /// Estimates the size of this inventory's ConfigMap (see the module documentation).
    pub fn size_estimate(&self) -> SizeEstimate {
        let key_bytes: usize = self.objects.iter().map(|obj| obj.to_inventory_key().len()).sum();
        let objects = self.objects.len();
        SizeEstimate {
            objects,
            data_bytes: key_bytes,
            stored_bytes: 2 * key_bytes + STORED_BYTES_PER_ENTRY * objects + STORED_FIXED_BYTES,
        }
    }

    /// Checks that this inventory fits in one ConfigMap, with a margin.
    ///
    /// # Errors
    /// [`InventoryError::TooLarge`] with the object count, the estimated bytes and the budget exceeded,
    /// and the advice to split the set into several inventories.
    pub fn check_size(&self) -> Result<SizeEstimate> {
        let estimate = self.size_estimate();
        let too_large = |estimated_bytes, limit_bytes, budget| InventoryError::TooLarge {
            configmap: format!("ConfigMap/{}/{}", self.namespace, self.name),
            objects: estimate.objects,
            estimated_bytes,
            limit_bytes,
            budget,
        };
        if estimate.data_bytes > MAX_DATA_BYTES {
            return Err(too_large(estimate.data_bytes, MAX_DATA_BYTES, "ConfigMap data (API limit 1 MiB)"));
        }
        if estimate.stored_bytes > MAX_STORED_BYTES {
            return Err(too_large(
                estimate.stored_bytes,
                MAX_STORED_BYTES,
                "the stored object with its server-side apply field record (etcd limit 1.5 MiB)",
            ));
        }
        Ok(estimate)
    }

    /// Checks that every object's key is a valid ConfigMap key (a name with characters other than
    /// letters, digits, `-`, `_`, `.` and `:` cannot be recorded).
    ///
    /// # Errors
    /// [`InventoryError::UnstorableKey`] for the first object, in order, whose key is invalid.
    pub fn check_keys(&self) -> Result<()> {
        for obj in &self.objects {
            let key = obj.to_inventory_key();
            if let Some(problem) = configmap_key_problem(&key) {
                return Err(InventoryError::UnstorableKey { object: obj.to_string(), key, problem });
            }
        }
        Ok(())
    }

    /// Everything to check before writing this inventory: [`Inventory::check_keys`], then
    /// [`Inventory::check_size`]. Run it on the pre-apply union too, which is larger than either set.
    ///
    /// # Errors
    /// See the two checks.
    pub fn check_writable(&self) -> Result<SizeEstimate> {
        self.check_keys()?;
        self.check_size()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::object::ObjRef;

    /// `n` Deployments with realistic, fixed-width names (about 55-byte keys).
    fn deployments(n: usize) -> Inventory {
        let objects: BTreeSet<ObjRef> = (0..n)
            .map(|i| {
                ObjRef::new("apps", "Deployment", Some("team-payments"), format!("checkout-service-{i:06}"))
            })
            .collect();
        Inventory {
            id: "abc".into(),
            name: "inventory-1".into(),
            namespace: "ns".into(),
            objects,
            format: crate::inventory::InventoryFormat::ConfigMap,
        }
    }

    fn key_len() -> usize {
        ObjRef::new("apps", "Deployment", Some("team-payments"), "checkout-service-000000")
            .to_inventory_key()
            .len()
    }

    #[test]
    fn ten_thousand_objects_fit() {
        let estimate = deployments(10_000).check_size().unwrap();
        assert_eq!(estimate.objects, 10_000);
        assert_eq!(estimate.data_bytes, 10_000 * key_len());
    }

    #[test]
    fn twenty_thousand_objects_do_not_fit_and_the_error_says_how_many_and_what_to_do() {
        let err = deployments(20_000).check_size().unwrap_err();
        let InventoryError::TooLarge { objects, estimated_bytes, limit_bytes, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*objects, 20_000);
        assert!(estimated_bytes > limit_bytes);
        let message = err.to_string();
        assert!(message.contains("20000 objects"), "{message}");
        assert!(message.contains(&estimated_bytes.to_string()), "{message}");
        assert!(message.contains("split"), "{message}");
    }

    #[test]
    fn the_limit_falls_exactly_where_the_estimate_crosses_the_budget() {
        let per_entry = 2 * key_len() + STORED_BYTES_PER_ENTRY;
        let most = (MAX_STORED_BYTES - STORED_FIXED_BYTES) / per_entry;
        assert!(deployments(most).check_size().is_ok());
        assert!(deployments(most + 1).check_size().is_err());
        // The stored-object budget binds before the API's data limit for such keys.
        assert!((most + 1) * key_len() < MAX_DATA_BYTES);
    }

    #[test]
    fn the_data_budget_binds_alone_for_few_very_long_keys() {
        let long = "x".repeat(250);
        let objects: BTreeSet<ObjRef> =
            (0..4_000).map(|i| ObjRef::new("", "ConfigMap", Some("ns"), format!("{long}{i:04}"))).collect();
        let inv = Inventory {
            id: "abc".into(),
            name: "inv".into(),
            namespace: "ns".into(),
            objects,
            format: crate::inventory::InventoryFormat::ConfigMap,
        };
        let err = inv.check_size().unwrap_err();
        assert!(err.to_string().contains("ConfigMap data"), "{err}");
    }

    #[test]
    fn a_name_that_makes_an_invalid_key_is_refused_before_writing() {
        let mut inv = deployments(2);
        inv.objects.insert(ObjRef::new("rbac.authorization.k8s.io", "ClusterRole", None, "user@example.com"));
        let err = inv.check_writable().unwrap_err();
        assert!(matches!(err, InventoryError::UnstorableKey { .. }), "{err:?}");
        assert!(err.to_string().contains("ClusterRole.rbac.authorization.k8s.io/user@example.com"), "{err}");
        assert!(deployments(2).check_writable().is_ok());
    }
}
