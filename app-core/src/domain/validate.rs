//! Validation: impossible data is a typed [`FieldError`]; imperfect field data
//! is a [`Warning`] and the record still saves.
//!
//! Impossible: a village code that is not 12 digits or not in the register, a
//! negative count, an end before the start, an unknown activity type.
//! Imperfect: no GPS, a date in the future (usually a wrong device clock), a
//! training without a trainee count, a register not yet downloaded.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CodeError, GeoPoint, PartyId, Timestamp, VillageCode};

/// What the register knows about a village.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VillageLookup {
    /// The village is in the register.
    Known,
    /// The register holds the village's county, and not this village.
    NotInRegister,
    /// The register on this device does not hold the village's county yet.
    CountyNotLoaded,
}

/// The division register as validation needs it.
pub trait Register {
    /// Looks a village up.
    fn lookup_village(&self, village: VillageCode) -> VillageLookup;
}

/// A register that holds nothing: every county is "not loaded".
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRegister;

impl Register for NoRegister {
    fn lookup_village(&self, _: VillageCode) -> VillageLookup {
        VillageLookup::CountyNotLoaded
    }
}

/// What validation needs from its surroundings.
pub struct Context<'a> {
    /// The current time by the injected clock.
    pub now: Timestamp,
    /// The division register.
    pub register: &'a dyn Register,
    /// Mints fresh UUIDs for new list items.
    pub mint: &'a dyn Fn() -> Uuid,
}

impl Context<'_> {
    pub(crate) fn new_party_id(&self) -> PartyId {
        PartyId::from_uuid((self.mint)())
    }
}

/// A value that passed validation, with the warnings it raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked<T> {
    /// The validated value.
    pub value: T,
    /// Imperfections that did not stop it.
    pub warnings: Vec<Warning>,
}

/// One impossible value in an input.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum FieldError {
    /// A required field is empty.
    #[error("{field} is required")]
    Required {
        /// The field.
        field: String,
    },
    /// A division code is malformed.
    #[error("{field}: {message}")]
    BadCode {
        /// The field.
        field: String,
        /// What was wrong, with the value.
        message: String,
    },
    /// A well-formed village code that the register does not hold.
    #[error("village {village} is not in the division register")]
    VillageNotInRegister {
        /// The code.
        village: VillageCode,
    },
    /// A count below zero.
    #[error("{field} cannot be negative: {value}")]
    NegativeCount {
        /// The field.
        field: String,
        /// What was given.
        value: i64,
    },
    /// A count too large to be real.
    #[error("{field} is too large: {value}")]
    CountTooLarge {
        /// The field.
        field: String,
        /// What was given.
        value: i64,
    },
    /// A date that does not parse.
    #[error("{field} {value:?} is not a date (YYYY-MM-DD)")]
    BadDate {
        /// The field.
        field: String,
        /// What was given.
        value: String,
    },
    /// A time of day that does not parse.
    #[error("{field} {value:?} is not a time (HH:MM)")]
    BadTime {
        /// The field.
        field: String,
        /// What was given.
        value: String,
    },
    /// The end of an activity before its start.
    #[error("end time {end} is before start time {start}")]
    EndBeforeStart {
        /// Start.
        start: NaiveTime,
        /// End.
        end: NaiveTime,
    },
    /// A code that names no known value.
    #[error("{field} {value:?} is not a known value")]
    UnknownCode {
        /// The field.
        field: String,
        /// What was given.
        value: String,
    },
    /// Text over the length limit.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field.
        field: String,
        /// The limit.
        max: usize,
    },
    /// Coordinates that are not on Earth.
    #[error("location ({lat}, {lon}) is not a valid position")]
    BadLocation {
        /// Latitude given.
        lat: f64,
        /// Longitude given.
        lon: f64,
    },
    /// A phone number that cannot be one.
    #[error("phone number {value:?} is not valid")]
    BadPhone {
        /// What was given.
        value: String,
    },
    /// A time that does not fit the record (an answer before the question).
    #[error("{field} is before {before}")]
    OutOfOrder {
        /// The field.
        field: String,
        /// What it may not precede.
        before: String,
    },
}

impl FieldError {
    /// A stable code for the UI to translate and for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::Required { .. } => "required",
            FieldError::BadCode { .. } => "bad_code",
            FieldError::VillageNotInRegister { .. } => "village_not_in_register",
            FieldError::NegativeCount { .. } => "negative_count",
            FieldError::CountTooLarge { .. } => "count_too_large",
            FieldError::BadDate { .. } => "bad_date",
            FieldError::BadTime { .. } => "bad_time",
            FieldError::EndBeforeStart { .. } => "end_before_start",
            FieldError::UnknownCode { .. } => "unknown_code",
            FieldError::TooLong { .. } => "too_long",
            FieldError::BadLocation { .. } => "bad_location",
            FieldError::BadPhone { .. } => "bad_phone",
            FieldError::OutOfOrder { .. } => "out_of_order",
        }
    }

    /// The input field the error is about.
    pub fn field(&self) -> &str {
        match self {
            FieldError::Required { field }
            | FieldError::BadCode { field, .. }
            | FieldError::NegativeCount { field, .. }
            | FieldError::CountTooLarge { field, .. }
            | FieldError::BadDate { field, .. }
            | FieldError::BadTime { field, .. }
            | FieldError::UnknownCode { field, .. }
            | FieldError::TooLong { field, .. }
            | FieldError::OutOfOrder { field, .. } => field,
            FieldError::VillageNotInRegister { .. } => "village",
            FieldError::EndBeforeStart { .. } => "end_time",
            FieldError::BadLocation { .. } => "location",
            FieldError::BadPhone { .. } => "farmer_phone",
        }
    }
}

/// An input that cannot be saved: every impossible value in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationError {
    /// The errors, in field order.
    pub errors: Vec<FieldError>,
}

impl ValidationError {
    pub(crate) fn new(errors: Vec<FieldError>) -> Self {
        debug_assert!(!errors.is_empty());
        ValidationError { errors }
    }

    /// Whether any error is of the given code.
    pub fn has(&self, code: &str) -> bool {
        self.errors.iter().any(|e| e.code() == code)
    }
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Imperfect field data: reported, and the record is saved anyway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// No GPS position (没有定位).
    NoLocation,
    /// A position outside China: most likely a bad fix.
    LocationOutsideChina,
    /// A position whose accuracy is worse than 500 m.
    LowAccuracy {
        /// Accuracy in metres.
        accuracy_m: f64,
    },
    /// A date after today by this device's clock (often a wrong clock).
    DateInFuture {
        /// The date given.
        date: NaiveDate,
        /// Today by the device clock.
        today: NaiveDate,
    },
    /// A date more than a year before today by this device's clock.
    DateLongAgo {
        /// The date given.
        date: NaiveDate,
        /// Today by the device clock.
        today: NaiveDate,
    },
    /// A training with no number of trainees.
    TrainingWithoutTrainees,
    /// The register for the village's county is not on this device yet, so the
    /// village could not be checked.
    RegisterNotLoaded {
        /// The village given.
        village: VillageCode,
    },
}

impl Warning {
    /// A stable code for the UI to translate.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::NoLocation => "no_location",
            Warning::LocationOutsideChina => "location_outside_china",
            Warning::LowAccuracy { .. } => "low_accuracy",
            Warning::DateInFuture { .. } => "date_in_future",
            Warning::DateLongAgo { .. } => "date_long_ago",
            Warning::TrainingWithoutTrainees => "training_without_trainees",
            Warning::RegisterNotLoaded { .. } => "register_not_loaded",
        }
    }
}

/// Largest count accepted (farmers served, trainees): beyond this it is a typo.
pub const MAX_COUNT: i64 = 100_000;

pub(crate) fn date(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        errors.push(FieldError::Required {
            field: field.into(),
        });
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::BadDate {
                field: field.into(),
                value: s.into(),
            });
            None
        }
    }
}

/// `Some(None)` for an absent time, `Some(Some(t))` for a valid one, `None`
/// after recording an error.
pub(crate) fn time_opt(
    field: &str,
    s: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<NaiveTime>> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Some(None);
    };
    match NaiveTime::parse_from_str(s, "%H:%M") {
        Ok(t) => Some(Some(t)),
        Err(_) => {
            errors.push(FieldError::BadTime {
                field: field.into(),
                value: s.into(),
            });
            None
        }
    }
}

pub(crate) fn date_plausible(date: NaiveDate, ctx: &Context<'_>, warnings: &mut Vec<Warning>) {
    let Some(today) = ctx.now.china_date() else {
        return;
    };
    if date > today {
        warnings.push(Warning::DateInFuture { date, today });
    } else if (today - date).num_days() > 366 {
        warnings.push(Warning::DateLongAgo { date, today });
    }
}

pub(crate) fn village(
    field: &str,
    s: &str,
    ctx: &Context<'_>,
    errors: &mut Vec<FieldError>,
    warnings: &mut Vec<Warning>,
) -> Option<VillageCode> {
    let s = s.trim();
    if s.is_empty() {
        errors.push(FieldError::Required {
            field: field.into(),
        });
        return None;
    }
    match VillageCode::parse(s) {
        Ok(v) => match ctx.register.lookup_village(v) {
            VillageLookup::Known => Some(v),
            VillageLookup::NotInRegister => {
                errors.push(FieldError::VillageNotInRegister { village: v });
                None
            }
            VillageLookup::CountyNotLoaded => {
                warnings.push(Warning::RegisterNotLoaded { village: v });
                Some(v)
            }
        },
        Err(e @ CodeError::Format { .. }) | Err(e @ CodeError::Province { .. }) => {
            errors.push(FieldError::BadCode {
                field: field.into(),
                message: e.to_string(),
            });
            None
        }
    }
}

pub(crate) fn location(
    loc: Option<&GeoPoint>,
    errors: &mut Vec<FieldError>,
    warnings: &mut Vec<Warning>,
) {
    match loc {
        None => warnings.push(Warning::NoLocation),
        Some(p) if !p.is_valid() => errors.push(FieldError::BadLocation {
            lat: p.lat,
            lon: p.lon,
        }),
        Some(p) => {
            if !p.is_in_china_box() {
                warnings.push(Warning::LocationOutsideChina);
            }
            if let Some(a) = p.accuracy_m
                && a > 500.0
            {
                warnings.push(Warning::LowAccuracy { accuracy_m: a });
            }
        }
    }
}

pub(crate) fn code<T>(
    field: &str,
    s: &str,
    parse: impl Fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        errors.push(FieldError::Required {
            field: field.into(),
        });
        return None;
    }
    let v = parse(s);
    if v.is_none() {
        errors.push(FieldError::UnknownCode {
            field: field.into(),
            value: s.into(),
        });
    }
    v
}

pub(crate) fn count(field: &str, n: i64, errors: &mut Vec<FieldError>) -> Option<u32> {
    if n < 0 {
        errors.push(FieldError::NegativeCount {
            field: field.into(),
            value: n,
        });
        None
    } else if n > MAX_COUNT {
        errors.push(FieldError::CountTooLarge {
            field: field.into(),
            value: n,
        });
        None
    } else {
        Some(n as u32)
    }
}

pub(crate) fn short_text(
    field: &str,
    s: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let s = s.trim();
    if required && s.is_empty() {
        errors.push(FieldError::Required {
            field: field.into(),
        });
        return None;
    }
    long_text(field, s, super::service_log::MAX_SHORT_CHARS, errors)
}

pub(crate) fn long_text(
    field: &str,
    s: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    if s.chars().count() > max {
        errors.push(FieldError::TooLong {
            field: field.into(),
            max,
        });
        return None;
    }
    Some(s.to_string())
}

/// Trims each entry, drops empty ones and duplicates, keeps order.
pub(crate) fn short_list(
    field: &str,
    items: &[String],
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(s) = short_text(field, item, false, errors)
            && !s.is_empty()
            && !out.contains(&s)
        {
            out.push(s);
        }
    }
    out
}

/// Accepts Chinese mobile numbers (11 digits from 1) and landlines with an area
/// code; spaces and dashes are ignored.
pub(crate) fn phone(s: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        return Some(String::new());
    }
    let ok = digits.chars().all(|c| c.is_ascii_digit())
        && ((digits.len() == 11 && digits.starts_with('1'))
            || (digits.starts_with('0') && (10..=12).contains(&digits.len()))
            || (7..=8).contains(&digits.len()));
    if ok {
        Some(digits)
    } else {
        errors.push(FieldError::BadPhone { value: s.into() });
        None
    }
}
