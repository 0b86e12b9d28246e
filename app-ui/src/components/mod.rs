//! Reusable pieces of the interface. Each reads what it needs from
//! [`crate::state::AppContext`] and changes state only through actions.

pub mod about;
pub mod big_button;
pub mod charts;
pub mod field;
pub mod icon;
pub mod lang_switch;
pub mod new_password;
pub mod notice;
pub mod notices;
pub mod page_header;
pub mod photos;
pub mod record_cards;
pub mod review;
pub mod sync_status;
pub mod tab_bar;
pub mod village_picker;
