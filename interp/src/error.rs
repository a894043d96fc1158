//! Diagnostics: `file:line:col: error: message`, then the offending source
//! line (a window of it, if it is long) with carets under the spot.
//!
//! Every error the language can report — from the lexer, the parser, the
//! compiler or the VM — becomes a [`Diagnostic`]. Positions are kept as byte
//! [`Span`]s into a [`Source`] while compiling and running, and turned into a
//! line and a column (both 1-based, the column counted in characters) only
//! when an error is reported, so the hot paths never pay for them.
//!
//! ```text
//! fib.brisk:3:6: error: undefined variable 'fibb'
//!   |
//! 3 | (+ (fibb (- n 1)) (fib (- n 2)))
//!   |     ^^^^
//!   in fib at fib.brisk:3:6
//! ```
//!
//! The first line is the location-first form compilers print and editors
//! jump to. The excerpt under it is drawn by `annotate-snippets`, the
//! renderer of rustc's diagnostics: a line longer than [`EXCERPT_WIDTH`]
//! columns is cut to a window around the error, with `...` where it was
//! cut, so an error on a generated 100 KB line prints a line, not the
//! 100 KB.
//!
//! A diagnostic keeps the offending line and its span rather than rendered
//! text, so one value renders plain (its `Display`, for files, pipes and
//! tests) or with ANSI colours ([`Diagnostic::render`] with `styled`, which
//! the CLI asks for when standard error is a terminal and `NO_COLOR` is
//! not set).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use annotate_snippets::renderer::{DEFAULT_EMPHASIS_STYLE, DEFAULT_ERROR_STYLE};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

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

    /// The byte range of the line holding byte offset `at`, without its
    /// line ending.
    fn line_range(&self, at: u32) -> Range<usize> {
        let at = clamp_to_boundary(&self.text, at as usize);
        let start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        start..start + self.text[start..end].trim_end_matches('\r').len()
    }
}

/// Most columns of a source line an excerpt shows; a longer line is cut to
/// a window this wide around the error.
pub const EXCERPT_WIDTH: usize = 80;

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

/// An error, ready to print. It owns its text, so it can cross threads (a
/// spawned interpreter's failure is reported by whoever joins it).
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
    /// The offending line, if the error has a place in a source. Boxed, so
    /// that a diagnostic, the error of every `Result` in the compiler and
    /// the VM, stays small.
    excerpt: Option<Box<Excerpt>>,
    /// Extra lines: the call stack, or the error that caused this one.
    pub notes: Vec<String>,
}

/// The source line an error is on, and where on it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Excerpt {
    /// The line, without its line ending.
    text: String,
    /// The bytes of `text` the error covers: the error's span, cut at the
    /// end of the line.
    span: Range<usize>,
}

impl Diagnostic {
    /// An error at `span` of `source`.
    pub fn new(source: &Source, span: Span, message: impl Into<String>) -> Self {
        let (line, col) = source.line_col(span.start);
        let range = source.line_range(span.start);
        let start = clamp_to_boundary(&source.text, span.start as usize);
        let end = clamp_to_boundary(&source.text, span.end as usize).clamp(start, range.end);
        Diagnostic {
            file: source.name.clone(),
            line,
            col,
            message: message.into(),
            excerpt: Some(Box::new(Excerpt {
                text: source.text[range.clone()].to_owned(),
                span: start - range.start..end - range.start,
            })),
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
            excerpt: None,
            notes: Vec::new(),
        }
    }

    /// The first line: `file:line:col: error: message`.
    pub fn headline(&self) -> String {
        format!("{}: error: {}", self.location(), self.message)
    }

    /// `file:line:col`, or only the file for an error with no place.
    fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.col)
        }
    }

    /// The whole report, one line per line, each ending in a newline:
    /// plain, or with ANSI colours if `styled`.
    pub fn render(&self, styled: bool) -> String {
        let mut out = if styled {
            let (bold, red) = (DEFAULT_EMPHASIS_STYLE, DEFAULT_ERROR_STYLE);
            format!(
                "{bold}{location}:{bold:#} {red}error:{red:#} {bold}{message}{bold:#}\n",
                location = self.location(),
                message = self.message,
            )
        } else {
            format!("{}\n", self.headline())
        };
        if let Some(excerpt) = &self.excerpt {
            let renderer = if styled {
                Renderer::styled()
            } else {
                Renderer::plain()
            };
            let report = [Group::with_level(Level::ERROR).element(
                Snippet::source(&excerpt.text)
                    .line_start(self.line)
                    .annotation(AnnotationKind::Primary.span(excerpt.span.clone())),
            )];
            out.push_str(&renderer.term_width(EXCERPT_WIDTH).render(&report));
            out.push('\n');
        }
        for note in &self.notes {
            out.push_str(note);
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
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
            "t.brisk:2:8: error: undefined variable 'yy'\n  |\n2 | (print yy)\n  |        ^^\n"
        );
    }

    #[test]
    fn a_span_past_its_line_is_cut_at_the_line_end() {
        let source = Source::new("t.brisk", "(print\n  1)\n");
        let d = Diagnostic::new(&source, Span::new(0, 11), "unclosed");
        assert_eq!(
            d.to_string(),
            "t.brisk:1:1: error: unclosed\n  |\n1 | (print\n  | ^^^^^^\n"
        );
    }

    #[test]
    fn colours_only_when_styled() {
        let source = Source::new("t.brisk", "(print yy)\n");
        let d = Diagnostic::new(&source, Span::new(7, 9), "undefined variable 'yy'");
        assert!(!d.render(false).contains('\x1b'));
        let styled = d.render(true);
        assert!(styled.contains("\x1b["), "{styled:?}");
        let plain_again: String = {
            let mut out = String::new();
            let mut chars = styled.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    chars.by_ref().find(|&c| c == 'm');
                } else {
                    out.push(c);
                }
            }
            out
        };
        assert_eq!(plain_again, d.render(false));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let source = Source::new("u", "\"é\" x");
        let at = source.text.find('x').unwrap();
        assert_eq!(source.line_col(at as u32), (1, 5));
    }
}
