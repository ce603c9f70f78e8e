//! Zipped shapefiles (TIGER/Line downloads): each member is streamed out of the archive under a
//! hard limit on the bytes actually inflated, into memory while small and a temporary file
//! beyond that, so neither a lying directory nor a zip bomb can exhaust memory.

use std::io::{BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use tempfile::SpooledTempFile;

use super::boundary::ShapefileData;
use super::IngestError;

/// Members up to this size stay in memory; larger ones spill to a temporary file.
const IN_MEMORY_MEMBER_BYTES: usize = 8 << 20;
/// Deflate cannot exceed ~1032:1; TIGER members compress 2–5:1 (DC's: .shp 1.7, .dbf 4.9).
/// 100:1 leaves a wide margin for real files and stops a bomb early.
const MAX_INFLATION_RATIO: u64 = 100;
/// Below this size the ratio is not applied: tiny members (a blank `.dbf`) compress absurdly.
const RATIO_FREE_BYTES: u64 = 16 << 20;
const COPY_CHUNK_BYTES: usize = 1 << 16;

/// The bytes of one shapefile part, readable and seekable wherever they live.
pub enum PartSource {
    Memory(Cursor<Vec<u8>>),
    Spooled(BufReader<SpooledTempFile>),
}

impl PartSource {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        PartSource::Memory(Cursor::new(bytes))
    }
}

impl Read for PartSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            PartSource::Memory(c) => c.read(buf),
            PartSource::Spooled(s) => s.read(buf),
        }
    }
}

impl Seek for PartSource {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            PartSource::Memory(c) => c.seek(pos),
            PartSource::Spooled(s) => s.seek(pos),
        }
    }
}

/// The most a member of `compressed` bytes may inflate to.
pub(crate) fn member_limit(compressed: u64) -> u64 {
    compressed
        .saturating_mul(MAX_INFLATION_RATIO)
        .clamp(RATIO_FREE_BYTES, crate::params::MAX_ZIP_MEMBER_BYTES)
}

/// A zip holding exactly one shapefile (at any depth), as the TIGER/Line downloads are.
pub(crate) fn read_zipped_shapefile(
    path: &Path,
    bytes: Vec<u8>,
) -> Result<ShapefileData, IngestError> {
    let invalid = |reason: String| IngestError::invalid(path, reason);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        invalid(format!(
            "not a readable zip archive ({e}); download or zip it again"
        ))
    })?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let shps: Vec<&String> = names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".shp"))
        .collect();
    let shp_name = match shps.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(invalid(format!(
                "the zip contains no .shp file (it has: {}); pass a zip holding one shapefile",
                names.join(", ")
            )))
        }
        many => {
            return Err(invalid(format!(
                "the zip contains several shapefiles ({}); unzip it and pass one .shp",
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let stem = &shp_name[..shp_name.len() - 4];
    let mut member = |ext: &str| -> Result<Option<PartSource>, IngestError> {
        let wanted = format!("{stem}.{ext}").to_ascii_lowercase();
        match names.iter().find(|n| n.to_ascii_lowercase() == wanted) {
            // Members are read by name and never extracted under their own name, so a member
            // name like `../../x` cannot escape anywhere.
            Some(name) => unpack_member(path, &mut zip, name).map(Some),
            None => Ok(None),
        }
    };
    let shp = member("shp")?.unwrap_or_else(|| PartSource::from_bytes(Vec::new()));
    let dbf = member("dbf")?;
    let prj = match member("prj")? {
        Some(mut p) => {
            let mut text = Vec::new();
            p.read_to_end(&mut text)
                .map_err(|e| invalid(format!("cannot read the .prj from the zip ({e})")))?;
            Some(String::from_utf8_lossy(&text).into_owned())
        }
        None => None,
    };
    Ok(ShapefileData {
        member: shp_name,
        shp,
        dbf,
        prj,
    })
}

/// Inflates one member, counting the bytes that actually come out: the directory's sizes are
/// only the archive's claim.
fn unpack_member(
    path: &Path,
    zip: &mut zip::ZipArchive<Cursor<Vec<u8>>>,
    name: &str,
) -> Result<PartSource, IngestError> {
    let invalid = |reason: String| IngestError::invalid(path, reason);
    let damaged = |detail: String| {
        invalid(format!(
            "{name} in the zip is damaged ({detail}); download or zip it again"
        ))
    };
    let mut f = zip
        .by_name(name)
        .map_err(|e| damaged(format!("cannot open it: {e}")))?;
    let declared = f.size();
    let compressed = f.compressed_size();
    let limit = member_limit(compressed);
    let too_big = |size: String| {
        invalid(format!(
            "{name} in the zip unpacks to {size} bytes, more than the {limit} allowed for a \
             member of {compressed} compressed bytes (a zip bomb?); unzip it yourself and pass \
             the .shp"
        ))
    };
    if declared > limit {
        return Err(too_big(declared.to_string()));
    }
    let mut out = SpooledTempFile::new(IN_MEMORY_MEMBER_BYTES);
    let temp_failed = |e: std::io::Error| {
        IngestError::invalid(
            path,
            format!(
                "cannot unpack {name} into the temporary folder {} ({e}); free some space there \
                 or set TMPDIR to a folder with room",
                std::env::temp_dir().display()
            ),
        )
    };
    let mut buf = vec![0u8; COPY_CHUNK_BYTES];
    let mut inflated: u64 = 0;
    loop {
        let n = f.read(&mut buf).map_err(|e| damaged(e.to_string()))?;
        if n == 0 {
            break;
        }
        inflated += n as u64;
        if inflated > limit {
            return Err(too_big(format!("more than {limit}")));
        }
        out.write_all(&buf[..n]).map_err(temp_failed)?;
    }
    if inflated != declared {
        return Err(damaged(format!(
            "it unpacks to {inflated} bytes, but the zip's directory says {declared}"
        )));
    }
    out.seek(SeekFrom::Start(0)).map_err(temp_failed)?;
    Ok(PartSource::Spooled(BufReader::new(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_test_support::made::{lie_about_sizes, zip_of};

    #[test]
    fn member_limits() {
        // (compressed bytes, limit)
        let cases = [
            (0, RATIO_FREE_BYTES),
            (1_000, RATIO_FREE_BYTES),
            (1 << 20, 100 << 20),
            (5_900_000, 590_000_000),
            (u64::MAX, crate::params::MAX_ZIP_MEMBER_BYTES),
        ];
        for (compressed, want) in cases {
            assert_eq!(member_limit(compressed), want, "{compressed}");
        }
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        // 64 MiB of zeros deflate to ~64 KiB: 1000:1, far beyond the ratio.
        let zeros = vec![0u8; 64 << 20];
        let bytes = zip_of(&[("b.shp", &zeros), ("b.dbf", b"x")]);
        let Err(e) = read_zipped_shapefile(Path::new("bomb.zip"), bytes) else {
            panic!("a bomb was accepted");
        };
        let e = e.to_string();
        assert!(e.contains("bomb.zip") && e.contains("zip bomb"), "{e}");
    }

    #[test]
    fn the_bytes_inflated_are_bounded_not_only_the_declared_size() {
        let zeros = vec![0u8; 64 << 20];
        let bytes = lie_about_sizes(zip_of(&[("b.shp", &zeros)]), 1000);
        let Err(e) = read_zipped_shapefile(Path::new("liar.zip"), bytes) else {
            panic!("a lying bomb was accepted");
        };
        let e = e.to_string();
        assert!(e.contains("more than 16777216"), "{e}");
    }

    #[test]
    fn members_are_read_back_whole() {
        let shp: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let bytes = zip_of(&[("dir/a.shp", &shp), ("dir/a.prj", b"GEOGCS[\"x\"]")]);
        let mut data = read_zipped_shapefile(Path::new("a.zip"), bytes).unwrap();
        let mut back = Vec::new();
        data.shp.read_to_end(&mut back).unwrap();
        assert_eq!(back, shp);
        assert!(data.dbf.is_none());
        assert_eq!(data.prj.as_deref(), Some("GEOGCS[\"x\"]"));
    }
}
