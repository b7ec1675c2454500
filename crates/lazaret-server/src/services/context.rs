//! What the services need from the state, with the refusals they give when
//! it is missing. Kept here rather than in `state.rs`, so the state knows
//! nothing of the services and the dependency runs one way.

use std::sync::Arc;

use lazaret_core::ids::OrderId;
use lazaret_core::order::QuarantineOrder;
use lazaret_face::FaceEngine;

use crate::services::{Actor, ServiceError};
use crate::state::AppState;
use crate::template_crypto::{TemplateKeyError, TemplateKeys};

impl AppState {
    /// The face engine, or why face work cannot be done here.
    pub fn face_engine(&self) -> Result<Arc<FaceEngine>, ServiceError> {
        self.face.clone().ok_or(ServiceError::FaceUnavailable)
    }

    /// The keys that seal and open templates, read from the configuration.
    pub fn template_key(&self) -> Result<TemplateKeys, ServiceError> {
        TemplateKeys::from_config(&self.config).map_err(|e| {
            tracing::error!(error = %e, "template key");
            ServiceError::TemplateKey(e.to_string())
        })
    }

    /// Opens a value the store holds sealed under `key_id`; a failure is
    /// the configuration's (wrong or missing key), logged with what failed.
    pub fn open_sealed(
        &self,
        keys: &TemplateKeys,
        key_id: &str,
        aad: &str,
        ciphertext: &[u8],
        nonce: &[u8],
    ) -> Result<Vec<u8>, ServiceError> {
        keys.open(key_id, aad, ciphertext, nonce).map_err(|e| {
            match &e {
                TemplateKeyError::UnknownKeyId(_) => tracing::error!(
                    error = %e, key_id, "sealed value under a key that is not configured"
                ),
                _ => tracing::error!(
                    error = %e, key_id,
                    "sealed value cannot be opened: wrong template key for this id (or a tampered row)"
                ),
            }
            ServiceError::TemplateUnreadable {
                key_id: key_id.to_owned(),
            }
        })
    }

    /// The order with id `id` as given in a request (404 when unknown or
    /// not an order id).
    pub async fn load_order(&self, id: &str) -> Result<QuarantineOrder, ServiceError> {
        let not_found = || ServiceError::NotFound {
            entity: "order",
            id: id.to_owned(),
        };
        let oid = OrderId::parse(id).map_err(|_| not_found())?;
        self.store.get_order(&oid).await?.ok_or_else(not_found)
    }

    /// The order with id `id` if it is in one of `actor`'s districts: an
    /// order outside them answers the same 404 as an unknown id, so an
    /// officer learns nothing of other districts.
    pub async fn load_order_for(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<QuarantineOrder, ServiceError> {
        let not_found = || ServiceError::NotFound {
            entity: "order",
            id: id.to_owned(),
        };
        let oid = OrderId::parse(id).map_err(|_| not_found())?;
        self.store
            .get_order_in(&oid, actor.districts())
            .await?
            .ok_or_else(not_found)
    }
}
