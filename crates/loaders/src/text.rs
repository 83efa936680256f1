//! Text helpers the release readers share: decoding lines and fixed-width columns (UTF-8, else
//! ISO-8859-1), counting lines for error positions, and resolving XML entities.

/// The text lines of a file, numbered from 1, each as UTF-8 or else ISO-8859-1, without CR.
pub(crate) fn text_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, String)> + '_ {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.split(|byte| *byte == b'\n').enumerate().map(|(line_idx, line)| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = match std::str::from_utf8(line) {
            Ok(text) => text.to_owned(),
            Err(_) => line.iter().map(|byte| *byte as char).collect(),
        };
        (line_idx as u64 + 1, text)
    })
}

/// The trimmed text of 1-based columns `first_column..=last_column` (to the end when `None`) of a
/// fixed-width line; CMS order files are ASCII, anything else is read as ISO-8859-1.
pub(crate) fn column_text(line: &[u8], first_column: usize, last_column: Option<usize>) -> String {
    let start = (first_column - 1).min(line.len());
    let end = last_column.map_or(line.len(), |last| last.min(line.len()));
    let field = &line[start..end.max(start)];
    match std::str::from_utf8(field) {
        Ok(text) => text.trim().to_owned(),
        Err(_) => field.iter().map(|byte| *byte as char).collect::<String>().trim().to_owned(),
    }
}

/// Counts lines up to a byte offset, moving forward only, so a whole document costs one pass.
pub(crate) struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter { text, offset: 0, line: 1 }
    }

    pub(crate) fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset > self.offset {
            self.line += self.text.as_bytes()[self.offset..offset].iter().filter(|byte| **byte == b'\n').count() as u64;
            self.offset = offset;
        }
        self.line
    }
}

/// The character an XML entity or character reference stands for, when it is one XML defines.
pub(crate) fn resolve_entity(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    match reference.resolve_char_ref() {
        Ok(Some(character)) => Some(character),
        Ok(None) => match &**reference {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => None,
        },
        Err(_) => None,
    }
}
