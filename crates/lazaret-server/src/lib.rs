//! lazaret-server
