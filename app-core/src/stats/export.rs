//! Spreadsheet files of the tables in [`super::sheet`]: XLSX (one sheet per
//! table, Chinese headers in bold, the header row frozen, number formats per
//! column) and CSV (one file per table, UTF-8 with a byte-order mark so that
//! spreadsheet programs read the Chinese). Native only (feature `export`).
//!
//! Values: XLSX keeps every number whole (a median of 45.5 minutes is 45.5,
//! shown `0.00`; a share of 5/6 is 0.8333…, shown `0.00%`). CSV writes whole
//! numbers as they are, decimals with two places, and shares in percent with
//! two places (`83.33`), the unit being in the header.

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use super::sheet::{Cell, ColumnKind, Table};

/// Writing a spreadsheet failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The XLSX writer refused.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The CSV writer failed.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// A file could not be written.
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
}

impl ExportError {
    /// A stable code for the wire and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Xlsx(_) => "export_xlsx",
            ExportError::Csv(_) => "export_csv",
            ExportError::Io(..) => "export_io",
        }
    }
}

/// The byte-order mark that starts every CSV file.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The number format (Excel's code) of a column kind.
pub fn number_format(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Text => "@",
        ColumnKind::Integer => "0",
        ColumnKind::Decimal => "0.00",
        ColumnKind::Percent => "0.00%",
    }
}

/// Display width of a text in spreadsheet columns (a Chinese character takes two).
fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// The tables as one XLSX workbook, a sheet each, in order.
pub fn to_xlsx(tables: &[Table]) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(table.name.as_str())?;
        let formats: Vec<Format> = table
            .columns
            .iter()
            .map(|c| Format::new().set_num_format(number_format(c.kind)))
            .collect();
        for (col, c) in table.columns.iter().enumerate() {
            let col = col as u16;
            sheet.write_string_with_format(0, col, c.header.as_str(), &header)?;
            let widest = table
                .rows
                .iter()
                .filter_map(|r| match r.get(col as usize) {
                    Some(Cell::Text(t)) => Some(width(t)),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let w = width(&c.header).min(24).max(widest).clamp(8, 40);
            sheet.set_column_width(col, w as f64 + 1.0)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                let fmt = &formats[col];
                let col = col as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(t) => {
                        sheet.write_string_with_format(r, col, t.as_str(), fmt)?;
                    }
                    Cell::Integer(n) => {
                        sheet.write_number_with_format(r, col, *n as f64, fmt)?;
                    }
                    Cell::Decimal(x) | Cell::Percent(x) => {
                        sheet.write_number_with_format(r, col, *x, fmt)?;
                    }
                }
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

/// How a cell is written in CSV.
pub fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.clone(),
        Cell::Integer(n) => n.to_string(),
        Cell::Decimal(x) => format!("{x:.2}"),
        Cell::Percent(x) => format!("{:.2}", x * 100.0),
    }
}

/// One table as CSV: the BOM, the header row, the rows.
pub fn to_csv(table: &Table) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::Writer::from_writer(UTF8_BOM.to_vec());
    w.write_record(table.columns.iter().map(|c| c.header.as_str()))?;
    for row in &table.rows {
        w.write_record(row.iter().map(csv_text))?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))
}

/// Keeps the characters of `name` a file name may hold on every platform
/// (Chinese included), each other one as `_`.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || r#"/\:*?"<>|"#.contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() { "ketepai".into() } else { s }
}

/// Writes `tables` into `dir` (created if missing) as `<stem>.xlsx`, or as
/// one `<stem>-<table>.csv` per table; a file of the same name is replaced.
/// Answers the files written.
pub fn write_files(
    dir: &std::path::Path,
    stem: &str,
    tables: &[Table],
    xlsx: bool,
) -> Result<Vec<std::path::PathBuf>, ExportError> {
    let stem = file_stem(stem);
    if xlsx {
        return Ok(vec![write_file(
            dir,
            &format!("{stem}.xlsx"),
            &to_xlsx(tables)?,
        )?]);
    }
    tables
        .iter()
        .map(|table| {
            let name = format!("{stem}-{}.csv", file_stem(&table.name));
            write_file(dir, &name, &to_csv(table)?)
        })
        .collect()
}

/// Writes `bytes` as `dir/name` (creating `dir`) through a temporary file
/// renamed into place, so a cut write never leaves half a file under the
/// final name; a file of the same name is replaced. Answers the path.
pub fn write_file(
    dir: &std::path::Path,
    name: &str,
    bytes: &[u8],
) -> Result<std::path::PathBuf, ExportError> {
    let io = |path: &std::path::Path, e| ExportError::Io(path.display().to_string(), e);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    std::fs::write(&partial, bytes).map_err(|e| io(&partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| io(&path, e))?;
    Ok(path)
}
