//! Reference data for devices: a county's register slice with an ETag, a
//! `304` while it is current, a new ETag when a sync admin tags the county,
//! and no slice outside the caller's scope.

use app_core::domain::CountyTag;
use app_core::store::RegisterSlice;

use crate::harness::{Env, Fetch, WUCHUAN, ZHENGAN, villages};

pub async fn county_slice_with_etag(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let path = format!("/api/v1/reference/county/{ZHENGAN}");
    let resp = env.get(&phone, &path).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("\"nbs-2023-"), "{etag}");
    let slice: RegisterSlice = resp.json().await.unwrap();
    assert_eq!(slice.county.name, "正安县");
    assert_eq!(slice.prefecture.name, "遵义市");
    assert_eq!(slice.province.name, "贵州省");
    assert_eq!(slice.villages.len(), villages(ZHENGAN, usize::MAX).len());
    assert!(!slice.townships.is_empty());
    assert_eq!(
        slice.tags,
        vec![CountyTag::NationalKey, CountyTag::PovertyAlleviated]
    );

    let resp = env
        .get(&phone, &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    assert!(resp.bytes().await.unwrap().is_empty());

    // The county's admin tags it: the slice changes, and so does its ETag.
    let admin = env.enrol(&w.admin_zhengan).await;
    let resp = env
        .http
        .put(env.url(&format!("/api/v1/admin/counties/{ZHENGAN}/tags/designated")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = env
        .get(&phone, &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_ne!(resp.headers()["etag"].to_str().unwrap(), etag);
    let slice: RegisterSlice = resp.json().await.unwrap();
    assert!(slice.tags.contains(&CountyTag::Designated));
    // Not for a commissioner, nor for another county's admin.
    let resp = env
        .http
        .delete(env.url(&format!("/api/v1/admin/counties/{ZHENGAN}/tags/designated")))
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let other = env.enrol(&w.admin_wuchuan).await;
    let resp = env
        .http
        .delete(env.url(&format!("/api/v1/admin/counties/{ZHENGAN}/tags/designated")))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Scope: a commissioner gets only their county; admins their area.
    let elsewhere = format!("/api/v1/reference/county/{WUCHUAN}");
    let (status, p) = env.get(&phone, &elsewhere).fetch_problem().await;
    assert_eq!((status, p.code.as_str()), (404, "not_found"));
    let province = env.enrol(&w.admin_guizhou).await;
    assert_eq!(env.get(&province, &elsewhere).fetch_status().await, 200);
    let yunnan = env.enrol(&w.admin_yunnan).await;
    assert_eq!(env.get(&yunnan, &elsewhere).fetch_status().await, 404);
    let resp = env
        .get(&phone, "/api/v1/reference/county/52032")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
