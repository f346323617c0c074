//! The app's window under egui_kittest, for the tests that click and type through the
//! screens: a signed-in app, waiting until a label shows, and clicking, typing and
//! choosing by label.
//!
//! After each action the window is settled in one of two ways, chosen by the test file
//! through the module it imports: [`strict`] runs frames until the window is idle and
//! fails the test if it never is (`Harness::run`); [`patient`] runs frames for as long
//! as `run` would and goes on even while a spinner still turns (a call to the server is
//! waiting).

use std::path::Path;
use std::time::{Duration, Instant};

use client_app::ui::App;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::{TestServer, sign_in};

/// The app of `login`, signed in against `server` in a window of `size`, once it shows
/// "Online".
pub fn signed_in(
    data_dir: &Path,
    server: &TestServer,
    login: &str,
    size: egui::Vec2,
) -> Harness<'static, App> {
    let workspace = sign_in(data_dir, &server.url(), login);
    let app = App::working(data_dir.to_owned(), workspace);
    let mut harness = Harness::builder()
        // The sync works in the background and asks for repaints when it changes
        // something: a frame or two more than an idle window needs to settle.
        .with_max_steps(32)
        .with_size(size)
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    until_shown(&mut harness, "Online");
    harness
}

/// Steps the harness until `label` shows (the server answers and the sync works in the
/// background).
pub fn until_shown(harness: &mut Harness<'_, App>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        harness.step();
        if harness.query_all_by_label_contains(label).next().is_some() {
            return;
        }
        assert!(Instant::now() < deadline, "never shown: {label}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The document id of the client whose window is open.
pub fn open_client(harness: &mut Harness<'_, App>) -> String {
    harness
        .state_mut()
        .work()
        .unwrap()
        .client
        .as_ref()
        .unwrap()
        .doc
        .clone()
}

/// The clicking and typing helpers, each settling the window with `$settle`.
macro_rules! actions {
    ($settle:path) => {
        use client_app::ui::App;
        use egui::accesskit::Role;
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable as _;

        /// Types `text` into the field `label`, scrolled into view first (typing appends).
        pub fn type_into(harness: &mut Harness<'_, App>, label: &str, text: &str) {
            harness.get_by_label(label).scroll_to_me();
            $settle(harness);
            harness.get_by_label(label).focus();
            harness.get_by_label(label).type_text(text);
            $settle(harness);
        }

        /// Replaces what a field holds (typing appends).
        pub fn replace_in(harness: &mut Harness<'_, App>, label: &str, text: &str) {
            harness.get_by_label(label).set_text_value_accesskit(text);
            $settle(harness);
        }

        /// Clicks the button `label`, or else the one thing labelled so, scrolled into
        /// view first (a click lands where the widget is drawn).
        pub fn click(harness: &mut Harness<'_, App>, label: &str) {
            if harness
                .query_by_role_and_label(Role::Button, label)
                .is_some()
            {
                harness
                    .get_by_role_and_label(Role::Button, label)
                    .scroll_to_me();
                $settle(harness);
                harness.get_by_role_and_label(Role::Button, label).click();
            } else {
                harness.get_by_label(label).scroll_to_me();
                $settle(harness);
                harness.get_by_label(label).click();
            }
            $settle(harness);
        }

        /// Opens the combo box `combo` and clicks its entry `item`.
        pub fn choose(harness: &mut Harness<'_, App>, combo: &str, item: &str) {
            harness.get_by_role_and_label(Role::ComboBox, combo).click();
            $settle(harness);
            click(harness, item);
        }

        /// "+ Klient:in anlegen" on the open "Benutzer:in" page with `pseudonym`, saved,
        /// and the new client opened.
        pub fn add_client(harness: &mut Harness<'_, App>, pseudonym: &str) {
            click(harness, "+ Klient:in anlegen");
            type_into(
                harness,
                "Accountname / Pseudonym (min. 5 Zeichen)*",
                pseudonym,
            );
            click(harness, "Speichern");
            click(harness, pseudonym);
        }
    };
}

/// Actions after which the window must become idle (`Harness::run` fails the test if it
/// does not within the harness's steps).
pub mod strict {
    fn settle(harness: &mut Harness<'_, App>) {
        harness.run();
    }

    actions!(settle);
}

/// Actions after which the window runs frames until it settles, or for as long as `run`
/// would while a spinner turns (a call to the server is waiting).
pub mod patient {
    /// Runs frames until the window settles, or for as long as `run` would while a
    /// spinner turns.
    pub fn settle(harness: &mut Harness<'_, App>) {
        let _ = harness.try_run();
    }

    actions!(settle);
}
