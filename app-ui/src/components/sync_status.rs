//! The sync state area (同步状态): online or offline, and what that means for
//! the records on this device.
//!
//! Only connectivity is real today; the last-sync time and the number of
//! records waiting to upload join here once the sync client exists.

use yew::prelude::*;

use crate::i18n::{Key, t};
use crate::state::{AppContext, Connectivity};

/// A card that says, in words and colour, whether the device is online.
#[component]
pub fn SyncStatus() -> Html {
    let state = use_context::<AppContext>().expect("SyncStatus is rendered inside App");
    let lang = state.lang;
    let (class, label, hint) = match state.connectivity {
        Connectivity::Online => ("online", Key::SyncOnline, Key::SyncNeverSynced),
        Connectivity::Offline => ("offline", Key::SyncOffline, Key::SyncOfflineHint),
    };

    html! {
        <section class={classes!("sync-status", class)} data-testid="sync-status" aria-live="polite">
            <h2 class="sync-heading">{ t(lang, Key::SyncHeading) }</h2>
            <p class="sync-state">
                <span class="sync-dot" aria-hidden="true"></span>
                <strong data-testid="sync-state">{ t(lang, label) }</strong>
            </p>
            <p class="sync-hint">{ t(lang, hint) }</p>
        </section>
    }
}
