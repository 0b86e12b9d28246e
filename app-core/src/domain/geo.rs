//! GPS positions as a phone reports them.

use serde::{Deserialize, Serialize};

/// A position (定位): WGS-84 latitude and longitude in degrees, with the
/// device's accuracy estimate in metres when it gives one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct GeoPoint {
    /// Degrees north, −90 to 90.
    pub lat: f64,
    /// Degrees east, −180 to 180.
    pub lon: f64,
    /// Radius of 68% confidence in metres, when known.
    pub accuracy_m: Option<f64>,
}

impl GeoPoint {
    /// Whether the coordinates are on Earth at all.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && self.accuracy_m.is_none_or(|a| a.is_finite() && a >= 0.0)
    }

    /// Whether the point lies in a rough box around China's territory; a
    /// point outside it is most likely a bad fix.
    pub fn is_in_china_box(&self) -> bool {
        (3.0..=54.0).contains(&self.lat) && (73.0..=136.0).contains(&self.lon)
    }
}
