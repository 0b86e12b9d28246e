//! The JSON bodies the server accepts: the enrolment (no account needed),
//! a password change (no token needed), a notices acknowledgement, and
//! the sync admin's bodies (new team, new user, move a user, change a
//! scope, release or discard a quarantined document).
//!
//! Asserts: nothing panics; a body that decodes encodes and decodes back
//! to the same value.
#![no_main]

use app_core::admin::{ChangeScope, Discard, MoveUser, NewTeam, NewUser, QuarantineTarget};
use app_core::sync::protocol::{EnrolRequest, NoticeAck, PasswordChange};
use ketepai_fuzz::json_round_trip;
use libfuzzer_sys::fuzz_target;

fn seeds() -> Vec<Vec<u8>> {
    let enrol = EnrolRequest {
        username: "zhangsan".into(),
        password: "correct horse battery".into(),
        device_name: "张三的手机".into(),
        platform: "android".into(),
        replaces: Some(app_core::testing::device_id(2)),
    };
    let change = PasswordChange {
        username: "zhangsan".into(),
        password: "one-time-pass".into(),
        new_password: "a much better one".into(),
    };
    vec![
        [vec![0u8], serde_json::to_vec(&enrol).unwrap()].concat(),
        [vec![1u8], serde_json::to_vec(&change).unwrap()].concat(),
        [
            vec![2u8],
            serde_json::to_vec(&NoticeAck { up_to: 41 }).unwrap(),
        ]
        .concat(),
        [
            vec![3u8],
            r#"{"county":"520324","name":"正安县科技特派团","leading_industry":"茶叶"}"#
                .as_bytes()
                .to_vec(),
        ]
        .concat(),
    ]
}

fuzz_target!(
    init: ketepai_fuzz::write_seeds(seeds),
    |data: &[u8]| {
        let Some((&mode, body)) = data.split_first() else {
            return;
        };
        match mode % 9 {
            0 => {
                json_round_trip::<EnrolRequest>(body);
            }
            1 => {
                json_round_trip::<PasswordChange>(body);
            }
            2 => {
                json_round_trip::<NoticeAck>(body);
            }
            3 => {
                json_round_trip::<NewTeam>(body);
            }
            4 => {
                json_round_trip::<NewUser>(body);
            }
            5 => {
                json_round_trip::<MoveUser>(body);
            }
            6 => {
                json_round_trip::<ChangeScope>(body);
            }
            7 => {
                json_round_trip::<QuarantineTarget>(body);
            }
            _ => {
                json_round_trip::<Discard>(body);
            }
        }
    }
);
