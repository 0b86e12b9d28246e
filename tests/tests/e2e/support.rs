//! Helpers shared by the scenarios.

use std::collections::BTreeMap;
use std::path::Path;

use app_core::domain::{CountyCode, ServiceLog, ServiceLogId};
use app_core::store::{LogQuery, RegisterSlice, Store};
pub use ketepai_tests::device::attach_photo;
use ketepai_tests::device::{Device, test_options};
use ketepai_tests::server::ServerProcess;
use rand::SeedableRng;

pub use ketepai_tests::server::demo::{ADMIN, LEAD, WANG, ZHANG};

pub fn server_exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ketepai-server"))
}

/// A started server seeded with the demo county and accounts.
pub fn demo_server() -> ServerProcess {
    let mut server = ServerProcess::demo(server_exe());
    server.start();
    server
}

pub async fn device(name: &str, url: &str, who: (&str, &str)) -> Device {
    device_with_clock(name, url, who, 0).await
}

pub async fn device_with_clock(
    name: &str,
    url: &str,
    who: (&str, &str),
    offset_millis: i64,
) -> Device {
    Device::enrol(name, url, who.0, who.1, offset_millis, test_options())
        .await
        .unwrap_or_else(|e| panic!("{name} could not enrol as {}: {e}", who.0))
}

/// The county register a device downloaded at enrolment.
pub fn slice(d: &Device) -> RegisterSlice {
    d.store
        .export_slice(CountyCode::parse("520324").unwrap())
        .unwrap()
        .expect("the county register arrived at enrolment")
}

pub fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// Every service log a store holds, by ID.
pub fn logs(store: &Store) -> BTreeMap<ServiceLogId, ServiceLog> {
    store
        .list_service_logs(&LogQuery {
            limit: Some(500),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| (s.id, store.service_log(s.id).unwrap()))
        .collect()
}

/// Pseudo-random bytes that do not compress, like a JPEG.
pub fn photo_bytes(seed: u64, len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut out = vec![0u8; len];
    rng(seed).fill_bytes(&mut out);
    out
}
