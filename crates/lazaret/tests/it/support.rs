//! What the binary's test modules share.

/// A port that was free a moment ago, for a `serve` process to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A template-encryption key for the `serve` processes (32 bytes in hex).
pub const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
