//! The headers the server parses from a client, mostly of photo uploads
//! and downloads: `Upload-Length`, `Upload-Offset`, `Photo-Sha256` (and the
//! hash in the path), `Range`; and the body headers every upload route
//! reads first (`Content-Length`, `Content-Type`, `Content-Encoding`,
//! `Accept-Encoding`), the device's report headers and the pull cursor.
//!
//! Asserts: nothing panics; a range resolved against a photo's length is
//! inside it; a well-formed `bytes=a-b` inside the photo resolves to
//! exactly `a..=b`; a number, hash or cursor that parses prints back to
//! what parses to the same value.
#![no_main]

use app_core::domain::PhotoHash;
use app_core::sync::protocol::{
    APP_VERSION_HEADER, DeviceReport, OUTBOX_HEADER, OUTBOX_OLDEST_HEADER,
};
use arbitrary::Arbitrary;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use sync_server::codec;
use sync_server::photos::{RangeRequest, parse_range};
use sync_server::routes::parsers::{
    PHOTO_SHA256, UPLOAD_LENGTH, UPLOAD_OFFSET, number, parse_cursor, parse_hash,
};

#[derive(Debug, Arbitrary)]
struct Input {
    range: Option<String>,
    length: u64,
    /// A range inside the photo, as `(start, end)` before reduction.
    inside: (u64, u64),
    upload_length: Vec<u8>,
    upload_offset: Vec<u8>,
    sha256: Vec<u8>,
    content_length: Vec<u8>,
    content_type: Vec<u8>,
    content_encoding: Vec<u8>,
    accept_encoding: Vec<u8>,
    path_hash: String,
    cursor: String,
    outbox: Option<String>,
    outbox_oldest: Option<String>,
    app_version: Option<String>,
}

fn insert(h: &mut HeaderMap, name: HeaderName, value: &[u8]) {
    if let Ok(v) = HeaderValue::from_bytes(value) {
        h.insert(name, v);
    }
}

fuzz_target!(|input: Input| {
    // Range.
    let length = input.length;
    match parse_range(input.range.as_deref(), length) {
        RangeRequest::Part { start, end } => {
            assert!(start <= end && end < length, "{start}..={end} of {length}");
        }
        RangeRequest::Full | RangeRequest::Unsatisfiable => {}
    }
    if length > 0 {
        let (a, b) = (input.inside.0 % length, input.inside.1 % length);
        let (a, b) = (a.min(b), a.max(b));
        assert_eq!(
            parse_range(Some(&format!("bytes={a}-{b}")), length),
            RangeRequest::Part { start: a, end: b }
        );
    }

    // Upload headers.
    let mut h = HeaderMap::new();
    insert(&mut h, UPLOAD_LENGTH, &input.upload_length);
    insert(&mut h, UPLOAD_OFFSET, &input.upload_offset);
    insert(&mut h, PHOTO_SHA256, &input.sha256);
    insert(&mut h, header::CONTENT_LENGTH, &input.content_length);
    insert(&mut h, header::CONTENT_TYPE, &input.content_type);
    insert(&mut h, header::CONTENT_ENCODING, &input.content_encoding);
    insert(&mut h, header::ACCEPT_ENCODING, &input.accept_encoding);
    for name in [UPLOAD_LENGTH, UPLOAD_OFFSET] {
        if let Ok(n) = number(&h, &name) {
            let mut again = HeaderMap::new();
            again.insert(name.clone(), HeaderValue::from(n));
            assert_eq!(number(&again, &name).unwrap(), n);
        }
    }
    let announced = h.get(&PHOTO_SHA256).and_then(|v| v.to_str().ok());
    for text in announced.into_iter().chain([input.path_hash.as_str()]) {
        if let Ok(hash) = parse_hash(text) {
            assert_eq!(PhotoHash::parse(&hash.to_string()).unwrap(), hash);
            assert!(text.eq_ignore_ascii_case(&hash.to_string()));
        }
    }
    let _ = codec::check_length(&h, 1024);
    let _ = codec::request_is_zstd(&h);
    let _ = codec::accepts_zstd(&h);
    let _ = codec::content_type_is(&h, "application/msgpack");

    // The device's report (`Ketepai-Outbox`, …), read with every push and
    // pull.
    let report = DeviceReport::from_headers(|name| match name {
        OUTBOX_HEADER => input.outbox.as_deref(),
        OUTBOX_OLDEST_HEADER => input.outbox_oldest.as_deref(),
        APP_VERSION_HEADER => input.app_version.as_deref(),
        _ => None,
    });
    if let Some(report) = report {
        let version = report.app_version.as_deref().unwrap_or("");
        assert!(version.chars().count() <= DeviceReport::MAX_VERSION_CHARS);
        assert!(version.chars().all(|c| c.is_ascii_graphic()));
        let sent = report.headers();
        let again = DeviceReport::from_headers(|name| {
            sent.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        });
        assert_eq!(again.as_ref(), Some(&report), "a report reads back as sent");
    }

    // The pull cursor.
    if let Ok((epoch, seq)) = parse_cursor(&input.cursor) {
        assert!(epoch >= 0 && seq >= 0);
        assert_eq!(
            parse_cursor(&format!("{epoch}.{seq}")).unwrap(),
            (epoch, seq)
        );
    }
});
