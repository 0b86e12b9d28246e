//! Reusable pieces of the interface. Each reads what it needs from
//! [`crate::state::AppContext`] and changes state only through actions.

pub mod about;
pub mod big_button;
pub mod coming_soon;
pub mod icon;
pub mod lang_switch;
pub mod sync_status;
