//! The sync engine running in the background: started once the device is
//! enrolled, woken after every save and on "sync now", stopped when the app
//! exits. All sync logic is app-core's [`SyncEngine`]; this only owns the
//! task and its wake-up signal.

use std::sync::{Arc, Mutex};

use app_core::sync::SyncEngine;
use tokio::sync::{Notify, oneshot};

/// The engine of a running app, if started.
#[derive(Debug, Default)]
pub struct BackgroundSync {
    running: Mutex<Option<Running>>,
}

#[derive(Debug)]
struct Running {
    wake: Arc<Notify>,
    _stop: oneshot::Sender<()>,
}

impl BackgroundSync {
    /// Starts running `engine` unless it runs already (the engine's status
    /// is shared with every clone of it). It first fetches the county
    /// register if the device lacks it (an enrolment whose register
    /// download was cut), then syncs in rounds.
    pub fn start(&self, engine: &SyncEngine) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return;
        }
        let wake = Arc::new(Notify::new());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task_engine = engine.clone();
        let task_wake = Arc::clone(&wake);
        tauri::async_runtime::spawn(async move {
            // Ok(false) means "current"; an error is retried on the next start.
            let _ = task_engine.refresh_register().await;
            task_engine
                .run(task_wake, async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        *running = Some(Running {
            wake,
            _stop: stop_tx,
        });
    }

    /// Asks for a round now (after a save, or "sync now").
    pub fn wake(&self) {
        if let Some(r) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            r.wake.notify_one();
        }
    }

    /// Stops the engine (dropping the stop signal ends its run); a later
    /// [`BackgroundSync::start`] starts it again.
    pub fn stop(&self) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// Whether the engine runs.
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}
