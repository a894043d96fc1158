//! The parser: tokens to S-expressions with spans.
//!
//! The reader knows nothing about special forms; it builds the tree of
//! [`Sexp`]s that `syntax` then gives a meaning. `'x` reads as `(quote x)`.
//!
//! Nesting is limited to [`MAX_NESTING`] levels. The reader, the lowering
//! and the compiler all recurse over the tree, and a limit keeps a
//! pathological input (a megabyte of `(`) a clean error instead of a stack
//! overflow, on the main thread and on test threads with small stacks alike.

use crate::error::{Diagnostic, Source, Span};
use crate::lexer::{tokenize, Token, TokenKind};

/// Deepest nesting of lists the reader accepts.
pub const MAX_NESTING: usize = 128;

/// An S-expression.
#[derive(Clone, Debug, PartialEq)]
pub enum SexpKind {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// `#t` / `#f`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// A symbol.
    Symbol(String),
    /// A parenthesised list.
    List(Vec<Sexp>),
}

/// An S-expression and where it was read.
#[derive(Clone, Debug, PartialEq)]
pub struct Sexp {
    /// What it is.
    pub kind: SexpKind,
    /// Where.
    pub span: Span,
}

impl Sexp {
    /// The symbol's name, if it is one.
    pub fn as_symbol(&self) -> Option<&str> {
        match &self.kind {
            SexpKind::Symbol(name) => Some(name),
            _ => None,
        }
    }

    /// The items, if it is a list.
    pub fn as_list(&self) -> Option<&[Sexp]> {
        match &self.kind {
            SexpKind::List(items) => Some(items),
            _ => None,
        }
    }

    /// A short description for messages (`symbol`, `list`, `int`…).
    pub fn describe(&self) -> &'static str {
        match self.kind {
            SexpKind::Int(_) => "int",
            SexpKind::Float(_) => "float",
            SexpKind::Str(_) => "string",
            SexpKind::Bool(_) => "boolean",
            SexpKind::Nil => "nil",
            SexpKind::Symbol(_) => "symbol",
            SexpKind::List(_) => "list",
        }
    }
}

/// Reads every top-level form of `source`.
pub fn parse(source: &Source) -> Result<Vec<Sexp>, Diagnostic> {
    let tokens = tokenize(source)?;
    let mut reader = Reader {
        source,
        tokens: &tokens,
        next: 0,
    };
    let mut forms = Vec::new();
    while reader.next < tokens.len() {
        forms.push(reader.form(0)?);
    }
    Ok(forms)
}

struct Reader<'a> {
    source: &'a Source,
    tokens: &'a [Token],
    next: usize,
}

impl Reader<'_> {
    fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.source, span, message)
    }

    /// Reads one form; `depth` is the number of enclosing lists.
    fn form(&mut self, depth: usize) -> Result<Sexp, Diagnostic> {
        let token = &self.tokens[self.next];
        self.next += 1;
        let span = token.span;
        let kind = match &token.kind {
            TokenKind::Int(i) => SexpKind::Int(*i),
            TokenKind::Float(x) => SexpKind::Float(*x),
            TokenKind::Str(s) => SexpKind::Str(s.clone()),
            TokenKind::Bool(b) => SexpKind::Bool(*b),
            TokenKind::Symbol(s) if s == "nil" => SexpKind::Nil,
            TokenKind::Symbol(s) => SexpKind::Symbol(s.clone()),
            TokenKind::Close(_) => return Err(self.error(span, "unexpected ')'")),
            TokenKind::Quote => {
                if self.next >= self.tokens.len() {
                    return Err(self.error(span, "nothing to quote after '"));
                }
                if depth >= MAX_NESTING {
                    return Err(self.error(span, nesting_message()));
                }
                let quoted = self.form(depth + 1)?;
                let whole = span.to(quoted.span);
                let quote = Sexp {
                    kind: SexpKind::Symbol("quote".into()),
                    span,
                };
                return Ok(Sexp {
                    kind: SexpKind::List(vec![quote, quoted]),
                    span: whole,
                });
            }
            TokenKind::Open(square) => {
                if depth >= MAX_NESTING {
                    return Err(self.error(span, nesting_message()));
                }
                let square = *square;
                let mut items = Vec::new();
                loop {
                    let Some(token) = self.tokens.get(self.next) else {
                        let open = if square { '[' } else { '(' };
                        return Err(self.error(span, format!("unclosed '{open}'")));
                    };
                    if let TokenKind::Close(closing_square) = token.kind {
                        self.next += 1;
                        if closing_square != square {
                            let (open, close, want) = if square {
                                ('[', ')', ']')
                            } else {
                                ('(', ']', ')')
                            };
                            let (line, col) = self.source.line_col(span.start);
                            return Err(self.error(
                                token.span,
                                format!("'{close}' does not match the '{open}' at {line}:{col} (expected '{want}')"),
                            ));
                        }
                        return Ok(Sexp {
                            kind: SexpKind::List(items),
                            span: span.to(token.span),
                        });
                    }
                    items.push(self.form(depth + 1)?);
                }
            }
        };
        Ok(Sexp { kind, span })
    }
}

fn nesting_message() -> String {
    format!("lists nested more than {MAX_NESTING} levels deep")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Sexp>, Diagnostic> {
        parse(&Source::new("t", text))
    }

    #[test]
    fn quote_reads_as_a_list() {
        let forms = read("'x").unwrap();
        let items = forms[0].as_list().unwrap();
        assert_eq!(items[0].as_symbol(), Some("quote"));
        assert_eq!(items[1].as_symbol(), Some("x"));
    }

    #[test]
    fn unbalanced_input_is_an_error() {
        assert_eq!(read("(a (b)").unwrap_err().message, "unclosed '('");
        assert_eq!(read("a)").unwrap_err().message, "unexpected ')'");
        assert!(read("(a]").unwrap_err().message.contains("does not match"));
    }

    #[test]
    fn nesting_is_limited() {
        let deep = "(".repeat(MAX_NESTING + 1) + &")".repeat(MAX_NESTING + 1);
        assert!(read(&deep).unwrap_err().message.contains("nested"));
        let ok = "(".repeat(MAX_NESTING) + &")".repeat(MAX_NESTING);
        assert!(read(&ok).is_ok());
    }
}
