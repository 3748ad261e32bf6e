//! Read models: what the front ends show, assembled from the entity modules
//! and `snapshot`. Views only read, and sit above every entity module, so
//! that no entity module needs to know how it is shown.

pub(crate) mod claim;

pub(crate) use claim::ClaimView;
