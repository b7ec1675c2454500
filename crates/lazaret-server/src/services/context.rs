//! What the services need from the state, with the refusals they give when
//! it is missing. Kept here rather than in `state.rs`, so the state knows
//! nothing of the services and the dependency runs one way.

use std::sync::Arc;

use lazaret_core::ids::OrderId;
use lazaret_core::order::QuarantineOrder;
use lazaret_face::FaceEngine;

use crate::services::{Actor, ServiceError};
use crate::state::AppState;
use crate::template_crypto::TemplateKey;

impl AppState {
    /// The face engine, or why face work cannot be done here.
    pub fn face_engine(&self) -> Result<Arc<FaceEngine>, ServiceError> {
        self.face.clone().ok_or(ServiceError::FaceUnavailable)
    }

    /// The key that seals templates, read from the configuration.
    pub fn template_key(&self) -> Result<TemplateKey, ServiceError> {
        TemplateKey::from_hex(self.config.template_key.expose()).map_err(|e| {
            tracing::error!(error = %e, "template key");
            ServiceError::TemplateKey(e.to_string())
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
