//! The sync server's own command line, built inside this crate so that the
//! scenarios can start it as a separate process (`CARGO_BIN_EXE_ketepai-server`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sync_server::cli::main().await
}
