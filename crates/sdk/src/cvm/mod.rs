//! CVM (Cloud Virtual Machine), API version 2017-03-12: typed requests, responses and methods.
//!
//! The types and methods are generated from `specs/cvm/2017-03-12.json`
//! (`cargo run -p xtask -- codegen`); this file holds only the handle they hang on.
//!
//! ```
//! use tclocal_sdk::Client;
//! use tclocal_sdk::cvm::{DescribeInstancesRequest, Filter};
//!
//! let request = DescribeInstancesRequest {
//!     filters: Some(vec![Filter {
//!         name: Some("instance-state".to_owned()),
//!         values: Some(vec!["RUNNING".to_owned()]),
//!     }]),
//!     limit: Some(20),
//!     ..Default::default()
//! };
//! assert_eq!(
//!     serde_json::to_value(&request).unwrap(),
//!     serde_json::json!({"Filters": [{"Name": "instance-state", "Values": ["RUNNING"]}], "Limit": 20})
//! );
//! # let _ = Client::builder();
//! ```

mod generated;

pub use generated::*;

use crate::Client;

/// The CVM methods of a [`Client`]: `client.cvm().describe_zones(&Default::default())`.
#[derive(Debug, Clone)]
pub struct Cvm {
    client: Client,
}

impl Client {
    /// The CVM (2017-03-12) methods of this client.
    #[must_use]
    pub fn cvm(&self) -> Cvm {
        Cvm {
            client: self.clone(),
        }
    }
}
