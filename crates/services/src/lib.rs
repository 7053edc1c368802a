//! The emulated products: their state and business rules.
//!
//! A product implements [`Product`]: it receives a validated request (JSON typed against the
//! spec) and a [`RequestContext`], and answers the action's fields or an [`ApiError`]. It
//! never sees HTTP, signatures or routing; the gateway in `tclocal-server` does those.
//! Products keep hot indexes in memory and write through to the [`tclocal_store::Store`].
//!
//! - [`identity`]: accounts and API keys (the gateway's credential look-up).
//! - [`regions`]: the regions tclocal knows, with localised names.
//! - [`cvm`]: Cloud Virtual Machine, 2017-03-12.
//! - [`cam`]: Cloud Access Management, 2019-01-16 (and its policy engine).
//! - [`sts`]: Security Token Service, 2018-08-13.
//! - [`tag`]: Tag, 2018-08-13 (the tags of other products' resources).

// The full CVM `Instance` shape is one `json!` literal, deeper than the default limit.
#![recursion_limit = "256"]

pub mod cam;
pub mod cvm;
pub mod identity;
pub mod regions;
pub mod sts;
pub mod tag;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tclocal_store::StoreError;
use tclocal_wire::context::RequestContext;
pub use tclocal_wire::envelope::Reply;
use tclocal_wire::{ApiError, ApiResult, CommonCode};

/// Which regions a product serves.
#[derive(Debug, Clone, Copy)]
pub enum RegionScope {
    /// Region-less (CAM, STS): `Region` is ignored.
    Global,
    /// Every request names a region, and it must be one of these.
    Regional(&'static [&'static str]),
}

/// An emulated product (one short name, e.g. `cvm`).
#[async_trait::async_trait]
pub trait Product: Send + Sync + 'static {
    /// The product's short name.
    fn name(&self) -> &'static str;

    /// The regions the product serves.
    fn regions(&self) -> RegionScope;

    /// The store tables that hold the product's state: what a reset of the product clears
    /// and a snapshot of it holds.
    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    /// The subset of [`Product::tables`] whose rows hold secrets (keys, tokens, seeds): a
    /// snapshot leaves them out unless asked to include secrets.
    fn secret_tables(&self) -> &'static [&'static str] {
        &[]
    }

    /// True when every row of `table` is keyed `AppId/…`, so one account's rows are one prefix
    /// scan (account-scoped snapshots and resets); the regional products' tables are. Tables
    /// that answer false are walked whole and asked [`Product::row_owner`] row by row.
    fn keyed_by_app_id(&self, table: &str) -> bool {
        let _ = table;
        true
    }

    /// The account a row of one of the product's tables belongs to, `record` being the stored
    /// envelope (`{"v":N,"d":…}`); `None` for a row of no account. By default the AppId that
    /// starts the key (`AppId/…`).
    fn row_owner(&self, table: &str, key: &str, record: &Value) -> Option<RowOwner> {
        let _ = (table, record);
        let app_id = key.split('/').next()?.parse().ok()?;
        Some(RowOwner {
            app_id: Some(app_id),
            uin: None,
            anchor: false,
        })
    }

    /// Reloads the product's in-memory indexes from the store, after its tables were cleared
    /// or replaced, at emulated time `now_ms`.
    async fn reload(&self, now_ms: i64) -> Result<(), StoreError> {
        let _ = now_ms;
        Ok(())
    }

    /// Drops one account's resources from the in-memory indexes after its rows were deleted
    /// from the store (an account reset), at emulated time `now_ms`. By default a full
    /// [`Product::reload`]; a product with many rows overrides it so that resetting one account
    /// does not cost a read of every account's.
    async fn forget_account(&self, app_id: u64, now_ms: i64) -> Result<(), StoreError> {
        let _ = app_id;
        self.reload(now_ms).await
    }

    /// True when tclocal emulates `action` of `version`; other actions of the model are
    /// validated and then answered as not emulated.
    fn emulates(&self, version: &str, action: &str) -> bool;

    /// True when `action` may change state. On a store several processes share, such a call
    /// holds the processes' write lock from its first read to its durable answer. By default
    /// every action but those named for reading (Describe…, Get…, List…, Inquiry…, Query…,
    /// Check…).
    fn writes(&self, action: &str) -> bool {
        const READS: [&str; 6] = ["Describe", "Get", "List", "Inquiry", "Query", "Check"];
        !READS.iter().any(|verb| action.starts_with(verb))
    }

    /// Serves one validated request.
    async fn call(&self, cx: &RequestContext, params: Map<String, Value>) -> ApiResult<Reply>;

    /// The CAM resources a request touches, for policy evaluation: by default the whole
    /// product in the region (`qcs::cvm:ap-guangzhou:uin/100000000001:*`).
    fn resources(&self, cx: &RequestContext, params: &Map<String, Value>) -> Vec<String> {
        let _ = params;
        vec![format!(
            "qcs::{}:{}:uin/{}:*",
            cx.service,
            cx.region.as_deref().unwrap_or_default(),
            cx.principal.owner_uin
        )]
    }

    /// A summary of the product's resources for the control plane and dashboard, at
    /// emulated time `now_ms` (no secrets). Products without state answer `null`.
    fn inventory(&self, now_ms: i64) -> Value {
        let _ = now_ms;
        Value::Null
    }
}

/// Which account a stored row belongs to (see [`Product::row_owner`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOwner {
    /// The account's AppId, when the row names it.
    pub app_id: Option<u64>,
    /// A UIN of the account (its OwnerUin or one of its sub-users'), for rows that name no
    /// AppId.
    pub uin: Option<String>,
    /// The row makes the account exist (the account itself, its permanent root keys): a reset
    /// of the account keeps it.
    pub anchor: bool,
}

/// The emulated products by short name.
#[derive(Clone, Default)]
pub struct Products {
    by_name: HashMap<&'static str, Arc<dyn Product>>,
}

impl Products {
    /// Adds a product.
    pub fn register(&mut self, product: Arc<dyn Product>) {
        self.by_name.insert(product.name(), product);
    }

    /// Every product.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Product>> {
        self.by_name.values()
    }

    /// The product of that name, if emulated.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Product>> {
        self.by_name.get(name)
    }
}

impl std::fmt::Debug for Products {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

/// `UnsupportedOperation` for an action that is in the model but not emulated.
#[must_use]
pub fn not_emulated(cx: &RequestContext) -> ApiError {
    ApiError::with_template(
        CommonCode::UnsupportedOperation,
        "UnsupportedOperation.NotEmulated",
    )
    .arg(&cx.action)
    .arg(&cx.service)
    .arg(&cx.version)
}

/// Converts a `serde_json::Value` that must be an object into its map.
pub(crate) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("Value".to_owned(), other);
            m
        }
    }
}
