//! What a device decodes from the server: a pull page or a repair page
//! (MessagePack `PullResponse`, whose changes the device store applies),
//! a push answer, an error's problem document, and the JSON answers
//! (enrolment, `me`, notices, the team roster).
//!
//! Asserts: nothing panics out of what the device runs; what
//! decodes encodes and decodes back to itself; applying a page leaves
//! every change counted once (applied, duplicate, held or rejected).
#![no_main]

use app_core::sync::protocol::{
    self, ChangeOutcome, EnrolResponse, Me, Notice, NoticeKind, Notices, Problem, PullResponse,
    PushResponse,
};
use app_core::team::TeamRoster;
use libfuzzer_sys::fuzz_target;

fn seeds() -> Vec<Vec<u8>> {
    let push = ketepai_fuzz::real_push();
    let page = PullResponse {
        changes: push.changes.clone(),
        cursor: "3.17".into(),
        more: true,
    };
    let answer = PushResponse {
        outcomes: vec![
            ChangeOutcome::Stored,
            ChangeOutcome::Refused {
                code: protocol::RefusalCode::InvalidRecord,
                reason: "description: too_long".into(),
            },
        ],
    };
    let problem = Problem {
        kind: "about:blank".into(),
        title: "Unauthorized".into(),
        status: 401,
        code: "token_revoked".into(),
        detail: Some("设备已被撤销".into()),
        retryable: false,
        field: None,
    };
    let notices = Notices {
        notices: vec![Notice {
            id: 1,
            doc: push.changes[0].doc,
            hash: Some("00ff".into()),
            kind: NoticeKind::Released,
            code: "stored".into(),
            reason: "检查通过".into(),
            at: app_core::domain::Timestamp::from_millis(5),
        }],
    };
    let with = |mode: u8, body: Vec<u8>| [vec![mode], body].concat();
    vec![
        with(0, protocol::encode(&page).unwrap()),
        with(1, protocol::encode(&answer).unwrap()),
        with(2, serde_json::to_vec(&problem).unwrap()),
        with(3, serde_json::to_vec(&notices).unwrap()),
    ]
}

fuzz_target!(
    init: {
        // The store catches Automerge's panics while applying (see
        // `store::documents`); a panic anywhere else is a crash.
        ketepai_fuzz::quiet_caught_panics();
        ketepai_fuzz::write_seeds(seeds);
    },
    |data: &[u8]| {
        let Some((&mode, body)) = data.split_first() else {
            return;
        };
        match mode % 6 {
            0 => {
                let Some(page) = ketepai_fuzz::msgpack_round_trip::<PullResponse>(body) else {
                    return;
                };
                ketepai_fuzz::apply_page(page.changes);
            }
            1 => {
                ketepai_fuzz::msgpack_round_trip::<PushResponse>(body);
            }
            2 => {
                // What `sync::http::problem_of` reads of an error answer.
                ketepai_fuzz::json_round_trip::<Problem>(body);
            }
            3 => {
                ketepai_fuzz::json_round_trip::<Notices>(body);
            }
            4 => {
                ketepai_fuzz::json_round_trip::<EnrolResponse>(body);
                ketepai_fuzz::json_round_trip::<Me>(body);
            }
            _ => {
                ketepai_fuzz::json_round_trip::<TeamRoster>(body);
            }
        }
    }
);
