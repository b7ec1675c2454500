//! What every handler can reach. Holds nothing a second server instance
//! would need: all state is in the database.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lazaret_face::FaceEngine;
use lazaret_store::Store;

use crate::config::Config;
use crate::worker::Announcer;

/// Source of the current time, replaceable in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    /// The face engine, loaded once at start; `None` where the server runs
    /// without face models (face routes then answer 503).
    pub face: Option<Arc<FaceEngine>>,
    /// Hands prompts and forms an officer issues "now" to the person (the
    /// notification outbox); `None` where the server has no notifier.
    pub announcer: Option<Arc<dyn Announcer>>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        Self {
            store,
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            face: None,
            announcer: None,
        }
    }

    /// The same state with a face engine.
    pub fn with_face(mut self, engine: Arc<FaceEngine>) -> Self {
        self.face = Some(engine);
        self
    }

    /// The same state with an announcer for officer-issued prompts and forms.
    pub fn with_announcer(mut self, announcer: Arc<dyn Announcer>) -> Self {
        self.announcer = Some(announcer);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
