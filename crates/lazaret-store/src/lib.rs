//! lazaret-store
