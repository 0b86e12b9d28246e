//! CSV rows as spreadsheets read them (RFC 4180): a field with a comma, a
//! quote or a line break is quoted, quotes doubled; a field that a
//! spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a
//! carriage return first) gets a leading `'`, so that exporting the audit
//! log never runs what someone typed.

/// One CSV line, ending in CRLF.
pub fn row(fields: &[&str]) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(f));
    }
    out.push_str("\r\n");
    out
}

fn field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(row(&["a", "b c", "赵敏"]), "a,b c,赵敏\r\n");
        assert_eq!(
            row(&["x,y", "say \"hi\"", "two\nlines"]),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(
            row(&["=1+1", "-3", "@SUM(A1)", "+x"]),
            "'=1+1,'-3,'@SUM(A1),'+x\r\n"
        );
        assert_eq!(row(&["=a,b"]), "\"'=a,b\"\r\n");
        assert_eq!(row(&[""]), "\r\n");
    }
}
