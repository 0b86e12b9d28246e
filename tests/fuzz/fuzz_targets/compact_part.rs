//! What a device decodes from a streamed pull's compact answer
//! (`application/vnd.ketepai.compact-parts`): the parts as they come out
//! of the body (`PartReader::next_frame` under `MAX_PULL_PART`), each
//! through the stream's one `CompactDecoder`, whose changes a real
//! in-memory device store applies.
//!
//! Asserts: nothing panics; a part is a typed error or a page whose
//! rebuilt changes weigh at most the cap (the decoder itself refuses a
//! change it rebuilt that does not load as an Automerge change; one sent
//! verbatim is passed on as a plain part's would be); applying a page
//! leaves every change counted once (applied, duplicate, held or
//! rejected).
#![no_main]

use app_core::sync::compact::{CompactDecoder, CompactEncoder};
use app_core::sync::protocol::{self, PartReader, PullResponse, WireChange};
use libfuzzer_sys::fuzz_target;

/// Real compact answers: a new record and its edit in two parts (the
/// second refers to the first), and a part with a change sent verbatim
/// (a compressed chunk) and bytes that are no change at all.
fn seeds() -> Vec<Vec<u8>> {
    let push = ketepai_fuzz::real_push();
    let stream = |parts: Vec<PullResponse>| -> Vec<u8> {
        let mut encoder = CompactEncoder::new();
        parts
            .iter()
            .flat_map(|p| protocol::frame(encoder.encode(p)).unwrap())
            .collect()
    };
    let part = |changes: Vec<WireChange>, more| PullResponse {
        changes,
        cursor: "3.17".into(),
        more,
    };
    let raw: Vec<WireChange> = push
        .changes
        .iter()
        .map(|c| WireChange {
            doc: c.doc,
            bytes: automerge::Change::from_bytes(c.bytes.clone())
                .unwrap()
                .raw_bytes()
                .to_vec(),
        })
        .collect();
    let mut verbatim = push.changes.clone();
    verbatim.push(WireChange {
        doc: push.changes[0].doc,
        bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
    });
    vec![
        stream(vec![
            part(raw[..1].to_vec(), true),
            part(raw[1..].to_vec(), false),
        ]),
        stream(vec![part(raw.clone(), false)]),
        stream(vec![part(verbatim, false)]),
    ]
}

fuzz_target!(
    init: {
        ketepai_fuzz::quiet_caught_panics();
        ketepai_fuzz::write_seeds(seeds);
    },
    |data: &[u8]| {
        let mut reader = PartReader::new(protocol::MAX_PULL_PART);
        reader.extend(data);
        let mut decoder = CompactDecoder::new();
        while let Ok(Some(bytes)) = reader.next_frame() {
            let Ok(part) = decoder.decode(&bytes, protocol::MAX_PULL_PART) else {
                return;
            };
            let weight: usize = part.changes.iter().map(|c| c.bytes.len()).sum();
            assert!(weight <= protocol::MAX_PULL_PART, "{weight} bytes rebuilt");
            ketepai_fuzz::apply_page(part.changes);
        }
    }
);
