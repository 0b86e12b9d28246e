//! The `sync-server` binary; everything it does is in [`sync_server::cli`].

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sync_server::cli::main().await
}
