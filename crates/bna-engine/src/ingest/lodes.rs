//! Reading a LODES jobs table (WAC or OD, `.csv` or `.csv.gz`) into jobs per workplace block,
//! refusing rows that make no sense and warning about files that hold nothing useful.
//! Kept free of the geometry code so the LODES fuzz target can compile it alone.

use std::cell::RefCell;
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Read};
use std::path::Path;
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

use crate::params::{MAX_LODES_BLANK_LINES_IN_A_ROW, MAX_LODES_LINE_BYTES, MAX_LODES_TEXT_BYTES};

use super::IngestError;

/// More jobs than any census block holds (the largest workplaces, the Pentagon or a big
/// hospital campus, count tens of thousands): a higher count is a damaged or shifted column.
pub const MAX_JOBS_PER_BLOCK: f64 = 1_000_000.0;

/// Jobs per workplace block and what the reader noticed without refusing the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobsTable {
    /// Jobs by 15-digit block GEOID (`w_geocode`).
    pub jobs: HashMap<String, f64>,
    /// One line each, naming the file.
    pub warnings: Vec<String>,
}

/// The LODES table in `bytes` (gzip detected by its magic bytes, not the name); `path` names
/// the file in messages. The entry point of the LODES fuzz target.
///
/// - WAC (`w_geocode`, `C000`): C000 per block, one row per block;
/// - OD (`w_geocode`, `h_geocode`, `S000`): Σ S000 by `w_geocode`, as the reference's
///   `census_block_jobs.sql` does, one row per (workplace, home) pair.
pub fn parse_jobs(path: &Path, bytes: Vec<u8>) -> Result<JobsTable, IngestError> {
    read_jobs(path, std::io::Cursor::new(bytes))
}

/// [`parse_jobs`] on a stream: the file is never held whole. Memory stays bounded whatever the
/// content: decompressed text is capped at [`MAX_LODES_TEXT_BYTES`], a line at
/// [`MAX_LODES_LINE_BYTES`], blank lines in a row at [`MAX_LODES_BLANK_LINES_IN_A_ROW`], and a
/// NUL byte stops the reading at once (see [`TextGuard`]).
pub(crate) fn read_jobs<R: BufRead + 'static>(
    path: &Path,
    mut input: R,
) -> Result<JobsTable, IngestError> {
    let invalid = |reason: String| IngestError::invalid(path, reason);
    let gzip = input
        .fill_buf()
        .map_err(|e| IngestError::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    let text: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(input))
    } else {
        Box::new(input)
    };
    let blank_lines = Rc::new(RefCell::new(BlankLines::default()));
    let counted = BlankLineCounter {
        inner: text,
        seen: Rc::clone(&blank_lines),
    };
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(counted);
    let headers = csv
        .headers()
        .map_err(|e| match blank_lines.borrow_mut().refused.take() {
            Some(reason) => invalid(reason),
            None => invalid(format!(
                "cannot read the CSV header ({e}); download the file again"
            )),
        })?
        .clone();
    let find = |name: &str| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    if headers
        .iter()
        .any(|h| h.chars().any(|c| c.is_control() || c == '\u{FFFD}'))
    {
        return Err(invalid(
            "is not a CSV text file (its first line is not a header of column names); pass the \
             LODES WAC or OD .csv or .csv.gz"
                .into(),
        ));
    }
    let columns = || headers.iter().collect::<Vec<_>>().join(", ");
    let geocode = find("w_geocode").ok_or_else(|| {
        invalid(format!(
            "no w_geocode column: expected a LODES WAC or OD file; the columns are: {}",
            columns()
        ))
    })?;
    // WAC first: an OD file has no C000, a WAC file no S000.
    let (count, count_name, home) = match (find("C000"), find("S000")) {
        (Some(i), _) => (i, "C000", None),
        (None, Some(i)) => (i, "S000", find("h_geocode")),
        (None, None) => {
            return Err(invalid(format!(
                "no job count column: expected C000 (LODES WAC) or S000 (LODES OD); the \
                 columns are: {}",
                columns()
            )))
        }
    };

    let mut table = JobsTable::default();
    let mut first_line_of_key: HashMap<u64, u64> = HashMap::new();
    let mut rows = 0u64;
    let mut skipped = Skipped::default();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(match blank_lines.borrow_mut().refused.take() {
                    Some(reason) => invalid(reason),
                    None => invalid(format!("malformed CSV ({e}); download the file again")),
                })
            }
        }
        let csv_line = record.position().map(|p| p.line()).unwrap_or(0);
        skipped.pass(&mut blank_lines.borrow_mut(), csv_line);
        let line = csv_line + skipped.count;
        rows += 1;
        let code = record.get(geocode).unwrap_or("").trim();
        if code.is_empty() {
            return Err(invalid(format!(
                "line {line}: w_geocode is empty; every row needs its workplace block"
            )));
        }
        let raw = record.get(count).unwrap_or("").trim();
        let n = job_count(raw).map_err(|e| invalid(format!("line {line}: {count_name} {e}")))?;
        let code = normalise_geocode(code);
        let key = match home {
            Some(h) => row_key(&[
                &code,
                &normalise_geocode(record.get(h).unwrap_or("").trim()),
            ]),
            None => row_key(&[&code]),
        };
        match first_line_of_key.entry(key) {
            Entry::Occupied(first) => {
                return Err(invalid(format!(
                    "line {line} repeats the {} of line {}, which would count its jobs twice; \
                     remove the duplicate row",
                    if home.is_some() {
                        "w_geocode and h_geocode"
                    } else {
                        "w_geocode"
                    },
                    first.get()
                )))
            }
            Entry::Vacant(v) => {
                v.insert(line);
            }
        }
        *table.jobs.entry(code).or_insert(0.0) += n;
    }
    if rows == 0 {
        return Err(invalid(
            "the file has a header but no rows of jobs; download the LODES file again".into(),
        ));
    }
    let display = path.display();
    if let Some(first) = skipped.first_line {
        table.warnings.push(format!(
            "{display}: {} blank lines between rows were skipped (the first at line {first}); \
             check that the file was not cut or joined by hand",
            skipped.count
        ));
    }
    if table.jobs.values().all(|&n| n == 0.0) {
        table.warnings.push(format!(
            "{display}: all {rows} rows have 0 jobs in {count_name}; check that this is the right \
             LODES file (job type JT00, segment S000)"
        ));
    }
    Ok(table)
}

/// A job count: a finite number from 0 to [`MAX_JOBS_PER_BLOCK`]. The reason completes
/// "line 3: C000 …".
pub(crate) fn job_count(raw: &str) -> Result<f64, String> {
    let n: f64 = raw
        .parse()
        .map_err(|_| format!("\"{raw}\" is not a number; fix the row"))?;
    if !n.is_finite() {
        return Err(format!("\"{raw}\" is not a number of jobs; fix the row"));
    }
    if n < 0.0 {
        return Err(format!(
            "is {raw}; a job count cannot be negative, fix the row"
        ));
    }
    if n > MAX_JOBS_PER_BLOCK {
        return Err(format!(
            "is {raw}, more than the {MAX_JOBS_PER_BLOCK} jobs any block holds; fix the row"
        ));
    }
    // LODES counts jobs, always whole numbers: a fraction is a shifted or edited column.
    if n.fract() != 0.0 {
        return Err(format!(
            "is {raw}; LODES job counts are whole numbers, fix the row"
        ));
    }
    Ok(n)
}

/// A row's identity for the duplicate check: a hash, not the strings, so that statewide OD
/// files (tens of millions of pairs) stay affordable; a collision (~n²/2⁶⁵) is negligible.
fn row_key(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// LODES geocodes are 15-digit block GEOIDs; a spreadsheet round trip drops the leading zero
/// of states 01–09, which would silently unmatch every block, so pad digit strings back.
pub(crate) fn normalise_geocode(code: &str) -> String {
    if code.len() < 15 && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("{code:0>15}")
    } else {
        code.to_string()
    }
}

/// Blank lines seen in the bytes the CSV reader has pulled so far: `csv` skips them silently
/// and leaves them out of its line numbers, which must name the line a person sees.
#[derive(Default)]
struct BlankLines {
    newlines: u64,
    blank: u64,
    /// Decompressed bytes read, bytes of the current line, blank lines in a row: the bounds
    /// that keep memory and time finite on content that is no CSV (a gigabyte of newlines
    /// would otherwise queue a gigabyte of entries in `ahead`).
    total: u64,
    line_bytes: u64,
    blank_run: u64,
    /// Why the reading stopped, when this guard stopped it: the I/O error the CSV reader sees
    /// carries no file name, so the reason is taken from here.
    refused: Option<String>,
    last_two: [u8; 2],
    /// (lines before it that are not blank, its line number) of each blank line not yet
    /// passed by a record; the reader's look-ahead bounds its length.
    ahead: VecDeque<(u64, u64)>,
}

struct BlankLineCounter<R> {
    inner: R,
    seen: Rc<RefCell<BlankLines>>,
}

impl<R: Read> Read for BlankLineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.seen.borrow_mut();
        let refuse = |seen: &mut BlankLines, reason: String| {
            seen.refused = Some(reason.clone());
            std::io::Error::new(std::io::ErrorKind::InvalidData, reason)
        };
        seen.total += n as u64;
        if seen.total > MAX_LODES_TEXT_BYTES {
            let reason = format!(
                "unpacks to more than {MAX_LODES_TEXT_BYTES} bytes, more than any LODES table; \
                 pass the state's WAC or OD .csv.gz"
            );
            return Err(refuse(&mut seen, reason));
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == 0 {
                let at = seen.total - n as u64 + i as u64;
                let reason = format!(
                    "is not a CSV text file (it holds a NUL byte at byte {at} of its text); pass \
                     the LODES WAC or OD .csv or .csv.gz"
                );
                return Err(refuse(&mut seen, reason));
            }
            if b == b'\n' {
                let [before, last] = seen.last_two;
                if last == b'\n' || (last == b'\r' && before == b'\n') {
                    let at = (seen.newlines - seen.blank, seen.newlines + 1);
                    seen.ahead.push_back(at);
                    seen.blank += 1;
                    seen.blank_run += 1;
                    if seen.blank_run > MAX_LODES_BLANK_LINES_IN_A_ROW {
                        let first = seen.newlines + 2 - seen.blank_run;
                        let reason = format!(
                            "has more than {MAX_LODES_BLANK_LINES_IN_A_ROW} blank lines in a \
                             row from line {first}, so it is damaged or padded, not a jobs \
                             table; download the LODES file again"
                        );
                        return Err(refuse(&mut seen, reason));
                    }
                } else {
                    seen.blank_run = 0;
                }
                seen.newlines += 1;
                seen.line_bytes = 0;
            } else {
                seen.line_bytes += 1;
                if seen.line_bytes > MAX_LODES_LINE_BYTES {
                    let line = seen.newlines + 1;
                    let reason = format!(
                        "line {line} is longer than {MAX_LODES_LINE_BYTES} bytes, so this is not \
                         a LODES table (its rows are a few hundred bytes); pass the LODES WAC or \
                         OD .csv or .csv.gz"
                    );
                    return Err(refuse(&mut seen, reason));
                }
            }
            seen.last_two = [seen.last_two[1], b];
        }
        Ok(n)
    }
}

/// Blank lines before the current record.
#[derive(Default)]
struct Skipped {
    count: u64,
    first_line: Option<u64>,
}

impl Skipped {
    /// Passes the blank lines before the record `csv` puts on (non-blank) line `csv_line`.
    fn pass(&mut self, seen: &mut BlankLines, csv_line: u64) {
        while let Some(&(lines_before, line)) = seen.ahead.front() {
            if lines_before >= csv_line {
                break;
            }
            seen.ahead.pop_front();
            self.count += 1;
            self.first_line.get_or_insert(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_counts() {
        // (raw, Ok(n) or an error fragment)
        let cases: [(&str, Result<f64, &str>); 10] = [
            ("0", Ok(0.0)),
            ("17", Ok(17.0)),
            ("2.5", Err("whole numbers")),
            ("12.0", Ok(12.0)),
            ("1000000", Ok(1e6)),
            ("-3", Err("cannot be negative")),
            ("1e22", Err("more than the 1000000")),
            ("NaN", Err("not a number of jobs")),
            ("inf", Err("not a number of jobs")),
            ("twelve", Err("not a number")),
        ];
        for (raw, want) in cases {
            match (job_count(raw), want) {
                (Ok(n), Ok(w)) => assert_eq!(n, w, "{raw}"),
                (Err(e), Err(frag)) => assert!(e.contains(frag), "{raw}: {e}"),
                (got, _) => panic!("{raw}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn geocode_normalisation() {
        // (input, expected)
        let cases = [
            ("110010001011000", "110010001011000"),
            ("10010201001000", "010010201001000"),
            ("syn000001000002", "syn000001000002"),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_geocode(input), want);
        }
    }

    fn parse(text: &str) -> Result<JobsTable, String> {
        parse_jobs(Path::new("jobs.csv"), text.as_bytes().to_vec()).map_err(|e| e.to_string())
    }

    #[test]
    fn tables() {
        const WAC: &str = "w_geocode,C000\n";
        const OD: &str = "w_geocode,h_geocode,S000\n";
        // (name, file, Ok((total jobs, warning fragment)) or an error fragment)
        type Row = (
            &'static str,
            String,
            Result<(f64, Option<&'static str>), &'static str>,
        );
        let rows: Vec<Row> = vec![
            ("wac", format!("{WAC}1,5\n2,7\n"), Ok((12.0, None))),
            (
                "od sums by workplace",
                format!("{OD}1,9,5\n1,8,2\n"),
                Ok((7.0, None)),
            ),
            ("header only", WAC.to_string(), Err("no rows of jobs")),
            (
                "header and blank lines",
                format!("{WAC}\n\n\n"),
                Err("no rows of jobs"),
            ),
            (
                "blank lines between rows",
                format!("{WAC}1,5\n\n\n2,7\n"),
                Ok((
                    12.0,
                    Some("2 blank lines between rows were skipped (the first at line 3)"),
                )),
            ),
            (
                "all zero",
                format!("{WAC}1,0\n2,0\n"),
                Ok((0.0, Some("all 2 rows have 0 jobs"))),
            ),
            (
                "negative",
                format!("{WAC}1,5\n2,-7\n"),
                Err("line 3: C000 is -7"),
            ),
            (
                "line numbers count blank lines",
                format!("{WAC}1,5\n\n\r\n2,-7\n"),
                Err("line 5: C000 is -7"),
            ),
            (
                "absurd",
                format!("{WAC}1,1e22\n"),
                Err("line 2: C000 is 1e22, more than"),
            ),
            (
                "wac duplicate",
                format!("{WAC}1,5\n2,7\n1,5\n"),
                Err("line 4 repeats the w_geocode of line 2"),
            ),
            (
                "wac duplicate after padding",
                format!("{WAC}010010201001000,5\n10010201001000,5\n"),
                Err("line 3 repeats"),
            ),
            (
                "od duplicate pair",
                format!("{OD}1,9,5\n1,8,2\n1,9,5\n"),
                Err("line 4 repeats the w_geocode and h_geocode of line 2"),
            ),
            (
                "empty geocode",
                format!("{WAC} ,5\n"),
                Err("line 2: w_geocode is empty"),
            ),
            (
                "binary",
                "\0\u{1}PK\n".to_string(),
                Err("is not a CSV text file"),
            ),
            (
                "fractional count",
                format!("{WAC}1,5\n2,12.5\n"),
                Err("line 3: C000 is 12.5; LODES job counts are whole numbers"),
            ),
            (
                "NUL after the header",
                format!("{WAC}1,5\n\0\0"),
                Err("is not a CSV text file (it holds a NUL byte at byte 19"),
            ),
            (
                "blank lines past the bound",
                format!(
                    "{WAC}1,5\n{}",
                    "\n".repeat(MAX_LODES_BLANK_LINES_IN_A_ROW as usize + 1)
                ),
                Err("blank lines in a row from line 3"),
            ),
            (
                "blank lines up to the bound",
                format!(
                    "{WAC}1,5\n{}2,7\n",
                    "\n".repeat(MAX_LODES_BLANK_LINES_IN_A_ROW as usize)
                ),
                Ok((12.0, Some("10000 blank lines between rows were skipped"))),
            ),
            (
                "a line past the bound",
                format!("{WAC}1,{}\n", "7".repeat(MAX_LODES_LINE_BYTES as usize)),
                Err("line 2 is longer than"),
            ),
        ];
        for (name, text, want) in rows {
            match (parse(&text), want) {
                (Ok(t), Ok((total, warning))) => {
                    assert_eq!(t.jobs.values().sum::<f64>(), total, "{name}");
                    match warning {
                        None => assert!(t.warnings.is_empty(), "{name}: {:?}", t.warnings),
                        Some(w) => {
                            assert_eq!(t.warnings.len(), 1, "{name}: {:?}", t.warnings);
                            assert!(t.warnings[0].contains(w), "{name}: {:?}", t.warnings);
                            assert!(t.warnings[0].starts_with("jobs.csv: "), "{name}");
                        }
                    }
                }
                (Err(e), Err(frag)) => {
                    assert!(e.contains(frag), "{name}: {e}");
                    assert!(e.starts_with("jobs.csv: "), "{name}: {e}");
                }
                (got, _) => panic!("{name}: unexpected {got:?}"),
            }
        }
    }
}
