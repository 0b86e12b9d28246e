//! The domain: field records, reference entities and their validation. No I/O.
//!
//! Everything here is plain Rust and serde, so it compiles to wasm for the
//! interface. With the `doc` feature the types also derive autosurgeon's
//! `Reconcile` and `Hydrate`, which [`crate::doc`] uses to map them onto
//! Automerge documents.
//!
//! Records come in two stages: an *input* (what a form or a command sends:
//! strings, signed numbers, nothing trusted) and the record itself (validated
//! newtypes only). [`validate`] turns one into the other, returning typed
//! errors for impossible data and warnings for imperfect field data.

#[macro_use]
mod macros;

pub mod consultation;
pub mod division;
pub mod geo;
pub mod ids;
pub mod people;
pub mod photo;
pub mod record;
pub mod resolution;
pub mod review;
pub mod service_log;
pub mod time;
pub mod validate;

pub use consultation::{
    Channel, Consultation, ConsultationInput, ConsultationStatus, FarmerContact, FollowUp,
};
pub use division::{
    CodeError, CountyCode, CountyTag, DivisionLevel, PrefectureCode, ProvinceCode, TownshipCode,
    VillageCode,
};
pub use geo::GeoPoint;
pub use ids::{
    ConsultationId, DecisionId, DeviceId, FollowUpId, IdError, PartyId, ResolutionId, ServiceLogId,
    TeamId, UserId,
};
pub use people::{Commissioner, CommissionerKind, CommissionerLevel, Role, Scope, Team, User};
pub use photo::{PhotoHash, PhotoMeta};
pub use record::{DocId, RecordKind};
pub use resolution::{DuplicateMark, Resolution};
pub use review::{Decision, FieldChange, ReviewState, Verdict};
pub use service_log::{
    ActivityType, LogStatus, PartyKind, Review, ServedParty, ServiceLog, ServiceLogInput,
};
pub use time::Timestamp;
pub use validate::{Checked, FieldError, ValidationError, Warning};
