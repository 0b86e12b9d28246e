//! The console's settings (设置): this device's sync (the same card the
//! field app shows, with the admin's own notices and re-enrolment), the
//! language, the account, the server and signing out — the field app's
//! settings page, inside the console.

use yew::prelude::*;

use crate::components::sync_status::SyncStatusCard;
use crate::pages::settings::SettingsPage;

/// The settings section.
#[component]
pub fn SettingsSection() -> Html {
    html! {
        <div class="console-page console-settings" data-testid="console-settings">
            <SyncStatusCard />
            <SettingsPage />
        </div>
    }
}
