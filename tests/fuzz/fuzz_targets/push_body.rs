//! The push body as the server reads it (`POST /api/v1/sync/push`): zstd
//! under the decompressed cap, MessagePack into a `PushRequest`, then the
//! plan's decoding and judging of each change.
//!
//! Asserts: nothing panics out of what the route runs; the decompressed
//! body never passes `MAX_PUSH_DECODED`; a request that decodes encodes
//! and decodes back to itself; the plan gives one outcome per change.
#![no_main]

use app_core::sync::protocol::{self, MAX_PUSH_CHANGES, MAX_PUSH_DECODED, PushRequest};
use libfuzzer_sys::fuzz_target;

fn seeds() -> Vec<Vec<u8>> {
    let body = protocol::encode(&ketepai_fuzz::real_push()).unwrap();
    vec![
        [vec![0u8], body.clone()].concat(),
        [vec![1u8], zstd::bulk::compress(&body, 3).unwrap()].concat(),
    ]
}

fuzz_target!(
    init: {
        ketepai_fuzz::quiet_caught_panics();
        ketepai_fuzz::write_seeds(seeds);
    },
    |data: &[u8]| {
        let Some((&mode, body)) = data.split_first() else {
            return;
        };
        let decoded = if mode & 1 == 1 {
            // As sent with `Content-Encoding: zstd`.
            match sync_server::codec::unzstd(body, MAX_PUSH_DECODED) {
                Ok(d) => {
                    assert!(d.len() <= MAX_PUSH_DECODED);
                    d
                }
                Err(_) => return,
            }
        } else {
            body.to_vec()
        };
        let Ok(request) = protocol::decode::<PushRequest>(&decoded) else {
            return;
        };
        let again = protocol::encode(&request).expect("a decoded request encodes");
        assert_eq!(protocol::decode::<PushRequest>(&again).unwrap(), request);
        if request.changes.len() > MAX_PUSH_CHANGES {
            return;
        }
        ketepai_fuzz::plan_push(request, &[]);
    }
);
