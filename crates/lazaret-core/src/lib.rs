//! lazaret-core
