//! The wasm entry point: mounts [`app_ui::app::App`]. Built by `app-ui/build.sh`.

fn main() {
    #[cfg(target_arch = "wasm32")]
    app_ui::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("app-ui is the wasm interface of Ketepai: build it with app-ui/build.sh");
}
