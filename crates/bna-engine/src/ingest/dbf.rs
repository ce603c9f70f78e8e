//! Checks of a shapefile's `.dbf` attribute table before the `dbase` crate reads it.
//!
//! `dbase` 0.6 trusts the header: a header length below 33 bytes underflows into a huge
//! allocation ("capacity overflow"), a record count beyond the end of the file panics in
//! `read_exact(..).unwrap()`, and short fixed-size fields, malformed dates and out-of-range
//! date-times panic while decoding. Everything here makes those inputs errors instead.

use std::io::{Read, Seek, SeekFrom};

const HEADER_BYTES: u64 = 32;
const FIELD_DESCRIPTOR_BYTES: u64 = 32;
const FIELD_LIST_TERMINATOR: u8 = 0x0D;
/// The deletion flag of a record marked deleted (a live record has a space).
const DELETED: u8 = b'*';
/// Visual FoxPro files keep a 263-byte database backlink between the fields and the records.
const VISUAL_FOXPRO_BACKLINK_BYTES: u64 = 263;
/// Julian day number of 9999-12-31, the last date a dBase date-time can hold.
const LAST_JULIAN_DAY: i32 = 5_373_484;
const MILLISECONDS_PER_DAY: i32 = 86_400_000;

/// One column as declared in the header.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    kind: u8,
    length: u8,
}

/// Checks the header, the field list and (for date columns) every value of a `.dbf`, then
/// rewinds it. The error is a reason without the file name, e.g. "the header length is 0 …".
pub(crate) fn check_dbf<R: Read + Seek>(dbf: &mut R) -> Result<(), String> {
    let file_len = dbf.seek(SeekFrom::End(0)).map_err(unreadable)?;
    dbf.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let mut header = [0u8; HEADER_BYTES as usize];
    if file_len < HEADER_BYTES + 1 {
        return Err(format!(
            "the file is {file_len} bytes, too short for a dBase table (its header alone is 33); \
             export the shapefile again"
        ));
    }
    dbf.read_exact(&mut header).map_err(unreadable)?;
    let records = u64::from(u32::from_le_bytes([
        header[4], header[5], header[6], header[7],
    ]));
    let header_len = u64::from(u16::from_le_bytes([header[8], header[9]]));
    let declared_record_len = u64::from(u16::from_le_bytes([header[10], header[11]]));
    let backlink = if (0x30..=0x32).contains(&header[0]) {
        VISUAL_FOXPRO_BACKLINK_BYTES
    } else {
        0
    };
    let fields_end = header_len.saturating_sub(backlink + 1);
    if fields_end < HEADER_BYTES || header_len > file_len {
        return Err(format!(
            "the header says it is {header_len} bytes long, which is impossible for a file \
             of {file_len} bytes (at least {} are needed); the attribute table is damaged, export \
             the shapefile again",
            HEADER_BYTES + 1 + backlink
        ));
    }
    let field_count = (fields_end - HEADER_BYTES) / FIELD_DESCRIPTOR_BYTES;
    let mut fields = Vec::new();
    let mut descriptor = [0u8; FIELD_DESCRIPTOR_BYTES as usize];
    for _ in 0..field_count {
        dbf.read_exact(&mut descriptor).map_err(unreadable)?;
        fields.push(parse_field(&descriptor)?);
    }
    let mut terminator = [0u8; 1];
    dbf.read_exact(&mut terminator).map_err(unreadable)?;
    if terminator[0] != FIELD_LIST_TERMINATOR {
        return Err(
            "the column list is not terminated where its header length says; the attribute \
             table is damaged, export the shapefile again"
                .into(),
        );
    }
    let record_len = 1 + fields.iter().map(|f| u64::from(f.length)).sum::<u64>();
    // Some writers leave the deletion flag out of the declared length; dbase copes with that.
    if declared_record_len != record_len && declared_record_len + 1 != record_len {
        return Err(format!(
            "the header gives records of {declared_record_len} bytes but its columns add up \
             to {record_len}; the attribute table is damaged, export the shapefile again"
        ));
    }
    let needed = header_len + records * record_len;
    if needed > file_len {
        return Err(format!(
            "the header promises {records} records of {record_len} bytes, but the file ends \
             after {file_len} bytes ({needed} needed); it is truncated, export or download it \
             again"
        ));
    }
    check_records(dbf, &fields, header_len, records, record_len)?;
    dbf.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    Ok(())
}

fn unreadable(e: std::io::Error) -> String {
    format!("cannot be read ({e}); export the shapefile again")
}

/// One field descriptor, with the lengths `dbase` relies on for its fixed-size types.
fn parse_field(d: &[u8; FIELD_DESCRIPTOR_BYTES as usize]) -> Result<Field, String> {
    let name_end = d[..11].iter().position(|&b| b == 0).unwrap_or(11);
    let name = String::from_utf8_lossy(&d[..name_end]).trim().to_string();
    let field = Field {
        name,
        kind: d[11],
        length: d[16],
    };
    let required = match field.kind {
        b'C' | b'N' | b'F' => None,
        b'L' => Some(1),
        b'D' | b'I' | b'Y' | b'T' | b'B' => Some(fixed_length(field.kind)),
        b'M' if field.length >= 4 => None,
        b'M' => Some(4),
        other => {
            return Err(format!(
                "column {:?} has type {:?}, which is not a dBase type bna can read; \
                 convert it to text or a number and export again",
                field.name,
                char::from(other)
            ))
        }
    };
    match required {
        Some(n) if field.length != n => Err(format!(
            "column {:?} is {} bytes wide, but its type {:?} takes {n}; the attribute \
             table is damaged, export the shapefile again",
            field.name,
            field.length,
            char::from(field.kind)
        )),
        _ => Ok(field),
    }
}

fn fixed_length(kind: u8) -> u8 {
    match kind {
        b'D' | b'Y' | b'T' | b'B' => 8,
        _ => 4,
    }
}

/// Every record, for what `dbase` would otherwise get wrong. A record marked deleted makes it
/// skip without counting, so it reads past the last record (and the shapes and records of the
/// shapefile fall out of step); dates and date-times are decoded by slicing and unchecked
/// arithmetic, so their values are checked here (text and numbers need no such care).
fn check_records<R: Read + Seek>(
    dbf: &mut R,
    fields: &[Field],
    header_len: u64,
    records: u64,
    record_len: u64,
) -> Result<(), String> {
    let mut offset = 1usize;
    let dated: Vec<(usize, &Field)> = fields
        .iter()
        .map(|f| {
            let at = offset;
            offset += usize::from(f.length);
            (at, f)
        })
        .filter(|(_, f)| matches!(f.kind, b'D' | b'T'))
        .collect();
    dbf.seek(SeekFrom::Start(header_len)).map_err(unreadable)?;
    let mut reader = std::io::BufReader::new(dbf);
    let mut record = vec![0u8; record_len as usize];
    for index in 0..records {
        reader.read_exact(&mut record).map_err(unreadable)?;
        if record[0] == DELETED {
            return Err(format!(
                "record {index} is marked deleted, which bna cannot pair with its shape; export \
                 the shapefile again (exports leave deleted records out)"
            ));
        }
        for &(at, field) in &dated {
            let value = &record[at..at + usize::from(field.length)];
            let ok = if field.kind == b'D' {
                is_date_text(value)
            } else {
                is_date_time(value)
            };
            if !ok {
                return Err(format!(
                    "record {index} has an invalid value in date column {:?}; fix or drop the \
                     column and export again",
                    field.name
                ));
            }
        }
    }
    Ok(())
}

/// `YYYYMMDD` in ASCII digits, or blank (spaces, or cut short by a NUL).
fn is_date_text(value: &[u8]) -> bool {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    let trimmed: Vec<u8> = value[..end]
        .iter()
        .copied()
        .filter(|&b| b != b' ')
        .collect();
    trimmed.is_empty() || (trimmed.len() == 8 && trimmed.iter().all(u8::is_ascii_digit))
}

/// A Julian day number and milliseconds since midnight, both in range.
fn is_date_time(value: &[u8]) -> bool {
    let day = i32::from_le_bytes([value[0], value[1], value[2], value[3]]);
    let ms = i32::from_le_bytes([value[4], value[5], value[6], value[7]]);
    (0..=LAST_JULIAN_DAY).contains(&day) && (0..MILLISECONDS_PER_DAY).contains(&ms)
}

/// Checks `bytes` as a `.dbf` and, when they pass, reads every record with `dbase`: the
/// contract the dbf fuzz target holds the checks to (an error or records, never a panic).
/// Returns the number of records read.
pub fn read_dbf_records(bytes: Vec<u8>) -> Result<usize, String> {
    let mut source = std::io::Cursor::new(bytes);
    check_dbf(&mut source)?;
    let mut reader = shapefile::dbase::Reader::new(source).map_err(|e| dbase_reason(&e))?;
    let mut n = 0;
    for record in reader.iter_records() {
        record.map_err(|e| dbase_reason(&e))?;
        n += 1;
    }
    Ok(n)
}

/// A `dbase` error as a reason a person can act on (its `Display` is a debug-like struct).
pub(crate) fn dbase_reason(e: &shapefile::dbase::Error) -> String {
    use shapefile::dbase::ErrorKind as K;
    let what = match e.kind() {
        K::IoError(io) => format!("cannot be read ({io})"),
        K::ParseFloatError(_) | K::ParseIntError(_) => "holds a number that cannot be read".into(),
        K::InvalidFieldType(c) => format!("has a column of unknown type {c:?}"),
        K::MissingMemoFile | K::ErrorOpeningMemoFile(_) => {
            "has memo columns whose .dbt/.fpt file bna does not read".into()
        }
        K::UnsupportedCodePage(_) => "uses a code page bna cannot decode".into(),
        _ => "holds a value bna cannot decode".into(),
    };
    let field = e
        .field()
        .as_ref()
        .map(|f| format!(", column {:?}", f.name()))
        .unwrap_or_default();
    format!(
        "record {}{field} {what}; export the shapefile again",
        e.record_num()
    )
}

/// A `shapefile` error as a plain reason (its `Display` falls back to `Debug` for several
/// variants, which printed Rust structs at the user).
pub(crate) fn shapefile_reason(e: &shapefile::Error) -> String {
    use shapefile::Error as E;
    match e {
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the .shp ends in the middle of a record; it is truncated, export or download it again"
                .into()
        }
        E::IoError(io) => format!("the .shp cannot be read ({io}); export the shapefile again"),
        E::InvalidFileCode(_) => {
            "the .shp does not start like a shapefile; pass the .shp (or the .zip holding it)"
                .into()
        }
        E::InvalidShapeType(code) => {
            format!("the .shp holds an unknown shape type code {code}; export the shapefile again")
        }
        E::MismatchShapeType { requested, actual } => format!(
            "the .shp holds {actual} shapes where {requested} shapes were expected; export the \
             shapefile again"
        ),
        E::DbaseError(d) => dbase_reason(d),
        E::MissingDbf => "the .dbf attribute file is missing; put it next to the .shp".into(),
        E::MissingIndexFile => "the .shx index file is missing; put it next to the .shp".into(),
        E::InvalidPatchType(_) | E::InvalidShapeRecordSize => {
            "the .shp has a damaged record; export the shapefile again".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bna_test_support::made::{dbf, patched as with};

    #[test]
    fn damaged_tables_are_errors_and_good_ones_read() {
        let good = dbf(
            &[("GEOID20", b'C', 15), ("POP20", b'N', 9)],
            &[b"110010001011000       12", b"110010001011001        0"],
        );
        let dated = |value: &[u8]| dbf(&[("DAY", b'D', 8)], &[value]);
        let stamped = |day: i32, ms: i32| {
            let mut v = day.to_le_bytes().to_vec();
            v.extend(ms.to_le_bytes());
            dbf(&[("AT", b'T', 8)], &[&v])
        };
        // (name, bytes, Ok(records) or an error fragment)
        let cases: Vec<(&str, Vec<u8>, Result<usize, &str>)> = vec![
            ("good", good.clone(), Ok(2)),
            (
                "64 zero bytes",
                vec![0; 64],
                Err("header says it is 0 bytes"),
            ),
            ("too short", vec![3; 20], Err("too short")),
            (
                "header length 0",
                with(good.clone(), 8, &[0, 0]),
                Err("impossible"),
            ),
            (
                "header beyond the file",
                with(good.clone(), 8, &[0xff, 0xff]),
                Err("impossible"),
            ),
            (
                "more records than bytes",
                with(good.clone(), 4, &1000u32.to_le_bytes()),
                Err("promises 1000 records"),
            ),
            (
                "u32::MAX records",
                with(good.clone(), 4, &u32::MAX.to_le_bytes()),
                Err("truncated"),
            ),
            (
                "record length disagrees",
                with(good.clone(), 10, &[200, 0]),
                Err("add up to 25"),
            ),
            (
                "terminator missing",
                with(good.clone(), 96, &[0]),
                Err("not terminated"),
            ),
            (
                "unknown type",
                dbf(&[("X", b'G', 10)], &[b"0123456789"]),
                Err("type 'G'"),
            ),
            (
                "short integer",
                dbf(&[("N", b'I', 2)], &[b"12"]),
                Err("takes 4"),
            ),
            (
                "empty logical",
                dbf(&[("L", b'L', 0)], &[b""]),
                Err("takes 1"),
            ),
            (
                "short memo",
                dbf(&[("M", b'M', 2)], &[b"  "]),
                Err("takes 4"),
            ),
            ("date", dated(b"20200401"), Ok(1)),
            ("blank date", dated(b"        "), Ok(1)),
            ("short date", dated(b"2020    "), Err("date column \"DAY\"")),
            (
                "non-ASCII date",
                dated(b"20\xc3\xa9\xc3\xa9001"),
                Err("invalid value"),
            ),
            ("date-time", stamped(2_459_000, 3_600_000), Ok(1)),
            (
                "negative time",
                stamped(2_459_000, -1),
                Err("date column \"AT\""),
            ),
            ("huge day", stamped(i32::MAX, 0), Err("invalid value")),
            (
                "a deleted record (dbase would then read past the last one)",
                with(good.clone(), 97 + 25, b"*"),
                Err("record 1 is marked deleted"),
            ),
        ];
        for (name, bytes, want) in cases {
            match (read_dbf_records(bytes), want) {
                (Ok(n), Ok(w)) => assert_eq!(n, w, "{name}"),
                (Err(e), Err(frag)) => {
                    assert!(e.contains(frag), "{name}: {e}");
                    assert!(!e.contains(" { "), "{name}: debug text in {e}");
                }
                (got, _) => panic!("{name}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn a_visual_foxpro_header_needs_room_for_its_backlink() {
        let mut vfp = dbf(&[("A", b'C', 1)], &[b"x"]);
        vfp[0] = 0x30;
        let e = read_dbf_records(vfp).unwrap_err();
        assert!(e.contains("at least 296"), "{e}");
    }
}
