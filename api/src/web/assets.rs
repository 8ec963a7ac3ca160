//! The files the dashboard and GraphiQL load, embedded in the binary from `api/assets/`.
//!
//! They are served under `/assets/{build}/…`, where `build` is a hash of every embedded
//! file: the names change whenever any content does, so a browser may keep a file for a
//! year without asking again. Each file also carries a strong ETag, and goes out
//! gzip-compressed (compressed once, on first request) to clients that accept it.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{LazyLock, OnceLock};

use sha2::{Digest, Sha256};

/// One embedded file, by its path under `api/assets/`.
struct Embedded {
    path: &'static str,
    bytes: &'static [u8],
}

macro_rules! embed {
    ($($path:literal),+ $(,)?) => {
        &[$(Embedded {
            path: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }),+]
    };
}

/// Every file under `api/assets/` (a test holds this list to the folder).
const FILES: &[Embedded] = embed![
    "relm.svg",
    "dashboard/api.js",
    "dashboard/calendar.js",
    "dashboard/conflicts.js",
    "dashboard/charts.js",
    "dashboard/dashboard.css",
    "dashboard/deliveries.js",
    "dashboard/dom.js",
    "dashboard/filters.js",
    "dashboard/format.js",
    "dashboard/impact.js",
    "dashboard/main.js",
    "dashboard/programs.js",
    "dashboard/queries.js",
    "dashboard/risk.js",
    "dashboard/session.js",
    "dashboard/tiles.js",
    "graphiql/graphiql.css",
    "graphiql/graphiql.js",
    "vendor/LICENSES/chart.js-4.6.1.txt",
    "vendor/LICENSES/graphiql-3.9.0.txt",
    "vendor/LICENSES/react-18.3.1.txt",
    "vendor/LICENSES/react-dom-18.3.1.txt",
    "vendor/chart.umd.min.js",
    "vendor/graphiql.min.css",
    "vendor/graphiql.min.js",
    "vendor/manifest.json",
    "vendor/react-dom.production.min.js",
    "vendor/react.production.min.js",
];

/// An embedded file ready to serve.
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    /// A strong ETag: the start of the file's SHA-256, quoted.
    pub etag: String,
    gzipped: OnceLock<Vec<u8>>,
}

impl Asset {
    /// The file gzip-compressed, compressed on first use (a few milliseconds for the
    /// largest, so call it off the async runtime).
    pub fn gzipped(&self) -> &[u8] {
        self.gzipped.get_or_init(|| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // Writing to a Vec cannot fail.
            let _ = encoder.write_all(self.bytes);
            encoder.finish().unwrap_or_default()
        })
    }
}

/// Every asset by path, and the build they belong to.
pub struct Assets {
    /// A hash of every file's path and content: the first part of every asset's URL.
    pub build: String,
    by_path: HashMap<&'static str, Asset>,
}

impl Assets {
    fn embedded() -> Self {
        let mut whole = Sha256::new();
        let by_path = FILES
            .iter()
            .map(|file| {
                whole.update(file.path.as_bytes());
                whole.update([0]);
                whole.update(file.bytes);
                let asset = Asset {
                    bytes: file.bytes,
                    content_type: content_type(file.path),
                    etag: format!("\"{}\"", &hex::encode(Sha256::digest(file.bytes))[..32]),
                    gzipped: OnceLock::new(),
                };
                (file.path, asset)
            })
            .collect();
        Self {
            build: hex::encode(whole.finalize())[..12].to_owned(),
            by_path,
        }
    }

    /// The asset at `path` (under `/assets/`): `{build}/{file}` of this build only, so
    /// that a replica of another version never serves its files under this one's names.
    pub fn get(&'static self, path: &str) -> Option<&'static Asset> {
        let (build, file) = path.split_once('/')?;
        (build == self.build).then(|| self.by_path.get(file))?
    }

    /// The URL prefix of this build's assets, e.g. `/assets/3f2a…`.
    pub fn prefix(&self) -> String {
        format!("/assets/{}", self.build)
    }
}

/// The embedded assets, indexed once per process.
pub static ASSETS: LazyLock<Assets> = LazyLock::new(Assets::embedded);

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether an `Accept-Encoding` header accepts gzip (`gzip` or `*`, not with `q=0`).
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, root, out);
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }

    #[test]
    fn every_file_of_the_assets_folder_is_embedded_and_nothing_else() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut on_disk = Vec::new();
        files_under(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|f| f.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn vendored_files_match_their_manifest() {
        let manifest: serde_json::Value = serde_json::from_slice(
            ASSETS
                .by_path
                .get("vendor/manifest.json")
                .map(|a| a.bytes)
                .unwrap_or_default(),
        )
        .unwrap_or_else(|e| panic!("manifest.json: {e}"));
        let entries = manifest.as_array().cloned().unwrap_or_default();
        let vendored: Vec<&str> = FILES
            .iter()
            .filter_map(|f| f.path.strip_prefix("vendor/"))
            .filter(|p| !p.starts_with("LICENSES/") && *p != "manifest.json")
            .collect();
        assert_eq!(entries.len(), vendored.len(), "{vendored:?}");
        for entry in entries {
            let file = entry["file"].as_str().unwrap_or_default();
            let asset = ASSETS
                .by_path
                .get(format!("vendor/{file}").as_str())
                .unwrap_or_else(|| panic!("{file} is in the manifest but not embedded"));
            assert_eq!(
                hex::encode(Sha256::digest(asset.bytes)),
                entry["sha256"].as_str().unwrap_or_default(),
                "{file} differs from the manifest's checksum"
            );
            let licence = entry["license_file"].as_str().unwrap_or_default();
            assert!(
                ASSETS
                    .by_path
                    .contains_key(format!("vendor/{licence}").as_str()),
                "{file}: no licence {licence}"
            );
            assert!(!entry["version"].as_str().unwrap_or_default().is_empty());
        }
    }

    #[test]
    fn assets_are_found_only_under_this_build() {
        let assets = &*ASSETS;
        let path = format!("{}/vendor/chart.umd.min.js", assets.build);
        let chart = assets.get(&path).unwrap_or_else(|| panic!("{path}"));
        assert_eq!(chart.content_type, "text/javascript; charset=utf-8");
        assert!(assets.get("000000000000/vendor/chart.umd.min.js").is_none());
        assert!(
            assets
                .get(&format!("{}/../Cargo.toml", assets.build))
                .is_none()
        );
        assert!(assets.get("vendor/chart.umd.min.js").is_none());
    }

    #[test]
    fn gzip_is_decompressible_and_smaller() {
        let asset = ASSETS
            .by_path
            .get("vendor/graphiql.min.js")
            .unwrap_or_else(|| panic!("graphiql"));
        let gzipped = asset.gzipped();
        assert!(gzipped.len() < asset.bytes.len() / 2);
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzipped), &mut back)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, asset.bytes);
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip(""));
    }
}
