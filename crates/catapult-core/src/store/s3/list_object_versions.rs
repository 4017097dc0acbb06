//! ListObjectVersions: one page of a key's versions, with the markers where the next starts and
//! the page's last entry of any kind, for a store that marks a page truncated without markers.

use super::{S3Store, timestamp};
use crate::store::{
    ListedVersion, Location, NULL_VERSION_ID, Operation, PageCursor, StoreError, VersionPage,
};

impl S3Store {
    pub(super) async fn list_object_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError> {
        tracing::debug!(
            bucket = at.bucket.as_str(),
            key = at.key.as_str(),
            max_keys,
            "S3 ListObjectVersions"
        );
        let mut request = self
            .client
            .list_object_versions()
            .bucket(at.bucket.as_str())
            .prefix(at.key.as_str())
            .max_keys(max_keys);
        if let Some(cursor) = after {
            request = request
                .key_marker(&cursor.key_marker)
                .version_id_marker(&cursor.version_id_marker);
        }
        let output = request
            .send()
            .await
            .map_err(|err| self.sdk_error(Operation::ListVersions, at, err))?;

        let versions = output
            .versions()
            .iter()
            .filter(|version| version.key() == Some(at.key.as_str()))
            .map(|version| ListedVersion {
                version_id: version.version_id().unwrap_or(NULL_VERSION_ID).to_owned(),
                is_latest: version.is_latest().unwrap_or(false),
                last_modified: timestamp(version.last_modified()),
                etag: version.e_tag().map(str::to_owned),
                size: version.size().and_then(|size| u64::try_from(size).ok()),
            })
            .collect();
        let delete_marker_is_latest = output.delete_markers().iter().any(|marker| {
            marker.key() == Some(at.key.as_str()) && marker.is_latest() == Some(true)
        });
        let next = match (output.next_key_marker(), output.next_version_id_marker()) {
            (Some(key_marker), Some(version_id_marker)) if !key_marker.is_empty() => {
                Some(PageCursor {
                    key_marker: key_marker.to_owned(),
                    version_id_marker: version_id_marker.to_owned(),
                })
            }
            _ => None,
        };
        // The last entry of the page, versions and delete markers alike, by list position:
        // S3 interleaves them by key then time, so the later of the two lists' last entries in
        // key order, then by time, is the page's last.
        let last_version = output.versions().last().map(|version| {
            (
                version.key().unwrap_or_default(),
                version.version_id().unwrap_or(NULL_VERSION_ID),
                version.last_modified(),
            )
        });
        let last_marker = output.delete_markers().last().map(|marker| {
            (
                marker.key().unwrap_or_default(),
                marker.version_id().unwrap_or(NULL_VERSION_ID),
                marker.last_modified(),
            )
        });
        let last_entry = match (last_version, last_marker) {
            (Some(version), Some(marker)) => {
                // Later in list order: a greater key, or the same key and an older time.
                let marker_later = marker.0 > version.0
                    || (marker.0 == version.0
                        && timestamp(marker.2).unwrap_or_default()
                            < timestamp(version.2).unwrap_or_default());
                Some(if marker_later { marker } else { version })
            }
            (one, other) => one.or(other),
        }
        .map(|(key, version_id, _)| PageCursor {
            key_marker: key.to_owned(),
            version_id_marker: version_id.to_owned(),
        });
        Ok(VersionPage {
            versions,
            delete_marker_is_latest,
            is_truncated: output.is_truncated().unwrap_or(false),
            next,
            last_entry,
        })
    }
}
