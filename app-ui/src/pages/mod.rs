//! Full-screen pages, one module each. [`crate::app`] picks one from
//! [`crate::state::AppState::screen`]. Pages that fetch are split into the
//! page (hooks, IPC) and a view of plain props, which tests render.

pub mod admin;
pub mod consultation_detail;
pub mod consultation_form;
pub mod consultations;
pub mod enrol;
pub mod home;
pub mod lead;
pub mod log_detail;
pub mod log_form;
pub mod records;
pub mod settings;
pub mod sign_in;
pub mod stats;
pub mod unlock;
