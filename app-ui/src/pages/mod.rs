//! Full-screen pages, one module each. [`crate::app`] picks one by
//! [`crate::state::Page`].

pub mod home;
