//! Is a downloaded file what was asked for? A captive portal's login page, a proxy's error
//! page or a transfer cut short without a length must never enter the cache as a block zip
//! or a jobs file, so every file is checked before it is adopted and whenever it is reused.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::overpass;

/// What a file of the cache must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A TIGER/Line zip: its central directory opens and it holds a `.shp` and a `.dbf`.
    ShapefileZip,
    /// A LODES file: gzip that decompresses to the end into a CSV with the LODES header.
    LodesCsvGz,
    /// An Overpass answer: complete OSM XML under an `<osm>` root, without an error remark.
    OverpassXml,
}

/// Why a file was not accepted.
#[derive(Debug)]
pub enum Rejection {
    /// Not the file asked for; the reason says what it is instead.
    NotTheFile(String),
    /// The Overpass API answered but gave up on the query: its remark.
    OverpassGaveUp(String),
    /// Valid OSM XML without a single node: nothing to analyse.
    NoData,
    Io(std::io::Error),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::NotTheFile(r) => f.write_str(r),
            Rejection::OverpassGaveUp(r) => write!(f, "the Overpass API gave up: {r}"),
            Rejection::NoData => f.write_str("OSM XML without a single node, no data at all"),
            Rejection::Io(e) => write!(f, "cannot read it: {e}"),
        }
    }
}

impl From<std::io::Error> for Rejection {
    fn from(e: std::io::Error) -> Self {
        Rejection::Io(e)
    }
}

/// Decompressed size past which a "LODES file" is a compression bomb, not jobs: the largest
/// state (California) is under 200 MB.
const LODES_MAX_UNCOMPRESSED: u64 = 4 << 30;

/// Columns every LODES WAC file starts with (LODES 8 technical document, table 2).
const LODES_HEADER: [&str; 2] = ["w_geocode", "C000"];

pub fn verify(path: &Path, content: Content) -> Result<(), Rejection> {
    let head = head_of(path)?;
    match content {
        Content::ShapefileZip => shapefile_zip(path, &head),
        Content::LodesCsvGz => lodes_csv_gz(path, &head),
        Content::OverpassXml => overpass::check_answer(path, &head),
    }
}

/// The first 512 bytes of a file (fewer when it is shorter), enough to tell what it is.
pub fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    File::open(path)?.take(512).read_to_end(&mut head)?;
    Ok(head)
}

/// What the first bytes of a file look like, for a message: its first line when it is text
/// (a web page, a login prompt), else its first bytes in hex.
pub fn describe_start(head: &[u8]) -> String {
    if head.is_empty() {
        return "it is empty".into();
    }
    let text = String::from_utf8_lossy(head);
    let printable = text
        .chars()
        .take(200)
        .all(|c| !c.is_control() || c.is_whitespace());
    if printable {
        let first: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(60)
            .collect();
        let looks_like = if first.to_ascii_lowercase().contains("<html")
            || first.to_ascii_lowercase().starts_with("<!doctype")
        {
            "a web page"
        } else {
            "text"
        };
        format!("it is {looks_like} starting \"{first}\"")
    } else {
        let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("it starts with the bytes {}", hex.join(" "))
    }
}

fn shapefile_zip(path: &Path, head: &[u8]) -> Result<(), Rejection> {
    if !head.starts_with(b"PK\x03\x04") {
        return Err(Rejection::NotTheFile(format!(
            "not a zip file: {}",
            describe_start(head)
        )));
    }
    let zip = zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(|e| {
        Rejection::NotTheFile(format!(
            "the zip file is incomplete or damaged ({e}); the transfer may have been cut short"
        ))
    })?;
    let has = |ext: &str| {
        zip.file_names()
            .any(|n| n.to_ascii_lowercase().ends_with(ext))
    };
    if !(has(".shp") && has(".dbf")) {
        return Err(Rejection::NotTheFile(
            "the zip file holds no shapefile (.shp and .dbf)".into(),
        ));
    }
    Ok(())
}

fn lodes_csv_gz(path: &Path, head: &[u8]) -> Result<(), Rejection> {
    if !head.starts_with(&[0x1f, 0x8b]) {
        return Err(Rejection::NotTheFile(format!(
            "not a gzip file: {}",
            describe_start(head)
        )));
    }
    let damaged = |e: std::io::Error| {
        Rejection::NotTheFile(format!(
            "the gzip data is incomplete or damaged ({e}); the transfer may have been cut short"
        ))
    };
    let gz = flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path)?));
    let mut csv = BufReader::new(gz.take(LODES_MAX_UNCOMPRESSED + 1));
    let mut header = Vec::new();
    (&mut csv)
        .take(64 << 10)
        .read_until(b'\n', &mut header)
        .map_err(damaged)?;
    let header = String::from_utf8_lossy(&header);
    let columns: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    if !LODES_HEADER.iter().all(|c| columns.contains(c)) {
        return Err(Rejection::NotTheFile(format!(
            "not a LODES file: its first line lacks {} ({})",
            LODES_HEADER.join(" and "),
            describe_start(header.as_bytes())
        )));
    }
    let rest = std::io::copy(&mut csv, &mut std::io::sink()).map_err(damaged)?;
    if rest + header.len() as u64 > LODES_MAX_UNCOMPRESSED {
        return Err(Rejection::NotTheFile(format!(
            "it decompresses to more than {} GiB, far more than any LODES file",
            LODES_MAX_UNCOMPRESSED >> 30
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for n in names {
            z.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b"0123456789").unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    const PORTAL: &[u8] = b"<html><body>please log in to the wifi</body></html>\n\n\n\n\n\n";

    #[test]
    fn files_are_sniffed_before_they_are_adopted() {
        let lodes = gz(b"w_geocode,C000,CA01\n110010001001000,5,1\n");
        let shp = zip_with(&["t.shp", "t.shx", "t.dbf", "t.prj"]);
        let xml = b"<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n<node id=\"1\" lat=\"0\" lon=\"0\"/>\n</osm>\n";
        let cases: Vec<(&str, Content, Vec<u8>, Option<&str>)> = vec![
            // (case, expected content, bytes, None = accepted / Some(words of the reason))
            ("good zip", Content::ShapefileZip, shp.clone(), None),
            ("captive portal as zip", Content::ShapefileZip, PORTAL.to_vec(), Some("web page starting \"<html><body>please log in")),
            ("empty", Content::ShapefileZip, vec![], Some("it is empty")),
            ("zip cut short", Content::ShapefileZip, shp[..shp.len() - 30].to_vec(), Some("incomplete or damaged")),
            ("zip without shapefile", Content::ShapefileZip, zip_with(&["readme.txt"]), Some("no shapefile")),
            ("good LODES", Content::LodesCsvGz, lodes.clone(), None),
            ("portal as LODES", Content::LodesCsvGz, b"please log in to the wifi".to_vec(), Some("not a gzip file: it is text starting \"please log in")),
            ("LODES cut short", Content::LodesCsvGz, lodes[..lodes.len() - 10].to_vec(), Some("incomplete or damaged")),
            ("gzip of something else", Content::LodesCsvGz, gz(b"<html>oops</html>"), Some("not a LODES file")),
            ("binary junk", Content::LodesCsvGz, vec![0, 1, 2, 3, 255], Some("bytes 00 01 02 03 ff")),
            ("good OSM XML", Content::OverpassXml, xml.to_vec(), None),
            ("XML cut short", Content::OverpassXml, xml[..xml.len() - 8].to_vec(), Some("cut short")),
            ("portal as XML", Content::OverpassXml, PORTAL.to_vec(), Some("not OSM XML")),
            ("other XML root", Content::OverpassXml, b"<?xml version=\"1.0\"?><error>busy</error>".to_vec(), Some("not OSM XML")),
            ("Overpass timed out", Content::OverpassXml,
                b"<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n<meta osm_base=\"x\"/>\n  <remark> runtime error: Query timed out in \"query\" at line 3 after 2 seconds. </remark>\n\n</osm>\n".to_vec(),
                Some("Query timed out")),
            ("Overpass info remark is fine", Content::OverpassXml,
                b"<osm><node id=\"1\" lat=\"0\" lon=\"0\"/><remark>runtime remark: nothing</remark></osm>".to_vec(), None),
            ("Overpass answer with no data", Content::OverpassXml,
                b"<osm version=\"0.6\" generator=\"Overpass API\">\n</osm>".to_vec(), Some("without a single node")),
            ("Overpass answer with only a meta element", Content::OverpassXml,
                b"<?xml version=\"1.0\"?>\n<osm version=\"0.6\"><meta osm_base=\"x\"/><note>n</note></osm>\n".to_vec(), Some("no data at all")),
            ("a nested node does not count", Content::OverpassXml,
                b"<osm><way id=\"1\"><node id=\"2\"/></way></osm>".to_vec(), Some("without a single node")),
        ];
        let tmp = tempfile::tempdir().unwrap();
        for (case, content, bytes, want) in cases {
            let p = tmp.path().join("f");
            std::fs::write(&p, &bytes).unwrap();
            match (verify(&p, content), want) {
                (Ok(()), None) => {}
                (Err(r), Some(words)) => {
                    let msg = r.to_string();
                    assert!(msg.contains(words), "{case}: {msg}");
                }
                (got, _) => panic!("{case}: unexpected {got:?}"),
            }
        }
    }
}
