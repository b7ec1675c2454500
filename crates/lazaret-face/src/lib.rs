//! lazaret-face
