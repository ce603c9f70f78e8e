//! Files made byte by byte for tests of damaged input: a dBase table, a zip, and the edits that
//! break them, so each test says what is wrong with its file instead of committing one.

use std::io::{Cursor, Write};

/// A dBase III table with the given columns (name, type, length) and records (each the
/// concatenated field bytes, without the deletion flag).
pub fn dbf<R: AsRef<[u8]>>(columns: &[(&str, u8, u8)], records: &[R]) -> Vec<u8> {
    let header_len = 32 + 32 * columns.len() + 1;
    let record_len = 1 + columns.iter().map(|c| usize::from(c.2)).sum::<usize>();
    let mut out = vec![0u8; 32];
    out[0] = 0x03;
    out[4..8].copy_from_slice(&(records.len() as u32).to_le_bytes());
    out[8..10].copy_from_slice(&(header_len as u16).to_le_bytes());
    out[10..12].copy_from_slice(&(record_len as u16).to_le_bytes());
    for (name, kind, len) in columns {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = *kind;
        d[16] = *len;
        out.extend(d);
    }
    // The field list terminator.
    out.push(0x0D);
    for r in records {
        out.push(b' ');
        out.extend(r.as_ref());
    }
    out
}

/// A zip holding `members` (name, bytes), deflated.
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Sets every uncompressed size the zip states (local headers and central directory), as a
/// zip bomb does to slip past a size check.
pub fn lie_about_sizes(mut zip: Vec<u8>, size: u32) -> Vec<u8> {
    for (signature, offset) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
        let starts: Vec<usize> = zip
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == signature)
            .map(|(i, _)| i)
            .collect();
        for at in starts {
            zip[at + offset..at + offset + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
    zip
}

/// `bytes` with `value` written at `at`.
pub fn patched(mut bytes: Vec<u8>, at: usize, value: &[u8]) -> Vec<u8> {
    bytes[at..at + value.len()].copy_from_slice(value);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_table_states_its_own_sizes() {
        let t = dbf(&[("GEOID20", b'C', 15), ("POP20", b'N', 5)], &[[b' '; 20]]);
        assert_eq!(t[0], 0x03);
        assert_eq!(u32::from_le_bytes(t[4..8].try_into().unwrap()), 1);
        let header = usize::from(u16::from_le_bytes([t[8], t[9]]));
        let record = usize::from(u16::from_le_bytes([t[10], t[11]]));
        assert_eq!((header, record), (32 + 64 + 1, 21));
        assert_eq!(t.len(), header + record);
        assert_eq!(patched(vec![0; 4], 1, b"ab"), b"\0ab\0");
    }

    #[test]
    fn a_zip_can_lie_about_its_sizes() {
        let z = lie_about_sizes(zip_of(&[("a.txt", b"hello")]), 7);
        let mut archive = zip::ZipArchive::new(Cursor::new(z)).unwrap();
        assert_eq!(archive.by_index(0).unwrap().size(), 7);
    }
}
