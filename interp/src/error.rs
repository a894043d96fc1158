//! Diagnostics: `file:line:col: error: message`, the offending source line
//! (a window of it, if it is long), and a caret under the spot.
//!
//! Every error the language can report — from the lexer, the parser, the
//! compiler or the VM — becomes a [`Diagnostic`]. Positions are kept as byte
//! [`Span`]s into a [`Source`] while compiling and running, and turned into a
//! line and a column (both 1-based, the column counted in characters) only
//! when an error is rendered, so the hot paths never pay for them.
//!
//! ```text
//! fib.brisk:3:6: error: undefined variable 'fibb'
//!     3 | (+ (fibb (- n 1)) (fib (- n 2)))
//!       |     ^^^^
//!   in fib (fib.brisk:3:6)
//! ```

use std::fmt;
use std::sync::Arc;

/// A program text and the name it is reported under.
#[derive(Debug)]
pub struct Source {
    /// The file name as the user gave it (`<repl>` for the REPL).
    pub name: String,
    /// The text.
    pub text: String,
    /// The line number of the text's first line: 1 for a file; for a REPL
    /// entry, its line in the whole input.
    pub first_line: usize,
}

impl Source {
    /// A source with a name, shared by everything compiled from it.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Self::at_line(name, text, 1)
    }

    /// A source whose text starts at line `first_line` of a longer input.
    pub fn at_line(
        name: impl Into<String>,
        text: impl Into<String>,
        first_line: usize,
    ) -> Arc<Self> {
        Arc::new(Source {
            name: name.into(),
            text: text.into(),
            first_line,
        })
    }

    /// The line (counted from [`first_line`](Self::first_line)) and the
    /// 1-based character column of byte offset `at`.
    pub fn line_col(&self, at: u32) -> (usize, usize) {
        let at = clamp_to_boundary(&self.text, at as usize);
        let before = &self.text[..at];
        let line = before.matches('\n').count() + self.first_line;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..at].chars().count() + 1;
        (line, col)
    }

    /// The text of the line holding byte offset `at`, without its newline.
    fn line_text(&self, at: u32) -> &str {
        let at = clamp_to_boundary(&self.text, at as usize);
        let start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        self.text[start..end].trim_end_matches('\r')
    }
}

/// Most characters of a source line an excerpt shows. A longer line is cut
/// to a window this wide around the error, with `...` where it was cut, so
/// an error on a generated 100 KB line prints a line, not the 100 KB.
const EXCERPT_WIDTH: usize = 80;

/// What an excerpt shows of `line` for an error at 1-based character
/// column `col`: the text, and the error's column in that text.
fn window(line: &str, col: usize) -> (String, usize) {
    let length = line.chars().count();
    if length <= EXCERPT_WIDTH {
        return (line.to_owned(), col);
    }
    let first = (col - 1)
        .saturating_sub(EXCERPT_WIDTH / 2)
        .min(length - EXCERPT_WIDTH);
    let before = if first > 0 { "..." } else { "" };
    let after = if first + EXCERPT_WIDTH < length {
        "..."
    } else {
        ""
    };
    let shown: String = line.chars().skip(first).take(EXCERPT_WIDTH).collect();
    (
        format!("{before}{shown}{after}"),
        col - first + before.len(),
    )
}

/// The largest char boundary of `text` at or before `at`.
fn clamp_to_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A byte range in a source.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A rendered error, ready to print. It owns its text, so it can cross
/// threads (a spawned interpreter's failure is reported by whoever joins it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The source's name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What went wrong.
    pub message: String,
    /// The offending line and a caret under the span.
    excerpt: String,
    /// Extra lines: the call stack, or the error that caused this one.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span` of `source`.
    pub fn new(source: &Source, span: Span, message: impl Into<String>) -> Self {
        let (line, col) = source.line_col(span.start);
        let text = source.line_text(span.start);
        let width = {
            let (end_line, end_col) = source.line_col(span.end);
            if end_line == line && end_col > col {
                end_col - col
            } else {
                1
            }
        };
        let (shown, shown_col) = window(text, col);
        let room = shown.chars().count().saturating_sub(shown_col - 1).max(1);
        let gutter = line.to_string().len().max(4);
        let excerpt = format!(
            "{line:>gutter$} | {shown}\n{blank:>gutter$} | {pad}{carets}",
            blank = "",
            pad = " ".repeat(shown_col - 1),
            carets = "^".repeat(width.min(room)),
        );
        Diagnostic {
            file: source.name.clone(),
            line,
            col,
            message: message.into(),
            excerpt,
            notes: Vec::new(),
        }
    }

    /// An error that belongs to no place in a source (a file that cannot be
    /// read).
    pub fn without_location(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line: 0,
            col: 0,
            message: message.into(),
            excerpt: String::new(),
            notes: Vec::new(),
        }
    }

    /// The first line: `file:line:col: error: message`.
    pub fn headline(&self) -> String {
        if self.line == 0 {
            format!("{}: error: {}", self.file, self.message)
        } else {
            format!(
                "{}:{}:{}: error: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        if !self.excerpt.is_empty() {
            writeln!(f, "{}", self.excerpt)?;
        }
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_caret() {
        let source = Source::new("t.brisk", "(define x 1)\n(print yy)\n");
        let at = source.text.find("yy").unwrap();
        let d = Diagnostic::new(&source, Span::new(at, at + 2), "undefined variable 'yy'");
        assert_eq!(d.headline(), "t.brisk:2:8: error: undefined variable 'yy'");
        assert_eq!(
            d.to_string(),
            "t.brisk:2:8: error: undefined variable 'yy'\n   2 | (print yy)\n     |        ^^\n"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let source = Source::new("u", "\"é\" x");
        let at = source.text.find('x').unwrap();
        assert_eq!(source.line_col(at as u32), (1, 5));
    }
}
