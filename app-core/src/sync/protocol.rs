//! The record sync protocol, version 1: message types and their encoding.
//!
//! Push sends many documents' Automerge changes in one request and gets one
//! outcome per change, in order. Pull fetches the changes in the caller's
//! scope after a server-assigned cursor, a page at a time; with nothing new
//! the server answers `204 No Content`, so a reconnect costs one small
//! request whatever the number of records on the device.
//!
//! Bodies are MessagePack (`application/msgpack`), compressed with zstd
//! (`Content-Encoding: zstd`). MessagePack carries change bytes as binary,
//! without base64's third more; names of fields are kept short on the wire
//! with `serde(rename)` because every byte is paid for on 2G.

use serde::{Deserialize, Serialize};

use crate::domain::{CountyCode, DeviceId, DocId, Team, Timestamp, User};

/// The protocol version this code speaks; sent as `Ketepai-Protocol`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Header naming the protocol version.
pub const PROTOCOL_HEADER: &str = "ketepai-protocol";
/// Media type of protocol bodies.
pub const MEDIA_TYPE: &str = "application/msgpack";

/// Largest push body the server accepts, compressed (bytes).
pub const MAX_PUSH_BODY: usize = 4 * 1024 * 1024;
/// Largest push body once decompressed (bytes).
pub const MAX_PUSH_DECODED: usize = 16 * 1024 * 1024;
/// Most changes in one push.
pub const MAX_PUSH_CHANGES: usize = 5_000;
/// Default and largest pull page, in changes.
pub const MAX_PULL_CHANGES: u32 = 2_000;

/// Request header of push and pull: how many changes the device's outbox
/// holds (see [`DeviceReport`]). Optional; older devices do not send it.
pub const OUTBOX_HEADER: &str = "ketepai-outbox";
/// Request header of push and pull: how long ago, in seconds by the
/// device's own clock, its oldest unsent change was made. An age rather
/// than a time, so that a device clock set wrong does not matter.
pub const OUTBOX_OLDEST_HEADER: &str = "ketepai-outbox-oldest";
/// Request header of push and pull: the app's version.
pub const APP_VERSION_HEADER: &str = "ketepai-app-version";
/// Response header of a pull (`200` or `204`): how many notices wait for
/// this device at `GET /api/v1/sync/notices`. Absent when none wait.
pub const NOTICES_HEADER: &str = "ketepai-notices";

/// One change of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireChange {
    /// The document.
    #[serde(rename = "d")]
    pub doc: DocId,
    /// Automerge change bytes.
    #[serde(rename = "b", with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// `POST /api/v1/sync/push`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The changes, dependencies before dependents within a document.
    #[serde(rename = "c")]
    pub changes: Vec<WireChange>,
}

/// What happened to one pushed change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "o", rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// Stored now.
    Stored,
    /// Already stored earlier (a replay or a duplicate): nothing stored twice.
    Duplicate,
    /// Refused; the document is quarantined for this device until an admin
    /// looks at it. Retrying cannot help.
    Refused {
        /// A stable code (see [`RefusalCode`]).
        #[serde(rename = "code")]
        code: RefusalCode,
        /// Why, for people.
        #[serde(rename = "why")]
        reason: String,
    },
    /// Its dependencies are neither stored nor earlier in this push. The
    /// client should push them first; retrying later can help.
    MissingDeps,
}

impl ChangeOutcome {
    /// Whether the server holds the change after this push (the client may
    /// drop it from its outbox).
    pub fn is_acknowledged(&self) -> bool {
        matches!(self, ChangeOutcome::Stored | ChangeOutcome::Duplicate)
    }
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The bytes are not an Automerge change.
    Undecodable,
    /// The change makes the document something that is not a valid record.
    InvalidRecord,
    /// The author may not write this record at all.
    NotYourRecord,
    /// The author may write the record, but not these fields.
    FieldNotAllowed,
    /// The record is outside the author's scope.
    OutOfScope,
    /// The change claims another device's actor.
    ForeignActor,
    /// An earlier change of the same document in this push was refused, or
    /// the document is quarantined.
    Quarantined,
    /// The change's declared document does not match its content.
    WrongDocument,
}

impl RefusalCode {
    /// Every code.
    pub const ALL: &'static [RefusalCode] = &[
        RefusalCode::Undecodable,
        RefusalCode::InvalidRecord,
        RefusalCode::NotYourRecord,
        RefusalCode::FieldNotAllowed,
        RefusalCode::OutOfScope,
        RefusalCode::ForeignActor,
        RefusalCode::Quarantined,
        RefusalCode::WrongDocument,
    ];

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<RefusalCode> {
        RefusalCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == code)
    }

    /// What the refusal means, in Chinese words for the people who read it
    /// (the sync admin's console, the device's notices).
    pub const fn label_zh(self) -> &'static str {
        match self {
            RefusalCode::Undecodable => "数据无法解析",
            RefusalCode::InvalidRecord => "修改后的记录无效",
            RefusalCode::NotYourRecord => "无权修改他人的记录",
            RefusalCode::FieldNotAllowed => "无权修改这些字段",
            RefusalCode::OutOfScope => "记录超出本人范围",
            RefusalCode::ForeignActor => "修改来自另一台设备",
            RefusalCode::Quarantined => "此前的修改被拒，记录已隔离",
            RefusalCode::WrongDocument => "修改与记录不符",
        }
    }

    /// The code as a string.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Undecodable => "undecodable",
            RefusalCode::InvalidRecord => "invalid_record",
            RefusalCode::NotYourRecord => "not_your_record",
            RefusalCode::FieldNotAllowed => "field_not_allowed",
            RefusalCode::OutOfScope => "out_of_scope",
            RefusalCode::ForeignActor => "foreign_actor",
            RefusalCode::Quarantined => "quarantined",
            RefusalCode::WrongDocument => "wrong_document",
        }
    }
}

/// Answer to a push: one outcome per change, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Outcomes, index-aligned with [`PushRequest::changes`].
    #[serde(rename = "r")]
    pub outcomes: Vec<ChangeOutcome>,
}

/// Answer to `GET /api/v1/sync/pull?cursor=…&limit=…` when there is
/// something new (otherwise `204 No Content`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Changes after the cursor, in server order (dependencies first).
    #[serde(rename = "c")]
    pub changes: Vec<WireChange>,
    /// The cursor to send next time.
    #[serde(rename = "n")]
    pub cursor: String,
    /// Whether more changes are waiting beyond this page.
    #[serde(rename = "m")]
    pub more: bool,
}

/// Media type of a streamed pull's body (`GET /api/v1/sync/pull/stream`):
/// parts, each a big-endian `u32` length and that many bytes of a
/// MessagePack [`PullResponse`] (see [`encode_part`], [`PartReader`]).
pub const PARTS_MEDIA_TYPE: &str = "application/vnd.ketepai.parts";

/// Largest part of a streamed pull a client accepts, in bytes after
/// decompression: a page of changes (about 4 MiB of change bytes, but at
/// least one change, and one change can be as large as a push body allows)
/// with its framing. A part announced larger is refused before any of it
/// is buffered, so a client's memory is bounded per part, not per body.
pub const MAX_PULL_PART: usize = MAX_PUSH_DECODED + 1024 * 1024;

/// One part of a streamed pull as it goes on the wire (before the body's
/// compression): its length as a big-endian `u32`, then the part.
pub fn encode_part(part: &PullResponse) -> Result<Vec<u8>, CodecError> {
    frame(encode(part)?)
}

/// A part's bytes framed for the stream: their length as a big-endian
/// `u32`, then the bytes.
pub fn frame(body: Vec<u8>) -> Result<Vec<u8>, CodecError> {
    let len = u32::try_from(body.len())
        .map_err(|_| CodecError::Encode(format!("a part of {} bytes", body.len())))?;
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads the parts of a streamed pull out of the body's bytes as they
/// arrive, whatever the chunks: feed it with [`PartReader::extend`], take
/// whole parts with [`PartReader::next_part`]. It holds at most one part
/// (and its length) at a time; a part announced over its cap is refused
/// at once ([`CodecError::TooLarge`]).
#[derive(Debug)]
pub struct PartReader {
    buf: Vec<u8>,
    cap: usize,
}

impl PartReader {
    /// A reader refusing parts over `cap` bytes.
    pub fn new(cap: usize) -> Self {
        PartReader {
            buf: Vec::new(),
            cap,
        }
    }

    /// Adds bytes of the body.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether no byte of an unfinished part is held (the body may end
    /// here without having been cut inside a part).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next whole part, `None` while its bytes have not all arrived.
    pub fn next_part(&mut self) -> Result<Option<PullResponse>, CodecError> {
        match self.next_frame()? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The next whole part's bytes, unread (a compact part is decoded by
    /// the stream's [`super::compact::CompactDecoder`]); `None` while they
    /// have not all arrived.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, CodecError> {
        let Some(head) = self.buf.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*head) as usize;
        if len > self.cap {
            return Err(CodecError::TooLarge(self.cap));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let bytes = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(bytes))
    }
}

/// `POST /api/v1/devices/enrol` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// Sign-in name.
    pub username: String,
    /// Password (sent once, over TLS, at enrolment only).
    pub password: String,
    /// A name for the device the user will recognise (张三的手机).
    pub device_name: String,
    /// `android`, `ios`, `linux`, `windows`, `macos`.
    pub platform: String,
    /// The device this enrolment replaces: a revoked device enrolling again
    /// with its user's credentials. Its Automerge actors, quarantines and
    /// pushed changes move to the new device, so the work it still holds
    /// is accepted as the new device's own. Must be the same user's device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<DeviceId>,
}

/// Who a token acts for: the answer to `GET /api/v1/me`, and part of the
/// enrolment answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user.
    pub user: User,
    /// Their team, if any.
    pub team: Option<Team>,
    /// The county whose register the device needs, if any.
    pub county: Option<CountyCode>,
}

/// Answer to an enrolment (`201`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The new device.
    pub device_id: DeviceId,
    /// The device's token; shown once.
    pub token: String,
    /// Who it acts for.
    #[serde(flatten)]
    pub me: Me,
    /// The server's clock, milliseconds since the epoch.
    pub server_time: i64,
}

/// An RFC 9457 problem document, as every error is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Short summary.
    #[serde(default)]
    pub title: String,
    /// HTTP status.
    #[serde(default)]
    pub status: u16,
    /// Stable code (see docs/protocol.md).
    pub code: String,
    /// Details for people.
    #[serde(default)]
    pub detail: Option<String>,
    /// Whether the same request can succeed later.
    #[serde(default)]
    pub retryable: bool,
    /// The field of the request the problem is about, when it is one
    /// (`username`, `password`, `scope`, …), so that a form can mark it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// What a device tells the server about itself with each push and pull,
/// as optional request headers ([`OUTBOX_HEADER`],
/// [`OUTBOX_OLDEST_HEADER`], [`APP_VERSION_HEADER`]): how much it still
/// holds unsent and how old the oldest of it is, so that a sync admin sees
/// a device whose backlog does not go out. A request without them is
/// served as before.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceReport {
    /// Changes in the outbox.
    pub outbox_changes: u64,
    /// Seconds since the oldest change in the outbox was made, by the
    /// device's clock; `None` when the outbox is empty.
    pub oldest_pending_secs: Option<u64>,
    /// The app's version.
    pub app_version: Option<String>,
}

impl DeviceReport {
    /// Longest app version kept.
    pub const MAX_VERSION_CHARS: usize = 32;

    /// The report as request headers.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![(OUTBOX_HEADER, self.outbox_changes.to_string())];
        if let Some(age) = self.oldest_pending_secs {
            out.push((OUTBOX_OLDEST_HEADER, age.to_string()));
        }
        if let Some(v) = &self.app_version {
            out.push((APP_VERSION_HEADER, v.clone()));
        }
        out
    }

    /// The report a request carries, read with `header` (a header's value
    /// by its lowercase name); `None` when it carries no outbox size. A
    /// value that does not parse is left out, never refused: the report is
    /// advice, and an odd one must not stop a sync.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<DeviceReport> {
        let number = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let outbox_changes = number(OUTBOX_HEADER)?;
        let app_version = header(APP_VERSION_HEADER)
            .map(|v| {
                v.trim()
                    .chars()
                    .filter(|c| c.is_ascii_graphic())
                    .take(Self::MAX_VERSION_CHARS)
                    .collect::<String>()
            })
            .filter(|v| !v.is_empty());
        Some(DeviceReport {
            outbox_changes,
            oldest_pending_secs: number(OUTBOX_OLDEST_HEADER).filter(|_| outbox_changes > 0),
            app_version,
        })
    }
}

/// What happened to a change of this device that the server had refused,
/// once a sync admin looked at it: the answer to `GET /api/v1/sync/notices`
/// holds these (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Checked again under today's rules and stored: it reaches the team.
    Released,
    /// Checked again and still refused (`code` and `reason` say why now).
    Refused,
    /// Discarded by a sync admin, with a reason; the server keeps it
    /// archived, never deleted, but it will not reach anyone.
    Discarded,
}

impl NoticeKind {
    /// The kind as a string.
    pub const fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Released => "released",
            NoticeKind::Refused => "refused",
            NoticeKind::Discarded => "discarded",
        }
    }

    /// Parses a kind.
    pub fn from_code(code: &str) -> Option<NoticeKind> {
        [
            NoticeKind::Released,
            NoticeKind::Refused,
            NoticeKind::Discarded,
        ]
        .into_iter()
        .find(|k| k.as_str() == code)
    }
}

/// One notice for a device about a change it pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Increasing per server; acknowledge up to it.
    pub id: i64,
    /// The record (document).
    pub doc: DocId,
    /// The change's hash (hex), when the bytes decoded.
    pub hash: Option<String>,
    /// What happened.
    pub kind: NoticeKind,
    /// For `refused`, the refusal code; for `discarded`, `discarded`; for
    /// `released`, `stored`.
    pub code: String,
    /// Why, for people (a discard's reason is the sync admin's words).
    pub reason: String,
    /// When (server clock).
    pub at: Timestamp,
}

/// Answer to `GET /api/v1/sync/notices`: the notices this device has not
/// acknowledged, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Notices {
    /// The notices.
    pub notices: Vec<Notice>,
}

/// `POST /api/v1/sync/notices/ack`: the device keeps every notice up to
/// `up_to`; the server stops announcing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAck {
    /// The highest notice ID kept.
    pub up_to: i64,
}

/// `POST /api/v1/account/password` (JSON): a user sets a new password with
/// the current one: after a sync admin reset it (the one-time password
/// enrols nothing and answers `password_change_required`), or at will.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    /// Sign-in name.
    pub username: String,
    /// The current (or one-time) password.
    pub password: String,
    /// The new password, at least 8 characters, not the current one.
    pub new_password: String,
}

/// An error in a message's encoding.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Compression failed or the data is not zstd.
    #[error("compression: {0}")]
    Compression(String),
    /// The body decompresses past the limit.
    #[error("body decompresses to more than {0} bytes")]
    TooLarge(usize),
    /// The MessagePack does not decode as the expected message.
    #[error("decode: {0}")]
    Decode(String),
    /// Encoding failed.
    #[error("encode: {0}")]
    Encode(String),
}

/// Encodes a message as MessagePack (uncompressed; HTTP layers compress).
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, CodecError> {
    rmp_serde::to_vec_named(msg).map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes a MessagePack message.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, CodecError> {
    rmp_serde::from_slice(bytes).map_err(|e| CodecError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire form is a compatibility decision: this snapshot must only
    /// change with a new protocol version.
    #[test]
    fn push_encoding_snapshot() {
        let doc: DocId = "0192f000-0000-7000-8000-000000000001".parse().unwrap();
        let req = PushRequest {
            changes: vec![WireChange {
                doc,
                bytes: vec![1, 2, 3],
            }],
        };
        let bytes = encode(&req).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "81a1639182a164c4100192f000000070008000000000000001a162c403010203"
        );
        assert_eq!(decode::<PushRequest>(&bytes).unwrap(), req);

        let resp = PushResponse {
            outcomes: vec![
                ChangeOutcome::Stored,
                ChangeOutcome::Refused {
                    code: RefusalCode::FieldNotAllowed,
                    reason: "x".into(),
                },
            ],
        };
        let round: PushResponse = decode(&encode(&resp).unwrap()).unwrap();
        assert_eq!(round, resp);
    }

    fn part(n: u8, more: bool) -> PullResponse {
        PullResponse {
            changes: vec![WireChange {
                doc: DocId::from_uuid(uuid::Uuid::from_u128(u128::from(n))),
                bytes: vec![n; usize::from(n) * 7],
            }],
            cursor: format!("1.{n}"),
            more,
        }
    }

    #[test]
    fn parts_are_read_whole_whatever_the_chunks() {
        let parts: Vec<PullResponse> = (1..=5).map(|n| part(n, n < 5)).collect();
        let wire: Vec<u8> = parts.iter().flat_map(|p| encode_part(p).unwrap()).collect();
        for chunk in [1, 3, 7, 64, wire.len()] {
            let mut reader = PartReader::new(MAX_PULL_PART);
            let mut read = Vec::new();
            for bytes in wire.chunks(chunk) {
                reader.extend(bytes);
                while let Some(p) = reader.next_part().unwrap() {
                    read.push(p);
                }
            }
            assert_eq!(read, parts, "chunks of {chunk}");
            assert!(reader.is_empty());
        }
        // A body cut inside a part leaves that part's bytes unread.
        let mut reader = PartReader::new(MAX_PULL_PART);
        reader.extend(&wire[..wire.len() - 1]);
        let mut whole = 0;
        while reader.next_part().unwrap().is_some() {
            whole += 1;
        }
        assert_eq!(whole, 4);
        assert!(!reader.is_empty());
    }

    #[test]
    fn a_part_over_the_cap_is_refused_before_it_arrives() {
        let one = encode_part(&part(9, false)).unwrap();
        let len = one.len() - 4;
        let mut reader = PartReader::new(len);
        reader.extend(&one);
        assert_eq!(reader.next_part().unwrap(), Some(part(9, false)));
        let mut small = PartReader::new(len - 1);
        // Only the length has arrived: refused already.
        small.extend(&one[..4]);
        assert!(matches!(small.next_part(), Err(CodecError::TooLarge(cap)) if cap == len - 1));
        // Garbage in a part of acceptable length does not decode.
        let mut garbage = PartReader::new(MAX_PULL_PART);
        garbage.extend(&[0, 0, 0, 2, 0xc1, 0xc1]);
        assert!(matches!(garbage.next_part(), Err(CodecError::Decode(_))));
    }
}
