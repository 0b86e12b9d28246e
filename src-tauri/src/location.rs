//! The device's position through Tauri's geolocation plugin, on the
//! platforms that have it (Android, iOS). Desktop builds have no plugin and
//! answer `gps.unavailable`, which the interface shows as a warning: a log
//! without GPS still saves.

use app_core::domain::GeoPoint;

use crate::error::CommandError;

/// The current position, asking for permission the first time.
#[cfg(mobile)]
pub fn current<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Result<GeoPoint, CommandError> {
    use tauri::plugin::PermissionState;
    use tauri_plugin_geolocation::{GeolocationExt, PositionOptions};

    let geo = app.geolocation();
    let granted = |s: &tauri_plugin_geolocation::PermissionStatus| {
        matches!(s.location, PermissionState::Granted)
            || matches!(s.coarse_location, PermissionState::Granted)
    };
    let status = geo
        .check_permissions()
        .map_err(|e| CommandError::GpsFailed(e.to_string()))?;
    if !granted(&status) {
        let asked = geo
            .request_permissions(None)
            .map_err(|e| CommandError::GpsFailed(e.to_string()))?;
        if !granted(&asked) {
            return Err(CommandError::GpsDenied);
        }
    }
    let position = geo
        .get_current_position(Some(PositionOptions {
            enable_high_accuracy: true,
            timeout: 15_000,
            maximum_age: 60_000,
        }))
        .map_err(|e| CommandError::GpsFailed(e.to_string()))?;
    Ok(GeoPoint {
        lat: position.coords.latitude,
        lon: position.coords.longitude,
        accuracy_m: Some(position.coords.accuracy),
    })
}

/// Desktop: no geolocation.
#[cfg(desktop)]
pub fn current<R: tauri::Runtime>(_app: &tauri::AppHandle<R>) -> Result<GeoPoint, CommandError> {
    Err(CommandError::GpsUnavailable)
}
