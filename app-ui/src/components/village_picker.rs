//! The village picker: township → village from the county's official
//! register, or a search by name or pinyin initials (`bysq` finds
//! 北苑社区). Without the register on the device it falls back to typing
//! the 12-digit code, with a note saying why.

use std::rc::Rc;

use app_core::api::{Place, RegisterView, Township};
use yew::prelude::*;

use crate::components::field::{FieldErrorText, event_value};
use crate::i18n::labels::short_place;
use crate::i18n::{Key, Lang, t};

/// Most search results shown at once.
pub const MAX_RESULTS: usize = 8;

/// Villages matching `query` by name or pinyin initials, best first: an
/// initials or name prefix before a match inside.
pub fn search<'a>(register: &'a RegisterView, query: &str) -> Vec<(&'a Township, &'a Place)> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(u8, &Township, &Place)> = register
        .townships
        .iter()
        .flat_map(|t| t.villages.iter().map(move |v| (t, v)))
        .filter_map(|(t, v)| {
            let rank = if v.initials.starts_with(&q) || v.name.starts_with(&q) {
                0
            } else if v.name.contains(&q) || v.initials.contains(&q) {
                1
            } else if t.place.name.contains(&q) || t.place.initials.starts_with(&q) {
                2
            } else {
                return None;
            };
            Some((rank, t, v))
        })
        .collect();
    hits.sort_by_key(|(rank, _, v)| (*rank, v.code.clone()));
    hits.into_iter()
        .take(MAX_RESULTS)
        .map(|(_, t, v)| (t, v))
        .collect()
}

/// Properties of [`VillagePicker`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct VillagePickerProps {
    /// Interface language.
    pub lang: Lang,
    /// Label.
    pub label: Key,
    /// The register (`None` while loading).
    pub register: Option<Rc<RegisterView>>,
    /// Chosen township code.
    pub township: AttrValue,
    /// Chosen village code.
    pub village: AttrValue,
    /// Called with (township, village) when picked.
    pub on_pick: Callback<(String, String)>,
    /// Called with a typed code when there is no register.
    pub on_code: Callback<String>,
    /// The village's error code, if any.
    #[prop_or_default]
    pub error: Option<AttrValue>,
}

/// Township → village, or search.
#[component]
pub fn VillagePicker(props: &VillagePickerProps) -> Html {
    let lang = props.lang;
    let query = use_state(String::new);
    let Some(register) = props.register.clone() else {
        return html! { <p class="muted">{ t(lang, Key::Loading) }</p> };
    };
    let invalid = props.error.is_some();
    let error = html! {
        <FieldErrorText {lang} code={props.error.clone()} field="village" />
    };

    if register.townships.is_empty() {
        let oninput = {
            let cb = props.on_code.clone();
            Callback::from(move |e: InputEvent| cb.emit(event_value(&e)))
        };
        return html! {
            <div class={classes!("field", invalid.then_some("invalid"))}>
                <span class="field-label">{ t(lang, props.label) }</span>
                <p class="field-hint">{ t(lang, Key::RegisterMissing) }</p>
                <input type="text" inputmode="numeric" data-testid="village-code"
                    placeholder={t(lang, Key::VillageCode)} value={props.village.clone()} {oninput} />
                { error }
            </div>
        };
    }

    let on_search = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| query.set(event_value(&e)))
    };
    let on_township = {
        let cb = props.on_pick.clone();
        Callback::from(move |e: Event| cb.emit((event_value(&e), String::new())))
    };
    let on_village = {
        let cb = props.on_pick.clone();
        let township = props.township.to_string();
        Callback::from(move |e: Event| cb.emit((township.clone(), event_value(&e))))
    };
    let chosen = register
        .townships
        .iter()
        .flat_map(|t| t.villages.iter().map(move |v| (t, v)))
        .find(|(_, v)| v.code == props.village.as_str());
    let villages = register
        .townships
        .iter()
        .find(|t| t.place.code == props.township.as_str())
        .map(|t| t.villages.clone())
        .unwrap_or_default();

    let results = search(&register, &query);
    let results_html = if query.trim().is_empty() {
        html! {}
    } else if results.is_empty() {
        html! { <p class="muted" data-testid="village-none">{ t(lang, Key::NoVillageFound) }</p> }
    } else {
        html! {
            <div class="village-results">
                { for results.into_iter().map(|(town, village)| {
                    let onclick = {
                        let cb = props.on_pick.clone();
                        let query = query.clone();
                        let pick = (town.place.code.clone(), village.code.clone());
                        Callback::from(move |_| { cb.emit(pick.clone()); query.set(String::new()); })
                    };
                    html! {
                        <button type="button" class="village-option" data-testid="village-option" {onclick}>
                            <strong>{ short_place(&village.name) }</strong>
                            <span class="muted">{ format!(" · {}", town.place.name) }</span>
                        </button>
                    }
                }) }
            </div>
        }
    };

    html! {
        <div class={classes!("field", "village-picker", invalid.then_some("invalid"))}>
            <span class="field-label">{ t(lang, props.label) }</span>
            if let Some((town, village)) = chosen {
                <p class="picked" data-testid="village-picked">
                    { format!("{} · {}", short_place(&village.name), town.place.name) }
                </p>
            }
            <input type="search" class="search" data-testid="village-search"
                placeholder={t(lang, Key::SearchVillage)} value={(*query).clone()} oninput={on_search} />
            { results_html }
            <div class="two-selects">
                <select data-testid="township-select" onchange={on_township} aria-label={t(lang, Key::FieldTownship)}>
                    <option value="" selected={props.township.is_empty()}>{ t(lang, Key::PickTownship) }</option>
                    { for register.townships.iter().map(|town| html! {
                        <option value={town.place.code.clone()} selected={town.place.code == props.township.as_str()}>
                            { town.place.name.clone() }
                        </option>
                    }) }
                </select>
                <select data-testid="village-select" onchange={on_village} aria-label={t(lang, Key::FieldVillage)}
                    disabled={villages.is_empty()}>
                    <option value="" selected={props.village.is_empty()}>{ t(lang, Key::PickVillage) }</option>
                    { for villages.iter().map(|v| html! {
                        <option value={v.code.clone()} selected={v.code == props.village.as_str()}>
                            { short_place(&v.name).to_owned() }
                        </option>
                    }) }
                </select>
            </div>
            { error }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(code: &str, name: &str, initials: &str) -> Place {
        Place {
            code: code.into(),
            name: name.into(),
            initials: initials.into(),
        }
    }

    fn register() -> RegisterView {
        RegisterView {
            county: None,
            townships: vec![
                Township {
                    place: place("520324001", "凤仪街道", "fyjd"),
                    villages: vec![
                        place("520324001001", "北苑社区居民委员会", "byjmwyh"),
                        place("520324001003", "凤山社区居民委员会", "fsjmwyh"),
                    ],
                },
                Township {
                    place: place("520324101", "瑞溪镇", "rxz"),
                    villages: vec![place("520324101201", "凤凰村村民委员会", "fhccmwyh")],
                },
            ],
        }
    }

    #[test]
    fn finds_villages_by_pinyin_initials_and_by_name() {
        let r = register();
        let codes = |q: &str| -> Vec<String> {
            search(&r, q).iter().map(|(_, v)| v.code.clone()).collect()
        };
        assert_eq!(codes("by"), vec!["520324001001"]);
        assert_eq!(codes("BY"), vec!["520324001001"], "case does not matter");
        // Village names first, then villages of a township with that name.
        assert_eq!(
            codes("凤"),
            vec!["520324001003", "520324101201", "520324001001"]
        );
        assert_eq!(codes("fs"), vec!["520324001003"]);
        assert!(codes("xyz").is_empty());
        assert!(codes("  ").is_empty());
    }

    #[test]
    fn a_township_name_finds_its_villages_after_direct_hits() {
        let r = register();
        let hits = search(&r, "瑞溪");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0.place.name, "瑞溪镇");
    }
}
